//! The file-level engine: encrypt a plaintext document, read an encrypted
//! one, and decrypt it, given the 32-byte data key.
//!
//! Both directions only splice: encryption replaces each selected leaf's
//! span with an `ENC[…]` string and inserts the metadata; decryption puts
//! the plaintext back and removes exactly the inserted metadata.
//!
//! What is encrypted for a value depends on the cipher:
//! - `XCHACHA20_POLY1305` (sops-like's own): the leaf's raw lexeme (quotes,
//!   block-scalar header, escapes and all), so decryption restores the
//!   exact bytes.
//! - `AES256_GCM` (sops-compatible): sops's canonical value text, so the
//!   real sops decrypts it; decryption writes the value back in a canonical
//!   spelling for its position.

use crate::cipher::{is_encrypted, CipherError, CipherKind, EncValue};
use crate::mac::Mac;
use crate::metadata::{MasterKey, Metadata, MetadataError, Selector, FORMAT_VERSION};
use crate::select::{Decider, SelectorError};
use crate::splice::{splice, Edit, SpliceError};
use crate::syntax::dotenv::Grammar;
use crate::syntax::{EmitError, Format, ParseError, Parsed, Syntax};
use crate::tree::{Node, Scalar, SopsStacks, Tree, Value};
use crate::walk::{walk, Leaf};
use zeroize::Zeroizing;

mod audit;
mod lines;
mod open;
mod par;
mod retype;
mod seal;
mod stream;

pub use stream::{scan, StreamError, Streamed, StreamedPlain};

/// Everything that can go wrong in the engine. No variant holds plaintext.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The input is not valid in its format.
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// `encrypt` was given a file that already has sops metadata.
    #[error("the file is already encrypted (it has sops metadata)")]
    AlreadyEncrypted,
    /// `decrypt` was given a file without sops metadata.
    #[error("sops metadata not found: the file is not encrypted")]
    NoMetadata,
    /// The metadata is malformed.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// A selector regex does not compile.
    #[error(transparent)]
    Selector(#[from] SelectorError),
    /// The document cannot hold the metadata (e.g. a top-level scalar).
    #[error("{0}")]
    Emit(#[from] EmitError),
    /// Internal splice error.
    #[error(transparent)]
    Splice(#[from] SpliceError),
    /// A value could not be encrypted.
    #[error("could not encrypt the value at {}: {source}", tree_path(path))]
    Encrypt {
        /// The key path (`a:b:`).
        path: String,
        /// Why.
        source: CipherError,
    },
    /// A value could not be decrypted (bad tag, moved value, malformed).
    #[error("could not decrypt the value at {}: {source}", tree_path(path))]
    Decrypt {
        /// The key path (`a:b:`).
        path: String,
        /// Why.
        source: CipherError,
    },
    /// A value is in clear at a path the file's selector encrypts: sops
    /// refuses it (`Could not decrypt value`), with or without the MAC
    /// check. The file was changed by hand or tampered with.
    #[error("the value at {} is not encrypted, but the file's selector encrypts it (changed by hand or tampered with)", tree_path(path))]
    Unsealed {
        /// The key path (`a:b:`).
        path: String,
    },
    /// A value is encrypted, and decrypts, at a path the file's selector
    /// leaves in clear (the selector in the metadata was changed): sops
    /// reads it as text. Re-encrypting would write it in clear.
    #[error("the value at {} is encrypted, but the file's selector leaves it in clear (the selector was changed by hand?): writing the file again would put it in clear", tree_path(path))]
    SealedWhereClear {
        /// The key path (`a:b:`).
        path: String,
    },
    /// A decrypted value is not valid for its `type:`.
    #[error("the value at {} does not match its type {ty}", tree_path(path))]
    BadType {
        /// The key path.
        path: String,
        /// The declared type.
        ty: String,
    },
    /// A decrypted value (or comment) is not UTF-8 text: sops's .env and
    /// INI stores keep such bytes (a Latin-1 value), sops-like values are
    /// text.
    #[error("the value at {path} decrypts to bytes that are not UTF-8 text (sops keeps such bytes, sops-like values are text); decrypt the file with sops and re-encode it as UTF-8")]
    NotText {
        /// The key path.
        path: String,
    },
    /// The MAC cannot vouch for what the file says (a key twice where sops
    /// reads one of them): sops fails its MAC check on such a file.
    #[error("{0}")]
    Unverifiable(String),
    /// The MAC does not match the values: the file was tampered with or
    /// edited by hand.
    #[error("MAC mismatch: the file's values do not match its MAC (tampered with or edited without sops)")]
    MacMismatch,
    /// The file has no MAC.
    #[error("the file has no MAC")]
    MacMissing,
    /// The document cannot be written in sops's format (AES256_GCM mode).
    #[error("{0}")]
    SopsIncompatible(String),
    /// The plaintext is one sops cannot read at all (AES256_GCM mode): go-yaml
    /// refuses it when sops unmarshals the file.
    #[error("{0}")]
    SopsUnreadable(String),
    /// The decrypted text is not valid in its format.
    #[error("the decrypted document is not valid: {0}")]
    DecryptedParse(ParseError),
    /// The output sink failed (e.g. a full disk or a closed pipe); the
    /// output may be partly written.
    #[error("could not write the output: {0}")]
    Write(#[source] std::io::Error),
}

/// A value's key path as users write it (`["db"]["password"]`), from the
/// `a:b:` form it is authenticated with (list items share their list's
/// path; the MAC's is `["sops"]["mac"]`).
fn tree_path(aad: &str) -> String {
    let keys = aad.strip_suffix(':').unwrap_or(aad);
    if keys.is_empty() {
        return "the top level".into();
    }
    let steps: Vec<crate::syntax::PathStep> = keys
        .split(':')
        .map(|k| crate::syntax::PathStep::Key(k.into()))
        .collect();
    crate::syntax::edit::show(&steps)
}

/// How to encrypt a new file.
#[derive(Clone, Debug)]
pub struct EncryptOptions {
    /// The value cipher.
    pub cipher: CipherKind,
    /// Which leaves to encrypt.
    pub selector: Selector,
    /// MAC only the encrypted values.
    pub mac_only_encrypted: bool,
}

impl EncryptOptions {
    /// How the file with `metadata` was encrypted: its cipher (see
    /// [`Metadata::cipher_or_sops`]), selector and MAC setting.
    pub fn of(metadata: &Metadata) -> EncryptOptions {
        EncryptOptions {
            cipher: metadata.cipher_or_sops(),
            selector: metadata.effective_selector(),
            mac_only_encrypted: metadata.mac_only_encrypted,
        }
    }
}

impl Default for EncryptOptions {
    fn default() -> Self {
        EncryptOptions {
            cipher: CipherKind::XChaCha20Poly1305,
            selector: Selector::default(),
            mac_only_encrypted: false,
        }
    }
}

/// The wrapped data keys to store in the metadata.
#[derive(Clone, Default)]
pub struct KeyMaterial {
    /// Key groups (one group = flat lists).
    pub key_groups: Vec<Vec<MasterKey>>,
    /// Shamir threshold for two or more groups.
    pub shamir_threshold: Option<usize>,
}

impl KeyMaterial {
    /// The wrapped keys `metadata` stores: the file's data key as it is.
    pub fn of(metadata: &Metadata) -> KeyMaterial {
        KeyMaterial {
            key_groups: metadata.key_groups.clone(),
            shamir_threshold: metadata.shamir_threshold,
        }
    }
}

/// An encrypted file, parsed, with its metadata.
pub struct EncryptedFile<'s> {
    /// The format.
    pub format: Format,
    /// The encrypted text.
    pub src: &'s str,
    /// The parse. A plain `ENC[…]` value outside the metadata has an empty
    /// string as its value: its text is its span in `src` (see
    /// [`enc_text`]); this spares a copy of every value.
    pub parsed: Parsed,
    /// The metadata.
    pub metadata: Metadata,
}

/// Whether `src` has sops metadata (is encrypted).
pub fn is_encrypted_document(format: Format, src: &str) -> Result<bool, EngineError> {
    Ok(metadata_presence(format, src)? != MetadataPresence::Absent)
}

/// What a text's top-level `sops` key holds, as far as sops reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataPresence {
    /// There is no `sops` key.
    Absent,
    /// It holds nothing (`sops:` with no value, `null`, `~`, an empty
    /// string): sops finds no metadata there.
    Empty,
    /// It holds something (which [`open`] reads, or refuses).
    Present,
}

/// Whether the text has a top-level `sops` key, and whether it holds
/// anything.
pub fn metadata_presence(format: Format, src: &str) -> Result<MetadataPresence, EngineError> {
    Ok(match format.syntax().parse(src)?.metadata {
        None => MetadataPresence::Absent,
        Some(Node::Scalar(s))
            if matches!(&s.value, Value::Null)
                || matches!(&s.value, Value::Str(t) if t.is_empty()) =>
        {
            MetadataPresence::Empty
        }
        Some(_) => MetadataPresence::Present,
    })
}

/// Parse an encrypted file and its metadata.
pub fn open(format: Format, src: &str) -> Result<EncryptedFile<'_>, EngineError> {
    let parsed = crate::syntax::parse_encrypted(format, src)?;
    let node = parsed.metadata.as_ref().ok_or(EngineError::NoMetadata)?;
    let metadata = Metadata::from_node(node)?;
    if metadata.cipher() == Some(CipherKind::Aes256Gcm) {
        as_sops_reads(format, src, &parsed)?;
    }
    Ok(EncryptedFile {
        format,
        src,
        parsed,
        metadata,
    })
}

