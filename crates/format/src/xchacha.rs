//! XChaCha20-Poly1305 for short values, with one keystream call per value.
//!
//! The construction is the usual one (RFC 8439 §2.8 with the 24-byte
//! XChaCha nonce of draft-irtf-cfrg-xchacha): keystream block 0 gives the
//! Poly1305 key, blocks 1… encrypt the message, and the tag is Poly1305 over
//! the padded AAD, the padded ciphertext and both lengths. The results are
//! those of the `chacha20poly1305` crate (tested below against it); what
//! differs is the work: that crate asks the stream cipher for block 0 and
//! then for the message, and its AVX2 backend computes four blocks for
//! each request. A sops value is a few dozen bytes, so here the Poly1305
//! key and the message keystream come from one request of four blocks:
//! half the ChaCha20 work per value.

use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20::XChaCha20;
use poly1305::universal_hash::{KeyInit, UniversalHash};
use poly1305::Poly1305;
use zeroize::{Zeroize, Zeroizing};

/// Four ChaCha20 blocks: what the SIMD backends compute in one go.
const CHUNK: usize = 256;
/// Messages up to this long take one keystream request.
const SHORT: usize = CHUNK - 64;

/// The tag did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AuthError;

/// Fill `ks` with keystream from block 0 on: the Poly1305 key, then the
/// message's keystream from byte 64.
fn keystream(key: &[u8; 32], nonce: &[u8; 24], ks: &mut [u8]) {
    let mut cipher = XChaCha20::new(key.into(), nonce.into());
    ks.fill(0);
    cipher.apply_keystream(ks);
}

/// Poly1305 under the one-time key at the start of `ks`, fed with `aad`,
/// the ciphertext `ct` and both lengths: ready to finalize or verify.
fn authenticator(ks: &[u8], aad: &[u8], ct: &[u8]) -> Poly1305 {
    let mut key = poly1305::Key::default();
    key.copy_from_slice(ks.get(..32).unwrap_or(&[0u8; 32]));
    let mut mac = Poly1305::new(&key);
    key.zeroize();
    mac.update_padded(aad);
    mac.update_padded(ct);
    let mut lengths = poly1305::Block::default();
    lengths[..8].copy_from_slice(&(aad.len() as u64).to_le_bytes());
    lengths[8..].copy_from_slice(&(ct.len() as u64).to_le_bytes());
    mac.update(&[lengths]);
    mac
}

/// XOR the message keystream (from byte 64 of `ks`) into `buf`.
fn apply(ks: &[u8], buf: &mut [u8]) {
    for (b, k) in buf.iter_mut().zip(ks.iter().skip(64)) {
        *b ^= k;
    }
}

/// Run `f` with a zeroed keystream buffer big enough for `len` bytes of
/// message (on the stack for short messages); wiped afterwards.
fn with_keystream<R>(
    key: &[u8; 32],
    nonce: &[u8; 24],
    len: usize,
    f: impl FnOnce(&[u8]) -> R,
) -> R {
    if len <= SHORT {
        let mut ks = [0u8; CHUNK];
        keystream(key, nonce, &mut ks);
        let r = f(&ks);
        ks.zeroize();
        r
    } else {
        let total = (64 + len).div_ceil(CHUNK) * CHUNK;
        let mut ks = Zeroizing::new(vec![0u8; total]);
        keystream(key, nonce, &mut ks);
        f(&ks)
    }
}

/// Encrypt `buf` in place; returns the 16-byte tag.
pub(crate) fn seal(key: &[u8; 32], nonce: &[u8; 24], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
    with_keystream(key, nonce, buf.len(), |ks| {
        apply(ks, buf);
        authenticator(ks, aad, buf).finalize().into()
    })
}

/// Authenticate and decrypt `buf` in place; `buf` is untouched when the tag
/// does not verify.
pub(crate) fn open(
    key: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    buf: &mut [u8],
    expected: &[u8; 16],
) -> Result<(), AuthError> {
    with_keystream(key, nonce, buf.len(), |ks| {
        // `verify` compares in constant time.
        authenticator(ks, aad, buf)
            .verify(expected.into())
            .map_err(|_| AuthError)?;
        apply(ks, buf);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20poly1305::aead::inout::InOutBuf;
    use chacha20poly1305::aead::AeadInOut;
    use chacha20poly1305::XChaCha20Poly1305;

    fn bytes(seed: u64, n: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    /// Same ciphertext and tag as the `chacha20poly1305` crate, and each
    /// side opens the other's output, for every length around the block
    /// and chunk edges and several AAD lengths.
    #[test]
    fn agrees_with_the_chacha20poly1305_crate() {
        for len in (0..=600).chain([1000, 4096, 5000]) {
            for aad_len in [0, 1, 15, 16, 17, 40] {
                let seed = (len * 64 + aad_len) as u64;
                let key: [u8; 32] = bytes(seed, 32).try_into().unwrap();
                let nonce: [u8; 24] = bytes(seed + 1, 24).try_into().unwrap();
                let aad = bytes(seed + 2, aad_len);
                let plain = bytes(seed + 3, len);
                let reference = XChaCha20Poly1305::new(&key.into());
                let mut theirs = plain.clone();
                let their_tag = reference
                    .encrypt_inout_detached(&nonce.into(), &aad, InOutBuf::from(&mut theirs[..]))
                    .unwrap();
                let mut ours = plain.clone();
                let our_tag = seal(&key, &nonce, &aad, &mut ours);
                assert_eq!(ours, theirs, "len {len}");
                assert_eq!(our_tag.as_slice(), their_tag.as_slice(), "len {len}");
                open(&key, &nonce, &aad, &mut theirs, &our_tag).unwrap();
                assert_eq!(theirs, plain);
            }
        }
    }

    /// Any changed bit of ciphertext, tag, nonce or AAD fails, and the
    /// buffer is left as it was.
    #[test]
    fn tampering_fails_without_touching_the_buffer() {
        let key = [7u8; 32];
        let nonce = [9u8; 24];
        let mut ct = b"a secret value".to_vec();
        let tag = seal(&key, &nonce, b"a:b:", &mut ct);
        for i in 0..ct.len() * 8 {
            let mut bad = ct.clone();
            bad[i / 8] ^= 1 << (i % 8);
            let before = bad.clone();
            assert_eq!(open(&key, &nonce, b"a:b:", &mut bad, &tag), Err(AuthError));
            assert_eq!(bad, before);
        }
        let mut bad_tag = tag;
        bad_tag[15] ^= 0x80;
        assert!(open(&key, &nonce, b"a:b:", &mut ct.clone(), &bad_tag).is_err());
        let mut other_nonce = nonce;
        other_nonce[23] ^= 1;
        assert!(open(&key, &other_nonce, b"a:b:", &mut ct.clone(), &tag).is_err());
        assert!(open(&key, &nonce, b"a:c:", &mut ct.clone(), &tag).is_err());
        open(&key, &nonce, b"a:b:", &mut ct, &tag).unwrap();
        assert_eq!(ct, b"a secret value");
    }
}
