//! The syntax layer: one module per file format. Each parses text into a
//! [`Tree`] whose scalars and comments carry byte spans, knows how to write
//! an `ENC[…]` string or a plaintext value at a leaf's position, where the
//! `sops` metadata goes, and how to emit a whole tree (metadata blocks and
//! `--output-type` conversion).

#[cfg(test)]
pub(crate) mod conformance;
pub mod dotenv;
pub(crate) mod edit;
pub mod flat;
pub mod ini;
pub mod json;
pub(crate) mod meta_order;
pub mod toml;
pub mod yaml;

use crate::splice::Edit;
use crate::tree::{Node, Slot, Span, Tree, Value};
pub use edit::show as show_path;
/// A path as users write it (`["a"][0]`), for messages.
pub use edit::{alias_conflict, lookup_in, AliasConflict};

/// Append `s` to `out` with its characters escaped: each character whose
/// first byte `special` marks is handed to `escape`, which writes its
/// escape and returns `true`, or returns `false` to keep it as it is; the
/// characters between go in runs. One table lookup a byte finds them (a
/// `match` on every character compiled to a jump table and was 29% of a
/// 100,000-leaf JSON encryption's samples). Used by JSON's and TOML's
/// quoted strings.
pub(crate) fn push_escaped(
    s: &str,
    special: &[bool; 256],
    out: &mut crate::wipe::SecretText,
    mut escape: impl FnMut(char, &mut crate::wipe::SecretText) -> bool,
) {
    let mut run = 0;
    let mut from = 0;
    while let Some(at) = s
        .as_bytes()
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| special[usize::from(b)]))
        .map(|i| from + i)
    {
        let Some(c) = s.get(at..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        from = at + c.len_utf8();
        out.push_str(s.get(run..at).unwrap_or_default());
        run = if escape(c, out) { from } else { at };
    }
    out.push_str(s.get(run..).unwrap_or_default());
}

/// The `ENC[…]` text of a leaf that a lean parse (see [`parse_encrypted`])
/// left with an empty string value: the leaf's source text, without the
/// quotes of a JSON string (lean JSON strings have no escapes).
pub(crate) fn lean_enc_text<'s>(src: &'s str, span: &Span) -> Option<&'s str> {
    let text = src.get(span.clone())?;
    let text = match text.strip_prefix('"') {
        Some(inner) => inner.strip_suffix('"')?,
        None => text,
    };
    crate::cipher::is_encrypted(text).then_some(text)
}

/// Put back the `ENC[…]` texts a lean parse left out of `node` (the
/// metadata's own values must be complete).
pub(crate) fn restore_enc(src: &str, node: &mut Node) {
    match node {
        Node::Map(entries) => {
            for e in entries {
                if let crate::tree::Entry::Pair(p) = e {
                    restore_enc(src, &mut p.value);
                }
            }
        }
        Node::Seq(items) => {
            for i in items {
                if let crate::tree::Item::Node(n) = i {
                    restore_enc(src, n);
                }
            }
        }
        Node::Alias(inner) => restore_enc(src, inner),
        Node::Scalar(s) => {
            if let (Value::Str(t), Some(span)) = (&mut s.value, &s.span) {
                if t.is_empty() {
                    if let Some(text) = lean_enc_text(src, span) {
                        *t = text.to_string();
                    }
                }
            }
        }
    }
}

/// [`Syntax::parse`] of an encrypted file for the engine: a string leaf
/// outside the metadata whose text is a plain `ENC[…]` value (unquoted in
/// YAML and .env, an escape-free string in JSON) gets an empty string
/// value; its text is [`lean_enc_text`] of its span. This spares a copy of
/// every encrypted value. Other formats parse as usual.
pub(crate) fn parse_encrypted(format: Format, src: &str) -> Result<Parsed, ParseError> {
    match format {
        Format::Yaml => yaml::parse_encrypted(src).map(|mut parsed| {
            // Master keys' fields as go-yaml gives them to sops: source text.
            if let Some(meta) = parsed.metadata.as_mut() {
                crate::metadata::keep_key_text(meta, src);
            }
            parsed
        }),
        Format::Json => json::parse_encrypted(src),
        Format::Dotenv => dotenv::parse_encrypted(src),
        _ => format.syntax().parse(src),
    }
}

