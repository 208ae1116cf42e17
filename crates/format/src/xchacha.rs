//! XChaCha20-Poly1305 for short values, computing only the blocks a value
//! needs.
//!
//! The construction is the usual one (RFC 8439 §2.8 with the 24-byte
//! XChaCha nonce of draft-irtf-cfrg-xchacha): HChaCha20 turns the key and
//! the nonce's first 16 bytes into a subkey; ChaCha20 under the subkey,
//! with the nonce's last 8 bytes, gives in block 0 the Poly1305 key and in
//! blocks 1… the message's keystream; the tag is Poly1305 over the padded
//! AAD, the padded ciphertext and both lengths. The results are those of
//! the `chacha20poly1305` crate (tested below against it, and against the
//! draft's test vectors).
//!
//! Why not the `chacha20` crate alone: its SIMD backends compute four
//! blocks per request, and a sops value is a few dozen bytes, which needs
//! two (the Poly1305 key and one block of message). Short messages are
//! computed here a block at a time with plain 32-bit arithmetic (HChaCha20
//! plus two blocks: 124 ns against 224 ns for the crate's four-block
//! request in a loop on the benchmark machine; 5% of the CPU time of a
//! whole .env encryption or decryption). Long ones go to the crate.
//! ChaCha20 has no data-dependent branches or lookups, so this is
//! constant-time as written.

use crate::poly::Poly1305;
use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use chacha20::ChaCha20;
use zeroize::Zeroize;

/// "expand 32-byte k".
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// Messages longer than this are XORed by the `chacha20` crate (four
/// blocks per request), shorter ones a block at a time here.
const LONG: usize = 256;

/// The tag did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AuthError;

