//! .env, YAML, TOML and JSON files decrypted from a reader a window at a time,
//! on every core, so that neither the encrypted text nor its tree is ever
//! whole in memory: only the plaintext is, held until its MAC has verified.
//!
//! The data key is needed first and the metadata is at the end of the
//! file, so [`scan`] reads the file's tail: the run of `sops_…` lines that
//! ends a .env file, YAML's top-level `sops:` key (the last line at column
//! 0), TOML's `[sops]` table (the headers after it are its own), or JSON's
//! last `"sops": {…}` member (the line that opens it, then the object's
//! closing brace). The caller unwraps the data key from that metadata, then
//! [`Streamed::decrypt`] reads the file once from its start, cuts it into
//! windows and opens each window as a document of its own on a worker
//! thread; the plaintexts and the MAC input are joined in order. Windows
//! are cut where nothing carries over the cut, so this gives what
//! decrypting the whole document gives (tested, also on damaged files):
//! - .env: after a `KEY=value` line and before a line that looks like
//!   `KEY=` (no .env line depends on another, and no multi-line quoted
//!   value runs into such a line); or, after a line that looks like `KEY=`
//!   itself, before the comment and blank lines above such a line.
//! - YAML: before a plain top-level key, or the comment lines right above
//!   one, or blank lines before those outside a block scalar, whose
//!   previous line is content (the rules of [`crate::syntax::yaml`]'s
//!   split parse); every window
//!   must be one block mapping without aliases, document markers or
//!   directives. A failure to open a YAML window leaves the file to the
//!   whole path (a comment may be sealed at the path of a mapping in an
//!   earlier window).
//! - TOML: before a table header, or the comment and blank lines right
//!   above one, whose previous line is content (a comment just above a
//!   header belongs to that header's table). A
//!   header-like line inside a multi-line string or array leaves the
//!   window before it unterminated, which its parse refuses. A table
//!   reopened in a later window would put its values elsewhere in the
//!   whole document's MAC order, so any failure is left to the whole path;
//!   and the windows' tables and keys are replayed in order (see
//!   [`toml::Tables`]), so that a table or key defined twice across
//!   windows, which each window's parse alone cannot see, is left to it
//!   too, even when no value's MAC order changes.
//! - JSON: after a line that ends with a comma, before a line that starts
//!   with a string, where the text before is inside the top-level object
//!   and no deeper (brackets counted outside strings). Each window is
//!   opened as an object of its own (see [`JsonWindow`]), so a cut
//!   anywhere else leaves unbalanced braces, which the parse refuses. Any
//!   failure is left to the whole path (a top-level key may appear in two
//!   windows). A top-level array, or a file whose metadata member does not
//!   start a line, is decrypted whole.
//! - The windows before the last hold no metadata, and the last one (which
//!   starts before the line preceding the metadata, so that its removal is
//!   the whole document's) has exactly the metadata read from the tail.
//!
//! Any other file (aliases, several YAML documents, metadata elsewhere, a
//! line that does not parse, no metadata), and for YAML and TOML any
//! failure, is [`StreamError::Irregular`]:
//! decrypt it whole with [`super::open`] and [`super::decrypt`], which also
//! report its errors at their place.

use super::open::{open_lean_dotenv, open_window, MacFeed, MacMode};
use super::par;
use super::{plaintext_mac, verify_mac, EncryptedFile, EngineError};
use crate::metadata::Metadata;
use crate::syntax::dotenv::Grammar;
use crate::syntax::flat::flatten;
use crate::syntax::{parse_encrypted, toml, yaml, Format};
use std::io::{self, Read, Seek, SeekFrom, Write};
use zeroize::Zeroizing;

/// The least a window holds (it ends at the next line break after a
/// `KEY=value` line): about 430 lines of sops values, so one thread opens
/// a window (see [`super::par`]) and the windows in flight stay small
/// (64 KiB: 11.9 MB peak for a 100,000-value file against 12.5 MB at 128
/// KiB and 13.5 MB at 256 KiB, at the same speed). Small in unit tests, so
/// that every test crosses windows.
const WINDOW: usize = if cfg!(test) { 24 } else { 64 * 1024 };

/// How much of the end of the file is read first to find the metadata
/// (more if the metadata is longer).
const TAIL: u64 = if cfg!(test) { 16 } else { 64 * 1024 };

/// Windows in flight (read and not yet joined), per worker.
const AHEAD: usize = 2;

/// The prefix of a .env metadata line.
const META: &[u8] = b"sops_";

/// A UTF-8 byte order mark: no window starts before a line that begins
/// with one (a window's parse would take it for the file's own).
const BOM: &[u8] = "\u{feff}".as_bytes();

/// A file whose metadata was read from its tail.
pub struct Streamed {
    format: Format,
    metadata: Metadata,
    /// Where the metadata lines start.
    meta_start: u64,
}

/// Why a streamed decryption failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The file could not be read.
    #[error("could not read the file: {0}")]
    Io(#[from] io::Error),
    /// Decryption failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The file is not one that can be decrypted a window at a time (or it
    /// changed while it was read): decrypt it whole.
    #[error("the file cannot be decrypted a window at a time")]
    Irregular,
}

/// The plaintext of a file decrypted a window at a time, in pieces.
pub struct StreamedPlain {
    pieces: Vec<Zeroizing<String>>,
}

impl StreamedPlain {
    /// Write the plaintext to `out`.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        par::write_gathered(out, self.pieces.iter().map(|p| p.as_bytes()))
    }

    /// The plaintext as one string.
    pub fn joined(&self) -> Zeroizing<String> {
        let mut all = Zeroizing::new(String::with_capacity(
            self.pieces.iter().map(|p| p.len()).sum(),
        ));
        for piece in &self.pieces {
            all.push_str(piece);
        }
        all
    }
}

impl Drop for StreamedPlain {
    /// The pieces are wiped by [`crate::wipe::wipe`] (every byte of each
    /// allocation): `zeroize`'s byte-at-a-time volatile writes took 3.5 ms
    /// for a few MB of plaintext on one core.
    fn drop(&mut self) {
        for piece in &mut self.pieces {
            crate::wipe::wipe(&mut std::mem::take(&mut **piece).into_bytes());
        }
    }
}

/// Read the metadata of the encrypted text in `reader` (a .env, YAML,
/// TOML or JSON file) from its end. `Ok(None)` for another format, or when the file
/// does not end with its metadata (or it does not make metadata): decrypt
/// it whole with [`super::open`] and [`super::decrypt`] instead, which
/// report what is wrong.
pub fn scan<R: Read + Seek>(format: Format, reader: &mut R) -> io::Result<Option<Streamed>> {
    if !matches!(
        format,
        Format::Dotenv | Format::Yaml | Format::Toml | Format::Json
    ) {
        return Ok(None);
    }
    if format == Format::Yaml && has_marker_line(reader)? {
        return Ok(None);
    }
    let len = reader.seek(SeekFrom::End(0))?;
    let mut want = TAIL.min(len);
    loop {
        let start = len - want;
        reader.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
        Read::take(&mut *reader, want).read_to_end(&mut tail)?;
        if tail.len() as u64 != want {
            return Ok(None);
        }
        match trailing_block(format, &tail, start == 0) {
            Tail::Starts(at) => {
                let text = tail.get(at..).and_then(|t| std::str::from_utf8(t).ok());
                // JSON: the `"sops": {…}` member and the closing brace,
                // opened as an object of their own.
                let text = text.map(|t| match format {
                    Format::Json => format!("{{{t}"),
                    _ => t.to_string(),
                });
                let metadata = text
                    .and_then(|t| parse_encrypted(format, &t).ok())
                    .and_then(|p| p.metadata)
                    // A key twice in a YAML block: the whole path says
                    // whether sops would refuse it.
                    .filter(|node| {
                        format != Format::Yaml
                            || super::duplicate_key_in(node, &mut Vec::new()).is_none()
                    })
                    .and_then(|node| Metadata::from_node(&node).ok());
                return Ok(metadata.map(|metadata| Streamed {
                    format,
                    metadata,
                    meta_start: start + at as u64,
                }));
            }
            Tail::Longer if start > 0 => want = (want * 4).min(len),
            Tail::Longer | Tail::None => return Ok(None),
        }
    }
}

/// Whether a YAML text may hold a document marker or a directive: a line
/// that starts with `---`, `...` or `%`. No window holds one (see
/// [`yaml::parse_window`]), and every document of a stream has a
/// metadata block of its own, which must say what the first says: such a
/// text is decrypted whole, with its data key from the first document's
/// block, not the last's.
fn has_marker_line<R: Read + Seek>(reader: &mut R) -> io::Result<bool> {
    const CHUNK: usize = 1 << 20;
    let starts = |rest: &[u8]| {
        rest.starts_with(b"---") || rest.starts_with(b"...") || rest.starts_with(b"%")
    };
    reader.seek(SeekFrom::Start(0))?;
    let mut buf = vec![0u8; CHUNK + 4];
    // `buf[..keep]`: a line break and the fewer than three bytes after it
    // that ended the previous chunk (a marker may straddle two chunks).
    let mut keep = 0;
    let mut first = true;
    loop {
        let mut n = 0;
        while let Some(room) = buf
            .get_mut(keep + n..keep + CHUNK)
            .filter(|r| !r.is_empty())
        {
            match reader.read(room)? {
                0 => break,
                got => n += got,
            }
        }
        let Some(data) = buf.get(..keep + n) else {
            return Ok(false);
        };
        if first {
            first = false;
            if starts(data.strip_prefix("\u{feff}".as_bytes()).unwrap_or(data)) {
                return Ok(true);
            }
        }
        if memchr::memchr_iter(b'\n', data).any(|i| data.get(i + 1..).is_some_and(starts)) {
            return Ok(true);
        }
        if n == 0 {
            return Ok(false);
        }
        keep = match memchr::memrchr(b'\n', data) {
            Some(last) if data.len() - last <= 3 => {
                buf.copy_within(last..keep + n, 0);
                keep + n - last
            }
            _ => 0,
        };
    }
}

