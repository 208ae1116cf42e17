//! `set` and `unset` on JSON text: re-scan the (valid) document for the
//! positions of every key, value and bracket, then replace one value, add
//! a member or element after the last one (in the container's layout:
//! one per line with its indentation, or on one line), or cut one out
//! with its comma.

use super::write::{self, Style};
use crate::splice::Edit;
use crate::syntax::edit::{already_set, check_path, empty_path, in_the_way, nest};
use crate::syntax::{EmitError, Parsed, PathStep};
use crate::tree::Node;
use crate::wipe::SecretText;

/// A value with its extent (brackets and quotes included).
struct Pos {
    start: usize,
    end: usize,
    kind: Kind,
}

enum Kind {
    Scalar,
    /// Members: key, offset of the key's opening quote, value.
    Object(Vec<(String, usize, Pos)>),
    Array(Vec<Pos>),
}

impl Pos {
    /// `(start, end)` of every member or element, and whether it is an
    /// object.
    fn children(&self) -> Option<Vec<(usize, usize)>> {
        match &self.kind {
            Kind::Scalar => None,
            Kind::Object(m) => Some(m.iter().map(|(_, k, v)| (*k, v.end)).collect()),
            Kind::Array(e) => Some(e.iter().map(|v| (v.start, v.end)).collect()),
        }
    }
}

/// See [`crate::syntax::Syntax::set_value`].
pub(super) fn set_value(
    src: &str,
    parsed: &Parsed,
    path: &[PathStep],
    value: &Node,
) -> Result<Vec<Edit>, EmitError> {
    check_path(parsed, path)?;
    if already_set(parsed, path, value) {
        return Ok(Vec::new());
    }
    let root = Scanner::new(src).document()?;
    let ctx = Ctx::new(src, &root);
    let mut node = &root;
    for (depth, step) in path.iter().enumerate() {
        let done = path.get(..=depth).unwrap_or_default();
        let rest = path.get(depth + 1..).unwrap_or_default();
        let child = match (step, &node.kind) {
            (PathStep::Key(k), Kind::Object(members)) => {
                match members.iter().find(|(key, _, _)| key == k) {
                    Some((_, _, v)) => v,
                    None => {
                        let new = nest(done, rest, value)?;
                        return Ok(vec![ctx.append(node, Some(k), &new)]);
                    }
                }
            }
            (PathStep::Index(i), Kind::Array(elements)) => match elements.get(*i) {
                Some(v) => v,
                // Past the end appends, as sops's `set` does.
                None => {
                    let new = nest(done, rest, value)?;
                    return Ok(vec![ctx.append(node, None, &new)]);
                }
            },
            _ => return Err(in_the_way(done)),
        };
        node = child;
    }
    let mut text = SecretText::default();
    write::node(value, 0, ctx.style_at(node.start), &mut text);
    Ok(vec![Edit {
        span: node.start..node.end,
        text: text.into_string(),
    }])
}

/// See [`crate::syntax::Syntax::remove_value`].
pub(super) fn remove_value(
    src: &str,
    parsed: &Parsed,
    path: &[PathStep],
) -> Result<Option<Vec<Edit>>, EmitError> {
    check_path(parsed, path)?;
    let root = Scanner::new(src).document()?;
    remove_in(&root, path)
}

