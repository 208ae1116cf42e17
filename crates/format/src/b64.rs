//! Standard padded base64 (RFC 4648 §4) for the short fields of `ENC[…]`
//! values, without the `base64` crate's per-call setup.
//!
//! A sops value's data, nonce and tag are a few dozen bytes each, and a
//! large file has hundreds of thousands of them: the `base64` engine's
//! per-call work (its chunked encoder, its decode suffix handling) was 12%
//! of a 100,000-value .env decryption's CPU and 5% of its encryption's
//! (`perf record`). These loops do the same job with one table lookup per
//! character.
//!
//! Decoding accepts only what the `base64` crate's `STANDARD` engine
//! accepts (canonical padding, no trailing bits) and gives the same bytes
//! (tested against it); anything else is `None`, and the caller asks the
//! crate, so that every error stays the crate's.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Not a base64 digit.
const INVALID: u8 = 0xff;

/// Each byte's digit value, or [`INVALID`].
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Input bytes encoded per stack buffer (a multiple of 3).
const ENCODE_CHUNK: usize = 96;

/// Append the padded base64 text of `input` to `out`.
pub(crate) fn encode_into(input: &[u8], out: &mut String) {
    out.reserve(input.len().div_ceil(3) * 4);
    let mut text = [0u8; ENCODE_CHUNK / 3 * 4];
    for chunk in input.chunks(ENCODE_CHUNK) {
        let len = encode_chunk(chunk, &mut text);
        // Base64 digits are ASCII: this never fails.
        if let Some(Ok(digits)) = text.get(..len).map(std::str::from_utf8) {
            out.push_str(digits);
        }
    }
}

/// Encode `input` (at most [`ENCODE_CHUNK`] bytes) into `text`; the length
/// written.
fn encode_chunk(input: &[u8], text: &mut [u8; ENCODE_CHUNK / 3 * 4]) -> usize {
    let digit = |n: u32| ALPHABET[(n & 63) as usize];
    let mut quads = text.chunks_exact_mut(4);
    let mut triples = input.chunks_exact(3);
    let mut len = 0;
    for (t, q) in (&mut triples).zip(&mut quads) {
        let n = u32::from(t[0]) << 16 | u32::from(t[1]) << 8 | u32::from(t[2]);
        q.copy_from_slice(&[digit(n >> 18), digit(n >> 12), digit(n >> 6), digit(n)]);
        len += 4;
    }
    let last = match *triples.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            [digit(n >> 18), digit(n >> 12), b'=', b'=']
        }
        [a, b] => {
            let n = u32::from(a) << 16 | u32::from(b) << 8;
            [digit(n >> 18), digit(n >> 12), digit(n >> 6), b'=']
        }
        _ => return len,
    };
    if let Some(q) = quads.next() {
        q.copy_from_slice(&last);
        len += 4;
    }
    len
}

/// The length of the bytes of `text`, if it has the shape of padded
/// base64 (a multiple of four, at most two `=` at the end).
fn decoded_len(text: &[u8]) -> Option<usize> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let pad = match text {
        [.., b'=', b'='] => 2,
        [.., b'='] => 1,
        _ => 0,
    };
    Some(text.len() / 4 * 3 - pad)
}

/// The bytes of the padded base64 `text`, appended to `out`; `None` (and
/// `out` as it was) unless `text` is canonical standard base64.
pub(crate) fn decode_into(text: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let len = decoded_len(text)?;
    let start = out.len();
    out.resize(start + len, 0);
    let decoded = out.get_mut(start..).and_then(|dst| decode_exact(text, dst));
    if decoded.is_none() {
        out.truncate(start);
    }
    decoded
}

/// [`decode_into`] into `buf`: the length written, `None` if `text` is not
/// canonical standard base64 or does not fit.
pub(crate) fn decode_to_slice(text: &[u8], buf: &mut [u8]) -> Option<usize> {
    let len = decoded_len(text)?;
    decode_exact(text, buf.get_mut(..len)?)?;
    Some(len)
}

