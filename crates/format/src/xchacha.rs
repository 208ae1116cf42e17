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
//!
//! Many values under one key (a file's values) can be prepared four at a
//! time by [`batch::prepare4`] or [`batch::prepare`]: the four HChaCha20
//! permutations side by side in the lanes of SIMD vectors (`wide`, SSE2 on
//! x86_64, without target features or runtime detection), then the four
//! values' blocks 0 and 1 in eight lanes. A 24-byte value with a 30-byte
//! AAD then seals in 230 ns instead of 285 and opens in 236 instead of
//! 285 (the three permutations: 150 ns a value instead of 215; Poly1305
//! is the next cost, 71 ns), on the benchmark machine.
//!
//! On x86_64 CPUs with AVX2 (detected at run time, through `pulp`'s safe
//! intrinsics), [`batch::prepare`] computes eight values at a time in the
//! eight lanes of AVX2 vectors instead ([`batch::avx2`]): for the callers'
//! batches of 32 values, 89 ns a value instead of 160, so that the same
//! 24-byte value seals in 160 ns instead of 231 and opens in 177 instead
//! of 247 (prepare and seal or open, per value, on the benchmark machine).
//!
//! A batch's tags are then computed together ([`batch::seal_all`],
//! [`batch::tags`]): eight at a time in AVX-512 IFMA lanes where the CPU
//! has them ([`crate::poly::lanes`]). With AVX-512, sealing a batch of 32
//! such values takes 103 ns a value instead of 146 (`xchacha_batch_timing`).
//!
//! With AVX-512, the values are prepared sixteen at a time in 512-bit
//! vectors ([`batch::avx2::prepare16`]), and the vectors holding key
//! material are wiped a whole register per store (`zeroize`'s `simd`
//! feature) instead of eight bytes at a time: a batch of 32 values is
//! prepared in 41 ns a value instead of 71, and sealed in 68 instead of
//! 97 (same test, same machine).

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
        let mac = authenticator(&block, aad, ct);
        block.zeroize();
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
        self.apply_blocks(1, buf);
        Ok(())
    }

    /// XOR keystream blocks `first`, `first + 1`… into `buf`, a block at a
    /// time (for messages of at most `LONG` bytes: the counter cannot
    /// wrap).
    fn apply_blocks(&self, first: u32, buf: &mut [u8]) {
        if buf.is_empty() {
            return;
        }
        let mut block = [0u8; 64];
        for (counter, chunk) in (first..).zip(buf.chunks_mut(64)) {
            self.block(counter, &mut block);
            xor(chunk, &block);
        }
        block.zeroize();
    }
}

/// `buf ^= keystream`, over the shorter of the two.
fn xor(buf: &mut [u8], keystream: &[u8]) {
    for (b, k) in buf.iter_mut().zip(keystream) {
        *b ^= k;
    }
}

/// Poly1305 keyed by the first 32 bytes of `key` (block 0 of the value's
/// keystream), fed with `aad`, the ciphertext `ct` and both lengths: ready
/// to finalize or verify.
fn authenticator(key: &[u8], aad: &[u8], ct: &[u8]) -> Poly1305 {
    let mut poly_key = [0u8; 32];
    for (k, b) in poly_key.iter_mut().zip(key) {
        *k = *b;
    }
    let mut mac = Poly1305::new(&poly_key);
    poly_key.zeroize();
    mac.update_padded(aad);
    mac.update_padded(ct);
    mac.update_lengths(aad.len(), ct.len());
    mac
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.subkey.zeroize();
    }
}

/// Four values at a time: their ChaCha20 permutations side by side in
/// SIMD lanes.
pub(crate) mod batch {

    use super::{authenticator, words, AuthError, Stream, LONG, SIGMA};
    use wide::bytemuck::{self, Pod};
    use wide::{u32x4, u32x8};
    use zeroize::Zeroize;

    /// [`prepare`] pads a group of this many values or more to four for
    /// [`prepare4`]; fewer are computed one by one by [`Prepared::new`].
    /// Measured per value: `Prepared::new` 215 ns; `prepare4` 150 ns for
    /// four values, 199 for three, 296 for two.
    const PAD_FROM: usize = 3;

    /// What the rounds need of a vector of `u32` lanes.
    trait Lanes:
        Copy
        + core::ops::Add<Output = Self>
        + core::ops::BitXor<Output = Self>
        + core::ops::BitOr<Output = Self>
        + core::ops::Shl<u32, Output = Self>
        + core::ops::Shr<u32, Output = Self>
    {
    }
    impl Lanes for u32x4 {}
    impl Lanes for u32x8 {}

    /// Rotation as two shifts (SSE2 has no vector rotate; `wide` offers
    /// none). The 16-bit rotation as `pshuflw` + `pshufhw` (through
    /// `safe_arch`) measured 2 to 5% faster on a permutation: not worth a
    /// second dependency and an x86-only path.
    #[inline(always)]
    fn rotl<V: Lanes>(x: V, n: u32) -> V {
        (x << n) | (x >> (32 - n))
    }

    #[inline(always)]
    fn quarter<V: Lanes>([mut a, mut b, mut c, mut d]: [V; 4]) -> [V; 4] {
        a = a + b;
        d = rotl(d ^ a, 16);
        c = c + d;
        b = rotl(b ^ c, 12);
        a = a + b;
        d = rotl(d ^ a, 8);
        c = c + d;
        b = rotl(b ^ c, 7);
        [a, b, c, d]
    }

    /// The 20 ChaCha rounds over several states at once: word `k` of
    /// state `i` is lane `i` of element `k`, so that each vector operation
    /// (SSE2, the x86_64 baseline, without runtime detection) works on
    /// every state.
    #[inline(always)]
    fn rounds<V: Lanes>(s: [V; 16]) -> [V; 16] {
        let [mut x0, mut x1, mut x2, mut x3, mut x4, mut x5, mut x6, mut x7, mut x8, mut x9, mut x10, mut x11, mut x12, mut x13, mut x14, mut x15] =
            s;
        for _ in 0..10 {
            [x0, x4, x8, x12] = quarter([x0, x4, x8, x12]);
            [x1, x5, x9, x13] = quarter([x1, x5, x9, x13]);
            [x2, x6, x10, x14] = quarter([x2, x6, x10, x14]);
            [x3, x7, x11, x15] = quarter([x3, x7, x11, x15]);
            [x0, x5, x10, x15] = quarter([x0, x5, x10, x15]);
            [x1, x6, x11, x12] = quarter([x1, x6, x11, x12]);
            [x2, x7, x8, x13] = quarter([x2, x7, x8, x13]);
            [x3, x4, x9, x14] = quarter([x3, x4, x9, x14]);
        }
        [
            x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15,
        ]
    }

    /// HChaCha20 of four states (the rounds, no feed-forward).
    #[inline(never)]
    fn hchacha4(s: &[u32x4; 16]) -> [u32x4; 16] {
        rounds(*s)
    }

    /// Eight keystream blocks: the rounds over `input`, plus `input`.
    /// Eight lanes (two SSE2 vectors per word) rather than four: the two
    /// independent halves keep more of the CPU busy (on the benchmark
    /// machine 42 ns a block, against 46 to 50 for four lanes and 69 for
    /// the scalar rounds). Whether a variant is faster depends on LLVM's
    /// register allocation more than on the instruction count (all spill):
    /// measure before reshaping these functions.
    #[inline(never)]
    fn blocks8(input: &[u32x8; 16]) -> [u32x8; 16] {
        let mut out = rounds(*input);
        for (x, i) in out.iter_mut().zip(input) {
            *x += *i;
        }
        out
    }

    /// Overwrite `v` (key material or keystream) with zeros: volatile
    /// writes, as `zeroize` does, but eight bytes at a time where aligned
    /// (a fourth to an eighth of the stores of `Zeroize` on its `u32`
    /// lanes or bytes).
    fn wipe<T: Pod>(v: &mut T) {
        let (head, words, tail) = bytemuck::pod_align_to_mut::<u8, u64>(bytemuck::bytes_of_mut(v));
        head.zeroize();
        words.zeroize();
        tail.zeroize();
    }

