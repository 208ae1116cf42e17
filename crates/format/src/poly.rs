//! Poly1305 (RFC 8439 §2.5) with 64-bit limbs, for the short messages of
//! sops values.
//!
//! The `poly1305` crate's portable backend works on five 26-bit limbs (its
//! AVX2 backend is slower still for messages of a block or two, see
//! `.cargo/config.toml`). On a 64-bit machine three limbs of 44, 44 and 42
//! bits need 9 multiplications per 16-byte block instead of 25. The results
//! are the crate's (tested against it and the RFC's vectors). No branch or
//! lookup depends on secret data. The tags of many values are computed
//! eight at a time by [`lanes`], in the same limbs.

use zeroize::Zeroize;

pub(crate) mod lanes;

const MASK44: u64 = (1 << 44) - 1;
const MASK42: u64 = (1 << 42) - 1;

/// A Poly1305 computation in progress; wiped on drop.
pub(crate) struct Poly1305 {
    /// The clamped `r`, in limbs.
    r: [u64; 3],
    /// `r[1]` and `r[2]` times 20 (reduction: 2^130 = 5 mod p, limbs of 44
    /// bits: 4 · 5).
    s: [u64; 2],
    /// The accumulator, in limbs.
    h: [u64; 3],
    /// The key's second half, added at the end.
    pad: [u64; 2],
}

fn le64(b: &[u8; 16], at: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(src) = b.get(at..at + 8) {
        w.copy_from_slice(src);
    }
    u64::from_le_bytes(w)
}

impl Poly1305 {
    /// Key with the 32-byte one-time key (`r` then `s`).
    pub(crate) fn new(key: &[u8; 32]) -> Poly1305 {
        let mut r = [0u8; 16];
        let mut p = [0u8; 16];
        r.copy_from_slice(&key[..16]);
        p.copy_from_slice(&key[16..]);
        // RFC 8439's clamp, 0x0ffffffc0ffffffc0ffffffc0fffffff, in two words.
        let t0 = le64(&r, 0) & 0x0fff_fffc_0fff_ffff;
        let t1 = le64(&r, 8) & 0x0fff_fffc_0fff_fffc;
        r.zeroize();
        let r0 = t0 & MASK44;
        let r1 = ((t0 >> 44) | (t1 << 20)) & MASK44;
        let r2 = (t1 >> 24) & MASK42;
        let pad = [le64(&p, 0), le64(&p, 8)];
        p.zeroize();
        Poly1305 {
            r: [r0, r1, r2],
            s: [r1 * 20, r2 * 20],
            h: [0; 3],
            pad,
        }
    }

    /// Absorb one 16-byte block; `hibit` is 2^128 in the top limb's units
    /// (`1 << 40`) for a full block, 0 for a final partial one that was
    /// padded with its own 1 byte.
    fn block(&mut self, m: &[u8; 16], hibit: u64) {
        let t0 = le64(m, 0);
        let t1 = le64(m, 8);
        let [r0, r1, r2] = self.r;
        let [s1, s2] = self.s;
        let h0 = self.h[0] + (t0 & MASK44);
        let h1 = self.h[1] + (((t0 >> 44) | (t1 << 20)) & MASK44);
        let h2 = self.h[2] + (((t1 >> 24) & MASK42) | hibit);
        let m = |a: u64, b: u64| u128::from(a) * u128::from(b);
        let d0 = m(h0, r0) + m(h1, s2) + m(h2, s1);
        let mut d1 = m(h0, r1) + m(h1, r0) + m(h2, s2);
        let mut d2 = m(h0, r2) + m(h1, r1) + m(h2, r0);
        let h0 = (d0 as u64) & MASK44;
        d1 += d0 >> 44;
        let h1 = (d1 as u64) & MASK44;
        d2 += d1 >> 44;
        let h2 = (d2 as u64) & MASK42;
        let c = (d2 >> 42) as u64;
        let h0 = h0 + c * 5;
        let h1 = h1 + (h0 >> 44);
        self.h = [h0 & MASK44, h1, h2];
    }