/// Decode `text` into `dst`, which is exactly as long as its bytes (see
/// [`decoded_len`]); `None` if `text` is not canonical.
fn decode_exact(text: &[u8], dst: &mut [u8]) -> Option<()> {
    let Some(body_len) = text.len().checked_sub(4) else {
        return text.is_empty().then_some(());
    };
    let (body, last) = text.split_at(body_len);
    let (full, tail) = dst.split_at_mut(body_len / 4 * 3);
    let mut bad = 0u8;
    for (quad, out) in body.chunks_exact(4).zip(full.chunks_exact_mut(3)) {
        let (n, b) = sextets([quad[0], quad[1], quad[2], quad[3]]);
        bad |= b;
        out.copy_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let (n, b, rest) = match *last {
        [a, b, b'=', b'='] => {
            let (n, bad) = sextets([a, b, b'A', b'A']);
            // The bits after the last byte must be zero.
            (n, bad, n & 0xffff)
        }
        [a, b, c, b'='] => {
            let (n, bad) = sextets([a, b, c, b'A']);
            (n, bad, n & 0xff)
        }
        [a, b, c, d] => {
            let (n, bad) = sextets([a, b, c, d]);
            (n, bad, 0)
        }
        _ => return None,
    };
    let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
    tail.copy_from_slice(bytes.get(..tail.len())?);
    (bad | b == 0 && rest == 0).then_some(())
}

/// The 24 bits of four base64 digits, and a nonzero flag if one is not a
/// digit.
fn sextets(quad: [u8; 4]) -> (u32, u8) {
    let d = quad.map(|c| DECODE[usize::from(c)]);
    let n = u32::from(d[0] & 63) << 18
        | u32::from(d[1] & 63) << 12
        | u32::from(d[2] & 63) << 6
        | u32::from(d[3] & 63);
    ((n), (d[0] | d[1] | d[2] | d[3]) & 0xc0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use proptest::prelude::*;

    fn ours(text: &str) -> Option<Vec<u8>> {
        let mut out = vec![9];
        let r = decode_into(text.as_bytes(), &mut out).map(|()| out[1..].to_vec());
        if r.is_none() {
            assert_eq!(out, [9], "a failed decode leaves the buffer as it was");
        }
        r
    }

    #[test]
    fn encodes_as_the_base64_crate() {
        for len in 0..200 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
            let mut out = String::from("x");
            encode_into(&bytes, &mut out);
            assert_eq!(out[1..], STANDARD.encode(&bytes), "len {len}");
        }
    }

    #[test]
    fn decodes_what_it_encodes() {
        for len in 0..100 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 91 + 7) as u8).collect();
            let text = STANDARD.encode(&bytes);
            assert_eq!(ours(&text).unwrap(), bytes);
            let mut buf = [0u8; 100];
            assert_eq!(decode_to_slice(text.as_bytes(), &mut buf), Some(len));
            assert_eq!(buf[..len], bytes[..]);
        }
    }

    /// Texts the crate refuses are refused here too; so are a few it
    /// takes that the fast path leaves to it (none among these).
    #[test]
    fn refuses_what_the_crate_refuses() {
        for text in [
            "A",
            "AB",
            "ABC",
            "AB=",
            "A===",
            "AB=A",
            "ABC=A===",
            "QR==",
            "QUJ=",
            "QUI=x",
            "QU I",
            "QU\nI=",
            "====",
            "=AAA",
            "AA=A",
            "QUJD\n",
            "QUJD====",
            "QUJ\u{e9}",
        ] {
            assert!(STANDARD.decode(text).is_err(), "{text:?}");
            assert_eq!(ours(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_slice_too_short_is_refused() {
        let mut buf = [0u8; 2];
        assert_eq!(decode_to_slice(b"QUJD", &mut buf), None);
        assert_eq!(decode_to_slice(b"QUI=", &mut buf), Some(2));
    }

    proptest! {
        /// Same result as the crate on any text of base64-ish characters:
        /// the same bytes, or both refusing (the fast path never takes a
        /// text the crate refuses).
        #[test]
        fn agrees_with_the_crate(text in "[A-Za-z0-9+/=\\-_ ]{0,40}") {
            match STANDARD.decode(&text) {
                Ok(bytes) => {
                    if let Some(o) = ours(&text) {
                        prop_assert_eq!(o, bytes);
                    }
                }
                Err(_) => prop_assert_eq!(ours(&text), None),
            }
        }

        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let mut text = String::new();
            encode_into(&bytes, &mut text);
            prop_assert_eq!(&text, &STANDARD.encode(&bytes));
            prop_assert_eq!(ours(&text), Some(bytes));
        }
    }
}
