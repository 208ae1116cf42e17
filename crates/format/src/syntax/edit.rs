//! What every syntax module's `set_value`/`remove_value` shares: walking a
//! [`PathStep`] path through the parsed tree, building the nodes that a
//! path through missing mappings creates, comparing values, and the error
//! messages (which name the path, never a value).

use super::{EmitError, PathStep, Syntax};
use crate::splice::{splice, Edit};
use crate::tree::{Entry, Item, Node};
use crate::Format;

/// `["a"][0]`, for error messages (keys are not secret; values never appear).
pub fn show(path: &[PathStep]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            PathStep::Key(k) => out.push_str(&format!("[{k:?}]")),
            PathStep::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        out.push_str("the document root");
    }
    out
}

/// The error for a path that needs an empty path (the whole document).
pub(crate) fn empty_path() -> EmitError {
    EmitError("the path is empty: give at least one key or index".into())
}

/// The metadata is not data: paths into it are refused (and a path must
/// name something).
pub(crate) fn check_path(parsed: &super::Parsed, path: &[PathStep]) -> Result<(), EmitError> {
    match path.first() {
        None => Err(empty_path()),
        Some(PathStep::Key(k)) if k == "sops" && parsed.metadata.is_some() => Err(EmitError(
            "the sops metadata cannot be edited with set/unset".into(),
        )),
        _ => Ok(()),
    }
}

/// Whether `path` already holds `value` in the parsed document: a `set`
/// that would change nothing.
pub(crate) fn already_set(parsed: &super::Parsed, path: &[PathStep], value: &Node) -> bool {
    parsed
        .tree
        .docs
        .first()
        .and_then(|d| lookup(d, path))
        .is_some_and(|old| same(old, value))
}

/// The error for an index beyond a sequence's end (`at` is the full path).
pub(crate) fn out_of_range(at: &[PathStep]) -> EmitError {
    EmitError(format!("index out of range at {}", show(at)))
}

/// The error for a step that does not fit the node it meets: a key into a
/// sequence or scalar, an index into a mapping or scalar.
pub(crate) fn in_the_way(at: &[PathStep]) -> EmitError {
    let what = match at.last() {
        Some(PathStep::Index(_)) => "a sequence",
        _ => "a mapping",
    };
    EmitError(format!("the value above {} is not {what}", show(at)))
}

/// The node that a path through missing mappings creates: `rest` turned
/// into nested mappings (and one-element sequences for `[0]`) around
/// `value`. `done` is the part of the path that exists (for errors).
pub(crate) fn nest(done: &[PathStep], rest: &[PathStep], value: &Node) -> Result<Node, EmitError> {
    let Some((first, more)) = rest.split_first() else {
        return Ok(value.clone());
    };
    let mut at = done.to_vec();
    at.push(first.clone());
    let inner = nest(&at, more, value)?;
    match first {
        PathStep::Key(k) => Ok(Node::Map(vec![Entry::Pair(crate::tree::Pair {
            key: k.clone(),
            value: inner,
        })])),
        // Any index into a missing sequence makes a one-element one, as
        // sops's `set` does.
        PathStep::Index(_) => Ok(Node::Seq(vec![Item::Node(inner)])),
    }
}

/// Follow aliases to the node they copy.
pub(crate) fn unalias(node: &Node) -> &Node {
    match node {
        Node::Alias(inner) => unalias(inner),
        n => n,
    }
}

/// The index of the pair the path's key selects: the first pair with that
/// key, as sops's lookups (`--extract`, `set`, `unset`) read duplicates.
pub(crate) fn pair_index<'a, I>(keys: I, key: &str) -> Option<usize>
where
    I: IntoIterator<Item = &'a str>,
{
    keys.into_iter()
        .enumerate()
        .find(|(_, k)| *k == key)
        .map(|(i, _)| i)
}

/// The pairs of a mapping's entries (comments left out), in order.
pub(crate) fn pairs(entries: &[Entry]) -> impl Iterator<Item = &crate::tree::Pair> {
    entries.iter().filter_map(|e| match e {
        Entry::Pair(p) => Some(p),
        Entry::Comment(_) => None,
    })
}