/// Little-endian words of `bytes` (whose length is a multiple of 4).
fn words<const N: usize>(bytes: &[u8]) -> [u32; N] {
    let mut w = [0u32; N];
    for (w, b) in w.iter_mut().zip(bytes.chunks_exact(4)) {
        *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    w
}

#[inline(always)]
fn quarter(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(7);
}

/// The 20 ChaCha rounds (10 column and 10 diagonal) over `s`.
#[inline(always)]
fn rounds(s: &mut [u32; 16]) {
    for _ in 0..10 {
        quarter(s, 0, 4, 8, 12);
        quarter(s, 1, 5, 9, 13);
        quarter(s, 2, 6, 10, 14);
        quarter(s, 3, 7, 11, 15);
        quarter(s, 0, 5, 10, 15);
        quarter(s, 1, 6, 11, 12);
        quarter(s, 2, 7, 8, 13);
        quarter(s, 3, 4, 9, 14);
    }
}

/// The input state: constants, key, then the last four words.
fn state(key: &[u32; 8], last: [u32; 4]) -> [u32; 16] {
    let mut s = [0u32; 16];
    s[..4].copy_from_slice(&SIGMA);
    s[4..12].copy_from_slice(key);
    s[12..].copy_from_slice(&last);
    s
}

/// ChaCha20 under one value's subkey and nonce; wiped on drop.
struct Stream {
    /// HChaCha20(key, nonce[..16]).
    subkey: [u32; 8],
    /// The nonce's last 8 bytes (after four zero bytes: the IETF nonce).
    tail: [u32; 2],
}

impl Stream {
    fn new(key: &[u8; 32], nonce: &[u8; 24]) -> Stream {
        let mut key_words = words::<8>(key);
        let n = words::<6>(nonce);
        let mut s = state(&key_words, [n[0], n[1], n[2], n[3]]);
        key_words.zeroize();
        rounds(&mut s);
        let mut subkey = [0u32; 8];
        subkey[..4].copy_from_slice(&s[..4]);
        subkey[4..].copy_from_slice(&s[12..]);
        s.zeroize();
        Stream {
            subkey,
            tail: [n[4], n[5]],
        }
    }

    /// Keystream block `counter`.
    fn block(&self, counter: u32, out: &mut [u8; 64]) {
        let input = state(&self.subkey, [counter, 0, self.tail[0], self.tail[1]]);
        let mut s = input;
        rounds(&mut s);
        for ((o, x), i) in out.chunks_exact_mut(4).zip(s.iter()).zip(input.iter()) {
            o.copy_from_slice(&x.wrapping_add(*i).to_le_bytes());
        }
        s.zeroize();
    }

    /// Poly1305 keyed by block 0, fed with `aad`, the ciphertext `ct` and
    /// both lengths: ready to finalize or verify.
    fn authenticator(&self, aad: &[u8], ct: &[u8]) -> Poly1305 {
        let mut block = [0u8; 64];
        self.block(0, &mut block);
        let mut key = [0u8; 32];
        key.copy_from_slice(&block[..32]);
        block.zeroize();
        let mut mac = Poly1305::new(&key);
        key.zeroize();
        mac.update_padded(aad);
        mac.update_padded(ct);
        mac.update_lengths(aad.len(), ct.len());
        mac
    }

    /// XOR the message keystream (blocks 1…) into `buf`. A long message
    /// (a binary file, a large value) goes through the `chacha20` crate's
    /// IETF ChaCha20 under this stream's subkey (XChaCha20 is exactly
    /// that), whose SIMD backends are faster once every block they compute
    /// is used.
    fn apply(&self, buf: &mut [u8]) -> Result<(), AuthError> {
        if buf.len() > LONG {
            let mut key = [0u8; 32];
            for (k, w) in key.chunks_exact_mut(4).zip(self.subkey.iter()) {
                k.copy_from_slice(&w.to_le_bytes());
            }
            let mut nonce = [0u8; 12];
            nonce[4..8].copy_from_slice(&self.tail[0].to_le_bytes());
            nonce[8..].copy_from_slice(&self.tail[1].to_le_bytes());
            let mut cipher = ChaCha20::new(&key.into(), &nonce.into());
            key.zeroize();
            cipher.try_seek(64u32).map_err(|_| AuthError)?;
            return cipher.try_apply_keystream(buf).map_err(|_| AuthError);
        }
        let mut block = [0u8; 64];
        for (counter, chunk) in (1u32..).zip(buf.chunks_mut(64)) {
            self.block(counter, &mut block);
            for (b, k) in chunk.iter_mut().zip(block.iter()) {
                *b ^= k;
            }
        }
        block.zeroize();
        Ok(())
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.subkey.zeroize();
    }
}

/// Encrypt `buf` in place; returns the 16-byte tag, or `AuthError` for a
/// message too long for the block counter (`buf` is then untouched).
pub(crate) fn seal(
    key: &[u8; 32],
    nonce: &[u8; 24],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; 16], AuthError> {
    let stream = Stream::new(key, nonce);
    stream.apply(buf)?;
    Ok(stream.authenticator(aad, buf).finalize())
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
    let stream = Stream::new(key, nonce);
    // `verify` compares in constant time.
    if !stream.authenticator(aad, buf).verify(expected) {
        return Err(AuthError);
    }
    stream.apply(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20poly1305::aead::inout::InOutBuf;
    use chacha20poly1305::aead::AeadInOut;
    use chacha20poly1305::{KeyInit, XChaCha20Poly1305};

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
                let our_tag = seal(&key, &nonce, &aad, &mut ours).unwrap();
                assert_eq!(ours, theirs, "len {len}");
                assert_eq!(our_tag.as_slice(), their_tag.as_slice(), "len {len}");
                open(&key, &nonce, &aad, &mut theirs, &our_tag).unwrap();
                assert_eq!(theirs, plain);
            }
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// draft-irtf-cfrg-xchacha-03 §2.2.1: the HChaCha20 test vector.
    #[test]
    fn hchacha20_test_vector() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let mut nonce = [0u8; 24];
        nonce[..16].copy_from_slice(&hex("000000090000004a0000000031415927"));
        let subkey: Vec<u8> = Stream::new(&key, &nonce)
            .subkey
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        assert_eq!(
            subkey,
            hex("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc")
        );
    }

    /// draft-irtf-cfrg-xchacha-03 §A.3.1: the AEAD test vector.
    #[test]
    fn aead_test_vector() {
        let key: [u8; 32] = std::array::from_fn(|i| 0x80 + i as u8);
        let nonce: [u8; 24] = std::array::from_fn(|i| 0x40 + i as u8);
        let aad = hex("50515253c0c1c2c3c4c5c6c7");
        let plain = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let mut buf = plain.to_vec();
        let tag = seal(&key, &nonce, &aad, &mut buf).unwrap();
        let expected = concat!(
            "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb",
            "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452",
            "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9",
            "21f9664c97637da9768812f615c68b13b52e",
        );
        assert_eq!(buf, hex(expected));
        assert_eq!(tag.to_vec(), hex("c0875924c1c7987947deafd8780acf49"));
        open(&key, &nonce, &aad, &mut buf, &tag).unwrap();
        assert_eq!(buf, plain);
    }

    /// Any changed bit of ciphertext, tag, nonce or AAD fails, and the
    /// buffer is left as it was.
    #[test]
    fn tampering_fails_without_touching_the_buffer() {
        let key = [7u8; 32];
        let nonce = [9u8; 24];
        let mut ct = b"a secret value".to_vec();
        let tag = seal(&key, &nonce, b"a:b:", &mut ct).unwrap();
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
