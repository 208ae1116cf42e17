//! .env files decrypted from a reader, a window of lines at a time, so that
//! neither the encrypted text nor its tree is ever whole in memory: only
//! the plaintext is, which is held until its MAC has verified.
//!
//! The metadata is at the end of the file and the data key is needed first,
//! so the file is read twice. The first pass ([`scan_dotenv`]) checks it
//! line by line, keeps its `sops_…` lines, chooses the windows and bounds
//! the plaintext's length; the caller then unwraps the data key from the
//! metadata, and the second pass ([`DotenvStream::decrypt`]) opens each
//! window as a document of its own. Windows are cut after `KEY=value`
//! lines, as [`super::lines`] cuts them for encryption: no line depends on
//! another, so the windows' plaintexts and MAC input, in order, are those
//! of the whole document. The last window holds the metadata lines and the
//! line before them, so their removal is what the whole document's is.
//!
//! Files this does not fit (metadata lines that are not all at the end,
//! text that does not scan, no metadata) are for the whole-document path
//! ([`super::open`], [`super::decrypt`]), which also reports their errors.

use super::open::{open_window, plain_len, MacFeed, MacMode};
use super::par::run_all;
use super::{verify_mac, EncryptedFile, EngineError};
use crate::cipher::{CipherKind, EncParts};
use crate::metadata::Metadata;
use crate::syntax::dotenv::{scan_lines, PieceLine};
use crate::syntax::{parse_encrypted, Format, Parsed};
use std::io::{self, Read};
use zeroize::Zeroizing;

/// How much of the file the first pass reads at a time.
const PIECE: usize = if cfg!(test) { 7 } else { 1 << 20 };

/// About how many lines a window holds: few enough that one thread opens
/// it (see [`super::par`]), the windows of a group running side by side.
/// Small in unit tests, so that every test crosses windows.
const WINDOW_LINES: usize = if cfg!(test) { 3 } else { 2000 };

/// A UTF-8 byte order mark: no window starts before a line that begins
/// with one (a window's parse would take it for the file's own).
const BOM: &str = "\u{feff}";

/// A .env file checked for decryption a window at a time.
pub struct DotenvStream {
    /// Where each window starts, then where the file ends.
    bounds: Vec<u64>,
    metadata: Metadata,
    /// At least the plaintext's length.
    plain_len: usize,
}

