//! `set` and `unset` on YAML text (the first document): replace a value's
//! lexeme, add a key or item as a new last line of its block collection
//! (at the column of its siblings) or after the last element of a flow
//! collection, and remove whole lines (block) or an element with its comma
//! (flow). New collections are written in block style with the file's
//! indentation step in block context, in flow style inside flow ones.

mod locate;

/// The end of the anchor (`&name`) after blanks at byte `at`, if one is
/// there on the line.
fn anchor_end(src: &str, at: usize) -> Option<usize> {
    let rest = src.get(at..)?;
    let from = rest.trim_start_matches([' ', '\t']);
    let name = from.strip_prefix('&')?;
    let len = name.find(ends_anchor_name).unwrap_or(name.len());
    Some(at + (rest.len() - from.len()) + 1 + len)
}

#[cfg(test)]
mod tests;

use super::emit::flow;
use super::lexeme::{string_lexeme, value_lexeme};
use super::text::{ends_anchor_name, is_lb, line_break_style, line_start};
use crate::splice::Edit;
use crate::syntax::edit::{already_set, check_path, empty_path, in_the_way, nest, unalias};
use crate::syntax::{EmitError, Parsed, PathStep};
use crate::tree::{Entry, Item, Node, Value};
use locate::{locate, Kind, Pos};

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
    let docs = locate(src, &parsed.tree.docs)?;
    let ctx = Ctx::new(src, docs.first().and_then(Option::as_ref));
    let Some(Some(root)) = docs.first() else {
        return ctx.fill_empty(path, value);
    };
    if matches!(root.kind, Kind::Scalar { empty: true }) {
        return ctx.fill_empty(path, value);
    }
    let mut node = root;
    // Where the current node's text may be rewritten from (after `key:`
    // or `-`), and the column its parent entry starts at.
    let mut anchor: Option<(usize, usize, bool)> = None;
    for (depth, step) in path.iter().enumerate() {
        let done = path.get(..=depth).unwrap_or_default();
        let rest = path.get(depth + 1..).unwrap_or_default();
        match (step, &node.kind) {
            (PathStep::Key(k), Kind::Map { flow, entries }) => {
                match entries.iter().find(|e| &e.key == k) {
                    Some(e) if rest.is_empty() && locate::colon_after(src, e.key_end).is_none() => {
                        // `{j}`: a key without `:` nor value.
                        return Ok(vec![Edit {
                            span: e.key_end..e.key_end,
                            text: format!(": {}", inline(value, true)),
                        }]);
                    }
                    Some(e) => {
                        let colon = ctx.colon_after(e.key_end)?;
                        anchor = Some((colon + 1, ctx.column(e.key_start), false));
                        node = &e.value;
                    }
                    None => {
                        let new = nest(done, rest, value)?;
                        return Ok(vec![ctx.add_entry(node, *flow, Some(k), &new)?]);
                    }
                }
            }
            (PathStep::Index(i), Kind::Seq { flow, items }) => match items.get(*i) {
                Some(it) => {
                    anchor = Some((it.dash + 1, ctx.column(it.dash), !*flow));
                    node = &it.value;
                }
                // Past the end appends, as sops's `set` does.
                None => {
                    let new = nest(done, rest, value)?;
                    return Ok(vec![ctx.add_entry(node, *flow, None, &new)?]);
                }
            },
            _ => return Err(in_the_way(done)),
        }
    }
    let in_flow = ctx.in_flow(root, path);
    let Some((after, col, in_seq)) = anchor else {
        return Err(empty_path());
    };
    Ok(vec![ctx.replace(node, value, in_flow, after, col, in_seq)])
}