/// The nodes of a sequence's items (comments left out), in order.
pub(crate) fn nodes(items: &[Item]) -> impl Iterator<Item = &Node> {
    items.iter().filter_map(|i| match i {
        Item::Node(n) => Some(n),
        Item::Comment(_) => None,
    })
}

/// Whether two nodes hold the same data (values and types, keys, order),
/// whatever their spelling, spans and comments.
pub(crate) fn same(a: &Node, b: &Node) -> bool {
    match (unalias(a), unalias(b)) {
        (Node::Scalar(x), Node::Scalar(y)) => x.value == y.value,
        (Node::Map(x), Node::Map(y)) => {
            let (x, y): (Vec<_>, Vec<_>) = (pairs(x).collect(), pairs(y).collect());
            x.len() == y.len()
                && x.iter()
                    .zip(&y)
                    .all(|(p, q)| p.key == q.key && same(&p.value, &q.value))
        }
        (Node::Seq(x), Node::Seq(y)) => {
            let (x, y): (Vec<_>, Vec<_>) = (nodes(x).collect(), nodes(y).collect());
            x.len() == y.len() && x.iter().zip(&y).all(|(p, q)| same(p, q))
        }
        _ => false,
    }
}

/// The node at `path` in `node`, if there is one.
pub(crate) fn lookup<'a>(node: &'a Node, path: &[PathStep]) -> Option<&'a Node> {
    let Some((first, rest)) = path.split_first() else {
        return Some(node);
    };
    let next = match (first, unalias(node)) {
        (PathStep::Key(k), Node::Map(entries)) => {
            let all: Vec<_> = pairs(entries).collect();
            let i = pair_index(all.iter().map(|p| p.key.as_str()), k)?;
            &all.get(i)?.value
        }
        (PathStep::Index(i), Node::Seq(items)) => nodes(items).nth(*i)?,
        _ => return None,
    };
    lookup(next, rest)
}

/// Why a value at a path of a YAML document with aliases cannot be set or
/// removed in place. sops reads every alias as a copy and changes only
/// the path; sops-like edits the text, where an alias stays an alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AliasConflict {
    /// The path goes through an alias (`*a`, or a merge key's `<<: *a`)
    /// at this prefix: the value there is the anchor's.
    Through(String),
    /// The node at this prefix holds an anchor that aliases repeat: a
    /// change there would change them too (or leave them dangling).
    Anchored(String),
}

/// The first [`AliasConflict`] along `path` in `doc`, if any: the path
/// goes through an alias, a node above the changed one is an anchor that
/// aliases elsewhere repeat, or the changed node holds one (replaced or
/// removed, it would change them or leave them dangling). Aliases inside
/// the changed node go with it.
pub fn alias_conflict(doc: &Node, path: &[PathStep]) -> Option<AliasConflict> {
    let mut chain = Vec::with_capacity(path.len());
    let mut node = doc;
    for (i, step) in path.iter().enumerate() {
        if matches!(node, Node::Alias(_)) {
            return Some(AliasConflict::Through(show(path.get(..i).unwrap_or(path))));
        }
        node = lookup(node, std::slice::from_ref(step))?;
        chain.push(node);
    }
    let mut aliased = Vec::new();
    alias_targets(doc, node, &mut aliased);
    if aliased.is_empty() {
        return None;
    }
    let last = chain.len().saturating_sub(1);
    chain.iter().enumerate().find_map(|(i, n)| {
        let hit = if i == last {
            holds_any(n, &aliased)
        } else {
            aliased.iter().any(|t| same_data(t, n))
        };
        hit.then(|| AliasConflict::Anchored(show(path.get(..i + 1).unwrap_or(path))))
    })
}

/// The nodes the aliases of `node` (outside `skip`) copy.
fn alias_targets<'a>(node: &'a Node, skip: &Node, out: &mut Vec<&'a Node>) {
    if std::ptr::eq(node, skip) {
        return;
    }
    match node {
        Node::Alias(target) => out.push(target),
        Node::Map(entries) => pairs(entries).for_each(|p| alias_targets(&p.value, skip, out)),
        Node::Seq(items) => nodes(items).for_each(|n| alias_targets(n, skip, out)),
        Node::Scalar(_) => {}
    }
}

