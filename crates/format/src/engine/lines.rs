//! .env documents encrypted a window of lines at a time.
//!
//! A .env file's metadata goes at its end, and nothing in a line depends on
//! another line's (no nesting, no aliases; the comment-selector state ends
//! at every `KEY=value` line). So the document is parsed, MACed and
//! encrypted in windows of lines cut after `KEY=value` lines
//! ([`crate::syntax::dotenv::windows`]), and the metadata with the MAC of
//! all of them is written last: the whole tree of a large file is never in
//! memory. Windows are encrypted on every core ([`par::ordered`]) and
//! written, with their MAC input, in order. The output is what encrypting
//! the document whole gives (tested).

use super::{feed_mac, par, seal, seal_mac, EngineError};
use crate::cipher::{CipherKind, ValueCipher};
use crate::mac::Mac;
use crate::metadata::Metadata;
use crate::select::Decider;
use crate::splice::SpliceError;
use crate::syntax::dotenv::{self, parse_as, Grammar, LineTable, PlainLine, Windows};
use crate::syntax::ParseError;
use crate::syntax::{Format, Parsed};
use std::io::Write;

/// About how many lines a window holds: few enough that one thread
/// encrypts a window (see [`par`]), the windows going to every core. Small
/// in unit tests, so that every .env encryption test crosses windows.
pub(super) const WINDOW_LINES: usize = if cfg!(test) { 3 } else { 1000 };

/// Windows in flight (cut and not yet written), per worker.
const AHEAD: usize = 2;

/// From this size on, a .env text is checked in two parts at once (a
/// thread costs about what checking 200 KB does). Always in unit tests.
const SPLIT_CHECK: usize = if cfg!(test) { 0 } else { 1 << 20 };

/// Check the .env text `src` and find its window cuts, as
/// [`crate::syntax::dotenv::windows`] does; a large text in two parts on
/// two threads (see [`crate::syntax::dotenv::check_split`]).
pub(super) fn check(src: &str) -> Result<Windows, ParseError> {
    let grammar = Grammar::MultiLine;
    let split = (src.len() >= SPLIT_CHECK && par::workers() > 1)
        .then(|| dotenv::check_split(src, src.len() / 2))
        .flatten();
    let Some((at, head, tail)) = split.and_then(|at| Some((at, src.get(..at)?, src.get(at..)?)))
    else {
        return dotenv::windows(src, WINDOW_LINES, grammar);
    };
    let mut parts = par::run_all(
        [head, tail]
            .map(|part| move || dotenv::windows(part, WINDOW_LINES, grammar))
            .into(),
    )
    .into_iter();
    let (Some(first), Some(second)) = (parts.next(), parts.next()) else {
        return dotenv::windows(src, WINDOW_LINES, grammar);
    };
    dotenv::join_windows(src, at, first, second, WINDOW_LINES, grammar)
}

/// Where a .env text is cut into windows, and what the check read of each
/// window's lines (see [`crate::syntax::dotenv::Windows`]).
pub(super) struct Cut<'c> {
    pub(super) cuts: &'c [usize],
    /// The lines of every window, if kept: sealing then reads no line
    /// again.
    pub(super) lines: Option<LineTable>,
}

