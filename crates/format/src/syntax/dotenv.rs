//! The .env (dotenv) syntax: `KEY=value` lines, `#` comment lines and blank
//! lines, read the way sops reads them so that both tools agree on keys,
//! values and the MAC, while every byte of the file is kept.
//!
//! * A key is every byte before the first `=` (`export X` and `SPACED ` are
//!   keys, as in sops: the key is the AAD path). A leading BOM is part of
//!   the first key, as in sops (its AAD is `\u{feff}KEY:`); [`env_key`]
//!   drops it.
//! * A value is every byte after the first `=` up to the end of the line
//!   (a `\r` before a `\n` is part of the line break; a final lone `\r` is content, as in sops). Its [`Value::Str`]
//!   is that text with the two characters `\n` turned into a newline, quotes
//!   and inline comments included, exactly as sops sees it. In
//!   [`Grammar::MultiLine`] (sops-like's own files), a value whose first
//!   non-blank character is `"` and whose closing quote is on a later line
//!   runs to the end of the line holding the closing quote, unless a line
//!   that looks like `KEY=` (see [`starts_key_line`]) comes first: then, or
//!   when the quote never closes, the value is that one line, as in sops.
//!   [`Grammar::Sops`] (files sops reads: `AES256_GCM` ones) never joins
//!   lines.
//! * The metadata is the `sops_…` lines: flattened names (see
//!   [`super::flat`]), sorted, appended at the end of the file.
//!
//! [`env_key`] and [`env_value`] give the dotenv meaning of a key and a
//! value (quotes and escapes processed), for `exec-env`.

mod edit;

use super::flat::{flat_value, flatten, unflatten};
use super::{EmitError, ParseError, Parsed, PathStep, Syntax};
use crate::splice::Edit;
use crate::tree::{Comment, Entry, Item, Node, Pair, Scalar, Slot, Span, Tree, Value};
use crate::wipe::SecretText;
use zeroize::Zeroizing;

/// The dotenv format.
pub struct Dotenv;

/// The prefix of the metadata keys.
const META_PREFIX: &str = "sops_";
/// A UTF-8 byte order mark.
const BOM: &str = "\u{feff}";

impl Syntax for Dotenv {
    fn name(&self) -> &'static str {
        "dotenv"
    }

    /// The grammar is [`grammar_of`] the text.
    fn parse(&self, src: &str) -> Result<Parsed, ParseError> {
        parse_with(src, false, grammar_of(src))
    }

    fn enc_lexeme(&self, _slot: Slot, enc: &str) -> String {
        enc.to_string()
    }

    fn value_lexeme(&self, _slot: Slot, value: &Value) -> String {
        match value {
            Value::Str(s) => escape_newlines(s),
            other => flat_value(other).unwrap_or_default(),
        }
    }

    /// A one-line value whose double quotes, if it opens with one, close
    /// on the line: a parse reads the same text (see the module docs).
    fn simple_value(&self, lexeme: &str, _slot: Slot) -> Option<Value> {
        if lexeme.contains(['\n', '\r']) {
            return None;
        }
        let body = lexeme.trim_start_matches(is_blank);
        if body.starts_with('"') {
            let open = lexeme.len() - body.len();
            closing_quote(lexeme, open + 1)?;
        }
        Some(Value::Str(decode(lexeme)))
    }

    /// In the grammar the text is read back in: that of its MAC's cipher
    /// (see [`grammar_of`]).
    fn insert_metadata(
        &self,
        src: &str,
        _parsed: &Parsed,
        meta: &Node,
    ) -> Result<Vec<Edit>, EmitError> {
        metadata_lines(src, meta, None)
    }

    fn set_value(
        &self,
        src: &str,
        parsed: &Parsed,
        path: &[PathStep],
        value: &Node,
    ) -> Result<Vec<Edit>, EmitError> {
        edit::set_value(src, parsed, path, value, grammar_of(src))
    }

    fn remove_value(
        &self,
        src: &str,
        parsed: &Parsed,
        path: &[PathStep],
    ) -> Result<Option<Vec<Edit>>, EmitError> {
        edit::remove_value(src, parsed, path, grammar_of(src))
    }

    fn emit(&self, tree: &Tree) -> Result<String, EmitError> {
        emit_tree(tree, false)
    }
}

/// The `sops_…` lines of `meta`, appended to `src`; `sops_grammar`: the
/// text is read back in [`Grammar::Sops`] (`None`: if the MAC is sealed
/// with `AES256_GCM`, as [`grammar_of`] reads it).
fn metadata_lines(
    src: &str,
    meta: &Node,
    sops_grammar: Option<bool>,
) -> Result<Vec<Edit>, EmitError> {
    let mut pairs = flatten(meta);
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    // sops splits lines at `\n` and writes its metadata lines with `\n`
    // whatever the file uses: in a `\r\n` file, `\r\n` lines would give
    // every metadata value a final `\r` that sops cannot read (its
    // `lastmodified` no longer parses). The data lines keep theirs.
    let eol = "\n";
    let trailing = src.is_empty() || src.ends_with('\n');
    let at = src.len();
    // The file is read back in the grammar of its MAC's cipher (see
    // [`grammar_of`]): in sops's, a `\r` is always content.
    let sops_grammar = sops_grammar.unwrap_or_else(|| {
        pairs
            .iter()
            .any(|(name, value)| name == "mac" && value.starts_with("ENC[AES256_GCM,"))
    });
    // The line break put before the block when the file has no final
    // one: in sops's grammar `\n` (anything else would end the last
    // value); else the file's own; and if the file ends with a `\r`
    // (part of the last value), a plain `\n` would turn that `\r` into a
    // line break and change the value, so `\r\n`.
    let grammar = if sops_grammar {
        Grammar::Sops
    } else {
        Grammar::MultiLine
    };
    let first_break = if trailing {
        // Unused: the file ends with its own line break.
        ""
    } else if grammar == Grammar::MultiLine && src.ends_with('\r') {
        "\r\n"
    } else {
        line_break_style(src, grammar)
    };
    let mut out = String::new();
    for (name, value) in pairs {
        if name.contains(['=', '\n', '\r']) {
            return Err(EmitError(format!(
                "metadata name {name:?} cannot be written in a .env file"
            )));
        }
        if !trailing {
            out.push_str(if out.is_empty() { first_break } else { eol });
        }
        out.push_str(META_PREFIX);
        out.push_str(&name);
        out.push('=');
        out.push_str(&value.replace('\n', "\\n"));
        if trailing {
            out.push_str(eol);
        }
    }
    Ok(vec![Edit {
        span: at..at,
        text: out,
    }])
}

/// A plaintext .env text of `tree` to be encrypted, as sops writes one:
/// each value as it is (a newline as `\n`, no quotes added), so that the
/// file reads back (in either grammar) with the same values. ([`Dotenv`]'s
/// `emit` quotes values for dotenv readers instead: decrypted output.)
pub fn emit_as_sops(tree: &Tree) -> Result<String, EmitError> {
    emit_tree(tree, true)
}

/// The .env text of `tree`; `raw`: values as sops writes them.
fn emit_tree(tree: &Tree, raw: bool) -> Result<String, EmitError> {
    let mut out = Emitted {
        text: SecretText::default(),
        names: std::collections::HashMap::new(),
        raw,
    };
    match tree.docs.first() {
        None => {}
        Some(doc @ Node::Map(_)) => emit_node(doc, None, &mut out)?,
        Some(Node::Alias(inner)) if matches!(**inner, Node::Map(_)) => {
            emit_node(inner, None, &mut out)?
        }
        Some(_) => {
            return Err(EmitError(
                "a .env file needs a mapping at the top level".into(),
            ))
        }
    }
    Ok(out.text.into_string())
}

/// A .env text being written by [`emit_node`].
struct Emitted {
    /// A whole decrypted document, when one is written out: see
    /// [`SecretText`].
    text: SecretText,
    /// Each name written, and whether it was flattened from a nested key
    /// or a list item.
    names: std::collections::HashMap<String, bool>,
    /// Values as sops writes them (see [`emit_as_sops`]).
    raw: bool,
}

/// The dotenv format read in [`Grammar::Sops`] whatever the text: for the
/// plaintext of a file sops reads (`AES256_GCM`), which has no metadata to
/// tell its grammar. Everything else is [`Dotenv`]'s.
pub struct SopsDotenv;

impl Syntax for SopsDotenv {
    fn name(&self) -> &'static str {
        Dotenv.name()
    }

    fn parse(&self, src: &str) -> Result<Parsed, ParseError> {
        parse_with(src, false, Grammar::Sops)
    }

    fn enc_lexeme(&self, slot: Slot, enc: &str) -> String {
        Dotenv.enc_lexeme(slot, enc)
    }

    fn value_lexeme(&self, slot: Slot, value: &Value) -> String {
        Dotenv.value_lexeme(slot, value)
    }

    fn simple_value(&self, lexeme: &str, slot: Slot) -> Option<Value> {
        Dotenv.simple_value(lexeme, slot)
    }

    fn insert_metadata(
        &self,
        src: &str,
        _parsed: &Parsed,
        meta: &Node,
    ) -> Result<Vec<Edit>, EmitError> {
        metadata_lines(src, meta, Some(true))
    }

    fn set_value(
        &self,
        src: &str,
        parsed: &Parsed,
        path: &[PathStep],
        value: &Node,
    ) -> Result<Vec<Edit>, EmitError> {
        edit::set_value(src, parsed, path, value, Grammar::Sops)
    }

    fn remove_value(
        &self,
        src: &str,
        parsed: &Parsed,
        path: &[PathStep],
    ) -> Result<Option<Vec<Edit>>, EmitError> {
        edit::remove_value(src, parsed, path, Grammar::Sops)
    }

    fn emit(&self, tree: &Tree) -> Result<String, EmitError> {
        Dotenv.emit(tree)
    }
}

/// How a value that opens with a double quote is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grammar {
    /// As sops reads every .env file: a value ends at the end of its line.
    /// For files sops reads (`AES256_GCM`), so that both tools see the same
    /// keys and values.
    Sops,
    /// sops-like's own files (`XCHACHA20_POLY1305`): a double-quoted value
    /// may span lines up to the line with its closing quote, unless a line
    /// that looks like `KEY=` comes first (then it is one line, as in sops).
    MultiLine,
}

impl Grammar {
    /// The syntax that reads every text in this grammar.
    pub(crate) fn syntax(self) -> &'static dyn Syntax {
        match self {
            Grammar::Sops => &SopsDotenv,
            Grammar::MultiLine => &Dotenv,
        }
    }

    /// The grammar of a .env text whose values are sealed with `cipher`.
    pub fn of(cipher: crate::cipher::CipherKind) -> Grammar {
        match cipher {
            crate::cipher::CipherKind::Aes256Gcm => Grammar::Sops,
            crate::cipher::CipherKind::XChaCha20Poly1305 => Grammar::MultiLine,
        }
    }
}