/// [`Syntax::parse`] of a plaintext whose values are (to be) sealed with
/// `cipher`: for `AES256_GCM` a .env text is read line by line as sops
/// reads it (see [`dotenv::Grammar`]), and an INI text's comment runs are
/// read as sops reads them (see [`ini::SopsIni`]); other formats parse as
/// usual.
pub fn parse_plain_as(
    format: Format,
    src: &str,
    cipher: crate::cipher::CipherKind,
) -> Result<Parsed, ParseError> {
    plain_syntax(format, cipher).parse(src)
}

/// The syntax of a plaintext of `format` whose values are (to be) sealed
/// with `cipher` (see [`parse_plain_as`]), to parse and edit it.
pub fn plain_syntax(format: Format, cipher: crate::cipher::CipherKind) -> &'static dyn Syntax {
    match format {
        Format::Dotenv => dotenv::Grammar::of(cipher).syntax(),
        Format::Ini if cipher == crate::cipher::CipherKind::Aes256Gcm => &ini::SopsIni,
        _ => format.syntax(),
    }
}

/// One step of a sops tree path: `["key"]` or `[0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A parsed document.
#[derive(Clone, Default)]
pub struct Parsed {
    /// The data, without the `sops` metadata.
    pub tree: Tree,
    /// The `sops` metadata as a nested tree, if the file has it (for .env
    /// files the flattened `sops_…` lines, already un-flattened).
    pub metadata: Option<Node>,
    /// The bytes to delete to remove the metadata again: exactly what
    /// [`Syntax::insert_metadata`] inserted (separators included).
    pub metadata_spans: Vec<Span>,
    /// Text that takes the place of one of `metadata_spans` when the
    /// metadata is removed (every other span is just deleted): a YAML
    /// document whose only key is `sops` reads as `{}`, as in sops.
    pub metadata_fill: Vec<(Span, &'static str)>,
    /// Positions the syntax module recorded for its own use (for example
    /// where each YAML document ends). Meaningless to other modules.
    pub marks: Vec<usize>,
    /// The byte offset of the first mapping key that sops does not read as
    /// a string (YAML `200:`, `true:`, `~:`, `2024-01-02:`, `[a, b]:`…):
    /// sops refuses to encrypt such a tree ("non-string key"), so AES mode
    /// does too. `None` in formats whose keys are always strings.
    pub non_string_key: Option<usize>,
    /// The byte offset of the first construct sops cannot take, and why
    /// (see [`SopsRefusal`]). AES mode refuses such a document. `None` in
    /// other formats.
    pub sops_unreadable: Option<(usize, SopsRefusal)>,
    /// `(tag start, value start)` of each YAML scalar written with its tag
    /// before its anchor (`!!int &a 12`): the tag stays outside the
    /// value's span. Empty in other formats.
    pub tags_before_anchors: Vec<(usize, usize)>,
}

/// Why sops cannot take a YAML document (no document text in it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SopsRefusal {
    /// go-yaml v3, and so sops, refuses to read it (sops exits 2): a tag its
    /// value does not fit (`!!bool yes`, `!!int abc`, `!!binary` that is not
    /// base64), a `%YAML` directive other than 1.1, an unknown directive, an
    /// anchor name or escape go-yaml does not read, a tab after an
    /// indicator. What it is.
    Unreadable(&'static str),
    /// go-yaml, and so sops, reads it as other data than YAML 1.2 does
    /// (`[?x: y]`, `[x:]`), and an AES file with it fails sops's MAC
    /// check or decryption (exit 23). What it is.
    ReadOtherwise(&'static str),
    /// An integer go-yaml reads as a uint64: sops reads it and refuses to
    /// encrypt it (exit 23).
    Uint64,
    /// `!!binary` data that is not UTF-8 text (kept as its base64 text
    /// here): sops reads it; sops-like holds text values only (exit 23).
    BinaryNotText,
}

impl SopsRefusal {
    /// What it is, in words.
    pub fn what(self) -> &'static str {
        match self {
            SopsRefusal::Unreadable(what) | SopsRefusal::ReadOtherwise(what) => what,
            SopsRefusal::Uint64 => "an integer above the int64 range, which go-yaml reads as a uint64 and sops cannot encrypt (\"unknown type: uint64\")",
            SopsRefusal::BinaryNotText => "a `!!binary` value whose bytes are not UTF-8 text (sops-like holds text values only)",
        }
    }
}

impl Parsed {
    /// What the metadata span `span` leaves in the plaintext.
    pub fn metadata_text(&self, span: &Span) -> &'static str {
        self.metadata_fill
            .iter()
            .find(|(s, _)| s == span)
            .map_or("", |(_, text)| text)
    }
}