/// An `AES256_GCM` file, whose readers are sops's too, refused where sops
/// reads other data than sops-like would: a YAML key twice at the top
/// level of the first document (sops: "mapping key already defined"), an
/// INI key twice in a section (sops keeps the last value only, so its MAC
/// covers that one). The MAC does not cover an empty value, so such a
/// second key may have been added without the key (`PASSWORD:` after the
/// real one), and readers that take the last would get it. And the first
/// document of a YAML stream must carry the metadata, as sops reads it.
fn as_sops_reads(format: Format, src: &str, parsed: &Parsed) -> Result<(), EngineError> {
    let tree = &parsed.tree;
    match format {
        Format::Yaml => {
            if let Some(at) = crate::syntax::yaml::first_document_without_metadata(src, parsed) {
                return Err(EngineError::Parse(crate::syntax::ParseError::at(
                    src,
                    at,
                    "the first document has no sops metadata: sops reads it from the first document only (\"sops metadata not found\"); if you did not put a document before the real one, the file may have been tampered with",
                )));
            }
            // go-yaml refuses a key twice in the metadata too.
            if let Some(meta) = &parsed.metadata {
                if let Some((key, _)) = duplicate_key_in(meta, &mut Vec::new()) {
                    return Err(EngineError::Parse(crate::syntax::ParseError::at(
                        src,
                        first_value_start(meta),
                        format!("the key {key:?} appears twice in the sops metadata: sops refuses such a file (\"mapping key already defined\")"),
                    )));
                }
            }
            let Some(Node::Map(entries)) = tree.docs.first() else {
                return Ok(());
            };
            let Some(pair) = first_duplicate(entries) else {
                return Ok(());
            };
            Err(EngineError::Parse(crate::syntax::ParseError::at(
                src,
                first_value_start(&pair.value),
                format!(
                    "the key {:?} appears twice at the top level: sops refuses such a file (\"mapping key already defined\"), and the MAC cannot tell which one is the file's",
                    pair.key
                ),
            )))
        }
        Format::Ini => match duplicate_ini_key(tree) {
            Some(key) => Err(EngineError::Unverifiable(format!(
                "the INI key {key} appears twice in its section: sops keeps only the last value, so the MAC cannot vouch for the file's values"
            ))),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Where the first value scalar below `node` starts (0 if none has a span).
fn first_value_start(node: &Node) -> usize {
    let mut spans = Vec::new();
    node.value_spans(&mut spans);
    spans.first().map_or(0, |s| s.start)
}

/// The second pair of the first key that appears twice among `entries`.
fn first_duplicate(entries: &[crate::tree::Entry]) -> Option<&crate::tree::Pair> {
    let mut seen = std::collections::HashSet::new();
    crate::syntax::edit::pairs(entries).find(|p| !seen.insert(p.key.as_str()))
}

/// The `ENC[…]` text of a scalar of an [`EncryptedFile`]'s tree (`src`
/// is the file's text), if it is an encrypted value.
pub fn enc_text<'a>(src: &'a str, scalar: &'a Scalar) -> Option<&'a str> {
    match &scalar.value {
        Value::Str(t) if is_encrypted(t) => Some(t),
        Value::Str(t) if t.is_empty() => scalar
            .span
            .as_ref()
            .and_then(|span| crate::syntax::lean_enc_text(src, span)),
        _ => None,
    }
}

/// The MAC's additional data: `lastmodified` re-formatted as Go's
/// `time.Parse(RFC3339).Format(RFC3339)` does (fraction dropped, zero
/// offset written `Z`).
pub fn mac_aad(lastmodified: &str) -> String {
    let (main, offset) = split_offset(lastmodified);
    let main = match main.find('.') {
        Some(dot) => &main[..dot],
        None => main,
    };
    let offset = match offset {
        "+00:00" | "-00:00" | "z" => "Z",
        other => other,
    };
    format!("{main}{offset}")
}

fn split_offset(t: &str) -> (&str, &str) {
    if let Some(main) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')) {
        return (main, "Z");
    }
    if t.len() > 6 {
        let (main, off) = t.split_at(t.len() - 6);
        if (off.starts_with('+') || off.starts_with('-')) && off.as_bytes().get(3) == Some(&b':') {
            return (main, off);
        }
    }
    (t, "")
}

/// Whether a YAML alias (or merge key) reaches a value that is encrypted
/// either at the alias's own path or at its anchor: sops expands the alias,
/// so it would look for an `ENC[…]` value at the alias's path in the first
/// case, and find the anchor's `ENC[…]` text where it expects plaintext (and
/// MACs that text) in the second.
fn has_encrypted_alias(tree: &Tree, decider: &Decider) -> bool {
    // An alias copies its anchor's scalars with their spans, and an anchor
    // comes before its aliases: the spans of the encrypted values seen so
    // far tell whether an aliased value is encrypted at its anchor.
    let mut encrypted = std::collections::HashSet::new();
    let mut found = false;
    walk(tree, |place, leaf| {
        if let Leaf::Value(v) = leaf {
            let empty = v.value.is_never_encrypted();
            if empty || found {
                return;
            }
            let here = decider.value(place.path, place.comments);
            let span = v.span.as_ref().map(|s| (s.start, s.end));
            if !place.in_alias {
                if here {
                    encrypted.insert(span);
                }
            } else {
                found = here || (span.is_some() && encrypted.contains(&span));
            }
        }
    });
    found
}

/// A YAML block scalar left in clear that ends a text without a final line
/// break, rewritten in its canonical spelling (AES256_GCM mode only). The
/// metadata goes after a line break inserted there, which sops would read
/// as the scalar's own (`k: |\n  a` is `a`, `k: |\n  a\n` is `a\n`), so
/// sops would not read the value that the MAC covers. sops-like reads the
/// inserted break as not the scalar's, so the default cipher keeps the
/// exact bytes.
fn clear_block_at_end(
    syntax: &dyn crate::syntax::Syntax,
    src: &str,
    tree: &Tree,
    decider: &Decider,
) -> Vec<Edit> {
    if src
        .as_bytes()
        .last()
        .is_none_or(|&c| c == b'\n' || c == b'\r')
    {
        return Vec::new();
    }
    let mut last = None;
    walk(tree, |place, leaf| {
        if let (Leaf::Value(s), false) = (leaf, place.in_alias) {
            let empty = s.value.is_never_encrypted();
            last = Some((s, empty || !decider.value(place.path, place.comments)));
        }
    });
    let Some((scalar, clear)) = last else {
        return Vec::new();
    };
    let Some(span) = scalar.span.clone() else {
        return Vec::new();
    };
    let Some(lexeme) = src.get(span.clone()) else {
        return Vec::new();
    };
    // After a tag, if any (`!!binary |`), and the comment lines after it
    // (`!!str # c` with the header below).
    let mut body = match lexeme.strip_prefix('!') {
        Some(tagged) => tagged
            .split_once([' ', '\t', '\r', '\n'])
            .map_or("", |(_, b)| b.trim_start()),
        None => lexeme,
    };
    while body.starts_with('#') {
        body = body.split_once('\n').map_or("", |(_, b)| b.trim_start());
    }
    let at_end = src
        .get(span.end..)
        .is_some_and(|t| t.bytes().all(|c| c.is_ascii_whitespace()));
    if !(clear && at_end && body.starts_with(['|', '>'])) {
        return Vec::new();
    }
    let text = syntax.value_lexeme(scalar.slot, &scalar.value);
    // Comments inside the scalar's text (on the header's line, `k: | # c`,
    // and after a tag, `k: !!str # c` with the header below) are sealed in
    // place: the value goes before the first one, each further one keeps
    // its line and indentation, and the rest of the text goes.
    let mut inside = Vec::new();
    walk(tree, |_, leaf| {
        if let Leaf::Comment(crate::tree::Comment { span: Some(c), .. }) = leaf {
            if c.start > span.start && c.end <= span.end {
                inside.push(c.clone());
            }
        }
    });
    inside.sort_unstable_by_key(|c| c.start);
    let (Some(first), Some(last)) = (inside.first(), inside.last()) else {
        return vec![Edit { text, span }];
    };
    let mut edits = vec![Edit {
        span: span.start..first.start.saturating_sub(1),
        text: format!("{text} "),
    }];
    for pair in inside.windows(2) {
        let gap = pair[0].end..pair[1].start.saturating_sub(1);
        let between = src.get(gap.clone()).unwrap_or("");
        // Up to the last line break, and the indentation after it.
        let keep = between.rfind('\n').map_or(0, |i| {
            let after = &between[i + 1..];
            i + 1 + (after.len() - after.trim_start_matches([' ', '\t']).len())
        });
        edits.push(Edit {
            span: gap.start + keep..gap.end,
            text: String::new(),
        });
    }
    edits.push(Edit {
        span: last.end..span.end,
        text: String::new(),
    });
    edits
}

/// What in a JSON document sops's JSON store refuses to read: a byte order
/// mark (Go: "invalid character 'ï' looking for beginning of value"), a
/// top-level array (sops-like's own extension), or a number beyond the
/// float64 range (Go: "cannot unmarshal number 1e400 into Go value of type
/// float64").
fn json_sops_unreadable(src: &str, tree: &Tree) -> Option<&'static str> {
    if src.starts_with('\u{feff}') {
        return Some("a byte order mark before the JSON text (sops's JSON decoder refuses it)");
    }
    if tree.docs.iter().any(|d| matches!(d, Node::Seq(_))) {
        return Some("a top-level JSON array (sops reads only an object)");
    }
    let mut infinite = false;
    walk(tree, |_, leaf| {
        infinite |=
            matches!(leaf, Leaf::Value(s) if matches!(s.value, Value::Float(f) if !f.is_finite()));
    });
    infinite.then_some("a JSON number beyond the float64 range")
}

/// The first key that appears twice in one mapping of a YAML stream's first
/// document, and the path of that mapping: sops decodes the first document
/// with go-yaml's key check before it reads the stream, so it refuses to
/// encrypt such a document ("mapping key already defined"), and one at the
/// top level cannot even be decrypted. (Later documents are not checked,
/// by sops either.) Aliases are checked where their anchor is.
fn duplicate_yaml_key(tree: &Tree) -> Option<(String, String)> {
    tree.docs
        .first()
        .and_then(|doc| duplicate_key_in(doc, &mut Vec::new()))
}

/// The first key that appears twice in one mapping below `node`, and the
/// path of that mapping (`path` leads to `node`).
pub(crate) fn duplicate_key_in<'a>(
    node: &'a Node,
    path: &mut Vec<&'a str>,
) -> Option<(String, String)> {
    match node {
        Node::Map(entries) => {
            let mut seen = std::collections::HashSet::new();
            for p in crate::syntax::edit::pairs(entries) {
                if !seen.insert(p.key.as_str()) {
                    return Some((p.key.clone(), path.join(":")));
                }
                path.push(&p.key);
                let found = duplicate_key_in(&p.value, path);
                path.pop();
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        Node::Seq(items) => {
            crate::syntax::edit::nodes(items).find_map(|n| duplicate_key_in(n, path))
        }
        Node::Scalar(_) | Node::Alias(_) => None,
    }
}

/// The first key that appears twice in one INI section, if any: sops's
/// INI reader keeps only the last value of such a key, so its MAC would not
/// cover the others.
fn duplicate_ini_key(tree: &Tree) -> Option<String> {
    use crate::syntax::edit::pairs;
    let Some(Node::Map(sections)) = tree.docs.first() else {
        return None;
    };
    pairs(sections).find_map(|section| {
        let Node::Map(entries) = &section.value else {
            return None;
        };
        first_duplicate(entries).map(|p| format!("[{}] {}", section.key, p.key))
    })
}

/// How many leaves (values and comments) `tree` has outside aliases: the
/// most work items a walk can collect, to size their list once.
fn leaf_count(tree: &Tree) -> usize {
    let mut n = 0;
    walk(tree, |place, _| n += usize::from(!place.in_alias));
    n
}

fn has_aliases(tree: &Tree) -> bool {
    let mut found = false;
    walk(tree, |place, _| found |= place.in_alias);
    found
}

/// The MAC of a plaintext tree (uppercase hex SHA-512).
pub fn compute_mac(tree: &Tree, decider: &Decider, mac_only_encrypted: bool) -> String {
    let mut mac = Mac::new(mac_only_encrypted);
    feed_mac(&mut mac, tree, decider, mac_only_encrypted);
    mac.finish()
}

/// Feed the values of `tree` to `mac`, in walk order (see [`compute_mac`]).
fn feed_mac(mac: &mut Mac, tree: &Tree, decider: &Decider, mac_only_encrypted: bool) {
    walk(tree, |place, leaf| {
        if let Leaf::Value(s) = leaf {
            if mac_only_encrypted && !decider.value(place.path, place.comments) {
                return;
            }
            match &s.value {
                Value::Str(t) => mac.update(t.as_bytes()),
                v => {
                    // A number's or date's text: wiped when dropped.
                    if let Some(text) = v.sops_text().map(zeroize::Zeroizing::new) {
                        mac.update(text.as_bytes());
                    }
                }
            }
        }
    });
}

/// Encrypt the plaintext document `src` for a new file.
pub fn encrypt(
    format: Format,
    src: &str,
    key: &[u8; 32],
    opts: &EncryptOptions,
    keys: KeyMaterial,
    now: &str,
) -> Result<String, EngineError> {
    let doc = plaintext_for(format, src, opts.cipher)?;
    into_string(|sink| encrypt_plaintext_to(doc, key, opts, keys, now, sink))
}

/// The metadata of a new file before its `lastmodified` and `mac`.
fn new_metadata(opts: &EncryptOptions, keys: KeyMaterial) -> Metadata {
    Metadata {
        key_groups: keys.key_groups,
        shamir_threshold: keys.shamir_threshold,
        lastmodified: String::new(),
        mac: String::new(),
        selector: Some(opts.selector.clone()),
        mac_only_encrypted: opts.mac_only_encrypted,
        version: FORMAT_VERSION.to_string(),
    }
}

/// A plaintext document checked for encryption: parsed, and known to have
/// no sops metadata yet. Lets a caller refuse an already-encrypted file
/// before it wraps a data key (a KMS call), without parsing twice.
pub struct Plaintext<'s> {
    format: Format,
    src: &'s str,
    /// The cipher it was checked for.
    cipher: CipherKind,
    /// The parse of the text to encrypt: `src`, or the `filled` text.
    checked: Checked,
    /// A YAML text with empty documents, as sops reads it (see
    /// [`crate::syntax::yaml::fill_empty_documents`]): encrypted instead of
    /// `src`.
    filled: Option<Box<FilledText>>,
}

/// A YAML text filled for sops (`{}` in its empty documents), and what
/// it was filled from.
struct FilledText {
    text: zeroize::Zeroizing<String>,
    /// Each range of the original text that changed, in order, and the
    /// length of the text that replaced it.
    edits: Vec<(std::ops::Range<usize>, usize)>,
    /// The parse of the original text.
    original: Parsed,
}

impl Plaintext<'_> {
    /// For a .env or INI text written from the document `source` (a
    /// conversion) and checked for sops's cipher: each value keeps the type
    /// it has in `source` (`8080` an int, `true` a bool), as sops records it
    /// in the value's `type:`, so that reading the file as JSON or YAML
    /// gives the same data. Any other text is left as it is.
    pub fn typed_as(mut self, source: &Tree) -> Result<Self, EngineError> {
        if self.cipher != CipherKind::Aes256Gcm
            || !matches!(self.format, Format::Dotenv | Format::Ini)
            || self.filled.is_some()
        {
            return Ok(self);
        }
        match &mut self.checked {
            Checked::Parsed(parsed) => {
                retype::retype(self.format, &mut parsed.tree, source);
            }
            // Checked line by line: parsed for its types, if it has any.
            Checked::Lines { .. } => {
                let mut parsed = crate::syntax::parse_plain_as(self.format, self.src, self.cipher)?;
                if retype::retype(self.format, &mut parsed.tree, source) > 0 {
                    self.checked = Checked::Parsed(parsed);
                }
            }
        }
        Ok(self)
    }

    /// The parsed data, as it will be encrypted (a YAML text's empty
    /// documents filled; `None` for a .env text, checked line by line: its
    /// top level is always a mapping).
    pub fn tree(&self) -> Option<&Tree> {
        match &self.checked {
            Checked::Parsed(p) => Some(&p.tree),
            Checked::Lines { .. } => None,
        }
    }
}