/// The grammar of a .env text: [`Grammar::Sops`] for an encrypted file
/// whose MAC is sealed with `AES256_GCM` (a file sops reads, whether sops
/// or sops-like wrote it), else [`Grammar::MultiLine`]. The MAC line is
/// found as a line starting with `sops_mac=ENC[AES256_GCM,`: a line that
/// looks like `KEY=` is never part of a multi-line value, so every grammar
/// reads it as that metadata line.
pub fn grammar_of(src: &str) -> Grammar {
    const AES_MAC: &str = "sops_mac=ENC[AES256_GCM,";
    let at_line_start = |i: usize| i == 0 || src.as_bytes().get(i - 1) == Some(&b'\n');
    if src.match_indices(AES_MAC).any(|(i, _)| at_line_start(i)) {
        Grammar::Sops
    } else {
        Grammar::MultiLine
    }
}

/// Parse a .env text in `grammar` (a plaintext that is to be encrypted
/// with a known cipher, or was decrypted from a file of a known cipher).
pub fn parse_as(src: &str, grammar: Grammar) -> Result<Parsed, ParseError> {
    parse_with(src, false, grammar)
}

/// The variable name of a raw .env key: surrounding blanks and an `export `
/// prefix removed (`  export  FOO ` → `FOO`).
pub fn env_key(raw_key: &str) -> &str {
    let key = raw_key
        .trim_start_matches('\u{feff}')
        .trim_matches(is_blank);
    match key.strip_prefix("export") {
        Some(rest) if rest.starts_with(is_blank) => rest.trim_start_matches(is_blank),
        _ => key,
    }
}

/// The dotenv meaning of a raw value (the text after `=`), without `$VAR`
/// substitution: single-quoted → literal; double-quoted → the escapes
/// `\\ \" \n \t \$` processed, real newlines kept; otherwise trimmed, with
/// an inline comment (` #…`) removed. Text after a closing quote is ignored;
/// an unterminated quote reads as an unquoted value.
pub fn env_value(raw: &str) -> String {
    let trimmed = raw.trim_start_matches(is_blank);
    if let Some(rest) = trimmed.strip_prefix('\'') {
        if let Some(end) = rest.find('\'') {
            return rest.get(..end).unwrap_or_default().to_string();
        }
    } else if let Some(rest) = trimmed.strip_prefix('"') {
        if let Some(value) = unescape_double(rest) {
            return value;
        }
    }
    let mut end = raw.len();
    let bytes = raw.as_bytes();
    for (i, pair) in bytes.windows(2).enumerate() {
        if matches!(pair, [b' ' | b'\t', b'#']) {
            end = i;
            break;
        }
    }
    raw.get(..end)
        .unwrap_or_default()
        .trim_matches(is_blank)
        .to_string()
}

/// The value sops reads back from the string `s` written in a .env text
/// as sops writes it (a line break as `\n`): every `\n` of `s` is read
/// as a line break too.
pub fn sops_reads_back(s: &str) -> zeroize::Zeroizing<String> {
    let mut out = SecretText::with_capacity(s.len());
    for (i, part) in s.split("\\n").enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(part);
    }
    zeroize::Zeroizing::new(out.into_string())
}

/// `s` with each line feed written `\n` (`s.replace('\n', "\\n")`), in a
/// text sized before it is written: `replace` grows its output, and `s`
/// may be a decrypted value (see [`SecretText`]).
fn escape_newlines(s: &str) -> String {
    let mut out = SecretText::with_capacity(s.len() + s.matches('\n').count());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\\n");
        }
        out.push_str(line);
    }
    out.into_string()
}

/// The contents of a double-quoted value up to its closing quote, escapes
/// processed; `None` if it is not closed. (Sized for all of `rest`, which
/// unescaping only shortens: the value is a decrypted one.)
fn unescape_double(rest: &str) -> Option<String> {
    let mut out = SecretText::with_capacity(rest.len());
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out.into_string()),
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(e @ ('\\' | '"' | '$')) => out.push(e),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => return None,
            },
            c => out.push(c),
        }
    }
    None
}

/// One logical line: a physical line, or several for a multi-line
/// double-quoted value.
struct Line {
    /// Where the line starts (after a BOM on the first line).
    start: usize,
    /// Where its content ends (before `\r\n`, `\n`, or a final `\r`).
    content_end: usize,
    /// Where the next line starts.
    end: usize,
    kind: Kind,
}

enum Kind {
    Blank,
    /// A comment: the span of the text after `#`.
    Comment(Span),
    /// `KEY=VALUE`: the key's and the value's spans.
    Pair {
        key: Span,
        value: Span,
    },
}

/// A .env text checked line by line without building its tree, and where
/// it may be cut into windows that parse on their own (see
/// [`crate::engine::encrypt_plaintext_to`]).
pub(crate) struct Windows {
    /// Byte offsets where a window starts (after the first, which starts
    /// at 0): each is the start of the line after a `KEY=value` line, so no
    /// comment selector state and no multi-line value crosses it, and none
    /// starts with a byte order mark (which a window's parse would drop).
    pub(crate) cuts: Vec<usize>,
    /// The text has sops metadata (`sops_…` lines).
    pub(crate) has_metadata: bool,
    /// Each window's pairs and comments as [`plain_lines`] reads the
    /// window's text, so that sealing need not read the lines again;
    /// `None` if the text has metadata.
    pub(crate) lines: Option<LineTable>,
}

/// Marks a comment in a [`LineTable`] (no key starts there: a window's
/// positions are below it).
const COMMENT: u16 = u16::MAX;

/// The pairs and comments of every window of a text, positions counted
/// from their window's start, four `u16`s a line (a fifth of a
/// [`PlainLine`]): `[key start, key end, value start, value end]` for a
/// pair, `[COMMENT, 0, start, end]` for a comment's text. One allocation
/// for the whole text (freed whole: small ones per window, freed on the
/// sealing threads, left 1.7 MB of their arenas' memory in use). A window
/// of 64 KiB or more keeps no lines (they are read again).
#[derive(Default)]
pub(crate) struct LineTable {
    entries: Vec<[u16; 4]>,
    windows: Vec<TableWindow>,
    /// Where the window being filled starts in the text.
    open_base: usize,
    /// A position of the window being filled did not fit.
    open_misfit: bool,
}

/// A window of a [`LineTable`].
#[derive(Clone, Copy)]
struct TableWindow {
    /// Its entries.
    first: usize,
    end: usize,
    /// The window's length in bytes.
    len: usize,
    /// Every position fitted.
    fits: bool,
}

impl LineTable {
    /// A table with room for about `lines` lines.
    fn with_capacity(lines: usize) -> LineTable {
        LineTable {
            entries: Vec::with_capacity(lines),
            ..LineTable::default()
        }
    }

    /// Add `kind`, a line of the window being filled (a window whose
    /// position does not fit keeps no lines).
    fn push(&mut self, kind: &Kind) {
        let base = self.open_base;
        let at = |i: usize| {
            i.checked_sub(base)
                .and_then(|r| u16::try_from(r).ok())
                .filter(|&r| r != COMMENT)
        };
        let entry = match kind {
            Kind::Blank => return,
            Kind::Comment(span) => at(span.start)
                .zip(at(span.end))
                .map(|(a, b)| [COMMENT, 0, a, b]),
            Kind::Pair { key, value } => (|| {
                Some([
                    at(key.start)?,
                    at(key.end)?,
                    at(value.start)?,
                    at(value.end)?,
                ])
            })(),
        };
        match entry {
            Some(e) => self.entries.push(e),
            None => self.open_misfit = true,
        }
    }

    /// End the window being filled at byte `end` of the text; the next
    /// one starts there.
    fn close(&mut self, end: usize) {
        let first = self.windows.last().map_or(0, |w| w.end);
        self.windows.push(TableWindow {
            first,
            end: self.entries.len(),
            len: end.saturating_sub(self.open_base),
            fits: !self.open_misfit,
        });
        (self.open_base, self.open_misfit) = (end, false);
    }

    /// How many windows it has.
    pub(crate) fn windows(&self) -> usize {
        self.windows.len()
    }

    /// This table followed by `next`, the table of the text after this
    /// one's: this one's last window and `next`'s first are one window.
    fn join(&mut self, next: LineTable) {
        // Both are closed: the joined one ends where `next` ends.
        self.open_base += next.open_base;
        let mut tail = next.windows.into_iter();
        let (Some(last), Some(across)) = (self.windows.pop(), tail.next()) else {
            return;
        };
        let base = self.entries.len();
        let by = u16::try_from(last.len).ok();
        let mut fits = last.fits && across.fits && by.is_some();
        self.entries.extend(next.entries);
        let moved = self.entries.get_mut(base + across.first..base + across.end);
        for entry in moved.into_iter().flatten() {
            let positions = if entry[0] == COMMENT {
                &mut entry[2..]
            } else {
                &mut entry[..]
            };
            for p in positions {
                match by
                    .and_then(|by| p.checked_add(by))
                    .filter(|&r| r != COMMENT)
                {
                    Some(r) => *p = r,
                    None => fits = false,
                }
            }
        }
        self.windows.push(TableWindow {
            first: last.first,
            end: base + across.end,
            len: last.len + across.len,
            fits,
        });
        self.windows.extend(tail.map(|w| TableWindow {
            first: w.first + base,
            end: w.end + base,
            ..w
        }));
    }

    /// The entries of window `i` if they are all there and `text` is as
    /// long as that window.
    fn entries(&self, i: usize, text: &str) -> Option<&[[u16; 4]]> {
        let w = self
            .windows
            .get(i)
            .filter(|w| w.fits && w.len == text.len())?;
        self.entries.get(w.first..w.end)
    }

    /// The lines of window `i`, whose text is `text`, as [`plain_lines`]
    /// gives them, and whether a comment is among them; `None` if the
    /// window kept none or `text` is not as long as the window.
    pub(crate) fn window(
        &self,
        i: usize,
        text: &str,
    ) -> Option<(impl Iterator<Item = PlainLine> + '_, bool)> {
        let entries = self.entries(i, text)?;
        let at = usize::from;
        let lines = entries.iter().map(move |&[a, b, c, d]| {
            if a == COMMENT {
                PlainLine::Comment(at(c)..at(d))
            } else {
                PlainLine::Pair(at(a)..at(b), at(c)..at(d))
            }
        });
        Some((lines, entries.iter().any(|e| e[0] == COMMENT)))
    }
}

/// Check `src` as [`parse_as`] in `grammar` would (the same first error)
/// and find window cuts about every `lines` logical lines.
pub(crate) fn windows(src: &str, lines: usize, grammar: Grammar) -> Result<Windows, ParseError> {
    let mut out = Windows {
        cuts: Vec::new(),
        has_metadata: false,
        lines: None,
    };
    let mut since = 0;
    // The lines of every window: about a line per 32 bytes (the
    // benchmark's .env has 39), grown if there are more.
    let mut table = LineTable::with_capacity(src.len() / 32);
    for line in Lines::new(src, grammar) {
        let line = line?;
        since += 1;
        table.push(&line.kind);
        if let Kind::Pair { key, .. } = &line.kind {
            out.has_metadata |= text(src, key).starts_with(META_PREFIX);
            let next = src.get(line.end..).unwrap_or("");
            if since >= lines && line.end < src.len() && !next.starts_with(BOM) {
                out.cuts.push(line.end);
                since = 0;
                table.close(line.end);
            }
        }
    }
    table.close(src.len());
    out.lines = (!out.has_metadata).then_some(table);
    Ok(out)
}

