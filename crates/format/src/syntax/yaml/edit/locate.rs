//! The positions `set`/`unset` need and the parsed tree does not keep:
//! where each key, sequence dash and collection is. Re-reads the granit
//! events; scalar spans are taken from the parsed tree (same order), so
//! block scalars and tags are measured exactly as the parser measures them.

use granit_parser::{Event, Parser};

use crate::syntax::yaml::text::ends_anchor_name;
use crate::syntax::EmitError;
use crate::tree::{Node, Span};

/// A node with its extent: `start..end` runs from its first character
/// (first key, first dash, bracket, tag or quote) to its last content
/// character.
pub(super) struct Pos {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) kind: Kind,
}

/// What a positioned node is.
pub(super) enum Kind {
    /// A scalar; `empty` for an empty (null) value with a zero-width span.
    Scalar { empty: bool },
    /// An alias (`*a`).
    Alias,
    /// A mapping.
    Map { flow: bool, entries: Vec<PEntry> },
    /// A sequence.
    Seq { flow: bool, items: Vec<PItem> },
}

/// A mapping entry.
pub(super) struct PEntry {
    pub(super) key: String,
    pub(super) key_start: usize,
    pub(super) key_end: usize,
    pub(super) value: Pos,
}

/// A sequence item; `dash` is its `-` (block) or its value's start (flow).
pub(super) struct PItem {
    pub(super) dash: usize,
    pub(super) value: Pos,
}

impl PEntry {
    /// The end of the entry's text.
    pub(super) fn end(&self) -> usize {
        self.key_end.max(self.value.end)
    }
}

/// The documents of `src`, in order (`None` for a document without
/// content). `tree` is the parsed tree of `src`.
pub(super) fn locate(src: &str, docs: &[Node]) -> Result<Vec<Option<Pos>>, EmitError> {
    let mut spans = Vec::new();
    for d in docs {
        d.value_spans(&mut spans);
    }
    let mut b = Builder {
        src,
        spans: spans.into_iter(),
        stack: Vec::new(),
        prev_end: 0,
        docs: Vec::new(),
        root: None,
    };
    for item in Parser::new_from_str(src) {
        let (event, span) = item.map_err(|_| EmitError("invalid YAML".into()))?;
        let range = span.byte_range().unwrap_or(0..0);
        let tag_start = span.tag_start().and_then(|m| m.byte_offset());
        b.event(event, range, tag_start)?;
    }
    Ok(b.docs)
}

struct Frame {
    flow: bool,
    start: usize,
    map: bool,
    entries: Vec<PEntry>,
    items: Vec<PItem>,
    /// A key waiting for its value: text, start, end.
    key: Option<(String, usize, usize)>,
    /// The collection is a mapping key, or inside one, or inside the
    /// metadata: its scalars are not in the parsed tree.
    hidden: bool,
    /// The dash of the item being read (block sequences).
    dash: Option<usize>,
}

struct Builder<'s> {
    src: &'s str,
    spans: std::vec::IntoIter<Span>,
    stack: Vec<Frame>,
    prev_end: usize,
    docs: Vec<Option<Pos>>,
    root: Option<Pos>,
}

