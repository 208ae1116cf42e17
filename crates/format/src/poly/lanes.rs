//! The Poly1305 tags of many short AEAD messages (a file's values), eight
//! at a time in the 64-bit lanes of AVX-512 vectors on CPUs with IFMA.
//!
//! A sops value's tag covers four or five blocks (its padded AAD and
//! ciphertext and the lengths block); the scalar [`Poly1305`] spends about
//! 50 ns a value on them, most of it waiting on its chain of 64-bit
//! multiplications. Here lane `i` of every vector holds value `i`'s
//! accumulator and key, in the same three limbs of 44, 44 and 42 bits as
//! the scalar code, and one step multiplies all eight accumulators by
//! their keys with the 52-bit multiply-adds of AVX-512 IFMA
//! (`vpmadd52luq`/`vpmadd52huq`: the low and high 52 bits of each 104-bit
//! product). The limbs after every block are exactly the scalar code's,
//! and the last steps are [`Poly1305::finalize`]'s (the full carry, the
//! reduction mod 2^130 - 5 by a select, the pad added mod 2^128) on every
//! lane at once (tested against the scalar code and the `poly1305`
//! crate).
//!
//! Messages of different lengths share a pass: each lane's blocks end at
//! the last step, and the steps before its first block absorb a zero
//! block without the 2^128 bit, which leaves a zero accumulator at zero.
//!
//! Safe code: the token type below is declared with `pulp`'s `simd_type!`
//! (pulp's own tokens are declared the same way); its `try_new` checks the
//! CPU's features at run time, and its `vectorize` runs [`Pass::call`]
//! (everything below is `#[inline(always)]` into it) with them enabled.
//! Nothing depends on secret data but arithmetic, as in the scalar code.

use super::Poly1305;

/// One value's one-time Poly1305 key (block 0 of its keystream), its AAD
/// and its ciphertext.
pub(crate) type Message<'a> = (&'a [u8; 32], &'a [u8], &'a [u8]);

/// Messages of more blocks than this are computed by the scalar code (the
/// lanes of a pass take as many steps as the longest message).
const MAX_BLOCKS: usize = 12;

/// Fewer messages than this (or a CPU without IFMA) are computed by the
/// scalar code.
const MIN_MESSAGES: usize = 3;