/// Where `src` may be checked in two parts, each with [`windows`] (on two
/// threads, say): the start of the first line after byte `near` that
/// [`starts_key_line`]. No logical line crosses it (a multi-line value ends
/// before such a line), and it starts with no byte order mark. `None` if
/// there is no such line.
pub(crate) fn check_split(src: &str, near: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut from = near;
    while let Some(i) = memchr::memchr(b'\n', bytes.get(from..)?) {
        let at = from + i + 1;
        if at >= src.len() {
            return None;
        }
        if starts_key_line(src, at) {
            return Some(at);
        }
        from = at;
    }
    None
}

/// The [`windows`] of `src` from those of its parts before and after `at`
/// (a [`check_split`]): the same check, and cuts that are cuts of `src`
/// (those of the second part moved by `at`). If either part has an error,
/// `src` is checked again whole, for its first error at its place.
pub(crate) fn join_windows(
    src: &str,
    at: usize,
    first: Result<Windows, ParseError>,
    second: Result<Windows, ParseError>,
    lines: usize,
    grammar: Grammar,
) -> Result<Windows, ParseError> {
    let (Ok(mut first), Ok(second)) = (first, second) else {
        return windows(src, lines, grammar);
    };
    // The window across `at` is the first part's last and the second's
    // first.
    first.lines = first
        .lines
        .zip(second.lines)
        .filter(|_| !second.has_metadata)
        .map(|(mut head, tail)| {
            head.join(tail);
            head
        });
    first.cuts.extend(second.cuts.iter().map(|c| c + at));
    first.has_metadata |= second.has_metadata;
    Ok(first)
}

/// The pairs and comments of a .env text whose every line is blank, a
/// comment, or a `KEY=ENC[…]` pair whose raw value is the `ENC[…]` text
/// alone (what sops-like writes for plain values: no quotes, no comment, no
/// `\n`, no metadata line): such a text is opened without building its
/// tree (see `engine::open::open_lean_dotenv`). `None` for any other text.
pub(crate) fn enc_lines(src: &str) -> Option<Vec<PlainLine>> {
    let lines = plain_lines(src, Grammar::MultiLine)?;
    lines
        .iter()
        .all(|line| match line {
            PlainLine::Pair(_, value) => lean_value(text(src, value)),
            PlainLine::Comment(_) => true,
        })
        .then_some(lines)
}

/// A line of a .env text sealed without its tree (see [`plain_lines`]).
pub(crate) enum PlainLine {
    /// `KEY=value`: the key's and the value's spans.
    Pair(Span, Span),
    /// A comment: the span of its text after `#`.
    Comment(Span),
}

/// The pairs and comments of a .env text whose every line is blank, a
/// comment or a `KEY=value` pair in `grammar` (no metadata line): such a
/// text is sealed without building its tree (see `engine::lines`). `None`
/// for any other text, or one that does not parse.
pub(crate) fn plain_lines(src: &str, grammar: Grammar) -> Option<Vec<PlainLine>> {
    // Sized once (a line break a line but the last): growing it copied the
    // lines read so far at each doubling.
    let mut lines = Vec::with_capacity(memchr::memchr_iter(b'\n', src.as_bytes()).count() + 1);
    for line in Lines::new(src, grammar) {
        match line.ok()?.kind {
            Kind::Blank => {}
            Kind::Comment(span) => lines.push(PlainLine::Comment(span)),
            Kind::Pair { key, value } => {
                if text(src, &key).starts_with(META_PREFIX) {
                    return None;
                }
                lines.push(PlainLine::Pair(key, value));
            }
        }
    }
    Some(lines)
}

/// The key and value spans of a .env text whose every line is blank or a
/// `KEY=value` pair (no comment, no metadata line) in `grammar`. `None`
/// for any other text, or one that does not parse.
#[cfg(test)]
pub(crate) fn plain_pairs(src: &str, grammar: Grammar) -> Option<Vec<(Span, Span)>> {
    plain_lines(src, grammar)?
        .into_iter()
        .map(|line| match line {
            PlainLine::Pair(key, value) => Some((key, value)),
            PlainLine::Comment(_) => None,
        })
        .collect()
}

/// A pair's value as the tree holds it (see [`Syntax::parse`]): the raw
/// text with sops's `\n` escapes decoded; `None` when it has none (the
/// value is the raw text).
pub(crate) fn decoded_value(raw: &str) -> Option<String> {
    has_escaped_newline(raw).then(|| decode(raw))
}

/// Whether `raw` holds sops's `\n` escape (a byte search first: most
/// values have no backslash at all).
fn has_escaped_newline(raw: &str) -> bool {
    memchr::memchr(b'\\', raw.as_bytes()).is_some() && raw.contains("\\n")
}

/// [`crate::syntax::parse_encrypted`] for .env, in the text's
/// [`grammar_of`].
pub(crate) fn parse_encrypted(src: &str) -> Result<Parsed, ParseError> {
    parse_with(src, true, grammar_of(src))
}

/// [`parse_encrypted`] in a given grammar (a window of a file, which may
/// not hold the file's metadata).
pub(crate) fn parse_encrypted_as(src: &str, grammar: Grammar) -> Result<Parsed, ParseError> {
    parse_with(src, true, grammar)
}

/// A value that a lean parse leaves empty: an `ENC[…]` text that decodes
/// to itself.
fn lean_value(raw: &str) -> bool {
    crate::cipher::is_encrypted(raw) && !has_escaped_newline(raw)
}

fn parse_with(src: &str, lean: bool, grammar: Grammar) -> Result<Parsed, ParseError> {
    // One entry per physical line at most: sized once, no doubling's spare room.
    let mut entries = Vec::with_capacity(src.bytes().filter(|&b| b == b'\n').count() + 1);
    let mut meta = Vec::new();
    let mut meta_lines = Vec::new();
    let mut prev: Option<Line> = None;
    let mut count = 0;
    for (idx, line) in Lines::new(src, grammar).enumerate() {
        let line = line?;
        count = idx + 1;
        match &line.kind {
            Kind::Blank => {}
            Kind::Comment(span) => entries.push(Entry::Comment(Comment::new(
                text(src, span).to_string(),
                Some(span.clone()),
            ))),
            Kind::Pair { key, value } => {
                let key = text(src, key);
                let raw = text(src, value);
                match key.strip_prefix(META_PREFIX) {
                    Some(name) => {
                        meta.push((name.to_string(), decode(raw)));
                        meta_lines.push(MetaLine {
                            idx,
                            span: line.start..line.end,
                            prev: prev.as_ref().map(|p| p.content_end..p.end),
                        });
                    }
                    None => entries.push(Entry::Pair(Pair {
                        key: key.to_string(),
                        value: Node::Scalar(Scalar {
                            value: Value::Str(if lean && lean_value(raw) {
                                String::new()
                            } else {
                                decode(raw)
                            }),
                            span: Some(value.clone()),
                            slot: Slot::Bare,
                        }),
                    })),
                }
            }
        }
        prev = Some(line);
    }
    entries.shrink_to_fit();
    let metadata_spans = metadata_spans(src, count, &meta_lines);
    Ok(Parsed {
        tree: Tree::new(vec![Node::Map(entries)]),
        metadata: (!meta.is_empty()).then(|| unflatten(meta)),
        metadata_spans,
        metadata_fill: Vec::new(),
        marks: Vec::new(),
        non_string_key: None,
        sops_unreadable: None,
        tags_before_anchors: Vec::new(),
    })
}

/// Blank characters inside a line.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\x0b' | '\x0c')
}

fn text<'s>(src: &'s str, span: &Span) -> &'s str {
    src.get(span.clone()).unwrap_or_default()
}

/// sops's value: the two characters `\n` become a newline
/// (`raw.replace("\\n", "\n")`, in a text sized for `raw`, which it
/// only shortens: `replace` grows its output, and `raw` may be a
/// plaintext value, see [`SecretText`]).
fn decode(raw: &str) -> String {
    let mut out = SecretText::with_capacity(raw.len());
    for (i, part) in raw.split("\\n").enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(part);
    }
    out.into_string()
}

/// Split `src` into logical lines in `grammar`.
fn scan(src: &str, grammar: Grammar) -> Result<Vec<Line>, ParseError> {
    Lines::new(src, grammar).collect()
}

/// The logical lines of a .env text, one at a time (a parse need not hold
/// them all); stops after the first error.
struct Lines<'s> {
    src: &'s str,
    pos: usize,
    grammar: Grammar,
}

impl<'s> Lines<'s> {
    fn new(src: &'s str, grammar: Grammar) -> Lines<'s> {
        // sops reads a BOM as the first line's first character: a line of
        // only a BOM is an error there, and a comment after a BOM a key.
        let pos = if src.starts_with(BOM) && grammar == Grammar::MultiLine {
            BOM.len()
        } else {
            0
        };
        Lines { src, pos, grammar }
    }
}

impl Iterator for Lines<'_> {
    type Item = Result<Line, ParseError>;

    fn next(&mut self) -> Option<Result<Line, ParseError>> {
        let src = self.src;
        if self.pos >= src.len() {
            return None;
        }
        let line = next_line(src, self.pos, self.grammar);
        // After an error, stop.
        self.pos = line.as_ref().map_or(src.len(), |l| l.end);
        Some(line)
    }
}

/// The logical line starting at byte `start` of `src`.
fn next_line(src: &str, start: usize, grammar: Grammar) -> Result<Line, ParseError> {
    match plain_pair(src, start, grammar) {
        Some(line) => Ok(line),
        None => any_line(src, start, grammar),
    }
}

/// Whether a byte may follow a name's first (see [`name_len`]).
const NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-');
        b += 1;
    }
    table
};

/// The length of the name (`[A-Za-z_][A-Za-z0-9_.-]*`) that `bytes` start
/// with, 0 if none: one table lookup a byte.
fn name_len(bytes: &[u8]) -> usize {
    match bytes.split_first() {
        Some((&first, rest)) if first.is_ascii_alphabetic() || first == b'_' => {
            1 + rest
                .iter()
                .position(|&b| !NAME_BYTES[usize::from(b)])
                .unwrap_or(rest.len())
        }
        _ => 0,
    }
}

/// The line at `start` if it is the usual `NAME=value` line, found with
/// one table lookup a byte and one search for the line break: a name
/// (`[A-Za-z_][A-Za-z0-9_.-]*`) at the start of the line, `=`, and a
/// value that starts with neither a quote nor a blank (so it is one line,
/// as [`any_line`] reads it). `None` for any other line (and for the first
/// line after a byte order mark): [`any_line`] reads it, with the same
/// result for these (tested).
fn plain_pair(src: &str, start: usize, grammar: Grammar) -> Option<Line> {
    let bytes = src.as_bytes();
    if start == BOM.len() && src.starts_with(BOM) {
        return None;
    }
    let name = name_len(bytes.get(start..)?);
    let eq = start + name;
    if name == 0 || bytes.get(eq) != Some(&b'=') {
        return None;
    }
    let value_start = eq + 1;
    if let Some(b'"' | b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c') = bytes.get(value_start) {
        return None;
    }
    let (content_end, end) = line_bounds(src, value_start, grammar);
    let content_end = match grammar {
        Grammar::Sops => enc_before_cr(src, value_start, content_end),
        Grammar::MultiLine => content_end,
    };
    Some(Line {
        start,
        content_end,
        end,
        kind: Kind::Pair {
            key: start..eq,
            value: value_start..content_end,
        },
    })
}