    /// Absorb `data`, zero-padded to a whole number of blocks (RFC 8439
    /// §2.8's AEAD construction).
    pub(crate) fn update_padded(&mut self, data: &[u8]) {
        let mut blocks = data.chunks_exact(16);
        for b in &mut blocks {
            let mut m = [0u8; 16];
            m.copy_from_slice(b);
            self.block(&m, 1 << 40);
        }
        let rest = blocks.remainder();
        if !rest.is_empty() {
            let mut m = [0u8; 16];
            m[..rest.len()].copy_from_slice(rest);
            self.block(&m, 1 << 40);
            m.zeroize();
        }
    }

    /// Absorb the AEAD's final block: the two lengths.
    pub(crate) fn update_lengths(&mut self, aad_len: usize, ct_len: usize) {
        let mut m = [0u8; 16];
        m[..8].copy_from_slice(&(aad_len as u64).to_le_bytes());
        m[8..].copy_from_slice(&(ct_len as u64).to_le_bytes());
        self.block(&m, 1 << 40);
    }

    /// The tag.
    pub(crate) fn finalize(mut self) -> [u8; 16] {
        // Carry fully (twice: the first pass may leave a carry in `h1`).
        let [mut h0, mut h1, mut h2] = carry(carry(self.h));
        // g = h + 5 - 2^130: h mod p is g if that does not borrow.
        let g0 = h0 + 5;
        let g1 = h1 + (g0 >> 44);
        let g2 = (h2 + (g1 >> 44)).wrapping_sub(1 << 42);
        let (g0, g1) = (g0 & MASK44, g1 & MASK44);
        // All ones if g2 did not borrow (h >= p), else zero.
        let take_g = (g2 >> 63).wrapping_sub(1);
        h0 = (h0 & !take_g) | (g0 & take_g);
        h1 = (h1 & !take_g) | (g1 & take_g);
        h2 = (h2 & !take_g) | (g2 & MASK42 & take_g);
        // h + pad mod 2^128.
        let [p0, p1] = self.pad;
        let lo = h0 | (h1 << 44);
        let hi = (h1 >> 20) | (h2 << 24);
        let (lo, overflow) = lo.overflowing_add(p0);
        let hi = hi.wrapping_add(p1).wrapping_add(u64::from(overflow));
        let mut tag = [0u8; 16];
        tag[..8].copy_from_slice(&lo.to_le_bytes());
        tag[8..].copy_from_slice(&hi.to_le_bytes());
        self.h.zeroize();
        tag
    }

    /// Whether the tag equals `expected`, compared in constant time.
    pub(crate) fn verify(self, expected: &[u8; 16]) -> bool {
        equal(&self.finalize(), expected)
    }
}

/// Whether two tags are equal, compared in constant time.
pub(crate) fn equal(a: &[u8; 16], b: &[u8; 16]) -> bool {
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(diff) == 0
}

/// One carry pass over the limbs, the top limb's excess folded back times
/// 5 (2^130 = 5 mod p).
fn carry([h0, h1, h2]: [u64; 3]) -> [u64; 3] {
    let h2 = h2 + (h1 >> 44);
    let h1 = h1 & MASK44;
    let h0 = h0 + (h2 >> 42) * 5;
    let h2 = h2 & MASK42;
    let h1 = h1 + (h0 >> 44);
    [h0 & MASK44, h1, h2]
}

