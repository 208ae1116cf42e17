//! Wiping large plaintext buffers fast.
//!
//! `zeroize` wipes a `Vec` with one volatile write per byte: a few MB of
//! plaintext took milliseconds. A plain `memset` is as good when the
//! compiler must keep it, which `zeroize::optimization_barrier` (the
//! zeroize crate's own tool for this) makes sure of.
//!
//! A `Vec` or `String` that grows past its capacity moves to a bigger
//! allocation and frees the old one as it is, so wiping the final buffer
//! leaves every earlier copy behind: buffers that grow while they hold
//! plaintext grow by hand here ([`SecretBytes`]).

use std::io::{self, Read};

/// Set every byte of `bytes` to zero, with writes the compiler cannot drop
/// (for memory that is not a `Vec`'s, e.g. a mapping).
pub fn wipe_slice(bytes: &mut [u8]) {
    bytes.fill(0);
    zeroize::optimization_barrier(&*bytes);
}

/// Set every byte of `bytes`' allocation to zero (its spare capacity too)
/// and leave it empty, with writes the compiler cannot drop.
pub fn wipe(bytes: &mut Vec<u8>) {
    let capacity = bytes.capacity();
    bytes.clear();
    bytes.resize(capacity, 0);
    zeroize::optimization_barrier(bytes.as_slice());
    bytes.clear();
}

/// [`wipe`] for a `String`: its allocation is wiped and it is left empty,
/// with no allocation.
pub fn wipe_string(text: &mut String) {
    if text.capacity() > 0 {
        wipe(&mut std::mem::take(text).into_bytes());
    }
}

/// A growing buffer of plaintext: grown by hand, so that no reallocation
/// leaves a copy behind, and wiped (see [`wipe`]) when dropped.
#[derive(Default)]
pub struct SecretBytes(Vec<u8>);

/// The most [`SecretBytes::read_to_end`] asks of a reader at a time: the
/// spare room it reads into is zeroed first, so a read into a large
/// buffer does not zero all of its spare room each time.
const READ_CHUNK: usize = 64 * 1024;

impl SecretBytes {
    /// Empty, with room for `capacity` bytes (so that filling it up to
    /// that needs no copy).
    pub fn with_capacity(capacity: usize) -> SecretBytes {
        SecretBytes(Vec::with_capacity(capacity))
    }

    /// Make room for `additional` more bytes: a bigger allocation (at least
    /// twice the size), the bytes copied over, the old one wiped.
    fn reserve(&mut self, additional: usize) {
        if self.0.capacity() - self.0.len() < additional {
            let wanted = (self.0.capacity() * 2)
                .max(self.0.len() + additional)
                .max(256);
            let mut bigger = Vec::with_capacity(wanted);
            bigger.extend_from_slice(&self.0);
            wipe(&mut self.0);
            self.0 = bigger;
        }
    }