/// Input that is not valid in its format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong. Never contains a value from the document.
    pub message: String,
}

impl ParseError {
    /// An error at byte `offset` of `src`.
    pub fn at(src: &str, offset: usize, message: impl Into<String>) -> ParseError {
        let (line, column) = line_col(src, offset);
        ParseError {
            line,
            column,
            message: message.into(),
        }
    }
}

/// A tree that cannot be written in the requested format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EmitError(pub String);

/// 1-based line and column (in characters) of byte `offset`.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// What one file format knows. Implementations are stateless unit structs.
pub trait Syntax: Sync {
    /// The format's name as used by `--input-type` (`yaml`, `json`, …).
    fn name(&self) -> &'static str;

    /// Parse `src`. The `sops` metadata, if present, is split off into
    /// [`Parsed::metadata`]. Every scalar and comment gets its span.
    fn parse(&self, src: &str) -> Result<Parsed, ParseError>;

    /// The text that replaces a scalar's span to hold the string `enc`
    /// (an `ENC[…]` value): bare, or quoted where the slot needs it.
    fn enc_lexeme(&self, slot: Slot, enc: &str) -> String;

    /// A lexeme for `value` at a position of kind `slot`, which parses back
    /// to the same value and type. Used where the original spelling is not
    /// known (files encrypted by sops).
    fn value_lexeme(&self, slot: Slot, value: &Value) -> String;

    /// Edits that add the metadata `meta` to the data document `src`
    /// (which has none), so that parsing the result gives back `meta` and
    /// `metadata_spans` that undo exactly these edits (with the
    /// `metadata_fill` text where an edit replaced some).
    fn insert_metadata(
        &self,
        src: &str,
        parsed: &Parsed,
        meta: &Node,
    ) -> Result<Vec<Edit>, EmitError>;

    /// Write a whole tree in this format (conversion, `--extract`).
    fn emit(&self, tree: &Tree) -> Result<String, EmitError>;

    /// sops writes a comment inside a YAML sequence as a sequence item
    /// (`- ENC[…,type:comment]`). Given that item's scalar span and the
    /// decrypted comment text, the edit that turns the item back into a
    /// comment line. `None` where the format has no such thing.
    fn comment_item(&self, _src: &str, _span: &Span, _text: &str) -> Option<Edit> {
        None
    }

    /// Where a comment that lies inside the text of the value at `value`
    /// (see [`crate::tree::in_lexeme`]) goes when that text is replaced by
    /// an `ENC[…]` lexeme that does not hold it (AES): the offset to insert
    /// at, and the text before and after the comment's own, for the `nth`
    /// (from 0) such comment of the value. `None` where the format's values
    /// hold no comments.
    fn comment_after(
        &self,
        _src: &str,
        _value: &Span,
        _nth: usize,
    ) -> Option<(usize, String, String)> {
        None
    }

