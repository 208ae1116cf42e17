//! Reading a TOML document into the logical [`Tree`], with spans.
//!
//! `toml_edit` does the parsing and gives each key, value and table header
//! its span; this module orders the entries of every logical table by
//! position, attaches the comments ([`lex::comments`]) to their container,
//! and splits off the `[sops]` table.

use std::collections::HashMap;

use super::tables::{self, Sections};
use super::{lex, scalar};
use crate::syntax::{ParseError, Parsed};
use crate::tree::{Attach, Comment, Entry, Item, Node, Pair, Scalar, Slot, Span, Tree};
use crate::wipe::SecretText;
use toml_edit::{Document, Table, Value};
use zeroize::Zeroizing;

/// The message `toml_edit` gives for an integer beyond `i64`.
const OVERFLOW: &str = "integer number overflowed";

/// Parse `src`; see the [module docs](super).
pub(super) fn parse(src: &str) -> Result<Parsed, ParseError> {
    let (doc, big) = parse_document(src)?;
    build(src, &doc, big)
}

/// [`parse`], and what the text defines (see [`tables`]); `None` if it
/// does not parse or its sections cannot be listed.
pub(super) fn parse_window(src: &str) -> Option<(Parsed, Sections)> {
    let (doc, big) = parse_document(src).ok()?;
    let sections = tables::sections(doc.as_table())?;
    Some((build(src, &doc, big).ok()?, sections))
}

fn build(src: &str, doc: &Document<SecretText>, big: BigInts) -> Result<Parsed, ParseError> {
    let root = doc.as_table();
    let mut headers = Vec::new();
    let mut inlines = Vec::new();
    collect_table(root, &mut headers, &mut inlines);
    headers.sort_unstable();

    let sops = sops_region(src, root, &headers)?;
    let owners = comment_owners(src, &headers, &inlines, sops.as_ref());
    let builder = Builder { src, big, owners };
    let Node::Map(mut entries) = builder.table(root, Some(Owner::Section(None))) else {
        return Ok(Parsed::default());
    };
    let mut parsed = Parsed::default();
    if let Some(region) = sops {
        let at = entries
            .iter()
            .position(|e| matches!(e, Entry::Pair(p) if p.key == "sops"));
        if let Some(Entry::Pair(pair)) = at.map(|i| entries.remove(i)) {
            let mut meta = pair.value;
            crate::syntax::meta_order::canonical(&mut meta);
            parsed.metadata = Some(meta);
            parsed.metadata_spans = vec![region.remove];
        }
    }
    parsed.tree = Tree::new(vec![Node::Map(entries)]);
    Ok(parsed)
}

/// Integers beyond `i64`: their spans and values.
type BigInts = Vec<(Span, f64)>;

/// Parse with `toml_edit`. Integers beyond `i64` (which it rejects) are
/// masked with a float lexeme of the same length and re-read as floats:
/// returned with their spans. The document keeps its own copy of the text
/// (plaintext, when it is a document to encrypt): wiped when dropped (see
/// [`SecretText`]).
fn parse_document(src: &str) -> Result<(Document<SecretText>, BigInts), ParseError> {
    let mut work: Option<Zeroizing<String>> = None;
    let mut big = Vec::new();
    loop {
        // The text as masked so far (a copy only once something is masked:
        // a failed parse does not give its text back).
        let text = SecretText::from(work.as_deref().map_or(src, String::as_str).to_string());
        let err = match Document::parse(text) {
            Ok(doc) => return Ok((doc, big)),
            Err(err) => err,
        };
        let work = work.get_or_insert_with(|| Zeroizing::new(src.to_string()));
        let span = err.span().unwrap_or(0..0);
        if err.message() == OVERFLOW && span.len() >= 3 {
            let value = src.get(span.clone()).and_then(scalar::big_int);
            if let (Some(value), true) = (value, work.get(span.clone()).is_some()) {
                // `0e000…` is a float of any length >= 3.
                let filler = format!("0e{}", "0".repeat(span.len() - 2));
                work.replace_range(span.clone(), &filler);
                big.push((span, value));
                continue;
            }
        }
        let message = err.message().lines().next().unwrap_or("invalid TOML");
        return Err(ParseError::at(src, span.start, message));
    }
}

