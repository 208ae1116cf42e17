//! Which collection a comment at the end of a nested block belongs to, as
//! sops sees it (go-yaml v3 head/line/foot comments turned into sops tree
//! comments): the comment's additional authenticated data is that
//! collection's path, so it must be the same as sops's.
//!
//! [`place_as_sops`] has the last word: after the parse it reads the text
//! as go-yaml and sops do ([`super::goyaml`]) and moves each comment whose
//! path differs to sops's collection. The rules below make the first
//! placement (the one kept when go-yaml refuses the text, or its reading
//! does not match the tree).
//!
//! go-yaml v3 splits the comment lines between a value and the next token
//! into *runs* (a new run starts at a blank line or where the column
//! changes). When block collections close there, measured against sops
//! 3.11 (`tests/integration/sops_write.rs`, comment placements):
//!
//! * the first run belongs to the innermost closing collection, unless a
//!   blank line or the end of the document follows it, or the next token
//!   follows it directly at the run's own column (then it is a head comment
//!   of that token);
//! * every closing collection, innermost first, claims the first run (from
//!   the last claimed one on) at exactly its indentation, together with
//!   the unclaimed runs before that one;
//! * what no closing collection takes belongs to the collection of the next
//!   token (the top level at the end of the document), as before;
//! * measured, not derived from go-yaml's source: the first comment line
//!   right after a value belongs to the innermost closing collection even
//!   when dedented below it, unless a blank line or the end of the text
//!   follows, or the next token's line (after comments at its column)
//!   starts at its column; a blank line ends a run; a foot run that follows
//!   the innermost's runs with no blank line, not dedented below both the
//!   innermost block and the first comment, is the innermost's too.

use std::collections::HashMap;

use super::goyaml;
use super::parse::{DocLayout, Output, Root};
use super::text::{is_marker_line, line_start};
use crate::tree::{Comment, Entry, Item, Node, Span};
use crate::wipe::SecretText;
use zeroize::Zeroizing;

/// A group of comment lines go-yaml's scanner keeps together.
struct Piece {
    /// Index of its first and one past its last comment in the list.
    first: usize,
    end: usize,
    /// The column of its first `#`.
    col: usize,
    /// A foot comment of what precedes it (else a head comment of what
    /// follows).
    foot: bool,
    /// go-yaml's token mark: `None` before every comment (the token before
    /// them), else this piece's own position.
    mark: Option<usize>,
}

/// The comments that wait while block collections close, split the way
/// go-yaml splits them, and the block end tokens placed so far.
pub(super) struct Closing {
    comments: Vec<Option<Comment>>,
    pieces: Vec<Piece>,
    /// The column of the next token.
    next: Option<usize>,
    /// The piece the last block end token was moved to (`None`: before
    /// every comment).
    block_mark: Option<usize>,
    /// Pieces before this index were handed out.
    cursor: usize,
}

/// The byte offset of a comment's `#`.
fn hash_at(c: &Comment) -> Option<usize> {
    c.span.as_ref().map(|s| s.start.saturating_sub(1))
}

/// The column of byte `pos` (bytes since the line start).
fn column(src: &str, pos: usize) -> usize {
    pos - line_start(src, pos).min(pos)
}

/// What follows the comments: the column of the next token and whether a
/// blank line comes first. At the end of the document (end of text, `---`
/// or `...`) the next token is `end`: where the `sops` metadata key goes
/// (sops reads an encrypted file, where it follows), `None` if nowhere.
fn next_token(src: &str, from: usize, end: Option<usize>) -> (Option<usize>, bool) {
    let rest = src.get(from..).unwrap_or("");
    // The rest of the last comment's line.
    let Some(nl) = rest.find('\n') else {
        return (end, false);
    };
    let mut blank = false;
    for line in rest.get(nl + 1..).unwrap_or("").split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() {
            blank = true;
            continue;
        }
        let marker = ["---", "..."].iter().any(|m| is_marker_line(body, m));
        if marker {
            return (end, blank);
        }
        return (Some(body.len() - trimmed.len()), blank);
    }
    (end, blank)
}