    /// `v` in both halves of an eight-lane vector.
    fn twice(v: u32x4) -> u32x8 {
        let [a, b, c, d] = v.to_array();
        u32x8::new([a, b, c, d, a, b, c, d])
    }

    /// The low (`hi == false`) or high half of `v`.
    fn half(v: &u32x8, hi: bool) -> u32x4 {
        let [a, b, c, d, e, f, g, h] = v.to_array();
        u32x4::new(if hi { [e, f, g, h] } else { [a, b, c, d] })
    }

    /// Little-endian bytes of `words` into `outs`: lane `i` of each vector
    /// to `outs[i]`, in order, until `words` or `outs` runs out. Groups of
    /// four vectors are transposed so that each output gets 16 bytes at
    /// a time.
    fn store_lanes(mut words: impl Iterator<Item = u32x4>, outs: [&mut [u8]; 4]) {
        let [o0, o1, o2, o3] = outs.map(|o| o.chunks_exact_mut(16));
        for (((d0, d1), d2), d3) in o0.zip(o1).zip(o2).zip(o3) {
            let (Some(a), Some(b), Some(c), Some(d)) =
                (words.next(), words.next(), words.next(), words.next())
            else {
                return;
            };
            for (row, out) in u32x4::transpose([a, b, c, d])
                .into_iter()
                .zip([d0, d1, d2, d3])
            {
                for (o, w) in out.chunks_exact_mut(4).zip(row.to_array()) {
                    o.copy_from_slice(&w.to_le_bytes());
                }
            }
        }
    }

    /// The start of one value's keystream: what `seal` and `open` need for
    /// a message of at most 64 bytes, computed for four values at once by
    /// [`prepare4`] (or one by [`Prepared::new`]). Single use: sealing or
    /// opening consumes it, so one nonce's keystream cannot encrypt two
    /// messages by mistake. Wiped on drop; deliberately not `Debug`.
    pub(crate) struct Prepared {
        /// ChaCha20 under the value's subkey, for blocks 2… of a longer
        /// message. (Visible to the parent module for the HChaCha20 test
        /// vector.)
        pub(super) stream: Stream,
        /// Block 0's first 32 bytes.
        poly_key: [u8; 32],
        /// Block 1: the keystream of the message's first 64 bytes.
        first: [u8; 64],
    }

    impl Prepared {
        /// One value, one permutation at a time (HChaCha20, blocks 0 and 1):
        /// for a lone value, cheaper than a four-lane pass.
        pub(crate) fn new(key: &[u8; 32], nonce: &[u8; 24]) -> Prepared {
            let mut prepared = Prepared {
                stream: Stream::new(key, nonce),
                poly_key: [0; 32],
                first: [0; 64],
            };
            let mut block = [0u8; 64];
            prepared.stream.block(0, &mut block);
            for (k, b) in prepared.poly_key.iter_mut().zip(block) {
                *k = b;
            }
            block.zeroize();
            prepared.stream.block(1, &mut prepared.first);
            prepared
        }

        /// XOR the message keystream into `buf`: block 1 from `first`, the
        /// rest as [`Stream::apply`] does.
        fn apply(&self, buf: &mut [u8]) -> Result<(), AuthError> {
            if buf.len() > LONG {
                return self.stream.apply(buf);
            }
            let (head, rest) = buf.split_at_mut(buf.len().min(64));
            for (b, k) in head.iter_mut().zip(&self.first) {
                *b ^= k;
            }
            self.stream.apply_blocks(2, rest);
            Ok(())
        }

        /// Encrypt `buf` in place; returns the 16-byte tag, or `AuthError`
        /// for a message too long for the block counter (`buf` is then
        /// untouched). The result of [`super::seal()`] with this value's key
        /// and nonce.
        pub(crate) fn seal(self, aad: &[u8], buf: &mut [u8]) -> Result<[u8; 16], AuthError> {
            self.apply(buf)?;
            Ok(authenticator(&self.poly_key, aad, buf).finalize())
        }

        /// Authenticate and decrypt `buf` in place; `buf` is untouched when
        /// the tag does not verify. The result of [`super::open()`] with this
        /// value's key and nonce. (Files' values are opened by [`tags`] and
        /// [`Prepared::open_tagged`], a batch at a time.)
        #[cfg(test)]
        pub(crate) fn open(
            self,
            aad: &[u8],
            buf: &mut [u8],
            expected: &[u8; 16],
        ) -> Result<(), AuthError> {
            // `verify` compares in constant time.
            if !authenticator(&self.poly_key, aad, buf).verify(expected) {
                return Err(AuthError);
            }
            self.apply(buf)
        }
    }

    impl Drop for Prepared {
        fn drop(&mut self) {
            wipe(&mut self.poly_key);
            wipe(&mut self.first);
        }
    }

    /// Seal each of `bufs` in place with the value prepared for it and its
    /// AAD (`aads[i]` for `bufs[i]`): their tags, in order, as
    /// [`Prepared::seal`] gives them, the Poly1305 tags computed together
    /// ([`crate::poly::lanes`]). `AuthError` (and nothing sealed) if the
    /// counts differ or a message is too long for the block counter.
    pub(crate) fn seal_all(
        prepared: Vec<Prepared>,
        aads: &[&[u8]],
        bufs: &mut [&mut [u8]],
    ) -> Result<Vec<[u8; 16]>, AuthError> {
        if prepared.len() != bufs.len() || aads.len() != bufs.len() {
            return Err(AuthError);
        }
        if bufs.iter().any(|b| b.len() > LONG) {
            // The long message's stream could fail after others were
            // XORed: one at a time, checked before any is touched.
            let mut tags = Vec::with_capacity(bufs.len());
            for ((p, aad), buf) in prepared.into_iter().zip(aads).zip(bufs.iter_mut()) {
                tags.push(p.seal(aad, buf)?);
            }
            return Ok(tags);
        }
        for (p, buf) in prepared.iter().zip(bufs.iter_mut()) {
            p.apply(buf)?;
        }
        Ok(tags(&prepared, aads, bufs))
    }

    /// The Poly1305 tag of each value (`aads[i]` and ciphertext `cts[i]`,
    /// under `prepared[i]`'s one-time key), in order.
    pub(crate) fn tags<C: AsRef<[u8]>>(
        prepared: &[Prepared],
        aads: &[&[u8]],
        cts: &[C],
    ) -> Vec<[u8; 16]> {
        let messages: Vec<crate::poly::lanes::Message<'_>> = prepared
            .iter()
            .zip(aads)
            .zip(cts)
            .map(|((p, aad), ct)| (&p.poly_key, *aad, ct.as_ref()))
            .collect();
        crate::poly::lanes::tags(&messages)
    }

    impl Prepared {
        /// Decrypt `buf` in place if `computed` (its tag, from [`tags`])
        /// equals `expected`, compared in constant time; `buf` is untouched
        /// otherwise. What [`Prepared::open`] does.
        pub(crate) fn open_tagged(
            self,
            computed: &[u8; 16],
            expected: &[u8; 16],
            buf: &mut [u8],
        ) -> Result<(), AuthError> {
            if !crate::poly::equal(computed, expected) {
                return Err(AuthError);
            }
            self.apply(buf)
        }
    }