/// Where the run of metadata lines that ends a piece of text starts.
enum Tail {
    /// At this byte.
    Starts(usize),
    /// Perhaps before the piece.
    Longer,
    /// There is none.
    None,
}

/// Find where the metadata that ends `tail` (the end of a file; `whole`:
/// the whole file) starts: for .env, the run of physical lines starting
/// with `sops_`; for TOML, the `[sops]` header line (every header after it
/// is `[sops.…]` or `[[sops.…]]`); for YAML, the last line at column 0,
/// which must be the top-level `sops:` key (every line after it is
/// indented or blank).
fn trailing_block(format: Format, tail: &[u8], whole: bool) -> Tail {
    let mut end = tail.len();
    // A final line break ends the last line, it does not start another.
    if tail.last() == Some(&b'\n') {
        end -= 1;
    }
    let mut first = None;
    // JSON: whether the closing brace of the top-level object was seen.
    let mut closed = false;
    loop {
        let start = tail
            .get(..end)
            .and_then(|t| t.iter().rposition(|&b| b == b'\n'))
            .map_or(0, |i| i + 1);
        if start == 0 && !whole {
            // The line may start before the piece.
            return Tail::Longer;
        }
        let line = tail.get(start..end).unwrap_or_default();
        let found = match format {
            Format::Dotenv if line.starts_with(META) => {
                first = Some(start);
                None
            }
            Format::Dotenv => Some(first.map_or(Tail::None, Tail::Starts)),
            // TOML: the `[sops]` header, after which every header is one
            // of the sops table's own.
            Format::Toml if line == b"[sops]".as_slice() || line == b"[sops]\r".as_slice() => {
                Some(Tail::Starts(start))
            }
            Format::Toml if line.starts_with(b"[sops.") || line.starts_with(b"[[sops.") => None,
            Format::Toml if line.starts_with(b"[") => Some(Tail::None),
            Format::Toml => None,
            // JSON: the last line is the top-level object's `}`, and the
            // metadata starts at the last line before it that opens a
            // `"sops"` member (whether it is the top-level one, the parse
            // of the tail and the last window's tell).
            Format::Json => {
                let trimmed = line.trim_ascii();
                if trimmed.is_empty() {
                    None
                } else if !closed {
                    closed = true;
                    (trimmed != b"}".as_slice()).then_some(Tail::None)
                } else {
                    let rest = trimmed.strip_prefix(b"\"sops\"".as_slice());
                    rest.filter(|r| r.trim_ascii_start().starts_with(b":"))
                        .map(|_| Tail::Starts(start))
                }
            }
            _ if line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'))
                || line.starts_with(b" ")
                || line.starts_with(b"\t") =>
            {
                None
            }
            _ if line == b"sops:".as_slice()
                || line.starts_with(b"sops: ")
                || line.starts_with(b"sops:\r") =>
            {
                Some(Tail::Starts(start))
            }
            _ => Some(Tail::None),
        };
        if let Some(found) = found {
            return found;
        }
        if start == 0 {
            return first.map_or(Tail::None, Tail::Starts);
        }
        end = start - 1;
    }
}

impl Streamed {
    /// The file's metadata: what unwraps its data key.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Whether metadata may also stand before the block read from the
    /// tail: a .env line starting with `sops_` above it, with a data line
    /// between (sops reads every `sops_…` line of the file). The block
    /// read then lacks those lines, and the data key it fails to unwrap
    /// may unwrap from the whole file's. Only read when unwrapping failed.
    pub fn metadata_may_be_split<R: Read + Seek>(&self, reader: &mut R) -> io::Result<bool> {
        if self.format != Format::Dotenv {
            return Ok(false);
        }
        reader.seek(SeekFrom::Start(0))?;
        let mut head = Vec::new();
        Read::take(&mut *reader, self.meta_start).read_to_end(&mut head)?;
        let found = head.strip_prefix(BOM).unwrap_or(&head).starts_with(META)
            || memchr::memmem::find(&head, b"\nsops_").is_some();
        crate::wipe::wipe(&mut head);
        Ok(found)
    }