/// See [`crate::syntax::Syntax::remove_value`].
pub(super) fn remove_value(
    src: &str,
    parsed: &Parsed,
    path: &[PathStep],
) -> Result<Option<Vec<Edit>>, EmitError> {
    check_path(parsed, path)?;
    let docs = locate(src, &parsed.tree.docs)?;
    let Some(Some(root)) = docs.first() else {
        return Ok(None);
    };
    let ctx = Ctx::new(src, Some(root));
    let Some((last, parent_path)) = path.split_last() else {
        return Err(empty_path());
    };
    let mut node = root;
    let mut anchor: Option<usize> = None;
    for step in parent_path {
        let next = match (step, &node.kind) {
            (PathStep::Key(k), Kind::Map { entries, .. }) => {
                entries.iter().find(|e| &e.key == k).map(|e| {
                    let colon = ctx.colon_after(e.key_end);
                    (colon.map_or(e.key_end, |c| c + 1), &e.value)
                })
            }
            (PathStep::Index(i), Kind::Seq { items, .. }) => {
                items.get(*i).map(|it| (it.dash + 1, &it.value))
            }
            _ => None,
        };
        let Some((after, child)) = next else {
            return Ok(None);
        };
        anchor = Some(after);
        node = child;
    }
    // (start, end) of each child, which to remove, and the flow style.
    let (children, doomed, flow, map): (Vec<(usize, usize)>, Vec<usize>, bool, bool) =
        match (&node.kind, last) {
            (Kind::Map { flow, entries }, PathStep::Key(k)) => (
                entries.iter().map(|e| (e.key_start, e.end())).collect(),
                // The first pair with the key, as sops's lookups select
                // it (a duplicate after it stays).
                entries
                    .iter()
                    .position(|e| &e.key == k)
                    .into_iter()
                    .collect(),
                *flow,
                true,
            ),
            (Kind::Seq { flow, items }, PathStep::Index(i)) if *i < items.len() => (
                items.iter().map(|it| (it.dash, it.value.end)).collect(),
                vec![*i],
                *flow,
                false,
            ),
            _ => return Ok(None),
        };
    if doomed.is_empty() {
        return Ok(None);
    }
    let child_nodes: Vec<&Pos> = match &node.kind {
        Kind::Map { entries, .. } => entries.iter().map(|e| &e.value).collect(),
        Kind::Seq { items, .. } => items.iter().map(|i| &i.value).collect(),
        _ => Vec::new(),
    };
    let empty = if map { "{}" } else { "[]" };
    if doomed.len() == children.len() {
        let braced = ctx.src.as_bytes().get(node.start) == Some(&b'{');
        let edit = if flow && map && !braced {
            // `[a: 1]`: a single-pair mapping without braces.
            Edit {
                span: node.start..node.end,
                text: empty.to_string(),
            }
        } else if flow {
            Edit {
                span: node.start + 1..node.end.saturating_sub(1),
                text: String::new(),
            }
        } else {
            match anchor {
                Some(after) => Edit {
                    span: after..node.end,
                    text: format!(" {empty}"),
                },
                None => Edit {
                    span: node.start..node.end,
                    text: empty.to_string(),
                },
            }
        };
        return Ok(Some(vec![edit]));
    }
    let kept_first = (0..children.len())
        .find(|i| !doomed.contains(i))
        .unwrap_or(0);
    let mut spans = Vec::new();
    for &i in &doomed {
        let Some(&(start, end)) = children.get(i) else {
            continue;
        };
        let next_start = children.get(i + 1).map(|c| c.0);
        let span = if flow {
            if i < kept_first {
                start..next_start.unwrap_or(end)
            } else {
                let prev = i.checked_sub(1).and_then(|p| children.get(p));
                prev.map_or(start, |c| c.1)..end
            }
        } else if ctx.first_on_line(start) {
            let mut span = ctx.whole_lines(start, end);
            let prev = i.checked_sub(1).and_then(|p| child_nodes.get(p));
            if prev.is_some_and(|p| ctx.ends_with_keep_block(p)) {
                // Blank lines after it would join the `|+` block above.
                span.end = ctx.skip_blank_lines(span.end);
            }
            span
        } else {
            // `- a: 1` / `- - x`: the next sibling moves up to this line.
            start..next_start.unwrap_or(end)
        };
        spans.push(span);
    }
    Ok(Some(merge(spans)))
}