    /// Four values' [`Prepared`] under one key (lane `i` is value `i`): the
    /// four HChaCha20s in one four-lane pass, then the four blocks 0 and
    /// the four blocks 1 in one eight-lane pass. Fewer values: pad with any
    /// nonce and drop the extra results, or call [`prepare`], which does
    /// that or the scalar [`Prepared::new`], whichever is faster.
    pub(crate) fn prepare4(key: &[u8; 32], nonces: [&[u8; 24]; 4]) -> [Prepared; 4] {
        let nonce_words = nonces.map(|n| words::<6>(n));
        // Word `j` of each nonce, as lanes.
        let lanes = |j: usize| u32x4::new(nonce_words.map(|n| n.get(j).copied().unwrap_or(0)));
        let [c0, c1, c2, c3] = SIGMA.map(u32x4::splat);
        let mut key_words = words::<8>(key);
        let [k0, k1, k2, k3, k4, k5, k6, k7] = key_words.map(u32x4::splat);
        key_words.zeroize();
        let (n0, n1, n2, n3, t0, t1) = (lanes(0), lanes(1), lanes(2), lanes(3), lanes(4), lanes(5));
        let mut h_in = [
            c0, c1, c2, c3, k0, k1, k2, k3, k4, k5, k6, k7, n0, n1, n2, n3,
        ];
        let mut h_out = hchacha4(&h_in);
        wipe(&mut h_in);
        // The subkeys are words 0..4 and 12..16: already one value per
        // lane, where the blocks' input needs them.
        let [s0, s1, s2, s3, _, _, _, _, _, _, _, _, s12, s13, s14, s15] = h_out;
        // Lanes 0..4: the values' blocks 0 (the Poly1305 keys); lanes
        // 4..8: their blocks 1.
        let counters = u32x8::new([0, 0, 0, 0, 1, 1, 1, 1]);
        let mut b_in = [
            twice(c0),
            twice(c1),
            twice(c2),
            twice(c3),
            twice(s0),
            twice(s1),
            twice(s2),
            twice(s3),
            twice(s12),
            twice(s13),
            twice(s14),
            twice(s15),
            counters,
            u32x8::ZERO,
            twice(t0),
            twice(t1),
        ];
        let mut b_out = blocks8(&b_in);

        let mut out = nonce_words.map(|[_, _, _, _, t0, t1]| Prepared {
            stream: Stream {
                subkey: [0; 8],
                tail: [t0, t1],
            },
            poly_key: [0; 32],
            first: [0; 64],
        });
        let lo = u32x4::transpose([s0, s1, s2, s3]);
        let hi = u32x4::transpose([s12, s13, s14, s15]);
        for ((p, lo), hi) in out.iter_mut().zip(lo).zip(hi) {
            let words = lo.to_array().into_iter().chain(hi.to_array());
            for (w, x) in p.stream.subkey.iter_mut().zip(words) {
                *w = x;
            }
        }
        let [p0, p1, p2, p3] = &mut out;
        store_lanes(
            b_out.iter().map(|v| half(v, false)),
            [
                &mut p0.poly_key,
                &mut p1.poly_key,
                &mut p2.poly_key,
                &mut p3.poly_key,
            ],
        );
        store_lanes(
            b_out.iter().map(|v| half(v, true)),
            [&mut p0.first, &mut p1.first, &mut p2.first, &mut p3.first],
        );
        wipe(&mut h_out);
        wipe(&mut b_in);
        wipe(&mut b_out);
        out
    }

    /// [`Prepared`] for each of `nonces` under `key`, in order: on a CPU
    /// with AVX2, eight at a time by [`avx2::prepare`]; otherwise by
    /// [`prepare_wide`].
    pub(crate) fn prepare(key: &[u8; 32], nonces: &[&[u8; 24]]) -> Vec<Prepared> {
        #[cfg(target_arch = "x86_64")]
        if let Some(v) = avx2::token() {
            return avx2::prepare(v, key, nonces);
        }
        prepare_wide(key, nonces)
    }

    /// [`prepare`] without AVX2 (SSE2 on x86_64): four at a time by
    /// [`prepare4`]; a remainder of fewer than `PAD_FROM` values one at a
    /// time by [`Prepared::new`], a larger one by [`prepare4`] padded with
    /// repeats of its first nonce (the extra results are dropped).
    pub(crate) fn prepare_wide(key: &[u8; 32], nonces: &[&[u8; 24]]) -> Vec<Prepared> {
        let mut out = Vec::with_capacity(nonces.len());
        for group in nonces.chunks(4) {
            let Some(&pad) = group.first() else {
                continue;
            };
            if group.len() < PAD_FROM {
                out.extend(group.iter().map(|n| Prepared::new(key, n)));
                continue;
            }
            let four = std::array::from_fn(|i| group.get(i).copied().unwrap_or(pad));
            out.extend(prepare4(key, four).into_iter().take(group.len()));
        }
        out
    }

    /// Eight values at a time in the eight 32-bit lanes of AVX2 vectors,
    /// on CPUs that have AVX2 (detected at run time: the binary still runs
    /// on any x86_64). The same computation as [`prepare4`] (lane `i` is
    /// value `i`, word `k` of every state is vector `k`), with twice the
    /// lanes per instruction and the 16- and 8-bit rotations as one byte
    /// shuffle each. Safe code: `pulp`'s token proves the CPU support, and
    /// its `vectorize` runs [`Fill::call`] (everything below is
    /// `#[inline(always)]` into it) with the target features enabled.
    #[cfg(target_arch = "x86_64")]
    pub(crate) mod avx2 {
        use super::super::{words, SIGMA};
        use super::{prepare_wide, Prepared, Stream};
        use core::arch::x86_64::{__m256i, __m512i};
        use pulp::cast;
        use pulp::x86::{V3, V4};
        use zeroize::Zeroize;

        /// Proof that this CPU has AVX2 (and the rest of x86-64-v3), and
        /// AVX-512 if it has that too.
        #[derive(Clone, Copy)]
        pub(crate) struct Token {
            v3: V3,
            /// With AVX-512 (x86-64-v4), the same code is compiled for it:
            /// the 12- and 7-bit rotations become one instruction each
            /// (`vprold`) and 32 vector registers hold the state (81 -> 70
            /// ns a value for `prepare`, measured by the batch timing test).
            v4: Option<V4>,
        }

        #[cfg(test)]
        impl Token {
            /// This token without AVX-512: the AVX2 build of the code.
            pub(crate) fn without_avx512(self) -> Token {
                Token { v4: None, ..self }
            }

            pub(crate) fn has_avx512(self) -> bool {
                self.v4.is_some()
            }
        }

        /// The token, if this CPU has AVX2.
        pub(crate) fn token() -> Option<Token> {
            V3::try_new().map(|v3| Token {
                v3,
                v4: V4::try_new(),
            })
        }

        /// `pshufb` indices rotating each 32-bit lane left by `n` bytes.
        const fn rotation(n: usize) -> [u8; 32] {
            let mut m = [0u8; 32];
            let mut i = 0;
            while i < 32 {
                // Byte `j` of a little-endian word becomes byte `j + n`
                // (indices are within each 16-byte half).
                m[i] = (i % 16 - i % 4 + (i % 4 + 4 - n) % 4) as u8;
                i += 1;
            }
            m
        }
        const ROT16: [u8; 32] = rotation(2);
        const ROT8: [u8; 32] = rotation(1);

        /// What a keystream-start pass needs of a vector of 32-bit lanes
        /// and its instructions: eight lanes in AVX2 registers, sixteen in
        /// AVX-512 ones (lane `i` is value `i`, word `k` of every state is
        /// vector `k`). Everything is `#[inline(always)]` into the
        /// `vectorize` call that enables the target features.
        trait Simd: Copy {
            type V: Copy + Zeroize;
            /// `w` in every lane.
            fn splat(self, w: u32) -> Self::V;
            /// `words[i]` in lane `i` (as many as there are lanes).
            fn lanes(self, words: &[u32; 16]) -> Self::V;
            fn add(self, a: Self::V, b: Self::V) -> Self::V;
            fn quarter(self, q: [Self::V; 4]) -> [Self::V; 4];
        }