    /// Read the file from its start and decrypt it with `key`: what
    /// [`super::decrypt`] gives for it, in pieces. Verifies the MAC unless
    /// `ignore_mac`.
    pub fn decrypt<R: Read>(
        &self,
        reader: &mut R,
        key: &[u8; 32],
        ignore_mac: bool,
    ) -> Result<StreamedPlain, StreamError> {
        let mode = MacMode::of_metadata(self.format, &self.metadata);
        // No cut comes before `WINDOW` bytes: no thread is started for a
        // file whose data is one window.
        let workers = if self.meta_start <= WINDOW as u64 {
            1
        } else {
            par::workers()
        };
        let mut macs = MacFeed::new(mode, false);
        let mut pieces = Vec::new();
        let mut tables = toml::Tables::default();
        let mut top_keys = rustc_hash::FxHashSet::default();
        let mut cutter = Cutter::new(reader, self.format, self.meta_start);
        let pool = par::Pool::default();
        par::ordered(
            workers,
            workers * AHEAD,
            || cutter.next_into(pool.take()),
            |window: Window| {
                let part = self.open_part(&window, key, mode);
                pool.give(window.bytes);
                part
            },
            |part| {
                let (piece, feed, sections, keys) = part?;
                // A key twice at the top level of an AES256_GCM YAML file
                // is refused by the whole path, as sops refuses it.
                if keys.into_iter().any(|k| !top_keys.insert(k)) {
                    return Err(StreamError::Irregular);
                }
                // Each window parsed alone; TOML's tables must also be
                // defined as the whole document would define them.
                if sections.is_some_and(|s| !tables.add(s)) {
                    return Err(StreamError::Irregular);
                }
                pieces.push(piece);
                macs.absorb(feed);
                Ok(())
            },
            || StreamError::Irregular,
        )?;
        let plain = StreamedPlain { pieces };
        if !ignore_mac {
            let computed = || match macs.finish() {
                Some(mac) => Ok(mac),
                None => plaintext_mac(self.format, &self.metadata, &plain.joined(), false),
            };
            match verify_mac(&self.metadata, key, computed) {
                Ok(()) => {}
                Err(_) if self.whole_decides() => return Err(StreamError::Irregular),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(plain)
    }

    /// Whether a failure in a window is left to the whole document's
    /// decryption to report. For YAML, TOML and JSON it is: a YAML comment
    /// may be sealed at the path of a mapping in an earlier window, a TOML
    /// table reopened in a later window puts its values elsewhere in the
    /// whole document's order (its MAC order), and a JSON key may appear
    /// in two windows. A .env line depends on no other line.
    fn whole_decides(&self) -> bool {
        self.format != Format::Dotenv
    }

    /// Open one window: its plaintext, its MAC input and, for TOML, the
    /// tables and keys it defines.
    fn open_part(
        &self,
        window: &Window,
        key: &[u8; 32],
        mode: MacMode,
    ) -> Result<Part, StreamError> {
        let last = window.last;
        let text = std::str::from_utf8(&window.bytes).map_err(|_| StreamError::Irregular)?;
        // Most .env windows are only `KEY=ENC[…]` lines: opened without a tree.
        if self.format == Format::Dotenv && !last {
            let mut feed = MacFeed::recording(mode);
            if let Some(piece) = open_lean_dotenv(text, key, mode, &mut feed) {
                return Ok((piece, feed, None, Vec::new()));
            }
        }
        let json = JsonWindow::of(self.format, window);
        let source;
        let text = match json {
            Some(json) => {
                source = Zeroizing::new(json.source(text).ok_or(StreamError::Irregular)?);
                source.as_str()
            }
            None => text,
        };
        let mut sections = None;
        let parsed = match self.format {
            Format::Yaml => yaml::parse_window(text),
            Format::Toml => toml::parse_window(text).map(|(parsed, defined)| {
                sections = Some(defined);
                parsed
            }),
            // A window may not hold the metadata that tells the grammar.
            Format::Dotenv => {
                let aes = self.metadata.cipher() == Some(crate::cipher::CipherKind::Aes256Gcm);
                let grammar = if aes {
                    Grammar::Sops
                } else {
                    Grammar::MultiLine
                };
                crate::syntax::dotenv::parse_encrypted_as(text, grammar).ok()
            }
            format => parse_encrypted(format, text).ok(),
        };
        let parsed = parsed.ok_or(StreamError::Irregular)?;
        let keys = match (self.format, self.metadata.cipher()) {
            (Format::Yaml, Some(crate::cipher::CipherKind::Aes256Gcm)) => top_key_hashes(&parsed),
            _ => Vec::new(),
        };
        let metadata = match (&parsed.metadata, last) {
            (None, false) => true,
            (Some(node), true) => Metadata::from_node(node).is_ok_and(|m| same(&m, &self.metadata)),
            _ => false,
        };
        if !metadata {
            return Err(StreamError::Irregular);
        }
        let file = EncryptedFile {
            format: self.format,
            src: text,
            parsed,
            metadata: self.metadata.clone(),
        };
        let mut feed = MacFeed::recording(mode);
        match open_window(&file, key, &mut feed) {
            // A comment kept as it is: the whole decryption counts them
            // (the caller warns of them).
            Ok((_, kept)) if kept > 0 => Err(StreamError::Irregular),
            Ok((piece, _)) => match json {
                Some(json) => Ok((
                    json.restore(piece).ok_or(StreamError::Irregular)?,
                    feed,
                    sections,
                    keys,
                )),
                None => Ok((piece, feed, sections, keys)),
            },
            // A value in clear: a window may not see what decides.
            Err(EngineError::Unsealed { .. }) => Err(StreamError::Irregular),
            Err(_) if self.whole_decides() => Err(StreamError::Irregular),
            Err(e) => Err(e.into()),
        }
    }
}

/// An opened window: its plaintext, its MAC input, for TOML what it
/// defines, and for an `AES256_GCM` YAML file its top-level keys' hashes.
type Part = (Zeroizing<String>, MacFeed, Option<toml::Sections>, Vec<u64>);

/// The hashes of the top-level keys of a window's document.
fn top_key_hashes(parsed: &crate::syntax::Parsed) -> Vec<u64> {
    use std::hash::BuildHasher;
    let Some(crate::tree::Node::Map(entries)) = parsed.tree.docs.first() else {
        return Vec::new();
    };
    let hasher = rustc_hash::FxBuildHasher;
    crate::syntax::edit::pairs(entries)
        .map(|p| hasher.hash_one(&p.key))
        .collect()
}

/// A window of the file, as the [`Cutter`] cut it.
struct Window {
    bytes: Vec<u8>,
    /// It starts the file.
    first: bool,
    /// It ends the file (it holds the metadata).
    last: bool,
}

/// How a JSON window is opened as an object of its own, and its plaintext
/// made the window's again. A window is a run of the top-level object's
/// members, each cut after the comma that ends a line: a window that does
/// not start the file gets a `{` before it, and one that does not end the
/// file has that last comma read as the `}` that closes it (byte offsets
/// stay those of the window but for the one brace put before). A cut
/// inside a nested value leaves the braces unbalanced, which the parse
/// refuses.
#[derive(Clone, Copy)]
struct JsonWindow {
    /// A `{` is put before the window.
    opened: bool,
    /// The window's last comma is read as `}`.
    closed: bool,
}

impl JsonWindow {
    fn of(format: Format, window: &Window) -> Option<JsonWindow> {
        (format == Format::Json && !(window.first && window.last)).then_some(JsonWindow {
            opened: !window.first,
            closed: !window.last,
        })
    }

    /// The text to parse; `None` if the window does not end with a comma
    /// (and blanks) where it should.
    fn source(self, text: &str) -> Option<String> {
        let mut source = String::with_capacity(text.len() + 1);
        if self.opened {
            source.push('{');
        }
        source.push_str(text);
        if self.closed {
            let comma = source
                .trim_end_matches([' ', '\t', '\r', '\n'])
                .len()
                .checked_sub(1)?;
            if source.as_bytes().get(comma) != Some(&b',') {
                return None;
            }
            source.replace_range(comma..comma + 1, "}");
        }
        Some(source)
    }

    /// The window's plaintext from the plaintext of [`JsonWindow::source`]
    /// (its brace taken off, its comma put back: no value is there).
    fn restore(self, mut piece: Zeroizing<String>) -> Option<Zeroizing<String>> {
        if self.closed {
            let brace = piece.rfind('}')?;
            piece.replace_range(brace..brace + 1, ",");
        }
        if self.opened {
            if !piece.starts_with('{') {
                return None;
            }
            // Shifts the bytes in place: no copy of the plaintext is left.
            piece.remove(0);
        }
        Some(piece)
    }
}

/// Whether two metadata say the same, wherever they were read (their
/// trees hold the spans of where they were read).
fn same(a: &Metadata, b: &Metadata) -> bool {
    flatten(&a.to_node()) == flatten(&b.to_node())
}

/// Reads a file from its start and cuts it into windows.
struct Cutter<'r, R: Read> {
    reader: &'r mut R,
    format: Format,
    /// Bytes read and not yet in a window.
    carry: Vec<u8>,
    /// The file offset of `carry`'s first byte.
    at: u64,
    /// Where the metadata lines start: no cut at or after it.
    meta_start: u64,
    eof: bool,
    /// How far `carry` was scanned for a cut without finding one: the next
    /// scan goes on from there, so a text with no place to cut (top-level
    /// keys each below a comment) is scanned once, not once per read.
    scan: Scan,
    /// Lines judged and JSON bytes read by the scans (tests check that a
    /// text is scanned once).
    #[cfg(test)]
    work: usize,
}

/// Where a scan of `carry` for a cut stopped (see [`Cutter::find_cut`]).
#[derive(Clone, Copy, Default)]
struct Scan {
    /// The offset in `carry` to go on from: a line's start (the JSON scan:
    /// the next byte to read).
    pos: usize,
    /// The JSON scan's state at `pos`.
    json: JsonState,
}

/// The state of the JSON scan (see [`Cutter::find_json_cut`]).
#[derive(Clone, Copy, Default)]
struct JsonState {
    depth: i64,
    in_string: bool,
    escaped: bool,
    line_start: usize,
}

impl<'r, R: Read> Cutter<'r, R> {
    fn new(reader: &'r mut R, format: Format, meta_start: u64) -> Self {
        Cutter {
            reader,
            format,
            carry: Vec::new(),
            at: 0,
            meta_start,
            eof: false,
            scan: Scan::default(),
            #[cfg(test)]
            work: 0,
        }
    }

    /// The next window; `None` at the end.
    #[cfg(test)]
    fn next(&mut self) -> Result<Option<Window>, StreamError> {
        self.next_into(Vec::new())
    }

    /// The next window, in `buf` (empty) unless it is the last; `None` at
    /// the end.
    fn next_into(&mut self, mut buf: Vec<u8>) -> Result<Option<Window>, StreamError> {
        if self.eof && self.carry.is_empty() {
            return Ok(None);
        }
        let first = self.at == 0;
        loop {
            if let Some(cut) = self.find_cut() {
                buf.clear();
                buf.extend_from_slice(self.carry.get(..cut).unwrap_or_default());
                let bytes = buf;
                self.carry.drain(..cut);
                self.at += cut as u64;
                self.scan = Scan::default();
                return Ok(Some(Window {
                    bytes,
                    first,
                    last: false,
                }));
            }
            if self.eof {
                let bytes = std::mem::take(&mut self.carry);
                return Ok(Some(Window {
                    bytes,
                    first,
                    last: true,
                }));
            }
            let want = WINDOW / 2;
            self.carry.reserve_exact(want);
            let read = Read::take(&mut *self.reader, want as u64).read_to_end(&mut self.carry)?;
            self.eof = read < want;
        }
    }