/// Where the `[sops]` metadata sits.
struct SopsRegion {
    /// Line start of its first header; comments before it are data.
    start: usize,
    /// The bytes to delete: from the line ending before `start` to the end.
    remove: Span,
}

/// Locate the top-level `sops` table: it must be written with `[sops…]`
/// headers after every other table, as [`super::write::insert_metadata`]
/// does, so that removing it is exact.
fn sops_region(
    src: &str,
    root: &Table,
    headers: &[usize],
) -> Result<Option<SopsRegion>, ParseError> {
    let Some(item) = root.get("sops") else {
        return Ok(None);
    };
    let key_at = root
        .key("sops")
        .and_then(|k| k.span())
        .map_or(0, |s| s.start);
    let misplaced = || {
        ParseError::at(
            src,
            key_at,
            "the sops metadata must be a [sops] table at the end of the file",
        )
    };
    let mut own = Vec::new();
    let mut inlines = Vec::new();
    match item {
        toml_edit::Item::Table(t) if !t.is_dotted() => {
            if is_header(t) {
                own.extend(t.span().map(|s| s.start));
            }
            collect_table(t, &mut own, &mut inlines);
        }
        toml_edit::Item::ArrayOfTables(_) => return Err(misplaced()),
        _ => return Err(misplaced()),
    }
    let Some(&first) = own.iter().min() else {
        return Err(misplaced());
    };
    if headers.iter().any(|h| *h > first && !own.contains(h)) {
        return Err(misplaced());
    }
    let start = lex::line_start(src, first);
    let before = src.get(..start).unwrap_or("");
    let cut = if before.ends_with("\r\n") {
        start - 2
    } else if before.ends_with('\n') {
        start - 1
    } else {
        start
    };
    Ok(Some(SopsRegion {
        start,
        remove: cut..src.len(),
    }))
}

/// What a comment belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Owner {
    /// The array or inline table starting at this offset.
    Inline(usize),
    /// The section of the header starting at this offset (`None`: the root,
    /// before the first header).
    Section(Option<usize>),
}

/// Assign every comment to its owner. `headers` is sorted.
fn comment_owners(
    src: &str,
    headers: &[usize],
    inlines: &[Span],
    sops: Option<&SopsRegion>,
) -> HashMap<Owner, Vec<Span>> {
    let mut owners: HashMap<Owner, Vec<Span>> = HashMap::new();
    for text in lex::comments(src) {
        let hash = text.start.saturating_sub(1);
        let inline = inlines
            .iter()
            .filter(|s| s.start < hash && hash < s.end)
            .map(|s| s.start)
            .max();
        let owner = match inline {
            Some(start) => Owner::Inline(start),
            None => {
                let current = headers.iter().rev().find(|h| **h <= hash).copied();
                let next = headers.iter().find(|h| **h > hash).copied();
                let attracted = next.filter(|&n| {
                    sops.is_none_or(|r| n < r.start)
                        && lex::starts_line(src, hash)
                        && lex::only_trivia(src, text.end, n)
                });
                Owner::Section(attracted.or(current))
            }
        };
        owners.entry(owner).or_default().push(text);
    }
    owners
}

/// Whether a table is written with its own `[header]` (or is an element
/// of an array of tables), as opposed to implicit or dotted tables.
fn is_header(t: &Table) -> bool {
    !t.is_dotted() && !t.is_implicit() && t.position().is_some() && t.span().is_some()
}

/// Gather the header offsets of the tables below `t`, and the spans of all
/// arrays and inline tables (the containers that own their comments).
fn collect_table(t: &Table, headers: &mut Vec<usize>, inlines: &mut Vec<Span>) {
    for (_, item) in t.iter() {
        match item {
            toml_edit::Item::Value(v) => collect_value(v, inlines),
            toml_edit::Item::Table(sub) => {
                if is_header(sub) {
                    headers.extend(sub.span().map(|s| s.start));
                }
                collect_table(sub, headers, inlines);
            }
            toml_edit::Item::ArrayOfTables(aot) => {
                for sub in aot.iter() {
                    headers.extend(sub.span().map(|s| s.start));
                    collect_table(sub, headers, inlines);
                }
            }
            toml_edit::Item::None => {}
        }
    }
}