/// Whether `node`, or a node in it, is one of `targets`.
fn holds_any(node: &Node, targets: &[&Node]) -> bool {
    targets.iter().any(|t| same_data(t, node))
        || match node {
            Node::Map(entries) => pairs(entries).any(|p| holds_any(&p.value, targets)),
            Node::Seq(items) => nodes(items).any(|n| holds_any(n, targets)),
            Node::Scalar(_) | Node::Alias(_) => false,
        }
}

/// Whether an alias's copy `a` is the node `b`: the same keys and scalars
/// at the same places in the text, comments aside (an alias's copy may
/// leave out a comment after the anchor). Two empty collections are the
/// same: a change refused for one that is not aliased is the price.
fn same_data(a: &Node, b: &Node) -> bool {
    same_nodes(a, b, Keys::InOrder, &|x, y| x.span == y.span)
}

/// How [`same_nodes`] pairs two mappings' keys.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keys {
    /// The same keys in the same order.
    InOrder,
    /// The same keys in any order (each key once).
    AnyOrder,
}

/// Whether `a` and `b` have the same shape: the same keys (as `keys`
/// says) and items, comments aside, their scalars alike by `same_scalar`.
pub(crate) fn same_nodes(
    a: &Node,
    b: &Node,
    keys: Keys,
    same_scalar: &dyn Fn(&crate::tree::Scalar, &crate::tree::Scalar) -> bool,
) -> bool {
    let same = |m: &Node, n: &Node| same_nodes(m, n, keys, same_scalar);
    match (a, b) {
        (Node::Map(x), Node::Map(y)) => {
            pairs(x).count() == pairs(y).count()
                && match keys {
                    Keys::InOrder => pairs(x)
                        .zip(pairs(y))
                        .all(|(p, q)| p.key == q.key && same(&p.value, &q.value)),
                    Keys::AnyOrder => pairs(x).all(|p| {
                        pairs(y)
                            .find(|q| q.key == p.key)
                            .is_some_and(|q| same(&p.value, &q.value))
                    }),
                }
        }
        (Node::Seq(x), Node::Seq(y)) => {
            nodes(x).count() == nodes(y).count() && nodes(x).zip(nodes(y)).all(|(m, n)| same(m, n))
        }
        (Node::Scalar(x), Node::Scalar(y)) => same_scalar(x, y),
        (Node::Alias(x), Node::Alias(y)) => same(x, y),
        _ => false,
    }
}

/// The node at `path` in a document of `format`, as sops finds it: of
/// duplicate keys the first (see [`pair_index`]), but in an INI section the
/// last (sops's INI reader keeps the last of a section's duplicate keys,
/// and the first of duplicate sections).
pub fn lookup_in<'a>(format: Format, node: &'a Node, path: &[PathStep]) -> Option<&'a Node> {
    match path {
        [section @ PathStep::Key(_), PathStep::Key(k), rest @ ..] if format == Format::Ini => {
            let Node::Map(entries) = unalias(lookup(node, std::slice::from_ref(section))?) else {
                return None;
            };
            let pair = pairs(entries).filter(|p| &p.key == k).last()?;
            lookup(&pair.value, rest)
        }
        _ => lookup(node, path),
    }
}

/// Check that `edits` really put `value` at `path` (or, for `None`, that
/// nothing is there any more): splice, parse and look. For formats whose
/// lexemes cannot hold every string (a value the format cannot hold is an
/// error, never a corrupted file).
pub(crate) fn verified(
    syntax: &dyn Syntax,
    src: &str,
    edits: Vec<Edit>,
    path: &[PathStep],
    value: Option<&Node>,
) -> Result<Vec<Edit>, EmitError> {
    verified_with(syntax, src, edits, path, value, lookup)
}