impl Builder<'_> {
    fn event(
        &mut self,
        event: Event<'_>,
        range: Span,
        tag: Option<usize>,
    ) -> Result<(), EmitError> {
        let start = tag.filter(|&t| t < range.start).unwrap_or(range.start);
        match event {
            Event::DocumentStart(..) => {
                self.root = None;
                self.prev_end = self.prev_end.max(range.end);
            }
            Event::DocumentEnd => {
                let root = self.root.take();
                self.docs.push(root);
                self.prev_end = self.prev_end.max(range.end);
            }
            Event::Scalar(value, ..) => {
                self.before_node(start);
                if self.role_is_key() {
                    self.prev_end = range.end;
                    // The entry starts at the key's anchor (`&k key: v`).
                    let start = anchor_before(self.src, start).unwrap_or(start);
                    if let Some(f) = self.stack.last_mut() {
                        f.key = Some((value.into_owned(), start, range.end));
                    }
                    return Ok(());
                }
                let pos = if self.hidden_value() {
                    Pos {
                        start,
                        end: range.end,
                        kind: Kind::Scalar { empty: false },
                    }
                } else {
                    let span = self
                        .spans
                        .next()
                        .ok_or_else(|| EmitError("internal error: YAML positions".into()))?;
                    Pos {
                        start: span.start,
                        end: span.end,
                        kind: Kind::Scalar {
                            empty: span.is_empty(),
                        },
                    }
                };
                self.prev_end = self.prev_end.max(pos.end);
                self.complete(pos);
            }
            Event::Alias(_) => {
                self.before_node(range.start);
                self.prev_end = range.end;
                if self.role_is_key() {
                    if let Some(f) = self.stack.last_mut() {
                        let text = self.src.get(range.clone()).unwrap_or("").to_string();
                        f.key = Some((text, range.start, range.end));
                    }
                    return Ok(());
                }
                self.complete(Pos {
                    start: range.start,
                    end: range.end,
                    kind: Kind::Alias,
                });
            }
            Event::MappingStart(style, ..) | Event::SequenceStart(style, ..) => {
                let map = matches!(event, Event::MappingStart(..));
                let flow = style == granit_parser::StructureStyle::Flow;
                self.before_node(range.start);
                let hidden = self.role_is_key() || self.hidden_value();
                if flow {
                    self.prev_end = range.end;
                }
                self.stack.push(Frame {
                    flow,
                    start: range.start,
                    map,
                    entries: Vec::new(),
                    items: Vec::new(),
                    key: None,
                    hidden,
                    dash: None,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let Some(mut f) = self.stack.pop() else {
                    return Ok(());
                };
                if let Some((key, key_start, key_end)) = f.key.take() {
                    f.entries.push(PEntry {
                        key,
                        key_start,
                        key_end,
                        value: Pos {
                            start: key_end,
                            end: key_end,
                            kind: Kind::Scalar { empty: true },
                        },
                    });
                }
                let children_end = f
                    .entries
                    .iter()
                    .map(PEntry::end)
                    .chain(f.items.iter().map(|i| i.value.end))
                    .max();
                let first = f
                    .entries
                    .first()
                    .map(|e| e.key_start)
                    .or(f.items.first().map(|i| i.dash));
                let (start, end) = if f.flow {
                    self.prev_end = range.end;
                    (f.start, range.end)
                } else {
                    let s = first.unwrap_or(f.start);
                    (s, children_end.unwrap_or(s))
                };
                let kind = if f.map {
                    Kind::Map {
                        flow: f.flow,
                        entries: f.entries,
                    }
                } else {
                    Kind::Seq {
                        flow: f.flow,
                        items: f.items,
                    }
                };
                if self.role_is_key() {
                    // The key text as the parser builds it.
                    let text = self.src.get(f.start..end).unwrap_or("").trim().to_string();
                    if let Some(p) = self.stack.last_mut() {
                        p.key = Some((text, start, end));
                    }
                    return Ok(());
                }
                self.complete(Pos { start, end, kind });
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether the next node is a mapping key.
    fn role_is_key(&self) -> bool {
        self.stack.last().is_some_and(|f| f.map && f.key.is_none())
    }

    /// Whether the next value is outside the parsed tree: inside a key,
    /// or the value of a top-level `sops` key (the metadata).
    fn hidden_value(&self) -> bool {
        match self.stack.last() {
            None => false,
            Some(f) if f.hidden => true,
            Some(f) => {
                self.stack.len() == 1
                    && f.map
                    && f.key.as_ref().is_some_and(|(k, _, _)| k == "sops")
            }
        }
    }

    /// A node of a block sequence begins at `at`: find its dash.
    fn before_node(&mut self, at: usize) {
        let src = self.src;
        let from = self.prev_end;
        if let Some(f) = self.stack.last_mut() {
            if !f.map && f.dash.is_none() {
                let dash = if f.flow {
                    at
                } else {
                    find_dash(src, from, at).unwrap_or(at)
                };
                f.dash = Some(dash);
                // A nested sequence's dashes come after this one.
                self.prev_end = self.prev_end.max(dash + 1);
            }
        }
    }

    fn complete(&mut self, mut pos: Pos) {
        let src = self.src;
        let Some(f) = self.stack.last_mut() else {
            self.root = Some(pos);
            return;
        };
        if f.map {
            if let Some((key, key_start, key_end)) = f.key.take() {
                if matches!(pos.kind, Kind::Scalar { empty: true }) {
                    // An empty value sits right after its `:`.
                    let at = colon_after(src, key_end).map_or(key_end, |c| c + 1);
                    pos.start = pos.start.max(at);
                    pos.end = pos.start;
                }
                f.entries.push(PEntry {
                    key,
                    key_start,
                    key_end,
                    value: pos,
                });
            }
        } else {
            let dash = f.dash.take().unwrap_or(pos.start);
            if matches!(pos.kind, Kind::Scalar { empty: true }) {
                pos.start = pos.start.max(dash + 1);
                pos.end = pos.start;
            }
            f.items.push(PItem { dash, value: pos });
        }
    }
}

/// The first `-` followed by a blank in `src[from..to]`, outside comments.
fn find_dash(src: &str, from: usize, to: usize) -> Option<usize> {
    let b = src.as_bytes();
    let mut i = from;
    while i < to {
        match b.get(i)? {
            b'#' => {
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            b'-' if matches!(b.get(i + 1), Some(b' ' | b'\t' | b'\r' | b'\n') | None) => {
                return Some(i)
            }
            _ => i += 1,
        }
    }
    None
}

/// The `:` after a key ending at `key_end` (blanks, line breaks and
/// comments may come between).
pub(super) fn colon_after(src: &str, key_end: usize) -> Option<usize> {
    let b = src.as_bytes();
    let mut i = key_end;
    while let Some(&c) = b.get(i) {
        match c {
            b':' => return Some(i),
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            _ => return None,
        }
    }
    None
}

/// The start of an anchor (`&name`) that stands right before byte `at` on
/// its line, blanks between, if one does.
fn anchor_before(src: &str, at: usize) -> Option<usize> {
    let before = src.get(..at)?;
    let trimmed = before.trim_end_matches([' ', '\t']);
    let token_start = trimmed.rfind(ends_anchor_name).map_or(0, |i| i + 1);
    let token = trimmed.get(token_start..)?;
    (token.len() > 1 && token.starts_with('&') && trimmed.len() < before.len())
        .then_some(token_start)
}
