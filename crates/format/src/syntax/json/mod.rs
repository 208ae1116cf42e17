//! JSON syntax: strict RFC 8259 JSON with the exact byte span of every
//! scalar token, typed as sops reads JSON (every number is a `Float`).
//!
//! Choices where JSON or sops leave room:
//! * A UTF-8 BOM at the start is accepted and kept (it is outside every span).
//! * Lone UTF-16 surrogates in `\u` escapes decode to U+FFFD, as in Go.
//! * Numbers beyond the f64 range read as ±infinity (the raw lexeme is kept
//!   by the span); `value_lexeme` writes infinities as `1e999`/`-1e999`
//!   (which read back as the same value) and NaN, which JSON cannot hold,
//!   as the string `"NaN"`. `emit` (conversion, `--extract`) refuses NaN
//!   and infinities instead, with Go's message, as sops does.
//! * Metadata: a top-level `"sops"` member (any position), or, for a
//!   top-level array, a last element `{"sops": …}`. Inside the metadata,
//!   integer lexemes that fit `i64` read as `Int`.
//! * Nesting deeper than [`MAX_DEPTH`] levels is rejected.

mod comment_item;
mod edit;
mod meta;
#[cfg(test)]
pub(crate) mod proptests;
mod scan;
#[cfg(test)]
mod tests;
mod write;

pub use scan::MAX_DEPTH;

use super::{EmitError, ParseError, Parsed, PathStep, Syntax};
use crate::splice::Edit;
use crate::tree::{Node, Slot, Tree, Value};
use crate::wipe::SecretText;

/// The JSON format.
pub struct Json;

/// [`crate::syntax::parse_encrypted`] for JSON.
pub(crate) fn parse_encrypted(src: &str) -> Result<Parsed, ParseError> {
    let mut split = meta::split(src, scan::scan_with(src, true)?)?;
    if let Some(meta) = split.metadata.as_mut() {
        super::restore_enc(src, meta);
    }
    Ok(parsed(split))
}

/// The document and its metadata as a [`Parsed`].
fn parsed(split: meta::Split) -> Parsed {
    Parsed {
        tree: Tree::new(vec![split.doc]),
        metadata: split.metadata,
        metadata_spans: split.spans,
        metadata_fill: Vec::new(),
        marks: Vec::new(),
        non_string_key: None,
        sops_unreadable: None,
        tags_before_anchors: Vec::new(),
    }
}

impl Syntax for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn parse(&self, src: &str) -> Result<Parsed, ParseError> {
        Ok(parsed(meta::split(src, scan::scan(src)?)?))
    }

    /// Always a JSON string (every JSON position takes one).
    fn enc_lexeme(&self, _slot: Slot, enc: &str) -> String {
        let mut out = SecretText::with_capacity(enc.len() + 2);
        write::quote(enc, &mut out);
        out.into_string()
    }

    /// Strings escaped as Go's `encoding/json`; numbers in Go's float64
    /// form; see the module docs for NaN and infinities. (The value may be
    /// a decrypted one: see [`SecretText`].)
    fn value_lexeme(&self, _slot: Slot, value: &Value) -> String {
        let mut out = SecretText::default();
        write::scalar(value, &mut out);
        out.into_string()
    }

    /// Every JSON scalar token: parsed on its own, it is what it is in a
    /// document.
    fn simple_value(&self, lexeme: &str, _slot: Slot) -> Option<Value> {
        match scan::scan(lexeme).ok()? {
            scan::Top::Scalar(Node::Scalar(s)) if !lexeme.starts_with('\u{feff}') => Some(s.value),
            _ => None,
        }
    }

    fn insert_metadata(
        &self,
        src: &str,
        parsed: &Parsed,
        meta: &Node,
    ) -> Result<Vec<Edit>, EmitError> {
        if parsed.metadata.is_some() {
            return Err(EmitError("the document already has sops metadata".into()));
        }
        meta::insert(src, meta)
    }

    fn set_value(
        &self,
        src: &str,
        parsed: &Parsed,
        path: &[PathStep],
        value: &Node,
    ) -> Result<Vec<Edit>, EmitError> {
        edit::set_value(src, parsed, path, value)
    }

    fn remove_value(
        &self,
        src: &str,
        parsed: &Parsed,
        path: &[PathStep],
    ) -> Result<Option<Vec<Edit>>, EmitError> {
        edit::remove_value(src, parsed, path)
    }

    /// Tab-indented like sops (`json.Indent` with `"\t"`), Go escaping, a
    /// final newline; comments are dropped.
    fn comment_item(&self, src: &str, span: &crate::tree::Span, _text: &str) -> Option<Edit> {
        comment_item::comment_item(src, span)
    }

    fn emit(&self, tree: &Tree) -> Result<String, EmitError> {
        let [doc] = tree.docs.as_slice() else {
            return Err(EmitError(format!(
                "JSON holds exactly one document, this tree has {}",
                tree.docs.len()
            )));
        };
        let mut out = pretty(doc)?;
        out.push('\n');
        Ok(out.into_string())
    }
}

/// `node` in sops's layout (tab-indented, no final line break). NaN and
/// infinities are refused with Go's `encoding/json` message, as sops
/// refuses them (JSON has no such numbers).
fn pretty(node: &Node) -> Result<SecretText, EmitError> {
    finite(node)?;
    // A whole decrypted document, written out: see [`SecretText`].
    let mut out = SecretText::default();
    let style = write::Style::Pretty {
        newline: "\n",
        base: "",
        unit: "\t",
    };
    write::node(node, 0, style, &mut out);
    Ok(out)
}

/// An error for the first NaN or infinity in `node`.
fn finite(node: &Node) -> Result<(), EmitError> {
    match node {
        Node::Scalar(s) => match s.value {
            Value::Float(f) if !f.is_finite() => Err(EmitError(format!(
                "json: unsupported value: {}",
                crate::value::go_float(f)
            ))),
            _ => Ok(()),
        },
        Node::Alias(inner) => finite(inner),
        Node::Map(entries) => entries.iter().try_for_each(|e| match e {
            crate::tree::Entry::Pair(p) => finite(&p.value),
            crate::tree::Entry::Comment(_) => Ok(()),
        }),
        Node::Seq(items) => items.iter().try_for_each(|i| match i {
            crate::tree::Item::Node(n) => finite(n),
            crate::tree::Item::Comment(_) => Ok(()),
        }),
    }
}

/// One `--extract`ed value as sops's JSON store writes it: a scalar as
/// `json.Marshal` does (`true`, `1e+21`, a time as a quoted string, no line
/// break), a list tab-indented without a final line break, a mapping as a
/// document (with one).
pub(crate) fn emit_value(node: &Node) -> Result<String, EmitError> {
    match node {
        Node::Alias(inner) => emit_value(inner),
        Node::Map(_) => Json.emit(&Tree::new(vec![node.clone()])),
        other => pretty(other).map(SecretText::into_string),
    }
}