/// For a text made from `original` by `edits` (a YAML text filled for
/// sops, see [`crate::syntax::yaml::fill_empty_documents`]) and parsed into
/// `parsed`: under a comment selector, a value or comment is encrypted
/// where sops encrypts it reading `original` (the text sops encrypts:
/// go-yaml drops a comment before the `---` of an empty document, and
/// keeps it once the document holds `{}`) or reading the filled text and
/// its encrypted file (what sops decrypts), so that no reading finds in
/// clear what it would have encrypted.
fn select_as_in_original(
    format: Format,
    text: &str,
    parsed: &mut Parsed,
    original: &str,
    filled: &FilledText,
    decider: &Decider,
) {
    if !decider.reads_comments() {
        return;
    }
    let syntax = format.syntax();
    let edits = &filled.edits;
    let to = |at: usize| {
        edits
            .iter()
            .filter(|(range, _)| range.end <= at)
            .fold(at, |at, (range, len)| {
                (at + len).saturating_sub(range.len())
            })
    };
    let mut readings: Vec<SopsStacks> = syntax
        .sops_stacks(original, &filled.original)
        .into_iter()
        .map(|s| s.moved(to))
        .collect();
    readings.extend(syntax.sops_stacks(text, parsed));
    parsed.tree.sops_stacks = merge_readings(readings, &parsed.tree, decider, true).map(Box::new);
}