impl Drop for Poly1305 {
    fn drop(&mut self) {
        self.r.zeroize();
        self.s.zeroize();
        self.h.zeroize();
        self.pad.zeroize();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use poly1305::universal_hash::{KeyInit, UniversalHash};
    use proptest::prelude::*;

    pub(super) fn theirs(key: &[u8; 32], aad: &[u8], ct: &[u8]) -> [u8; 16] {
        let mut mac = poly1305::Poly1305::new(key.into());
        mac.update_padded(aad);
        mac.update_padded(ct);
        let mut lengths = poly1305::Block::default();
        lengths[..8].copy_from_slice(&(aad.len() as u64).to_le_bytes());
        lengths[8..].copy_from_slice(&(ct.len() as u64).to_le_bytes());
        mac.update(&[lengths]);
        mac.finalize().into()
    }

    fn ours(key: &[u8; 32], aad: &[u8], ct: &[u8]) -> [u8; 16] {
        let mut mac = Poly1305::new(key);
        mac.update_padded(aad);
        mac.update_padded(ct);
        mac.update_lengths(aad.len(), ct.len());
        mac.finalize()
    }

    /// RFC 8439 §2.5.2, with the message padded as one AEAD part and no
    /// lengths: compared through the crate, which the RFC vector checks.
    #[test]
    fn rfc8439_vector() {
        let key: [u8; 32] = [
            0x85, 0xd6, 0xbe, 0x78, 0x57, 0x55, 0x6d, 0x33, 0x7f, 0x44, 0x52, 0xfe, 0x42, 0xd5,
            0x06, 0xa8, 0x01, 0x03, 0x80, 0x8a, 0xfb, 0x0d, 0xb2, 0xfd, 0x4a, 0xbf, 0xf6, 0xaf,
            0x41, 0x49, 0xf5, 0x1b,
        ];
        let msg = b"Cryptographic Forum Research Group";
        // The RFC's message is not a multiple of 16: its last block gets
        // the 1 byte, unlike the AEAD's zero padding. Build that by hand.
        let mut mac = Poly1305::new(&key);
        let mut blocks = msg.chunks_exact(16);
        for b in &mut blocks {
            mac.block(b.try_into().unwrap(), 1 << 40);
        }
        let rest = blocks.remainder();
        let mut last = [0u8; 16];
        last[..rest.len()].copy_from_slice(rest);
        last[rest.len()] = 1;
        mac.block(&last, 0);
        assert_eq!(
            mac.finalize(),
            [
                0xa8, 0x06, 0x1d, 0xc1, 0x30, 0x51, 0x36, 0xc6, 0xc2, 0x2b, 0x8b, 0xaf, 0x0c, 0x01,
                0x27, 0xa9
            ]
        );
    }

    /// Accumulators near and above p: all-0xff messages and keys.
    #[test]
    fn extreme_values_agree_with_the_crate() {
        for key in [[0xffu8; 32], [0u8; 32], {
            let mut k = [0xffu8; 32];
            k[..16].fill(0);
            k
        }] {
            for len in [0, 1, 15, 16, 17, 32, 64, 100] {
                let msg = vec![0xffu8; len];
                assert_eq!(ours(&key, &msg, &msg), theirs(&key, &msg, &msg), "{len}");
            }
        }
    }

    #[test]
    fn verify_compares_the_whole_tag() {
        let key = [7u8; 32];
        let tag = ours(&key, b"a:", b"value");
        for i in 0..16 {
            let mut bad = tag;
            bad[i] ^= 1;
            let mut mac = Poly1305::new(&key);
            mac.update_padded(b"a:");
            mac.update_padded(b"value");
            mac.update_lengths(2, 5);
            assert!(!mac.verify(&bad));
        }
        let mut mac = Poly1305::new(&key);
        mac.update_padded(b"a:");
        mac.update_padded(b"value");
        mac.update_lengths(2, 5);
        assert!(mac.verify(&tag));
    }

    proptest! {
        #[test]
        fn agrees_with_the_crate(
            key in proptest::array::uniform32(any::<u8>()),
            aad in proptest::collection::vec(any::<u8>(), 0..70),
            ct in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            prop_assert_eq!(ours(&key, &aad, &ct), theirs(&key, &aad, &ct));
        }
    }
}