/// [`verified`], finding the node at a path with `find` (a format whose
/// duplicate keys sops reads otherwise).
pub(crate) fn verified_with(
    syntax: &dyn Syntax,
    src: &str,
    edits: Vec<Edit>,
    path: &[PathStep],
    value: Option<&Node>,
    find: for<'n> fn(&'n Node, &[PathStep]) -> Option<&'n Node>,
) -> Result<Vec<Edit>, EmitError> {
    let cannot = || {
        EmitError(format!(
            "the value for {} cannot be written in a {} file",
            show(path),
            syntax.name()
        ))
    };
    let out = splice(src, edits.clone()).map_err(|e| EmitError(e.to_string()))?;
    let parsed = syntax.parse(&out).map_err(|_| cannot())?;
    let found = parsed.tree.docs.first().and_then(|d| find(d, path));
    match (found, value) {
        (Some(f), Some(v)) if same(f, v) => Ok(edits),
        (None, None) => Ok(edits),
        _ => Err(cannot()),
    }
}

/// Test helpers shared by the syntax modules' edit tests: apply the edits
/// and check the result against a model of the expected tree.
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
pub(crate) mod check {
    use super::*;
    use crate::splice::splice;
    use crate::syntax::Syntax;
    use crate::tree::{Comment, Pair, Scalar, Slot};

    /// `set_value` applied to `src` (panics on errors: tests only).
    pub(crate) fn set(syntax: &dyn Syntax, src: &str, path: &[PathStep], value: &Node) -> String {
        let parsed = syntax.parse(src).unwrap();
        let edits = syntax
            .set_value(src, &parsed, path, value)
            .unwrap_or_else(|e| panic!("set {} failed: {e}\n{src}", show(path)));
        splice(src, edits).unwrap()
    }

    /// `remove_value` applied to `src`; `None` when it found nothing.
    pub(crate) fn remove(syntax: &dyn Syntax, src: &str, path: &[PathStep]) -> Option<String> {
        let parsed = syntax.parse(src).unwrap();
        let edits = syntax
            .remove_value(src, &parsed, path)
            .unwrap_or_else(|e| panic!("remove {} failed: {e}\n{src}", show(path)))?;
        Some(splice(src, edits).unwrap())
    }

    /// A path from `"a"`, `"0"`-style parts (digits are indices).
    pub(crate) fn path(parts: &[&str]) -> Vec<PathStep> {
        parts
            .iter()
            .map(|p| match p.parse() {
                Ok(i) => PathStep::Index(i),
                Err(_) => PathStep::Key((*p).to_string()),
            })
            .collect()
    }

    /// Every `Int` as a `Float` (JSON numbers compared as sops sees them).
    pub(crate) fn floats(node: Node) -> Node {
        node.map_scalars(&mut |mut s| {
            if let crate::tree::Value::Int(i) = s.value {
                s.value = crate::tree::Value::Float(i as f64);
            }
            s
        })
    }

    /// A copy of `c` without its span.
    fn spanless(c: &Comment) -> Comment {
        let mut c = c.clone();
        c.span = None;
        c
    }

    /// The data of a node without spans, slots (and comments if asked).
    pub(crate) fn plain(node: &Node, comments: bool) -> Node {
        match node {
            Node::Scalar(s) => Node::Scalar(Scalar {
                // NaN is not equal to itself; compare it as a marker.
                value: match s.value {
                    crate::tree::Value::Float(f) if f.is_nan() => {
                        crate::tree::Value::Str("\u{0}NaN".into())
                    }
                    ref v => v.clone(),
                },
                span: None,
                slot: Slot::Bare,
            }),
            Node::Alias(inner) => Node::Alias(Box::new(plain(inner, comments))),
            Node::Map(entries) => Node::Map(
                entries
                    .iter()
                    .filter_map(|e| match e {
                        Entry::Pair(p) => Some(Entry::Pair(Pair {
                            key: p.key.clone(),
                            value: plain(&p.value, comments),
                        })),
                        Entry::Comment(c) if comments => Some(Entry::Comment(spanless(c))),
                        Entry::Comment(_) => None,
                    })
                    .collect(),
            ),
            Node::Seq(items) => Node::Seq(
                items
                    .iter()
                    .filter_map(|i| match i {
                        Item::Node(n) => Some(Item::Node(plain(n, comments))),
                        Item::Comment(c) if comments => Some(Item::Comment(spanless(c))),
                        Item::Comment(_) => None,
                    })
                    .collect(),
            ),
        }
    }

