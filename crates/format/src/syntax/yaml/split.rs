//! Parsing a large YAML document in two halves at once.
//!
//! granit parses on one core, and for a large file it is most of the work.
//! A single block-mapping document can be cut before a top-level key: the
//! two halves are documents of their own, parsed on two threads, and their
//! trees joined. The result must be exactly what one parse gives, so the
//! cut is only made where nothing carries over it:
//!
//! * one document, no directives, no `---`/`...` markers, starting with a
//!   top-level key at column 0;
//! * the cut line is a plain top-level key (`name:` at column 0), or the
//!   first of comment lines at column 0 right above one (no blank line
//!   between: they are that key's head comments), or the first of blank
//!   lines before either, unless a block scalar is open above them (they
//!   may be its content); and the line before it is content, not a comment
//!   or a blank line (no comment waits to be attached across the cut);
//! * both halves parse, each as one block mapping at indentation 0; no
//!   aliases (an alias could refer across the cut, and the alias budget is
//!   per parse); the metadata, if any, is in the second half.
//!
//! Anything else parses whole (which also gives errors their positions).
//! The tests compare the joined result with one parse at every cut point.

use super::parse::{layout_marks, parse_whole, DocLayout, Output, Root};
use super::text::line_break_style;
use crate::syntax::{ParseError, Parsed, SopsRefusal};
use crate::tree::{Entry, Item, Node, Tree};

/// Documents smaller than this parse whole (a thread costs more than the
/// half parse saves).
const MIN_SPLIT: usize = 256 * 1024;

/// Parse `src` (see [`super::parse::parse_with`]), in two halves when it is
/// large and can be cut.
pub(crate) fn parse(src: &str, lean: bool) -> Result<Output, ParseError> {
    if src.len() >= MIN_SPLIT {
        if let Some(out) = cut_point(src, src.len() / 2).and_then(|at| parse_at(src, at, lean)) {
            return Ok(out);
        }
    }
    parse_whole(src, lean)
}

/// Whether `line` starts a plain top-level key: `name:` at column 0.
fn is_key_line(line: &str) -> bool {
    let starts_plain = line
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    let key_end = line.find(':');
    starts_plain
        && key_end.is_some_and(|i| {
            let rest = line.get(i + 1..).unwrap_or("");
            rest.is_empty() || rest.starts_with([' ', '\r', '\n'])
        })
}

/// A line that is neither blank nor only a comment.
fn is_content(line: &str) -> bool {
    let t = line.trim_start_matches([' ', '\t']);
    !(t.is_empty() || t.starts_with(['#', '\r', '\n']))
}

/// A line ending in a block scalar header (`key: |`, `- >-`, `|2+ # c`):
/// the scalar's content starts on the next line, so a cut there would end
/// it at the end of the text instead (an empty block scalar's span would
/// differ).
fn ends_in_block_header(line: &str) -> bool {
    let code = match line.find(" #") {
        Some(i) => line.get(..i).unwrap_or(line),
        None => line,
    };
    code.split_whitespace().last().is_some_and(|t| {
        t.starts_with(['|', '>'])
            && t.chars()
                .skip(1)
                .all(|c| c.is_ascii_digit() || c == '+' || c == '-')
    })
}

/// The start of a line at or after byte `near` where the document may be
/// cut (see the module docs), if the document allows a cut at all.
fn cut_point(src: &str, near: usize) -> Option<usize> {
    let body = src.strip_prefix('\u{feff}').unwrap_or(src);
    let first = body.lines().find(|l| is_content(l))?;
    if !is_key_line(first) || body.starts_with('%') {
        return None;
    }
    // One document: no marker line anywhere (a fast substring search).
    let marker = ["---", "..."]
        .iter()
        .any(|m| body.starts_with(m) || body.contains(&format!("\n{m}")));
    if marker {
        return None;
    }
    let mut pos = src.get(near..)?.find('\n')? + near + 1;
    while pos < src.len() {
        let line_end = src
            .get(pos..)?
            .find('\n')
            .map_or(src.len(), |i| pos + i + 1);
        if may_cut(src.get(..pos)?, src.get(pos..)?) {
            return Some(pos);
        }
        pos = line_end;
    }
    None
}