/// One set of stacks from sops's `readings` of a text parsed into `tree`
/// (see [`Syntax::sops_stacks`]): a comment any reading encrypts is
/// encrypted (the others then show it as its `ENC[…]` text, or warn of
/// it in clear); a value gets the first reading's stack (what sops
/// encrypts), or, with `any_value`, it is encrypted where any reading
/// encrypts it too. Leaves the first reading does not list take the
/// others'.
fn merge_readings(
    readings: Vec<SopsStacks>,
    tree: &Tree,
    decider: &Decider,
    any_value: bool,
) -> Option<SopsStacks> {
    let mut readings = readings.into_iter();
    let mut out = readings.next()?;
    let mut by_start = rustc_hash::FxHashMap::default();
    for doc in &tree.docs {
        crate::walk::comments_by_start(doc, &mut by_start);
    }
    let encrypts = |stack: &[usize], comment: bool| {
        let comments: Vec<&crate::tree::Comment> = stack
            .iter()
            .filter_map(|at| by_start.get(at).copied())
            .collect();
        if comment {
            decider.comment(&[], &comments)
        } else {
            decider.value(&[], &comments)
        }
    };
    for other in readings {
        for (mine, theirs, comment) in [
            (&mut out.values, other.values, false),
            (&mut out.comments, other.comments, true),
        ] {
            for (at, stack) in theirs {
                let listed = mine.get(&at);
                let kept = listed.is_some_and(|s| !encrypts(s, comment));
                let wins = (comment || any_value) && kept && encrypts(&stack, comment);
                if listed.is_none() || wins {
                    mine.insert(at, stack);
                }
            }
        }
    }
    Some(out)
}

/// What checking a plaintext document left for encrypting it.
enum Checked {
    /// Its parse.
    Parsed(Parsed),
    /// A .env text checked line by line in its cipher's grammar
    /// ([`Grammar::of`]), and where to cut it into windows (see [`lines`]).
    Lines {
        cuts: Vec<usize>,
        lines: Option<crate::syntax::dotenv::LineTable>,
    },
}

/// Parse `src` for [`encrypt_plaintext`]; `AlreadyEncrypted` if it has
/// metadata. (A .env text is checked line by line instead: it is encrypted
/// a window of lines at a time.) For the default cipher: see
/// [`plaintext_for`].
pub fn plaintext(format: Format, src: &str) -> Result<Plaintext<'_>, EngineError> {
    plaintext_for(format, src, CipherKind::XChaCha20Poly1305)
}

/// [`plaintext`] for a document to be sealed with `cipher`: a .env text
/// to be sealed with `AES256_GCM` (a file sops reads) is checked as sops
/// reads it ([`Grammar::Sops`]: a line sops refuses is refused), others in
/// sops-like's own grammar. A YAML text's empty or `null` documents are
/// filled with `{}` as sops reads them (see
/// [`crate::syntax::yaml::fill_empty_documents`]; which ones depends on
/// `cipher`): that text is the one encrypted.
pub fn plaintext_for(
    format: Format,
    src: &str,
    cipher: CipherKind,
) -> Result<Plaintext<'_>, EngineError> {
    let checked = if format == Format::Dotenv {
        let grammar = Grammar::of(cipher);
        let w = match grammar {
            Grammar::MultiLine => lines::check(src)?,
            Grammar::Sops => crate::syntax::dotenv::windows(src, lines::WINDOW_LINES, grammar)?,
        };
        if w.has_metadata {
            return Err(EngineError::AlreadyEncrypted);
        }
        Checked::Lines {
            cuts: w.cuts,
            lines: w.lines,
        }
    } else {
        // As it is encrypted (an INI text for sops with its comment runs as
        // sops reads them).
        let parsed = crate::syntax::parse_plain_as(format, src, cipher)?;
        if parsed.metadata.is_some() {
            return Err(EngineError::AlreadyEncrypted);
        }
        let aes = cipher == CipherKind::Aes256Gcm;
        let fill = (format == Format::Yaml)
            .then(|| crate::syntax::yaml::fill_empty_documents(src, &parsed.tree, aes))
            .flatten();
        if let Some(fill) = fill {
            // The filled text is parsed instead (`{}` holds no metadata).
            let filled_parse = format.syntax().parse(&fill.text)?;
            return Ok(Plaintext {
                format,
                src,
                cipher,
                checked: Checked::Parsed(filled_parse),
                filled: Some(Box::new(FilledText {
                    text: fill.text,
                    edits: fill.edits,
                    original: parsed,
                })),
            });
        }
        Checked::Parsed(parsed)
    };
    Ok(Plaintext {
        format,
        src,
        cipher,
        checked,
        filled: None,
    })
}

/// [`encrypt`] for a document already checked by [`plaintext`].
pub fn encrypt_plaintext(
    doc: Plaintext<'_>,
    key: &[u8; 32],
    opts: &EncryptOptions,
    keys: KeyMaterial,
    now: &str,
) -> Result<String, EngineError> {
    into_string(|sink| encrypt_plaintext_to(doc, key, opts, keys, now, sink))
}

/// [`encrypt_plaintext`], writing the encrypted document to `sink` instead
/// of returning it: the output goes out in windows of a bounded number of
/// leaves, so it is never whole in memory (peak memory is the input, its
/// parse, and one window).
///
/// Nothing is written before the document is known to be encryptable (no
/// `SopsIncompatible`, `SopsUnreadable`, `Emit` or `Selector` error can
/// follow a write).
/// After that, an error (a failing sink is [`EngineError::Write`]) may leave
/// the output partly written: the caller discards it (e.g. a temporary
/// file). The sink is flushed at the end.
pub fn encrypt_plaintext_to(
    doc: Plaintext<'_>,
    key: &[u8; 32],
    opts: &EncryptOptions,
    keys: KeyMaterial,
    now: &str,
    sink: &mut dyn std::io::Write,
) -> Result<(), EngineError> {
    let format = doc.format;
    checked_output(format, &opts.selector, opts.cipher, sink, |sink| {
        encrypt_new_to(doc, key, opts, keys, now, sink)
    })
}

/// Write an encrypted file of `format` to `sink` with `write`; when it
/// needs one of the checks below, it is written to memory first, checked,
/// and only then to `sink` (anything else goes straight to `sink`):
/// - [`no_comment_the_regex_keeps`], for a file for sops (`AES256_GCM`)
///   under `unencrypted_comment_regex`;
/// - [`reads_back_as_sealed`], for YAML under a comment selector.
fn checked_output(
    format: Format,
    selector: &Selector,
    cipher: CipherKind,
    sink: &mut dyn std::io::Write,
    write: impl FnOnce(&mut dyn std::io::Write) -> Result<(), EngineError>,
) -> Result<(), EngineError> {
    let sops_regex = match (selector, cipher) {
        (Selector::UnencryptedCommentRegex(pattern), CipherKind::Aes256Gcm) => Some(pattern),
        _ => None,
    };
    let yaml_markers = format == Format::Yaml && Decider::new(selector)?.reads_comments();
    if sops_regex.is_none() && !yaml_markers {
        return write(sink);
    }
    let mut out = Vec::new();
    write(&mut out)?;
    let text = String::from_utf8_lossy(&out);
    if let Some(pattern) = sops_regex {
        no_comment_the_regex_keeps(selector, pattern, &text)?;
    }
    if yaml_markers {
        reads_back_as_sealed(format, &text)?;
    }
    sink.write_all(&out).map_err(EngineError::Write)?;
    sink.flush().map_err(EngineError::Write)
}

/// Under a comment selector, a YAML text is encrypted as every reading of
/// its comments selects (the text's own and go-yaml's); a text whose
/// structure go-yaml reads otherwise once its values are sealed (`[ ?c ]`
/// is a mapping, `[ "ENC[…]" ]` a string) could leave a value in clear
/// that the encrypted file's readings select: decryption would refuse it
/// (see `audit`), and sops would encrypt it. Such a file (`text`, the
/// encryption's output) is refused (exit 23) rather than written.
fn reads_back_as_sealed(format: Format, text: &str) -> Result<(), EngineError> {
    if let Ok(file) = open(format, text) {
        if let Err(EngineError::Unsealed { path }) = audit::check(&file, false) {
            return Err(EngineError::SopsIncompatible(format!(
                "the comment selector selects the value at {} in the encrypted file, but not in this text (go-yaml reads its structure otherwise once values are sealed, as with `[ ?c ]`): it would be left in clear; write the flow collection another way or use a key selector",
                tree_path(&path)
            )));
        }
    }
    Ok(())
}

/// sops refuses to write a file in which an encrypted comment's `ENC[…]`
/// text matches `unencrypted_comment_regex` (`pattern`; exit 23: reading
/// the file, it would take that comment for one left in clear, and fail
/// the MAC check). `text` is the encryption's output.
fn no_comment_the_regex_keeps(
    selector: &Selector,
    pattern: &str,
    text: &str,
) -> Result<(), EngineError> {
    let decider = Decider::new(selector)?;
    let mut rest = text;
    while let Some(at) = rest.find("ENC[") {
        let tail = rest.get(at..).unwrap_or_default();
        let end = tail.find(']').map_or(tail.len(), |i| i + 1);
        let enc = tail.get(..end).unwrap_or_default();
        if enc.ends_with(",type:comment]") && decider.matches(enc) {
            return Err(EngineError::SopsIncompatible(format!(
                "an encrypted comment ({enc}) matches unencrypted_comment_regex {pattern:?}, so sops would take it for a comment in clear and fail the MAC check; make sure the regex cannot match an encrypted comment (sops refuses such a file too)"
            )));
        }
        rest = tail.get(end..).unwrap_or_default();
    }
    Ok(())
}

