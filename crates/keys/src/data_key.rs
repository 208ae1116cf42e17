//! The 32-byte data key that encrypts every value of a document.

use zeroize::Zeroize;

use crate::error::KeyError;

/// Length in bytes of a data key (AES-256 / XChaCha20 key size).
pub const DATA_KEY_LEN: usize = 32;

/// The symmetric data key of one encrypted file.
///
/// It lives on the heap (so moves do not leave copies behind), is zeroized on
/// drop and deliberately implements neither `Debug` nor `Display`.
pub struct DataKey(Box<[u8; DATA_KEY_LEN]>);

impl DataKey {
    /// Draws a fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, KeyError> {
        let mut key = Box::new([0u8; DATA_KEY_LEN]);
        getrandom::fill(key.as_mut_slice()).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(Self(key))
    }

    /// Builds a key from exactly [`DATA_KEY_LEN`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() != DATA_KEY_LEN {
            return Err(KeyError::DataKeyLength { len: bytes.len() });
        }
        let mut key = Box::new([0u8; DATA_KEY_LEN]);
        key.copy_from_slice(bytes);
        Ok(Self(key))
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; DATA_KEY_LEN] {
        &self.0
    }
}

impl Clone for DataKey {
    fn clone(&self) -> Self {
        Self(Box::new(*self.0))
    }
}

impl PartialEq for DataKey {
    /// Constant-time comparison.
    fn eq(&self, other: &Self) -> bool {
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl Eq for DataKey {}

impl Drop for DataKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_gives_distinct_keys() {
        let a = DataKey::generate().unwrap();
        let b = DataKey::generate().unwrap();
        assert!(a != b);
        assert!(a == a.clone());
    }

    #[test]
    fn from_bytes_requires_exactly_32() {
        assert!(DataKey::from_bytes(&[7; 32]).is_ok());
        assert_eq!(DataKey::from_bytes(&[7; 32]).unwrap().as_bytes(), &[7; 32]);
        for len in [0, 31, 33, 64] {
            let err = DataKey::from_bytes(&vec![1; len]).err().unwrap();
            assert!(matches!(err, KeyError::DataKeyLength { len: l } if l == len));
        }
    }
}