/// Walk to the parent of the last step and cut the selected children out.
fn remove_in(root: &Pos, path: &[PathStep]) -> Result<Option<Vec<Edit>>, EmitError> {
    let Some((last, parent_path)) = path.split_last() else {
        return Err(empty_path());
    };
    let mut node = root;
    for step in parent_path {
        let child = match (step, &node.kind) {
            (PathStep::Key(k), Kind::Object(m)) => {
                m.iter().find(|(key, _, _)| key == k).map(|m| &m.2)
            }
            (PathStep::Index(i), Kind::Array(e)) => e.get(*i),
            _ => None,
        };
        let Some(child) = child else {
            return Ok(None);
        };
        node = child;
    }
    let Some(children) = node.children() else {
        return Ok(None);
    };
    let doomed: Vec<usize> = match (last, &node.kind) {
        // The first pair with the key, as sops removes it (a duplicate
        // after it stays).
        (PathStep::Key(k), Kind::Object(m)) => m
            .iter()
            .position(|(key, _, _)| key == k)
            .into_iter()
            .collect(),
        (PathStep::Index(i), Kind::Array(e)) if *i < e.len() => vec![*i],
        _ => Vec::new(),
    };
    if doomed.is_empty() {
        return Ok(None);
    }
    let (open_end, close) = (node.start + 1, node.end - 1);
    if doomed.len() == children.len() {
        // Nothing left: `{}` / `[]`.
        return Ok(Some(vec![Edit {
            span: open_end..close,
            text: String::new(),
        }]));
    }
    let kept_first = (0..children.len())
        .find(|i| !doomed.contains(i))
        .unwrap_or(0);
    let mut edits = Vec::new();
    for &i in &doomed {
        let Some(&(start, end)) = children.get(i) else {
            continue;
        };
        let span = if i < kept_first {
            // Before every kept child: up to the next child's start.
            let next = children.get(i + 1).map_or(end, |c| c.0);
            start..next
        } else {
            // From the end of the previous child (its comma goes too).
            let prev = i.checked_sub(1).and_then(|p| children.get(p));
            prev.map_or(start, |c| c.1)..end
        };
        edits.push(Edit {
            span,
            text: String::new(),
        });
    }
    Ok(Some(edits))
}

/// The layout facts of the document.
struct Ctx<'s> {
    src: &'s str,
    newline: &'static str,
    /// One indentation level (empty when the document is on one line).
    unit: &'s str,
    /// `": "` or `":"`.
    colon: &'s str,
}

impl<'s> Ctx<'s> {
    fn new(src: &'s str, root: &Pos) -> Ctx<'s> {
        let newline = if src.contains("\r\n") { "\r\n" } else { "\n" };
        let unit = match layout(src, root) {
            Some(Layout::Lines { indent, close }) => indent.strip_prefix(close).unwrap_or(indent),
            _ => "",
        };
        let colon = first_colon(src, root).unwrap_or(": ");
        Ctx {
            src,
            newline,
            unit,
            colon,
        }
    }

    /// The style for a value whose first character is at `at`: pretty,
    /// based on the indentation of `at`'s line, if the document is.
    fn style_at(&self, at: usize) -> Style<'s> {
        if self.unit.is_empty() {
            return Style::Compact;
        }
        Style::Pretty {
            newline: self.newline,
            base: line_indent(self.src, at),
            unit: self.unit,
        }
    }

    /// The edit that adds `value` (under `key` for an object) as the last
    /// child of `node`.
    fn append(&self, node: &Pos, key: Option<&str>, value: &Node) -> Edit {
        let (open_end, close) = (node.start + 1, node.end.saturating_sub(1));
        let children = node.children().unwrap_or_default();
        // The value `set` writes: see [`SecretText`].
        let mut text = SecretText::default();
        let (span, indent, end) = match (layout(self.src, node), children.last()) {
            (Some(Layout::Lines { indent, .. }), Some(&(_, last_end))) => {
                text.push(',');
                text.push_str(self.newline);
                text.push_str(indent);
                (last_end..last_end, Some(indent.to_string()), "")
            }
            (Some(Layout::Inline { sep }), Some(&(_, last_end))) => {
                text.push(',');
                let spaced = sep.is_empty() && self.colon.ends_with(' ');
                text.push_str(if spaced { " " } else { sep });
                (last_end..last_end, None, "")
            }
            _ if self.unit.is_empty() => (open_end..close, None, ""),
            _ => {
                let base = line_indent(self.src, node.start);
                let indent = format!("{base}{}", self.unit);
                text.push_str(self.newline);
                text.push_str(&indent);
                (open_end..close, Some(indent), "close")
            }
        };
        let style = match &indent {
            Some(i) => Style::Pretty {
                newline: self.newline,
                base: i,
                unit: self.unit,
            },
            None => Style::Compact,
        };
        if let Some(k) = key {
            write::quote(k, &mut text);
            text.push_str(self.colon);
        }
        write::node(value, 0, style, &mut text);
        if end == "close" {
            text.push_str(self.newline);
            text.push_str(line_indent(self.src, node.start));
        }
        Edit {
            span,
            text: text.into_string(),
        }
    }
}

/// How a container's children are laid out.
enum Layout<'s> {
    /// One per line: the children's indentation and the closing bracket's.
    Lines { indent: &'s str, close: &'s str },
    /// On one line, with `sep` after each comma.
    Inline { sep: &'s str },
}