/// Comment and blank lines looked past for the key line below them.
const MAX_HEAD_COMMENTS: usize = 32;

/// Whether the document may be cut between the text `before` (from the
/// start of the document or of a window, which is cut before a top-level
/// entry) and the text `rest` that follows it (see the module docs). Only
/// the whole lines of `rest` are read.
pub(super) fn may_cut(before: &str, rest: &str) -> bool {
    cut_here(before, rest) == Some(true)
}

/// [`may_cut`], or `None` if `rest` ends (or has a line without its line
/// break) before the key line is found or refused: a reader of the text a
/// piece at a time reads more and asks again.
pub(super) fn cut_here(before: &str, rest: &str) -> Option<bool> {
    let prev = last_line(before);
    if !is_content(prev) || ends_in_block_header(prev) {
        return Some(false);
    }
    // Blank lines, then comment lines at column 0, then the key line.
    let (mut blanks, mut comments) = (false, false);
    let mut lines = rest.split_inclusive('\n');
    for line in lines.by_ref().take(MAX_HEAD_COMMENTS + 1) {
        if !line.ends_with('\n') {
            return None;
        }
        if line.starts_with('#') {
            comments = true;
        } else if !comments && is_blank(line) {
            blanks = true;
        } else {
            // Blank lines after the content of a block scalar may be its
            // own (`|+` keeps them): no cut before them then.
            return Some(is_key_line(line) && !(blanks && open_block_scalar(before)));
        }
    }
    // More comment lines than are looked past: no cut; else read more.
    lines.next().map(|_| false)
}

/// The last line of `text`, without its line break.
fn last_line(text: &str) -> &str {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let body = body.strip_suffix('\r').unwrap_or(body);
    body.rfind('\n')
        .map_or(body, |i| body.get(i + 1..).unwrap_or(""))
}

/// A line of spaces and tabs only.
fn is_blank(line: &str) -> bool {
    line.trim_start_matches([' ', '\t', '\r', '\n']).is_empty()
}

/// Whether a block scalar is still open at the end of `before`: one whose
/// header is in the top-level entry `before` ends in, and no line since is
/// as little indented as the header's line. Also when `before` holds no
/// line of content at column 0 (it starts inside that entry: a header may
/// be before it). Conservative: a header that is not recognized as one
/// leaves a cut that parses differently, which the callers' checks catch;
/// one that is, never.
fn open_block_scalar(before: &str) -> bool {
    // The entry's first line: the last one at column 0 that is content,
    // found from the end (the split parse asks with the whole first half).
    let mut end = before.len();
    let start = loop {
        if end == 0 {
            return true;
        }
        let start = before
            .get(..end - 1)
            .and_then(|b| b.rfind('\n'))
            .map_or(0, |i| i + 1);
        let line = before.get(start..end).unwrap_or("");
        if is_content(line) && !line.starts_with([' ', '\t']) {
            break start;
        }
        end = start;
    };
    let mut open: Option<usize> = None;
    for line in before.get(start..).unwrap_or("").split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(parent) = open {
            if is_blank(line) || indent > parent {
                continue;
            }
            open = None;
        }
        if ends_in_block_header(line.trim_end_matches(['\r', '\n'])) {
            open = Some(indent);
        }
    }
    open.is_some()
}