/// Encrypt the .env text `src`, cut into `windows` (see
/// [`crate::syntax::dotenv::windows`]), with the settings and keys of
/// `template`, into `sink`.
pub(super) fn encrypt_dotenv(
    src: &str,
    windows: Cut<'_>,
    key: &[u8; 32],
    cipher: CipherKind,
    template: Metadata,
    now: &str,
    sink: &mut dyn Write,
) -> Result<(), EngineError> {
    let syntax = Format::Dotenv.syntax();
    let decider = Decider::new(&template.effective_selector())?;
    // The metadata can be written (checked before anything is).
    syntax.insert_metadata(src, &Parsed::default(), &template.to_node())?;
    let mac_only = template.mac_only_encrypted;
    let mut mac = Mac::new(mac_only);
    let cuts = windows.cuts;
    let table = windows.lines.filter(|t| t.windows() == cuts.len() + 1);
    let mut bounds = std::iter::once(0)
        .chain(cuts.iter().copied())
        .zip(cuts.iter().copied().chain([src.len()]))
        .enumerate()
        .map(|(i, (start, end))| (start, end, table.as_ref().map(|t| (t, i))));
    // No thread is started for a text of one window (and the system is not
    // asked for its cores: half a dozen system calls).
    let workers = match cuts.len() {
        0 => 1,
        n => par::workers().min(n + 1),
    };
    let pool = par::Pool::default();
    let mut gather = par::Gather::default();
    par::ordered(
        workers,
        workers * AHEAD,
        || Ok(bounds.next()),
        |(start, end, lines)| {
            let window = Window {
                src,
                start,
                end,
                lines,
            };
            seal_window(window, key, cipher, &decider, mac_only, &pool)
        },
        |window| {
            let (text, part) = window?;
            gather.push(text, sink, &pool).map_err(EngineError::Write)?;
            mac.absorb(part);
            Ok(())
        },
        || EngineError::Write(std::io::Error::other("a worker thread stopped")),
    )?;
    gather.flush(sink, &pool).map_err(EngineError::Write)?;
    let metadata = Metadata {
        lastmodified: now.to_string(),
        mac: seal_mac(cipher, key, &mac.finish(), now)?,
        ..template
    };
    let end = src.len();
    for edit in syntax.insert_metadata(src, &Parsed::default(), &metadata.to_node())? {
        if edit.span != (end..end) {
            return Err(SpliceError::OutOfBounds(edit.span.start, edit.span.end).into());
        }
        sink.write_all(edit.text.as_bytes())
            .map_err(EngineError::Write)?;
    }
    sink.flush().map_err(EngineError::Write)
}

/// The room to reserve for the sealed text of the window `text`: sealed
/// values are about four times as long as their plaintexts. Rounded up to a
/// power of two, so that a buffer handed back by the pool (sized for the
/// window before) is not grown by a few bytes for the next: such a buffer
/// is a mapping of its own, and growing it was a `mremap`, whose flush of
/// the other core's TLB was 8% of a 100,000-key encryption's samples.
fn sealed_room(text: &str) -> usize {
    (text.len() * 4).next_power_of_two()
}

/// The window `start..end` of `src`, with the table of lines the check
/// kept and the window's number in it.
struct Window<'s> {
    src: &'s str,
    start: usize,
    end: usize,
    lines: Option<(&'s LineTable, usize)>,
}

/// Encrypt a window: its text (in a buffer from `pool`) and its MAC input.
fn seal_window(
    window: Window<'_>,
    key: &[u8; 32],
    cipher: CipherKind,
    decider: &Decider,
    mac_only: bool,
    pool: &par::Pool,
) -> Result<(Vec<u8>, Mac), EngineError> {
    let syntax = Format::Dotenv.syntax();
    let Window {
        src,
        start,
        end,
        lines,
    } = window;
    let text = src
        .get(start..end)
        .ok_or(SpliceError::OutOfBounds(start, end))?;
    let out = String::from_utf8(pool.take()).unwrap_or_default();
    let sealed = match lines.and_then(|(table, i)| table.window(i, text)) {
        Some((lines, commented)) => {
            seal_lines(text, lines, commented, key, cipher, decider, mac_only, out)
        }
        None => seal_pairs(text, key, cipher, decider, mac_only, out),
    };
    if let Some(sealed) = sealed {
        return Ok(sealed);
    }
    // The whole text was checked line by line already; an error here is
    // reported at its place in the whole text.
    let grammar = Grammar::of(cipher);
    let parsed = match parse_as(text, grammar) {
        Ok(p) => p,
        Err(e) => return Err(parse_as(src, grammar).err().unwrap_or(e).into()),
    };
    let mut part = Mac::recording();
    feed_mac(&mut part, &parsed.tree, decider, mac_only);
    let mut out = pool.take();
    out.reserve(sealed_room(text));
    seal::seal_document(
        syntax,
        text,
        &parsed.tree,
        key,
        cipher,
        decider,
        None,
        &[],
        &mut out,
    )?;
    Ok((out, part))
}

/// A window of `KEY=value` lines, comments and blank lines sealed without
/// its tree: what [`seal::seal_document`] and [`feed_mac`] give for it
/// (tested against them). Unless a comment regex selects the values (a
/// comment then changes what the pairs after it get), every value is
/// judged by its key alone, and every comment by the selector alone, as a
/// top-level comment with no key of its own (`decider.comment(&[], &[])`,
/// AAD `:`, type `comment`, not in the MAC). `None` for any other window,
/// one with comments under a comment regex, or if the random source fails:
/// the caller seals it the usual way. The text is written into `out`
/// (emptied first).
fn seal_pairs(
    text: &str,
    key: &[u8; 32],
    cipher: CipherKind,
    decider: &Decider,
    mac_only: bool,
    out: String,
) -> Option<(Vec<u8>, Mac)> {
    let lines = crate::syntax::dotenv::plain_lines(text, Grammar::of(cipher))?;
    let commented = lines.iter().any(|l| matches!(l, PlainLine::Comment(_)));
    seal_lines(
        text,
        lines.into_iter(),
        commented,
        key,
        cipher,
        decider,
        mac_only,
        out,
    )
}