    /// A cut in `carry`, at least [`WINDOW`] bytes in: the byte after the
    /// line break of a line that reads as a `KEY=value` line, before the
    /// metadata, and not before a line that starts with a byte order mark.
    /// `None`: read more (or the rest is the last window).
    fn find_cut(&mut self) -> Option<usize> {
        let carry = &self.carry;
        let limit = usize::try_from(self.meta_start.checked_sub(self.at)?).unwrap_or(usize::MAX);
        // No cut before WINDOW bytes are read (JSON included: its scan is
        // not repeated on every read of a window).
        let head = carry.get(..WINDOW)?;
        if self.format == Format::Json {
            return self.find_json_cut(limit);
        }
        let first = memchr::memrchr(b'\n', head).map_or(0, |i| i + 1);
        let mut line_start = first.max(self.scan.pos);
        let found = loop {
            let Some(len) = carry
                .get(line_start..)
                .and_then(|rest| memchr::memchr(b'\n', rest))
            else {
                break None;
            };
            let brk = line_start + len;
            let cut = brk + 1;
            if cut >= limit {
                break None;
            }
            let line = carry.get(line_start..brk).unwrap_or_default();
            #[cfg(test)]
            {
                self.work += 1;
            }
            // Each format looks past comment (and blank) lines to the key or
            // header below them, up to the metadata (a comment above it
            // stays with it); the lines after the cut are judged whole, so
            // more is read if they end first. YAML reads the window so far
            // (it starts a top-level entry), the others the line before.
            // Both sides read only so far (the judges read a few lines
            // each way; validating the whole window at every line judged
            // cost 1 ms on a 100,000-value .env file).
            let end = limit.min(carry.len()).min(cut + LOOK);
            let rest = carry.get(cut..end).unwrap_or_default();
            let (before, judge): (&[u8], CutJudge) = match self.format {
                // From a line start: the window's, or the first after the
                // look-back's start.
                Format::Yaml => (
                    match cut.checked_sub(LOOK) {
                        Some(from) => carry
                            .get(from..cut)
                            .and_then(|b| b.get(memchr::memchr(b'\n', b)? + 1..))
                            .unwrap_or_default(),
                        None => carry.get(..cut).unwrap_or_default(),
                    },
                    yaml::cut_here,
                ),
                Format::Toml => (line, toml_cut_here),
                _ => (line, dotenv_cut_here),
            };
            let yes = match (std::str::from_utf8(before).ok(), utf8_prefix(rest)) {
                (Some(before), rest) => judge(before, rest),
                (None, _) => Some(false),
            };
            let yes = match yes {
                Some(yes) => yes,
                // Read more, unless the look-ahead or the data ended.
                None if !self.eof && end == carry.len() => break None,
                None => false,
            };
            if yes {
                break Some(cut);
            }
            line_start = cut;
        };
        // Not found: the lines before `line_start` were judged already.
        self.scan.pos = line_start;
        found
    }
}

impl<R: Read> Cutter<'_, R> {
    /// A JSON cut in `carry`, at least [`WINDOW`] bytes in and before
    /// `limit`: after a line break where the text read so far is inside
    /// the top-level object and no deeper (every window but the first
    /// starts so, the first outside it), after a line that ends with a
    /// comma and before one that starts with a string. A JSON string never
    /// holds a line break, so a string that seems to go on past one is
    /// damage, which the windows' parse finds.
    fn find_json_cut(&mut self, limit: usize) -> Option<usize> {
        let from = self.scan.pos;
        let mut state = if from == 0 {
            JsonState {
                depth: if self.at == 0 { 0 } else { 1 },
                ..JsonState::default()
            }
        } else {
            self.scan.json
        };
        let found = self.json_cut_from(from, &mut state, limit);
        #[cfg(test)]
        {
            self.work += self.carry.len().saturating_sub(from);
        }
        if found.is_none() {
            self.scan.json = state;
        }
        found
    }

    /// [`Cutter::find_json_cut`] from byte `from` of `carry`, in `state`;
    /// returning `None`, it leaves in `state` (and `scan.pos`) where to go
    /// on from when more is read.
    fn json_cut_from(&mut self, from: usize, state: &mut JsonState, limit: usize) -> Option<usize> {
        let carry = &self.carry;
        let JsonState {
            mut depth,
            mut in_string,
            mut escaped,
            mut line_start,
        } = *state;
        // Where to go on from, and the state there, when no cut is found.
        let mut stop = (carry.len(), 0usize);
        let mut found = None;
        for (i, &b) in carry.iter().enumerate().skip(from) {
            let before = JsonState {
                depth,
                in_string,
                escaped,
                line_start,
            };
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    (false, b'\n') => in_string = false,
                    _ => {}
                }
                if b != b'\n' {
                    continue;
                }
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth -= 1,
                b'\n' => {
                    let cut = i + 1;
                    if cut >= limit {
                        // No cut from here on (the metadata follows).
                        stop = (i, 1);
                        *state = before;
                        break;
                    }
                    if cut >= WINDOW && depth == 1 {
                        let next = carry.get(cut..).unwrap_or_default();
                        let Some(first) = next.iter().position(|b| !b.is_ascii_whitespace()) else {
                            // Read more to see the next line's start: this
                            // line break is judged again then.
                            stop = (i, 1);
                            *state = before;
                            break;
                        };
                        let line = carry.get(line_start..i).unwrap_or_default();
                        if next.get(first) == Some(&b'"') && line.trim_ascii_end().ends_with(b",") {
                            found = Some(cut);
                            break;
                        }
                    }
                    line_start = cut;
                }
                _ => {}
            }
        }
        if found.is_none() {
            if stop.1 == 0 {
                *state = JsonState {
                    depth,
                    in_string,
                    escaped,
                    line_start,
                };
            }
            self.scan.pos = stop.0;
        }
        found
    }
}

/// How far before and after a cut the judges are given the text.
const LOOK: usize = 16 * 1024;

/// The longest prefix of `bytes` that is UTF-8 (a look-ahead may end in
/// the middle of a character).
fn utf8_prefix(bytes: &[u8]) -> &str {
    match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => bytes
            .get(..e.valid_up_to())
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default(),
    }
}

/// Whether a cut may be made, given the text before it and after it (see
/// [`yaml::cut_here`], [`toml_cut_here`]).
type CutJudge = fn(&str, &str) -> Option<bool>;

/// Whether a .env window may end with the line `prev` (its line break
/// left out) and the next start with the text `rest`: after a `KEY=value`
/// line, before a line that looks like `KEY=` (no multi-line value runs
/// into one, see `dotenv::Grammar::MultiLine`, so none crosses the cut);
/// or, after a line that also looks like `KEY=` itself (so it is no line
/// of a multi-line value, and its value ends on it), before the comment
/// and blank lines above such a line. Never before a byte order mark.
/// `None` if `rest` ends before the answer.
fn dotenv_cut_here(prev: &str, rest: &str) -> Option<bool> {
    use crate::syntax::dotenv::starts_key_line;
    if !is_pair(prev.as_bytes()) {
        return Some(false);
    }
    let strict = starts_key_line(prev, 0);
    let mut lines = rest.split_inclusive('\n');
    for (i, line) in lines.by_ref().take(MAX_TRIVIA_LINES + 1).enumerate() {
        if line.as_bytes().starts_with(BOM) {
            return Some(false);
        }
        // The next line is judged whole; a key line after comments too.
        if !line.ends_with('\n') {
            return None;
        }
        if starts_key_line(line, 0) {
            return Some(i == 0 || strict);
        }
        if !strict || !is_trivia(line) {
            return Some(false);
        }
    }
    lines.next().map(|_| false)
}

/// Comment and blank lines looked past for the key line or header below
/// them.
const MAX_TRIVIA_LINES: usize = 32;

/// A whole line (with its line break) that is a comment or blank.
fn is_trivia(line: &str) -> bool {
    line.trim_start_matches([' ', '\t'])
        .starts_with(['#', '\r', '\n'])
}

/// Whether a TOML window may end with the line `prev` (its line break left
/// out) and the next start with the text `rest`: after content, before a
/// table header at column 0 or before the comment and blank lines right
/// above one (the comments between a table's content and the next header
/// belong to that header's table, in the window as in the whole document).
/// `None` if `rest` ends (or has a line without its line break) before the
/// header is found or refused.
fn toml_cut_here(prev: &str, rest: &str) -> Option<bool> {
    let prev = prev.trim_start_matches([' ', '\t']);
    if prev.is_empty() || prev.starts_with(['#', '\r']) {
        return Some(false);
    }
    let mut lines = rest.split_inclusive('\n');
    for line in lines.by_ref().take(MAX_TRIVIA_LINES + 1) {
        if line.starts_with('[') {
            return Some(true);
        }
        if !line.ends_with('\n') {
            return None;
        }
        if !is_trivia(line) {
            return Some(false);
        }
    }
    // More trivia lines than are looked past: no cut; else read more.
    lines.next().map(|_| false)
}

/// Whether a physical line reads as a whole `KEY=value` line: an `=` after
/// a key, a first non-blank byte that is not `#`, and no double quote
/// opening the value that does not close on the line (a multi-line value
/// goes on). A continuation line of a quoted value may read so too; a cut
/// after it leaves an unterminated quote before it, which the window's
/// parse refuses.
fn is_pair(line: &[u8]) -> bool {
    let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c);
    let Some(first) = line.iter().position(|b| !blank(b)) else {
        return false;
    };
    let Some(eq) = line.iter().position(|&b| b == b'=') else {
        return false;
    };
    if line.get(first) == Some(&b'#') || eq <= first {
        return false;
    }
    let value = line.get(eq + 1..).unwrap_or_default();
    let lead = value.iter().take_while(|b| blank(b)).count();
    // As the parser reads it: a metadata key (from the line's start) is
    // never quoted.
    let quoted = value.get(lead) == Some(&b'"') && !line.starts_with(META);
    !quoted || closes(value.get(lead + 1..).unwrap_or_default())
}