/// [`encrypt_plaintext_to`] without the checks of [`checked_output`].
fn encrypt_new_to(
    doc: Plaintext<'_>,
    key: &[u8; 32],
    opts: &EncryptOptions,
    keys: KeyMaterial,
    now: &str,
    sink: &mut dyn std::io::Write,
) -> Result<(), EngineError> {
    if matches!(doc.format, Format::Yaml | Format::Dotenv | Format::Ini)
        && doc.cipher != opts.cipher
    {
        // Checked for the other cipher: a YAML text's empty documents are
        // filled otherwise (see `fill_empty_documents`), a .env text is
        // read in the other grammar and an INI text's comments otherwise
        // (a file sops reads, as sops reads it).
        let doc = plaintext_for(doc.format, doc.src, opts.cipher)?;
        return encrypt_new_to(doc, key, opts, keys, now, sink);
    }
    let template = new_metadata(opts, keys);
    match doc.checked {
        Checked::Lines { cuts, lines } => {
            let windows = lines::Cut { cuts: &cuts, lines };
            lines::encrypt_dotenv(doc.src, windows, key, opts.cipher, template, now, sink)
        }
        Checked::Parsed(mut parsed) => {
            let text = match &doc.filled {
                Some(filled) => {
                    let decider = Decider::new(&opts.selector)?;
                    let text = filled.text.as_str();
                    select_as_in_original(doc.format, text, &mut parsed, doc.src, filled, &decider);
                    text
                }
                None => doc.src,
            };
            encrypt_with(
                doc.format,
                text,
                Some(parsed),
                key,
                opts.cipher,
                template,
                now,
                None,
                sink,
            )
        }
    }
}

/// The text an output function writes to its sink.
fn into_string(
    write: impl FnOnce(&mut dyn std::io::Write) -> Result<(), EngineError>,
) -> Result<String, EngineError> {
    let mut out = Vec::new();
    write(&mut out)?;
    String::from_utf8(out).map_err(|e| {
        EngineError::Write(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e.utf8_error(),
        ))
    })
}

/// Encrypt `src` with the settings and keys of `template` (its
/// `lastmodified` and `mac` are replaced), reusing stashed ciphertexts,
/// and write it to `sink`.
#[allow(clippy::too_many_arguments)]
fn encrypt_with(
    format: Format,
    src: &str,
    parsed: Option<Parsed>,
    key: &[u8; 32],
    cipher: CipherKind,
    template: Metadata,
    now: &str,
    stash: Option<&mut Stash>,
    sink: &mut dyn std::io::Write,
) -> Result<(), EngineError> {
    let syntax = format.syntax();
    // Checked in the text as given, for its line numbers.
    let unwritable = (cipher == CipherKind::Aes256Gcm && format == Format::Ini)
        .then(|| crate::syntax::ini::comment_sops_cannot_write(src))
        .flatten();
    if let Some(at) = unwritable {
        let pos = crate::syntax::ParseError::at(src, at, "");
        return Err(EngineError::SopsIncompatible(format!(
            "line {}: a comment whose first line is only `;` or `#` (and spaces), with more comment text after it: sops cannot write such a comment (go-ini panics), so it could not decrypt this file; put text on that line or remove it, or use the xchacha20-poly1305 cipher",
            pos.line
        )));
    }
    // An INI file sops reads: comments after section headers go above
    // them, where sops writes them (see `header_comments_moved`).
    let moved = match (cipher, format) {
        (CipherKind::Aes256Gcm, Format::Ini) => crate::syntax::ini::header_comments_moved(src),
        _ => None,
    };
    let parsed = if moved.is_some() { None } else { parsed };
    let src = moved.as_ref().map_or(src, |text| text.as_str());
    let parsed = match parsed {
        Some(p) => p,
        None => crate::syntax::parse_plain_as(format, src, cipher)?,
    };
    // For sops, a YAML tag before an anchor goes after it (see
    // `anchors_first`): same length, so line numbers hold.
    let reordered = match (cipher, parsed.tags_before_anchors.is_empty()) {
        (CipherKind::Aes256Gcm, false) => Some(
            crate::syntax::yaml::anchors_first(src, &parsed.tags_before_anchors).map_err(|at| {
                let pos = crate::syntax::ParseError::at(src, at, "");
                EngineError::SopsIncompatible(format!(
                    "line {}: a tag before an anchor on another line or with a comment between them cannot be written for sops; write the anchor first (`&a !!int 12`), or use the xchacha20-poly1305 cipher",
                    pos.line
                ))
            })?,
        ),
        _ => None,
    };
    let (src, parsed) = match reordered.as_deref() {
        Some(text) => (text, crate::syntax::parse_plain_as(format, text, cipher)?),
        None => (src, parsed),
    };
    if parsed.metadata.is_some() {
        return Err(EngineError::AlreadyEncrypted);
    }
    let decider = Decider::new(&template.effective_selector())?;
    let mut parsed = parsed;
    with_sops_stacks(syntax, src, &mut parsed, &decider);
    if let (CipherKind::Aes256Gcm, Some(at)) = (cipher, parsed.non_string_key) {
        let pos = crate::syntax::ParseError::at(src, at, "");
        return Err(EngineError::SopsIncompatible(format!(
            "line {}: a mapping key that is not a string (a number, boolean, null, date or collection) cannot be written for sops, which refuses such keys (\"Tree contains a non-string key\"); quote the key, or use the xchacha20-poly1305 cipher",
            pos.line
        )));
    }
    if let (CipherKind::Aes256Gcm, Format::Ini, Some(key)) =
        (cipher, format, duplicate_ini_key(&parsed.tree))
    {
        return Err(EngineError::SopsIncompatible(format!(
            "the INI key {key} appears twice in its section: sops keeps only the last value, so it could not check this file's MAC; remove the duplicate, or use the xchacha20-poly1305 cipher"
        )));
    }
    if let (CipherKind::Aes256Gcm, Some((at, refusal))) = (cipher, parsed.sops_unreadable) {
        use crate::syntax::SopsRefusal;
        let pos = crate::syntax::ParseError::at(src, at, "");
        let what = refusal.what();
        return Err(match refusal {
            // sops reads it; sops-like cannot re-spell it.
            SopsRefusal::BinaryNotText => EngineError::SopsIncompatible(format!(
                "line {}: {what}: it cannot be written with the aes256-gcm cipher; use the xchacha20-poly1305 cipher",
                pos.line
            )),
            // sops reads it, and refuses to encrypt it (23).
            SopsRefusal::Uint64 => EngineError::SopsIncompatible(format!(
                "line {}: {what}; quote it, or use the xchacha20-poly1305 cipher",
                pos.line
            )),
            // sops reads other data than this file says.
            SopsRefusal::ReadOtherwise(_) => EngineError::SopsIncompatible(format!(
                "line {}: {what}: sops would read other data, so it cannot be written with the aes256-gcm cipher; put spaces around the indicator or quote the text, or use the xchacha20-poly1305 cipher",
                pos.line
            )),
            SopsRefusal::Unreadable(_) => EngineError::SopsUnreadable(format!(
            "line {}: {what}: sops cannot read such a document, so it cannot be written with the aes256-gcm cipher; change it, or use the xchacha20-poly1305 cipher",
            pos.line
            )),
        });
    }
    if let (CipherKind::Aes256Gcm, Format::Yaml, Some((key, path))) =
        (cipher, format, duplicate_yaml_key(&parsed.tree))
    {
        let place = if path.is_empty() {
            "at the top level".to_string()
        } else {
            format!("under {path}")
        };
        return Err(EngineError::SopsUnreadable(format!(
            "the YAML key {key} appears twice in one mapping ({place}): sops refuses such a mapping (\"mapping key already defined\"), so it could not read this file; remove the duplicate, or use the xchacha20-poly1305 cipher"
        )));
    }
    if let (CipherKind::Aes256Gcm, Format::Json, Some(what)) =
        (cipher, format, json_sops_unreadable(src, &parsed.tree))
    {
        return Err(EngineError::SopsUnreadable(format!(
            "{what}: sops cannot read such a document, so it cannot be written with the aes256-gcm cipher; change it, or use the xchacha20-poly1305 cipher"
        )));
    }
    if cipher == CipherKind::Aes256Gcm && has_encrypted_alias(&parsed.tree, &decider) {
        return Err(EngineError::SopsIncompatible(
            "YAML aliases of encrypted values cannot be written for sops: sops expands an alias (or merge key) into a copy at the alias's own path and reads that copy as the selector says for that path, so an alias of an encrypted anchor, or an alias where values are encrypted, fails to decrypt or fails the MAC check; use the xchacha20-poly1305 cipher, or write the values out instead of aliasing them".into(),
        ));
    }
    // In a file for sops, a value kept in clear is MACed as sops reads it.
    let mac = if cipher == CipherKind::Aes256Gcm && syntax.sops_reads_otherwise(src) {
        let mut tree = parsed.tree.clone();
        read_clear_as_sops(&mut tree, syntax, src, &decider);
        compute_mac(&tree, &decider, template.mac_only_encrypted)
    } else {
        compute_mac(&parsed.tree, &decider, template.mac_only_encrypted)
    };
    let metadata = Metadata {
        lastmodified: now.to_string(),
        mac: seal_mac(cipher, key, &mac, now)?,
        ..template
    };
    let mut meta_edits = syntax.insert_metadata(src, &parsed, &metadata.to_node())?;
    if let (CipherKind::Aes256Gcm, Format::Yaml) = (cipher, format) {
        meta_edits.extend(clear_block_at_end(syntax, src, &parsed.tree, &decider));
    }
    seal::seal_document(
        syntax,
        src,
        &parsed.tree,
        key,
        cipher,
        &decider,
        stash,
        &meta_edits,
        sink,
    )
}