/// A window of a document cut where [`may_cut`] allows (see
/// [`super::parse_window`]): its lean parse, if it is one plain block
/// mapping at indentation 0 without aliases and without any marker or
/// directive line.
pub(super) fn window(src: &str) -> Option<Parsed> {
    let body = src.strip_prefix('\u{feff}').unwrap_or(src);
    let marker = ["---", "...", "%"]
        .iter()
        .any(|m| body.starts_with(m) || body.contains(&format!("\n{m}")));
    if marker {
        return None;
    }
    let first = body.lines().find(|l| is_content(l))?;
    if !is_key_line(first) {
        return None;
    }
    let (entries, _, mut parsed) = block_map(parse_whole(src, true).ok()?)?;
    // A window with no data key reads as `{}`: only the whole file can
    // tell whether it is.
    if !parsed.metadata_fill.is_empty() {
        return None;
    }
    parsed.tree.docs = vec![Node::Map(entries)];
    Some(parsed)
}

/// Parse `src[..at]` and `src[at..]` on two threads and join them; `None`
/// when either half is not a plain block mapping (the caller parses whole).
fn parse_at(src: &str, at: usize, lean: bool) -> Option<Output> {
    let (head, tail) = (src.get(..at)?, src.get(at..)?);
    let spread = crate::cores::Spread::here();
    let (first, second) = std::thread::scope(|s| {
        let second = spread.spawn(s, 1, || parse_whole(tail, lean));
        spread.started();
        let first = parse_whole(head, lean);
        (first, second.join())
    });
    let (first, second) = (first.ok()?, second.ok()?.ok()?);
    join(src, at, first, second)
}

/// One block mapping at indentation 0, without aliases: its entries and
/// layout.
fn block_map(out: Output) -> Option<(Vec<Entry>, DocLayout, Parsed)> {
    // One document holds one block (the parse refuses a second), so
    // `more_metadata` is empty here.
    let Output {
        mut parsed,
        mut layouts,
        ..
    } = out;
    if layouts.len() != 1 || parsed.tree.docs.len() != 1 {
        return None;
    }
    let layout = layouts.pop()?;
    if layout.root != (Root::BlockMap { indent: 0 }) {
        return None;
    }
    let Some(Node::Map(entries)) = parsed.tree.docs.pop() else {
        return None;
    };
    if entries
        .iter()
        .any(|e| matches!(e, Entry::Pair(p) if has_alias(&p.value)))
    {
        return None;
    }
    Some((entries, layout, parsed))
}

fn join(src: &str, at: usize, first: Output, second: Output) -> Option<Output> {
    let (mut entries, head, head_parsed) = block_map(first)?;
    let (mut rest, tail, tail_parsed) = block_map(second)?;
    if head_parsed.metadata.is_some() {
        return None;
    }
    for e in &mut rest {
        shift_entry(e, at);
    }
    entries.append(&mut rest);
    let end = tail.end + at;
    let layout = DocLayout {
        root: head.root,
        end,
        start: head.start,
        lb: line_break_style(src, head.start, end),
        has_meta: head.has_meta || tail.has_meta,
    };
    // A window that holds no data key: the whole parse decides how its
    // metadata reads (`{}`, see `parse::empty_map_fill`).
    if !entries.iter().any(|e| matches!(e, Entry::Pair(_))) {
        return None;
    }
    let mut metadata = tail_parsed.metadata;
    if let Some(m) = metadata.as_mut() {
        shift(m, at);
    }
    let layouts = vec![layout];
    Some(Output {
        parsed: Parsed {
            tree: Tree::new(vec![Node::Map(entries)]),
            metadata,
            metadata_spans: tail_parsed
                .metadata_spans
                .iter()
                .map(|s| s.start + at..s.end + at)
                .collect(),
            metadata_fill: Vec::new(),
            marks: layout_marks(src.len(), &layouts),
            non_string_key: head_parsed
                .non_string_key
                .or(tail_parsed.non_string_key.map(|k| k + at)),
            // The first, but a uint64 value only if go-yaml reads the
            // rest (see `Builder::may_refuse`).
            sops_unreadable: match (
                head_parsed.sops_unreadable,
                tail_parsed.sops_unreadable.map(|(k, what)| (k + at, what)),
            ) {
                (Some((_, SopsRefusal::Uint64)), Some(tail)) if tail.1 != SopsRefusal::Uint64 => {
                    Some(tail)
                }
                (head, tail) => head.or(tail),
            },
            tags_before_anchors: head_parsed
                .tags_before_anchors
                .iter()
                .copied()
                .chain(
                    tail_parsed
                        .tags_before_anchors
                        .iter()
                        .map(|&(t, v)| (t + at, v + at)),
                )
                .collect(),
        },
        layouts,
        more_metadata: Vec::new(),
    })
}

