//! Where the `sops` metadata lives in a JSON document: finding and removing
//! it on parse, and inserting it in the file's own layout.
//!
//! * Top-level object: the member `"sops"` (sops writes it last; any
//!   position is read). It is inserted as the last member.
//! * Top-level array (sops refuses these; we support them): a last element
//!   that is an object whose only key is `"sops"`. It is appended as such.
//!
//! The bytes inserted are `,` + line break + indentation + the member (no
//! comma and a trailing line break for an empty container), and parsing
//! reports exactly those bytes in `metadata_spans`.

use super::scan::{self, Element, Top};
use super::write::{self, Style};
use crate::splice::Edit;
use crate::syntax::{EmitError, ParseError};
use crate::tree::{Entry, Node, Pair, Scalar, Span, Value};
use crate::wipe::SecretText;

/// The key that holds the metadata.
const SOPS: &str = "sops";

/// The data document, the metadata (if any) and the bytes that remove it.
pub(super) struct Split {
    /// The data.
    pub doc: Node,
    /// The metadata tree.
    pub metadata: Option<Node>,
    /// What to delete to remove the metadata.
    pub spans: Vec<Span>,
}

/// Separate the metadata from the data of a scanned document.
pub(super) fn split(src: &str, top: Top) -> Result<Split, ParseError> {
    match top {
        Top::Scalar(doc) => Ok(Split {
            doc,
            metadata: None,
            spans: Vec::new(),
        }),
        Top::Object {
            open_end,
            mut members,
            ..
        } => {
            let mut found = members.iter().enumerate().filter(|(_, m)| m.key == SOPS);
            let first = found.next().map(|(i, _)| i);
            if let Some((_, dup)) = found.next() {
                return Err(ParseError::at(
                    src,
                    dup.key_start,
                    "the \"sops\" metadata key appears more than once",
                ));
            }
            let Some(i) = first else {
                return Ok(Split {
                    doc: Node::Map(scan::entries(members)),
                    metadata: None,
                    spans: Vec::new(),
                });
            };
            let span = removal(
                src,
                open_end,
                members.iter().map(|m| (m.key_start, m.value_end)),
                i,
            );
            let sops = members.remove(i);
            Ok(Split {
                doc: Node::Map(scan::entries(members)),
                metadata: Some(integers(src, sops.value)),
                spans: vec![span],
            })
        }
        Top::Array {
            open_end,
            mut elements,
            ..
        } => {
            let last = elements.len().checked_sub(1);
            let meta = last.filter(|&i| elements.get(i).is_some_and(is_wrapper));
            let Some(i) = meta else {
                return Ok(Split {
                    doc: Node::Seq(scan::items(elements)),
                    metadata: None,
                    spans: Vec::new(),
                });
            };
            let span = removal(src, open_end, elements.iter().map(|e| (e.start, e.end)), i);
            let wrapper = elements.remove(i);
            let metadata = match wrapper.value {
                Node::Map(mut entries) => match entries.pop() {
                    Some(Entry::Pair(p)) => Some(integers(src, p.value)),
                    _ => None,
                },
                _ => None,
            };
            Ok(Split {
                doc: Node::Seq(scan::items(elements)),
                metadata,
                spans: vec![span],
            })
        }
    }
}

/// An array element `{"sops": …}` holding the metadata.
fn is_wrapper(e: &Element) -> bool {
    matches!(&e.value, Node::Map(entries)
        if matches!(entries.as_slice(), [Entry::Pair(Pair { key, .. })] if key == SOPS))
}

/// The bytes that remove member/element `i` of a container whose members
/// are at `(start, end)` (value end), the inverse of [`insert`]:
/// from the previous member's end (its comma onward) when there is one,
/// else up to the next member's start, else from just after the opening
/// bracket to the member's end plus one line break.
fn removal(
    src: &str,
    open_end: usize,
    members: impl Iterator<Item = (usize, usize)>,
    i: usize,
) -> Span {
    let all: Vec<(usize, usize)> = members.collect();
    let this = all.get(i).copied().unwrap_or((open_end, open_end));
    if let Some(&(_, prev_end)) = i.checked_sub(1).and_then(|p| all.get(p)) {
        return prev_end..this.1;
    }
    if let Some(&(next_start, _)) = all.get(i + 1) {
        return this.0..next_start;
    }
    let rest = src.get(this.1..).unwrap_or("");
    let newline = if rest.starts_with("\r\n") {
        2
    } else {
        usize::from(rest.starts_with('\n'))
    };
    open_end..this.1 + newline
}