/// [`next_line`] for any line.
fn any_line(src: &str, start: usize, grammar: Grammar) -> Result<Line, ParseError> {
    if grammar == Grammar::Sops {
        return sops_line(src, start);
    }
    let (mut content_end, mut end) = line_bounds(src, start, grammar);
    let content = src.get(start..content_end).unwrap_or_default();
    let kind = match content.find(|c| !is_blank(c)) {
        None => Kind::Blank,
        Some(i) if content.get(i..).is_some_and(|r| r.starts_with('#')) => {
            Kind::Comment(start + i + 1..content_end)
        }
        Some(i) => {
            let Some(eq) = memchr::memchr(b'=', content.as_bytes()) else {
                return Err(ParseError::at(src, start + i, "expected KEY=VALUE"));
            };
            let key = content.get(..eq).unwrap_or_default();
            if key.trim_matches(is_blank).is_empty() {
                return Err(ParseError::at(src, start + i, "empty key before '='"));
            }
            let value_start = start + eq + 1;
            let after = content.get(eq + 1..).unwrap_or_default();
            let lead = after.len() - after.trim_start_matches(is_blank).len();
            let quoted = after.get(lead..).is_some_and(|r| r.starts_with('"'));
            // Metadata values are never quoted: sops writes them raw.
            if quoted && grammar == Grammar::MultiLine && !key.starts_with(META_PREFIX) {
                let open = value_start + lead;
                // Unclosed before a `KEY=` line or the end: one line.
                if let Some(close) = multi_line_close(src, open + 1) {
                    if close >= content_end {
                        (content_end, end) = line_bounds(src, close, grammar);
                    }
                }
            }
            // sops reads a BOM as the first key's first character.
            let key_start = if start == BOM.len() && src.starts_with(BOM) {
                0
            } else {
                start
            };
            Kind::Pair {
                key: key_start..start + eq,
                value: value_start..content_end,
            }
        }
    };
    Ok(Line {
        start,
        content_end,
        end,
        kind,
    })
}

/// [`any_line`] in [`Grammar::Sops`]: the line as sops's .env store reads
/// it (`LoadPlainFile`). A line is every byte up to a `\n`, a `\r` included;
/// an empty line is skipped; a line whose first byte is `#` is a comment;
/// any other line is `KEY=VALUE`, split at its first `=`, whatever the key
/// (empty, blanks, ` #k`), and a line with no `=` is an error, as in sops
/// (a line of blanks, an indented comment, a `\r` alone in a `\r\n` file).
fn sops_line(src: &str, start: usize) -> Result<Line, ParseError> {
    let (content_end, end) = line_bounds(src, start, Grammar::Sops);
    // (A BOM is read as the first line's first character: see `Lines`.)
    let from = start;
    let mut content_end = content_end;
    let content = src.get(from..content_end).unwrap_or_default();
    let kind = if content.is_empty() {
        Kind::Blank
    } else if content.starts_with('#') {
        content_end = enc_before_cr(src, from + 1, content_end);
        Kind::Comment(from + 1..content_end)
    } else {
        let Some(eq) = memchr::memchr(b'=', content.as_bytes()) else {
            let what = if content.trim_matches(is_blank).is_empty() {
                "a line of blanks (or a \\r alone, in a \\r\\n file) is not KEY=VALUE"
            } else if content.trim_start_matches(is_blank).starts_with('#') {
                "a comment must start at the line's first byte"
            } else {
                "expected KEY=VALUE"
            };
            return Err(ParseError::at(
                src,
                start,
                format!("{what} for sops, which reads AES256_GCM .env files (its .env store reads every line that is not empty and does not start with '#' as KEY=VALUE; the default xchacha20-poly1305 cipher reads such lines as dotenv does)"),
            ));
        };
        content_end = enc_before_cr(src, from + eq + 1, content_end);
        Kind::Pair {
            key: from..from + eq,
            value: from + eq + 1..content_end,
        }
    };
    Ok(Line {
        start,
        content_end,
        end,
        kind,
    })
}

/// Where a value or comment from `start` to `end` ends in [`Grammar::Sops`]:
/// at `end`, but before a final `\r` after an `ENC[…]` text's `]`. sops
/// writes none such (the `\r` of a `\r\n` line is sealed in the value);
/// sops-like before session 14 read `\r\n` as a line break in its
/// `AES256_GCM` files, and sealed the value without its `\r`. Those files
/// still open, byte for byte (sops ignores text after the `]` too).
/// Only a well-formed `ENC[…]` text: a value that merely looks like one
/// (`ENC[x]`, or one left in clear by the selector) keeps its `\r`, as
/// sops reads it (and MACs it).
fn enc_before_cr(src: &str, start: usize, end: usize) -> usize {
    match src.get(start..end) {
        Some(t)
            if t.starts_with("ENC[")
                && t.ends_with("]\r")
                && t.get(..t.len() - 1)
                    .is_some_and(|e| crate::cipher::EncValue::parse(e).is_ok()) =>
        {
            end - 1
        }
        _ => end,
    }
}

/// The content end and the end of the physical line holding byte `at`.
fn line_bounds(src: &str, at: usize, grammar: Grammar) -> (usize, usize) {
    let bytes = src.as_bytes();
    let (break_at, end) = match bytes.get(at..).and_then(|rest| memchr::memchr(b'\n', rest)) {
        Some(i) => (at + i, at + i + 1),
        None => (src.len(), src.len()),
    };
    // In sops-like's own grammar a `\r` is part of the line break before a
    // `\n`; a lone `\r` at the end of the file is content. sops splits at
    // `\n` only: a `\r` is always content (the value's last character).
    let content_end = if grammar == Grammar::MultiLine
        && break_at > at
        && break_at < src.len()
        && bytes.get(break_at - 1) == Some(&b'\r')
    {
        break_at - 1
    } else {
        break_at
    };
    (content_end, end)
}

/// The position of the `"` closing a double-quoted value whose contents
/// start at `from`, on its line or a later one; `None` if a line that
/// [`starts_key_line`] or the end of the text comes first. A backslash
/// escapes the next byte (but not a line break: the next line is checked).
fn multi_line_close(src: &str, from: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut i = from;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' if bytes.get(i + 1) != Some(&b'\n') => i += 2,
            b'"' => return Some(i),
            b'\n' if starts_key_line(src, i + 1) => return None,
            _ => i += 1,
        }
    }
    None
}

/// Whether the line starting at `at` looks like a `KEY=value` line, so that
/// no multi-line value runs into it: blanks, an optional `export `, a name
/// (`[A-Za-z_][A-Za-z0-9_.-]*`), blanks, then `=`. A line of base64 text
/// ending in `=` padding (`QUJD=`, as the last line of a PEM body may be)
/// does not count: it is taken to be part of the value.
pub(crate) fn starts_key_line(src: &str, at: usize) -> bool {
    let line = src.get(at..).unwrap_or_default();
    let line = line.split('\n').next().unwrap_or_default();
    let line = line.strip_suffix('\r').unwrap_or(line);
    let rest = line.trim_start_matches(is_blank);
    let rest = match rest.strip_prefix("export") {
        Some(r) if r.starts_with(is_blank) => r.trim_start_matches(is_blank),
        _ => rest,
    };
    let name_len = name_len(rest.as_bytes());
    if name_len == 0 {
        return false;
    }
    let after = rest.get(name_len..).unwrap_or_default();
    if !after.trim_start_matches(is_blank).starts_with('=') {
        return false;
    }
    let padding = line.trim_end_matches(is_blank);
    let body = padding.trim_end_matches('=');
    let base64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/';
    let is_padding_line =
        padding.len() - body.len() <= 2 && !body.is_empty() && body.chars().all(base64);
    !is_padding_line
}