    /// The model of `set`: the first document with the value at `path`
    /// replaced (an existing leaf).
    pub(crate) fn model_set(doc: &Node, path: &[PathStep], value: &Node) -> Node {
        // A comment inside the old scalar's lexeme (on a YAML block
        // header's line) is replaced with it.
        let mut doc = doc.clone();
        if let Some((last, parent)) = path.split_last() {
            match (find_mut(&mut doc, parent), last) {
                (Some(Node::Map(entries)), PathStep::Key(k)) => {
                    let at = entries
                        .iter()
                        .position(|e| matches!(e, Entry::Pair(p) if &p.key == k));
                    drop_lexeme_comments(
                        entries,
                        at,
                        |e| match e {
                            Entry::Pair(p) => Some(&p.value),
                            Entry::Comment(_) => None,
                        },
                        |e| match e {
                            Entry::Comment(c) => Some(c),
                            Entry::Pair(_) => None,
                        },
                    );
                }
                (Some(Node::Seq(items)), PathStep::Index(i)) => {
                    let at = items
                        .iter()
                        .enumerate()
                        .filter(|(_, it)| matches!(it, Item::Node(_)))
                        .nth(*i)
                        .map(|(at, _)| at);
                    drop_lexeme_comments(
                        items,
                        at,
                        |it| match it {
                            Item::Node(n) => Some(n),
                            Item::Comment(_) => None,
                        },
                        |it| match it {
                            Item::Comment(c) => Some(c),
                            Item::Node(_) => None,
                        },
                    );
                }
                _ => {}
            }
        }
        let doc = &doc;
        let mut out = plain(doc, true);
        if let Some(slot) = find_mut(&mut out, path) {
            *slot = plain(value, true);
        }
        out
    }

    /// The model of `remove`: the entry at `path` gone (the first pair
    /// with that key, as sops removes it), comments dropped.
    pub(crate) fn model_remove(doc: &Node, path: &[PathStep]) -> Node {
        let mut out = plain(doc, false);
        let Some((last, parent)) = path.split_last() else {
            return out;
        };
        match (find_mut(&mut out, parent), last) {
            (Some(Node::Map(entries)), PathStep::Key(k)) => {
                if let Some(i) = entries
                    .iter()
                    .position(|e| matches!(e, Entry::Pair(p) if &p.key == k))
                {
                    entries.remove(i);
                }
            }
            (Some(Node::Seq(items)), PathStep::Index(i)) if *i < items.len() => {
                items.remove(*i);
            }
            _ => {}
        }
        out
    }

    /// Remove the comments right after `list[at]` that stand inside the
    /// lexeme of its scalar (see [`crate::tree::in_lexeme`]).
    fn drop_lexeme_comments<T>(
        list: &mut Vec<T>,
        at: Option<usize>,
        node: impl Fn(&T) -> Option<&Node>,
        comment: impl Fn(&T) -> Option<&crate::tree::Comment>,
    ) {
        let Some(at) = at else { return };
        let value = match list.get(at).and_then(&node) {
            Some(Node::Scalar(s)) => s.span.clone(),
            _ => None,
        };
        let Some(value) = value else { return };
        let n = list
            .iter()
            .skip(at + 1)
            .take_while(|t| {
                comment(t)
                    .and_then(|c| c.span.as_ref())
                    .is_some_and(|c| crate::tree::in_lexeme(c, &value))
            })
            .count();
        list.drain(at + 1..at + 1 + n);
    }