/// The layout of a non-empty container.
fn layout<'s>(src: &'s str, node: &Pos) -> Option<Layout<'s>> {
    let children = node.children()?;
    let &(first, _) = children.first()?;
    let &(_, last_end) = children.last()?;
    let gap = src.get(node.start + 1..first)?;
    if let Some(nl) = gap.rfind('\n') {
        let indent = gap.get(nl + 1..)?;
        let close_gap = src.get(last_end..node.end.saturating_sub(1)).unwrap_or("");
        let close = close_gap
            .rfind('\n')
            .and_then(|i| close_gap.get(i + 1..))
            .unwrap_or("");
        return Some(Layout::Lines { indent, close });
    }
    let sep = match children.get(1) {
        Some(&(second, _)) => {
            let between = src.get(children.first()?.1..second)?;
            between
                .find(',')
                .and_then(|c| between.get(c + 1..))
                .unwrap_or("")
        }
        None => gap,
    };
    Some(Layout::Inline { sep })
}

/// The text after the first member's `:` up to its value (`": "`), for
/// the colon style; searched depth first.
fn first_colon<'s>(src: &'s str, node: &Pos) -> Option<&'s str> {
    match &node.kind {
        Kind::Scalar => None,
        Kind::Object(m) => {
            let (_, key_start, value) = m.first()?;
            let between = src.get(*key_start..value.start)?;
            let colon = between.rfind(':')?;
            src.get(key_start + colon..value.start)
        }
        Kind::Array(e) => e.iter().find_map(|v| first_colon(src, v)),
    }
}

/// The spaces and tabs that start the line holding `at`.
fn line_indent(src: &str, at: usize) -> &str {
    let before = src.get(..at).unwrap_or("");
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = src.get(start..).unwrap_or("");
    let n = line.len() - line.trim_start_matches([' ', '\t']).len();
    line.get(..n).unwrap_or("")
}

/// A lenient scanner for text the strict parser already accepted.
struct Scanner<'s> {
    src: &'s str,
    pos: usize,
}

impl<'s> Scanner<'s> {
    fn new(src: &'s str) -> Self {
        Scanner {
            src,
            pos: if src.starts_with('\u{feff}') { 3 } else { 0 },
        }
    }

    fn document(mut self) -> Result<Pos, EmitError> {
        self.value()
    }

    fn bad() -> EmitError {
        EmitError("invalid JSON".into())
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<Pos, EmitError> {
        self.skip_ws();
        let start = self.pos;
        let kind = match self.peek().ok_or_else(Self::bad)? {
            b'{' => {
                self.pos += 1;
                let mut members = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek().ok_or_else(Self::bad)? {
                        b'}' => break,
                        b',' => self.pos += 1,
                        b'"' => {
                            let key_start = self.pos;
                            self.string()?;
                            let raw = self.src.get(key_start..self.pos).ok_or_else(Self::bad)?;
                            let key: String = serde_json::from_str(raw).map_err(|_| Self::bad())?;
                            self.skip_ws();
                            if self.peek() != Some(b':') {
                                return Err(Self::bad());
                            }
                            self.pos += 1;
                            members.push((key, key_start, self.value()?));
                        }
                        _ => return Err(Self::bad()),
                    }
                }
                self.pos += 1;
                Kind::Object(members)
            }
            b'[' => {
                self.pos += 1;
                let mut elements = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek().ok_or_else(Self::bad)? {
                        b']' => break,
                        b',' => self.pos += 1,
                        _ => elements.push(self.value()?),
                    }
                }
                self.pos += 1;
                Kind::Array(elements)
            }
            b'"' => {
                self.string()?;
                Kind::Scalar
            }
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b' ' | b'\t' | b'\r' | b'\n' | b',' | b']' | b'}')
                ) {
                    self.pos += 1;
                }
                Kind::Scalar
            }
        };
        Ok(Pos {
            start,
            end: self.pos,
            kind,
        })
    }

    /// Move past the string starting at the current `"`.
    fn string(&mut self) -> Result<(), EmitError> {
        self.pos += 1;
        loop {
            match self.peek().ok_or_else(Self::bad)? {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => self.pos += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests;
