//! Depth-first walk over the leaves of a tree, in document order, with the
//! key path SOPS uses for additional authenticated data.

use rustc_hash::FxHashMap as HashMap;

use crate::tree::{Attach, Comment, Entry, Item, Node, Scalar, SopsStacks, Tree};

/// A leaf reached by [`walk`].
pub enum Leaf<'a> {
    /// A scalar value.
    Value(&'a Scalar),
    /// A comment.
    Comment(&'a Comment),
}

/// Where a leaf sits.
pub struct Place<'a, 'p> {
    /// The mapping keys from the document root (sequence indices are not
    /// part of the path). For a comment: the path of the enclosing mapping.
    pub path: &'p [&'a str],
    /// The index of the YAML document (0 for other formats).
    pub doc: usize,
    /// The leaf is reached through a YAML alias: readable, never rewritten.
    pub in_alias: bool,
    /// The comments seen at each level since that level's last non-comment
    /// entry (sops's comment stack, for the comment selectors), innermost last.
    pub comments: &'p [&'a Comment],
}

/// Visit every scalar and comment of `tree` in document order.
///
/// The comment stack follows sops (sops-format.md §2): a comment is pushed
/// when it is reached, and a level's comments are dropped after its next
/// value, except that a line comment ([`Attach::Line`],
/// [`Attach::Collection`]) is pushed before the entry whose line it ends,
/// as sops reads it. Leaves are still visited in source order: such a
/// comment is visited after that entry, with the stack sops had when it
/// reached the comment. An [`Attach::AfterEntry`] comment is pushed and
/// visited right after the entry that follows it (and its line comments).
///
/// Where the tree holds sops's own stacks ([`Tree::sops_stacks`]), a leaf
/// they list gets that stack instead.
pub fn walk<'a>(tree: &'a Tree, mut visit: impl FnMut(&Place<'a, '_>, Leaf<'a>)) {
    let mut path = Vec::new();
    let mut sops = tree.sops_stacks.as_deref().map(|stacks| {
        let mut by_start = HashMap::default();
        for doc in &tree.docs {
            comments_by_start(doc, &mut by_start);
        }
        Sops {
            stacks,
            by_start,
            scratch: Vec::new(),
        }
    });
    for (doc, node) in tree.docs.iter().enumerate() {
        let mut stack = Vec::new();
        let mut w = Walker {
            doc,
            path: &mut path,
            stack: &mut stack,
            visit: &mut visit,
            sops: sops.as_mut(),
        };
        w.node(node, false, false);
    }
}

/// sops's stacks, with the tree's comments by the start of their spans.
struct Sops<'a> {
    stacks: &'a SopsStacks,
    by_start: HashMap<usize, &'a Comment>,
    scratch: Vec<&'a Comment>,
}

impl<'a> Sops<'a> {
    /// sops's stack at `leaf`, if listed, into `scratch`.
    fn stack(&mut self, leaf: &Leaf<'a>) -> bool {
        let listed = match leaf {
            Leaf::Value(s) => s
                .span
                .as_ref()
                .and_then(|sp| self.stacks.values.get(&sp.start)),
            Leaf::Comment(c) => c
                .span
                .as_ref()
                .and_then(|sp| self.stacks.comments.get(&sp.start)),
        };
        let Some(listed) = listed else {
            return false;
        };
        self.scratch.clear();
        let by_start = &self.by_start;
        self.scratch
            .extend(listed.iter().filter_map(|at| by_start.get(at).copied()));
        true
    }
}

/// The comments below `n` by the start of their spans, into `out`.
pub(crate) fn comments_by_start<'a>(n: &'a Node, out: &mut HashMap<usize, &'a Comment>) {
    fn put<'a>(c: &'a Comment, out: &mut HashMap<usize, &'a Comment>) {
        if let Some(sp) = &c.span {
            out.insert(sp.start, c);
        }
    }
    match n {
        Node::Map(entries) => {
            for e in entries {
                match e {
                    Entry::Comment(c) => put(c, out),
                    Entry::Pair(p) => comments_by_start(&p.value, out),
                }
            }
        }
        Node::Seq(items) => {
            for i in items {
                match i {
                    Item::Comment(c) => put(c, out),
                    Item::Node(n) => comments_by_start(n, out),
                }
            }
        }
        Node::Scalar(_) | Node::Alias(_) => {}
    }
}

/// The comments of kind `attach` that end `items` (as `comment` reads
/// them), in order.
fn trailing<'a, T>(
    items: &'a [T],
    attach: Attach,
    comment: impl Fn(&'a T) -> Option<&'a Comment>,
) -> &'a [T] {
    let n = items
        .iter()
        .rev()
        .take_while(|i| comment(i).is_some_and(|c| c.attach == attach))
        .count();
    items.get(items.len() - n..).unwrap_or_default()
}

fn entry_comment(e: &Entry) -> Option<&Comment> {
    match e {
        Entry::Comment(c) => Some(c),
        Entry::Pair(_) => None,
    }
}

fn item_comment(i: &Item) -> Option<&Comment> {
    match i {
        Item::Comment(c) => Some(c),
        Item::Node(_) => None,
    }
}

/// One element of a collection, as the walk sees it.
enum Element<'a> {
    Comment(&'a Comment),
    /// A value, with its key for mappings.
    Value(Option<&'a str>, &'a Node),
}