fn has_alias(node: &Node) -> bool {
    match node {
        Node::Alias(_) => true,
        Node::Map(entries) => entries
            .iter()
            .any(|e| matches!(e, Entry::Pair(p) if has_alias(&p.value))),
        Node::Seq(items) => items
            .iter()
            .any(|i| matches!(i, Item::Node(n) if has_alias(n))),
        Node::Scalar(_) => false,
    }
}

fn shift_entry(entry: &mut Entry, by: usize) {
    match entry {
        Entry::Pair(p) => shift(&mut p.value, by),
        Entry::Comment(c) => {
            if let Some(s) = c.span.as_mut() {
                *s = s.start + by..s.end + by;
            }
        }
    }
}

/// Move every span in `node` by `by` bytes.
fn shift(node: &mut Node, by: usize) {
    match node {
        Node::Scalar(s) => {
            if let Some(span) = s.span.as_mut() {
                *span = span.start + by..span.end + by;
            }
        }
        Node::Map(entries) => entries.iter_mut().for_each(|e| shift_entry(e, by)),
        Node::Seq(items) => {
            for item in items {
                match item {
                    Item::Node(n) => shift(n, by),
                    Item::Comment(c) => {
                        if let Some(s) = c.span.as_mut() {
                            *s = s.start + by..s.end + by;
                        }
                    }
                }
            }
        }
        Node::Alias(inner) => shift(inner, by),
    }
}

/// The joined parse equals one parse (tree, metadata, spans, marks,
/// layouts), at every line where a cut is allowed; how many cuts were
/// joined. Panics otherwise. For tests only.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
pub(super) fn check_every_cut(src: &str) -> usize {
    let (Ok(whole), Ok(lean)) = (parse_whole(src, false), parse_whole(src, true)) else {
        return 0;
    };
    let mut cuts = 0;
    let mut near = 0;
    while let Some(at) = cut_point(src, near) {
        for (lean_mode, expected) in [(false, &whole), (true, &lean)] {
            if let Some(out) = parse_at(src, at, lean_mode) {
                assert!(
                    same_docs(&out.parsed.tree.docs, &expected.parsed.tree.docs),
                    "tree, cut at {at}: {src:?}"
                );
                assert!(
                    match (&out.parsed.metadata, &expected.parsed.metadata) {
                        (Some(a), Some(b)) => same(a, b),
                        (a, b) => a.is_none() && b.is_none(),
                    },
                    "metadata at {at}"
                );
                assert_eq!(out.parsed.metadata_spans, expected.parsed.metadata_spans);
                assert_eq!(out.parsed.marks, expected.parsed.marks, "marks at {at}");
                assert_eq!(out.layouts, expected.layouts, "layouts at {at}");
                cuts += 1;
            }
        }
        near = at;
    }
    cuts
}