        /// AVX2: the 16- and 8-bit rotations as one byte shuffle each, the
        /// others as two shifts and an OR (compiled for AVX-512 where the
        /// CPU has it: then one `vprold` each).
        #[derive(Clone, Copy)]
        struct Avx2 {
            v: V3,
            rot16: __m256i,
            rot8: __m256i,
        }

        impl Avx2 {
            #[inline(always)]
            fn new(v: V3) -> Avx2 {
                Avx2 {
                    v,
                    rot16: cast(ROT16),
                    rot8: cast(ROT8),
                }
            }

            #[inline(always)]
            fn xor(self, a: __m256i, b: __m256i) -> __m256i {
                self.v.avx2._mm256_xor_si256(a, b)
            }

            /// Rotation by 12 or 7 bits: two shifts and an OR.
            #[inline(always)]
            fn rotl<const L: i32, const R: i32>(self, x: __m256i) -> __m256i {
                let a = self.v.avx2;
                a._mm256_or_si256(a._mm256_slli_epi32::<L>(x), a._mm256_srli_epi32::<R>(x))
            }
        }

        impl Simd for Avx2 {
            type V = __m256i;

            #[inline(always)]
            fn splat(self, w: u32) -> __m256i {
                cast([w; 8])
            }

            #[inline(always)]
            fn lanes(self, words: &[u32; 16]) -> __m256i {
                let [a, b, c, d, e, f, g, h, ..] = *words;
                cast([a, b, c, d, e, f, g, h])
            }

            #[inline(always)]
            fn add(self, a: __m256i, b: __m256i) -> __m256i {
                self.v.avx2._mm256_add_epi32(a, b)
            }

            #[inline(always)]
            fn quarter(self, [mut a, mut b, mut c, mut d]: [__m256i; 4]) -> [__m256i; 4] {
                let a2 = self.v.avx2;
                a = self.add(a, b);
                d = a2._mm256_shuffle_epi8(self.xor(d, a), self.rot16);
                c = self.add(c, d);
                b = self.rotl::<12, 20>(self.xor(b, c));
                a = self.add(a, b);
                d = a2._mm256_shuffle_epi8(self.xor(d, a), self.rot8);
                c = self.add(c, d);
                b = self.rotl::<7, 25>(self.xor(b, c));
                [a, b, c, d]
            }
        }

        /// AVX-512: sixteen lanes a vector (`zmm` registers), and every
        /// rotation one `vprold`. On a CPU whose vector units are a full 512
        /// bits wide (the benchmark machine's), a pass costs about what an
        /// eight-lane one does, for twice the values.
        #[derive(Clone, Copy)]
        struct Avx512(V4);

        impl Avx512 {
            /// `(d ^ a) <<< R`.
            #[inline(always)]
            fn xor_rol<const R: i32>(self, d: __m512i, a: __m512i) -> __m512i {
                let f = self.0.avx512f;
                f._mm512_rol_epi32::<R>(f._mm512_xor_si512(d, a))
            }
        }

        impl Simd for Avx512 {
            type V = __m512i;

            #[inline(always)]
            fn splat(self, w: u32) -> __m512i {
                cast([w; 16])
            }

            #[inline(always)]
            fn lanes(self, words: &[u32; 16]) -> __m512i {
                cast(*words)
            }

            #[inline(always)]
            fn add(self, a: __m512i, b: __m512i) -> __m512i {
                self.0.avx512f._mm512_add_epi32(a, b)
            }

            #[inline(always)]
            fn quarter(self, [mut a, mut b, mut c, mut d]: [__m512i; 4]) -> [__m512i; 4] {
                a = self.add(a, b);
                d = self.xor_rol::<16>(d, a);
                c = self.add(c, d);
                b = self.xor_rol::<12>(b, c);
                a = self.add(a, b);
                d = self.xor_rol::<8>(d, a);
                c = self.add(c, d);
                b = self.xor_rol::<7>(b, c);
                [a, b, c, d]
            }
        }

        /// The 20 ChaCha rounds over a state per lane.
        #[inline(always)]
        fn rounds<L: Simd>(l: L, s: [L::V; 16]) -> [L::V; 16] {
            let [mut x0, mut x1, mut x2, mut x3, mut x4, mut x5, mut x6, mut x7, mut x8, mut x9, mut x10, mut x11, mut x12, mut x13, mut x14, mut x15] =
                s;
            for _ in 0..10 {
                [x0, x4, x8, x12] = l.quarter([x0, x4, x8, x12]);
                [x1, x5, x9, x13] = l.quarter([x1, x5, x9, x13]);
                [x2, x6, x10, x14] = l.quarter([x2, x6, x10, x14]);
                [x3, x7, x11, x15] = l.quarter([x3, x7, x11, x15]);
                [x0, x5, x10, x15] = l.quarter([x0, x5, x10, x15]);
                [x1, x6, x11, x12] = l.quarter([x1, x6, x11, x12]);
                [x2, x7, x8, x13] = l.quarter([x2, x7, x8, x13]);
                [x3, x4, x9, x14] = l.quarter([x3, x4, x9, x14]);
            }
            [
                x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15,
            ]
        }

        /// A pass's results in four groups of eight vectors, word `k` of
        /// every lane's value in vector `k` of each: the subkeys
        /// (HChaCha20's words 0..4 and 12..16), the Poly1305 keys (block
        /// 0's words 0..8), block 1's words 0..8 and 8..16. Wiped on drop.
        struct Starts<V: Zeroize>([[V; 8]; 4]);

        impl<V: Zeroize> Drop for Starts<V> {
            fn drop(&mut self) {
                self.0.zeroize();
            }
        }

        /// HChaCha20 of every lane's nonce under `key`, then the blocks 0
        /// and 1 under each subkey: one pass each.
        #[inline(always)]
        fn starts<L: Simd, const N: usize>(
            l: L,
            key: &[u32; 8],
            nonces: &[[u32; 6]; N],
        ) -> Starts<L::V> {
            // Word `j` of every nonce, as lanes.
            let mut words = [[0u32; 16]; 6];
            for (i, n) in nonces.iter().enumerate() {
                for (lane, w) in words.iter_mut().zip(n) {
                    if let Some(x) = lane.get_mut(i) {
                        *x = *w;
                    }
                }
            }
            let [n0, n1, n2, n3, t0, t1] = words.map(|w| l.lanes(&w));
            let [c0, c1, c2, c3] = SIGMA.map(|w| l.splat(w));
            let [k0, k1, k2, k3, k4, k5, k6, k7] = key.map(|w| l.splat(w));
            let mut h_in = [
                c0, c1, c2, c3, k0, k1, k2, k3, k4, k5, k6, k7, n0, n1, n2, n3,
            ];
            let mut h_out = rounds(l, h_in);
            h_in.zeroize();
            let [s0, s1, s2, s3, _, _, _, _, _, _, _, _, s12, s13, s14, s15] = h_out;
            let zero = l.splat(0);
            let mut b_in = [
                c0, c1, c2, c3, s0, s1, s2, s3, s12, s13, s14, s15, zero, zero, t0, t1,
            ];
            // Block 0 (the Poly1305 keys: words 0..8).
            let mut b0 = rounds(l, b_in);
            for (x, i) in b0.iter_mut().zip(&b_in) {
                *x = l.add(*x, *i);
            }
            // Block 1.
            b_in[12] = l.splat(1);
            let mut b1 = rounds(l, b_in);
            for (x, i) in b1.iter_mut().zip(&b_in) {
                *x = l.add(*x, *i);
            }
            let [p0, p1, p2, p3, p4, p5, p6, p7, ..] = b0;
            let [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15] = b1;
            let starts = Starts([
                [s0, s1, s2, s3, s12, s13, s14, s15],
                [p0, p1, p2, p3, p4, p5, p6, p7],
                [f0, f1, f2, f3, f4, f5, f6, f7],
                [f8, f9, f10, f11, f12, f13, f14, f15],
            ]);
            h_out.zeroize();
            b_in.zeroize();
            b0.zeroize();
            b1.zeroize();
            starts
        }