fn collect_value(v: &Value, inlines: &mut Vec<Span>) {
    match v {
        Value::Array(a) => {
            inlines.extend(a.span());
            for x in a.iter() {
                collect_value(x, inlines);
            }
        }
        Value::InlineTable(t) => {
            if !t.is_dotted() {
                inlines.extend(t.span());
            }
            for (_, x) in t.iter() {
                collect_value(x, inlines);
            }
        }
        _ => {}
    }
}

/// Builds [`Node`]s from `toml_edit` items.
struct Builder<'a> {
    src: &'a str,
    /// Spans of integers beyond `i64`, masked as floats, with their values.
    big: BigInts,
    owners: HashMap<Owner, Vec<Span>>,
}

/// A map entry or sequence item with its source position.
type Placed<T> = (usize, T);

impl Builder<'_> {
    /// A table (header, implicit or dotted) as a map. `owner`: whose
    /// comments it holds, if it is a section's table.
    fn table(&self, t: &Table, owner: Option<Owner>) -> Node {
        self.placed_table(t, owner).1
    }

    /// A table as a map, with the position of its first appearance in the
    /// source (its header, or its earliest entry: `[a.b]` before `[a]`).
    fn placed_table(&self, t: &Table, owner: Option<Owner>) -> Placed<Node> {
        let mut entries: Vec<Placed<Entry>> = Vec::new();
        for (key, item) in t.iter() {
            let key_at = t.key(key).and_then(|k| k.span()).map(|s| s.start);
            let (at, value) = match item {
                toml_edit::Item::None => continue,
                toml_edit::Item::Value(v) => (key_at.or(v.span().map(|s| s.start)), self.value(v)),
                toml_edit::Item::Table(sub) => {
                    let header = is_header(sub).then(|| sub.span()).flatten();
                    let own = header.as_ref().map(|s| s.start).or(key_at);
                    let owner = header.map(|s| Owner::Section(Some(s.start)));
                    let (first, node) = self.placed_table(sub, owner);
                    (own.map_or(first, |o| o.min(first)).into(), node)
                }
                toml_edit::Item::ArrayOfTables(aot) => {
                    let items = aot
                        .iter()
                        .map(|sub| {
                            let owner = sub.span().map(|s| Owner::Section(Some(s.start)));
                            Item::Node(self.table(sub, owner))
                        })
                        .collect();
                    (aot.span().map(|s| s.start).or(key_at), Node::Seq(items))
                }
            };
            let pair = Entry::Pair(Pair {
                key: key.to_string(),
                value,
            });
            entries.push((at.unwrap_or(usize::MAX), pair));
        }
        entries.extend(self.comments(owner).map(|(at, c)| (at, Entry::Comment(c))));
        entries.sort_by_key(|(at, _)| *at);
        self.line_comments(&mut entries, entry_comment);
        let first = entries.first().map_or(usize::MAX, |(at, _)| *at);
        let node = Node::Map(entries.into_iter().map(|(_, e)| e).collect());
        (first, node)
    }

    /// A value: a scalar, or an array / inline table with its comments.
    fn value(&self, v: &Value) -> Node {
        match v {
            Value::Array(a) => {
                let mut items: Vec<Placed<Item>> = a
                    .iter()
                    .map(|x| (x.span().map_or(0, |s| s.start), Item::Node(self.value(x))))
                    .collect();
                let owner = a.span().map(|s| Owner::Inline(s.start));
                items.extend(self.comments(owner).map(|(at, c)| (at, Item::Comment(c))));
                items.sort_by_key(|(at, _)| *at);
                self.line_comments(&mut items, item_comment);
                Node::Seq(items.into_iter().map(|(_, i)| i).collect())
            }
            Value::InlineTable(t) => {
                let mut entries: Vec<Placed<Entry>> = t
                    .iter()
                    .map(|(key, x)| {
                        let at = t
                            .key(key)
                            .and_then(|k| k.span())
                            .or(x.span())
                            .map_or(0, |s| s.start);
                        let pair = Entry::Pair(Pair {
                            key: key.to_string(),
                            value: self.value(x),
                        });
                        (at, pair)
                    })
                    .collect();
                let owner = (!t.is_dotted())
                    .then(|| t.span())
                    .flatten()
                    .map(|s| Owner::Inline(s.start));
                entries.extend(self.comments(owner).map(|(at, c)| (at, Entry::Comment(c))));
                entries.sort_by_key(|(at, _)| *at);
                self.line_comments(&mut entries, entry_comment);
                Node::Map(entries.into_iter().map(|(_, e)| e).collect())
            }
            _ => self.scalar(v),
        }
    }

    fn scalar(&self, v: &Value) -> Node {
        let span = v.span();
        let raw = span.clone().and_then(|s| self.src.get(s)).unwrap_or("");
        let big = self
            .big
            .iter()
            .find(|(s, _)| Some(s) == span.as_ref())
            .map(|(_, f)| crate::tree::Value::Float(*f));
        let value = big
            .or_else(|| scalar::scalar_value(v, raw))
            .unwrap_or(crate::tree::Value::Null);
        Node::Scalar(Scalar {
            value,
            span,
            slot: Slot::Quoted,
        })
    }

    /// Mark a comment on the line where the entry before it starts as that
    /// entry's line comment: a marker at the end of `key = value # c`
    /// selects `key`, as in YAML (see [`Attach::Line`]).
    fn line_comments<T>(
        &self,
        placed: &mut [Placed<T>],
        comment: impl Fn(&mut T) -> Option<&mut Comment>,
    ) {
        for i in 1..placed.len() {
            let (before, rest) = placed.split_at_mut(i);
            let (Some((prev_at, prev)), Some((at, this))) = (before.last_mut(), rest.first_mut())
            else {
                continue;
            };
            if comment(prev).is_some() || comment(this).is_none() {
                continue;
            }
            let same_line = self
                .src
                .get(*prev_at..*at)
                .is_some_and(|t| !breaks_outside_strings(t));
            if let (true, Some(c)) = (same_line, comment(this)) {
                c.attach = Attach::Line;
            }
        }
    }

    /// The comments `owner` holds, with their `#` offsets.
    fn comments(&self, owner: Option<Owner>) -> impl Iterator<Item = Placed<Comment>> + '_ {
        owner
            .and_then(|o| self.owners.get(&o))
            .into_iter()
            .flatten()
            .map(|span| {
                let comment = Comment::new(
                    self.src.get(span.clone()).unwrap_or("").to_string(),
                    Some(span.clone()),
                );
                (span.start.saturating_sub(1), comment)
            })
    }
}

