//! The value tree that every syntax module produces and every emitter consumes.
//!
//! A parsed tree keeps, for every scalar and comment, the byte span of its
//! lexeme in the source text. Encryption and decryption never re-emit a
//! parsed document: they splice new text into those spans (see
//! [`crate::splice`]). Trees built in memory (metadata, format conversion)
//! have no spans and are written by [`crate::syntax::Syntax::emit`].

use std::ops::Range;

/// A byte range in the source text.
pub type Span = Range<usize>;

/// Whether the comment at `comment` stands inside the lexeme of the value
/// at `value`: a YAML comment on a block scalar's header line, or after a
/// tag with the value below. Such a comment is the value's line comment in
/// the tree, and its text goes with the value's wherever that is replaced.
pub(crate) fn in_lexeme(comment: &Span, value: &Span) -> bool {
    comment.start > value.start && comment.end <= value.end
}

/// A scalar value, as SOPS models it.
#[derive(Clone, PartialEq)]
pub enum Value {
    /// `null`, `~`, an empty YAML value. Never encrypted, not part of the MAC.
    Null,
    /// A string.
    Str(String),
    /// An integer that fits in `i64`.
    Int(i64),
    /// A floating-point number (and every JSON number, as sops reads JSON).
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A timestamp, kept in Go's RFC 3339 "nano" form (`time.MarshalText`),
    /// e.g. `2024-01-02T00:00:00Z` or `2024-01-02T03:04:05.1+02:00`.
    Time(String),
}

/// A parse of a plaintext document holds every value (and comment) in a
/// `String` of its own: each is wiped when dropped (see
/// [`crate::wipe::wipe`]), so that no tree leaves plaintext behind.
impl Drop for Value {
    fn drop(&mut self) {
        if let Value::Str(text) | Value::Time(text) = self {
            crate::wipe::wipe_string(text);
        }
    }
}

/// How text that replaces a scalar must be written at its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// A bare token is fine here (YAML block context, .env value, INI value).
    Bare,
    /// Only a quoted string is valid here (YAML flow collection, JSON, TOML).
    Quoted,
}

/// A scalar leaf.
#[derive(Clone, PartialEq)]
pub struct Scalar {
    /// The decoded value.
    pub value: Value,
    /// The lexeme's byte span in the source: quotes, block-scalar header and
    /// tag included; anchor, surrounding whitespace and comments excluded.
    /// `None` for trees built in memory. Zero-width for empty YAML values.
    pub span: Option<Span>,
    /// What replacement text may look like at this position.
    pub slot: Slot,
}

/// A comment. Its span covers the text after the comment marker
/// (`# foo` → ` foo`), which is what SOPS encrypts.
#[derive(Clone, PartialEq)]
pub struct Comment {
    /// The comment text without its marker (`# foo` → ` foo`).
    pub text: String,
    /// Byte span of `text` in the source; `None` for trees built in memory.
    pub span: Option<Span>,
    /// Where the comment selectors see it (see [`Attach`]).
    pub attach: Attach,
    /// `Some(keys)`: sops reads the plaintext with this comment in another
    /// collection than its place (where sops reads it in the encrypted
    /// file), the one at these mapping keys, higher up or deeper, and
    /// encrypts it as the selector says there; its place may be one whose
    /// comments stay in clear. Set by the YAML parse only.
    pub sops_keys: Option<Vec<String>>,
}

/// A comment may be encrypted: its text is wiped when dropped (see
/// [`Value`]'s `Drop`).
impl Drop for Comment {
    fn drop(&mut self) {
        crate::wipe::wipe_string(&mut self.text);
    }
}

impl Comment {
    /// A comment the selectors see where it stands.
    pub fn new(text: impl Into<String>, span: Option<Span>) -> Comment {
        Comment {
            text: text.into(),
            span,
            attach: Attach::Here,
            sops_keys: None,
        }
    }
}