/// Deletions, with overlapping ones merged.
fn merge(mut spans: Vec<std::ops::Range<usize>>) -> Vec<Edit> {
    spans.sort_by_key(|s| (s.start, s.end));
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for s in spans {
        match out.last_mut() {
            Some(l) if s.start <= l.end => l.end = l.end.max(s.end),
            _ => out.push(s),
        }
    }
    out.into_iter()
        .map(|span| Edit {
            span,
            text: String::new(),
        })
        .collect()
}

/// The text and its layout facts.
struct Ctx<'s> {
    src: &'s str,
    lb: &'static str,
    /// Columns per nesting level for new block collections.
    unit: usize,
}

impl<'s> Ctx<'s> {
    fn new(src: &'s str, root: Option<&Pos>) -> Ctx<'s> {
        let end = src.find("\n---").unwrap_or(src.len());
        let mut ctx = Ctx {
            src,
            lb: line_break_style(src, 0, end),
            unit: 2,
        };
        if let Some(u) = root.and_then(|r| ctx.step(r)) {
            ctx.unit = u;
        }
        ctx
    }

    /// The first indentation step of a block mapping nested in a block
    /// mapping.
    fn step(&self, node: &Pos) -> Option<usize> {
        match &node.kind {
            Kind::Map {
                flow: false,
                entries,
            } => entries.iter().find_map(|e| match &e.value.kind {
                Kind::Map {
                    flow: false,
                    entries: inner,
                } => {
                    let child = self.column(inner.first()?.key_start);
                    let parent = self.column(e.key_start);
                    child.checked_sub(parent).filter(|&d| d > 0)
                }
                _ => self.step(&e.value),
            }),
            Kind::Seq { items, .. } => items.iter().find_map(|i| self.step(&i.value)),
            _ => None,
        }
    }

    /// The column of byte `at` (bytes from its line start).
    fn column(&self, at: usize) -> usize {
        at - line_start(self.src, at).min(at)
    }

    /// Whether only blanks (and an explicit key's `?`) precede `at` on
    /// its line.
    fn first_on_line(&self, at: usize) -> bool {
        let start = line_start(self.src, at).min(at);
        let prefix = self.src.get(start..at).unwrap_or("x");
        let prefix = prefix.trim_end_matches([' ', '\t']);
        let prefix = prefix.strip_suffix('?').unwrap_or(prefix);
        prefix.bytes().all(|c| c == b' ' || c == b'\t')
    }

    /// The offset just after the line holding `at` (its line break
    /// included), or the end of the text.
    fn line_end(&self, at: usize) -> usize {
        let b = self.src.as_bytes();
        match b.get(at..).and_then(|r| r.iter().position(|&c| c == b'\n')) {
            Some(i) => at + i + 1,
            None => self.src.len(),
        }
    }

    /// The whole lines from the one holding `start` to the one holding
    /// `end`; at the end of a text without a final line break, the line
    /// break before them instead.
    fn whole_lines(&self, start: usize, end: usize) -> std::ops::Range<usize> {
        let from = line_start(self.src, start).min(start);
        let to = self.line_end(end);
        let b = self.src.as_bytes();
        if to == self.src.len() && !b.last().copied().is_some_and(is_lb) && from > 0 {
            let mut from = from - 1;
            if from > 0 && b.get(from - 1) == Some(&b'\r') {
                from -= 1;
            }
            return from..to;
        }
        from..to
    }

    /// The `:` after a key ending at `key_end`.
    fn colon_after(&self, key_end: usize) -> Result<usize, EmitError> {
        locate::colon_after(self.src, key_end)
            .ok_or_else(|| EmitError("unsupported YAML key layout".into()))
    }

    /// Whether the node at `path` is inside a flow collection.
    fn in_flow(&self, root: &Pos, path: &[PathStep]) -> bool {
        let mut node = root;
        for step in path {
            let (flow, next) = match (&node.kind, step) {
                (Kind::Map { flow, entries }, PathStep::Key(k)) => (
                    *flow,
                    entries.iter().find(|e| &e.key == k).map(|e| &e.value),
                ),
                (Kind::Seq { flow, items }, PathStep::Index(i)) => {
                    (*flow, items.get(*i).map(|it| &it.value))
                }
                _ => return false,
            };
            if flow {
                return true;
            }
            match next {
                Some(n) => node = n,
                None => return false,
            }
        }
        false
    }

    /// Replace `old` with `value`. `after` is just past its `key:` or `-`,
    /// `col` the column of that key or dash.
    fn replace(
        &self,
        old: &Pos,
        value: &Node,
        in_flow: bool,
        after: usize,
        col: usize,
        in_seq: bool,
    ) -> Edit {
        let value = unalias(value);
        // An empty node may still have an anchor (`key: &a`): the value
        // goes after it (before, the anchor's text ended up in the value).
        let anchored = match old.kind {
            Kind::Scalar { empty: true } => anchor_end(self.src, after),
            _ => None,
        };
        let after = anchored.unwrap_or(after);
        let block = !in_flow && is_block(value);
        let old_inline = match old.kind {
            Kind::Scalar { empty } => !empty,
            Kind::Alias => true,
            Kind::Map { flow, .. } | Kind::Seq { flow, .. } => flow,
        };
        if !block && old_inline {
            return Edit {
                span: old.start..old.end,
                text: inline(value, in_flow),
            };
        }
        let mut text = String::new();
        if block {
            // `- &a k: v` would anchor the key: the mapping starts on
            // the next line.
            let (lines, first_inline) = if in_seq {
                (self.block(value, col + 2), anchored.is_none())
            } else {
                (self.block(value, col + self.unit), false)
            };
            for (n, line) in lines.iter().enumerate() {
                if n == 0 && first_inline {
                    text.push(' ');
                    text.push_str(line.trim_start());
                } else {
                    text.push_str(self.lb);
                    text.push_str(line);
                }
            }
        } else {
            text.push(' ');
            text.push_str(&inline(value, in_flow));
        }
        let end = if matches!(old.kind, Kind::Scalar { empty: true }) {
            after
        } else {
            old.end.max(after)
        };
        Edit {
            span: after..end,
            text,
        }
    }

    /// Add a last entry (`key` for a mapping) or item to `node`.
    fn add_entry(
        &self,
        node: &Pos,
        flow: bool,
        key: Option<&str>,
        value: &Node,
    ) -> Result<Edit, EmitError> {
        let value = unalias(value);
        if flow {
            let item = match key {
                Some(k) => format!("{}: {}", string_lexeme(k, true), inline(value, true)),
                None => inline(value, true),
            };
            if key.is_some() && self.src.as_bytes().get(node.start) != Some(&b'{') {
                return Err(EmitError(
                    "cannot add a key to a single-pair mapping inside a flow sequence".into(),
                ));
            }
            let last_end = match &node.kind {
                Kind::Map { entries, .. } => entries.last().map(|e| e.end()),
                Kind::Seq { items, .. } => items.last().map(|i| i.value.end),
                _ => None,
            };
            return Ok(match last_end {
                Some(end) => Edit {
                    span: end..end,
                    text: format!(", {item}"),
                },
                None => Edit {
                    span: node.start + 1..node.start + 1,
                    text: item,
                },
            });
        }
        let col = self.column(node.start);
        let wrapper = match key {
            Some(k) => Node::Map(vec![Entry::Pair(crate::tree::Pair {
                key: k.to_string(),
                value: value.clone(),
            })]),
            None => Node::Seq(vec![Item::Node(value.clone())]),
        };
        let lines = self.block(&wrapper, col);
        let at = self.after_last_line(node);
        let mut text = String::new();
        let b = self.src.as_bytes();
        let at_eof_without_lb = at == self.src.len() && !b.last().copied().is_some_and(is_lb);
        for line in &lines {
            if at_eof_without_lb {
                text.push_str(self.lb);
                text.push_str(line);
            } else {
                text.push_str(line);
                text.push_str(self.lb);
            }
        }
        Ok(Edit { span: at..at, text })
    }

    /// Where a new last line of a block collection goes: after the line
    /// of its last character (and after the blank lines a keep-chomping
    /// block scalar at its end holds).
    fn after_last_line(&self, node: &Pos) -> usize {
        let at = self.line_end(node.end);
        if self.ends_with_keep_block(node) {
            self.skip_blank_lines(at)
        } else {
            at
        }
    }

    /// The start of the first line from `at` on that is not blank.
    fn skip_blank_lines(&self, mut at: usize) -> usize {
        loop {
            let next = self.line_end(at);
            let line = self.src.get(at..next).unwrap_or("");
            if next == at || !line.trim().is_empty() {
                return at;
            }
            at = next;
        }
    }

    /// Whether the last scalar of `node` is a `|+`/`>+` block scalar.
    fn ends_with_keep_block(&self, node: &Pos) -> bool {
        let last = match &node.kind {
            Kind::Map { entries, .. } => entries.last().map(|e| &e.value),
            Kind::Seq { items, .. } => items.last().map(|i| &i.value),
            _ => {
                let lexeme = self.src.get(node.start..node.end).unwrap_or("");
                let header = lexeme.lines().next().unwrap_or("");
                let header = header.split('#').next().unwrap_or("");
                return header.starts_with(['|', '>']) && header.contains('+');
            }
        };
        last.is_some_and(|n| self.ends_with_keep_block(n))
    }

    /// `node` (a non-empty mapping or sequence) as block lines at `col`.
    fn block(&self, node: &Node, col: usize) -> Vec<String> {
        let mut lines = Vec::new();
        self.block_into(node, col, &mut lines);
        lines
    }

    fn block_into(&self, node: &Node, col: usize, lines: &mut Vec<String>) {
        let pad = " ".repeat(col);
        match unalias(node) {
            Node::Map(entries) => {
                for e in entries {
                    let Entry::Pair(p) = e else { continue };
                    let head = format!("{pad}{}:", string_lexeme(&p.key, false));
                    let v = unalias(&p.value);
                    if is_block(v) {
                        lines.push(head);
                        self.block_into(v, col + self.unit, lines);
                    } else {
                        lines.push(format!("{head} {}", inline(v, false)));
                    }
                }
            }
            Node::Seq(items) => {
                for i in items {
                    let Item::Node(n) = i else { continue };
                    let n = unalias(n);
                    if is_block(n) {
                        let mut sub = Vec::new();
                        self.block_into(n, col + 2, &mut sub);
                        for (k, line) in sub.into_iter().enumerate() {
                            if k == 0 {
                                lines.push(format!("{pad}- {}", line.trim_start()));
                            } else {
                                lines.push(line);
                            }
                        }
                    } else {
                        lines.push(format!("{pad}- {}", inline(n, false)));
                    }
                }
            }
            n => lines.push(format!("{pad}{}", inline(n, false))),
        }
    }

    /// Set a value in an empty document: the new content at its end.
    fn fill_empty(&self, path: &[PathStep], value: &Node) -> Result<Vec<Edit>, EmitError> {
        if !self.src.trim().is_empty() {
            return Err(EmitError(
                "cannot set a value in an empty document of a multi-part file".into(),
            ));
        }
        let node = nest(&[], path, value)?;
        let lines = self.block(&node, 0);
        let mut text = String::new();
        let b = self.src.as_bytes();
        if !self.src.is_empty() && !b.last().copied().is_some_and(is_lb) {
            text.push_str(self.lb);
        }
        for line in lines {
            text.push_str(&line);
            text.push_str(self.lb);
        }
        let at = self.src.len();
        Ok(vec![Edit { span: at..at, text }])
    }
}

/// A non-empty mapping or sequence (written in block style).
fn is_block(node: &Node) -> bool {
    match node {
        Node::Map(e) => e.iter().any(|e| matches!(e, Entry::Pair(_))),
        Node::Seq(i) => i.iter().any(|i| matches!(i, Item::Node(_))),
        _ => false,
    }
}

/// A value on one line: a scalar lexeme, or a flow collection.
fn inline(node: &Node, in_flow: bool) -> String {
    match unalias(node) {
        Node::Scalar(s) => value_lexeme(&s.value, in_flow),
        Node::Map(_) | Node::Seq(_) => flow(node),
        Node::Alias(_) => value_lexeme(&Value::Null, in_flow),
    }
}