/// Whether the TOML text `t` (from an entry's start to a comment's) has a
/// line break outside its multi-line strings: the line of `k = """a\nb"""
/// # c` is the entry's, as it is once the value is sealed (`k =
/// "ENC[…]" # c`), so a comment selector picks the same value in the
/// plaintext and in the encrypted file.
pub(super) fn breaks_outside_strings(t: &str) -> bool {
    let mut rest = t;
    loop {
        // Only this line is searched for a string's quotes.
        let line = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let head = rest.get(..line).unwrap_or_default();
        let quote = ["\"\"\"", "'''"]
            .iter()
            .filter_map(|d| head.find(d).map(|i| (i, *d)))
            .min_by_key(|(i, _)| *i);
        let Some((i, d)) = quote else {
            return line < rest.len();
        };
        let body = rest.get(i + 3..).unwrap_or_default();
        let end = if d == "'''" {
            body.find(d)
        } else {
            // A basic string: `\"` is a quote of the text.
            let mut escaped = false;
            body.char_indices().find_map(|(j, c)| {
                let found = !escaped && body.get(j..).is_some_and(|r| r.starts_with(d));
                escaped = !escaped && c == '\\';
                found.then_some(j)
            })
        };
        rest = match end {
            Some(j) => body.get(j + 3..).unwrap_or_default(),
            // Not a multi-line string (`'"""'`): its quotes are text.
            None => body,
        };
    }
}

fn entry_comment(e: &mut Entry) -> Option<&mut Comment> {
    match e {
        Entry::Comment(c) => Some(c),
        Entry::Pair(_) => None,
    }
}

fn item_comment(i: &mut Item) -> Option<&mut Comment> {
    match i {
        Item::Comment(c) => Some(c),
        Item::Node(_) => None,
    }
}