/// Under a comment selector, give `parsed` (the parse of the plaintext
/// `src`) the stacks of sops's own readings (see [`Syntax::sops_stacks`]
/// and [`merge_readings`]), so that the selector picks what sops picks.
fn with_sops_stacks(syntax: &dyn Syntax, src: &str, parsed: &mut Parsed, decider: &Decider) {
    if decider.reads_comments() && parsed.tree.sops_stacks.is_none() {
        let readings = syntax.sops_stacks(src, parsed);
        parsed.tree.sops_stacks =
            merge_readings(readings, &parsed.tree, decider, false).map(Box::new);
    }
}

fn seal_mac(
    cipher: CipherKind,
    key: &[u8; 32],
    mac: &str,
    lastmodified: &str,
) -> Result<String, EngineError> {
    EncValue::seal(
        cipher,
        key,
        mac.as_bytes(),
        mac_aad(lastmodified).as_bytes(),
        "str",
    )
    .map(|v| v.to_string())
    .map_err(|source| EngineError::Encrypt {
        path: "sops:mac".into(),
        source,
    })
}

/// Decrypt an encrypted file. Verifies the MAC unless `ignore_mac`.
pub fn decrypt(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    ignore_mac: bool,
) -> Result<Zeroizing<String>, EngineError> {
    decrypt_inner(file, key, ignore_mac, false).map(|(plain, _)| plain)
}

/// [`decrypt`], and how many encrypted comments were kept as they are
/// (see [`Stash::kept_comments`]).
pub fn decrypt_counting_kept(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    ignore_mac: bool,
) -> Result<(Zeroizing<String>, usize), EngineError> {
    decrypt_inner(file, key, ignore_mac, false).map(|(plain, s)| (plain, s.kept_comments()))
}

/// Decrypt, and remember every value's ciphertext so that re-encrypting
/// an edited plaintext keeps unchanged values byte-identical.
pub fn decrypt_keeping(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    ignore_mac: bool,
) -> Result<(Zeroizing<String>, Stash), EngineError> {
    decrypt_inner(file, key, ignore_mac, true)
}

fn decrypt_inner(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    ignore_mac: bool,
    keep: bool,
) -> Result<(Zeroizing<String>, Stash), EngineError> {
    let mut stash = Stash::default();
    let (plaintext, computed) = match open::open_document(file, key, keep, &mut stash) {
        Ok(done) => done,
        // sops decrypts what the selector encrypts: a value that only
        // looks encrypted (`note_unencrypted: ENC[…]`) is text.
        Err(
            e @ (EngineError::Decrypt { .. }
            | EngineError::BadType { .. }
            | EngineError::NotText { .. }),
        ) => {
            let clear = clear_lookalikes(file)?;
            if clear.is_empty() {
                return Err(e);
            }
            open::open_keeping_clear(file, key, keep, &mut stash, clear).map_err(|_| e)?
        }
        Err(e) => return Err(e),
    };
    if keep {
        stash.count_clear_comments(&file.parsed.tree);
    }
    if !ignore_mac {
        let verified = verify_mac(&file.metadata, key, || match computed {
            Some(mac) => Ok(mac),
            None => plaintext_mac(file.format, &file.metadata, &plaintext, false),
        });
        match verified {
            // A value in clear that sops reads otherwise (a YAML value with
            // a raw U+2028): a file for sops has that reading's MAC.
            Err(EngineError::MacMismatch)
                if file.format.syntax().sops_reads_otherwise(&plaintext) =>
            {
                verify_mac(&file.metadata, key, || {
                    plaintext_mac(file.format, &file.metadata, &plaintext, true)
                })?
            }
            other => other?,
        }
    }
    Ok((plaintext, stash))
}

/// Refuse to write `file` again if a value that decrypts with `key` sits
/// at a path its selector leaves in clear ([`EngineError::SealedWhereClear`]):
/// `decrypt` shows it (its AAD binds it to its path), but a re-encryption
/// follows the selector and would write it in clear. (A value that only
/// looks encrypted is text, as sops reads it, and stays as it is.)
fn no_sealed_where_clear(file: &EncryptedFile<'_>, key: &[u8; 32]) -> Result<(), EngineError> {
    let clear = clear_lookalikes(file)?;
    if clear.is_empty() {
        return Ok(());
    }
    let mut found = None;
    walk(&file.parsed.tree, |place, leaf| {
        if let (None, Leaf::Value(s)) = (&found, leaf) {
            if !s.span.as_ref().is_some_and(|sp| clear.contains(&sp.start)) {
                return;
            }
            let aad = crate::cipher::aad(place.path);
            let opens = enc_text(file.src, s)
                .and_then(|t| EncValue::parse(t).ok())
                .is_some_and(|v| v.open(key, aad.as_bytes()).is_ok());
            if opens {
                found = Some(aad);
            }
        }
    });
    match found {
        Some(path) => Err(EngineError::SealedWhereClear { path }),
        None => Ok(()),
    }
}

/// The span starts of the values of `file` that look encrypted (`ENC[…]`)
/// at paths its selector leaves in clear.
fn clear_lookalikes(file: &EncryptedFile<'_>) -> Result<rustc_hash::FxHashSet<usize>, EngineError> {
    let decider = Decider::new(&file.metadata.effective_selector())?;
    let mut clear = rustc_hash::FxHashSet::default();
    // An `AES256_GCM` INI file: its comment markers select as sops reads
    // them (the key after the one below a marker), as it was encrypted;
    // the values are at the same places in either reading.
    let sops_ini = (file.format == Format::Ini
        && file.metadata.cipher() == Some(CipherKind::Aes256Gcm))
    .then(|| crate::syntax::parse_plain_as(Format::Ini, file.src, CipherKind::Aes256Gcm).ok())
    .flatten();
    let tree = sops_ini.as_ref().map_or(&file.parsed.tree, |p| &p.tree);
    walk(tree, |place, leaf| {
        if let Leaf::Value(s) = leaf {
            if let (Some(_), Some(span)) = (enc_text(file.src, s), &s.span) {
                if !decider.value(place.path, place.comments) {
                    clear.insert(span.start);
                }
            }
        }
    });
    Ok(clear)
}

/// The data of `file` as sops reads it, from `plain`, the text [`decrypt`]
/// returned for it: `plain` parsed as the file's cipher requires (a .env
/// value in a sops-compatible (`AES256_GCM`) file ends at its line's end,
/// as sops reads it; see [`crate::syntax::dotenv::Grammar`]) and, in a
/// sops-compatible .env or INI file, whose text holds every value as a
/// string, each encrypted value typed by its `type:` as sops types it (a
/// `type:float` value that the text shows as `8080.0` is the number 8080, a
/// `type:time` keeps its fraction); in a sops-compatible JSON file too,
/// whose text holds a time as a string and NaN as `"NaN"`. For
/// `--output-type`, `--extract` and the environment of `exec-env`.
pub fn decrypted_tree(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    plain: &str,
) -> Result<Tree, EngineError> {
    let cipher = match file.metadata.cipher() {
        Some(CipherKind::Aes256Gcm) => CipherKind::Aes256Gcm,
        _ => CipherKind::XChaCha20Poly1305,
    };
    let mut parsed = crate::syntax::parse_plain_as(file.format, plain, cipher)
        .map_err(EngineError::DecryptedParse)?;
    if cipher == CipherKind::Aes256Gcm
        && matches!(file.format, Format::Dotenv | Format::Ini | Format::Json)
    {
        type_values(file, key, &mut parsed.tree)?;
    }
    let syntax = file.format.syntax();
    if cipher == CipherKind::Aes256Gcm && syntax.sops_reads_otherwise(plain) {
        let decider = Decider::new(&file.metadata.effective_selector())?;
        with_sops_stacks(syntax, plain, &mut parsed, &decider);
        read_clear_as_sops(&mut parsed.tree, syntax, plain, &decider);
    }
    Ok(parsed.tree)
}

/// In `tree`, the parse of `plain`, give each value kept in clear the value
/// sops reads (see [`Syntax::sops_reading`]); for the MAC of a file for
/// sops, and the data sops-compatible output shows.
fn read_clear_as_sops(tree: &mut Tree, syntax: &dyn Syntax, plain: &str, decider: &Decider) {
    let mut clear = Vec::new();
    walk(tree, |place, leaf| {
        if let Leaf::Value(s) = leaf {
            if !decider.value(place.path, place.comments) {
                clear.extend(s.span.clone().map(|span| (span.start, span.end)));
            }
        }
    });
    clear.sort_unstable();
    let docs = std::mem::take(&mut tree.docs);
    tree.docs = docs
        .into_iter()
        .map(|doc| {
            doc.map_scalars(&mut |mut scalar| {
                let read = match (&scalar.span, &scalar.value) {
                    (Some(span), Value::Str(t))
                        if clear.binary_search(&(span.start, span.end)).is_ok() =>
                    {
                        syntax.sops_reading(plain, span.clone(), t)
                    }
                    _ => None,
                };
                if let Some(value) = read {
                    scalar.value = value;
                }
                scalar
            })
        })
        .collect();
}