/// Why a streamed decryption failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The file could not be read, or changed between the two passes.
    #[error("could not read the file: {0}")]
    Io(#[from] io::Error),
    /// Decryption failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The first pass's state, fed one line at a time.
#[derive(Default)]
struct Scan {
    /// Lines since the last cut.
    since: usize,
    /// The end of a `KEY=value` line to cut after, unless the next line
    /// starts with a byte order mark.
    pending: Option<u64>,
    cuts: Vec<u64>,
    /// Where the current run of metadata lines started, and their text.
    meta_start: Option<u64>,
    meta_text: String,
    /// A metadata line came before a line that is not one.
    inner_meta: bool,
    plain_len: usize,
}

impl Scan {
    fn line(&mut self, at: u64, line: &PieceLine<'_>) {
        if let Some(cut) = self.pending.take() {
            if !line.text.starts_with(BOM) {
                self.cuts.push(cut);
                self.since = 0;
            }
        }
        self.since += 1;
        if line.meta {
            self.meta_start.get_or_insert(at);
            self.meta_text.push_str(line.text);
            if !line.text.ends_with('\n') {
                self.meta_text.push('\n');
            }
        } else {
            self.inner_meta |= self.meta_start.is_some();
            self.plain_len +=
                line.text.len().saturating_sub(line.leaf.len()) + plain_bound(line.leaf);
        }
        if line.pair && self.since >= WINDOW_LINES {
            self.pending = Some(at + line.text.len() as u64);
        }
    }
}

/// At least the length of what the text `leaf` of a value or comment turns
/// into in the plaintext: an `ENC[…]` text's decoded data (twice that for
/// AES, whose values are re-spelled with `\n` escapes), else the text.
fn plain_bound(leaf: &str) -> usize {
    match EncParts::split(leaf) {
        Ok(parts) => {
            let data = parts.data.trim_end_matches('=');
            let plain = data.len() * 3 / 4;
            match parts.cipher {
                CipherKind::Aes256Gcm => 2 * plain,
                CipherKind::XChaCha20Poly1305 => plain,
            }
        }
        Err(_) => leaf.len(),
    }
}

/// Read an encrypted .env text from `reader` and check that it can be
/// decrypted a window at a time. `Ok(None)` when it cannot (see the module
/// docs): read it whole and decrypt it with [`super::open`] and
/// [`super::decrypt`] instead, which report any error in it.
pub fn scan_dotenv(reader: &mut dyn Read) -> io::Result<Option<DotenvStream>> {
    let mut scan = Scan::default();
    let mut buf: Vec<u8> = Vec::with_capacity(PIECE);
    let mut base = 0u64;
    let mut eof = false;
    loop {
        if !eof {
            let read = Read::take(&mut *reader, PIECE as u64).read_to_end(&mut buf)?;
            eof = read < PIECE;
        }
        let text = match std::str::from_utf8(&buf) {
            Ok(t) => t,
            Err(e) if e.error_len().is_none() && !eof => {
                std::str::from_utf8(buf.get(..e.valid_up_to()).unwrap_or_default())
                    .unwrap_or_default()
            }
            Err(_) => return Ok(None),
        };
        let last = eof;
        if base == 0 && text.starts_with(BOM) {
            // Skipped by the scan, kept in the plaintext.
            scan.plain_len += BOM.len();
        }
        let Ok(used) = scan_lines(text, base == 0, last, |line| {
            scan.line(base + line.start as u64, &line)
        }) else {
            return Ok(None);
        };
        buf.drain(..used);
        base += used as u64;
        if last {
            break;
        }
    }
    if scan.inner_meta {
        return Ok(None);
    }
    let Some(meta_start) = scan.meta_start else {
        return Ok(None);
    };
    let metadata = parse_encrypted(Format::Dotenv, &scan.meta_text)
        .ok()
        .and_then(|p| p.metadata)
        .and_then(|node| Metadata::from_node(&node).ok());
    let Some(metadata) = metadata else {
        return Ok(None);
    };
    let mut bounds = vec![0];
    bounds.extend(scan.cuts.iter().copied().filter(|&c| c < meta_start));
    bounds.push(base);
    Ok(Some(DotenvStream {
        bounds,
        metadata,
        plain_len: scan.plain_len,
    }))
}

impl DotenvStream {
    /// The file's metadata: what unwraps its data key.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Read the file scanned again, from its start, from `reader`, and
    /// decrypt it with `key`: what [`super::decrypt`] gives for it. Verifies
    /// the MAC unless `ignore_mac`.
    ///
    /// Windows are opened on every core, one per thread, a group at a
    /// time; their plaintexts and MAC input are joined in order.
    pub fn decrypt(
        &self,
        reader: &mut dyn Read,
        key: &[u8; 32],
        ignore_mac: bool,
    ) -> Result<Zeroizing<String>, StreamError> {
        let mode = MacMode::of_metadata(Format::Dotenv, &self.metadata);
        let mut plain = Zeroizing::new(String::with_capacity(self.plain_len));
        let mut macs = MacFeed::new(mode, false);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 8));
        let windows: Vec<(u64, u64)> = self
            .bounds
            .windows(2)
            .filter_map(|w| Some((*w.first()?, *w.get(1)?)))
            .collect();
        for group in windows.chunks(threads) {
            let mut texts = Vec::with_capacity(group.len());
            for &(start, end) in group {
                let len = end.saturating_sub(start);
                let mut window = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
                Read::take(&mut *reader, len).read_to_end(&mut window)?;
                if window.len() as u64 != len {
                    return Err(changed().into());
                }
                texts.push(window);
            }
            let tasks = texts
                .iter()
                .map(|text| move || self.open_part(text, key, mode))
                .collect();
            for part in run_all(tasks) {
                let (piece, feed) = part?;
                plain.push_str(&piece);
                macs.absorb(feed);
            }
        }
        let mut rest = [0u8; 1];
        if reader.read(&mut rest)? != 0 {
            return Err(changed().into());
        }
        if !ignore_mac {
            let file = EncryptedFile {
                format: Format::Dotenv,
                src: "",
                parsed: Parsed::default(),
                metadata: self.metadata.clone(),
            };
            verify_mac(&file, key, &plain, macs.finish())?;
        }
        Ok(plain)
    }

    /// Open one window: its plaintext and its MAC input.
    fn open_part(
        &self,
        window: &[u8],
        key: &[u8; 32],
        mode: MacMode,
    ) -> Result<(Zeroizing<String>, MacFeed), StreamError> {
        let text = std::str::from_utf8(window).map_err(|_| changed())?;
        let file = EncryptedFile {
            format: Format::Dotenv,
            src: text,
            // The first pass checked every line: a window that does not
            // parse was changed since.
            parsed: parse_encrypted(Format::Dotenv, text).map_err(|_| changed())?,
            metadata: self.metadata.clone(),
        };
        let mut piece = Zeroizing::new(String::with_capacity(plain_len(&file)));
        let mut feed = MacFeed::recording(mode);
        open_window(&file, key, &mut feed, &mut piece)?;
        Ok((piece, feed))
    }
}