/// Where sops's comment stack (`encrypted_comment_regex`,
/// `unencrypted_comment_regex`) takes a comment in. sops (go-yaml v3)
/// turns a YAML line comment into a comment *before* what it ends the line
/// of, so a marker at the end of a value's line selects that value. The
/// tree keeps every comment in source order (its text is encrypted in
/// place); [`crate::walk`] pushes it where sops does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Attach {
    /// Where it stands (a comment on a line of its own).
    #[default]
    Here,
    /// At the end of the line of the scalar or alias entry or item just
    /// before it (`key: value # c`, `- item # c`): seen before that entry.
    Line,
    /// The last entry of a flow collection, at the end of the collection's
    /// line (`key: [1, 2] # c`): seen before the collection's first entry,
    /// or, when the collection is a sequence item, before that item.
    Collection,
    /// The comment lines above an INI key, as sops reads an INI file meant
    /// for it (`AES256_GCM`): go-ini makes them the key's comment, and sops
    /// puts a key's comment in its tree *after* the key, so sops's comment
    /// stack sees it after the next entry (the key), and it selects the key
    /// after that one.
    AfterEntry,
    /// A comment go-yaml drops (YAML: one right after a flow collection's
    /// opening bracket on its line, `{ # c`): sops's comment stack never
    /// sees it, so it selects nothing. It is still encrypted as one that
    /// stands where it is.
    Unseen,
}

/// A node of the tree.
#[derive(Clone, PartialEq)]
pub enum Node {
    /// A mapping, in document order (duplicate keys are kept).
    Map(Vec<Entry>),
    /// A sequence, in document order.
    Seq(Vec<Item>),
    /// A scalar leaf.
    Scalar(Scalar),
    /// A YAML alias (`*a`, including `<<: *a` merge values): a copy of the
    /// anchored node. Its leaves are read (MAC, conversion) but never
    /// rewritten: the alias text stays an alias, the anchor holds the value.
    Alias(Box<Node>),
}

/// An entry of a mapping.
#[derive(Clone, PartialEq)]
pub enum Entry {
    /// `key: value`.
    Pair(Pair),
    /// A comment line (or inline comment) among the entries.
    Comment(Comment),
}

/// A key and its value.
#[derive(Clone, PartialEq)]
pub struct Pair {
    /// The decoded key (for complex YAML keys: the key's source text).
    pub key: String,
    /// The value.
    pub value: Node,
}

/// An element of a sequence.
#[derive(Clone, PartialEq)]
pub enum Item {
    /// A value.
    Node(Node),
    /// A comment among the elements.
    Comment(Comment),
}

/// A parsed or generated document set: one entry per YAML document, exactly
/// one for every other format.
#[derive(Clone, PartialEq, Default)]
pub struct Tree {
    /// The documents, in order.
    pub docs: Vec<Node>,
    /// sops's comment stacks, where they were computed as sops computes
    /// them (see [`SopsStacks`]); `None`: [`crate::walk`] works them out
    /// from the tree.
    pub sops_stacks: Option<Box<SopsStacks>>,
}

impl Tree {
    /// A tree of these documents.
    pub fn new(docs: Vec<Node>) -> Tree {
        Tree {
            docs,
            sops_stacks: None,
        }
    }
}

/// The comments sops's comment stack holds at each leaf (what the comment
/// selectors decide by), computed from sops's own reading of the text
/// (YAML: go-yaml's, which places comments its own way): leaves and
/// comments named by the start of their spans. A leaf that is not listed
/// (an alias's copy, a comment sops drops) gets the stack
/// [`crate::walk`] works out from the tree.
#[derive(Clone, PartialEq, Default)]
pub struct SopsStacks {
    /// A value's span start -> the span starts of the comments, outermost
    /// first.
    pub values: rustc_hash::FxHashMap<usize, Vec<usize>>,
    /// A comment's span start -> the same, ending with the comment itself.
    pub comments: rustc_hash::FxHashMap<usize, Vec<usize>>,
}