/// Give the values of `tree` (the parse of `file`'s plaintext, a .env or
/// INI file: every value a string) the types their `ENC[…]` values in
/// `file` have. The two trees have the same leaves in the same order (the
/// plaintext is the file with each value spliced in on its line); if they
/// do not, `tree` is left as it is.
fn type_values(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    tree: &mut Tree,
) -> Result<(), EngineError> {
    // The typed values, by their index among the file's values, and
    // whether the selector leaves their path in clear (a value there that
    // does not open only looks encrypted: text, see `clear_lookalikes`).
    let decider = Decider::new(&file.metadata.effective_selector())?;
    // JSON text holds numbers and booleans as they are: only a value it
    // shows as a string may need its type (a time, `"NaN"`).
    let json_strings: Option<rustc_hash::FxHashSet<usize>> =
        (file.format == Format::Json).then(|| {
            let mut strings = rustc_hash::FxHashSet::default();
            let mut index = 0;
            walk(tree, |_, leaf| {
                if let Leaf::Value(s) = leaf {
                    if matches!(s.value, Value::Str(_)) {
                        strings.insert(index);
                    }
                    index += 1;
                }
            });
            strings
        });
    // In .env text every `\n` reads as a line break: a string value with a
    // line break may be one whose plaintext has the two characters `\n`
    // (sops seals the value, not its text): it is opened for its exact text.
    let env_breaks: Option<rustc_hash::FxHashSet<usize>> =
        (file.format == Format::Dotenv).then(|| {
            let mut breaks = rustc_hash::FxHashSet::default();
            let mut index = 0;
            walk(tree, |_, leaf| {
                if let Leaf::Value(s) = leaf {
                    if matches!(&s.value, Value::Str(t) if t.contains('\n')) {
                        breaks.insert(index);
                    }
                    index += 1;
                }
            });
            breaks
        });
    let mut typed: Vec<(usize, String, String, bool)> = Vec::new();
    let mut count = 0;
    walk(&file.parsed.tree, |place, leaf| {
        if let Leaf::Value(s) = leaf {
            if let Some(parts) = enc_text(file.src, s)
                .and_then(|t| crate::cipher::EncParts::split(t).ok().map(|p| (t, p)))
            {
                let typed_here = match &json_strings {
                    Some(strings) => {
                        strings.contains(&count) && matches!(parts.1.ty, "float" | "time")
                    }
                    None => {
                        matches!(parts.1.ty, "int" | "float" | "bool" | "time")
                            || (parts.1.ty == "str"
                                && env_breaks.as_ref().is_some_and(|b| b.contains(&count)))
                    }
                };
                if typed_here {
                    let clear = !decider.value(place.path, place.comments);
                    typed.push((
                        count,
                        parts.0.to_string(),
                        crate::cipher::aad(place.path),
                        clear,
                    ));
                }
            }
            count += 1;
        }
    });
    if typed.is_empty() {
        return Ok(());
    }
    let mut values = Vec::with_capacity(typed.len());
    for (at, text, aad, clear) in typed {
        let fail = |source| EngineError::Decrypt {
            path: aad.clone(),
            source,
        };
        let opened =
            EncValue::parse(&text).and_then(|enc| Ok((enc.open(key, aad.as_bytes())?, enc)));
        let (plain, enc) = match opened {
            Ok(done) => done,
            Err(_) if clear => continue,
            Err(e) => return Err(fail(e)),
        };
        let bad_type = || EngineError::BadType {
            path: aad.clone(),
            ty: enc.ty.clone(),
        };
        let text =
            std::str::from_utf8(&plain).map_err(|_| EngineError::NotText { path: aad.clone() })?;
        let value = Value::from_sops_in(file.format, &enc.ty, text).ok_or_else(bad_type)?;
        values.push((at, value));
    }
    let mut leaves = 0;
    walk(tree, |_, leaf| {
        leaves += usize::from(matches!(leaf, Leaf::Value(_)))
    });
    if leaves != count {
        return Ok(());
    }
    let mut index = 0;
    let mut next = values.into_iter().peekable();
    let docs = std::mem::take(&mut tree.docs);
    tree.docs = docs
        .into_iter()
        .map(|doc| {
            doc.map_scalars(&mut |mut scalar| {
                if let Some((_, value)) = next.next_if(|(at, _)| *at == index) {
                    scalar.value = value;
                }
                index += 1;
                scalar
            })
        })
        .collect();
    Ok(())
}

/// Re-encrypt an edited plaintext over an existing encrypted file: same
/// data key, cipher, selector and recipients; every value whose path and
/// plaintext did not change keeps its exact previous ciphertext (equal
/// values in a list each keep their own); changed values get fresh nonces;
/// `lastmodified` and `mac` are renewed. If the plaintext did not change at
/// all, the file is returned byte for byte.
pub fn reencrypt(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    old_plain: &str,
    new_plain: &str,
    stash: &mut Stash,
    now: &str,
) -> Result<String, EngineError> {
    if old_plain == new_plain {
        return Ok(file.src.to_string());
    }
    reseal(file, key, new_plain, stash, now)
}

/// [`reencrypt`] of `new_plain` (the file's plaintext, changed or not) that
/// always renews `lastmodified` and `mac`, as sops's `set` without
/// `--idempotent` writes the file even when the value was already there.
pub fn reseal(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    new_plain: &str,
    stash: &mut Stash,
    now: &str,
) -> Result<String, EngineError> {
    no_sealed_where_clear(file, key)?;
    let cipher = file.metadata.cipher_or_sops();
    let selector = file.metadata.effective_selector();
    into_string(|sink| {
        checked_output(file.format, &selector, cipher, sink, |sink| {
            encrypt_with(
                file.format,
                new_plain,
                None,
                key,
                cipher,
                file.metadata.clone(),
                now,
                Some(&mut *stash),
                sink,
            )
        })
    })
}

/// Rotate the data key: decrypt with `old_key`, encrypt every value afresh
/// with `new_key`, and store `keys` (the new key wrapped for the recipients).
pub fn rotate(
    file: &EncryptedFile<'_>,
    old_key: &[u8; 32],
    new_key: &[u8; 32],
    keys: KeyMaterial,
    ignore_mac: bool,
    now: &str,
) -> Result<String, EngineError> {
    let plain = decrypt(file, old_key, ignore_mac)?;
    no_sealed_where_clear(file, old_key)?;
    let cipher = file.metadata.cipher_or_sops();
    let template = Metadata {
        key_groups: keys.key_groups,
        shamir_threshold: keys.shamir_threshold,
        ..file.metadata.clone()
    };
    let selector = file.metadata.effective_selector();
    into_string(|sink| {
        checked_output(file.format, &selector, cipher, sink, |sink| {
            encrypt_with(
                file.format,
                &plain,
                None,
                new_key,
                cipher,
                template,
                now,
                None,
                sink,
            )
        })
    })
}

/// Replace the wrapped keys only (same data key): values, `lastmodified`
/// and `mac` stay as they are.
pub fn replace_keys(file: &EncryptedFile<'_>, keys: KeyMaterial) -> Result<String, EngineError> {
    let syntax = file.format.syntax();
    let removal = file
        .parsed
        .metadata_spans
        .iter()
        .map(|s| Edit {
            span: s.clone(),
            text: file.parsed.metadata_text(s).to_string(),
        })
        .collect();
    let bare = splice(file.src, removal)?;
    let parsed = syntax.parse(&bare)?;
    let metadata = Metadata {
        key_groups: keys.key_groups,
        shamir_threshold: keys.shamir_threshold,
        ..file.metadata.clone()
    };
    let edits = syntax.insert_metadata(&bare, &parsed, &metadata.to_node())?;
    Ok(splice(&bare, edits)?)
}

/// Ciphertexts of a decrypted file, by (path, type, plaintext), in
/// document order. Taking one removes it, so each previous ciphertext is
/// reused at most once: equal values never collapse to one ciphertext, and
/// a nonce is never used for a different plaintext.
#[derive(Default)]
pub struct Stash {
    map: std::collections::HashMap<StashKey, std::collections::VecDeque<String>>,
    /// Comments that opened at none of their paths, kept as they are.
    kept_comments: usize,
    /// The texts of the comments that were encrypted: an edit never writes
    /// one of them in clear (see [`Stash::was_sealed_comment`]).
    sealed_comments: std::collections::HashSet<StashKey>,
    /// How many times each comment text was in clear in the file (see
    /// [`Stash::may_stay_clear`]).
    clear_comments: std::collections::HashMap<StashKey, usize>,
}

/// A stash key: holds plaintext, so it is wiped on drop and has no Debug.
#[derive(PartialEq, Eq, Hash)]
struct StashKey(String);

impl Drop for StashKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl Stash {
    /// How many encrypted comments opened at none of their paths and were
    /// kept as they are (`#ENC[…]`), as sops keeps them (it warns: "Found
    /// possibly unencrypted comment"). Comments are not in the MAC.
    pub fn kept_comments(&self) -> usize {
        self.kept_comments
    }

    fn key(aad: &str, ty: &str, plaintext: &str) -> StashKey {
        let mut k = String::with_capacity(aad.len() + ty.len() + plaintext.len() + 2);
        k.push_str(aad);
        k.push('\0');
        k.push_str(ty);
        k.push('\0');
        k.push_str(plaintext);
        StashKey(k)
    }

    /// Whether a comment with this text was encrypted in the file: it
    /// stays encrypted wherever an edit puts it, even where the selector
    /// keeps comments in clear (a value set beside it can move it into an
    /// unencrypted key's collection, as go-yaml reads the new text).
    pub(crate) fn was_sealed_comment(&self, text: &str) -> bool {
        !self.sealed_comments.is_empty()
            && self.sealed_comments.contains(&StashKey(text.to_string()))
    }