/// Whether a dedented comment `c` at column `col` right after a value is
/// not the innermost closing collection's: a blank line or the end of the
/// text follows it, or the next token's line starts at `col`.
/// At the end of the text the `sops` key (at column `end`) is next.
fn not_innermost(src: &str, c: &Comment, col: usize, end: Option<usize>) -> bool {
    let after = c.span.as_ref().map_or(0, |s| s.end);
    let rest = src.get(after..).unwrap_or("");
    let Some(nl) = rest.find('\n') else {
        return end.is_none_or(|e| e == col);
    };
    let indent = |l: &str| l.len() - l.trim_start_matches([' ', '\t']).len();
    // The next line that is not a comment at `col` too.
    let next = rest
        .get(nl + 1..)
        .unwrap_or("")
        .lines()
        .find(|l| !(l.trim_start().starts_with('#') && indent(l) == col));
    match next {
        None => end.is_none_or(|e| e == col),
        Some(l) if l.trim().is_empty() => true,
        Some(l) if l.trim_start().starts_with('#') => false,
        Some(l) => indent(l) == col,
    }
}

/// The last non-blank line before byte `pos` and whether a blank line
/// lies between them.
fn line_before(src: &str, pos: usize) -> (&str, bool) {
    let head = src.get(..line_start(src, pos)).unwrap_or("");
    let mut blank = false;
    for line in head.lines().rev() {
        if line.trim().is_empty() {
            blank = true;
        } else {
            return (line, blank);
        }
    }
    ("", blank)
}

impl Closing {
    /// Split the waiting comments like go-yaml's scanner
    /// (`yaml_parser_scan_comments`): `indent` is the column of the
    /// innermost closing block, `end` the column of the `sops` key that
    /// follows the document in the encrypted file (see [`next_token`]).
    pub(super) fn new(
        src: &str,
        comments: Vec<Comment>,
        indent: usize,
        end: Option<usize>,
    ) -> Closing {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut prev_end = 0;
        // The comments not yet in a piece: first index and first column.
        let mut open: Option<(usize, usize)> = None;
        let mut first_empty = false;
        let mut after_value = false;
        // A blank line came between two of the comments.
        let mut blank_seen = false;
        // The column of the first comment.
        let first_col = comments
            .first()
            .and_then(hash_at)
            .map_or(0, |a| column(src, a));
        let push = |pieces: &mut Vec<Piece>,
                    first: usize,
                    end: usize,
                    col: usize,
                    foot: bool,
                    blank: bool| {
            // A foot piece right after the innermost's ones (no blank
            // line before it) stays with the innermost closing collection.
            let innermost = foot
                && (pieces.is_empty() || !blank && (col >= indent || col >= first_col))
                && pieces.iter().all(|p| p.foot && p.mark.is_none());
            let mark = (!innermost).then_some(pieces.len());
            pieces.push(Piece {
                first,
                end,
                col,
                foot,
                mark,
            });
        };
        for (i, c) in comments.iter().enumerate() {
            let at = hash_at(c).unwrap_or(prev_end);
            let col = column(src, at);
            if i == 0 {
                let (line, blank) = line_before(src, at);
                let content = match line.find(" #") {
                    Some(k) => line.get(..k).unwrap_or(line),
                    None => line,
                };
                first_empty = !blank;
                after_value = content.trim_end().ends_with(':');
            }
            let gap = src.get(prev_end..at).unwrap_or("");
            if i > 0 && gap.matches('\n').count() > 1 {
                // A blank line ends the run before it.
                if let Some((first, start_col)) = open.take() {
                    push(&mut pieces, first, i, start_col, true, blank_seen);
                }
                blank_seen = true;
            }
            if let Some((first, start_col)) = open {
                if col < indent && col != start_col {
                    push(&mut pieces, first, i, start_col, true, blank_seen);
                    open = None;
                }
            }
            match open {
                Some(_) => {}
                None => open = Some((i, col)),
            }
            if i == 0 && first_empty && (!after_value || col < indent) {
                // The first line right after a token (or dedented) is a
                // foot comment of what precedes it.
                // Even dedented, it stays with the innermost closing
                // collection (measured against sops 3.11).
                pieces.push(Piece {
                    first: 0,
                    end: 1,
                    col,
                    foot: true,
                    mark: (col < indent && not_innermost(src, c, col, end)).then_some(0),
                });
                open = None;
            }
            prev_end = c.span.as_ref().map_or(at, |s| s.end);
        }
        let (next, _) = next_token(src, prev_end, end);
        if let Some((first, start_col)) = open {
            let foot = next.is_some_and(|n| n < indent && n != start_col);
            push(
                &mut pieces,
                first,
                comments.len(),
                start_col,
                foot,
                blank_seen,
            );
        }
        Closing {
            comments: comments.into_iter().map(Some).collect(),
            pieces,
            next,
            block_mark: None,
            cursor: 0,
        }
    }

