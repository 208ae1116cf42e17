//! Depth-first walk over the leaves of a tree, in document order, with the
//! key path SOPS uses for additional authenticated data.

use crate::tree::{Comment, Entry, Item, Node, Scalar, Tree};

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
pub fn walk<'a>(tree: &'a Tree, mut visit: impl FnMut(&Place<'a, '_>, Leaf<'a>)) {
    let mut path = Vec::new();
    for (doc, node) in tree.docs.iter().enumerate() {
        let mut stack = Vec::new();
        walk_node(node, doc, false, &mut path, &mut stack, &mut visit);
    }
}

fn walk_node<'a>(
    node: &'a Node,
    doc: usize,
    in_alias: bool,
    path: &mut Vec<&'a str>,
    stack: &mut Vec<&'a Comment>,
    visit: &mut impl FnMut(&Place<'a, '_>, Leaf<'a>),
) {
    match node {
        Node::Scalar(s) => {
            let place = Place {
                path,
                doc,
                in_alias,
                comments: stack,
            };
            visit(&place, Leaf::Value(s));
        }
        Node::Alias(inner) => walk_node(inner, doc, true, path, stack, visit),
        Node::Map(entries) => {
            let base = stack.len();
            for entry in entries {
                match entry {
                    Entry::Comment(c) => {
                        stack.push(c);
                        let place = Place {
                            path,
                            doc,
                            in_alias,
                            comments: stack,
                        };
                        visit(&place, Leaf::Comment(c));
                    }
                    Entry::Pair(p) => {
                        path.push(&p.key);
                        walk_node(&p.value, doc, in_alias, path, stack, visit);
                        path.pop();
                        stack.truncate(base);
                    }
                }
            }
            stack.truncate(base);
        }
        Node::Seq(items) => {
            let base = stack.len();
            for item in items {
                match item {
                    Item::Comment(c) => {
                        stack.push(c);
                        let place = Place {
                            path,
                            doc,
                            in_alias,
                            comments: stack,
                        };
                        visit(&place, Leaf::Comment(c));
                    }
                    Item::Node(n) => {
                        walk_node(n, doc, in_alias, path, stack, visit);
                        stack.truncate(base);
                    }
                }
            }
            stack.truncate(base);
        }
    }
}