        /// 8×8 transpose of 32-bit words: `rows[k]` lane `i` becomes
        /// `out[i]` lane `k`.
        #[inline(always)]
        fn transpose(v: V3, rows: &[__m256i; 8]) -> [__m256i; 8] {
            let a = v.avx2;
            let [r0, r1, r2, r3, r4, r5, r6, r7] = *rows;
            let (t0, t1) = (
                a._mm256_unpacklo_epi32(r0, r1),
                a._mm256_unpackhi_epi32(r0, r1),
            );
            let (t2, t3) = (
                a._mm256_unpacklo_epi32(r2, r3),
                a._mm256_unpackhi_epi32(r2, r3),
            );
            let (t4, t5) = (
                a._mm256_unpacklo_epi32(r4, r5),
                a._mm256_unpackhi_epi32(r4, r5),
            );
            let (t6, t7) = (
                a._mm256_unpacklo_epi32(r6, r7),
                a._mm256_unpackhi_epi32(r6, r7),
            );
            // `u0`: lanes 0 (low half) and 4 (high half) of rows 0..4.
            let (u0, u1) = (
                a._mm256_unpacklo_epi64(t0, t2),
                a._mm256_unpackhi_epi64(t0, t2),
            );
            let (u2, u3) = (
                a._mm256_unpacklo_epi64(t1, t3),
                a._mm256_unpackhi_epi64(t1, t3),
            );
            let (u4, u5) = (
                a._mm256_unpacklo_epi64(t4, t6),
                a._mm256_unpackhi_epi64(t4, t6),
            );
            let (u6, u7) = (
                a._mm256_unpacklo_epi64(t5, t7),
                a._mm256_unpackhi_epi64(t5, t7),
            );
            [
                a._mm256_permute2x128_si256::<0x20>(u0, u4),
                a._mm256_permute2x128_si256::<0x20>(u1, u5),
                a._mm256_permute2x128_si256::<0x20>(u2, u6),
                a._mm256_permute2x128_si256::<0x20>(u3, u7),
                a._mm256_permute2x128_si256::<0x31>(u0, u4),
                a._mm256_permute2x128_si256::<0x31>(u1, u5),
                a._mm256_permute2x128_si256::<0x31>(u2, u6),
                a._mm256_permute2x128_si256::<0x31>(u3, u7),
            ]
        }

        /// Eight values' words, transposed (`rows[g][i]`: value `i`'s
        /// words of group `g`), into `out`.
        #[inline(always)]
        fn store(rows: [&[__m256i; 8]; 4], out: &mut [Prepared]) {
            let [subkeys, poly_keys, first_lo, first_hi] = rows;
            for ((((p, s), k), lo), hi) in out
                .iter_mut()
                .zip(subkeys)
                .zip(poly_keys)
                .zip(first_lo)
                .zip(first_hi)
            {
                p.stream.subkey = cast(*s);
                p.poly_key = cast(*k);
                p.first = cast([*lo, *hi]);
            }
        }

        /// The whole of [`prepare8`] under the target features: fills
        /// `out` (whose tails are already set).
        struct Fill<'a> {
            v: V3,
            key: &'a [u32; 8],
            nonces: &'a [[u32; 6]; 8],
            out: &'a mut [Prepared; 8],
        }

        impl pulp::NullaryFnOnce for Fill<'_> {
            type Output = ();

            #[inline(always)]
            fn call(self) {
                let Fill {
                    v,
                    key,
                    nonces,
                    out,
                } = self;
                let starts = starts(Avx2::new(v), key, nonces);
                // (Called here, not through a closure: a closure is
                // compiled without the target features.)
                let [g0, g1, g2, g3] = &starts.0;
                let mut rows = [
                    transpose(v, g0),
                    transpose(v, g1),
                    transpose(v, g2),
                    transpose(v, g3),
                ];
                let [s, k, lo, hi] = &rows;
                store([s, k, lo, hi], out);
                rows.zeroize();
            }
        }

        /// `N` values, each with its nonce's last two words set, filled by
        /// `fill` (given the key's words and the nonces' words).
        #[inline(always)]
        fn prepare_with<const N: usize>(
            key: &[u8; 32],
            nonces: [&[u8; 24]; N],
            fill: impl FnOnce(&[u32; 8], &[[u32; 6]; N], &mut [Prepared; N]),
        ) -> [Prepared; N] {
            let nonce_words = nonces.map(|n| words::<6>(n));
            let mut out = nonce_words.map(|w| blank(&w));
            fill_in(key, &nonce_words, &mut out, fill);
            out
        }

        /// A value's [`Prepared`] with only its nonce's last two words set.
        fn blank(&[_, _, _, _, t0, t1]: &[u32; 6]) -> Prepared {
            Prepared {
                stream: Stream {
                    subkey: [0; 8],
                    tail: [t0, t1],
                },
                poly_key: [0; 32],
                first: [0; 64],
            }
        }

        /// Run `fill` on `out` with the key's words (wiped after).
        #[inline(always)]
        fn fill_in<const N: usize>(
            key: &[u8; 32],
            nonce_words: &[[u32; 6]; N],
            out: &mut [Prepared; N],
            fill: impl FnOnce(&[u32; 8], &[[u32; 6]; N], &mut [Prepared; N]),
        ) {
            let mut key_words = words::<8>(key);
            fill(&key_words, nonce_words, out);
            key_words.zeroize();
        }

        /// Eight values' [`Prepared`] under one key (lane `i` is value
        /// `i`): the eight HChaCha20s in one eight-lane pass, then the
        /// eight blocks 0 and the eight blocks 1 in one pass each.
        pub(crate) fn prepare8(t: Token, key: &[u8; 32], nonces: [&[u8; 24]; 8]) -> [Prepared; 8] {
            prepare_with(key, nonces, |key, nonces, out| {
                let fill = Fill {
                    v: t.v3,
                    key,
                    nonces,
                    out,
                };
                match t.v4 {
                    Some(v4) => v4.vectorize(fill),
                    None => t.v3.vectorize(fill),
                }
            })
        }

        /// `rows[k]` lane `i` as word `k` of value `i`: lanes 0..8 and
        /// 8..16 through the eight-lane transpose.
        #[inline(always)]
        fn transpose16(v: V3, rows: &[__m512i; 8]) -> [[__m256i; 8]; 2] {
            let halves: [[__m256i; 2]; 8] = rows.map(cast);
            let [[a0, a1], [b0, b1], [c0, c1], [d0, d1], [e0, e1], [f0, f1], [g0, g1], [h0, h1]] =
                halves;
            [
                transpose(v, &[a0, b0, c0, d0, e0, f0, g0, h0]),
                transpose(v, &[a1, b1, c1, d1, e1, f1, g1, h1]),
            ]
        }

        /// The whole of [`prepare16`] under the target features: fills
        /// `out` (whose tails are already set).
        struct Fill16<'a> {
            v: V4,
            key: &'a [u32; 8],
            nonces: &'a [[u32; 6]; 16],
            out: &'a mut [Prepared; 16],
        }

        impl pulp::NullaryFnOnce for Fill16<'_> {
            type Output = ();

            #[inline(always)]
            fn call(self) {
                let Fill16 {
                    v,
                    key,
                    nonces,
                    out,
                } = self;
                let v3: V3 = *v;
                let starts = starts(Avx512(v), key, nonces);
                let [g0, g1, g2, g3] = &starts.0;
                let mut rows = [
                    transpose16(v3, g0),
                    transpose16(v3, g1),
                    transpose16(v3, g2),
                    transpose16(v3, g3),
                ];
                let [[s0, s1], [k0, k1], [lo0, lo1], [hi0, hi1]] = &rows;
                let (first, second) = out.split_at_mut(8);
                store([s0, k0, lo0, hi0], first);
                store([s1, k1, lo1, hi1], second);
                rows.zeroize();
            }
        }

        /// Sixteen values' [`Prepared`] under one key (lane `i` is value
        /// `i`), on a CPU with AVX-512: as [`prepare8`], in sixteen lanes.
        pub(crate) fn prepare16(v4: V4, key: &[u8; 32], nonces: [&[u8; 24]; 16]) -> [Prepared; 16] {
            prepare_with(key, nonces, fill16(v4))
        }

        /// The sixteen-lane pass, as a `fill` for [`prepare_with`] and
        /// [`fill_in`].
        fn fill16(v4: V4) -> impl FnOnce(&[u32; 8], &[[u32; 6]; 16], &mut [Prepared; 16]) {
            move |key, nonces, out| {
                v4.vectorize(Fill16 {
                    v: v4,
                    key,
                    nonces,
                    out,
                })
            }
        }

        /// [`prepare16`] for the nonces `nonces`, the first `keep` of which
        /// are kept, appended to `out`: computed where they are kept (a
        /// `[Prepared; 16]` returned and moved into `out` was a copy of
        /// each value's 168 bytes; the extra ones are dropped, wiped).
        fn prepare16_into(
            v4: V4,
            key: &[u8; 32],
            nonces: [&[u8; 24]; 16],
            keep: usize,
            out: &mut Vec<Prepared>,
        ) {
            let nonce_words = nonces.map(|n| words::<6>(n));
            let base = out.len();
            out.extend(nonce_words.iter().map(blank));
            let slot = out
                .get_mut(base..)
                .and_then(|s| <&mut [Prepared; 16]>::try_from(s).ok());
            let Some(slot) = slot else {
                // (Cannot happen.) Never leave values unprepared.
                out.truncate(base);
                out.extend(prepare16(v4, key, nonces).into_iter().take(keep));
                return;
            };
            fill_in(key, &nonce_words, slot, fill16(v4));
            out.truncate(base + keep);
        }

        /// [`prepare`] pads a remainder of this many values or more to
        /// eight for [`prepare8`]; fewer go to [`prepare_wide`]. Measured:
        /// `prepare8` 84 ns a value (675 for eight, whether padded or not),
        /// `prepare4` 620 ns for four, `Prepared::new` 215 for one.
        const PAD_FROM: usize = 5;

        /// [`Prepared`] for each of `nonces` under `key`, in order: eight
        /// at a time by [`prepare8`]; a remainder of fewer than `PAD_FROM`
        /// as [`prepare_wide`] does, a larger one by [`prepare8`] padded
        /// with repeats of its first nonce (the extra results are dropped).
        pub(crate) fn prepare(t: Token, key: &[u8; 32], nonces: &[&[u8; 24]]) -> Vec<Prepared> {
            // Room for a padded group's extra values too.
            let mut out = Vec::with_capacity(nonces.len() + 16);
            let mut nonces = nonces;
            if let Some(v4) = t.v4 {
                // Sixteen at a time; a remainder of more than eight too,
                // padded (what is left goes to the eight-lane code).
                while nonces.len() > 8 {
                    let (group, rest) = nonces.split_at(nonces.len().min(16));
                    let Some(&pad) = group.first() else {
                        break;
                    };
                    let sixteen = std::array::from_fn(|i| group.get(i).copied().unwrap_or(pad));
                    prepare16_into(v4, key, sixteen, group.len(), &mut out);
                    nonces = rest;
                }
            }
            for group in nonces.chunks(8) {
                let Some(&pad) = group.first() else {
                    continue;
                };
                if group.len() < PAD_FROM {
                    out.extend(prepare_wide(key, group));
                    continue;
                }
                let eight = std::array::from_fn(|i| group.get(i).copied().unwrap_or(pad));
                out.extend(prepare8(t, key, eight).into_iter().take(group.len()));
            }
            out
        }
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