    /// The comments for a block collection at indentation `indent` that
    /// closes now (innermost first); `claims` is false for a collection
    /// go-yaml gives no indentation level (a sequence at its key's column):
    /// it gets no block end token. go-yaml moves the block end token back to
    /// the first comment at the block's column (`yaml_parser_unroll_indent`)
    /// and gives it the foot comments before it.
    pub(super) fn take(&mut self, indent: usize, claims: bool) -> Vec<Comment> {
        if !claims || self.next.is_some_and(|n| indent <= n) {
            return Vec::new();
        }
        let from = self.block_mark.unwrap_or(0);
        if let Some(i) = self
            .pieces
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, p)| p.col == indent)
            .map(|(i, _)| i)
        {
            self.block_mark = Some(i);
        }
        let mut out = Vec::new();
        while let Some(p) = self.pieces.get(self.cursor) {
            let before = match (p.mark, self.block_mark) {
                (None, _) => true,
                (Some(m), Some(b)) => m <= b,
                (Some(_), None) => false,
            };
            if !p.foot || !before {
                break;
            }
            for slot in self.comments.get_mut(p.first..p.end).unwrap_or_default() {
                out.extend(slot.take());
            }
            self.cursor += 1;
        }
        out
    }
    /// The comments no collection took, in order.
    pub(super) fn rest(self) -> Vec<Comment> {
        self.comments.into_iter().flatten().collect()
    }
}

/// Where sops puts each comment: go-yaml v3's reading of the text sops
/// reads (the encrypted file: this text with the `sops` key after each
/// document that has none yet), turned into sops tree comments
/// ([`super::goyaml`]). Each comment whose collection has another path than
/// sops's (its additional authenticated data would differ) moves to sops's
/// collection. Text go-yaml refuses, or whose reading does not match the
/// tree, keeps the placement above.
pub(super) fn place_as_sops(src: &str, out: &mut Output) {
    if !src.contains('#') || !out.parsed.tree.docs.iter().any(has_comment) {
        return;
    }
    if plainly_placed(src, &out.parsed.tree.docs) {
        return;
    }
    let (text, inserts) = with_metadata_keys(src, &out.layouts);
    let docs = &out.parsed.tree.docs;
    let Some(owners) = sops_owners(&text, docs) else {
        return;
    };
    let to_text = |o: usize| {
        o + inserts
            .iter()
            .filter(|(at, _)| *at <= o)
            .map(|(_, n)| n)
            .sum::<usize>()
    };
    // The comments whose path is not sops's: (doc, from, span, to).
    let mut moves = Vec::new();
    for (i, node) in docs.iter().enumerate() {
        let mut found = Vec::new();
        comments_in(node, &mut Vec::new(), &mut found);
        for (path, span) in found {
            let hash = span.start.saturating_sub(1);
            let Some((doc, to)) = owners.get(&to_text(hash)) else {
                continue;
            };
            // Same collection, or another one with the same keys: nothing
            // to move (paths are compared first: `keys` walks the tree).
            if *doc == i && path != *to && keys(node, &path) != keys(node, to) {
                moves.push((i, path, span, to.clone()));
            }
        }
    }
    for (i, from, span, to) in moves {
        let Some(doc) = out.parsed.tree.docs.get_mut(i) else {
            continue;
        };
        let Some(mut c) = node_at(doc, &from).and_then(|n| take_comment(n, &span)) else {
            continue;
        };
        c.attach = crate::tree::Attach::Here;
        if let Some(n) = node_at(doc, &to) {
            put_comment(n, c);
        }
    }
    if !inserts.is_empty() {
        mark_plaintext_readings(src, &mut out.parsed.tree.docs);
    }
}