impl SopsStacks {
    /// The stacks with every offset moved by `to`.
    pub fn moved(self, to: impl Fn(usize) -> usize) -> SopsStacks {
        let mv = |m: rustc_hash::FxHashMap<usize, Vec<usize>>| {
            m.into_iter()
                .map(|(at, stack)| (to(at), stack.into_iter().map(&to).collect()))
                .collect()
        };
        SopsStacks {
            values: mv(self.values),
            comments: mv(self.comments),
        }
    }
}

impl Node {
    /// Whether this document holds any data: a key, an item or a value that
    /// is not null (a lone `---` holds none).
    pub fn holds_data(&self) -> bool {
        match self {
            Node::Scalar(s) => s.value != Value::Null,
            Node::Map(entries) => entries.iter().any(|e| matches!(e, Entry::Pair(_))),
            Node::Seq(items) => items.iter().any(|i| matches!(i, Item::Node(_))),
            Node::Alias(_) => true,
        }
    }

    /// Append the spans of the value scalars below this node to `out`, in
    /// document order (alias targets and span-less nulls left out).
    pub(crate) fn value_spans(&self, out: &mut Vec<Span>) {
        match self {
            Node::Scalar(s) => out.extend(s.span.clone()),
            Node::Alias(_) => {}
            Node::Map(entries) => {
                for e in entries {
                    if let Entry::Pair(p) = e {
                        p.value.value_spans(out);
                    }
                }
            }
            Node::Seq(items) => {
                for i in items {
                    if let Item::Node(n) = i {
                        n.value_spans(out);
                    }
                }
            }
        }
    }

    /// The node with every scalar (aliased ones too) replaced by `f`'s
    /// result; mappings, sequences and comments are kept as they are.
    pub fn map_scalars(self, f: &mut impl FnMut(Scalar) -> Scalar) -> Node {
        match self {
            Node::Scalar(s) => Node::Scalar(f(s)),
            Node::Alias(inner) => Node::Alias(Box::new(inner.map_scalars(f))),
            Node::Map(entries) => Node::Map(
                entries
                    .into_iter()
                    .map(|e| match e {
                        Entry::Pair(p) => Entry::Pair(Pair {
                            key: p.key,
                            value: p.value.map_scalars(f),
                        }),
                        comment => comment,
                    })
                    .collect(),
            ),
            Node::Seq(items) => Node::Seq(
                items
                    .into_iter()
                    .map(|i| match i {
                        Item::Node(n) => Item::Node(n.map_scalars(f)),
                        comment => comment,
                    })
                    .collect(),
            ),
        }
    }

    /// A string scalar without a span.
    pub fn str(s: impl Into<String>) -> Node {
        Node::Scalar(Scalar {
            value: Value::Str(s.into()),
            span: None,
            slot: Slot::Bare,
        })
    }

    /// A scalar without a span.
    pub fn value(value: Value) -> Node {
        Node::Scalar(Scalar {
            value,
            span: None,
            slot: Slot::Bare,
        })
    }

    /// A mapping from `(key, value)` pairs, without comments.
    pub fn map(pairs: impl IntoIterator<Item = (String, Node)>) -> Node {
        Node::Map(
            pairs
                .into_iter()
                .map(|(key, value)| Entry::Pair(Pair { key, value }))
                .collect(),
        )
    }

    /// The value of the first pair with this key, if this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find_map(|e| match e {
                Entry::Pair(p) if p.key == key => Some(&p.value),
                _ => None,
            }),
            Node::Alias(inner) => inner.get(key),
            _ => None,
        }
    }

    /// The scalar value, if this is a scalar (or an alias of one).
    pub fn as_value(&self) -> Option<&Value> {
        match self {
            Node::Scalar(s) => Some(&s.value),
            Node::Alias(inner) => inner.as_value(),
            _ => None,
        }
    }
}