/// The file is not what the first pass read.
fn changed() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "the file changed while it was being read",
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::engine::{decrypt, encrypt, open, EncryptOptions, KeyMaterial};
    use crate::metadata::Selector;
    use proptest::prelude::*;
    use std::path::PathBuf;

    const KEY: [u8; 32] = [5u8; 32];
    const NOW: &str = "2026-11-22T00:00:00Z";

    fn encrypted(doc: &str, cipher: CipherKind, selector: Selector, mac_only: bool) -> String {
        let opts = EncryptOptions {
            cipher,
            selector,
            mac_only_encrypted: mac_only,
            ..EncryptOptions::default()
        };
        encrypt(
            Format::Dotenv,
            doc,
            &KEY,
            &opts,
            KeyMaterial::default(),
            NOW,
        )
        .unwrap()
    }

    /// Both passes over `enc`, or `None` when the whole-document path is
    /// needed.
    fn streamed(
        enc: &str,
        key: &[u8; 32],
        ignore_mac: bool,
    ) -> Option<Result<Zeroizing<String>, StreamError>> {
        let stream = scan_dotenv(&mut enc.as_bytes()).unwrap()?;
        Some(stream.decrypt(&mut enc.as_bytes(), key, ignore_mac))
    }

    /// What the streamed decryption gives is what the whole document's
    /// gives, and the plaintext length bound holds.
    fn check_equal(enc: &str, key: &[u8; 32]) -> Result<(), TestCaseError> {
        let whole = decrypt(&open(Format::Dotenv, enc).unwrap(), key, false).unwrap();
        let stream = scan_dotenv(&mut enc.as_bytes()).unwrap();
        prop_assert!(stream.is_some(), "not streamed: {:?}", enc);
        let stream = stream.unwrap();
        prop_assert!(
            stream.plain_len >= whole.len(),
            "{} < {}",
            stream.plain_len,
            whole.len()
        );
        let plain = stream.decrypt(&mut enc.as_bytes(), key, false).unwrap();
        prop_assert_eq!(plain.as_str(), whole.as_str());
        Ok(())
    }

    fn fixtures() -> Vec<String> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dotenv");
        let mut docs = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.starts_with("fail_") {
                docs.push(std::fs::read_to_string(&path).unwrap());
            }
        }
        docs.push("A=1\nB=2\nC=3\nD=\"open\n\nquote\"\nE=\\\\n\nF=6\r".into());
        docs.push("\u{feff}A=1\nB=2\nC=3\nD=4\n\u{feff}E=5\nF=6\nG=7\n".into());
        docs.push("# c1\n# c2\nA=ünïcödé ✓ value\nB=2\n# c3\nC=3\nD=4\nE=5\nF=6".into());
        docs
    }

    #[test]
    fn fixtures_stream_to_the_whole_documents_plaintext() {
        let selectors = [
            Selector::default(),
            Selector::EncryptedCommentRegex("^ ?c[12]".into()),
            Selector::UnencryptedRegex("^[AC]$".into()),
        ];
        for doc in fixtures() {
            for cipher in [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm] {
                for selector in &selectors {
                    for mac_only in [false, true] {
                        let enc = encrypted(&doc, cipher, selector.clone(), mac_only);
                        check_equal(&enc, &KEY).unwrap();
                        let plain = streamed(&enc, &KEY, false).unwrap().unwrap();
                        if cipher == CipherKind::XChaCha20Poly1305 {
                            assert_eq!(plain.as_str(), doc);
                        }
                    }
                }
            }
        }
    }

    /// Files the real sops wrote (AES, sops's own metadata order, key
    /// groups) stream too.
    #[test]
    fn sops_written_files_stream() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
        let mut ids = sops_like_keys::Identities::new();
        for f in ["age-test.txt", "age-test-2.txt"] {
            ids.add_file(&root.join("keys").join(f), true).unwrap();
        }
        for name in [
            "dotenv-basic.env",
            "dotenv-crlf.env",
            "sel-encrypted-regex.env",
            "groups-shamir.env",
        ] {
            let enc = std::fs::read_to_string(root.join("sops/enc").join(name)).unwrap();
            let meta = scan_dotenv(&mut enc.as_bytes()).unwrap().unwrap().metadata;
            let groups: Vec<sops_like_keys::KeyGroup> = meta
                .key_groups
                .iter()
                .map(|g| {
                    sops_like_keys::KeyGroup(
                        g.iter()
                            .map(|k| sops_like_keys::MasterKey::Age {
                                recipient: k.field("recipient").unwrap_or_default(),
                                enc: k.enc().unwrap_or_default(),
                            })
                            .collect(),
                    )
                })
                .collect();
            let key =
                sops_like_keys::decrypt_data_key(&groups, meta.shamir_threshold, &ids).unwrap();
            check_equal(&enc, key.as_bytes()).unwrap();
        }
    }

    #[test]
    fn failures_are_those_of_the_whole_document() {
        let doc = "A=1\nB=2\nC=3\nD=4\nE=5\nF=6\nG=7\n";
        let enc = encrypted(
            doc,
            CipherKind::XChaCha20Poly1305,
            Selector::default(),
            false,
        );
        // A value moved to another key: its tag fails at its AAD.
        let a = enc.lines().next().unwrap().trim_start_matches("A=");
        let f_line = enc.lines().nth(5).unwrap();
        let moved = enc.replace(f_line, &format!("F={a}"));
        match streamed(&moved, &KEY, false) {
            Some(Err(StreamError::Engine(EngineError::Decrypt { path, .. }))) => {
                assert_eq!(path, "F:")
            }
            _ => panic!("no decrypt error"),
        }
        // Lines swapped: every value opens, the MAC does not match.
        let lines: Vec<&str> = enc.lines().collect();
        let mut swapped = lines.clone();
        swapped.swap(0, 1);
        let swapped = swapped.join("\n") + "\n";
        assert!(matches!(
            streamed(&swapped, &KEY, false),
            Some(Err(StreamError::Engine(EngineError::MacMismatch)))
        ));
        let plain = streamed(&swapped, &KEY, true).unwrap().unwrap();
        assert!(plain.starts_with("B=2\nA=1\n"));
        // A wrong key.
        assert!(matches!(
            streamed(&enc, &[6u8; 32], false),
            Some(Err(StreamError::Engine(EngineError::Decrypt { .. })))
        ));
    }

    /// Files the whole-document path is for.
    #[test]
    fn irregular_files_are_left_to_the_whole_path() {
        let enc = encrypted(
            "A=1\nB=2\n",
            CipherKind::XChaCha20Poly1305,
            Selector::default(),
            false,
        );
        let meta_at = enc.find("sops_").unwrap();
        let inner = format!("{}C=3\n", enc);
        let cases = [
            "A=1\nB=2\n".to_string(),
            String::new(),
            inner,
            format!("{}X=\"open\n{}", &enc[..meta_at], &enc[meta_at..]),
            format!("{}no equals\n{}", &enc[..meta_at], &enc[meta_at..]),
            enc.replace("sops_version=", "sops_version\n"),
        ];
        for case in cases {
            assert!(
                scan_dotenv(&mut case.as_bytes()).unwrap().is_none(),
                "{case:?}"
            );
        }
        let mut bytes = enc.clone().into_bytes();
        bytes.insert(2, 0xff);
        assert!(scan_dotenv(&mut bytes.as_slice()).unwrap().is_none());
        // A multi-byte character cut by a piece boundary is fine.
        let wide = encrypted(
            "A=éééééééééé\nB=ü\n",
            CipherKind::XChaCha20Poly1305,
            Selector::UnencryptedRegex("A".into()),
            false,
        );
        check_equal(&wide, &KEY).unwrap();
    }

    #[test]
    fn a_file_changed_between_the_passes_is_an_error() {
        let doc = "A=1\nB=2\nC=3\nD=4\nE=5\nF=6\nG=7\n";
        let enc = encrypted(
            doc,
            CipherKind::XChaCha20Poly1305,
            Selector::default(),
            false,
        );
        let stream = scan_dotenv(&mut enc.as_bytes()).unwrap().unwrap();
        for other in [&enc[1..], &format!("{enc}X=1\n")[..], &enc[..enc.len() - 1]] {
            let err = stream.decrypt(&mut other.as_bytes(), &KEY, false).err();
            assert!(matches!(err, Some(StreamError::Io(_))), "{err:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn generated_files_stream_to_the_whole_documents_plaintext(
            doc in crate::syntax::dotenv::tests::props::file(),
            aes in any::<bool>(),
        ) {
            let cipher = if aes { CipherKind::Aes256Gcm } else { CipherKind::XChaCha20Poly1305 };
            let enc = encrypted(&doc, cipher, Selector::default(), false);
            check_equal(&enc, &KEY)?;
        }
    }
}