/// go-yaml's reading of `text` as sops turns it into tree comments:
/// each comment's offset -> (document, path in `docs` of the collection
/// sops puts it in). `None` when go-yaml refuses the text or its reading
/// does not match `docs`.
fn sops_owners(text: &str, docs: &[Node]) -> Option<HashMap<usize, (usize, Vec<usize>)>> {
    let g = goyaml::read(text)?;
    let paths = match_docs(text, &g, docs, None)?;
    Some(
        g.owner
            .iter()
            .filter_map(|(&at, y)| Some((at, paths.get(y)?.clone())))
            .collect(),
    )
}

/// Pair go-yaml's reading `g` of `text` with `docs`: go-yaml's
/// collections -> (document, path in the tree), and, into `leaves`, its
/// scalar nodes -> the span start of the tree's scalar. `None` when the
/// readings differ.
pub(super) fn match_docs(
    text: &str,
    g: &goyaml::Docs,
    docs: &[Node],
    leaves: Option<&mut HashMap<usize, usize>>,
) -> Option<HashMap<usize, (usize, Vec<usize>)>> {
    if g.docs.len() != docs.len() {
        return None;
    }
    let mut paths: HashMap<usize, (usize, Vec<usize>)> = HashMap::new();
    let mut m = Matcher {
        g,
        text,
        doc: 0,
        path: Vec::new(),
        paths: &mut paths,
        leaves,
    };
    for (i, (&d, node)) in g.docs.iter().zip(docs).enumerate() {
        let root = g.root(d)?;
        m.doc = i;
        if !m.matches(root, node, true) {
            return None;
        }
    }
    Some(paths)
}

/// The comments sops's reading of the plaintext `src` (what `sops encrypt`
/// reads, without the `sops` key that follows the last comments of a
/// document in the encrypted file) puts in another collection than their
/// place, higher up or deeper: at the end of a document, after an empty
/// value (`a_unencrypted:\n  y:\n  # c`), go-yaml makes a comment the top
/// level's, and after a sequence at its key's column (`k:\n- v\n# c`) the
/// sequence's, where the same text with a key after it makes it the
/// nested mapping's, or the top level's. Each such comment keeps its place
/// (sops's reading of the encrypted file) and is marked with the keys of
/// the collection sops encrypts it in ([`Comment::sops_keys`]): the
/// encryption then never leaves in clear a comment that sops encrypts.
fn mark_plaintext_readings(src: &str, docs: &mut [Node]) {
    let Some(owners) = sops_owners(src, docs) else {
        return;
    };
    for (i, node) in docs.iter_mut().enumerate() {
        let mut found = Vec::new();
        comments_in(node, &mut Vec::new(), &mut found);
        for (path, span) in found {
            let Some((doc, to)) = owners.get(&span.start.saturating_sub(1)) else {
                continue;
            };
            let (Some(here), Some(there)) = (keys(node, &path), keys(node, to)) else {
                continue;
            };
            let nested = here.starts_with(&there) || there.starts_with(&here);
            if *doc != i || there == here || !nested {
                continue;
            }
            let there: Vec<String> = there.iter().map(|k| k.to_string()).collect();
            if let Some(c) = node_at(node, &path).and_then(|n| comment_mut(n, &span)) {
                c.sops_keys = Some(there);
            }
        }
    }
}

/// `src` with a `sops:` key where sops-like appends the metadata to each
/// block-mapping document that has none; the insertions (offset, length).
/// A copy of the whole text, which may be plaintext (a document to
/// encrypt): written into a [`SecretText`] (an indented key outgrew the
/// room it was given) and wiped when dropped.
pub(super) fn with_metadata_keys(
    src: &str,
    layouts: &[DocLayout],
) -> (Zeroizing<String>, Vec<(usize, usize)>) {
    let mut text = SecretText::with_capacity(src.len() + 16 * layouts.len());
    let mut inserts = Vec::new();
    let mut from = 0;
    for l in layouts {
        let Root::BlockMap { indent } = l.root else {
            continue;
        };
        if l.has_meta || l.end < from {
            continue;
        }
        let Some(head) = src.get(from..l.end) else {
            continue;
        };
        text.push_str(head);
        let before = text.len();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&" ".repeat(indent));
        text.push_str("sops: x\n");
        inserts.push((l.end, text.len() - before));
        from = l.end;
    }
    text.push_str(src.get(from..).unwrap_or(""));
    (Zeroizing::new(text.into_string()), inserts)
}