/// Whether a double-quoted text that starts with `text` closes in it (a
/// backslash escapes the next byte).
fn closes(text: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return true,
            _ => i += 1,
        }
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::cipher::{CipherKind, ValueCipher};
    use crate::engine::{decrypt, encrypt, open, EncryptOptions, KeyMaterial};
    use crate::metadata::Selector;
    use proptest::prelude::*;
    use std::io::Cursor;
    use std::path::PathBuf;

    const KEY: [u8; 32] = [5u8; 32];
    const NOW: &str = "2026-11-22T00:00:00Z";

    fn encrypted(doc: &str, cipher: CipherKind, selector: Selector, mac_only: bool) -> String {
        encrypted_as(Format::Dotenv, doc, cipher, selector, mac_only)
    }

    fn encrypted_as(
        format: Format,
        doc: &str,
        cipher: CipherKind,
        selector: Selector,
        mac_only: bool,
    ) -> String {
        let opts = EncryptOptions {
            cipher,
            selector,
            mac_only_encrypted: mac_only,
            ..EncryptOptions::default()
        };
        encrypt(format, doc, &KEY, &opts, KeyMaterial::default(), NOW).unwrap()
    }

    /// [`encrypted_as`] with the default selector, or `None` for a document
    /// sops could not read in `AES256_GCM` mode (refused: a top-level JSON
    /// array, a number beyond the float64 range).
    fn encrypted_unless_refused(format: Format, doc: &str, cipher: CipherKind) -> Option<String> {
        let opts = EncryptOptions {
            cipher,
            ..EncryptOptions::default()
        };
        match encrypt(format, doc, &KEY, &opts, KeyMaterial::default(), NOW) {
            Err(EngineError::SopsUnreadable(_)) if cipher == CipherKind::Aes256Gcm => None,
            other => Some(other.unwrap()),
        }
    }

    /// Whether the .env text `doc` can be encrypted with `cipher`: for
    /// `AES256_GCM`, sops's grammar must read it (a multi-line value whose
    /// lines do not all read as pairs cannot be).
    fn readable_by_sops(doc: &str, cipher: CipherKind) -> bool {
        cipher == CipherKind::XChaCha20Poly1305
            || crate::syntax::dotenv::parse_as(doc, Grammar::Sops).is_ok()
    }

    /// `doc` encrypted with the default settings.
    fn sealed(doc: &str) -> String {
        sealed_as(Format::Dotenv, doc)
    }

    /// `doc` encrypted with XChaCha20-Poly1305, every value selected.
    fn sealed_as(format: Format, doc: &str) -> String {
        encrypted_as(
            format,
            doc,
            CipherKind::XChaCha20Poly1305,
            Selector::default(),
            false,
        )
    }

    /// The tail read and the pass over `enc`, or `None` when the
    /// whole-document path is needed.
    fn streamed(
        enc: &str,
        key: &[u8; 32],
        ignore_mac: bool,
    ) -> Option<Result<Zeroizing<String>, StreamError>> {
        streamed_as(Format::Dotenv, enc, key, ignore_mac)
    }

    fn streamed_as(
        format: Format,
        enc: &str,
        key: &[u8; 32],
        ignore_mac: bool,
    ) -> Option<Result<Zeroizing<String>, StreamError>> {
        let stream = scan(format, &mut Cursor::new(enc)).unwrap()?;
        match stream.decrypt(&mut enc.as_bytes(), key, ignore_mac) {
            Err(StreamError::Irregular) => None,
            other => Some(other.map(|p| p.joined())),
        }
    }

    /// What the streamed decryption gives is what the whole document's
    /// gives.
    fn check_equal(enc: &str, key: &[u8; 32]) -> Result<(), TestCaseError> {
        check_equal_as(Format::Dotenv, enc, key, true)
    }

    /// [`check_equal`] for `format`; `must`: the file must stream (else
    /// it may be left to the whole path).
    fn check_equal_as(
        format: Format,
        enc: &str,
        key: &[u8; 32],
        must: bool,
    ) -> Result<(), TestCaseError> {
        let whole = decrypt(&open(format, enc).unwrap(), key, false).unwrap();
        let plain = streamed_as(format, enc, key, false);
        if plain.is_none() && !must {
            return Ok(());
        }
        prop_assert!(plain.is_some(), "not streamed: {:?}", enc);
        let plain = plain.unwrap().unwrap();
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
    fn marker_lines_are_found_anywhere() {
        let has = |t: &[u8]| has_marker_line(&mut std::io::Cursor::new(t.to_vec())).unwrap();
        for (text, want) in [
            ("a: 1\n", false),
            ("", false),
            ("---\na: 1\n", true),
            ("\u{feff}---\na: 1\n", true),
            ("\u{feff}a: 1\n", false),
            ("a: 1\n...\n", true),
            ("a: 1\n---", true),
            ("a: 1\n--", false),
            ("%YAML 1.1\n---\na: 1\n", true),
            ("a: |\n  ---\n", false),
            ("a: x---\nb: ...\n", false),
        ] {
            assert_eq!(has(text.as_bytes()), want, "{text:?}");
        }
        // Across the reader's buffer, at every offset near its end.
        for at in (1 << 20) - 6..(1 << 20) + 3 {
            let mut text = vec![b'a'; at];
            text[at - 1] = b'\n';
            text.extend_from_slice(b"---\nb: 1\n");
            assert!(has(&text), "{at}");
            let n = text.len();
            text[at] = b'x';
            assert!(!has(&text[..n]), "{at}");
        }
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
                if !readable_by_sops(&doc, cipher) {
                    continue;
                }
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

    #[test]
    fn failures_are_those_of_the_whole_document() {
        let doc = "A=1\nB=2\nC=3\nD=4\nE=5\nF=6\nG=7\n";
        let enc = sealed(doc);
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

    /// Files the whole-document path is for, and files that look like
    /// them but stream (to the whole document's plaintext).
    #[test]
    fn irregular_files_are_left_to_the_whole_path() {
        let doc = "A=1\nB=2\nC=3\nD=4\nE=5\nF=6\nG=7\n";
        let enc = sealed(doc);
        let meta_at = enc.find("sops_").unwrap();
        let (body, meta) = enc.split_at(meta_at);
        let version = meta
            .lines()
            .find(|l| l.starts_with("sops_version"))
            .unwrap();
        let irregular = [
            doc.to_string(),
            String::new(),
            format!("{enc}C=3\n"),
            format!("{body}no equals\n{meta}"),
            format!("A=1\n{version}\n{body}{meta}"),
            enc.replace("sops_version=", "sops_version\n"),
        ];
        for case in irregular {
            assert!(streamed(&case, &KEY, false).is_none(), "{case:?}");
        }
        // A double quote that does not close before a line that reads as
        // `KEY=` is a one-line value: such files are regular, and stream
        // to what the whole path gives.
        for case in [
            format!("{body}X=\"open\n{meta}"),
            format!("X=\"open\n{enc}"),
            format!("X=\"\nY=1\n{body}{meta}"),
            enc.replace("sops_mac=", "sops_mac=\"\n"),
        ] {
            let whole = open(Format::Dotenv, &case).and_then(|f| decrypt(&f, &KEY, false));
            if let Some(plain) = streamed(&case, &KEY, false) {
                match (plain, whole) {
                    (Ok(p), Ok(w)) => assert_eq!(p.as_str(), w.as_str()),
                    (Err(StreamError::Engine(p)), Err(w)) => {
                        assert_eq!(p.to_string(), w.to_string())
                    }
                    (p, w) => panic!("{case:?}: {:?} / {:?}", p.is_ok(), w.is_ok()),
                }
            }
        }
        let mut bytes = enc.clone().into_bytes();
        bytes.insert(2, 0xff);
        let stream = scan(Format::Dotenv, &mut Cursor::new(&bytes))
            .unwrap()
            .unwrap();
        assert!(matches!(
            stream.decrypt(&mut bytes.as_slice(), &KEY, false),
            Err(StreamError::Irregular)
        ));
        // A quoted value cannot hold a line that reads as metadata (it
        // reads as `KEY=`): the quote is a one-line value, and the line
        // after the metadata line has no `=`.
        let opts = EncryptOptions {
            selector: Selector::UnencryptedRegex("^X$".into()),
            ..EncryptOptions::default()
        };
        let inside = format!("X=\"\n{version}\n\"\n{doc}");
        assert!(encrypt(
            Format::Dotenv,
            &inside,
            &KEY,
            &opts,
            KeyMaterial::default(),
            NOW
        )
        .is_err());
        // Multi-byte characters cut by reads, quoted values that span
        // lines and lines that read as pairs inside them.
        for doc in [
            "A=éééééééééééééééééééééééééééééééééééé\nB=ü\n",
            "A=\"x\nB1\nC2\nD3\nE4\n5 ü\"\nG=1\nH=2\nI=3\nJ=4\nK=5\n",
            "A=\"x\nB 1=\nC2\nD3\nE4\n5 ü\"\nG=1\nH=2\nI=3\nJ=4\nK=5\n",
            "A=\"x\nB=1\nC=2\nD=3\nE=4\nF=5 ü\"\nG=1\nH=2\nI=3\nJ=4\nK=5\n",
        ] {
            for selector in [Selector::default(), Selector::UnencryptedRegex("A".into())] {
                let enc = encrypted(doc, CipherKind::XChaCha20Poly1305, selector, false);
                let whole = decrypt(&open(Format::Dotenv, &enc).unwrap(), &KEY, false).unwrap();
                if let Some(plain) = streamed(&enc, &KEY, false) {
                    assert_eq!(plain.unwrap().as_str(), whole.as_str());
                }
            }
        }
    }

    #[test]
    fn pair_lines() {
        for (line, pair) in [
            ("A=1", true),
            ("  export A = 1\r", true),
            ("A=\"x\"", true),
            ("A= \"x \\\" y\" # c", true),
            ("A=\"open", false),
            ("A=\"esc\\\"", false),
            ("sops_mac=\"", true),
            ("  sops_mac=\"", false),
            ("# A=1", false),
            ("=1", false),
            ("  ", false),
            ("no equals", false),
            ("A='x", true),
        ] {
            assert_eq!(is_pair(line.as_bytes()), pair, "{line}");
        }
    }

    /// .env cuts: before the comment and blank lines above a key line only
    /// after a line that looks like `KEY=` itself; never inside a
    /// multi-line value (whose lines may look like comments or pairs).
    #[test]
    fn dotenv_cuts_before_comments() {
        for (prev, rest, cut) in [
            ("A=1", "B=2\n", Some(true)),
            ("A=1", "# c\n\nB=2\n", Some(true)),
            ("A=1", "# c\n", None),
            ("A=1", "# c\nnot a key\n", Some(false)),
            ("a b = 1", "B=2\n", Some(true)),
            ("a b = 1", "# c\nB=2\n", Some(false)),
            ("A=\"open", "# c\nB=2\n", Some(false)),
            ("# A=1", "B=2\n", Some(false)),
            ("A=1", "\u{feff}B=2\n", Some(false)),
        ] {
            assert_eq!(dotenv_cut_here(prev, rest), cut, "{prev:?} {rest:?}");
        }
        let doc: String = (0..40)
            .map(|i| {
                format!(
                    "# setting {i}\n\nKEY_{i}=v{i}\n# more {i}\nOTHER_{i}=w{i}\nNOTE_{i}_unencrypted=\"first\nfoo bar = x\n# not a comment\nlast\"\n"
                )
            })
            .collect();
        streams_in_windows(Format::Dotenv, &doc);
    }

    /// A file that changed since its metadata was read decrypts as what
    /// was read in the pass (with the metadata of the tail), or fails:
    /// never a mix.
    #[test]
    fn a_file_changed_since_the_tail_was_read() {
        let doc = "A=1\nB=2\nC=3\nD=4\nE=5\nF=6\nG=7\n";
        let enc = sealed(doc);
        let stream = scan(Format::Dotenv, &mut Cursor::new(&enc))
            .unwrap()
            .unwrap();
        let later = sealed("A=2\n");
        for changed in [
            &enc[1..],
            &format!("{enc}X=1\n")[..],
            &enc[..enc.len() - 1],
            &later,
        ] {
            let result = stream.decrypt(&mut changed.as_bytes(), &KEY, false);
            if let Ok(plain) = result {
                let whole = decrypt(&open(Format::Dotenv, changed).unwrap(), &KEY, false).unwrap();
                assert_eq!(plain.joined().as_str(), whole.as_str());
            }
        }
        assert!(stream.decrypt(&mut later.as_bytes(), &KEY, false).is_err());
    }

    fn yaml_fixtures() -> Vec<(String, String)> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/yaml");
        let mut docs = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with("fail_") {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(&path) {
                docs.push((name, text));
            }
        }
        docs
    }

    /// Every YAML fixture, with both ciphers and comments sealed or not,
    /// decrypts to what the whole document gives, and the usual ones
    /// stream.
    #[test]
    fn yaml_fixtures_stream_to_the_whole_documents_plaintext() {
        let mut streamed_files = 0;
        for (name, doc) in yaml_fixtures() {
            if crate::engine::plaintext(Format::Yaml, &doc).is_err() {
                continue;
            }
            for cipher in [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm] {
                for selector in [Selector::default(), Selector::UnencryptedRegex("^a".into())] {
                    let opts = EncryptOptions {
                        cipher,
                        selector,
                        ..EncryptOptions::default()
                    };
                    // Aliases of encrypted values cannot be written in AES mode.
                    let Ok(enc) =
                        encrypt(Format::Yaml, &doc, &KEY, &opts, KeyMaterial::default(), NOW)
                    else {
                        continue;
                    };
                    check_equal_as(Format::Yaml, &enc, &KEY, false)
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    streamed_files +=
                        usize::from(streamed_as(Format::Yaml, &enc, &KEY, false).is_some());
                }
            }
        }
        assert!(streamed_files > 20, "{streamed_files} streamed");
    }

    /// `doc` (with comments, some holding `more`), encrypted with each
    /// comment selector, streams in more than ten windows to its
    /// plaintext, and the whole path agrees.
    fn streams_in_windows(format: Format, doc: &str) {
        for selector in [
            Selector::default(),
            Selector::UnencryptedCommentRegex("more".into()),
        ] {
            // A YAML or TOML window may not see the comment above a
            // mapping that selects what it holds: values the comments
            // leave in clear leave it to the whole path (see
            // `audit::check`); a .env window sees them all.
            let whole = format != Format::Dotenv && selector != Selector::default();
            let enc = encrypted_as(format, doc, CipherKind::XChaCha20Poly1305, selector, false);
            let stream = scan(format, &mut Cursor::new(&enc)).unwrap().unwrap();
            match stream.decrypt(&mut enc.as_bytes(), &KEY, false) {
                Err(StreamError::Irregular) if whole => {}
                Ok(plain) if !whole => {
                    assert!(plain.pieces.len() > 10, "{} windows", plain.pieces.len());
                    assert_eq!(plain.joined().as_str(), doc);
                }
                _ => panic!("{format:?}: streamed when it should not, or failed"),
            }
            check_equal_as(format, &enc, &KEY, false).unwrap();
        }
    }

    /// A YAML document of many windows streams, cut only before top-level
    /// keys, to the whole document's plaintext; aliases, several documents
    /// and damage leave it to the whole path, never to another plaintext.
    /// A text with no place to cut (a blank line above every top-level key,
    /// below a comment;
    /// JSON nested one level deeper than cuts are made) is scanned once as
    /// it is read a piece at a time, not once per piece: the scans' work
    /// grows with the text, not with its square (a 4.6 MB file took 14 s).
    #[test]
    fn a_text_without_cuts_is_scanned_once() {
        let mut yaml = String::new();
        let mut json = String::from("{\"all\": {\n");
        for i in 0..2000 {
            yaml.push_str(&format!("# c {i}\n\nkey_{i}:\n  a: {i}\n"));
            json.push_str(&format!("  \"k{i}\": {i},\n"));
        }
        json.push_str("  \"end\": 0\n}}\n");
        for (format, text, most) in [
            (Format::Yaml, &yaml, 3 * 6000),
            (Format::Json, &json, 2 * json.len()),
        ] {
            let mut reader = text.as_bytes();
            let mut cutter = Cutter::new(&mut reader, format, text.len() as u64);
            let mut windows = Vec::new();
            while let Some(w) = cutter.next().unwrap() {
                windows.push(w.bytes);
            }
            assert_eq!(windows.len(), 1, "{format:?}");
            assert_eq!(windows.concat(), text.as_bytes());
            assert!(cutter.work <= most, "{format:?}: {} > {most}", cutter.work);
        }
        // Where cuts exist they are the same as before: windows of a few
        // lines each, joined back to the text.
        let plain: String = (0..200).map(|i| format!("key_{i}: {i}\n")).collect();
        let mut reader = plain.as_bytes();
        let mut cutter = Cutter::new(&mut reader, Format::Yaml, plain.len() as u64);
        let mut windows = Vec::new();
        while let Some(w) = cutter.next().unwrap() {
            windows.push(w.bytes);
        }
        assert!(windows.len() > 50, "{}", windows.len());
        assert_eq!(windows.concat(), plain.as_bytes());
    }

    #[test]
    fn yaml_windows() {
        let mut doc = String::from("# head\n");
        for i in 0..40 {
            doc.push_str(&format!(
                "key_{i}:\n  # c {i}\n  a: {i}\n  b: |\n    text {i}\n  list: [x, 'y {i}']\ntop_{i}: \"q {i}\"\n"
            ));
        }
        let enc = sealed_as(Format::Yaml, &doc);
        let stream = scan(Format::Yaml, &mut Cursor::new(&enc)).unwrap().unwrap();
        let plain = stream.decrypt(&mut enc.as_bytes(), &KEY, false).unwrap();
        assert!(plain.pieces.len() > 10, "{} windows", plain.pieces.len());
        assert_eq!(plain.joined().as_str(), doc);
        // Comments right above the top-level keys (sealed at the path of
        // the top-level mapping, or left clear by a comment selector):
        // cut before them, still the whole document's plaintext.
        let commented: String = (0..60)
            .map(|i| format!("# service {i}\n# more\nsvc_{i}:\n  a: {i}  # note\n  b: x{i}\n"))
            .collect();
        streams_in_windows(Format::Yaml, &commented);
        let irregular = [
            format!("base: &b 1\n{doc}other: *b\n"),
            format!("{doc}---\nsecond: 1\n"),
        ];
        for text in irregular {
            let enc = sealed_as(Format::Yaml, &text);
            assert!(
                streamed_as(Format::Yaml, &enc, &KEY, false).is_none(),
                "{text}"
            );
            check_equal_as(Format::Yaml, &enc, &KEY, false).unwrap();
        }
        // A value moved to another key fails (through the whole path).
        let lines: Vec<&str> = enc.lines().collect();
        let a0 = lines.iter().position(|l| l.starts_with("  a: ")).unwrap();
        let a5 = lines.iter().rposition(|l| l.starts_with("  a: ")).unwrap();
        let mut moved: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        moved.swap(a0, a5);
        let moved = moved.join("\n") + "\n";
        assert!(streamed_as(Format::Yaml, &moved, &KEY, false).is_none());
    }

    /// Damage to do to a file: where, what (insert the text, cut there,
    /// flip a bit, drop the line).
    fn edits() -> impl Strategy<Value = Vec<(prop::sample::Index, u8, String)>> {
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                0u8..4,
                "[A-Za-z=\"#\n_: -]{0,6}",
            ),
            1..4,
        )
    }

    fn check_damaged(
        format: Format,
        enc: &str,
        edits: Vec<(prop::sample::Index, u8, String)>,
        ignore_mac: bool,
    ) -> Result<(), TestCaseError> {
        let mut enc = enc.as_bytes().to_vec();
        for (at, kind, text) in edits {
            let i = at.index(enc.len() + 1);
            match kind {
                0 => enc.splice(i..i, text.bytes()).for_each(drop),
                1 => enc.truncate(i),
                2 => {
                    if let Some(b) = enc.get_mut(i) {
                        *b ^= 0x01;
                    }
                }
                _ => {
                    let end = enc
                        .iter()
                        .skip(i)
                        .position(|&b| b == b'\n')
                        .map_or(enc.len(), |p| i + p + 1);
                    enc.drain(i..end).for_each(drop);
                }
            }
        }
        let Ok(text) = String::from_utf8(enc) else {
            return Ok(());
        };
        let whole = open(format, &text).and_then(|f| decrypt(&f, &KEY, ignore_mac));
        match streamed_as(format, &text, &KEY, ignore_mac) {
            None => {}
            Some(Ok(plain)) => {
                prop_assert!(whole.is_ok(), "streamed, whole failed: {:?}", text);
                let whole = whole.unwrap();
                prop_assert_eq!(plain.as_str(), whole.as_str());
            }
            Some(Err(e)) => prop_assert!(
                whole.is_err(),
                "streamed failed ({e}), whole did not: {:?}",
                text
            ),
        }
        Ok(())
    }

    /// Every TOML fixture, both ciphers, decrypts to what the whole
    /// document gives; a document of many tables streams, and one whose
    /// table is reopened after a cut is left to the whole path or gives
    /// the same plaintext.
    #[test]
    fn toml_files_stream_to_the_whole_documents_plaintext() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/toml");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let Ok(doc) = std::fs::read_to_string(&path) else {
                continue;
            };
            if crate::engine::plaintext(Format::Toml, &doc).is_err() {
                continue;
            }
            for cipher in [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm] {
                let enc = encrypted_as(Format::Toml, &doc, cipher, Selector::default(), false);
                check_equal_as(Format::Toml, &enc, &KEY, false)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
        let mut doc = String::from("title = \"t\" # c\n");
        for i in 0..40 {
            doc.push_str(&format!(
                "[svc_{i}]\nport = {i}\nname = \"n {i}\"\n# about\n[[svc_{i}.tags]]\nv = 'x {i}'\ntext = \"\"\"\n[not_a_header]\n\"\"\"\n"
            ));
        }
        let enc = sealed_as(Format::Toml, &doc);
        let stream = scan(Format::Toml, &mut Cursor::new(&enc)).unwrap().unwrap();
        let plain = stream.decrypt(&mut enc.as_bytes(), &KEY, false).unwrap();
        assert!(plain.pieces.len() > 10, "{} windows", plain.pieces.len());
        assert_eq!(plain.joined().as_str(), doc);
        // Comment and blank lines above the headers (the comments belong
        // to the header's table), and comment-like lines in a string: cut
        // before the comments, still the whole document's plaintext.
        let commented: String = (0..40)
            .map(|i| {
                format!(
                    "# service {i}\n\n# more\n[svc_{i}]\nport = {i} # p\ntext = \"\"\"\n# not a comment\n\n[not_a_header]\n\"\"\"\n# foot {i}\n"
                )
            })
            .collect();
        streams_in_windows(Format::Toml, &commented);
        let reopened = format!("[a]\nx = 1\n[b]\ny = 2\n[a.c]\nz = 3\n{doc}");
        let enc = sealed_as(Format::Toml, &reopened);
        check_equal_as(Format::Toml, &enc, &KEY, false).unwrap();
    }

    /// A table defined twice across windows, with no value whose MAC order
    /// changes (keys are not in the MAC): each window parses alone and the
    /// MAC verifies, but the whole document is not TOML. Left to the whole
    /// parse, which refuses it (session 15's proptest case: `k4 = []`,
    /// then `[[k4.sub]]` in a later window).
    #[test]
    fn toml_tables_defined_twice_across_windows_are_left_to_the_whole_parse() {
        let mut doc = String::from("k4 = []\nname = \"n\"\n");
        for i in 0..20 {
            doc.push_str(&format!("[svc_{i}]\nport = {i}\n"));
        }
        doc.push_str("[[zz.sub]]\n# only a comment\n");
        for (from, to) in [("[[zz.sub]]", "[[k4.sub]]"), ("[svc_19]", "[svc_0]")] {
            let enc = sealed_as(Format::Toml, &doc);
            let good = streamed_as(Format::Toml, &enc, &KEY, false)
                .unwrap()
                .unwrap();
            assert_eq!(good.as_str(), doc);
            let damaged = enc.replacen(from, to, 1);
            assert_ne!(damaged, enc);
            assert!(open(Format::Toml, &damaged).is_err(), "{from}");
            assert!(
                streamed_as(Format::Toml, &damaged, &KEY, false).is_none(),
                "{from}"
            );
        }
    }

    /// A generated JSON document as generated (random layout, mostly on
    /// few lines) or as the emitter writes it (a member or item per line,
    /// as sops does).
    fn json_document() -> impl Strategy<Value = String> {
        (crate::syntax::json::proptests::document(), any::<bool>()).prop_map(
            |((doc, _), pretty)| {
                let syntax = Format::Json.syntax();
                match syntax.parse(&doc).and_then(|p| Ok(syntax.emit(&p.tree))) {
                    Ok(Ok(emitted)) if pretty => emitted,
                    _ => doc,
                }
            },
        )
    }

    /// Every JSON fixture, both ciphers, decrypts to what the whole
    /// document gives; a document of many members streams in many
    /// windows (nested objects and arrays over several lines, a key
    /// repeated in another window, CRLF); a file on one line is one window.
    #[test]
    fn json_files_stream_to_the_whole_documents_plaintext() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/json");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let Ok(doc) = std::fs::read_to_string(&path) else {
                continue;
            };
            if crate::engine::plaintext(Format::Json, &doc).is_err() {
                continue;
            }
            for cipher in [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm] {
                let Some(enc) = encrypted_unless_refused(Format::Json, &doc, cipher) else {
                    continue;
                };
                check_equal_as(Format::Json, &enc, &KEY, false)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                checked += 1;
            }
        }
        assert!(checked >= 10, "{checked}");
        for eol in ["\n", "\r\n"] {
            let mut doc = String::from("{");
            for i in 0..40 {
                doc.push_str(&format!(
                    "{eol}  \"svc_{i}\": {{{eol}    \"port\": {i},{eol}    \"tags\": [{eol}      \"a\",{eol}      \"b {i}\"{eol}    ],{eol}    \"name\": \"n, {i}\"{eol}  }},{eol}  \"flat_{i}\": \"x\","
                ));
            }
            doc.push_str(&format!(
                "{eol}  \"svc_3\": 1,{eol}  \"end\": [1, 2]{eol}}}{eol}"
            ));
            for cipher in [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm] {
                let enc = encrypted_as(Format::Json, &doc, cipher, Selector::default(), false);
                let stream = scan(Format::Json, &mut Cursor::new(&enc)).unwrap().unwrap();
                let plain = stream.decrypt(&mut enc.as_bytes(), &KEY, false);
                let plain = plain.unwrap();
                assert!(plain.pieces.len() > 10, "{} windows", plain.pieces.len());
                if cipher == CipherKind::XChaCha20Poly1305 {
                    assert_eq!(plain.joined().as_str(), doc);
                }
                check_equal_as(Format::Json, &enc, &KEY, true).unwrap();
            }
        }
        let one_line = r#"{"a": "x", "b": [1, 2], "c": {"d": true}}"#;
        let enc = sealed_as(Format::Json, one_line);
        let enc = enc.replace("\n", "");
        let stream = scan(Format::Json, &mut Cursor::new(&enc)).unwrap();
        assert!(stream.is_none(), "one line: no metadata line to find");
        // A top-level array is left to the whole path.
        let enc = encrypted_as(
            Format::Json,
            "[\n  1,\n  2\n]\n",
            CipherKind::XChaCha20Poly1305,
            Selector::default(),
            false,
        );
        assert!(streamed_as(Format::Json, &enc, &KEY, false).is_none());
    }

    /// The lean .env opener against [`open_window`] on every run of lines
    /// of `enc`'s body (its metadata left out): where it opens a run, the
    /// plaintext and the MAC input are the same; returns how many runs it
    /// opened.
    fn lean_agrees(enc: &str, key: &[u8; 32]) -> Result<usize, TestCaseError> {
        let stream = scan(Format::Dotenv, &mut Cursor::new(enc))
            .unwrap()
            .unwrap();
        let mode = MacMode::of_metadata(Format::Dotenv, &stream.metadata);
        let body = &enc[..stream.meta_start as usize];
        let starts: Vec<usize> = std::iter::once(0)
            .chain(body.match_indices('\n').map(|(i, _)| i + 1))
            .filter(|&i| i < body.len())
            .collect();
        let mut opened = 0;
        for (n, &a) in starts.iter().enumerate() {
            for &b in starts.iter().skip(n + 1).take(4).chain([&body.len()]) {
                let text = &body[a..b];
                let mut lean_feed = MacFeed::recording(mode);
                let Some(lean) = open_lean_dotenv(text, key, mode, &mut lean_feed) else {
                    continue;
                };
                opened += 1;
                let file = EncryptedFile {
                    format: Format::Dotenv,
                    src: text,
                    parsed: parse_encrypted(Format::Dotenv, text).unwrap(),
                    metadata: stream.metadata.clone(),
                };
                let mut feed = MacFeed::recording(mode);
                let (usual, _) = open_window(&file, key, &mut feed).unwrap();
                prop_assert_eq!(lean.as_str(), usual.as_str(), "{:?}", text);
                let (mut a_mac, mut b_mac) = (MacFeed::new(mode, false), MacFeed::new(mode, false));
                a_mac.absorb(lean_feed);
                b_mac.absorb(feed);
                prop_assert_eq!(a_mac.finish(), b_mac.finish(), "{:?}", text);
            }
        }
        Ok(opened)
    }

    /// Plain `KEY=value` files take the lean path, with comments sealed or
    /// in clear, and it agrees with the usual one; a wrong key, an AES
    /// file, a comment sealed at another path or a value and a comment of
    /// each other's type leave it to the usual path.
    #[test]
    fn lean_dotenv_windows_agree_with_the_usual_path() {
        let doc: String = (0..12).map(|i| format!("KEY_{i}=value {i}\n")).collect();
        let enc = sealed(&doc);
        let opened = lean_agrees(&enc, &KEY).unwrap();
        assert!(opened > 30, "{opened}");
        let stream = scan(Format::Dotenv, &mut Cursor::new(&enc))
            .unwrap()
            .unwrap();
        let mode = MacMode::of_metadata(Format::Dotenv, &stream.metadata);
        let body = &enc[..stream.meta_start as usize];
        let mut feed = MacFeed::recording(mode);
        assert!(open_lean_dotenv(body, &[6u8; 32], mode, &mut feed).is_none());
        let with_comment = format!("# c\n{body}");
        let lean = open_lean_dotenv(&with_comment, &KEY, mode, &mut feed).unwrap();
        assert!(lean.starts_with("# c\nKEY_0=value 0\n"));
        let commented: String = (0..12)
            .map(|i| format!("# about {i}\nKEY_{i}=value {i}\n#\n\n"))
            .collect();
        let enc = sealed(&commented);
        assert!(enc.starts_with("#ENC["), "{enc}");
        let opened = lean_agrees(&enc, &KEY).unwrap();
        assert!(opened > 30, "{opened}");
        // A comment sealed with a value's AAD (as where an earlier build
        // put one): the usual path finds it, the lean one leaves it.
        let mut vc = ValueCipher::new(&KEY);
        let (mut scratch, mut moved) = (Vec::new(), String::from("#"));
        vc.seal_into(
            CipherKind::XChaCha20Poly1305,
            b" moved",
            b"KEY_0:",
            "comment",
            &mut scratch,
            &mut moved,
        )
        .unwrap();
        let text = format!("{moved}\n{body}");
        assert!(open_lean_dotenv(&text, &KEY, mode, &mut feed).is_none());
        let file = EncryptedFile {
            format: Format::Dotenv,
            src: &text,
            parsed: parse_encrypted(Format::Dotenv, &text).unwrap(),
            metadata: stream.metadata.clone(),
        };
        let (usual, _) = open_window(&file, &KEY, &mut MacFeed::recording(mode)).unwrap();
        assert!(usual.starts_with("# moved\nKEY_0=value 0\n"));
        // A value's `ENC[…]` as a comment, a comment's as a value.
        let (first, rest) = body.split_once('\n').unwrap();
        let value = first.split_once('=').unwrap().1;
        let as_comment = format!("#{value}\n{rest}");
        assert!(open_lean_dotenv(&as_comment, &KEY, mode, &mut feed).is_none());
        let comment_enc = enc.lines().next().unwrap().trim_start_matches('#');
        let as_value = format!("KEY_0={comment_enc}\n{rest}");
        assert!(open_lean_dotenv(&as_value, &KEY, mode, &mut feed).is_none());
        let aes = encrypted(&doc, CipherKind::Aes256Gcm, Selector::default(), false);
        let stream = scan(Format::Dotenv, &mut Cursor::new(&aes))
            .unwrap()
            .unwrap();
        let aes_mode = MacMode::of_metadata(Format::Dotenv, &stream.metadata);
        let aes_body = &aes[..stream.meta_start as usize];
        assert!(open_lean_dotenv(aes_body, &KEY, aes_mode, &mut feed).is_none());
        for doc in fixtures() {
            lean_agrees(&sealed(&doc), &KEY).unwrap();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::testing::cases(256)))]

        #[test]
        fn generated_files_stream_to_the_whole_documents_plaintext(
            doc in crate::syntax::dotenv::tests::props::file(),
            aes in any::<bool>(),
        ) {
            let cipher = if aes { CipherKind::Aes256Gcm } else { CipherKind::XChaCha20Poly1305 };
            prop_assume!(readable_by_sops(&doc, cipher));
            let enc = encrypted(&doc, cipher, Selector::default(), false);
            check_equal(&enc, &KEY)?;
        }

        #[test]
        fn generated_yaml_documents_stream_to_the_whole_documents_plaintext(
            doc in crate::syntax::yaml::proptests::document(),
            aes in any::<bool>(),
        ) {
            let cipher = if aes { CipherKind::Aes256Gcm } else { CipherKind::XChaCha20Poly1305 };
            if crate::engine::plaintext(Format::Yaml, &doc).is_ok() {
                let enc = encrypted_as(Format::Yaml, &doc, cipher, Selector::default(), false);
                check_equal_as(Format::Yaml, &enc, &KEY, false)?;
            }
        }

        /// Damaged files (bytes changed, lines inserted or dropped, the
        /// text cut): whatever the streamed decryption gives, the whole
        /// document's decryption agrees. A plaintext is the same one, a
        /// failure is a failure (or the file is left to the whole path).
        #[test]
        fn generated_lean_dotenv_windows_agree_with_the_usual_path(
            doc in crate::syntax::dotenv::tests::props::file(),
        ) {
            lean_agrees(&sealed(&doc), &KEY)?;
        }

        #[test]
        fn damaged_files_never_stream_to_another_plaintext(
            doc in crate::syntax::dotenv::tests::props::file(),
            edits in edits(),
            ignore_mac in any::<bool>(),
        ) {
            check_damaged(Format::Dotenv, &sealed(&doc), edits, ignore_mac)?;
        }

        #[test]
        fn generated_toml_documents_stream_to_the_whole_documents_plaintext(
            doc in crate::syntax::toml::tests::generated::document(),
            aes in any::<bool>(),
        ) {
            let cipher = if aes { CipherKind::Aes256Gcm } else { CipherKind::XChaCha20Poly1305 };
            if crate::engine::plaintext(Format::Toml, &doc).is_ok() {
                let enc = encrypted_as(Format::Toml, &doc, cipher, Selector::default(), false);
                check_equal_as(Format::Toml, &enc, &KEY, false)?;
            }
        }

        #[test]
        fn damaged_toml_files_never_stream_to_another_plaintext(
            doc in crate::syntax::toml::tests::generated::document(),
            edits in edits(),
            ignore_mac in any::<bool>(),
        ) {
            if crate::engine::plaintext(Format::Toml, &doc).is_ok() {
                let enc = sealed_as(Format::Toml, &doc);
                check_damaged(Format::Toml, &enc, edits, ignore_mac)?;
            }
        }

        #[test]
        fn generated_json_documents_stream_to_the_whole_documents_plaintext(
            doc in json_document(),
            aes in any::<bool>(),
        ) {
            let cipher = if aes { CipherKind::Aes256Gcm } else { CipherKind::XChaCha20Poly1305 };
            if crate::engine::plaintext(Format::Json, &doc).is_ok() {
                if let Some(enc) = encrypted_unless_refused(Format::Json, &doc, cipher) {
                    check_equal_as(Format::Json, &enc, &KEY, false)?;
                }
            }
        }

        #[test]
        fn damaged_json_files_never_stream_to_another_plaintext(
            doc in json_document(),
            edits in edits(),
            ignore_mac in any::<bool>(),
        ) {
            if crate::engine::plaintext(Format::Json, &doc).is_ok() {
                let enc = sealed_as(Format::Json, &doc);
                check_damaged(Format::Json, &enc, edits, ignore_mac)?;
            }
        }

        #[test]
        fn damaged_yaml_files_never_stream_to_another_plaintext(
            doc in crate::syntax::yaml::proptests::document(),
            edits in edits(),
            ignore_mac in any::<bool>(),
        ) {
            if crate::engine::plaintext(Format::Yaml, &doc).is_ok() {
                let enc = sealed_as(Format::Yaml, &doc);
                check_damaged(Format::Yaml, &enc, edits, ignore_mac)?;
            }
        }
    }
}