/// The position of the `"` closing a double-quoted value whose contents
/// start at `from`; a backslash escapes the next byte.
fn closing_quote(src: &str, from: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut i = from;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// The line break the file uses: that of its first line that has one
/// (`\n` if none does, or if the text does not scan).
/// In `grammar`: in sops's, lines end with `\n` (a `\r` is content).
fn line_break_style(src: &str, grammar: Grammar) -> &str {
    if grammar == Grammar::Sops {
        return "\n";
    }
    Lines::new(src, grammar)
        .map_while(Result::ok)
        .filter_map(|l| src.get(l.content_end..l.end))
        .find(|b| b.ends_with('\n'))
        .unwrap_or("\n")
}

/// The bytes to delete to remove the metadata lines `meta` (indices into
/// `lines`). The metadata lines at the end of the file are one span that
/// undoes [`Dotenv::insert_metadata`] exactly; there, when the file does
/// not end with a line break, the line break before them was inserted too.
/// A final `\r` after them is the original file's last byte and stays.
/// Metadata lines elsewhere are removed with their line break.
fn metadata_spans(src: &str, count: usize, meta: &[MetaLine]) -> Vec<Span> {
    let trailing = meta
        .iter()
        .rev()
        .zip((0..count).rev())
        .take_while(|(m, l)| m.idx == *l)
        .count();
    let (inner, tail) = meta.split_at(meta.len() - trailing);
    let mut spans: Vec<Span> = inner.iter().map(|m| m.span.clone()).collect();
    let Some(first) = tail.first() else {
        return spans;
    };
    let mut start = first.span.start;
    if !src.ends_with('\n') {
        if let Some(prev) = &first.prev {
            // A `\r\n` there was always inserted whole: in a `\r\n` file as
            // its line break, in a `\n` file because the text ended with a
            // `\r` (see `insert_metadata`).
            let crlf = src.get(prev.clone()) == Some("\r\n");
            start = if crlf {
                prev.start
            } else {
                prev.end.saturating_sub(1)
            };
        }
    }
    let end = src.len();
    spans.push(start..end.max(start));
    spans
}

/// A metadata line, as [`metadata_spans`] needs it.
struct MetaLine {
    /// Its index among the lines.
    idx: usize,
    /// The whole line, line break included.
    span: Span,
    /// The line break of the line before it (content end to next start).
    prev: Option<Span>,
}

/// Write `node` (named `name`, `None` at the top) as .env lines (`raw`:
/// values as sops writes them, see [`emit_as_sops`]).
fn emit_node(node: &Node, name: Option<(&str, bool)>, out: &mut Emitted) -> Result<(), EmitError> {
    // A child's name, and whether it is flattened (below the top level).
    let child = |key: &str| match name {
        None => (key.to_string(), false),
        Some((parent, _)) => (format!("{parent}_{key}"), true),
    };
    match node {
        Node::Alias(inner) => emit_node(inner, name, out),
        // No line would hold it: it would be lost.
        Node::Map(entries)
            if name.is_some() && !entries.iter().any(|e| matches!(e, Entry::Pair(_))) =>
        {
            Err(empty_collection("mapping", name))
        }
        Node::Seq(items) if name.is_some() && !items.iter().any(|i| matches!(i, Item::Node(_))) => {
            Err(empty_collection("list", name))
        }
        Node::Map(entries) => {
            for entry in entries {
                match entry {
                    Entry::Comment(c) => emit_comment(&c.text, &mut out.text),
                    Entry::Pair(p) => {
                        let (key, flat) = child(&p.key);
                        emit_node(&p.value, Some((&key, flat)), out)?
                    }
                }
            }
            Ok(())
        }
        Node::Seq(items) => {
            let mut index = 0usize;
            for item in items {
                match item {
                    Item::Comment(c) => emit_comment(&c.text, &mut out.text),
                    Item::Node(n) => {
                        let (key, flat) = child(&index.to_string());
                        emit_node(n, Some((&key, flat)), out)?;
                        index += 1;
                    }
                }
            }
            Ok(())
        }
        Node::Scalar(s) => {
            let (name, flat) = name.unwrap_or_default();
            if !is_env_key(name) {
                return Err(EmitError(format!(
                    "the key {name:?} cannot be written as a .env line (it is empty, starts with '#', or holds '=' or a line break)"
                )));
            }
            let text = Zeroizing::new(s.value.sops_text().unwrap_or_default());
            let value = Zeroizing::new(match &s.value {
                Value::Null => String::new(),
                Value::Bool(b) => b.to_string(),
                _ if out.raw => escape_newlines(&text),
                _ => quote(&text),
            });
            // Two names alike, one of them flattened: a reader would take
            // the second value for both (duplicate keys as written are kept).
            match out.names.get(name) {
                Some(&other_flat) if flat || other_flat => {
                    return Err(EmitError(format!(
                        "two values would both be written as {name:?} (nested keys are joined with '_')"
                    )))
                }
                _ => {
                    out.names.insert(name.to_string(), flat);
                }
            }
            out.text.push_str(name);
            out.text.push('=');
            out.text.push_str(&value);
            out.text.push('\n');
            Ok(())
        }
    }
}

/// An empty mapping or list below the top level has no .env line.
fn empty_collection(what: &str, name: Option<(&str, bool)>) -> EmitError {
    let (name, _) = name.unwrap_or_default();
    EmitError(format!(
        "the empty {what} at {name:?} cannot be written as a .env line (it would be lost)"
    ))
}

fn emit_comment(text: &str, out: &mut SecretText) {
    for line in text.split('\n') {
        out.push('#');
        out.push_str(line);
        out.push('\n');
    }
}

/// Whether `KEY=` reads back as the key `key` (sops writes any key:
/// `db.password`, `my-key`, `clé`, `1a`): not blank, no `=` or line break,
/// not a comment line.
fn is_env_key(key: &str) -> bool {
    !key.trim_matches(is_blank).is_empty()
        && !key.starts_with('#')
        && !key.contains(['=', '\n', '\r'])
}

/// A value lexeme that dotenv readers give back unchanged: bare if made of
/// safe characters, else single-quoted if possible, else double-quoted
/// (`\\`, `\"` and `\n` escaped; `$` is left as is, since python-dotenv
/// has no `\$` escape and only interpolates `${…}`). Single quotes keep a
/// `$` from shells and docker compose; python-dotenv reads `\\` and `\'`
/// inside them as escapes, so a value with two backslashes in a row, or
/// ending with one (`'x\'` would not end), is double-quoted.
fn quote(value: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_./:@%+,=-".contains(c);
    let single = !value.contains(['\'', '\n']) && !value.contains("\\\\") && !value.ends_with('\\');
    // Ending with a backslash, and nothing else to quote (`C:\dir\`):
    // bare, as sops writes it. Double-quoted (`"x\\"`), python-dotenv takes
    // the `\"` for an escaped quote when a later line is double-quoted too,
    // and reads nothing of the file. (Not with `\n` in it: sops reads that
    // as a line break.)
    let bare_backslash = value.ends_with('\\')
        && !value.contains("\\n")
        && value.chars().all(|c| safe(c) || c == '\\');
    if (!value.is_empty() && value.chars().all(safe)) || bare_backslash {
        value.to_string()
    } else if single {
        // Sized before the value goes in (a `format!` buffer grows as it
        // is written): see [`SecretText`].
        let mut out = SecretText::with_capacity(value.len() + 2);
        out.push('\'');
        out.push_str(value);
        out.push('\'');
        out.into_string()
    } else {
        let mut out = SecretText::with_capacity(value.len() + 2);
        out.push('"');
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
        out.into_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use crate::splice::splice;
    use crate::syntax::conformance::{plain, roundtrip, sample_metadata, sample_metadata_with_mac};

    fn parse(src: &str) -> Parsed {
        Dotenv.parse(src).unwrap()
    }

    /// A value ending in a backslash with nothing else to quote is bare
    /// (python-dotenv misreads `"x\\"` before another double-quoted line).
    #[test]
    fn quote_leaves_a_trailing_backslash_bare() {
        assert_eq!(quote("x\\"), "x\\");
        assert_eq!(quote("C:\\dir\\"), "C:\\dir\\");
        assert_eq!(quote("a b\\"), "\"a b\\\\\"");
        assert_eq!(quote("a\\n\\"), "\"a\\\\n\\\\\"");
        assert_eq!(sops_reads_back("a\\nb\n").as_str(), "a\nb\n");
    }

    /// `(key, value, span text)` of every pair, in order.
    fn pairs(src: &str) -> Vec<(String, String, String)> {
        pairs_of(src, &parse(src))
    }

    /// [`pairs`] of a given parse of `src`.
    fn pairs_of(src: &str, parsed: &Parsed) -> Vec<(String, String, String)> {
        let Some(Node::Map(entries)) = parsed.tree.docs.first() else {
            panic!("no map")
        };
        entries
            .iter()
            .filter_map(|e| match e {
                Entry::Pair(p) => match &p.value {
                    Node::Scalar(s) => {
                        let Value::Str(v) = &s.value else { panic!() };
                        let span = s.span.clone().unwrap();
                        Some((p.key.clone(), v.clone(), src[span].to_string()))
                    }
                    _ => None,
                },
                Entry::Comment(_) => None,
            })
            .collect()
    }

    fn comments(src: &str) -> Vec<String> {
        let parsed = parse(src);
        let Some(Node::Map(entries)) = parsed.tree.docs.first() else {
            panic!("no map")
        };
        entries
            .iter()
            .filter_map(|e| match e {
                Entry::Comment(c) => {
                    assert_eq!(&src[c.span.clone().unwrap()], c.text);
                    Some(c.text.clone())
                }
                Entry::Pair(_) => None,
            })
            .collect()
    }

    fn kv(k: &str, v: &str, lexeme: &str) -> (String, String, String) {
        (k.into(), v.into(), lexeme.into())
    }

    /// [`Grammar::Sops`] reads lines as sops's .env store does; sops-like's
    /// own grammar as dotenv does.
    #[test]
    fn sops_grammar_reads_lines_as_sops() {
        let sops = |src: &str| pairs_of(src, &SopsDotenv.parse(src).unwrap());
        // A `\r` is content (the value's last character) in sops's grammar,
        // part of the line break in sops-like's.
        assert_eq!(
            sops("A=x\r\nB=\r\n"),
            [kv("A", "x\r", "x\r"), kv("B", "\r", "\r")]
        );
        assert_eq!(pairs("A=x\r\nB=\r\n"), [kv("A", "x", "x"), kv("B", "", "")]);
        // Any key before the first `=`, an indented `#` included.
        assert_eq!(
            sops(" #k=v\n=x\n =y\n"),
            [kv(" #k", "v", "v"), kv("", "x", "x"), kv(" ", "y", "y")]
        );
        assert_eq!(pairs(" #k=v\n"), []);
        // A well-formed `ENC[…]` text with a `\r` after its `]` (earlier
        // sops-like builds' `\r\n` files): the `\r` is the line break's.
        // A text that only looks like one keeps it, as sops reads it.
        let enc = "ENC[AES256_GCM,data:AA==,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]";
        assert_eq!(
            sops(&format!("A={enc}\r\nB=ENC[z] \r\nC=[x]\r\nD=ENC[x]\r\n")),
            [
                kv("A", enc, enc),
                kv("B", "ENC[z] \r", "ENC[z] \r"),
                kv("C", "[x]\r", "[x]\r"),
                kv("D", "ENC[x]\r", "ENC[x]\r")
            ]
        );
        let parsed = SopsDotenv
            .parse(&format!("#{enc}\r\n#c\r\n#ENC[y]\r\n"))
            .unwrap();
        let Some(Node::Map(entries)) = parsed.tree.docs.first() else {
            panic!("no map")
        };
        let texts: Vec<&str> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Comment(c) => Some(c.text.as_str()),
                Entry::Pair(_) => None,
            })
            .collect();
        assert_eq!(texts, [enc, "c\r", "ENC[y]\r"]);
        // A comment only at the line's first byte; a BOM is the first
        // line's first character.
        assert_eq!(sops("#c\r\nX=1\n"), [kv("X", "1", "1")]);
        assert_eq!(sops("\u{feff}A=1\n"), [kv("\u{feff}A", "1", "1")]);
        for (src, line) in [
            (" #c\nA=1\n", 1),
            ("A=1\n \t\n", 2),
            ("A=1\r\n\r\nB=2\r\n", 2),
            ("\u{feff}#c\n", 1),
            ("\u{feff}", 1),
            ("A=1\nno equals\n", 2),
        ] {
            let e = SopsDotenv.parse(src).map(|_| ()).unwrap_err();
            assert_eq!(e.line, line, "{src:?}");
            // sops-like's own grammar reads them (but the last).
            assert_eq!(
                Dotenv.parse(src).is_ok(),
                !src.contains("no equals"),
                "{src:?}"
            );
        }
    }

    fn fixtures() -> Vec<(String, String)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dotenv");
        let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                (name, std::fs::read_to_string(&path).unwrap())
            })
            .collect();
        out.sort();
        assert!(out.len() >= 10);
        out
    }

    #[test]
    fn keys_are_raw_like_sops() {
        let src = "SPACED =x\nexport X=1\n  B = two\nA==b=c\n";
        assert_eq!(
            pairs(src),
            [
                kv("SPACED ", "x", "x"),
                kv("export X", "1", "1"),
                kv("  B ", " two", " two"),
                kv("A", "=b=c", "=b=c"),
            ]
        );
    }

    #[test]
    fn values_keep_quotes_and_inline_comments() {
        let src = "Q=\"quoted value\"\nS='single'\nI=v # c\nN=a\\nb\nE=\nD=\"a\" # c\n";
        assert_eq!(
            pairs(src),
            [
                kv("Q", "\"quoted value\"", "\"quoted value\""),
                kv("S", "'single'", "'single'"),
                kv("I", "v # c", "v # c"),
                kv("N", "a\nb", "a\\nb"),
                kv("E", "", ""),
                kv("D", "\"a\" # c", "\"a\" # c"),
            ]
        );
    }

    #[test]
    fn crlf_bom_and_blank_lines() {
        let src = "\u{feff}A=1\r\n\r\n  \t\r\n# c\r\nB=2\r";
        // A lone `\r` at the very end is content, as in sops; the BOM is
        // part of the first key, as in sops (its AAD is `\u{feff}A:`).
        assert_eq!(
            pairs(src),
            [kv("\u{feff}A", "1", "1"), kv("B", "2\r", "2\r")]
        );
        assert_eq!(env_key("\u{feff}A"), "A");
        assert_eq!(comments(src), [" c"]);
        // A `\r` not before a line break stays in the value.
        assert_eq!(pairs("A=x\ry\n"), [kv("A", "x\ry", "x\ry")]);
        assert_eq!(
            comments("\u{feff}#first\n  # indented"),
            ["first", " indented"]
        );
    }

    #[test]
    fn multi_line_double_quoted_values() {
        let src = "A=\"one\ntwo\\\"still\nthree\" # c\r\nB=1\nC=\"x\\\\\"\nD=\"a\r\nb\"\r\n";
        assert_eq!(
            pairs(src),
            [
                kv(
                    "A",
                    "\"one\ntwo\\\"still\nthree\" # c",
                    "\"one\ntwo\\\"still\nthree\" # c"
                ),
                kv("B", "1", "1"),
                kv("C", "\"x\\\\\"", "\"x\\\\\""),
                kv("D", "\"a\r\nb\"", "\"a\r\nb\""),
            ]
        );
        // Quotes that do not start the value are not quotes.
        assert_eq!(pairs("A=x\"y\nB=2\n").len(), 2);
        // Metadata lines are never quoted.
        let meta = parse("A=1\nsops_unencrypted_regex=\"x\nsops_version=3.11.0\n");
        assert!(meta.metadata.is_some());
    }

    #[test]
    fn an_open_quote_never_swallows_a_key_line() {
        // As sops reads them: the value is the line, quote included.
        for src in [
            "A=\"a\nB=2\n",
            "A=\"\nB=2\n",
            "A=\"a\\\"\nB=2\n",
            "K= \"a\nB=2",
            "A=\"unterminated\nB=x \"quoted\" y\nC=3\n",
            "A=\"x\nexport B=y\"\nC=3\n",
            "A=\"x\n  b.c-d = y\"\n",
        ] {
            for syntax in [&Dotenv as &dyn Syntax, &SopsDotenv] {
                let parsed = syntax.parse(src).unwrap();
                let Some(Node::Map(entries)) = parsed.tree.docs.first() else {
                    panic!("no map")
                };
                let lines = src.lines().count();
                assert_eq!(entries.len(), lines, "{src:?}");
            }
        }
        assert_eq!(pairs("A=\"x\nB=2\n")[0].1, "\"x");
        assert_eq!(pairs("A=\"x")[0].1, "\"x");
        // A multi-line value runs over lines that do not read as `KEY=`,
        // a base64 line ending in `=` padding included.
        let pem = "K=\"-----BEGIN-----\nQUJD\nQUI=\n-----END-----\"\nB=1\n";
        assert_eq!(pairs(pem).len(), 2);
        assert_eq!(
            pairs("A=\"x\n# \"\nB=1\n"),
            [kv("A", "\"x\n# \"", "\"x\n# \""), kv("B", "1", "1")]
        );
        // sops's grammar never joins lines (a line without `=` is an error).
        let sops = |src: &str| SopsDotenv.parse(src);
        assert!(sops(pem).is_err());
        let parsed = sops("A=\"x\n#c \"q\"\nB=1\n").unwrap();
        let a = parsed.tree.docs.first().and_then(|d| d.get("A"));
        assert!(a.and_then(Node::as_value) == Some(&Value::Str("\"x".into())));
        // An encrypted file sealed with sops's cipher is read as sops reads it.
        let aes = "A=\"x\n# \"\nB=1\nsops_mac=ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\n";
        assert_eq!(grammar_of(aes), Grammar::Sops);
        assert_eq!(pairs(aes).len(), 2);
        assert_eq!(
            grammar_of(&aes.replace("AES256_GCM", "XCHACHA20_POLY1305")),
            Grammar::MultiLine
        );
        assert_eq!(
            grammar_of(&aes.replace("\nsops_mac", "\n sops_mac")),
            Grammar::MultiLine
        );
    }

    #[test]
    fn errors_have_positions_and_no_values() {
        let err = |src: &str| Dotenv.parse(src).err().unwrap();
        let e = err("A=1\n  secret-without-equals\n");
        assert_eq!((e.line, e.column), (2, 3));
        assert_eq!(e.message, "expected KEY=VALUE");
        assert!(!e.to_string().contains("secret"));
        // A quote that never closes is a one-line value; the line after it
        // is then a line of its own.
        let e = err("A=1\nB=x\nC= \"never closed\nsecret\n");
        assert_eq!((e.line, e.column), (4, 1));
        assert!(!e.to_string().contains("secret"));
        let e = err("=v\n");
        assert_eq!((e.line, e.column), (1, 1));
        let e = err("A=1\n  =v\n");
        assert_eq!((e.line, e.column), (2, 3));
    }

    #[test]
    fn fixtures_hold_the_contract() {
        for (name, src) in fixtures() {
            if name.starts_with("fail_") {
                assert!(Dotenv.parse(&src).is_err(), "{name} should fail");
                continue;
            }
            if let Err(e) = roundtrip(&Dotenv, &src) {
                panic!("{name}: {e}");
            }
        }
    }

    #[test]
    fn reads_a_sops_written_file() {
        let src = concat!(
            "#ENC[AES256_GCM,data:yr1P,iv:JjI8,tag:lSso,type:comment]\n",
            "DB_USER=ENC[AES256_GCM,data:FNWt/Fg=,iv:74hW,tag:SmG/,type:str]\n",
            "sops_age__list_0__map_enc=-----BEGIN AGE ENCRYPTED FILE-----\\nYWdl\\n-----END AGE ENCRYPTED FILE-----\\n\n",
            "sops_age__list_0__map_recipient=age174vm\n",
            "sops_lastmodified=2026-11-22T03:52:23Z\n",
            "sops_mac=ENC[AES256_GCM,data:x,type:str]\n",
            "sops_shamir_threshold=2.0\n",
            "sops_unencrypted_suffix=_unencrypted\n",
            "sops_version=3.11.0\n",
        );
        let parsed = parse(src);
        let meta = parsed.metadata.unwrap();
        assert_eq!(
            plain(&meta),
            concat!(
                r#"{"shamir_threshold":Some("2.0"),"age":[{"recipient":Some("age174vm"),"#,
                r#""enc":Some("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n")}],"#,
                r#""lastmodified":Some("2026-11-22T03:52:23Z"),"mac":Some("ENC[AES256_GCM,data:x,type:str]"),"#,
                r#""unencrypted_suffix":Some("_unencrypted"),"version":Some("3.11.0")}"#
            )
        );
        let edits = parsed
            .metadata_spans
            .iter()
            .map(|s| Edit {
                span: s.clone(),
                text: String::new(),
            })
            .collect();
        let data = splice(src, edits).unwrap();
        assert!(data.ends_with("type:str]\n"), "{data}");
        assert_eq!(pairs(src).len(), 1);
    }

    #[test]
    fn metadata_lines_elsewhere_are_removed_with_their_break() {
        let src = "sops_version=1\nA=1\nsops_mac=x\r\nB=2\n";
        let parsed = parse(src);
        assert_eq!(parsed.metadata_spans, [0..15, 19..31]);
        assert_eq!(pairs(src).len(), 2);
    }

    /// Insert the sample metadata (its MAC sealed with `AES256_GCM`: the
    /// file reads in sops's grammar) into `src`, check the text, and that
    /// parsing gives spans removing exactly the insertion.
    fn insert(src: &str) -> String {
        insert_with(src, &sample_metadata())
    }

    /// [`insert`] with a MAC sealed with sops-like's own cipher.
    fn insert_own(src: &str) -> String {
        insert_with(src, &sample_metadata_with_mac(OWN_MAC))
    }

    const OWN_MAC: &str = "ENC[XCHACHA20_POLY1305,data:Br5H,iv:qIis,tag:31kI,type:str]";

    fn insert_with(src: &str, meta: &Node) -> String {
        let parsed = parse(src);
        let edits = Dotenv.insert_metadata(src, &parsed, meta).unwrap();
        let out = splice(src, edits).unwrap();
        let again = parse(&out);
        assert_eq!(plain(&again.metadata.unwrap()), plain(meta));
        let removal = again
            .metadata_spans
            .iter()
            .map(|s| Edit {
                span: s.clone(),
                text: String::new(),
            })
            .collect();
        assert_eq!(splice(&out, removal).unwrap(), src);
        out
    }

    const SAMPLE_LINES: &str = concat!(
        "sops_age__list_0__map_enc=-----BEGIN AGE ENCRYPTED FILE-----\\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSB1QnZ0V1pWWEJuY1d0V01p\\nZz09\\n-----END AGE ENCRYPTED FILE-----\\n\n",
        "sops_age__list_0__map_recipient=age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\n",
        "sops_lastmodified=2026-11-22T03:51:54Z\n",
        "sops_mac=ENC[AES256_GCM,data:Br5H,iv:qIis,tag:31kI3NDPioUNCf1SxIpkDQ==,type:str]\n",
        "sops_unencrypted_suffix=_unencrypted\n",
        "sops_version=3.11.0\n",
    );

    #[test]
    fn insert_metadata_like_sops() {
        assert_eq!(insert("A=1\n"), format!("A=1\n{SAMPLE_LINES}"));
        assert_eq!(insert(""), SAMPLE_LINES);
        // sops writes its lines with `\n` in a `\r\n` file too.
        assert_eq!(
            insert("A=1\r\nB=2\r\n"),
            format!("A=1\r\nB=2\r\n{SAMPLE_LINES}")
        );
        // No final line break: one is inserted first, none at the end.
        let out = insert("A=1");
        assert_eq!(out, format!("A=1\n{}", SAMPLE_LINES.trim_end()));
        // In sops's grammar a `\r` is content: the break before the
        // block is a `\n` (a `\r\n` would end `B`'s value with `\r`)...
        let out = insert("A=1\r\nB=2");
        assert!(out.starts_with("A=1\r\nB=2\nsops_age"));
        assert!(!out.ends_with('\n'));
        assert!(insert("A=1\r").starts_with("A=1\r\nsops_age"));
        // ... and in sops-like's own, the file's.
        let out = insert_own("A=1\r\nB=2");
        assert!(out.starts_with("A=1\r\nB=2\r\nsops_age"));
        assert!(insert_own("A=1\r").starts_with("A=1\r\r\nsops_age"));
        for src in [
            "A=1\n\r",
            "\r",
            "X=1\r\nA=1\r",
            "\u{feff}",
            "\u{feff}A=1",
            "#c",
        ] {
            // (A text sops refuses is never sealed with its cipher.)
            if SopsDotenv.parse(src).is_ok() {
                insert(src);
            }
            insert_own(src);
        }
    }

    /// A value's lexeme is what `replace` (or `format!`) gave, written
    /// into a text sized for it before it went in.
    #[test]
    fn value_texts_are_sized_before_they_are_written() {
        for s in ["", "a", "a\nb", "\n\n", "x\n", "é\n日"] {
            let e = escape_newlines(s);
            assert_eq!(e, s.replace('\n', "\\n"));
            assert_eq!(e.capacity(), e.len(), "{s:?}");
        }
        for (v, q) in [("a b", "'a b'"), ("", "''"), ("$x", "'$x'")] {
            let quoted = quote(v);
            assert_eq!(quoted, q);
            assert_eq!(quoted.capacity(), quoted.len());
        }
        assert_eq!(unescape_double(r#"a\nb\"c" d"#).as_deref(), Some("a\nb\"c"));
        for raw in ["", "a", r"a\nb", r"\n\n", r"x\", r"\\n", r"é\n日\nx"] {
            let decoded = decode(raw);
            assert_eq!(decoded, raw.replace("\\n", "\n"));
            assert_eq!(decoded.capacity(), raw.len());
        }
        assert_eq!(unescape_double("open"), None);
    }

    #[test]
    fn value_lexemes() {
        let lex = |v: Value| Dotenv.value_lexeme(Slot::Bare, &v);
        assert_eq!(lex(Value::Str("a\nb".into())), "a\\nb");
        assert_eq!(lex(Value::Str("\"q\" # c".into())), "\"q\" # c");
        assert_eq!(lex(Value::Int(42)), "42");
        assert_eq!(lex(Value::Float(2.0)), "2.0");
        assert_eq!(lex(Value::Bool(true)), "true");
        assert_eq!(lex(Value::Null), "");
        assert_eq!(Dotenv.enc_lexeme(Slot::Quoted, "ENC[x]"), "ENC[x]");
        let src = format!("K={}\n", lex(Value::Str("x\ny=\"z".into())));
        assert_eq!(pairs(&src)[0].1, "x\ny=\"z");
    }

    /// A flattened name that another value also gets is refused (naming
    /// it, never a value); duplicate top-level keys are written as they are.
    #[test]
    fn emit_refuses_flattened_names_that_collide() {
        let nested = |k: &str, v: &str| {
            Node::Map(vec![Entry::Pair(Pair {
                key: k.into(),
                value: Node::str(v),
            })])
        };
        for pairs in [
            vec![("a", nested("b", "s1")), ("a_b", Node::str("s2"))],
            vec![("a_b", Node::str("s1")), ("a", nested("b", "s2"))],
            vec![
                ("x", Node::Seq(vec![Item::Node(Node::str("s1"))])),
                ("x_0", Node::str("s2")),
            ],
        ] {
            let tree = Tree::new(vec![Node::map(
                pairs.into_iter().map(|(k, v)| (k.to_string(), v)),
            )]);
            for out in [Dotenv.emit(&tree), emit_as_sops(&tree)] {
                let err = out.unwrap_err().0;
                assert!(err.contains("would both be written as"), "{err}");
                assert!(!err.contains("s1") && !err.contains("s2"), "{err}");
            }
        }
        let dup = Tree::new(vec![Node::map([
            ("A".to_string(), Node::str("1")),
            ("A".to_string(), Node::str("2")),
        ])]);
        assert_eq!(Dotenv.emit(&dup).unwrap(), "A=1\nA=2\n");
    }

    /// An empty mapping or list below the top level has no line: refused,
    /// not lost. An empty document is an empty text.
    #[test]
    fn emit_refuses_empty_collections_it_would_lose() {
        for (value, what) in [
            (Node::Seq(Vec::new()), "list at \"e\""),
            (Node::map(Vec::<(String, Node)>::new()), "mapping at \"e\""),
            (
                Node::map([("x".to_string(), Node::Seq(Vec::new()))]),
                "list at \"e_x\"",
            ),
        ] {
            let tree = Tree::new(vec![Node::map([
                ("a".to_string(), Node::str("1")),
                ("e".to_string(), value),
            ])]);
            for out in [Dotenv.emit(&tree), emit_as_sops(&tree)] {
                let err = out.unwrap_err().0;
                assert!(err.contains(what), "{err}");
            }
        }
        let empty = Tree::new(vec![Node::map(Vec::<(String, Node)>::new())]);
        assert_eq!(Dotenv.emit(&empty).unwrap(), "");
    }

    #[test]
    fn emit_flattens_and_quotes() {
        let tree = Tree::new(vec![Node::map([
            ("plain".to_string(), Node::str("abc-1.2/x:y@z%+,=")),
            ("spaced".to_string(), Node::str("a b # c")),
            ("empty".to_string(), Node::str("")),
            ("nothing".to_string(), Node::value(Value::Null)),
            ("quote".to_string(), Node::str("it's \"$HOME\" \\ x\ny")),
            (
                "app".to_string(),
                Node::Map(vec![
                    Entry::Comment(Comment::new(" db settings", None)),
                    Entry::Pair(Pair {
                        key: "port".into(),
                        value: Node::value(Value::Int(8080)),
                    }),
                    Entry::Pair(Pair {
                        key: "list".into(),
                        value: Node::Seq(vec![
                            Item::Node(Node::value(Value::Bool(true))),
                            Item::Comment(Comment::new("two\nlines", None)),
                            Item::Node(Node::value(Value::Float(1.5))),
                        ]),
                    }),
                ]),
            ),
        ])]);
        let out = Dotenv.emit(&tree).unwrap();
        assert_eq!(
            out,
            concat!(
                "plain=abc-1.2/x:y@z%+,=\n",
                "spaced='a b # c'\n",
                "empty=''\n",
                "nothing=\n",
                "quote=\"it's \\\"$HOME\\\" \\\\ x\\ny\"\n",
                "# db settings\n",
                "app_port=8080\n",
                "app_list_0=true\n",
                "#two\n#lines\n",
                "app_list_1=1.5\n",
            )
        );
        let bad = |node: Node| Dotenv.emit(&Tree::new(vec![node])).is_err();
        // Any key sops writes, but none that a .env line cannot hold.
        let key = |k: &str| Node::map([(k.to_string(), Node::str("x"))]);
        for k in ["a-b", "1a", "db.password", "clé", "a b", "x#y", " sp"] {
            let out = Dotenv.emit(&Tree::new(vec![key(k)])).unwrap();
            assert_eq!(out, format!("{k}=x\n"));
        }
        for k in ["a=b", "#a", "", " ", "a\nb", "a\rb"] {
            assert!(bad(key(k)), "{k:?}");
        }
        assert!(bad(Node::str("top")));
        assert!(bad(Node::Seq(vec![Item::Node(Node::str("x"))])));
        assert_eq!(Dotenv.emit(&Tree::default()).unwrap(), "");
    }

    #[test]
    fn env_keys_and_values() {
        assert_eq!(env_key("export FOO"), "FOO");
        assert_eq!(env_key("  export\tFOO "), "FOO");
        assert_eq!(env_key("SPACED "), "SPACED");
        assert_eq!(env_key("export"), "export");
        assert_eq!(env_key("exporter"), "exporter");
        assert_eq!(env_value(" plain value  "), "plain value");
        assert_eq!(env_value("v # comment"), "v");
        assert_eq!(env_value("a#b"), "a#b");
        assert_eq!(env_value(" #only comment"), "");
        assert_eq!(env_value("'lit \\n $X # no' # c"), "lit \\n $X # no");
        assert_eq!(
            env_value(r#""a\"b\\c\nd\te\$f\q" # c"#),
            "a\"b\\c\nd\te$f\\q"
        );
        assert_eq!(env_value("\"multi\nline\""), "multi\nline");
        assert_eq!(env_value("\"unterminated"), "\"unterminated");
        assert_eq!(env_value("'unterminated"), "'unterminated");
        assert_eq!(env_value(""), "");
    }

    pub(crate) mod props {
        use super::*;
        use proptest::prelude::*;

        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                "[A-Z_][A-Z0-9_]{0,6}",
                "[A-Z][A-Z0-9_]{0,4}".prop_map(|k| format!("export {k}")),
                "[A-Z][A-Z0-9_]{0,4}".prop_map(|k| format!("{k} ")),
                "[A-Z][A-Z0-9_]{0,4}".prop_map(|k| format!("  {k}")),
            ]
        }

        /// A value; `eol` is the file's line break (for multi-line values).
        fn value(eol: &'static str) -> impl Strategy<Value = String> {
            let bare = "([a-z0-9=#'$.\\\\é-][a-z0-9 =#'\"$.\\\\é\r-]*)?";
            let dq_piece = prop_oneof![
                "[a-z #'=$é]{1,4}",
                Just("\\\"".to_string()),
                Just("\\\\".to_string()),
                Just("\\n".to_string()),
                // A line inside a value never reads as `KEY=` (that would
                // end the value: see `Grammar::MultiLine`).
                Just(format!("{eol}>")),
            ];
            prop_oneof![
                bare.prop_map(|s| s.to_string()),
                "[a-z #\"=$\\\\]{0,8}".prop_map(|s| format!("'{s}'")),
                (
                    " {0,2}",
                    prop::collection::vec(dq_piece, 0..6),
                    prop_oneof![Just(""), Just(" # c"), Just("  ")]
                )
                    .prop_map(|(lead, pieces, tail)| format!(
                        "{lead}\"{}\"{tail}",
                        pieces.concat()
                    )),
                "[a-z]{1,4}".prop_map(|s| format!("{s}\\n{s}")),
                "[a-z]{1,4}".prop_map(|s| format!("{s} # inline")),
            ]
        }

        fn line(eol: &'static str) -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::new()),
                "[ \t]{1,3}",
                "[ ]{0,2}#[a-z #=\"']{0,8}",
                (key(), value(eol)).prop_map(|(k, v)| format!("{k}={v}")),
            ]
        }

        pub(crate) fn file() -> impl Strategy<Value = String> {
            (any::<bool>(), any::<bool>(), any::<bool>()).prop_flat_map(
                |(crlf, bom, final_break)| {
                    let eol = if crlf { "\r\n" } else { "\n" };
                    prop::collection::vec(line(eol), 0..8).prop_map(move |lines| {
                        let mut s = String::new();
                        if bom {
                            s.push('\u{feff}');
                        }
                        s.push_str(&lines.join(eol));
                        if final_break && !lines.is_empty() {
                            s.push_str(eol);
                        }
                        s
                    })
                },
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(crate::testing::cases(512)))]

            #[test]
            fn generated_files_roundtrip(src in file()) {
                prop_assert!(Dotenv.parse(&src).is_ok(), "parse failed: {:?}", src);
                if let Err(e) = roundtrip(&Dotenv, &src) {
                    prop_assert!(false, "{}", e);
                }
            }

            #[test]
            fn metadata_insertion_changes_no_value(src in file()) {
                // Values left in clear (`_unencrypted`) must read the same
                // once the metadata is in, or the MAC would not match.
                let parsed = Dotenv.parse(&src).unwrap();
                let with = |meta: &Node| {
                    let edits = Dotenv.insert_metadata(&src, &parsed, meta).unwrap();
                    splice(&src, edits).unwrap()
                };
                // The sample's MAC is sealed with sops's cipher, so that the
                // file reads line by line as sops reads it; the plaintext
                // reads so too when it is to be sealed so.
                if let Ok(sops) = SopsDotenv.parse(&src) {
                    let out = with(&sample_metadata());
                    prop_assert_eq!(pairs_of(&src, &sops), pairs(&out));
                }
                // With sops-like's own cipher, as the plaintext reads.
                let own = with(&sample_metadata_with_mac(OWN_MAC));
                prop_assert_eq!(pairs(&src), pairs(&own));
                prop_assert_eq!(comments(&src), comments(&own));
            }

            #[test]
            fn emit_reads_back_through_env_key_and_value(
                vars in prop::collection::vec(
                    ("[A-Z_][A-Z0-9_]{0,5}", "[a-z \t'\"$#\\\\\n\r=é.:-]{0,10}"),
                    0..8,
                ),
                // At least one item: an empty list has no line (refused).
                nested in prop::collection::vec("[a-z \"'\n$]{0,6}", 1..3),
            ) {
                let mut expected: Vec<(String, String)> = vars.clone();
                let mut top: Vec<(String, Node)> =
                    vars.into_iter().map(|(k, v)| (k, Node::str(v))).collect();
                top.push((
                    "NEST".into(),
                    Node::map([(
                        "LIST".to_string(),
                        Node::Seq(nested.iter().map(|v| Item::Node(Node::str(v.clone()))).collect()),
                    )]),
                ));
                for (i, v) in nested.iter().enumerate() {
                    expected.push((format!("NEST_LIST_{i}"), v.clone()));
                }
                let text = Dotenv.emit(&Tree::new(vec![Node::map(top)])).unwrap();
                let got: Vec<(String, String)> = pairs(&text)
                    .into_iter()
                    .map(|(k, _, raw)| (env_key(&k).to_string(), env_value(&raw)))
                    .collect();
                prop_assert_eq!(got, expected, "{:?}", text);
            }
        }
    }
}