/// Whether every comment of the documents stands where the rules above
/// and go-yaml agree, so that go-yaml's reading (a second reading of the
/// whole text, several times its size in memory) is not needed: after a
/// scalar on its own line, or in a run of whole-line comments at one
/// column, with no blank line, directly above a mapping key at that same
/// column (the key's head comment for both). Everything else (comments
/// after `key:` or `- `, before sequence items, followed by a blank line,
/// dedented or at the end) is read by go-yaml's rules.
fn plainly_placed(src: &str, docs: &[Node]) -> bool {
    let mut found = Vec::new();
    for doc in docs {
        comments_in(doc, &mut Vec::new(), &mut found);
    }
    found
        .iter()
        .all(|(_, span)| plain_comment(src, span.start.saturating_sub(1)))
}

/// See [`plainly_placed`]: the comment whose `#` is at byte `hash`.
fn plain_comment(src: &str, hash: usize) -> bool {
    let Some(before) = src.get(..hash) else {
        return false;
    };
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let prefix = before.get(line_start..).unwrap_or_default();
    let content = prefix.trim_end_matches(' ');
    if !content.trim_start_matches(' ').is_empty() {
        // After content: a scalar's line comment, not one after `key:`,
        // `- `, a flow collection, a block scalar header or a node's
        // anchor or tag (`e: &a # c`, the collection below).
        let last_word = content.rsplit([' ', '\t']).next().unwrap_or_default();
        return prefix.len() > content.len()
            && !content.ends_with([':', '-', '[', '{', ',', '|', '>', ']', '}', '\t'])
            && !last_word.starts_with(['&', '!']);
    }
    if prefix.contains('\t') {
        return false;
    }
    let col = prefix.len();
    let mut rest = src.get(hash..).unwrap_or_default();
    loop {
        // The next line.
        let Some(nl) = rest.find('\n') else {
            return false;
        };
        rest = rest.get(nl + 1..).unwrap_or_default();
        let line = rest.split('\n').next().unwrap_or_default();
        let line = line.strip_suffix('\r').unwrap_or(line);
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        if body.is_empty() || indent != col {
            return false;
        }
        if body.starts_with('#') {
            continue;
        }
        // A plain mapping key: not an item, an explicit key, a flow
        // collection, a node property or a document marker.
        return !body.starts_with(['-', '?', '[', '{', '&', '*', '!', '|', '>', '%', '.', '\t'])
            && body.contains(':');
    }
}

fn has_comment(n: &Node) -> bool {
    match n {
        Node::Map(entries) => entries.iter().any(|e| match e {
            Entry::Comment(_) => true,
            Entry::Pair(p) => has_comment(&p.value),
        }),
        Node::Seq(items) => items.iter().any(|i| match i {
            Item::Comment(_) => true,
            Item::Node(n) => has_comment(n),
        }),
        _ => false,
    }
}

/// Pairs go-yaml's reading with the tree, recording each collection's path
/// (indices of entries and items, comments not counted).
struct Matcher<'a> {
    g: &'a goyaml::Docs,
    text: &'a str,
    doc: usize,
    path: Vec<usize>,
    paths: &'a mut HashMap<usize, (usize, Vec<usize>)>,
    /// go-yaml's scalar nodes -> the span start of the tree's scalar.
    leaves: Option<&'a mut HashMap<usize, usize>>,
}

