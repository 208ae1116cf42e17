//! YAML syntax: parsing with byte spans (granit-parser events), go-yaml v3
//! typing, lexemes for encrypted and decrypted values, the `sops` metadata
//! entry, and a go-yaml-style emitter.
//!
//! Metadata goes at the end of every document's top-level mapping: block
//! style `sops:` lines before the `...`/`---` line that ends the document
//! (or at the end of the text; with a line break first when the text has
//! no final one, in which case the block gets no final line break, so that
//! parsing knows to remove that separator too). In a flow mapping it goes
//! before the closing `}` as `, sops: {…}`, or as `sops: {…},` after a `{`
//! or a trailing comma.

mod comment_after;
mod comment_item;
mod edit;
mod emit;
mod empty;
mod foot;
mod gotabs;
mod goyaml;
mod lexeme;
mod parse;
mod resolve;
mod simple;
mod split;
mod stacks;
mod tag_order;
mod text;

pub use empty::{fill_empty_documents, no_document, Filled, NoDocument};
pub(crate) use tag_order::anchors_first;
pub use text::is_marker_line;
pub(crate) use timestamp::days_in;
mod timestamp;
mod unicode_breaks;

#[cfg(test)]
pub(crate) mod proptests;
#[cfg(test)]
mod tests;

use super::{EmitError, ParseError, Parsed, PathStep, Syntax};
use crate::splice::Edit;
use crate::tree::{Entry, Node, Pair, Slot, Tree, Value};
use emit::Emitter;
use parse::Root;

/// The YAML format.
pub struct Yaml;

/// [`Syntax::parse`] of an encrypted file for the engine: an untagged
/// plain scalar outside the metadata whose text is an `ENC[…]` value gets
/// an empty string value; its text is `src[span]` (no copy of every
/// encrypted value).
pub(crate) fn parse_encrypted(src: &str) -> Result<Parsed, ParseError> {
    parse::parse_with(src, true).map(|out| out.parsed)
}

/// Where the first document of a stream starts, if it has no `sops`
/// block: sops reads the metadata from the first document only.
pub(crate) fn first_document_without_metadata(src: &str, parsed: &Parsed) -> Option<usize> {
    let layouts = parse::layouts_from_marks(src, &parsed.marks)?;
    let first = layouts.first().filter(|_| layouts.len() > 1)?;
    (!first.has_meta).then_some(first.start)
}

/// A window of an encrypted YAML file cut before top-level keys (see
/// [`crate::engine::stream`]), parsed lean: `None` unless it is one block
/// mapping at indentation 0 without aliases, with no document marker,
/// directive or key line the cut rules refuse.
pub(crate) fn parse_window(src: &str) -> Option<Parsed> {
    split::window(src)
}

/// Whether a YAML text may be cut at a line start for [`parse_window`]:
/// `before` is the text before the cut from the start of the document or
/// window, `rest` the text after it (only its whole lines are read: blank
/// lines, comment lines and a key line), or `None` when `rest` ends before
/// the answer: read more.
pub(crate) fn cut_here(before: &str, rest: &str) -> Option<bool> {
    split::cut_here(before, rest)
}