#[cfg(test)]
mod cr_regressions {
    use super::*;
    use crate::splice::splice;
    use crate::syntax::conformance;

    /// Found by the property test: a value ending in `\r` at the end of a
    /// file whose last byte is a lone `\r`.
    #[test]
    fn trailing_carriage_returns_keep_their_value() {
        for src in ["A=é\r\r", "A=x\r\r\r", "A=1\nB=\r\r", "A=\r"] {
            let parsed = Dotenv.parse(src).unwrap();
            let edits = Dotenv
                .insert_metadata(src, &parsed, &conformance::sample_metadata())
                .unwrap();
            let out = splice(src, edits).unwrap();
            let again = Dotenv.parse(&out).unwrap();
            assert!(
                conformance::plain(&parsed.tree.docs[0]) == conformance::plain(&again.tree.docs[0]),
                "{src:?} -> {out:?}"
            );
            conformance::roundtrip(&Dotenv, src).unwrap();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod split_check {
    use super::*;
    use proptest::prelude::*;

    /// The logical lines of `src` from `offset` on, as comparable tuples
    /// (positions in the whole text), up to the first error.
    fn logical(src: &str, offset: usize) -> Vec<(usize, usize, usize, String)> {
        Lines::new(src, Grammar::MultiLine)
            .map_while(Result::ok)
            .map(|l| logical_line(l, offset))
            .collect()
    }

    /// A line as a comparable tuple, its positions moved by `offset`.
    fn logical_line(l: Line, offset: usize) -> (usize, usize, usize, String) {
        let kind = match l.kind {
            Kind::Blank => "blank".to_string(),
            Kind::Comment(c) => format!("# {}..{}", c.start + offset, c.end + offset),
            Kind::Pair { key, value } => format!(
                "{}..{}={}..{}",
                key.start + offset,
                key.end + offset,
                value.start + offset,
                value.end + offset
            ),
        };
        (
            l.start + offset,
            l.content_end + offset,
            l.end + offset,
            kind,
        )
    }

    /// Checked in two parts at any split point, a text reads as it does
    /// whole: the same logical lines, the same verdict, and cuts that
    /// the whole text could have.
    fn splits_agree(src: &str) {
        let g = Grammar::MultiLine;
        let whole = windows(src, 2, g);
        let possible = windows(src, 1, g).map(|w| w.cuts).unwrap_or_default();
        let lines = logical(src, 0);
        for (grammar, n) in [(g, 2), (Grammar::Sops, 2), (g, 1), (Grammar::Sops, 3)] {
            if let Ok(w) = windows(src, n, grammar) {
                tables_agree(src, &w, grammar);
            }
        }
        let mut near = 0;
        while let Some(at) = check_split(src, near) {
            assert!(at > near, "{src:?} at {at}");
            let (head, tail) = (&src[..at], &src[at..]);
            let mut parts = logical(head, 0);
            parts.extend(logical(tail, at));
            if whole.is_ok() {
                assert_eq!(parts, lines, "{src:?} split at {at}");
            }
            let joined = join_windows(src, at, windows(head, 2, g), windows(tail, 2, g), 2, g);
            match (&whole, &joined) {
                (Ok(w), Ok(j)) => {
                    tables_agree(src, j, g);
                    assert_eq!(w.has_metadata, j.has_metadata);
                    assert!(j.cuts.iter().all(|c| possible.contains(c)), "{src:?}");
                    assert!(j.cuts.windows(2).all(|p| p[0] < p[1]), "{src:?}");
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                _ => panic!(
                    "{src:?} split at {at}: {:?} / {:?}",
                    whole.is_ok(),
                    joined.is_ok()
                ),
            }
            near = at;
        }
    }

    /// A line of [`plain_lines`] as a comparable tuple.
    fn plain_tuple(line: PlainLine) -> (bool, std::ops::Range<usize>, std::ops::Range<usize>) {
        match line {
            PlainLine::Pair(k, v) => (true, k, v),
            PlainLine::Comment(c) => (false, 0..0, c),
        }
    }

    /// The lines `w` keeps for each of its windows are those
    /// [`plain_lines`] reads in the window's text (none kept for a text
    /// with metadata).
    fn tables_agree(src: &str, w: &Windows, g: Grammar) {
        let Some(table) = &w.lines else {
            assert!(w.has_metadata, "{src:?}: no lines kept");
            return;
        };
        assert!(!w.has_metadata, "{src:?}");
        assert_eq!(table.windows(), w.cuts.len() + 1, "{src:?}");
        let starts = std::iter::once(0).chain(w.cuts.iter().copied());
        let ends = w.cuts.iter().copied().chain([src.len()]);
        for (i, (a, b)) in starts.zip(ends).enumerate() {
            let want: Vec<_> = plain_lines(&src[a..b], g)
                .unwrap()
                .into_iter()
                .map(plain_tuple)
                .collect();
            // Not for a text of another length.
            assert!(table.window(i, &format!("{}=", &src[a..b])).is_none());
            let (lines, commented) = table.window(i, &src[a..b]).unwrap();
            let got: Vec<_> = lines.map(plain_tuple).collect();
            assert_eq!(got, want, "{src:?} window {a}..{b}");
            assert_eq!(commented, got.iter().any(|l| !l.0));
        }
    }

    /// A window of 64 KiB or more keeps no lines (they are read again),
    /// nor does one joined across a split that grows that long; the
    /// others keep theirs.
    #[test]
    fn a_window_too_long_for_its_positions_keeps_no_lines() {
        let long = format!("A={}\nB=2\n", "x".repeat(70_000));
        let w = windows(&long, 1, Grammar::MultiLine).unwrap();
        let (table, cut) = (w.lines.unwrap(), w.cuts[0]);
        assert_eq!(table.windows(), 2);
        assert!(table.window(0, &long[..cut]).is_none());
        assert_eq!(table.window(1, &long[cut..]).unwrap().0.count(), 1);
        let two = format!("A={0}\nB={0}\nC=3\n", "y".repeat(40_000));
        let at = check_split(&two, 10).unwrap();
        let g = Grammar::MultiLine;
        let (head, tail) = (windows(&two[..at], 5, g), windows(&two[at..], 5, g));
        let joined = join_windows(&two, at, head, tail, 5, g).unwrap();
        let table = joined.lines.unwrap();
        assert_eq!((table.windows(), joined.cuts.len()), (1, 0));
        assert!(table.window(0, &two).is_none());
        let short = "A=1\nB=2\nC=3\n";
        let at = check_split(short, 1).unwrap();
        let (head, tail) = (windows(&short[..at], 5, g), windows(&short[at..], 5, g));
        let joined = join_windows(short, at, head, tail, 5, g).unwrap();
        assert_eq!(joined.lines.unwrap().window(0, short).unwrap().0.count(), 3);
    }

    /// The lines kept with the windows, in both grammars and several
    /// window sizes, as the windows' texts read.
    #[test]
    fn window_lines_read_as_the_windows() {
        for src in [
            "A=1\nB=2\nC=3\nD=4\n",
            "\u{feff}A=1\n# c\n\n  B = \"x\"\r\nexport C='3'\nD=\"two\nlines\"\nE=5",
            "# only\n\n#\n",
            "",
            "A=1\nB=2\nsops_version=3\n",
        ] {
            for g in [Grammar::MultiLine, Grammar::Sops] {
                for n in [1, 2, 3, 100] {
                    if let Ok(w) = windows(src, n, g) {
                        tables_agree(src, &w, g);
                    }
                }
            }
        }
    }

    #[test]
    fn a_text_splits_only_where_no_line_crosses() {
        for src in [
            "A=1\nB=2\nC=3\nD=4\n",
            "A=\"open\nB=2\nC=\"two\nlines\"\nD=4\n",
            "A=\"pem\nQUJD=\n\"\nB=2\nexport C=3\n  D = 4\n",
            "A=1\n\u{feff}B=2\nC=3\n",
            "A=1\n# c\n\nB=2\nsops_version=3\nC=3\n",
            "A=1\nbroken line\nB=2\nC=3\n",
            "A=1\nB=2\n=3\nC=4\n",
            "A=1\r\nB=\"x\r\ny\"\r\nC=3\r\n",
        ] {
            splits_agree(src);
        }
        assert_eq!(check_split("A=1\nB=2\n", 0), Some(4));
        assert_eq!(check_split("A=1\n# only comments\n\n", 0), None);
    }

    /// Where [`plain_pair`] reads a line, it reads it as [`any_line`] does.
    fn fast_lines_agree(src: &str) {
        let starts = std::iter::once(0).chain(src.match_indices('\n').map(|(i, _)| i + 1));
        for start in starts.filter(|&s| s < src.len()) {
            for grammar in [Grammar::MultiLine, Grammar::Sops] {
                let Some(fast) = plain_pair(src, start, grammar) else {
                    continue;
                };
                let fast = logical_line(fast, 0);
                let usual = logical_line(any_line(src, start, grammar).unwrap(), 0);
                assert_eq!(usual, fast, "{src:?} at {start} in {grammar:?}");
            }
        }
    }

    #[test]
    fn plain_pairs_read_as_any_line() {
        for src in [
            "A=1\nB=two\r\nC=\nD=\r\nE=x\r",
            "A.b-c=1\nexport B=2\nC =3\nD= 4\nE=\"q\"\nF=\"open\nG=x\n",
            "_A=é\n9=1\n-A=2\nA==3\nA=#c\nA=x # c\nA='s'\n",
            "\u{feff}A=1\nB=2",
            "A=\r\r\nB=\t1\nC=\x0b\nD",
        ] {
            fast_lines_agree(src);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::testing::cases(256)))]
        #[test]
        fn generated_texts_split_where_no_line_crosses(src in super::tests::props::file()) {
            splits_agree(&src);
            fast_lines_agree(&src);
        }

        #[test]
        fn any_text_reads_plain_pairs_as_any_line(src in "([A-Za-z_.=\"' \t\r#\\-]{0,6}\n?){0,8}") {
            fast_lines_agree(&src);
        }
    }
}