impl Matcher<'_> {
    fn matches(&mut self, y: usize, ours: &Node, root: bool) -> bool {
        match (self.g.shape(y), ours) {
            (goyaml::Shape::Map(pairs), Node::Map(entries)) => {
                self.paths.insert(y, (self.doc, self.path.clone()));
                let mut mine = entries.iter().filter_map(|e| match e {
                    Entry::Pair(p) => Some(&p.value),
                    Entry::Comment(_) => None,
                });
                let mut i = 0;
                for (k, v) in pairs {
                    let (a, b) = self.g.span(k);
                    if root && self.text.get(a..b) == Some("sops") {
                        continue;
                    }
                    let Some(value) = mine.next() else {
                        return false;
                    };
                    self.path.push(i);
                    let ok = self.matches(v, value, false);
                    self.path.pop();
                    if !ok {
                        return false;
                    }
                    i += 1;
                }
                mine.next().is_none()
            }
            (goyaml::Shape::Seq(items), Node::Seq(elements)) => {
                self.paths.insert(y, (self.doc, self.path.clone()));
                let mut mine = elements.iter().filter_map(|e| match e {
                    Item::Node(n) => Some(n),
                    Item::Comment(_) => None,
                });
                for (i, &item) in items.iter().enumerate() {
                    let Some(n) = mine.next() else {
                        return false;
                    };
                    self.path.push(i);
                    let ok = self.matches(item, n, false);
                    self.path.pop();
                    if !ok {
                        return false;
                    }
                }
                mine.next().is_none()
            }
            (goyaml::Shape::Leaf, Node::Scalar(s)) => {
                if let (Some(leaves), Some(span)) = (self.leaves.as_deref_mut(), &s.span) {
                    leaves.insert(y, span.start);
                }
                true
            }
            (goyaml::Shape::Leaf, Node::Alias(_)) => true,
            // An empty document holding only comments (see `document_end`).
            (goyaml::Shape::Leaf, Node::Map(entries)) => {
                root && entries.iter().all(|e| matches!(e, Entry::Comment(_)))
            }
            _ => false,
        }
    }
}

/// The comments of a node (not through aliases) with their collection's
/// path.
fn comments_in(n: &Node, path: &mut Vec<usize>, out: &mut Vec<(Vec<usize>, Span)>) {
    let elements: Vec<(Option<&Node>, Option<&Comment>)> = match n {
        Node::Map(entries) => entries
            .iter()
            .map(|e| match e {
                Entry::Pair(p) => (Some(&p.value), None),
                Entry::Comment(c) => (None, Some(c)),
            })
            .collect(),
        Node::Seq(items) => items
            .iter()
            .map(|e| match e {
                Item::Node(n) => (Some(n), None),
                Item::Comment(c) => (None, Some(c)),
            })
            .collect(),
        _ => return,
    };
    let mut i = 0;
    for (child, comment) in elements {
        if let Some(span) = comment.and_then(|c| c.span.clone()) {
            out.push((path.clone(), span));
        }
        if let Some(child) = child {
            path.push(i);
            comments_in(child, path, out);
            path.pop();
            i += 1;
        }
    }
}

/// The `i`-th entry's value or item of a collection (comments not counted).
fn child(n: &Node, i: usize) -> Option<&Node> {
    match n {
        Node::Map(entries) => entries
            .iter()
            .filter_map(|e| match e {
                Entry::Pair(p) => Some(&p.value),
                Entry::Comment(_) => None,
            })
            .nth(i),
        Node::Seq(items) => items
            .iter()
            .filter_map(|e| match e {
                Item::Node(n) => Some(n),
                Item::Comment(_) => None,
            })
            .nth(i),
        _ => None,
    }
}

/// The keys along `path`: what the additional authenticated data of a
/// comment in that collection is made of.
fn keys<'n>(mut n: &'n Node, path: &[usize]) -> Option<Vec<&'n str>> {
    let mut out = Vec::new();
    for &i in path {
        if let Node::Map(entries) = n {
            let key = entries
                .iter()
                .filter_map(|e| match e {
                    Entry::Pair(p) => Some(p.key.as_str()),
                    Entry::Comment(_) => None,
                })
                .nth(i)?;
            out.push(key);
        }
        n = child(n, i)?;
    }
    Some(out)
}

fn node_at<'n>(mut n: &'n mut Node, path: &[usize]) -> Option<&'n mut Node> {
    for &i in path {
        n = match n {
            Node::Map(entries) => entries
                .iter_mut()
                .filter_map(|e| match e {
                    Entry::Pair(p) => Some(&mut p.value),
                    Entry::Comment(_) => None,
                })
                .nth(i)?,
            Node::Seq(items) => items
                .iter_mut()
                .filter_map(|e| match e {
                    Item::Node(n) => Some(n),
                    Item::Comment(_) => None,
                })
                .nth(i)?,
            _ => return None,
        };
    }
    Some(n)
}