/// The tag of each message, in order: in eight-lane passes on CPUs with
/// AVX-512 IFMA, else one by one.
pub(crate) fn tags(messages: &[Message<'_>]) -> Vec<[u8; 16]> {
    #[cfg(target_arch = "x86_64")]
    if messages.len() >= MIN_MESSAGES {
        if let Some(token) = ifma::Ifma::try_new() {
            return ifma::tags(token, messages);
        }
    }
    messages.iter().map(scalar).collect()
}

/// The tag of one message, by the scalar code.
fn scalar(&(key, aad, ct): &Message<'_>) -> [u8; 16] {
    let mut mac = Poly1305::new(key);
    mac.update_padded(aad);
    mac.update_padded(ct);
    mac.update_lengths(aad.len(), ct.len());
    mac.finalize()
}

/// How many 16-byte blocks the AEAD's Poly1305 absorbs for a message.
fn blocks(aad: &[u8], ct: &[u8]) -> usize {
    aad.len().div_ceil(16) + ct.len().div_ceil(16) + 1
}

#[cfg(target_arch = "x86_64")]
mod ifma {
    use super::super::{MASK42, MASK44};
    use super::{blocks, scalar, Message, MAX_BLOCKS, MIN_MESSAGES};
    use core::arch::x86_64::__m512i;
    use pulp::cast;
    use zeroize::Zeroize;

    pulp::simd_type!({
        /// Proof that this CPU has AVX-512 with IFMA.
        pub(super) struct Ifma {
            pub avx512f: f!("avx512f"),
            pub avx512vl: f!("avx512vl"),
            pub avx512ifma: f!("avx512ifma"),
        }
    });

    /// Sixteen bytes for each of eight lanes: lane `i` at `16 i`.
    type Row = [u8; 128];

    /// A row as little-endian words: lane `i` in words `2 i` and `2 i + 1`.
    type Words = [u64; 16];

    /// One pass of eight lanes, run under the target features.
    struct Pass<'a> {
        t: Ifma,
        /// The one-time keys' first halves (`r`, not yet clamped) and
        /// second halves (added at the end), as the rows' words.
        r: &'a Words,
        pad: &'a Words,
        /// The step at which each lane's first block comes.
        starts: &'a [u64; 8],
        /// The blocks of each step.
        rows: &'a [Row],
        /// The tags.
        tags: &'a mut Row,
    }

    impl pulp::NullaryFnOnce for Pass<'_> {
        type Output = ();

        #[inline(always)]
        fn call(self) {
            let Pass {
                t,
                r,
                pad,
                starts,
                rows,
                tags,
            } = self;
            let f = t.avx512f;
            let madd_lo = |acc, a, b| t.avx512ifma._mm512_madd52lo_epu64(acc, a, b);
            let madd_hi = |acc, a, b| t.avx512ifma._mm512_madd52hi_epu64(acc, a, b);
            let add = |a, b| f._mm512_add_epi64(a, b);
            let and = |a, b| f._mm512_and_si512(a, b);
            let or = |a, b| f._mm512_or_si512(a, b);
            let splat = |w: u64| -> __m512i { cast([w; 8]) };
            let (mask44, mask42, zero) = (splat(MASK44), splat(MASK42), splat(0));
            // A row's words 0, 2… (each lane's low word) and 1, 3… (high).
            let evens: __m512i = cast([0u64, 2, 4, 6, 8, 10, 12, 14]);
            let odds: __m512i = cast([1u64, 3, 5, 7, 9, 11, 13, 15]);
            let words = |row: &Words| {
                let [a, b]: [[u64; 8]; 2] = cast(*row);
                let (a, b): (__m512i, __m512i) = (cast(a), cast(b));
                (
                    f._mm512_permutex2var_epi64(a, evens, b),
                    f._mm512_permutex2var_epi64(a, odds, b),
                )
            };
            // Two words as limbs of 44, 44 and 40 bits.
            let limbs = |(lo, hi): (__m512i, __m512i)| {
                (
                    and(lo, mask44),
                    and(
                        or(f._mm512_srli_epi64::<44>(lo), f._mm512_slli_epi64::<20>(hi)),
                        mask44,
                    ),
                    f._mm512_srli_epi64::<24>(hi),
                )
            };
            let (k0, k1) = words(r);
            // RFC 8439's clamp.
            let (r0, r1, r2) = limbs((
                and(k0, splat(0x0fff_fffc_0fff_ffff)),
                and(k1, splat(0x0fff_fffc_0fff_fffc)),
            ));
            // Times 20: 2^130 = 5 mod p, and limbs of 44 bits (4 · 5).
            let times20 = |x| add(f._mm512_slli_epi64::<4>(x), f._mm512_slli_epi64::<2>(x));
            let (s1, s2) = (times20(r1), times20(r2));
            let starts: __m512i = cast(*starts);
            let hibit = splat(1 << 40);
            let (mut h0, mut h1, mut h2) = (zero, zero, zero);
            for (step, row) in rows.iter().enumerate() {
                let (m0, m1, m2) = limbs(words(&cast(*row)));
                // 2^128 for the lanes whose blocks have started.
                let started = f._mm512_cmpge_epu64_mask(splat(step as u64), starts);
                h0 = add(h0, m0);
                h1 = add(h1, m1);
                h2 = add(h2, or(m2, f._mm512_maskz_mov_epi64(started, hibit)));
                // d = h · r, each limb as the sums of the products' low and
                // high 52 bits: d_k = lo_k + hi_k · 2^52.
                let lo0 = madd_lo(madd_lo(madd_lo(zero, h0, r0), h1, s2), h2, s1);
                let hi0 = madd_hi(madd_hi(madd_hi(zero, h0, r0), h1, s2), h2, s1);
                let lo1 = madd_lo(madd_lo(madd_lo(zero, h0, r1), h1, r0), h2, s2);
                let hi1 = madd_hi(madd_hi(madd_hi(zero, h0, r1), h1, r0), h2, s2);
                let lo2 = madd_lo(madd_lo(madd_lo(zero, h0, r2), h1, r1), h2, r0);
                let hi2 = madd_hi(madd_hi(madd_hi(zero, h0, r2), h1, r1), h2, r0);
                // The scalar code's carries: d_k >> 44 is
                // (lo_k >> 44) + (hi_k << 8), and d_2 >> 42 likewise.
                let c0 = add(
                    f._mm512_srli_epi64::<44>(lo0),
                    f._mm512_slli_epi64::<8>(hi0),
                );
                let d1 = add(lo1, c0);
                let c1 = add(f._mm512_srli_epi64::<44>(d1), f._mm512_slli_epi64::<8>(hi1));
                let d2 = add(lo2, c1);
                let c2 = add(
                    f._mm512_srli_epi64::<42>(d2),
                    f._mm512_slli_epi64::<10>(hi2),
                );
                let n0 = add(and(lo0, mask44), add(f._mm512_slli_epi64::<2>(c2), c2));
                h0 = and(n0, mask44);
                h1 = add(and(d1, mask44), f._mm512_srli_epi64::<44>(n0));
                h2 = and(d2, mask42);
            }
            // `Poly1305::finalize`, lane by lane: carry fully (twice)…
            for _ in 0..2 {
                h2 = add(h2, f._mm512_srli_epi64::<44>(h1));
                h1 = and(h1, mask44);
                let c = f._mm512_srli_epi64::<42>(h2);
                h0 = add(h0, add(f._mm512_slli_epi64::<2>(c), c));
                h2 = and(h2, mask42);
                h1 = add(h1, f._mm512_srli_epi64::<44>(h0));
                h0 = and(h0, mask44);
            }
            // … h mod p is g = h + 5 - 2^130 where that does not borrow …
            let g0 = add(h0, splat(5));
            let g1 = add(h1, f._mm512_srli_epi64::<44>(g0));
            let g2 = f._mm512_sub_epi64(add(h2, f._mm512_srli_epi64::<44>(g1)), splat(1 << 42));
            let take_g = f._mm512_cmpge_epi64_mask(g2, zero);
            h0 = f._mm512_mask_blend_epi64(take_g, h0, and(g0, mask44));
            h1 = f._mm512_mask_blend_epi64(take_g, h1, and(g1, mask44));
            h2 = f._mm512_mask_blend_epi64(take_g, h2, and(g2, mask42));
            // … plus the pad, mod 2^128.
            let (p0, p1) = words(pad);
            let lo = or(h0, f._mm512_slli_epi64::<44>(h1));
            let hi = or(f._mm512_srli_epi64::<20>(h1), f._mm512_slli_epi64::<24>(h2));
            let lo = add(lo, p0);
            let carried = f._mm512_cmplt_epu64_mask(lo, p0);
            let hi = f._mm512_mask_add_epi64(add(hi, p1), carried, add(hi, p1), splat(1));
            // Lane `i`'s two words at `16 i`.
            let first: __m512i = cast([0u64, 8, 1, 9, 2, 10, 3, 11]);
            let second: __m512i = cast([4u64, 12, 5, 13, 6, 14, 7, 15]);
            let out: [[u64; 8]; 2] = [
                cast(f._mm512_permutex2var_epi64(lo, first, hi)),
                cast(f._mm512_permutex2var_epi64(lo, second, hi)),
            ];
            *tags = cast(out);
        }
    }

    /// [`super::tags`] on a CPU with IFMA.
    pub(super) fn tags(t: Ifma, messages: &[Message<'_>]) -> Vec<[u8; 16]> {
        let mut out = vec![[0u8; 16]; messages.len()];
        let mut rows: Vec<Row> = Vec::with_capacity(MAX_BLOCKS);
        // Lane `i` of a pass holds `group[lanes[i]]`.
        let mut lanes = Vec::with_capacity(8);
        for (group, tags) in messages.chunks(8).zip(out.chunks_mut(8)) {
            lanes.clear();
            for (i, (m, tag)) in group.iter().zip(tags.iter_mut()).enumerate() {
                if blocks(m.1, m.2) > MAX_BLOCKS {
                    *tag = scalar(m);
                } else {
                    lanes.push(i);
                }
            }
            if lanes.len() < MIN_MESSAGES {
                for &i in &lanes {
                    if let (Some(m), Some(tag)) = (group.get(i), tags.get_mut(i)) {
                        *tag = scalar(m);
                    }
                }
                continue;
            }
            pass(t, group, &lanes, tags, &mut rows);
        }
        out
    }

    /// Lane `lane`'s sixteen bytes of `row`.
    fn lane(row: &mut Row, lane: usize) -> Option<&mut [u8; 16]> {
        row.get_mut(16 * lane..16 * lane + 16)?.try_into().ok()
    }

    /// One pass over `group[lanes[i]]` in lane `i`, writing their tags.
    fn pass(
        t: Ifma,
        group: &[Message<'_>],
        lanes: &[usize],
        tags: &mut [[u8; 16]],
        rows: &mut Vec<Row>,
    ) {
        let steps = lanes
            .iter()
            .filter_map(|&i| group.get(i))
            .map(|m| blocks(m.1, m.2))
            .max()
            .unwrap_or(0);
        rows.clear();
        rows.resize(steps, [0; 128]);
        // Words, not bytes: wiped eight bytes a store.
        let (mut r, mut pad): (Words, Words) = ([0; 16], [0; 16]);
        let mut starts = [u64::MAX; 8];
        for (l, &i) in lanes.iter().enumerate() {
            let Some(&(key, aad, ct)) = group.get(i) else {
                continue;
            };
            let le = |i: usize| {
                key.get(i..i + 8)
                    .and_then(|w| w.try_into().ok())
                    .map_or(0, u64::from_le_bytes)
            };
            for (words, at) in [(&mut r, 0), (&mut pad, 16)] {
                if let Some(w) = words.get_mut(2 * l..2 * l + 2) {
                    w.copy_from_slice(&[le(at), le(at + 8)]);
                }
            }
            if let Some(s) = starts.get_mut(l) {
                *s = (steps - blocks(aad, ct)) as u64;
            }
            let mut at = steps - blocks(aad, ct);
            for part in [aad, ct] {
                for chunk in part.chunks(16) {
                    if let Some(block) = rows.get_mut(at).and_then(|row| lane(row, l)) {
                        // A whole block in one copy of known length.
                        match <&[u8; 16]>::try_from(chunk) {
                            Ok(whole) => *block = *whole,
                            Err(_) => {
                                if let Some(b) = block.get_mut(..chunk.len()) {
                                    b.copy_from_slice(chunk);
                                }
                            }
                        }
                    }
                    at += 1;
                }
            }
            if let Some(block) = rows.get_mut(at).and_then(|row| lane(row, l)) {
                block[..8].copy_from_slice(&(aad.len() as u64).to_le_bytes());
                block[8..].copy_from_slice(&(ct.len() as u64).to_le_bytes());
            }
        }
        let mut out = [0u8; 128];
        t.vectorize(Pass {
            t,
            r: &r,
            pad: &pad,
            starts: &starts,
            rows,
            tags: &mut out,
        });
        for (l, &i) in lanes.iter().enumerate() {
            if let (Some(tag), Some(computed)) = (tags.get_mut(i), out.get(16 * l..16 * l + 16)) {
                tag.copy_from_slice(computed);
            }
        }
        r.zeroize();
        pad.zeroize();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `n` bytes that differ with `seed`.
    fn bytes(seed: u64, n: usize) -> Vec<u8> {
        (0..n as u64)
            .map(|j| {
                (seed.wrapping_mul(0x9e37_79b9) ^ j.wrapping_mul(0x85eb_ca6b)).to_le_bytes()[2]
            })
            .collect()
    }

    fn check(keys: &[[u8; 32]], aads: &[Vec<u8>], cts: &[Vec<u8>]) {
        let messages: Vec<Message<'_>> = keys
            .iter()
            .zip(aads)
            .zip(cts)
            .map(|((k, a), c)| (k, a.as_slice(), c.as_slice()))
            .collect();
        let want: Vec<[u8; 16]> = messages.iter().map(scalar).collect();
        assert_eq!(tags(&messages), want);
    }

    #[test]
    fn the_lanes_need_ifma_here() {
        // The benchmark machine has it; elsewhere the scalar path is tested.
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx512ifma") {
            assert!(ifma::Ifma::try_new().is_some());
        }
    }

    /// Every length mix: short and long, empty, all-0xff keys and
    /// messages (accumulators near p), more than a pass, long ones left
    /// to the scalar code among the lanes.
    #[test]
    fn agree_with_the_scalar_code() {
        for n in [0, 1, 2, 3, 5, 8, 9, 17, 40] {
            let keys: Vec<[u8; 32]> = (0..n)
                .map(|i| bytes(i as u64, 32).try_into().unwrap())
                .collect();
            let aads: Vec<Vec<u8>> = (0..n)
                .map(|i| bytes(100 + i as u64, (i * 7) % 40))
                .collect();
            let cts: Vec<Vec<u8>> = (0..n)
                .map(|i| bytes(200 + i as u64, [0, 1, 15, 16, 17, 31, 64, 300][i % 8]))
                .collect();
            check(&keys, &aads, &cts);
            let ff_keys = vec![[0xffu8; 32]; n];
            let ff: Vec<Vec<u8>> = (0..n).map(|i| vec![0xff; (i * 13) % 150]).collect();
            check(&ff_keys, &ff, &ff);
        }
    }

    proptest! {
        #[test]
        fn agree_with_the_crate(
            messages in proptest::collection::vec(
                (
                    proptest::array::uniform32(any::<u8>()),
                    proptest::collection::vec(any::<u8>(), 0..60),
                    proptest::collection::vec(any::<u8>(), 0..200),
                ),
                0..20,
            ),
        ) {
            let refs: Vec<Message<'_>> = messages
                .iter()
                .map(|(k, a, c)| (k, a.as_slice(), c.as_slice()))
                .collect();
            let theirs: Vec<[u8; 16]> = messages
                .iter()
                .map(|(k, a, c)| super::super::tests::theirs(k, a, c))
                .collect();
            prop_assert_eq!(tags(&refs), theirs);
        }
    }
}
