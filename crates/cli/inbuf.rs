//! The bytes of an input file, wiped when dropped.
//!
//! A large regular file is read into anonymous memory that the kernel is
//! asked to back with huge pages (`madvise(MADV_HUGEPAGE)`, where
//! transparent huge pages are enabled in `madvise` mode, the usual
//! default): the read then takes one page fault per 2 MiB instead of one
//! per 4 KiB. Reading the 3.9 MB .env file of the benchmark took 2.0–2.4 ms
//! into a `Vec` and 0.5–1.2 ms this way. The length is rounded up to whole
//! huge pages, so that the kernel places the mapping on a huge-page
//! boundary. Anything else, or if the mapping fails, is read into a `Vec`
//! as before.

use std::fs;
use std::io::{self, Read};
use std::ops::Deref;
use std::path::Path;

/// From this size on, a regular file is read into huge pages.
const HUGE_FROM: u64 = 2 << 20;

/// A huge page (x86_64, aarch64 with 4 KiB pages).
const HUGE_PAGE: usize = 2 << 20;

/// The bytes read.
pub enum InputBytes {
    /// Read into a vector.
    Heap(zeroize::Zeroizing<Vec<u8>>),
    /// Read into the first `len` bytes of an anonymous mapping.
    Mapped { map: memmap2::MmapMut, len: usize },
}

impl Deref for InputBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            InputBytes::Heap(bytes) => bytes,
            InputBytes::Mapped { map, len } => map.get(..*len).unwrap_or_default(),
        }
    }
}

impl Drop for InputBytes {
    /// A memset the compiler keeps, not `zeroize`'s byte-at-a-time volatile
    /// writes (a 3.9 MB plaintext took milliseconds): see
    /// `sops_like_format::wipe`.
    fn drop(&mut self) {
        match self {
            InputBytes::Heap(bytes) => {
                sops_like_format::wipe::wipe(&mut std::mem::take(&mut **bytes))
            }
            InputBytes::Mapped { map, len } => {
                if let Some(read) = map.get_mut(..*len) {
                    sops_like_format::wipe::wipe_slice(read);
                }
            }
        }
    }
}

impl From<zeroize::Zeroizing<Vec<u8>>> for InputBytes {
    fn from(bytes: zeroize::Zeroizing<Vec<u8>>) -> InputBytes {
        InputBytes::Heap(bytes)
    }
}

/// Read the regular file `path`, `size` bytes long when it was looked at:
/// into huge pages if it is large, else `None` (the caller reads it
/// otherwise). A file that grew past the room is read on into a `Vec`.
pub fn read_large(path: &Path, size: u64) -> Option<io::Result<InputBytes>> {
    if size < HUGE_FROM {
        return None;
    }
    let room = usize::try_from(size)
        .ok()?
        .checked_add(1)?
        .checked_next_multiple_of(HUGE_PAGE)?;
    let map = memmap2::MmapMut::map_anon(room).ok()?;
    // Only a hint: without huge pages the read is as fast as into a `Vec`.
    let _ = map.advise(memmap2::Advice::HugePage);
    Some(fill(path, map))
}

/// Read `path` into `map`, or on into a `Vec` if it does not fit.
fn fill(path: &Path, mut map: memmap2::MmapMut) -> io::Result<InputBytes> {
    let mut file = fs::File::open(path)?;
    let mut len = 0;
    while let Some(room) = map.get_mut(len..) {
        if room.is_empty() {
            // Grown since it was looked at: the rest goes into a vector.
            let mut bytes = sops_like_format::wipe::SecretBytes::default();
            bytes.extend(map.get(..len).unwrap_or_default());
            drop(InputBytes::Mapped { map, len });
            bytes.read_to_end(&mut file)?;
            return Ok(InputBytes::Heap(zeroize::Zeroizing::new(bytes.into_vec())));
        }
        match file.read(room) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                // What was read is wiped (the mapping is, when dropped as
                // input bytes).
                drop(InputBytes::Mapped { map, len });
                return Err(e);
            }
        }
    }
    Ok(InputBytes::Mapped { map, len })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_large_file_reads_whole_and_small_ones_are_left_to_the_caller() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.env");
        let text: Vec<u8> = (0..(HUGE_FROM as usize + 12_345))
            .map(|i| b"ABCDEFGH=\n"[i % 10])
            .collect();
        fs::write(&path, &text).unwrap();
        let read = read_large(&path, text.len() as u64).unwrap().unwrap();
        assert!(matches!(read, InputBytes::Mapped { .. }));
        assert!(*read == *text);
        assert!(read_large(&path, HUGE_FROM - 1).is_none());
    }

    #[test]
    fn a_file_that_grew_is_read_to_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grown.env");
        // Looked at when it was 2 MiB; it is now two huge pages and more.
        let text: Vec<u8> = (0..(2 * HUGE_PAGE + 77)).map(|i| (i % 251) as u8).collect();
        fs::write(&path, &text).unwrap();
        let read = read_large(&path, HUGE_FROM).unwrap().unwrap();
        assert!(matches!(read, InputBytes::Heap(_)));
        assert!(*read == *text);
    }
}