fn comment_mut<'n>(n: &'n mut Node, span: &Span) -> Option<&'n mut Comment> {
    let is = |c: &Comment| c.span.as_ref() == Some(span);
    match n {
        Node::Map(entries) => entries.iter_mut().find_map(|e| match e {
            Entry::Comment(c) if is(c) => Some(c),
            _ => None,
        }),
        Node::Seq(items) => items.iter_mut().find_map(|e| match e {
            Item::Comment(c) if is(c) => Some(c),
            _ => None,
        }),
        _ => None,
    }
}

fn take_comment(n: &mut Node, span: &Span) -> Option<Comment> {
    let is = |c: &Comment| c.span.as_ref() == Some(span);
    match n {
        Node::Map(entries) => {
            let i = entries
                .iter()
                .position(|e| matches!(e, Entry::Comment(c) if is(c)))?;
            match entries.remove(i) {
                Entry::Comment(c) => Some(c),
                Entry::Pair(_) => None,
            }
        }
        Node::Seq(items) => {
            let i = items
                .iter()
                .position(|e| matches!(e, Item::Comment(c) if is(c)))?;
            match items.remove(i) {
                Item::Comment(c) => Some(c),
                Item::Node(_) => None,
            }
        }
        _ => None,
    }
}

/// Where a node's text starts, as far as its spans tell.
fn first_offset(n: &Node) -> Option<usize> {
    match n {
        Node::Scalar(s) => s.span.as_ref().map(|s| s.start),
        Node::Map(entries) => entries.iter().find_map(|e| match e {
            Entry::Pair(p) => first_offset(&p.value),
            Entry::Comment(c) => c.span.as_ref().map(|s| s.start),
        }),
        Node::Seq(items) => items.iter().find_map(|e| match e {
            Item::Node(n) => first_offset(n),
            Item::Comment(c) => c.span.as_ref().map(|s| s.start),
        }),
        Node::Alias(_) => None,
    }
}

/// Insert a comment into a collection in source order.
fn put_comment(n: &mut Node, c: Comment) {
    let at = c.span.as_ref().map_or(usize::MAX, |s| s.start);
    match n {
        Node::Map(entries) => {
            let i = entries
                .iter()
                .position(|e| {
                    let o = match e {
                        Entry::Pair(p) => first_offset(&p.value),
                        Entry::Comment(c) => c.span.as_ref().map(|s| s.start),
                    };
                    o.is_some_and(|o| o > at)
                })
                .unwrap_or(entries.len());
            entries.insert(i, Entry::Comment(c));
        }
        Node::Seq(items) => {
            let i = items
                .iter()
                .position(|e| {
                    let o = match e {
                        Item::Node(n) => first_offset(n),
                        Item::Comment(c) => c.span.as_ref().map(|s| s.start),
                    };
                    o.is_some_and(|o| o > at)
                })
                .unwrap_or(items.len());
            items.insert(i, Item::Comment(c));
        }
        _ => {}
    }
}

#[cfg(test)]
mod plain_tests {
    use super::plain_comment;

    /// Which comments are read without go-yaml's pass: after a scalar, or
    /// directly above a key at their own column.
    #[test]
    fn plain_comments_are_told_apart() {
        let at = |src: &str, nth: usize| {
            let hash = src.match_indices('#').nth(nth).map(|(i, _)| i).unwrap_or(0);
            plain_comment(src, hash)
        };
        assert!(at("a: 1 # c\n", 0));
        assert!(at("# c\na: 1\n", 0));
        assert!(at("a:\n  # c\n  # d\n  b: 1\n", 0));
        assert!(at("a:\n  b: 1\n# c\nd: 2\n", 0));
        // Not plain: after `key:`, after `- `, a blank line after, another
        // column, before an item, at the end, a tab.
        assert!(!at("a: # c\n  b: 1\n", 0));
        assert!(!at("l:\n  - # c\n    b: 1\n", 0));
        assert!(!at("# c\n\na: 1\n", 0));
        assert!(!at("a:\n  b: 1\n  # c\nd: 2\n", 0));
        assert!(!at("l:\n  # c\n  - 1\n", 0));
        assert!(!at("a: 1\n# c\n", 0));
        assert!(!at("a: 1\n# c\n  # d\nb: 2\n", 0));
        assert!(!at("a: [1] # c\n", 0));
        assert!(!at("a: |\t# c\n", 0));
    }
}