/// [`seal_pairs`] for the `lines` of `text` as [`plain_lines`] gives them
/// (`commented`: a comment is among them).
///
/// [`plain_lines`]: crate::syntax::dotenv::plain_lines
#[allow(clippy::too_many_arguments)]
fn seal_lines(
    text: &str,
    lines: impl Iterator<Item = PlainLine>,
    commented: bool,
    key: &[u8; 32],
    cipher: CipherKind,
    decider: &Decider,
    mac_only: bool,
    mut out: String,
) -> Option<(Vec<u8>, Mac)> {
    // Before anything is sealed: under a comment regex a comment changes
    // what the pairs after it get, which the tree walk decides.
    if decider.reads_comments() && commented {
        return None;
    }
    // Otherwise the selector alone decides every comment.
    let comments_sealed = decider.comment(&[], &[]);
    let mut sealer = ValueCipher::new(key);
    // The values are a part of the text: room for all of it.
    let mut part = Mac::recording_with_capacity(text.len());
    out.clear();
    out.reserve(sealed_room(text));
    let mut batch = SealBatch::with_capacity(SEAL_BATCH);
    let mut pos = 0;
    for line in lines {
        match line {
            PlainLine::Pair(k, v) => {
                let name = text.get(k)?;
                let raw = text.get(v.clone())?;
                let decoded =
                    crate::syntax::dotenv::decoded_value(raw).map(zeroize::Zeroizing::new);
                let value: &str = decoded.as_deref().map_or(raw, String::as_str);
                let selected = decider.value(&[name], &[]);
                if selected || !mac_only {
                    part.update(value.as_bytes());
                }
                if !selected || value.is_empty() {
                    continue;
                }
                // As the tree would: the lexeme in XChaCha20 files, the value in
                // sops-compatible ones.
                let plain = match cipher {
                    CipherKind::XChaCha20Poly1305 => raw,
                    CipherKind::Aes256Gcm => value,
                };
                batch.push(v, plain, &[name], "str");
            }
            PlainLine::Comment(span) => {
                let comment = text.get(span.clone())?;
                if !comments_sealed || comment.is_empty() {
                    continue;
                }
                batch.push(span, comment, &[], "comment");
            }
        }
        if batch.len() == SEAL_BATCH {
            batch.seal(text, &mut pos, &mut sealer, cipher, &mut out)?;
        }
    }
    batch.seal(text, &mut pos, &mut sealer, cipher, &mut out)?;
    out.push_str(text.get(pos..)?);
    Some((out.into_bytes(), part))
}

/// Values sealed together (see [`ValueCipher::seal_batch_append`]).
const SEAL_BATCH: usize = 32;

/// The values of a window waiting to be sealed together, in order: their
/// spans, plaintexts, AADs (`KEY:`) and types. The plaintexts are copied into one
/// buffer that never leaves a copy behind and is wiped when sealed and
/// when dropped.
#[derive(Default)]
struct SealBatch {
    spans: Vec<std::ops::Range<usize>>,
    /// Where each plaintext and AAD ends in `plain` and `aads`.
    ends: Vec<(usize, usize)>,
    plain: crate::wipe::SecretBytes,
    aads: String,
    types: Vec<&'static str>,
    scratch: zeroize::Zeroizing<Vec<u8>>,
}