    /// Whether a comment with this text, which the selector leaves in
    /// clear, may be written in clear: yes unless it was encrypted in the
    /// file (see [`Stash::was_sealed_comment`]), or, if it was, while the
    /// file had it in clear as often (a text both encrypted and in clear,
    /// `# sops:enc` as a marker and after one, keeps its clear copies: a
    /// marker sealed would change what sops selects). Counted in document
    /// order; no text is ever in clear more often than it was.
    pub(crate) fn may_stay_clear(&mut self, text: &str) -> bool {
        if !self.was_sealed_comment(text) {
            return true;
        }
        match self.clear_comments.get_mut(&StashKey(text.to_string())) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    /// Count the comments of `tree` (a parse of an encrypted file) that
    /// are in clear.
    fn count_clear_comments(&mut self, tree: &Tree) {
        walk(tree, |_, leaf| {
            if let Leaf::Comment(c) = leaf {
                if !c.text.is_empty() && !is_encrypted(&c.text) {
                    *self
                        .clear_comments
                        .entry(StashKey(c.text.clone()))
                        .or_default() += 1;
                }
            }
        });
    }

    fn put(&mut self, aad: &str, ty: &str, plaintext: &str, enc: &str) {
        if ty == "comment" {
            self.sealed_comments.insert(StashKey(plaintext.to_string()));
        }
        self.map
            .entry(Self::key(aad, ty, plaintext))
            .or_default()
            .push_back(enc.to_string());
    }

    fn take(&mut self, aad: &str, ty: &str, plaintext: &str) -> Option<String> {
        let mut take = |ty: &str| {
            self.map
                .get_mut(&Self::key(aad, ty, plaintext))
                .and_then(|q| q.pop_front())
        };
        // sops stores JSON integers as `type:float` (with the same text,
        // `2`); sops-like reads them as integers. The stored ciphertext is
        // kept, so the first edit of a sops-written file does not rewrite
        // every integer (same value, same MAC text).
        take(ty).or_else(|| if ty == "int" { take("float") } else { None })
    }
}

/// Check the file's MAC (`meta`'s, opened with `key`) against the one
/// `computed` gives (called only once the stored MAC opened).
fn verify_mac(
    meta: &Metadata,
    key: &[u8; 32],
    computed: impl FnOnce() -> Result<String, EngineError>,
) -> Result<(), EngineError> {
    if meta.mac.is_empty() {
        return Err(EngineError::MacMissing);
    }
    let stored = EncValue::parse(&meta.mac)
        .and_then(|v| v.open(key, mac_aad(&meta.lastmodified).as_bytes()))
        .map_err(|source| EngineError::Decrypt {
            path: "sops:mac".into(),
            source,
        })?;
    // Constant-time enough: both are public-length hex strings.
    if stored.as_slice() != computed()?.as_bytes() {
        return Err(EngineError::MacMismatch);
    }
    Ok(())
}

/// The MAC of a decrypted document of `format` with `meta`, from a parse
/// of its plaintext (when opening did not compute it on the way).
/// With `as_sops`, values kept in clear are read as sops reads them (see
/// [`read_clear_as_sops`]).
fn plaintext_mac(
    format: Format,
    meta: &Metadata,
    plaintext: &str,
    as_sops: bool,
) -> Result<String, EngineError> {
    let syntax = format.syntax();
    let mut reparsed = syntax
        .parse(plaintext)
        .map_err(EngineError::DecryptedParse)?;
    let decider = Decider::new(&meta.effective_selector())?;
    with_sops_stacks(syntax, plaintext, &mut reparsed, &decider);
    if as_sops {
        read_clear_as_sops(&mut reparsed.tree, syntax, plaintext, &decider);
    }
    Ok(compute_mac(
        &reparsed.tree,
        &decider,
        meta.mac_only_encrypted,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Errors name a value by the tree path users type (`["db"]["password"]`),
    /// not by its authenticated form (`db:password:`, which printed `a::`).
    #[test]
    fn errors_show_the_tree_path() {
        let e = EngineError::Decrypt {
            path: "db:password:".into(),
            source: CipherError::Auth,
        };
        let shown = e.to_string();
        assert!(
            shown.starts_with("could not decrypt the value at [\"db\"][\"password\"]: "),
            "{shown}"
        );
        let e = EngineError::BadType {
            path: "a:".into(),
            ty: "int".into(),
        };
        assert_eq!(
            e.to_string(),
            "the value at [\"a\"] does not match its type int"
        );
        assert_eq!(tree_path("sops:mac"), "[\"sops\"][\"mac\"]");
        assert_eq!(tree_path("q\"uote:"), "[\"q\\\"uote\"]");
    }

    /// `doc` encrypted as YAML with `opts`, a fixed key and time, no keys.
    fn encrypt_yaml(doc: &str, opts: &EncryptOptions) -> Result<String, EngineError> {
        encrypt(
            Format::Yaml,
            doc,
            &[1u8; 32],
            opts,
            KeyMaterial::default(),
            "2026-01-01T00:00:00Z",
        )
    }

    /// The lean YAML parse of `open` gives the same encrypted texts (via
    /// `enc_text`), the same other values and the same metadata as a parse.
    #[test]
    fn lean_yaml_parse_matches_the_full_parse() {
        let docs = [
            "a: 1\nb: x\nc: 'q'\n# note\nd: [1, two, {e: f}]\n",
            "a: &x 12\nb: *x\nc: {k: *x, l: -3}\nm: &m {a: 1}\nn:\n  <<: *m\n",
            "a: 1\n---\nb: |\n  block\nc: ''\n",
        ];
        for doc in docs {
            for cipher in [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm] {
                let opts = EncryptOptions {
                    cipher,
                    ..EncryptOptions::default()
                };
                let Ok(enc) = encrypt_yaml(doc, &opts) else {
                    assert_eq!(cipher, CipherKind::Aes256Gcm); // aliases
                    continue;
                };
                let full = Format::Yaml.syntax().parse(&enc).unwrap();
                let file = open(Format::Yaml, &enc).unwrap();
                assert!(file.parsed.metadata == full.metadata, "{doc:?}");
                assert_eq!(file.parsed.metadata_spans, full.metadata_spans);
                let leaves = |tree: &Tree, lean: bool| {
                    let mut out = Vec::new();
                    walk(tree, |place, leaf| {
                        if let Leaf::Value(s) = leaf {
                            let text = match (lean, enc_text(&enc, s)) {
                                (true, Some(t)) => format!("enc {t}"),
                                _ => match &s.value {
                                    Value::Str(t) if is_encrypted(t) => format!("enc {t}"),
                                    v => format!("{:?}", v.sops_text()),
                                },
                            };
                            out.push((place.path.join(":"), text, s.span.clone()));
                        }
                    });
                    out
                };
                assert_eq!(leaves(&file.parsed.tree, true), leaves(&full.tree, false));
                let mut lean = 0;
                walk(&file.parsed.tree, |_, leaf| {
                    lean += usize::from(
                        matches!(leaf, Leaf::Value(s) if s.value == Value::Str(String::new()) && enc_text(&enc, s).is_some()),
                    );
                });
                assert!(lean > 0, "{doc:?}");
                assert!(decrypt(&file, &[1u8; 32], false).is_ok());
            }
        }
    }

    /// The engine fills a YAML text's empty documents as sops reads them
    /// (a library caller gets what the CLI writes): `{}` in an empty first
    /// document for sops's cipher, or when every document is empty; and a
    /// comment that either reading encrypts is encrypted (go-yaml drops
    /// `# keep` from the plaintext, and keeps it before the `{}`).
    #[test]
    fn empty_yaml_documents_are_filled_as_sops_reads_them() {
        let enc = |doc: &str, cipher, selector| {
            let opts = EncryptOptions {
                cipher,
                selector,
                ..EncryptOptions::default()
            };
            encrypt_yaml(doc, &opts).unwrap()
        };
        let keep = || Selector::UnencryptedCommentRegex("^ keep$".into());
        for cipher in [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm] {
            let out = enc("# keep\n---\n# secret\n", cipher, keep());
            assert!(out.starts_with("# keep\n--- {sops: {"), "{out}");
            assert!(!out.contains("secret"), "{out}");
            // Checked for one cipher, encrypted with another: filled for
            // the other.
            let doc = plaintext(Format::Yaml, "---\n# c\n---\nk: v\n").unwrap();
            let opts = EncryptOptions {
                cipher,
                ..EncryptOptions::default()
            };
            let out =
                encrypt_plaintext(doc, &[1u8; 32], &opts, KeyMaterial::default(), "x").unwrap();
            assert_eq!(
                out.starts_with("--- {sops: {"),
                cipher == CipherKind::Aes256Gcm,
                "{out}"
            );
            assert!(out.starts_with("---"), "{out}");
        }
    }

    #[test]
    fn mac_aad_matches_go_reformatting() {
        assert_eq!(mac_aad("2026-11-22T03:51:54Z"), "2026-11-22T03:51:54Z");
        assert_eq!(
            mac_aad("2026-11-22T03:51:54.123456Z"),
            "2026-11-22T03:51:54Z"
        );
        assert_eq!(
            mac_aad("2026-11-22T03:51:54+02:00"),
            "2026-11-22T03:51:54+02:00"
        );
        assert_eq!(
            mac_aad("2026-11-22T03:51:54.5+00:00"),
            "2026-11-22T03:51:54Z"
        );
    }
}
