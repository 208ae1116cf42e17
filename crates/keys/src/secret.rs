//! Reading secrets (unwrapped data keys and Shamir shares, decrypted
//! identity files, key service answers) into buffers that leave no copy
//! behind.
//!
//! A `Vec` that grows past its capacity moves to a bigger allocation and
//! frees the old one as it is: `Read::read_to_end` into an empty `Vec`, or
//! `extend_from_slice` chunk by chunk, leaves a copy of what was read so
//! far in every allocation it leaves, even when the final `Vec` is wiped.
//! These buffers grow by hand instead, as the format crate's
//! `wipe::SecretBytes` does: a bigger `Zeroizing` buffer, the bytes copied
//! over, and the old one wiped as it drops.

use std::io::{self, Read};

use zeroize::Zeroizing;

/// The least room a buffer grows to: a data key (32 bytes) or a share
/// (33) fits in it.
const MIN_ROOM: usize = 64;

/// The most [`read_to_end`] asks of a reader at a time: the room it reads
/// into is zeroed first, so a read into a large buffer does not zero all
/// of its spare room each time.
const READ_CHUNK: usize = 64 * 1024;

/// Make room in `buf` for `additional` more bytes: a bigger buffer (at
/// least twice the size), the bytes copied over, the old one wiped.
fn reserve(buf: &mut Zeroizing<Vec<u8>>, additional: usize) {
    if buf.capacity() - buf.len() < additional {
        let wanted = (buf.capacity() * 2)
            .max(buf.len() + additional)
            .max(MIN_ROOM);
        let mut bigger = Zeroizing::new(Vec::with_capacity(wanted));
        bigger.extend_from_slice(buf);
        // The old buffer is wiped as it drops.
        *buf = bigger;
    }
}

/// Append `bytes` to `buf`.
pub(crate) fn extend(buf: &mut Zeroizing<Vec<u8>>, bytes: &[u8]) {
    reserve(buf, bytes.len());
    buf.extend_from_slice(bytes);
}

/// `Read::read_to_end` into `buf`, read straight into its room and grown by
/// hand. As `read_to_end`, what was read before an error stays in `buf`.
pub(crate) fn read_to_end(
    reader: &mut dyn Read,
    buf: &mut Zeroizing<Vec<u8>>,
) -> io::Result<usize> {
    let start = buf.len();
    // The bytes read end at `filled`; those after it, up to the length,
    // are zeroed room to read into.
    let mut filled = start;
    let result = loop {
        if filled == buf.len() {
            if buf.len() == buf.capacity() {
                reserve(buf, 1);
            }
            let room = (buf.capacity() - filled).min(READ_CHUNK);
            buf.resize(filled + room, 0);
        }
        let read = match buf.get_mut(filled..) {
            Some(room) => reader.read(room),
            None => Ok(0),
        };
        match read {
            Ok(0) => break Ok(filled - start),
            Ok(n) => filled = (filled + n).min(buf.len()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    buf.truncate(filled);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives at most `step` bytes a read.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            let (now, rest) = self.data.split_at(n);
            buf[..n].copy_from_slice(now);
            self.data = rest;
            Ok(n)
        }
    }

    #[test]
    fn everything_is_read_in_order() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        for step in [1, 5, 4096, usize::MAX] {
            let mut buf = Zeroizing::new(b"head".to_vec());
            let mut reader = Trickle { data: &data, step };
            assert_eq!(read_to_end(&mut reader, &mut buf).unwrap(), data.len());
            assert_eq!(&buf[..4], b"head");
            assert!(buf[4..] == data[..], "step {step}");
        }
    }

    /// A data key or a share is read into the first buffer, which is
    /// never reallocated (`read_to_end` into an empty `Vec` reallocated
    /// it after the first 32 bytes, leaving them behind).
    #[test]
    fn a_key_is_read_without_reallocating() {
        for len in [32, 33] {
            let key = vec![9u8; len];
            let mut buf = Zeroizing::new(Vec::new());
            let mut reader = Trickle {
                data: &key,
                step: 32,
            };
            reserve(&mut buf, 1);
            let first = buf.as_ptr();
            read_to_end(&mut reader, &mut buf).unwrap();
            assert_eq!(buf.as_ptr(), first);
            assert_eq!(buf.as_slice(), key.as_slice());
        }
    }

    #[test]
    fn extend_appends() {
        let mut buf = Zeroizing::new(Vec::new());
        for i in 0..1000u32 {
            extend(&mut buf, &i.to_le_bytes());
        }
        assert_eq!(buf.len(), 4000);
        assert_eq!(&buf[4..8], &1u32.to_le_bytes());
    }
}