    /// sops's comment stacks (what the comment selectors decide by) for
    /// `parsed`, the parse of the plaintext `src`, where sops reads
    /// comments into other places than the tree has them (YAML: go-yaml's
    /// reading): its reading of `src` (what sops encrypts) first, then its
    /// reading of the encrypted file (what sops decrypts: the metadata
    /// after the last comments of a document may move them). Empty where
    /// the walk's own stacks are sops's, or no reading can be paired with
    /// the tree.
    fn sops_stacks(&self, _src: &str, _parsed: &Parsed) -> Vec<crate::tree::SopsStacks> {
        Vec::new()
    }

    /// Whether sops may read a value kept in clear in `text` otherwise than
    /// [`Syntax::parse`] does (see [`Syntax::sops_reading`]); a quick test
    /// before a file's values are read again.
    fn sops_reads_otherwise(&self, _text: &str) -> bool {
        false
    }

    /// sops's reading of the scalar `src[span]` (its lexeme) that
    /// [`Syntax::parse`] reads as the string `value`, where it differs
    /// (YAML: a raw U+2028, U+2029 or U+0085, which go-yaml reads as a line
    /// break; a plain scalar with the non-specific tag `!`, which go-yaml
    /// types as if untagged: `! 0xf` is the integer 15); `None` where it is
    /// the same. Used for the values a sops-compatible file keeps in clear.
    fn sops_reading(&self, _src: &str, _span: Span, _value: &str) -> Option<crate::tree::Value> {
        None
    }

    /// The value a parse gives the scalar lexeme `lexeme` (its whole span)
    /// at a position with `slot`, when that can be told from the lexeme
    /// alone (one line, no structure); `None` otherwise, or where the
    /// format does not say. Lets decryption compute the MAC without
    /// parsing the plaintext again.
    fn simple_value(&self, _lexeme: &str, _slot: Slot) -> Option<Value> {
        None
    }

    /// Edits that make the value at `path` equal to `value` (a generated
    /// node: scalar, map or sequence), changing as few bytes as possible:
    /// an existing value is replaced in place (its key, comments and layout
    /// kept); a missing key becomes a new last entry of its mapping, in the
    /// mapping's style and indentation; an index equal to a sequence's
    /// length appends; missing intermediate mappings are created (as sops
    /// does). No edits when the value is already there. `parsed` is
    /// `self.parse(src)`. Errors for impossible cases: an index out of
    /// range, a scalar in the way, a value the format cannot hold.
    fn set_value(
        &self,
        _src: &str,
        _parsed: &Parsed,
        _path: &[PathStep],
        _value: &Node,
    ) -> Result<Vec<Edit>, EmitError> {
        Err(EmitError(format!(
            "{} files cannot be edited in place",
            self.name()
        )))
    }

    /// Edits that remove the entry at `path`: its whole line(s) in block
    /// styles, with its comma in JSON and flow styles. A collection left
    /// empty is written `{}`/`[]`. `Ok(None)` if there is no such entry.
    fn remove_value(
        &self,
        _src: &str,
        _parsed: &Parsed,
        _path: &[PathStep],
    ) -> Result<Option<Vec<Edit>>, EmitError> {
        Err(EmitError(format!(
            "{} files cannot be edited in place",
            self.name()
        )))
    }
}