struct Walker<'a, 'w, F> {
    doc: usize,
    path: &'w mut Vec<&'a str>,
    stack: &'w mut Vec<&'a Comment>,
    visit: &'w mut F,
    sops: Option<&'w mut Sops<'a>>,
}

impl<'a, F: FnMut(&Place<'a, '_>, Leaf<'a>)> Walker<'a, '_, F> {
    /// Visit a leaf with the first `depth` comments of the stack (or
    /// sops's own stack for it, if listed).
    fn leaf(&mut self, in_alias: bool, depth: usize, leaf: Leaf<'a>) {
        let listed = !in_alias
            && self
                .sops
                .as_deref_mut()
                .is_some_and(|sops| sops.stack(&leaf));
        let comments = match self.sops.as_deref() {
            Some(sops) if listed => &sops.scratch[..],
            _ => self.stack.get(..depth).unwrap_or(self.stack),
        };
        let place = Place {
            path: self.path,
            doc: self.doc,
            in_alias,
            comments,
        };
        (self.visit)(&place, leaf);
    }

    /// `head_done`: the node is a sequence item whose own line comments
    /// ([`Attach::Collection`]) the caller pushed before it.
    fn node(&mut self, node: &'a Node, in_alias: bool, head_done: bool) {
        match node {
            Node::Scalar(s) => self.leaf(in_alias, usize::MAX, Leaf::Value(s)),
            Node::Alias(inner) => self.node(inner, true, false),
            Node::Map(entries) => self.collection(entries, in_alias, head_done, |e| match e {
                Entry::Comment(c) => Element::Comment(c),
                Entry::Pair(p) => Element::Value(Some(p.key.as_str()), &p.value),
            }),
            Node::Seq(items) => self.collection(items, in_alias, head_done, |i| match i {
                Item::Comment(c) => Element::Comment(c),
                Item::Node(n) => Element::Value(None, n),
            }),
        }
    }

    fn collection<T>(
        &mut self,
        elements: &'a [T],
        in_alias: bool,
        head_done: bool,
        element: impl Fn(&'a T) -> Element<'a>,
    ) {
        let comment = |t: &'a T| match element(t) {
            Element::Comment(c) => Some(c),
            Element::Value(..) => None,
        };
        let base = self.stack.len();
        if !head_done {
            // sops: a collection's line comment comes before its first
            // entry (and is dropped after it).
            let head = trailing(elements, Attach::Collection, comment);
            self.stack.extend(head.iter().filter_map(comment));
        }
        // Comments that sops sees after the next value.
        let mut after: Vec<&'a Comment> = Vec::new();
        let mut i = 0;
        while let Some(e) = elements.get(i) {
            i += 1;
            match element(e) {
                Element::Comment(c) if c.attach == Attach::AfterEntry => after.push(c),
                Element::Comment(c) if c.attach == Attach::Unseen => {
                    // Visited with itself on the stack (its own marker
                    // keeps it in clear), then taken off again.
                    self.stack.push(c);
                    self.leaf(in_alias, usize::MAX, Leaf::Comment(c));
                    self.stack.pop();
                }
                Element::Comment(c) if c.attach == Attach::Collection => {
                    if head_done {
                        // Pushed by the caller, just below `base`.
                        self.leaf(in_alias, base, Leaf::Comment(c));
                    } else {
                        self.stack.truncate(base);
                        self.stack.push(c);
                        self.leaf(in_alias, usize::MAX, Leaf::Comment(c));
                        self.stack.truncate(base);
                    }
                }
                Element::Comment(c) => {
                    self.stack.push(c);
                    self.leaf(in_alias, usize::MAX, Leaf::Comment(c));
                }
                Element::Value(key, value) => {
                    // A sequence item's line comment (after the item, or
                    // at the end of a flow collection item) comes before
                    // it for sops.
                    let lines = elements.get(i..).unwrap_or_default();
                    let lines = lines
                        .iter()
                        .take_while(|t| comment(t).is_some_and(|c| c.attach == Attach::Line))
                        .count();
                    let line_comments = elements.get(i..i + lines).unwrap_or_default();
                    i += lines;
                    let head = match (key, value) {
                        (None, Node::Map(entries)) => {
                            let t = trailing(entries, Attach::Collection, entry_comment);
                            self.stack.extend(t.iter().filter_map(entry_comment));
                            !t.is_empty()
                        }
                        (None, Node::Seq(items)) => {
                            let t = trailing(items, Attach::Collection, item_comment);
                            self.stack.extend(t.iter().filter_map(item_comment));
                            !t.is_empty()
                        }
                        _ => false,
                    };
                    let lines_at = self.stack.len();
                    self.stack.extend(line_comments.iter().filter_map(comment));
                    if let Some(k) = key {
                        self.path.push(k);
                    }
                    self.node(value, in_alias, head);
                    if key.is_some() {
                        self.path.pop();
                    }
                    for (n, c) in line_comments.iter().filter_map(comment).enumerate() {
                        self.leaf(in_alias, lines_at + n + 1, Leaf::Comment(c));
                    }
                    self.stack.truncate(base);
                    for c in after.drain(..) {
                        self.stack.push(c);
                        self.leaf(in_alias, usize::MAX, Leaf::Comment(c));
                    }
                }
            }
        }
        for c in after {
            self.stack.push(c);
            self.leaf(in_alias, usize::MAX, Leaf::Comment(c));
        }
        self.stack.truncate(base);
    }
}