impl SealBatch {
    /// Room for `n` values (about 20 bytes of text and of path each).
    fn with_capacity(n: usize) -> SealBatch {
        SealBatch {
            spans: Vec::with_capacity(n),
            ends: Vec::with_capacity(n),
            plain: crate::wipe::SecretBytes::with_capacity(n * 32),
            aads: String::with_capacity(n * 32),
            types: Vec::with_capacity(n),
            scratch: zeroize::Zeroizing::new(Vec::with_capacity(n * 32)),
        }
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    fn push(&mut self, span: std::ops::Range<usize>, plain: &str, path: &[&str], ty: &'static str) {
        self.spans.push(span);
        self.plain.extend(plain.as_bytes());
        crate::cipher::push_aad(&mut self.aads, path);
        self.ends.push((self.plain.len(), self.aads.len()));
        self.types.push(ty);
    }

    /// Seal the waiting values into `out`, each after the text of `text`
    /// before it (from `pos`, which is moved past the last). `None` if the
    /// random source fails.
    fn seal(
        &mut self,
        text: &str,
        pos: &mut usize,
        sealer: &mut ValueCipher,
        cipher: CipherKind,
        out: &mut String,
    ) -> Option<()> {
        let mut values = Vec::with_capacity(self.len());
        let (mut p0, mut a0) = (0, 0);
        for &(p1, a1) in &self.ends {
            values.push((
                self.plain.as_slice().get(p0..p1)?,
                self.aads.as_bytes().get(a0..a1)?,
            ));
            (p0, a0) = (p1, a1);
        }
        let (spans, mut at, mut in_bounds) = (&self.spans, *pos, true);
        let types = &self.types;
        let ty = |i: usize| types.get(i).copied().unwrap_or("str");
        sealer
            .seal_batch_append(cipher, &values, ty, &mut self.scratch, out, |i, out| {
                // The text between the previous value and this one.
                match spans.get(i).and_then(|s| Some((s, text.get(at..s.start)?))) {
                    Some((span, between)) => {
                        out.push_str(between);
                        at = span.end;
                    }
                    None => in_bounds = false,
                }
            })
            .ok()?;
        if !in_bounds {
            return None;
        }
        *pos = at;
        self.plain.clear();
        self.spans.clear();
        self.ends.clear();
        self.aads.clear();
        self.types.clear();
        Some(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::engine::{
        encrypt_with, new_metadata, open, plaintext, Checked, EncryptOptions, KeyMaterial,
    };
    use crate::metadata::Selector;
    use crate::select::Decider;

    const KEY: [u8; 32] = [3u8; 32];
    const NOW: &str = "2026-11-22T00:00:00Z";

    /// Every `ENC[…]` text replaced by `E`.
    fn masked(s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("ENC[") {
            out.push_str(&rest[..i]);
            out.push('E');
            rest = &rest[i..];
            rest = &rest[rest.find(']').map_or(rest.len(), |j| j + 1)..];
        }
        out.push_str(rest);
        out
    }

    /// Encrypting in windows gives what encrypting whole gives (the same
    /// text but for the random nonces, the same MAC), and decrypts back.
    #[test]
    fn windows_equal_the_whole() {
        let docs = [
            "A=1\nB=two\nC=3\nD=4\nE=5\nF=6\nG=7\n",
            "# head\nA=1\n\n# about B\nB=x # inline\nexport C='q'\nD=\"multi\nline\"\nE=5\nF_unencrypted=open\nG=7",
            "A=1\r\nB=2\r\n# c\r\nC=3\r\nD=4\r\nE=5\r\n",
            "\u{feff}A=1\nB=2\nC=3\nD=4\n\u{feff}E=5\nF=6\nG=7\n",
            "",
            "# only a comment\n",
            "A=1\nB=2\nC=3\nD=\"open\n\nquote\"\nE=\\\\n\nF=6\r",
        ];
        let selectors = [
            Selector::default(),
            Selector::EncryptedCommentRegex("^ about".into()),
        ];
        for doc in docs {
            for selector in &selectors {
                for mac_only in [false, true] {
                    let opts = EncryptOptions {
                        selector: selector.clone(),
                        mac_only_encrypted: mac_only,
                        ..EncryptOptions::default()
                    };
                    let checked = plaintext(Format::Dotenv, doc).unwrap();
                    let Checked::Lines { cuts, .. } = &checked.checked else {
                        panic!("not windowed");
                    };
                    let template = new_metadata(&opts, KeyMaterial::default());
                    // Sealed with the lines the check kept, and reading
                    // each window's lines again.
                    let w = check(doc).unwrap();
                    assert_eq!(&w.cuts, cuts);
                    assert!(w.lines.is_some());
                    let mut tabled = Vec::new();
                    let cut = Cut {
                        cuts,
                        lines: w.lines,
                    };
                    encrypt_dotenv(
                        doc,
                        cut,
                        &KEY,
                        opts.cipher,
                        template.clone(),
                        NOW,
                        &mut tabled,
                    )
                    .unwrap();
                    let mut windowed = Vec::new();
                    encrypt_dotenv(
                        doc,
                        Cut { cuts, lines: None },
                        &KEY,
                        opts.cipher,
                        template.clone(),
                        NOW,
                        &mut windowed,
                    )
                    .unwrap();
                    let mut whole = Vec::new();
                    encrypt_with(
                        Format::Dotenv,
                        doc,
                        None,
                        &KEY,
                        opts.cipher,
                        template,
                        NOW,
                        None,
                        &mut whole,
                    )
                    .unwrap();
                    let (tabled, windowed, whole) = (
                        String::from_utf8(tabled).unwrap(),
                        String::from_utf8(windowed).unwrap(),
                        String::from_utf8(whole).unwrap(),
                    );
                    assert_eq!(masked(&windowed), masked(&whole), "{doc:?}");
                    assert_eq!(masked(&tabled), masked(&whole), "{doc:?}");
                    for out in [&tabled, &windowed, &whole] {
                        let file = open(Format::Dotenv, out).unwrap();
                        let plain = crate::engine::decrypt(&file, &KEY, false).unwrap();
                        assert_eq!(plain.as_str(), doc);
                    }
                    // The same MAC: the one of the whole document.
                    let mac = |out: &str| {
                        let m = open(Format::Dotenv, out).unwrap().metadata.mac;
                        crate::cipher::EncValue::parse(&m)
                            .unwrap()
                            .open(&KEY, crate::engine::mac_aad(NOW).as_bytes())
                            .unwrap()
                            .to_vec()
                    };
                    assert_eq!(mac(&windowed), mac(&whole));
                    assert_eq!(mac(&tabled), mac(&whole));
                    if doc.len() > 40 {
                        assert!(!cuts.is_empty(), "{doc:?}");
                    }
                }
            }
        }
    }

    /// The usual sealing of a window: its text (values masked) and MAC.
    fn usual(
        text: &str,
        cipher: CipherKind,
        decider: &Decider,
        mac_only: bool,
    ) -> (String, String) {
        let syntax = Format::Dotenv.syntax();
        // As `seal_window` parses: in the cipher's grammar (a sops file is
        // read line by line, so `A="` then `>="` are two values there).
        let parsed = parse_as(text, Grammar::of(cipher)).unwrap();
        let mut mac = Mac::new(mac_only);
        feed_mac(&mut mac, &parsed.tree, decider, mac_only);
        let mut out = Vec::new();
        seal::seal_document(
            syntax,
            text,
            &parsed.tree,
            &KEY,
            cipher,
            decider,
            None,
            &[],
            &mut out,
        )
        .unwrap();
        (masked(&String::from_utf8(out).unwrap()), mac.finish())
    }

    /// Every run of lines of `doc`: where the lean sealing takes it, the
    /// same text (but for the nonces) and the same MAC input as the usual
    /// one, and values that open to the plaintext. Returns how many runs it
    /// took.
    fn lean_agrees(doc: &str) -> usize {
        let starts: Vec<usize> = std::iter::once(0)
            .chain(doc.match_indices('\n').map(|(i, _)| i + 1))
            .filter(|&i| i < doc.len())
            .collect();
        let selectors = [
            Selector::default(),
            Selector::EncryptedRegex("^[A-M]".into()),
            Selector::UnencryptedSuffix("_clear".into()),
            Selector::EncryptedSuffix("_secret".into()),
            Selector::UnencryptedRegex("^N".into()),
            Selector::EncryptedCommentRegex("^ about".into()),
            Selector::UnencryptedCommentRegex("open".into()),
        ];
        let mut taken = 0;
        for (n, &a) in starts.iter().enumerate() {
            for &b in starts.iter().skip(n + 1).take(3).chain([&doc.len()]) {
                let text = &doc[a..b];
                if crate::syntax::dotenv::plain_lines(text, Grammar::Sops).is_none() {
                    assert!(seal_pairs(
                        text,
                        &KEY,
                        CipherKind::Aes256Gcm,
                        &Decider::new(&Selector::default()).unwrap(),
                        false,
                        String::new(),
                    )
                    .is_none());
                    continue;
                }
                for selector in &selectors {
                    let decider = Decider::new(selector).unwrap();
                    for cipher in [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm] {
                        let commented =
                            crate::syntax::dotenv::plain_pairs(text, Grammar::of(cipher)).is_none();
                        if commented && decider.reads_comments() {
                            // A comment regex: left to the usual sealing.
                            assert!(
                                seal_pairs(text, &KEY, cipher, &decider, false, String::new())
                                    .is_none(),
                                "{text:?}"
                            );
                            continue;
                        }
                        for mac_only in [false, true] {
                            // In a buffer that held another window.
                            let reused = String::from("another window's text\n");
                            let (out, part) =
                                seal_pairs(text, &KEY, cipher, &decider, mac_only, reused).unwrap();
                            let mut mac = Mac::new(mac_only);
                            mac.absorb(part);
                            let out = String::from_utf8(out).unwrap();
                            let (their_out, their_mac) = usual(text, cipher, &decider, mac_only);
                            assert_eq!(masked(&out), their_out, "{text:?}");
                            assert_eq!(mac.finish(), their_mac, "{text:?}");
                            taken += 1;
                        }
                        // The values it seals (their types and AADs) open
                        // as the file's: the window encrypted as a file
                        // (one window, sealed this way) decrypts back.
                        let opts = EncryptOptions {
                            cipher,
                            selector: selector.clone(),
                            mac_only_encrypted: false,
                        };
                        let mut file = Vec::new();
                        let template = new_metadata(&opts, KeyMaterial::default());
                        let whole = Cut {
                            cuts: &[],
                            lines: None,
                        };
                        encrypt_dotenv(text, whole, &KEY, cipher, template, NOW, &mut file)
                            .unwrap();
                        let file = String::from_utf8(file).unwrap();
                        let opened = open(Format::Dotenv, &file).unwrap();
                        let plain = crate::engine::decrypt(&opened, &KEY, false).unwrap();
                        assert_eq!(plain.as_str(), text, "{selector:?} {cipher:?}");
                    }
                }
            }
        }
        taken
    }

    /// The lean sealing agrees with the usual one on every window of plain
    /// pairs and comments (CRLF, a BOM, quotes, multi-line values, `\n`
    /// escapes, empty values and comments, indented comments, selected and
    /// clear keys, comments that a selector leaves clear) and leaves
    /// windows with comments under a comment regex to it; the values it
    /// seals open to their plaintexts.
    #[test]
    fn lean_windows_agree_with_the_usual_sealing() {
        let docs = [
            "A=1\nB=two words\nC=\nN_clear=open\nM=x\\ny\n",
            "\u{feff}A=1\r\nB=\"q\"\r\n\r\nexport C='s'\r\nZ=\"multi\nline\"\n",
            "# c\nA=1\nB=2\n",
            "A=1\nB=2 # not a comment\nC=3",
            "#\nA=1\n# about B\r\nB_secret=2\r\n#   \r\n  # indented\nN=open\n# last",
            "\u{feff}# open\nA=\"multi\n# not a comment\"\n\t#\ttab\nB=x\\ny\n#",
            // A BOM, then a quote closed on the next line (found by the
            // property test): one value in XChaCha mode, two in AES mode.
            "\u{feff}A=\"\r\n>=\"",
        ];
        let taken: usize = docs.iter().map(|d| lean_agrees(d)).sum();
        assert!(taken > 100, "{taken}");
        let doc = "A=1\nB=two\nC=x\\ny\n";
        let opts = EncryptOptions::default();
        let enc = crate::engine::encrypt(
            Format::Dotenv,
            doc,
            &KEY,
            &opts,
            KeyMaterial::default(),
            NOW,
        )
        .unwrap();
        let file = open(Format::Dotenv, &enc).unwrap();
        assert_eq!(
            crate::engine::decrypt(&file, &KEY, false).unwrap().as_str(),
            doc
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(crate::testing::cases(64)))]

        #[test]
        fn generated_lean_windows_agree(doc in crate::syntax::dotenv::tests::props::file()) {
            lean_agrees(&doc);
        }
    }

    /// Metadata lines and syntax errors are found before anything is
    /// written, at their place in the whole text.
    #[test]
    fn checks_come_first() {
        assert!(matches!(
            plaintext(Format::Dotenv, "A=1\nB=2\nC=3\nD=4\nsops_version=3\n"),
            Err(EngineError::AlreadyEncrypted)
        ));
        match plaintext(Format::Dotenv, "A=1\nB=2\nC=3\nD=4\nE=5\nno equals\n") {
            Err(EngineError::Parse(e)) => assert_eq!((e.line, e.column), (6, 1)),
            _ => panic!("no error"),
        }
    }
}