/// One value taken out of a document (`decrypt --extract`), written as
/// sops writes it for an output format: a string as it is (no quotes, no
/// line break) whatever the format; another scalar as the format's store
/// writes a lone value (YAML: go-yaml's spelling and a line break; JSON and
/// INI: `json.Marshal`, no line break; dotenv: refused, as sops refuses
/// every value that is not a string); a collection as a document of the
/// format (a JSON list without the final line break, as sops).
pub fn emit_value(format: Format, node: &Node) -> Result<String, EmitError> {
    if let Node::Alias(inner) = node {
        return emit_value(format, inner);
    }
    if let Node::Scalar(s) = node {
        if let Value::Str(text) = &s.value {
            return Ok(text.clone());
        }
    }
    let single = |node: &Node| Tree::new(vec![node.clone()]);
    match (format, node) {
        (Format::Yaml, _) => Ok(yaml::emit_value(node)),
        (Format::Json, _) | (Format::Ini, Node::Scalar(_)) => json::emit_value(node),
        (Format::Dotenv, Node::Scalar(_) | Node::Seq(_)) => Err(EmitError(
            "a .env file holds only strings: this value is not one (use --output-type yaml or json)"
                .into(),
        )),
        (Format::Toml, Node::Scalar(s)) => Ok(match &s.value {
            Value::Null => "null\n".to_string(),
            Value::Bool(b) => format!("{b}\n"),
            other => {
                // A decrypted value's text, wiped; its line sized before it
                // is written.
                let value = zeroize::Zeroizing::new(other.sops_text().unwrap_or_default());
                let mut text = crate::wipe::SecretText::with_capacity(value.len() + 1);
                text.push_str(&value);
                text.push('\n');
                text.into_string()
            }
        }),
        _ => format.syntax().emit(&single(node)),
    }
}

/// The file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// YAML 1.2 (streams of documents).
    Yaml,
    /// JSON.
    Json,
    /// dotenv (`KEY=value` lines).
    Dotenv,
    /// TOML 1.0.
    Toml,
    /// INI (sections of `key = value` pairs), read as go-ini reads it.
    Ini,
}

impl Format {
    /// All formats.
    pub const ALL: [Format; 5] = [
        Format::Yaml,
        Format::Json,
        Format::Dotenv,
        Format::Toml,
        Format::Ini,
    ];