/// In the metadata, integer lexemes that fit `i64` read as `Int` (the
/// metadata has ints such as `shamir_threshold`).
fn integers(src: &str, node: Node) -> Node {
    node.map_scalars(&mut |s| match s {
        Scalar {
            value: Value::Float(f),
            span: Some(span),
            slot,
        } => {
            let lexeme = src.get(span.clone()).unwrap_or("");
            let value = if lexeme.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                lexeme.parse().map_or(Value::Float(f), Value::Int)
            } else {
                Value::Float(f)
            };
            Scalar {
                value,
                span: Some(span),
                slot,
            }
        }
        other => other,
    })
}

/// The edit that adds `meta` to `src` (which has no metadata).
pub(super) fn insert(src: &str, meta: &Node) -> Result<Vec<Edit>, EmitError> {
    let top = scan::scan_shallow(src)
        .map_err(|e| EmitError(format!("cannot add metadata to invalid JSON: {e}")))?;
    let (open_end, positions, close, in_object) = match top {
        Top::Object {
            open_end,
            members,
            close,
        } => {
            if members.iter().any(|m| m.key == SOPS) {
                return Err(EmitError(
                    "the document already has \"sops\" metadata".into(),
                ));
            }
            let positions: Vec<(usize, usize)> =
                members.iter().map(|m| (m.key_start, m.value_end)).collect();
            (open_end, positions, close, true)
        }
        Top::Array {
            open_end,
            elements,
            close,
        } => {
            let positions: Vec<(usize, usize)> =
                elements.iter().map(|e| (e.start, e.end)).collect();
            (open_end, positions, close, false)
        }
        Top::Scalar(_) => {
            return Err(EmitError(
                "cannot add sops metadata to a JSON document that is not an object or array".into(),
            ))
        }
    };
    let layout = Layout::detect(src, open_end, &positions, close);
    let style = layout.style();
    let mut text = SecretText::default();
    let at = match positions.last() {
        Some(&(_, last_end)) => {
            text.push(',');
            last_end
        }
        None => open_end,
    };
    write::line(1, style, &mut text);
    if in_object {
        write::quote(SOPS, &mut text);
        text.push_str(if layout.pretty { ": " } else { ":" });
        write::node(meta, 1, style, &mut text);
    } else {
        let wrapper = Node::Map(vec![Entry::Pair(Pair {
            key: SOPS.to_string(),
            value: meta.clone(),
        })]);
        write::node(&wrapper, 1, style, &mut text);
    }
    if positions.is_empty() {
        text.push_str(layout.newline);
    }
    Ok(vec![Edit {
        span: at..at,
        text: text.into_string(),
    }])
}

/// The indentation a container's members use.
struct Layout<'s> {
    /// Members on their own lines (else everything on one line).
    pretty: bool,
    /// The file's line break.
    newline: &'static str,
    /// Indentation of the closing bracket's line.
    base: &'s str,
    /// One level of indentation.
    unit: &'s str,
}

impl<'s> Layout<'s> {
    /// Detect the layout from the whitespace before the members (`(start,
    /// end)` byte offsets) and before the closing bracket at `close`. An
    /// empty container gets sops's layout: one tab per level.
    fn detect(
        src: &'s str,
        open_end: usize,
        members: &[(usize, usize)],
        close: usize,
    ) -> Layout<'s> {
        let Some(&(_, last_end)) = members.last() else {
            return Layout {
                pretty: true,
                newline: if src.contains("\r\n") { "\r\n" } else { "\n" },
                base: "",
                unit: "\t",
            };
        };
        let gaps = members.iter().enumerate().map(|(k, &(start, _))| {
            let gap_start = match k.checked_sub(1).and_then(|p| members.get(p)) {
                Some(&(_, prev_end)) => prev_end,
                None => open_end,
            };
            (gap_start, start)
        });
        let Some((newline, member_indent)) = gaps.filter_map(|(a, b)| last_line(src, a, b)).next()
        else {
            return Layout {
                pretty: false,
                newline: "",
                base: "",
                unit: "",
            };
        };
        let close_indent = last_line(src, last_end, close).map_or("", |(_, indent)| indent);
        let (base, unit) = match member_indent.strip_prefix(close_indent) {
            Some(unit) => (close_indent, unit),
            None => ("", member_indent),
        };
        Layout {
            pretty: true,
            newline,
            base,
            unit,
        }
    }

    fn style(&self) -> Style<'_> {
        if self.pretty {
            Style::Pretty {
                newline: self.newline,
                base: self.base,
                unit: self.unit,
            }
        } else {
            Style::Compact
        }
    }
}

/// If `src[start..end]` has a line break: the kind of the last one and the
/// run of spaces and tabs after it.
fn last_line(src: &str, start: usize, end: usize) -> Option<(&'static str, &str)> {
    let gap = src.get(start..end)?;
    let nl = gap.rfind('\n')?;
    let newline = if gap.get(..nl)?.ends_with('\r') {
        "\r\n"
    } else {
        "\n"
    };
    let after = gap.get(nl + 1..)?;
    let indent_len = after
        .bytes()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    Some((newline, after.get(..indent_len)?))
}
