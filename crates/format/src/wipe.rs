//! Wiping large plaintext buffers fast.
//!
//! `zeroize` wipes a `Vec` with one volatile write per byte: a few MB of
//! plaintext took milliseconds. A plain `memset` is as good when the
//! compiler must keep it, which `zeroize::optimization_barrier` (the
//! zeroize crate's own tool for this) makes sure of.

/// Set every byte of `bytes`' allocation to zero (its spare capacity too)
/// and leave it empty, with writes the compiler cannot drop.
pub fn wipe(bytes: &mut Vec<u8>) {
    let capacity = bytes.capacity();
    bytes.clear();
    bytes.resize(capacity, 0);
    zeroize::optimization_barrier(bytes.as_slice());
    bytes.clear();
}

/// A growing buffer of plaintext: grown by hand, so that no reallocation
/// leaves a copy behind, and wiped (see [`wipe`]) when dropped.
#[derive(Default)]
pub(crate) struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Append `bytes`.
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        if self.0.capacity() - self.0.len() < bytes.len() {
            let wanted = (self.0.capacity() * 2)
                .max(self.0.len() + bytes.len())
                .max(256);
            let mut bigger = Vec::with_capacity(wanted);
            bigger.extend_from_slice(&self.0);
            wipe(&mut self.0);
            self.0 = bigger;
        }
        self.0.extend_from_slice(bytes);
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Wipe what it holds (see [`wipe`]) and empty it, keeping its
    /// allocation for what comes next.
    pub(crate) fn clear(&mut self) {
        wipe(&mut self.0);
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The buffer is left empty, its allocation kept (no bytes of it can
    /// be read back in safe code: the zeroes are the barrier's business).
    #[test]
    fn wipe_empties_and_keeps_the_allocation() {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(b"secret");
        v.truncate(3);
        let capacity = v.capacity();
        wipe(&mut v);
        assert!(v.is_empty());
        assert_eq!(v.capacity(), capacity);
    }

    #[test]
    fn secret_bytes_keep_what_is_appended() {
        let mut s = SecretBytes::default();
        for i in 0..1000u32 {
            s.extend(&i.to_le_bytes());
        }
        assert_eq!(s.as_slice().len(), 4000);
        assert_eq!(&s.as_slice()[4..8], &1u32.to_le_bytes());
    }
}