    /// The syntax implementation.
    pub fn syntax(self) -> &'static dyn Syntax {
        match self {
            Format::Yaml => &yaml::Yaml,
            Format::Json => &json::Json,
            Format::Dotenv => &dotenv::Dotenv,
            Format::Toml => &toml::Toml,
            Format::Ini => &ini::Ini,
        }
    }

    /// The format's name (`yaml`, `json`, `dotenv`, `toml`, `ini`).
    pub fn name(self) -> &'static str {
        self.syntax().name()
    }

    /// Parse an `--input-type`/`--output-type` name.
    pub fn from_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "dotenv" | "env" => Some(Format::Dotenv),
            "toml" => Some(Format::Toml),
            "ini" => Some(Format::Ini),
            _ => None,
        }
    }

    /// The format of a file name: sops's (`.yaml .yml .json .env .ini`,
    /// see [`Format::from_path_as_sops`]), and two of sops-like's own:
    /// `.toml`, and `.env.*` / `*.env.*` names such as `.env.production`.
    /// Every other name is the binary store's, as in sops (`None`).
    pub fn from_path(path: &str) -> Option<Format> {
        if let Some(format) = Format::from_path_as_sops(path) {
            return Some(format);
        }
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        if name.ends_with(".toml") {
            return Some(Format::Toml);
        }
        if name.starts_with(".env") || name.contains(".env.") {
            return Some(Format::Dotenv);
        }
        None
    }

    /// The format sops 3 gives a file name: the suffixes `.yaml`/`.yml`,
    /// `.json`, `.env` and `.ini`, matched as written (`X.YAML` is a binary
    /// file to sops); `None` for the binary store.
    pub fn from_path_as_sops(path: &str) -> Option<Format> {
        if path.ends_with(".yaml") || path.ends_with(".yml") {
            Some(Format::Yaml)
        } else if path.ends_with(".json") {
            Some(Format::Json)
        } else if path.ends_with(".env") {
            Some(Format::Dotenv)
        } else if path.ends_with(".ini") {
            Some(Format::Ini)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_paths() {
        assert_eq!(Format::from_path("a/b.enc.yaml"), Some(Format::Yaml));
        assert_eq!(Format::from_path("x.yml"), Some(Format::Yaml));
        // As in sops, suffixes match as written: these are binary files.
        assert_eq!(Format::from_path("x.YML"), None);
        assert_eq!(Format::from_path("conf/App.INI"), None);
        assert_eq!(Format::from_path("a.TOML"), None);
        assert_eq!(Format::from_path_as_sops("Cargo.toml"), None);
        assert_eq!(Format::from_path_as_sops(".env.local"), None);
        assert_eq!(Format::from_path_as_sops("dir/x.env"), Some(Format::Dotenv));
        assert_eq!(Format::from_path("prod.enc.env"), Some(Format::Dotenv));
        assert_eq!(
            Format::from_path("dir/.env.production"),
            Some(Format::Dotenv)
        );
        assert_eq!(Format::from_path(".env"), Some(Format::Dotenv));
        assert_eq!(Format::from_path("Cargo.toml"), Some(Format::Toml));
        assert_eq!(Format::from_path("a.json"), Some(Format::Json));
        assert_eq!(Format::from_path("conf/app.ini"), Some(Format::Ini));
        assert_eq!(Format::from_name("ini"), Some(Format::Ini));
        assert_eq!(Format::from_path("a.txt"), None);
    }

    #[test]
    fn extracted_values_are_written_as_sops_writes_them() {
        let v = |value: Value| Node::value(value);
        let out = |format: Format, node: &Node| emit_value(format, node);
        let time = v(Value::Time("2024-01-02T03:04:05Z".into()));
        assert_eq!(
            out(Format::Yaml, &v(Value::Float(1e21))).unwrap(),
            "1e+21\n"
        );
        assert_eq!(
            out(Format::Yaml, &v(Value::Float(f64::NAN))).unwrap(),
            ".nan\n"
        );
        assert_eq!(out(Format::Yaml, &v(Value::Float(1.0))).unwrap(), "1\n");
        assert_eq!(out(Format::Yaml, &time).unwrap(), "2024-01-02T03:04:05Z\n");
        assert_eq!(
            out(Format::Json, &time).unwrap(),
            "\"2024-01-02T03:04:05Z\""
        );
        assert_eq!(out(Format::Json, &v(Value::Float(1e-7))).unwrap(), "1e-7");
        assert_eq!(out(Format::Ini, &v(Value::Bool(true))).unwrap(), "true");
        let err = out(Format::Json, &v(Value::Float(f64::INFINITY))).unwrap_err();
        assert_eq!(err.0, "json: unsupported value: +Inf");
        assert!(out(Format::Dotenv, &v(Value::Int(1))).is_err());
        // Strings as they are, whatever the format.
        for format in Format::ALL {
            assert_eq!(out(format, &Node::str("a\nb")).unwrap(), "a\nb");
        }
        let list = Node::Seq(vec![
            crate::tree::Item::Node(v(Value::Int(1))),
            crate::tree::Item::Node(Node::str("x")),
        ]);
        assert_eq!(out(Format::Json, &list).unwrap(), "[\n\t1,\n\t\"x\"\n]");
        assert_eq!(out(Format::Yaml, &list).unwrap(), "- 1\n- x\n");
        let map = Node::map([("a".to_string(), v(Value::Float(1.5)))]);
        assert_eq!(out(Format::Json, &map).unwrap(), "{\n\t\"a\": 1.5\n}\n");
        assert_eq!(out(Format::Dotenv, &map).unwrap(), "a=1.5\n");
    }

    #[test]
    fn line_col_counts_chars() {
        assert_eq!(line_col("ab\ncé d", 7), (2, 4));
        assert_eq!(line_col("", 0), (1, 1));
    }
}