    /// Append `bytes`.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.reserve(bytes.len());
        self.0.extend_from_slice(bytes);
    }

    /// Read `reader` to its end and append what it gives, straight into
    /// the buffer's spare room (grown as [`SecretBytes::extend`] grows
    /// it): `Read::read_to_end` into a `Vec` lets the `Vec` grow, which
    /// leaves a copy of what was read so far in every allocation it
    /// leaves. Returns how many bytes were read.
    pub fn read_to_end(&mut self, reader: &mut dyn Read) -> io::Result<usize> {
        let start = self.0.len();
        // The bytes read end at `filled`; those after it, up to the length,
        // are zeroed room to read into.
        let mut filled = start;
        let result = loop {
            if filled == self.0.len() {
                if self.0.len() == self.0.capacity() {
                    self.reserve(1);
                }
                let room = (self.0.capacity() - filled).min(READ_CHUNK);
                self.0.resize(filled + room, 0);
            }
            let read = match self.0.get_mut(filled..) {
                Some(room) => reader.read(room),
                None => Ok(0),
            };
            match read {
                Ok(0) => break Ok(filled - start),
                Ok(n) => filled = (filled + n).min(self.0.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        self.0.truncate(filled);
        result
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// How many bytes it holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes, moved out as they are (no copy): wiping them is the
    /// caller's business from here on (e.g. a `zeroize::Zeroizing`).
    pub fn into_vec(mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }

    /// Wipe what it holds (see [`wipe`]) and empty it, keeping its
    /// allocation for what comes next.
    pub fn clear(&mut self) {
        wipe(&mut self.0);
    }
}

/// [`SecretBytes`] for text: a document or value being written out (an
/// emitter's output, a value's lexeme) grows by hand, leaving no copy of
/// what it held in the allocations it leaves, and is wiped when dropped.
#[derive(Default)]
pub(crate) struct SecretText(String);

impl SecretText {
    /// An empty text with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> SecretText {
        SecretText(String::with_capacity(capacity))
    }

    /// Make room for `additional` more bytes (see [`SecretBytes`]).
    fn reserve(&mut self, additional: usize) {
        if self.0.capacity() - self.0.len() < additional {
            // No least size: a text written at once (a key, a value
            // without escapes) takes no more room than a `String` would.
            let wanted = (self.0.capacity() * 2).max(self.0.len() + additional);
            let mut bigger = String::with_capacity(wanted);
            bigger.push_str(&self.0);
            wipe_string(&mut self.0);
            self.0 = bigger;
        }
    }

    /// Append `text`.
    pub(crate) fn push_str(&mut self, text: &str) {
        self.reserve(text.len());
        self.0.push_str(text);
    }

    /// Append `c`.
    pub(crate) fn push(&mut self, c: char) {
        self.reserve(c.len_utf8());
        self.0.push(c);
    }

    /// Remove the last character (the room stays, and is wiped with the
    /// rest).
    pub(crate) fn pop(&mut self) -> Option<char> {
        self.0.pop()
    }

    /// The text, moved out as it is (no copy): wiping it is the caller's
    /// business from here on.
    pub(crate) fn into_string(mut self) -> String {
        std::mem::take(&mut self.0)
    }
}

/// A text taken as it is, to be wiped when dropped.
impl From<String> for SecretText {
    fn from(text: String) -> SecretText {
        SecretText(text)
    }
}

impl AsRef<str> for SecretText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for SecretText {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// Writing appends (see [`SecretText::push_str`]).
impl std::fmt::Write for SecretText {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.push_str(text);
        Ok(())
    }
}

impl Drop for SecretText {
    fn drop(&mut self) {
        wipe_string(&mut self.0);
    }
}

/// Writing appends (see [`SecretBytes::extend`]).
impl io::Write for SecretBytes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.extend(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
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

    /// A text grows by hand: its bytes are kept, and an append that fits
    /// keeps the allocation.
    #[test]
    fn wipe_slice_zeroes_every_byte() {
        let mut bytes = *b"secret";
        wipe_slice(&mut bytes);
        assert_eq!(bytes, [0; 6]);
    }

    #[test]
    fn secret_text_keeps_what_is_appended() {
        use std::fmt::Write;
        let mut t = SecretText::default();
        for i in 0..1000u32 {
            t.push_str("ab");
            t.push('é');
            write!(t, "{}", i % 10).unwrap();
        }
        assert_eq!(t.len(), 5000);
        assert!(t.starts_with("abé0abé1"));
        let mut sized = SecretText::with_capacity(10);
        let first = sized.0.as_ptr();
        sized.push_str("0123456789");
        assert_eq!(sized.0.as_ptr(), first);
        assert_eq!(sized.into_string(), "0123456789");
    }

    #[test]
    fn wipe_string_empties_and_frees() {
        let mut s = String::with_capacity(32);
        s.push_str("secret");
        wipe_string(&mut s);
        assert!(s.is_empty());
        assert_eq!(s.capacity(), 0);
        let mut empty = String::new();
        wipe_string(&mut empty);
        assert!(empty.is_empty());
    }

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

    /// Everything is read, in order, whatever the reads give at a time,
    /// and after what the buffer held already.
    #[test]
    fn read_to_end_keeps_every_byte() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        for step in [1, 7, 4096, 100_000, usize::MAX] {
            let mut s = SecretBytes::default();
            s.extend(b"head");
            let mut reader = Trickle { data: &data, step };
            assert_eq!(s.read_to_end(&mut reader).unwrap(), data.len());
            assert_eq!(&s.as_slice()[..4], b"head");
            assert!(s.as_slice()[4..] == data[..], "step {step}");
        }
        let mut empty = SecretBytes::default();
        assert_eq!(empty.read_to_end(&mut io::empty()).unwrap(), 0);
        assert!(empty.is_empty());
    }

    /// The buffer grows only by hand: a read into room already there
    /// keeps its allocation (`Vec::resize` and `truncate` within the
    /// capacity never reallocate).
    #[test]
    fn read_to_end_reads_into_the_room_it_has() {
        let mut s = SecretBytes::default();
        s.reserve(1000);
        let before = s.0.as_ptr();
        let data = [7u8; 900];
        s.read_to_end(&mut Trickle {
            data: &data,
            step: 100,
        })
        .unwrap();
        assert_eq!(s.0.as_ptr(), before);
        assert_eq!(s.len(), 900);
    }

    #[test]
    fn written_bytes_are_appended() {
        use std::io::Write;
        let mut s = SecretBytes::default();
        write!(s, "a{}", 1).unwrap();
        s.write_all(b"bc").unwrap();
        assert_eq!(s.as_slice(), b"a1bc");
        assert_eq!(s.into_vec(), b"a1bc");
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