/// Tree equality where NaN equals NaN (`.nan` parses to one).
#[cfg(test)]
fn same(a: &Node, b: &Node) -> bool {
    use crate::tree::Value;
    match (a, b) {
        (Node::Scalar(x), Node::Scalar(y)) => {
            let value = match (&x.value, &y.value) {
                (Value::Float(p), Value::Float(q)) => p == q || (p.is_nan() && q.is_nan()),
                (p, q) => p == q,
            };
            value && x.span == y.span && x.slot == y.slot
        }
        (Node::Map(x), Node::Map(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|pair| match pair {
                    (Entry::Pair(p), Entry::Pair(q)) => p.key == q.key && same(&p.value, &q.value),
                    (Entry::Comment(c), Entry::Comment(d)) => c == d,
                    _ => false,
                })
        }
        (Node::Seq(x), Node::Seq(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|pair| match pair {
                    (Item::Node(p), Item::Node(q)) => same(p, q),
                    (Item::Comment(c), Item::Comment(d)) => c == d,
                    _ => false,
                })
        }
        (Node::Alias(x), Node::Alias(y)) => same(x, y),
        _ => false,
    }
}

#[cfg(test)]
fn same_docs(a: &[Node], b: &[Node]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_parse_equals_one_parse_at_every_cut() {
        let docs = [
            "a: 1\nb: two\nc:\n  d: 3 # inline\n  e: [1, 2]\nf: 'q'\n",
            "# head\na: 1\n\nb:\n  - x\n  - y: 1\n    z: 2\nc: |\n  block\n  text\nd: >-\n  folded\ne: \"s\"\n",
            "a: 1\r\nb: 2\r\nc:\r\n  # inner\r\n  d: 3\r\ne: 4\r\n",
            "a: 1\nb: 2\n# between\nc: 3\nd:\n  e: f\n# trailing\n",
            "a: 1\nb: {x: 1, y: [2, 3]}\nc: !!str 4\nd: 2024-01-02\ne: ~\nf:\ng: ''\n",
            "\u{feff}a: 1\nb: 2\nc: 3",
            "a: &x 1\nb: *x\nc: 2\n",
            "a: 1\nb: \"multi\n  line\"\nc: plain\n  continued\nd: 4\n",
            "a: |\nb: >-\nc: |2+ # header\nd: x\ne:\n  - |\nf: 1\n",
            "z: 0\n? a\nb: 1\nc:\nd: !!null\ne: &x\nf: !tag\ng: 'x' # c\nh:\n  -\ni: 2\n",
            "a:\n  b:\n    c:\nd: 1\ne: \"x\"\nf: -1\n",
            "a: &anchor\n  x: 1\nb: 2\nc:\n  <<: *anchor\n",
            "a: 1 # c\nb: [1,\n  2]\nc: {x: 1,\n  y: 2}\nd: 'q\n  r'\ne: 5\n",
            "a: 1\nsops:\n    age: []\n    lastmodified: \"2026-01-01T00:00:00Z\"\n    mac: x\n    version: 3.11.0\n",
            // Comments right above keys, after nested blocks and scalars.
            "# s0\na:\n    x: 1  # n\n    y: 2\n# s1\nb:\n    x: 3\n# s2\n# more\nc: 4\n#s3\nd:\n  - 1\n  # in\n  - 2\n# s4\ne: |\n  t\n# s5\nf: 5\n",
            "a: 1\r\n# c\r\nb: 2\r\n#\r\nc:\r\n  d: 1\r\n# e\r\ne: 3\r\n",
            "a:\n  b: 1\n# foot?\n\n# head\nc: 2\n# last\nd: 3\n# trailing\n",
            // Blank lines between the top-level entries.
            "a:\n  x: 1\n\nb:\n  - 1\n\n\n# c\nc: |\n  t\n\nd: 'x'\n\n# e\n\ne: 1\n\n",
            "a: 1\r\n\r\nb:\r\n  c: 2\r\n\r\n# d\r\nd: 3\r\n",
            "a:\n  b: |+\n    k\n\n  c: 1\n\nd: >-\n  f\n\n\ne: 1\n",
        ];
        let mut cuts = 0;
        for doc in docs {
            let n = check_every_cut(doc);
            // Every document but the one with an alias is cut somewhere.
            assert!(n > 0 || doc.contains('*'), "never cut: {doc:?}");
            cuts += n;
        }
        assert!(cuts > 20, "only {cuts} cuts tried");
    }

    /// Cuts before the comments right above a key join as one parse.
    #[test]
    fn cuts_before_head_comments_join() {
        let doc = "# s0\na:\n    x: 1  # n\n# s1\nb:\n    x: 3\n# s2\n# more\nc: 4\n";
        assert_eq!(cut_point(doc, 0), Some(22));
        assert_eq!(cut_point(doc, 23), Some(39));
        // Both cuts, each in the lean and the full parse.
        assert_eq!(check_every_cut(doc), 4);
    }

    /// Every YAML fixture of the project, cut everywhere it can be.
    #[test]
    fn fixtures_join_as_they_parse() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
        let mut files = 0;
        for dir in ["yaml", "sops/plain", "sops/enc", "sops/expected"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
                if let (true, Ok(src)) = (yaml, std::fs::read_to_string(&path)) {
                    check_every_cut(&src);
                    files += 1;
                }
            }
        }
        assert!(files > 10, "only {files} fixtures");
    }

    #[test]
    fn documents_that_cannot_be_cut() {
        for doc in [
            "a: 1\n---\nb: 2\n",
            "%YAML 1.2\n---\na: 1\nb: 2\n",
            "- a\n- b\n",
            "{a: 1,\nb: 2}\n",
            "a: 1\n...\n",
        ] {
            assert_eq!(cut_point(doc, 0), None, "{doc:?}");
        }
        // A blank line between the comments and the key line (they are
        // foot comments of what comes before), blank lines after the
        // content of a block scalar (a `|+` one keeps them), or a comment
        // that is not at column 0: no cut there.
        assert_eq!(cut_point("a: 1\n# c\n\nb: 2\n", 0), None);
        assert_eq!(cut_point("a: 1\n# c\n\n# d\nb: 2\n", 0), None);
        assert_eq!(cut_point("a: |\n  x\n\nb: 2\n", 0), None);
        assert_eq!(cut_point("a:\n  b: >+\n    x\n\n\nc: 2\n", 0), None);
        assert_eq!(cut_point("a:\n  x: 1\n  # c\nb: 2\n", 0), None);
        assert_eq!(cut_point("a: 1\n# c\nb", 0), None);
        assert_eq!(cut_point("a: |+\n  x\n\nb: 2\n", 0), None);
        // Blank lines after other content, before a key or its comments.
        assert_eq!(cut_point("a: 1\n\nb: 2\n", 0), Some(5));
        assert_eq!(cut_point("a: 1\n\n \n# c\nb: 2\n", 0), Some(5));
        assert_eq!(cut_point("a: |\n  x\nb: 1\n\nc: 2\n", 10), Some(14));
        assert_eq!(
            cut_point("a:\n  b: |\n    x\n  c: 1\n\nd: 2\n", 0),
            Some(23)
        );
        assert_eq!(cut_point("a: 1\nb: 2\n", 0), Some(5));
        // Before the comments right above a key.
        assert_eq!(cut_point("a: 1\n# c\nb: 2\n", 0), Some(5));
        assert_eq!(cut_point("a: 1\n# c\n# d\nb: 2\n", 0), Some(5));
    }

    /// A large generated document takes the split path and gives the same
    /// parse.
    #[test]
    fn large_documents_split() {
        let mut src = String::from("# settings\n");
        for i in 0..20_000 {
            src.push_str(&format!("svc{i}:\n    key: value {i}\n    n: {i}\n"));
        }
        assert!(src.len() >= MIN_SPLIT);
        let at = cut_point(&src, src.len() / 2).unwrap();
        let split = parse_at(&src, at, false).unwrap();
        let whole = parse_whole(&src, false).unwrap();
        assert!(same_docs(&split.parsed.tree.docs, &whole.parsed.tree.docs));
        assert_eq!(split.parsed.marks, whole.parsed.marks);
        assert!(parse(&src, true).is_ok());
    }
}