// As in sops-like-keys: a test's unwrap is its assertion.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::batch::{prepare, prepare4, prepare_wide, Prepared};
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
    /// The subkey of `stream`, as bytes.
    fn subkey_bytes(stream: &Stream) -> Vec<u8> {
        stream.subkey.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn hchacha20_test_vector() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let mut nonce = [0u8; 24];
        nonce[..16].copy_from_slice(&hex("000000090000004a0000000031415927"));
        let subkey = subkey_bytes(&Stream::new(&key, &nonce));
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

    /// The `chacha20poly1305` crate's ciphertext and tag.
    fn reference(
        key: &[u8; 32],
        nonce: &[u8; 24],
        aad: &[u8],
        plain: &[u8],
    ) -> (Vec<u8>, [u8; 16]) {
        let mut ct = plain.to_vec();
        let tag = XChaCha20Poly1305::new(key.into())
            .encrypt_inout_detached(nonce.into(), aad, InOutBuf::from(&mut ct[..]))
            .unwrap();
        (ct, tag.as_slice().try_into().unwrap())
    }

    fn key_and_nonces(seed: u64) -> ([u8; 32], [[u8; 24]; 4]) {
        let key = bytes(seed, 32).try_into().unwrap();
        let nonces = std::array::from_fn(|i| bytes(seed + 1 + i as u64, 24).try_into().unwrap());
        (key, nonces)
    }

    /// Four values sealed through `prepare4` (each lane its own nonce,
    /// length and AAD) give the ciphertexts and tags of `seal` and of the
    /// `chacha20poly1305` crate, and open what those produce, for every
    /// length up to 300 (around the 64-byte block and the `LONG` edge)
    /// and some long ones, under several keys.
    #[test]
    fn batch_agrees_with_seal_and_the_crate() {
        let lengths = (0..=300).chain([511, 1000, 4096, 5000]);
        for (round, len) in lengths.enumerate() {
            for aad_len in [0, 1, 15, 16, 17, 30, 40] {
                let seed = (round * 64 + aad_len) as u64 * 16;
                let (key, nonces) = key_and_nonces(seed);
                // Lane `i`: a different length and AAD, so that a mix-up
                // of lanes shows.
                let lens: [usize; 4] = std::array::from_fn(|i| (len + 37 * i) % 302);
                let aads: [Vec<u8>; 4] =
                    std::array::from_fn(|i| bytes(seed + 5 + i as u64, aad_len + i));
                let plains: [Vec<u8>; 4] =
                    std::array::from_fn(|i| bytes(seed + 9 + i as u64, lens[i]));
                let sealers = prepare4(&key, nonces.each_ref());
                let openers = prepare4(&key, nonces.each_ref());
                for (i, (sealer, opener)) in sealers.into_iter().zip(openers).enumerate() {
                    let (nonce, aad, plain) = (&nonces[i], &aads[i], &plains[i]);
                    let (theirs, their_tag) = reference(&key, nonce, aad, plain);
                    let mut ours = plain.clone();
                    let our_tag = sealer.seal(aad, &mut ours).unwrap();
                    assert_eq!(ours, theirs, "len {} lane {i}", plain.len());
                    assert_eq!(our_tag, their_tag, "len {} lane {i}", plain.len());
                    let mut single = plain.clone();
                    assert_eq!(seal(&key, nonce, aad, &mut single).unwrap(), our_tag);
                    assert_eq!(single, ours);
                    let mut back = theirs.clone();
                    opener.open(aad, &mut back, &their_tag).unwrap();
                    assert_eq!(&back, plain);
                    open(&key, nonce, aad, &mut ours, &our_tag).unwrap();
                    assert_eq!(&ours, plain);
                }
            }
        }
    }

    /// `prepare` gives, for any number of nonces (whole groups of four, a
    /// padded remainder or a lone one), what `Prepared::new` gives for each.
    #[test]
    fn prepare_matches_one_at_a_time() {
        let key = [3u8; 32];
        let nonces: Vec<[u8; 24]> = (0..11)
            .map(|i| bytes(100 + i, 24).try_into().unwrap())
            .collect();
        for n in 0..=nonces.len() {
            let refs: Vec<&[u8; 24]> = nonces.iter().take(n).collect();
            let batch = prepare(&key, &refs);
            assert_eq!(batch.len(), n);
            for (i, (prepared, nonce)) in batch.into_iter().zip(&refs).enumerate() {
                let plain = bytes(i as u64, 24 + i);
                let mut ours = plain.clone();
                let tag = prepared.seal(b"k:", &mut ours).unwrap();
                let mut theirs = plain.clone();
                let their_tag = Prepared::new(&key, nonce).seal(b"k:", &mut theirs).unwrap();
                assert_eq!((ours, tag), (theirs, their_tag), "{n} nonces, #{i}");
            }
        }
    }

    /// Every path of `prepare` that this CPU can run: the SSE2 one, and
    /// the AVX2 one where available (it must be on the benchmark and CI
    /// machines, or the test would check nothing new: see
    /// `avx2_path_is_tested`).
    fn paths() -> Vec<(&'static str, PrepareFn)> {
        let mut paths: Vec<(&'static str, PrepareFn)> = vec![("wide", Box::new(prepare_wide))];
        #[cfg(target_arch = "x86_64")]
        if let Some(v) = super::batch::avx2::token() {
            // For AVX2 alone, and where the CPU has AVX-512 the sixteen-lane
            // code with the AVX2 code compiled for AVX-512 for remainders.
            let avx2 = v.without_avx512();
            paths.push((
                "avx2",
                Box::new(move |key, nonces| super::batch::avx2::prepare(avx2, key, nonces)),
            ));
            if v.has_avx512() {
                paths.push((
                    "avx512",
                    Box::new(move |key, nonces| super::batch::avx2::prepare(v, key, nonces)),
                ));
            }
        }
        paths
    }
    type PrepareFn = Box<dyn Fn(&[u8; 32], &[&[u8; 24]]) -> Vec<Prepared>>;

    /// On x86_64 machines with AVX2 (where these tests run), the AVX2 path
    /// is among those tested, and the AVX-512 build of it where the CPU
    /// has AVX-512.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn avx2_path_is_tested() {
        let names: Vec<&str> = paths().into_iter().map(|(n, _)| n).collect();
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            assert!(names.contains(&"avx2"), "{names:?}");
        }
        if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vl") {
            assert!(names.contains(&"avx512"), "{names:?}");
        }
    }

    /// Each path of `prepare`, for every count of values from 0 to 40
    /// (whole groups of sixteen, eight and four, every remainder), gives what
    /// `Prepared::new` gives for each value: the subkey, the sealed text
    /// and tag of a value of one block and a half, and it opens them.
    #[test]
    fn every_path_matches_one_at_a_time_for_every_count() {
        let nonces: Vec<[u8; 24]> = (0..40)
            .map(|i| bytes(1000 + i, 24).try_into().unwrap())
            .collect();
        for (name, path) in paths() {
            for seed in [1u64, 2] {
                let key: [u8; 32] = bytes(seed, 32).try_into().unwrap();
                for n in 0..=nonces.len() {
                    let refs: Vec<&[u8; 24]> = nonces.iter().take(n).collect();
                    let sealers = path(&key, &refs);
                    let openers = path(&key, &refs);
                    assert_eq!(sealers.len(), n);
                    assert_eq!(openers.len(), n);
                    for (i, ((sealer, opener), nonce)) in
                        sealers.into_iter().zip(openers).zip(&refs).enumerate()
                    {
                        let single = Prepared::new(&key, nonce);
                        assert_eq!(
                            subkey_bytes(&sealer.stream),
                            subkey_bytes(&single.stream),
                            "{name}: {n} nonces, #{i}"
                        );
                        assert_eq!(sealer.stream.tail, single.stream.tail);
                        let plain = bytes(i as u64, 90 + i);
                        let aad = bytes(i as u64 + 7, i);
                        let mut ours = plain.clone();
                        let tag = sealer.seal(&aad, &mut ours).unwrap();
                        let mut theirs = plain.clone();
                        let their_tag = single.seal(&aad, &mut theirs).unwrap();
                        assert_eq!(
                            (&ours, tag),
                            (&theirs, their_tag),
                            "{name}: {n} nonces, #{i}"
                        );
                        let (reference_ct, reference_tag) = reference(&key, nonce, &aad, &plain);
                        assert_eq!((&ours, tag), (&reference_ct, reference_tag));
                        opener.open(&aad, &mut ours, &tag).unwrap();
                        assert_eq!(ours, plain, "{name}: {n} nonces, #{i}");
                    }
                }
            }
        }
    }

    /// draft-irtf-cfrg-xchacha-03 §2.2.1 and §A.3.1 through each path of
    /// `prepare`, the vector's nonce at each of 16 places in turn.
    #[test]
    fn test_vectors_through_every_path() {
        let aad = hex("50515253c0c1c2c3c4c5c6c7");
        let plain = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let key: [u8; 32] = std::array::from_fn(|i| 0x80 + i as u8);
        let nonce: [u8; 24] = std::array::from_fn(|i| 0x40 + i as u8);
        let hkey: [u8; 32] = std::array::from_fn(|i| i as u8);
        let mut hnonce = [0u8; 24];
        hnonce[..16].copy_from_slice(&hex("000000090000004a0000000031415927"));
        let other = [0x55u8; 24];
        let (expected, expected_tag) = reference(&key, &nonce, &aad, plain);
        assert_eq!(
            expected_tag.to_vec(),
            hex("c0875924c1c7987947deafd8780acf49")
        );
        for (name, path) in paths() {
            for place in 0..16 {
                let mut nonces = [&other; 16];
                nonces[place] = &hnonce;
                let subkey = subkey_bytes(&path(&hkey, &nonces)[place].stream);
                assert_eq!(
                    subkey,
                    hex("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"),
                    "{name} at {place}"
                );
                nonces[place] = &nonce;
                let mut buf = plain.to_vec();
                let prepared = path(&key, &nonces).into_iter().nth(place).unwrap();
                let tag = prepared.seal(&aad, &mut buf).unwrap();
                assert_eq!((&buf, tag), (&expected, expected_tag), "{name} at {place}");
            }
        }
    }

    /// draft-irtf-cfrg-xchacha-03 §2.2.1 and §A.3.1 through the four-lane
    /// path, the vector's nonce in each lane in turn: the HChaCha20 subkey,
    /// and the AEAD ciphertext and tag.
    #[test]
    fn test_vectors_through_the_batch() {
        let aad = hex("50515253c0c1c2c3c4c5c6c7");
        let plain = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let expected = hex(concat!(
            "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb",
            "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452",
            "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9",
            "21f9664c97637da9768812f615c68b13b52e",
        ));
        let key: [u8; 32] = std::array::from_fn(|i| 0x80 + i as u8);
        let nonce: [u8; 24] = std::array::from_fn(|i| 0x40 + i as u8);
        let hkey: [u8; 32] = std::array::from_fn(|i| i as u8);
        let mut hnonce = [0u8; 24];
        hnonce[..16].copy_from_slice(&hex("000000090000004a0000000031415927"));
        let other = [0x55u8; 24];
        for lane in 0..4 {
            let mut nonces = [&other; 4];
            nonces[lane] = &hnonce;
            let subkey = subkey_bytes(&prepare4(&hkey, nonces)[lane].stream);
            assert_eq!(
                subkey,
                hex("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc")
            );

            nonces[lane] = &nonce;
            let mut buf = plain.to_vec();
            let prepared = prepare4(&key, nonces).into_iter().nth(lane).unwrap();
            let tag = prepared.seal(&aad, &mut buf).unwrap();
            assert_eq!(buf, expected);
            assert_eq!(tag.to_vec(), hex("c0875924c1c7987947deafd8780acf49"));
            let opener = prepare4(&key, nonces).into_iter().nth(lane).unwrap();
            opener.open(&aad, &mut buf, &tag).unwrap();
            assert_eq!(buf, plain);
        }
    }

    /// Through the batch path too, any changed bit of ciphertext, tag or
    /// AAD, or another nonce, fails and leaves the buffer as it was, for a
    /// short value and one past the first block.
    #[test]
    fn batch_tampering_fails_without_touching_the_buffer() {
        let (key, nonces) = key_and_nonces(7);
        for plain in [&b"a secret value"[..], &[0xA5; 100]] {
            let mut ct = plain.to_vec();
            let [_, _, sealer, _] = prepare4(&key, nonces.each_ref());
            let tag = sealer.seal(b"a:b:", &mut ct).unwrap();
            for i in 0..ct.len() * 8 {
                let mut bad = ct.clone();
                bad[i / 8] ^= 1 << (i % 8);
                let before = bad.clone();
                let [_, _, opener, _] = prepare4(&key, nonces.each_ref());
                assert_eq!(opener.open(b"a:b:", &mut bad, &tag), Err(AuthError));
                assert_eq!(bad, before);
            }
            for i in 0..128 {
                let mut bad_tag = tag;
                bad_tag[i / 8] ^= 1 << (i % 8);
                let mut buf = ct.clone();
                let [_, _, opener, _] = prepare4(&key, nonces.each_ref());
                assert!(opener.open(b"a:b:", &mut buf, &bad_tag).is_err());
                assert_eq!(buf, ct);
            }
            let [first, _, opener, _] = prepare4(&key, nonces.each_ref());
            let mut buf = ct.clone();
            assert!(opener.open(b"a:c:", &mut buf, &tag).is_err());
            assert_eq!(buf, ct);
            assert!(first.open(b"a:b:", &mut buf, &tag).is_err());
            assert_eq!(buf, ct);
            let [_, _, opener, _] = prepare4(&key, nonces.each_ref());
            opener.open(b"a:b:", &mut buf, &tag).unwrap();
            assert_eq!(buf, plain);
        }
    }

    /// Timing, not a check: ns per value to seal a 24-byte value with a
    /// 30-byte AAD one at a time and through the batch (through each path
    /// of `prepare` for batches of 32), and the parts.
    /// `cargo test --release -p sops-like-format -- --ignored --nocapture
    /// xchacha_batch_timing`
    #[test]
    #[ignore]
    fn xchacha_batch_timing() {
        use std::hint::black_box;
        use std::time::Instant;
        const N: usize = 4096;
        let key = [7u8; 32];
        let nonces: Vec<[u8; 24]> = (0..N as u64)
            .map(|i| bytes(i, 24).try_into().unwrap())
            .collect();
        let refs: Vec<&[u8; 24]> = nonces.iter().collect();
        let aad = [b'a'; 30];
        let mut buf = [0x42u8; 24];
        let time = |name: &str, f: &mut dyn FnMut()| {
            let mut best = f64::MAX;
            for _ in 0..30 {
                let t = Instant::now();
                f();
                best = best.min(t.elapsed().as_nanos() as f64 / N as f64);
            }
            println!("{name:<44} {best:6.1} ns/value");
        };
        time("seal (one value at a time)", &mut || {
            for n in &nonces {
                black_box(seal(&key, black_box(n), &aad, &mut buf).unwrap());
            }
        });
        time("prepare4 + Prepared::seal", &mut || {
            for four in refs.chunks_exact(4) {
                let four: [&[u8; 24]; 4] = four.try_into().unwrap();
                for p in prepare4(&key, black_box(four)) {
                    black_box(p.seal(&aad, &mut buf).unwrap());
                }
            }
        });
        time("prepare (whole slice) + Prepared::seal", &mut || {
            for p in prepare(&key, black_box(&refs)) {
                black_box(p.seal(&aad, &mut buf).unwrap());
            }
        });
        time("Prepared::new + Prepared::seal", &mut || {
            for n in &nonces {
                black_box(
                    Prepared::new(&key, black_box(n))
                        .seal(&aad, &mut buf)
                        .unwrap(),
                );
            }
        });
        let (cts, tags): (Vec<[u8; 24]>, Vec<[u8; 16]>) = nonces
            .iter()
            .map(|n| {
                let mut ct = buf;
                let tag = seal(&key, n, &aad, &mut ct).unwrap();
                (ct, tag)
            })
            .unzip();
        time("open (one value at a time)", &mut || {
            for ((n, ct), tag) in nonces.iter().zip(&cts).zip(&tags) {
                let mut b = *ct;
                open(&key, n, &aad, &mut b, tag).unwrap();
                black_box(b);
            }
        });
        time("prepare + Prepared::open", &mut || {
            for ((p, ct), tag) in prepare(&key, black_box(&refs))
                .into_iter()
                .zip(&cts)
                .zip(&tags)
            {
                let mut b = *ct;
                p.open(&aad, &mut b, tag).unwrap();
                black_box(b);
            }
        });
        // What the files' values take: batches of 32, their tags eight at
        // a time in Poly1305 lanes.
        time("prepare of 32 + seal_all", &mut || {
            for group in refs.chunks_exact(32) {
                let mut bufs = [buf; 32];
                let mut slices: Vec<&mut [u8]> = bufs.iter_mut().map(|b| &mut b[..]).collect();
                let aads = [&aad[..]; 32];
                black_box(batch::seal_all(prepare(&key, group), &aads, &mut slices).unwrap());
            }
        });
        // The callers' batches: 32 values at a time, through each path.
        for (name, path) in paths() {
            time(
                &format!("  part: prepare of 32 ({name}), per value"),
                &mut || {
                    for group in refs.chunks_exact(32) {
                        black_box(path(&key, black_box(group)));
                    }
                },
            );
            time(
                &format!("prepare of 32 ({name}) + Prepared::seal"),
                &mut || {
                    for group in refs.chunks_exact(32) {
                        for p in path(&key, black_box(group)) {
                            black_box(p.seal(&aad, &mut buf).unwrap());
                        }
                    }
                },
            );
            time(
                &format!("prepare of 32 ({name}) + Prepared::open"),
                &mut || {
                    for ((group, cts), tags) in refs
                        .chunks_exact(32)
                        .zip(cts.chunks_exact(32))
                        .zip(tags.chunks_exact(32))
                    {
                        for ((p, ct), tag) in
                            path(&key, black_box(group)).into_iter().zip(cts).zip(tags)
                        {
                            let mut b = *ct;
                            p.open(&aad, &mut b, tag).unwrap();
                            black_box(b);
                        }
                    }
                },
            );
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(v) = super::batch::avx2::token() {
            for k in 5..=8 {
                time(
                    &format!("  part: prepare8 for {k} (padded), per value"),
                    &mut || {
                        for group in refs.chunks_exact(k) {
                            let eight =
                                std::array::from_fn(|i| group.get(i).copied().unwrap_or(group[0]));
                            black_box(super::batch::avx2::prepare8(v, &key, black_box(eight)));
                        }
                    },
                );
            }
        }
        time("  part: Prepared::new alone", &mut || {
            for n in &nonces {
                black_box(Prepared::new(&key, black_box(n)));
            }
        });
        time("  part: prepare4 alone (per value)", &mut || {
            for four in refs.chunks_exact(4) {
                let four: [&[u8; 24]; 4] = four.try_into().unwrap();
                black_box(prepare4(&key, black_box(four)));
            }
        });
        for k in 1..=4 {
            time(
                &format!("  part: prepare4 for {k} (padded), per value"),
                &mut || {
                    for group in refs.chunks_exact(k) {
                        let four =
                            std::array::from_fn(|i| group.get(i).copied().unwrap_or(group[0]));
                        black_box(prepare4(&key, black_box(four)));
                    }
                },
            );
        }
        time("  part: Poly1305 (54 bytes) alone", &mut || {
            for _ in 0..N {
                black_box(authenticator(black_box(&[1u8; 32]), &aad, black_box(&buf)).finalize());
            }
        });
    }
}