    fn find_mut<'a>(node: &'a mut Node, path: &[PathStep]) -> Option<&'a mut Node> {
        let Some((first, rest)) = path.split_first() else {
            return Some(node);
        };
        let next = match (first, node) {
            (PathStep::Key(k), Node::Map(entries)) => entries.iter_mut().find_map(|e| match e {
                Entry::Pair(p) if &p.key == k => Some(&mut p.value),
                _ => None,
            })?,
            (PathStep::Index(i), Node::Seq(items)) => items
                .iter_mut()
                .filter_map(|it| match it {
                    Item::Node(n) => Some(n),
                    Item::Comment(_) => None,
                })
                .nth(*i)?,
            _ => return None,
        };
        find_mut(next, rest)
    }

    /// Every path to a scalar leaf (not inside an alias) of `doc`.
    pub(crate) fn leaf_paths(doc: &Node) -> Vec<Vec<PathStep>> {
        fn go(n: &Node, path: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
            match n {
                Node::Scalar(_) => out.push(path.clone()),
                Node::Alias(_) => {}
                Node::Map(entries) => {
                    let all: Vec<_> = pairs(entries).collect();
                    for (i, p) in all.iter().enumerate() {
                        // Only the pair a lookup selects (the first duplicate).
                        if pair_index(all.iter().map(|q| q.key.as_str()), &p.key) == Some(i) {
                            path.push(PathStep::Key(p.key.clone()));
                            go(&p.value, path, out);
                            path.pop();
                        }
                    }
                }
                Node::Seq(items) => {
                    for (i, n) in nodes(items).enumerate() {
                        path.push(PathStep::Index(i));
                        go(n, path, out);
                        path.pop();
                    }
                }
            }
        }
        let mut out = Vec::new();
        go(doc, &mut Vec::new(), &mut out);
        out.retain(|p| !p.is_empty());
        out
    }

    /// Set the leaf at `path` and check the result: it parses, the leaf
    /// has the new value and everything else is as it was; setting it
    /// again changes nothing.
    pub(crate) fn set_leaf(syntax: &dyn Syntax, src: &str, path: &[PathStep], value: &Node) {
        let before = syntax.parse(src).unwrap();
        let out = set(syntax, src, path, value);
        let after = syntax
            .parse(&out)
            .unwrap_or_else(|e| panic!("{e}\nbefore:\n{src}\nafter:\n{out}"));
        let (Some(b), Some(a)) = (before.tree.docs.first(), after.tree.docs.first()) else {
            panic!("no document");
        };
        // Comments after a value that becomes a block collection end up
        // inside it: compare comments only for scalars.
        let comments = matches!(value, Node::Scalar(_));
        // JSON writes an integral float as an integer, which reads as an
        // `Int`: the same JSON number.
        let json = syntax.name() == "json";
        let norm = |n: Node| if json { floats(n) } else { n };
        assert!(
            norm(plain(a, comments)) == norm(plain(&model_set(b, path, value), comments)),
            "set {} wrong\nbefore:\n{src}\nafter:\n{out}",
            show(path)
        );
        let rest = |p: &crate::syntax::Parsed| -> Vec<Node> {
            p.tree.docs.iter().skip(1).map(|d| plain(d, true)).collect()
        };
        assert!(rest(&after) == rest(&before), "other documents changed");
        assert_eq!(set(syntax, &out, path, value), out, "not idempotent");
    }

    /// Remove the entry at `path` and check the result: it parses, the
    /// entry is gone and every other value is as it was.
    pub(crate) fn remove_leaf(syntax: &dyn Syntax, src: &str, path: &[PathStep]) {
        let before = syntax.parse(src).unwrap();
        let out = remove(syntax, src, path).unwrap_or_else(|| panic!("not found\n{src}"));
        let after = syntax
            .parse(&out)
            .unwrap_or_else(|e| panic!("{e}\nbefore:\n{src}\nafter:\n{out}"));
        let (Some(b), Some(a)) = (before.tree.docs.first(), after.tree.docs.first()) else {
            panic!("no document");
        };
        assert!(
            plain(a, false) == model_remove(b, path),
            "remove {} wrong\nbefore:\n{src}\nafter:\n{out}",
            show(path)
        );
        if let Some(PathStep::Key(_)) = path.last() {
            assert!(remove(syntax, &out, path).is_none(), "still there");
        }
    }

    /// A scalar to set in property tests (`Node` has no `Debug`).
    #[derive(Debug, Clone)]
    pub(crate) enum NewVal {
        /// A string.
        Str(String),
        /// An integer.
        Int(i64),
        /// A float.
        Float(f64),
        /// A boolean.
        Bool(bool),
    }

    impl NewVal {
        /// The node.
        pub(crate) fn node(&self) -> Node {
            use crate::tree::Value;
            Node::value(match self {
                NewVal::Str(s) => Value::Str(s.clone()),
                NewVal::Int(i) => Value::Int(*i),
                NewVal::Float(f) => Value::Float(*f),
                NewVal::Bool(b) => Value::Bool(*b),
            })
        }
    }
}
