//! Standard padded base64 (RFC 4648 §4) for the short fields of `ENC[…]`
//! values: the `base64-simd` crate (SIMD, detected at run time; already
//! in the tree through the AWS SDK), without the `base64` crate's per-call
//! setup.
//!
//! A sops value's data, nonce and tag are a few dozen bytes each, and a
//! large file has hundreds of thousands of them: the `base64` engine was
//! 12% of a 100,000-value .env decryption's CPU and 5% of its encryption's
//! (`perf record`). Per field of 16 to 28 bytes: decoding 11 ns against
//! 20 for `base64`, encoding 6 ns against 20 (release loop, this machine).
//!
//! Decoding accepts only what the `base64` crate's `STANDARD` engine
//! accepts (canonical padding, no trailing bits) and gives the same bytes
//! (tested against it); anything else is `None`, and the caller asks the
//! `base64` crate, so that every error stays that crate's.

use base64_simd::{Out, STANDARD};

/// Append the padded base64 text of `input` to `out`.
pub(crate) fn encode_into(input: &[u8], out: &mut String) {
    STANDARD.encode_append(input, out);
}

/// The bytes of the padded base64 `text`, appended to `out`; `None` (and
/// `out` as it was) unless `text` is canonical standard base64.
pub(crate) fn decode_into(text: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let len = STANDARD.decoded_length(text).ok()?;
    let start = out.len();
    out.resize(start + len, 0);
    let decoded = out
        .get_mut(start..)
        .and_then(|dst| STANDARD.decode(text, Out::from_slice(dst)).ok())
        .map(drop);
    if decoded.is_none() {
        out.truncate(start);
    }
    decoded
}

/// [`decode_into`] into `buf`: the length written, `None` if `text` is not
/// canonical standard base64 or does not fit.
pub(crate) fn decode_to_slice(text: &[u8], buf: &mut [u8]) -> Option<usize> {
    let len = STANDARD.decoded_length(text).ok()?;
    // Exactly as long as the bytes: `decode` panics on a shorter buffer.
    let dst = buf.get_mut(..len)?;
    STANDARD
        .decode(text, Out::from_slice(dst))
        .ok()
        .map(|d| d.len())
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

        /// Near-valid texts (one character of a valid one changed): the
        /// cases where a lax decoder would take what the crate refuses.
        #[test]
        fn agrees_with_the_crate_near_valid_texts(
            bytes in proptest::collection::vec(any::<u8>(), 0..40),
            at in any::<usize>(),
            to in proptest::sample::select(b"AQgw/+=9zB".to_vec()),
        ) {
            let mut text = STANDARD.encode(&bytes).into_bytes();
            if !text.is_empty() {
                let i = at % text.len();
                text[i] = to;
            }
            let text = String::from_utf8(text).unwrap();
            match STANDARD.decode(&text) {
                Ok(decoded) => prop_assert_eq!(ours(&text), Some(decoded)),
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