impl Syntax for Yaml {
    fn name(&self) -> &'static str {
        "yaml"
    }

    fn parse(&self, src: &str) -> Result<Parsed, ParseError> {
        parse::parse(src).map(|out| out.parsed)
    }

    fn enc_lexeme(&self, slot: Slot, enc: &str) -> String {
        lexeme::enc_lexeme(enc, lexeme::is_flow(slot))
    }

    fn value_lexeme(&self, slot: Slot, value: &Value) -> String {
        lexeme::value_lexeme(value, lexeme::is_flow(slot))
    }

    fn insert_metadata(
        &self,
        src: &str,
        parsed: &Parsed,
        meta: &Node,
    ) -> Result<Vec<Edit>, EmitError> {
        // The parse of `src` recorded the layouts in its marks; parse again
        // only for a `Parsed` that does not carry them.
        let layouts = match parse::layouts_from_marks(src, &parsed.marks) {
            Some(layouts) => layouts,
            None => {
                parse::parse(src)
                    .map_err(|e| EmitError(format!("invalid YAML: {e}")))?
                    .layouts
            }
        };
        let mut edits = Vec::new();
        for layout in &layouts {
            if layout.has_meta {
                return Err(EmitError("the document already has sops metadata".into()));
            }
            let text = match layout.root {
                Root::Empty => continue,
                Root::Other => {
                    return Err(EmitError(
                        "top-level must be a mapping to hold the sops metadata".into(),
                    ))
                }
                Root::BlockMap { indent } => {
                    let block = metadata_block(meta, indent, layout.lb);
                    let at_eof = layout.end >= src.len();
                    if at_eof && !text::ends_with_lb(src) {
                        let trimmed = block.strip_suffix(layout.lb).unwrap_or(&block);
                        format!("{}{trimmed}", layout.lb)
                    } else {
                        block
                    }
                }
                Root::FlowMap { close, .. } if empty_map_line(src, close, layout).is_some() => {
                    // `{}` alone on the document's last line: the block
                    // `sops:` takes its place, as sops writes a document
                    // with no keys (parsing reads `{}` back).
                    let span = empty_map_line(src, close, layout).unwrap_or(close..close);
                    edits.push(Edit {
                        span,
                        text: metadata_block(meta, 0, layout.lb),
                    });
                    continue;
                }
                Root::FlowMap { close, comma } => {
                    let value = emit::flow(meta);
                    edits.push(Edit {
                        span: close..close,
                        text: if comma {
                            format!(", sops: {value}")
                        } else {
                            format!("sops: {value},")
                        },
                    });
                    continue;
                }
            };
            edits.push(Edit {
                span: layout.end..layout.end,
                text,
            });
        }
        if edits.is_empty() {
            return Err(EmitError(
                "no YAML document to hold the sops metadata".into(),
            ));
        }
        Ok(edits)
    }

    fn simple_value(&self, lexeme: &str, slot: Slot) -> Option<Value> {
        simple::simple_value(lexeme, slot)
    }

    fn comment_item(&self, src: &str, span: &crate::tree::Span, text: &str) -> Option<Edit> {
        comment_item::comment_item(src, span, text)
    }

    fn sops_stacks(&self, src: &str, parsed: &Parsed) -> Vec<crate::tree::SopsStacks> {
        stacks::sops_readings(src, parsed)
    }

    fn sops_reads_otherwise(&self, text: &str) -> bool {
        unicode_breaks::has_unicode_breaks(text) || resolve::has_non_specific_tag(text)
    }

    fn sops_reading(&self, src: &str, span: crate::tree::Span, value: &str) -> Option<Value> {
        let lexeme = src.get(span.clone())?;
        unicode_breaks::go_yaml_text(lexeme, value)
            .map(Value::Str)
            .or_else(|| resolve::non_specific_as_go_yaml(src, span, value))
    }

    fn comment_after(
        &self,
        src: &str,
        value: &crate::tree::Span,
        nth: usize,
    ) -> Option<(usize, String, String)> {
        Some(comment_after::comment_after(src, value, nth))
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

    fn emit(&self, tree: &Tree) -> Result<String, EmitError> {
        let mut e = Emitter::new("\n", 0, true);
        for (i, doc) in tree.docs.iter().enumerate() {
            if i > 0 {
                e.raw("---\n");
            }
            e.document(doc);
        }
        Ok(e.finish())
    }
}

/// One `--extract`ed value as sops's YAML store writes it (go-yaml's
/// `Marshal`): a scalar on a line of its own in go-yaml's spelling
/// (`1e+21`, `.inf`, `1` for a float 1.0), a collection as a document.
pub(crate) fn emit_value(node: &Node) -> String {
    match node {
        Node::Alias(inner) => emit_value(inner),
        Node::Scalar(s) => {
            // Line, with its break, written into a text sized for both
            // (the value is a decrypted one).
            let lexeme = zeroize::Zeroizing::new(match &s.value {
                Value::Float(f) => lexeme::go_yaml_float(*f),
                other => lexeme::value_lexeme(other, false),
            });
            let mut text = crate::wipe::SecretText::with_capacity(lexeme.len() + 1);
            text.push_str(&lexeme);
            text.push('\n');
            text.into_string()
        }
        collection => {
            let mut e = Emitter::new("\n", 0, true);
            e.document(collection);
            e.finish()
        }
    }
}

/// The bytes of an empty flow mapping `{}` (closing brace at `close`) that
/// is the whole of the document's last line, its line break (the
/// document's) included: where a document with no keys gets block
/// metadata.
fn empty_map_line(src: &str, close: usize, layout: &parse::DocLayout) -> Option<crate::tree::Span> {
    let open = close.checked_sub(1)?;
    let b = src.as_bytes();
    let line_start = open == 0 || b.get(open - 1) == Some(&b'\n');
    let end = close + 1 + layout.lb.len();
    (line_start
        && b.get(open) == Some(&b'{')
        && src.get(close + 1..end) == Some(layout.lb)
        && end == layout.end)
        .then_some(open..end)
}

/// `sops:` and the metadata below it, as go-yaml writes it.
fn metadata_block(meta: &Node, indent: usize, lb: &str) -> String {
    let mut e = Emitter::new(lb, indent, false);
    e.map(
        &[Entry::Pair(Pair {
            key: "sops".to_string(),
            value: meta.clone(),
        })],
        0,
        false,
    );
    e.finish()
}
