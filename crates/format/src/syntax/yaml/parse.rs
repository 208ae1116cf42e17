//! From granit-parser events to a [`Tree`] with byte spans, plus what
//! metadata insertion needs to know about each document ([`DocLayout`]).
//!
//! Span rules: a scalar's span runs from its tag (or opening quote, or block
//! header) to its last content character; an anchor before the tag stays
//! outside. Comments are attached to the collection of the next key or item
//! that follows them (inline comments right after the entry they follow,
//! marked as its line comment, [`Attach`]); trailing comments go to the end
//! of the document's top-level collection.

use std::borrow::Cow;
use std::collections::HashMap;

use granit_parser::{ErrorKind, Event, Parser, ScalarStyle, ScanError, StructureStyle, Tag};

use super::foot::Closing;
use super::resolve::{resolve_core_tag, resolve_typed};
use super::text::{is_lb, is_marker_line, line_break_style, line_start, skip_ws_back};
use crate::syntax::{ParseError, Parsed, SopsRefusal};
use crate::tree::{Attach, Comment, Entry, Item, Node, Pair, Scalar, Slot, Span, Tree, Value};

/// How much aliases may copy in one stream (protects against "billion
/// laughs" alias bombs, and against a long string repeated by many
/// aliases): in nodes, a string counting one more for every
/// [`ALIAS_STRING_UNIT`] bytes. A node copied costs about 300 bytes, so
/// the copies stay under about 75 MB (2,000,000 let a 300-byte file take
/// 371 MB before it was refused, a 60 KB one 300 MB).
const ALIAS_BUDGET: usize = 250_000;

/// The bytes of a string that count as one node of [`ALIAS_BUDGET`].
const ALIAS_STRING_UNIT: usize = 256;

/// What copying a scalar holding `value` costs from [`ALIAS_BUDGET`].
fn alias_cost(value: &Value) -> usize {
    match value {
        Value::Str(s) => 1 + s.len() / ALIAS_STRING_UNIT,
        _ => 1,
    }
}

/// What a document's top level looks like, for metadata insertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Root {
    /// A block mapping whose keys are indented by `indent` spaces.
    BlockMap {
        /// Leading spaces of the first key's line.
        indent: usize,
    },
    /// A flow mapping `{…}` whose closing brace is at byte `close`.
    FlowMap {
        /// Offset of the closing `}`.
        close: usize,
        /// Whether an entry must be preceded by a comma there.
        comma: bool,
    },
    /// An empty document (no content, or an empty scalar).
    Empty,
    /// A scalar, sequence or alias.
    Other,
}

/// Where a document is and what it holds, for metadata insertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DocLayout {
    /// The top level.
    pub(crate) root: Root,
    /// The insertion point: the start of the `...`/`---` line that ends the
    /// document, or the end of the text.
    pub(crate) end: usize,
    /// Where the document starts.
    pub(crate) start: usize,
    /// The document's line break (`\n` or `\r\n`).
    pub(crate) lb: &'static str,
    /// The document already has a `sops` key.
    pub(crate) has_meta: bool,
}

/// A parse result with the per-document layouts.
pub(crate) struct Output {
    pub(crate) parsed: Parsed,
    pub(crate) layouts: Vec<DocLayout>,
    /// The metadata blocks after the first (`Parsed::metadata`), of later
    /// documents of a stream: each must say what the first says.
    pub(crate) more_metadata: Vec<Node>,
}

/// Parse a YAML stream.
pub(crate) fn parse(src: &str) -> Result<Output, ParseError> {
    parse_with(src, false)
}

/// Parse a YAML stream; with `lean`, an untagged plain scalar outside the
/// metadata whose text is an `ENC[…]` value gets an empty string as its
/// value instead of a copy of that text, which is its span in `src`.
pub(crate) fn parse_with(src: &str, lean: bool) -> Result<Output, ParseError> {
    let mut out = super::split::parse(src, lean)?;
    super::foot::place_as_sops(src, &mut out);
    if lean {
        check_stream_metadata(src, &out)?;
    }
    Ok(out)
}

/// An encrypted stream carries one metadata block in every document that
/// holds data, and they all say the same, as sops writes them. The MAC
/// covers the values of every document in order but not where one
/// document ends, so a stream that breaks this was changed by hand or
/// tampered with: a `---` added before the data (`EVIL: ""` then the real
/// document: the command that reads the first document would see only
/// the attacker's), or moved between two documents. sops refuses both (it
/// reads the first document's block only: "sops metadata not found").
fn check_stream_metadata(src: &str, out: &Output) -> Result<(), ParseError> {
    let Some(first) = &out.parsed.metadata else {
        return Ok(());
    };
    if let Some(i) = out
        .more_metadata
        .iter()
        .position(|m| !same_values(first, m))
    {
        let at = out.parsed.metadata_spans.get(i + 1).map_or(0, |s| s.start);
        return Err(ParseError::at(
            src,
            at,
            "this document's sops metadata differs from the first document's: the file was changed by hand or tampered with",
        ));
    }
    let docs = &out.parsed.tree.docs;
    if docs.len() != out.layouts.len() {
        return Ok(());
    }
    match docs
        .iter()
        .zip(&out.layouts)
        .find(|(doc, layout)| !layout.has_meta && doc.holds_data())
    {
        Some((_, layout)) => Err(ParseError::at(
            src,
            layout.start,
            "this document holds data but no sops metadata, which every document of an encrypted stream carries: a document marker was added, or the file was changed by hand",
        )),
        None => Ok(()),
    }
}

/// Whether two nodes hold the same keys and values (spans, comments and
/// the order of keys aside: a block's keys may be reordered by hand).
fn same_values(a: &Node, b: &Node) -> bool {
    use crate::syntax::edit::{same_nodes, Keys};
    same_nodes(a, b, Keys::AnyOrder, &|x, y| x.value == y.value)
}

/// [`parse_with`] in one go (no split into halves).
pub(crate) fn parse_whole(src: &str, lean: bool) -> Result<Output, ParseError> {
    let mut b = Builder::new(src);
    b.lean = lean;
    let options = granit_parser::options! { emit_anchor_events: true };
    for item in Parser::new_from_str_with_options(src, options) {
        let (event, span) = item.map_err(|e| scan_error(src, &e))?;
        let range = span.byte_range().unwrap_or(0..0);
        let tag_start = span.tag_start().and_then(|m| m.byte_offset());
        b.event(event, range, tag_start)?;
    }
    Ok(b.finish())
}

fn scan_error(src: &str, e: &ScanError) -> ParseError {
    let offset = e.marker().byte_offset().unwrap_or(0);
    // The only message that quotes document text is "unexpected character".
    let message = if matches!(e.kind(), ErrorKind::UnexpectedCharacter { .. }) {
        "unexpected character".to_string()
    } else {
        e.info()
    };
    ParseError::at(src, offset, message)
}

/// A finished node with its extent in the source.
struct Done {
    node: Node,
    /// Where its text starts (tag, quote, header, first key…).
    start: usize,
    /// The end of its last content character.
    end: usize,
    /// Nodes it contains (for the alias budget).
    size: usize,
    /// The text used when it is a mapping key.
    key: String,
}

enum Coll {
    Map(Vec<Entry>),
    Seq(Vec<Item>),
}

struct Frame {
    coll: Coll,
    flow: bool,
    anchor: usize,
    start: usize,
    last_end: usize,
    size: usize,
    /// A key waiting for its value (mappings).
    key: Option<(String, usize)>,
    /// The collection is itself a mapping key (`? [a, b]`).
    as_key: bool,
    /// Where the first key starts (mappings).
    first_key: Option<usize>,
}

impl Frame {
    /// Ready for a new key or item (not waiting for a value).
    fn between_entries(&self) -> bool {
        match self.coll {
            Coll::Map(_) => self.key.is_none(),
            Coll::Seq(_) => true,
        }
    }

    /// The node of the last entry or item, once complete.
    fn last_node_mut(&mut self) -> Option<&mut Node> {
        match &mut self.coll {
            Coll::Map(entries) if self.key.is_none() => match entries.last_mut() {
                Some(Entry::Pair(p)) => Some(&mut p.value),
                _ => None,
            },
            Coll::Map(_) => None,
            Coll::Seq(items) => match items.last_mut() {
                Some(Item::Node(n)) => Some(n),
                _ => None,
            },
        }
    }

    /// The last element is an entry or item, not a comment.
    fn ends_with_value(&self) -> bool {
        match &self.coll {
            Coll::Map(entries) => matches!(entries.last(), Some(Entry::Pair(_))),
            Coll::Seq(items) => matches!(items.last(), Some(Item::Node(_))),
        }
    }

    fn push_comment(&mut self, c: Comment) {
        match &mut self.coll {
            Coll::Map(entries) => entries.push(Entry::Comment(c)),
            Coll::Seq(items) => items.push(Item::Comment(c)),
        }
    }
}

#[derive(Default)]
struct Doc {
    start: usize,
    root: Option<Done>,
    layout: Option<Root>,
    has_meta: bool,
}

struct Builder<'s> {
    src: &'s str,
    stack: Vec<Frame>,
    /// Whole-line comments waiting for the next key or item.
    pending: Vec<Comment>,
    /// How many of the last `pending` comments follow a `- ` alone on
    /// its line (that comment and the ones after it): they wait for the
    /// item's first key or item (see `before_node`).
    after_dash: usize,
    anchors: HashMap<usize, (Node, usize, String)>,
    copied: usize,
    /// Comment spans (including `#`): the end of the text without its
    /// trailing blanks -> start.
    comments: HashMap<usize, usize>,
    doc: Option<Doc>,
    docs: Vec<Node>,
    layouts: Vec<DocLayout>,
    /// The last document's end is not known yet (no `...`).
    open_end: bool,
    metadata: Option<Node>,
    more_metadata: Vec<Node>,
    metadata_spans: Vec<Span>,
    metadata_fill: Vec<(Span, &'static str)>,
    /// The end of the previous non-comment event.
    prev_end: usize,
    /// The span of the last scalar whose lexeme is wider than granit's
    /// range (block header, tag): comments inside it are its line
    /// comments (see [`Builder::inside_comment`]).
    last_wide: Span,
    /// Comments inside the scalar being completed, read before its event.
    inside: Vec<Comment>,
    /// Leave `ENC[…]` plain scalars' values empty (see [`parse_with`]).
    lean: bool,
    /// Comments waiting while block collections close (see
    /// [`super::foot`]).
    closing: Option<Closing>,
    /// The first mapping key sops does not read as a string.
    non_string_key: Option<usize>,
    /// The first construct go-yaml refuses (see [`Parsed::sops_unreadable`]).
    sops_unreadable: Option<(usize, SopsRefusal)>,
    tags_before_anchors: Vec<(usize, usize)>,
    /// The last event closed a flow collection: a comment right after it
    /// on its line belongs in it (sops: the collection's line comment).
    after_flow: bool,
    /// The anchor of the flow collection closed last (0: none).
    flow_anchor: usize,
}

/// What a scalar is needed as.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Only its key text (a plain mapping key): its node is dropped.
    KeyOnly,
    /// Only its node.
    Node,
    /// Both (anchored: an alias of it may be a key).
    Both,
}

enum Role {
    Key,
    Value,
    Item,
    Root,
}

impl<'s> Builder<'s> {
    fn new(src: &'s str) -> Self {
        Builder {
            src,
            stack: Vec::new(),
            pending: Vec::new(),
            after_dash: 0,
            anchors: HashMap::new(),
            copied: 0,
            comments: HashMap::new(),
            doc: None,
            docs: Vec::new(),
            layouts: Vec::new(),
            open_end: false,
            metadata: None,
            more_metadata: Vec::new(),
            metadata_spans: Vec::new(),
            metadata_fill: Vec::new(),
            prev_end: 0,
            last_wide: 0..0,
            inside: Vec::new(),
            lean: false,
            closing: None,
            after_flow: false,
            flow_anchor: 0,
            non_string_key: None,
            sops_unreadable: None,
            tags_before_anchors: Vec::new(),
        }
    }

    fn finish(mut self) -> Output {
        if self.may_refuse() {
            if let Some(at) = super::gotabs::refused_tab(self.src, &self.docs) {
                self.sops_unreadable = Some((
                    at,
                    SopsRefusal::Unreadable("a tab after a `-`, `?` or `:` indicator, which go-yaml refuses (\"found character that cannot start any token\")"),
                ));
            }
        }
        if self.may_refuse() {
            if let Some(at) = later_bom(self.src, &self.docs) {
                self.sops_unreadable = Some((
                    at,
                    SopsRefusal::ReadOtherwise("a byte order mark at the start of a line after the text's start (YAML reads it as a document prefix, go-yaml as part of the text that follows)"),
                ));
            }
        }
        Output {
            parsed: Parsed {
                tree: Tree::new(self.docs),
                metadata: self.metadata,
                metadata_spans: self.metadata_spans,
                metadata_fill: self.metadata_fill,
                marks: layout_marks(self.src.len(), &self.layouts),
                non_string_key: self.non_string_key,
                sops_unreadable: self.sops_unreadable,
                tags_before_anchors: self.tags_before_anchors,
            },
            layouts: self.layouts,
            more_metadata: self.more_metadata,
        }
    }

    fn event(
        &mut self,
        event: Event<'_>,
        range: Span,
        tag_start: Option<usize>,
    ) -> Result<(), ParseError> {
        if let Event::Anchor(_, name) = &event {
            // Presentation only (after its node's event): its name, as
            // go-yaml reads names.
            self.anchor_name(name, range.start);
            return Ok(());
        }
        if let Some(t) = tag_start {
            // go-yaml's tags hold no `#` (YAML's URI characters do).
            let tag = self.src.get(t..).unwrap_or("");
            let tag = tag.split([' ', '\t', '\r', '\n']).next().unwrap_or("");
            if tag.contains('#') && self.may_refuse() {
                self.sops_unreadable = Some((
                    t,
                    SopsRefusal::Unreadable("a tag holding `#`, which go-yaml refuses (\"did not find expected whitespace or line break\")"),
                ));
            }
        }
        let is_comment = matches!(event, Event::Comment(..));
        let is_close = matches!(event, Event::MappingEnd | Event::SequenceEnd);
        if !is_close {
            self.end_closing();
        }
        let after_flow = self.after_flow;
        self.after_flow = false;
        self.handle(event, range.clone(), tag_start, after_flow)?;
        if !is_comment {
            self.prev_end = range.end;
        }
        Ok(())
    }

    /// The comments no closing collection took wait for the next key or
    /// item again.
    fn end_closing(&mut self) {
        if let Some(closing) = self.closing.take() {
            self.pending = closing.rest();
            self.after_dash = 0;
        }
    }

    fn handle(
        &mut self,
        event: Event<'_>,
        range: Span,
        tag_start: Option<usize>,
        after_flow: bool,
    ) -> Result<(), ParseError> {
        match event {
            Event::StreamStart | Event::Anchor(..) => {}
            Event::StreamEnd => self.stream_end(),
            Event::DocumentStart(explicit, _) => {
                // A `...` marker before the first document: go-yaml
                // refuses it ("did not find expected node content").
                if self.docs.is_empty() && self.may_refuse() {
                    let head = self.src.get(..range.start).unwrap_or("");
                    let marker = head
                        .split('\n')
                        .any(|l| is_marker_line(l.trim_start_matches('\u{feff}'), "..."));
                    if marker {
                        self.sops_unreadable = Some((
                            0,
                            SopsRefusal::Unreadable("a `...` document end marker before the first document, which go-yaml refuses (\"did not find expected node content\")"),
                        ));
                    }
                }
                if !explicit && !self.docs.is_empty() && self.may_refuse() {
                    // A document after `...` without its own `---`.
                    self.sops_unreadable = Some((
                        range.start,
                        SopsRefusal::Unreadable("a document after a `...` marker without a `---` marker, which go-yaml refuses (\"did not find expected <document start>\")"),
                    ));
                }
                if explicit && self.may_refuse() {
                    if let Some(found) = self.directives(range.start) {
                        self.sops_unreadable = Some((found.0, SopsRefusal::Unreadable(found.1)));
                    }
                }
                self.close_open_end(range.start);
                self.doc = Some(Doc {
                    start: range.start,
                    ..Doc::default()
                });
            }
            Event::DocumentEnd => self.document_end(range),
            Event::Comment(text, placement) => self.comment(text, placement, range, after_flow),
            Event::Scalar(value, style, anchor, tag) => {
                // `- # c` over an empty item: sops measured, the comment
                // selects the next item.
                let empty = range.is_empty() && style == ScalarStyle::Plain && tag.is_none();
                self.before_node(empty && matches!(self.role(), Role::Item));
                let is_key = matches!(self.role(), Role::Key);
                if is_key
                    && self.non_string_key.is_none()
                    && !key_is_string(&value, style, tag.as_deref())
                {
                    self.non_string_key = Some(range.start);
                }
                let key = match (is_key, anchor) {
                    (true, 0) => Want::KeyOnly,
                    (false, 0) => Want::Node,
                    _ => Want::Both,
                };
                let done = self.scalar(value, style, tag.as_deref(), range, tag_start, key);
                self.complete(done, anchor)?;
                for c in std::mem::take(&mut self.inside) {
                    self.inside_comment(c);
                }
            }
            Event::Alias(id) => {
                let name = self.src.get(range.clone()).unwrap_or("");
                self.anchor_name(name.strip_prefix('*').unwrap_or(name), range.start);
                self.before_node(false);
                let Some((node, size, key)) = self.anchors.get(&id).cloned() else {
                    return Err(ParseError::at(self.src, range.start, "unknown anchor"));
                };
                self.copied = self.copied.saturating_add(size);
                if self.copied > ALIAS_BUDGET {
                    return Err(ParseError::at(
                        self.src,
                        range.start,
                        "too many alias expansions",
                    ));
                }
                let done = Done {
                    node: Node::Alias(Box::new(node)),
                    start: range.start,
                    end: range.end,
                    size,
                    key,
                };
                self.complete(done, 0)?;
            }
            Event::UnresolvedAlias(_) => {
                return Err(ParseError::at(self.src, range.start, "unknown anchor"));
            }
            Event::SequenceStart(style, anchor, _) => {
                self.open(Coll::Seq(Vec::new()), style, anchor, range)
            }
            Event::MappingStart(style, anchor, _) => {
                self.open(Coll::Map(Vec::new()), style, anchor, range)
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(range)?,
            #[allow(unreachable_patterns)]
            _ => {}
        }
        Ok(())
    }

    fn role(&self) -> Role {
        match self.stack.last() {
            None => Role::Root,
            Some(f) => match f.coll {
                Coll::Map(_) if f.key.is_none() => Role::Key,
                Coll::Map(_) => Role::Value,
                Coll::Seq(_) => Role::Item,
            },
        }
    }

    /// A node begins: comments waiting for a key or item go before it.
    /// With `keep_after_dash` (a block collection or an empty item
    /// begins), the comments after a lone `- ` wait for the next key or
    /// item (go-yaml makes such a comment the head comment of the first
    /// token after it; sops measured: `- # c` + `  a: 1` + `  b: 2`
    /// selects `a` only).
    fn before_node(&mut self, keep_after_dash: bool) {
        if matches!(self.role(), Role::Key | Role::Item) && !self.pending.is_empty() {
            let keep = if keep_after_dash { self.after_dash } else { 0 };
            let n = self.pending.len().saturating_sub(keep);
            if let Some(f) = self.stack.last_mut() {
                for c in self.pending.drain(..n) {
                    f.push_comment(c);
                }
            }
            self.after_dash = self.pending.len();
        }
    }

    fn comment(
        &mut self,
        text: Cow<'_, str>,
        placement: granit_parser::Placement,
        range: Span,
        after_flow: bool,
    ) {
        // Keyed by its last character: a comment's span may end with
        // blanks (`# c `), and the walk back over blanks stops there.
        self.comments
            .insert(skip_ws_back(self.src, range.end, range.start), range.start);
        let c = Comment::new(text.into_owned(), Some(range.start + 1..range.end));
        if self.last_wide.contains(&range.start) {
            // On a block scalar's header line, or after a tag.
            self.inside_comment(c);
            return;
        }
        let mut c = c;
        // Right after a flow collection's opening bracket on its line
        // (`{ # c`, `k: [ # c`): go-yaml drops it, so sops's comment stack
        // never sees it.
        let before = self.src.get(line_start(self.src, range.start)..range.start);
        if self.stack.last().is_some_and(|f| f.flow)
            && before.is_some_and(|b| b.trim_end_matches([' ', '\t']).ends_with(['[', '{']))
        {
            c.attach = Attach::Unseen;
        }
        if after_dash(self.src, range.start) {
            // `- # c`, the item's content on the next lines.
            self.pending.push(c);
            self.after_dash += 1;
            return;
        }
        if self.after_dash > 0 {
            // Between a lone `- ` and the item's content.
            self.pending.push(c);
            self.after_dash += 1;
            return;
        }
        if placement == granit_parser::Placement::Right && self.pending.is_empty() {
            let line = line_start(self.src, range.start);
            if let Some(f) = self.stack.last_mut() {
                if after_flow {
                    // `key: {…} # c`: in the flow collection just closed,
                    // its line comment (sops: before its first entry).
                    if let Some(node) = f.last_node_mut() {
                        let mut line = c;
                        line.attach = Attach::Collection;
                        // Aliases of the collection have it too.
                        if let Some((Node::Map(e), ..)) = self.anchors.get_mut(&self.flow_anchor) {
                            e.push(Entry::Comment(line.clone()));
                        } else if let Some((Node::Seq(i), ..)) =
                            self.anchors.get_mut(&self.flow_anchor)
                        {
                            i.push(Item::Comment(line.clone()));
                        }
                        match node {
                            Node::Map(entries) => entries.push(Entry::Comment(line)),
                            Node::Seq(items) => items.push(Item::Comment(line)),
                            _ => {
                                line.attach = Attach::Here;
                                f.push_comment(line)
                            }
                        }
                        return;
                    }
                }
                // `key: value # c`, `- item # c`: the entry's line comment
                // (sops: before the entry).
                if f.between_entries() && f.ends_with_value() && f.last_end >= line {
                    c.attach = Attach::Line;
                    f.push_comment(c);
                    return;
                }
                // After an entry, or after a key whose value is below
                // (`key: # c`: sops puts it before the key).
                if f.between_entries() || (!f.flow && matches!(f.coll, Coll::Map(_))) {
                    f.push_comment(c);
                    return;
                }
            }
        }
        // A line of its own inside a flow collection spread over lines:
        // that collection's (go-yaml gives it to the collection or its
        // next entry, and sops reads it in the collection: `d: {} # c` is
        // written `d: {\n    #ENC[…]\n}`, sealed at `d:`).
        if let Some(f) = self.stack.last_mut().filter(|f| f.flow) {
            f.push_comment(c);
            return;
        }
        self.pending.push(c);
    }

    fn open(&mut self, coll: Coll, style: StructureStyle, anchor: usize, range: Span) {
        let as_key = matches!(self.role(), Role::Key);
        if as_key && self.non_string_key.is_none() {
            self.non_string_key = Some(range.start);
        }
        self.before_node(style == StructureStyle::Block);
        self.stack.push(Frame {
            coll,
            flow: style == StructureStyle::Flow,
            anchor,
            start: range.start,
            last_end: range.end,
            size: 1,
            key: None,
            as_key,
            first_key: None,
        });
    }

    fn close(&mut self, range: Span) -> Result<(), ParseError> {
        let Some(mut f) = self.stack.pop() else {
            return Ok(());
        };
        if f.flow {
            self.after_flow = true;
            self.flow_anchor = f.anchor;
        } else {
            self.foot_comments(&mut f);
        }
        // A key without a value (`{a}`, `? a`): its value is null.
        if let (Some((key, _)), Coll::Map(entries)) = (f.key.take(), &mut f.coll) {
            entries.push(Entry::Pair(Pair {
                key,
                value: Node::value(Value::Null),
            }));
        }
        let end = if f.flow { range.end } else { f.last_end };
        if self.stack.is_empty() {
            // A tab before the top-level keys: YAML indents with spaces only
            // (go-yaml, so sops, refuses it), and the metadata block could
            // not be indented like those keys.
            if let (Coll::Map(_), false, Some(k)) = (&f.coll, f.flow, f.first_key) {
                let prefix = self.src.get(line_start(self.src, k)..k).unwrap_or("");
                if prefix.contains('\t') && prefix.bytes().all(|b| b == b' ' || b == b'\t') {
                    return Err(ParseError::at(
                        self.src,
                        k,
                        "a tab indents the top-level mapping: YAML indents with spaces only",
                    ));
                }
            }
            let layout = match (&f.coll, f.flow) {
                (Coll::Map(_), false) => Root::BlockMap {
                    indent: f.first_key.map_or(0, |k| self.key_indent(k)),
                },
                (Coll::Map(_), true) => Root::FlowMap {
                    close: range.start,
                    comma: self.needs_comma(range.start),
                },
                _ => Root::Other,
            };
            if let Some(doc) = self.doc.as_mut() {
                doc.layout = Some(layout);
            }
        }
        // The source text is only needed when the collection is a key or
        // anchored (an alias of it may be a key): copying every collection's
        // text would copy the whole document once per nesting level.
        let key = if f.as_key || f.anchor != 0 {
            self.src.get(f.start..end).unwrap_or("").trim().to_string()
        } else {
            String::new()
        };
        // Most collections are small: give back the doubling's spare room
        // (a shrink in place, no copy), a third of a large tree's size.
        let node = match f.coll {
            Coll::Map(mut entries) => {
                entries.shrink_to_fit();
                Node::Map(entries)
            }
            Coll::Seq(mut items) => {
                items.shrink_to_fit();
                Node::Seq(items)
            }
        };
        let done = Done {
            node,
            start: f.start,
            end,
            size: f.size,
            key,
        };
        self.complete(done, f.anchor)
    }

    /// Give a closing block collection the waiting comments that sops puts
    /// at its end (see [`super::foot`]).
    fn foot_comments(&mut self, f: &mut Frame) {
        let col = |pos: usize| pos - line_start(self.src, pos).min(pos);
        if self.closing.is_none() && !self.pending.is_empty() {
            // An empty last item's `- # c` too (sops measured: nested,
            // it selects nothing after the sequence).
            let pending = std::mem::take(&mut self.pending);
            self.after_dash = 0;
            // The metadata key's column: a block mapping's keys' at the top.
            let root = self.stack.first().unwrap_or(&*f);
            let end = match (&root.coll, root.flow) {
                (Coll::Map(_), false) => Some(root.first_key.map_or(0, col)),
                _ => None,
            };
            self.closing = Some(Closing::new(self.src, pending, col(f.start), end));
        }
        let Some(closing) = self.closing.as_mut() else {
            return;
        };
        let indent = col(f.start);
        // A block sequence at its key's column (`key:\n- a`) has no
        // indentation level of its own in go-yaml.
        let claims = !matches!(f.coll, Coll::Seq(_))
            || !self
                .stack
                .last()
                .is_some_and(|p| !p.flow && p.first_key.is_some_and(|k| col(k) == indent));
        for c in closing.take(indent, claims) {
            f.push_comment(c);
        }
    }

    /// Whether the text before a flow mapping's `}` at `close` ends with an
    /// entry (so a new entry needs a comma) rather than `{` or `,`.
    fn needs_comma(&self, close: usize) -> bool {
        let i = self.back_over_blanks(close, 0);
        !matches!(
            self.src.as_bytes().get(i.wrapping_sub(1)),
            Some(b',' | b'{')
        )
    }

    /// Walk back from `i` over whitespace and comments, not below `floor`.
    fn back_over_blanks(&self, mut i: usize, floor: usize) -> usize {
        loop {
            i = skip_ws_back(self.src, i, floor);
            match self.comments.get(&i) {
                Some(&start) if start >= floor && start < i => i = start,
                _ => return i,
            }
        }
    }

    fn scalar(
        &mut self,
        value: Cow<'_, str>,
        style: ScalarStyle,
        tag: Option<&Tag>,
        range: Span,
        tag_start: Option<usize>,
        want: Want,
    ) -> Done {
        let (mut start, end) = match style {
            ScalarStyle::Literal | ScalarStyle::Folded => self.block_extent(&range),
            _ => (range.start, range.end),
        };
        if let Some(t) = tag_start.filter(|&t| t < start) {
            if self.anchor_after_tag(t, start) {
                self.tags_before_anchors.push((t, start));
            } else {
                start = t;
            }
        }
        if style == ScalarStyle::Plain && self.may_refuse() {
            self.flow_plain_as_go_yaml(&range);
        }
        if style == ScalarStyle::DoubleQuoted && self.may_refuse() {
            if let Some((at, what)) = go_yaml_escape(self.src.get(range.clone()).unwrap_or("")) {
                self.sops_unreadable = Some((range.start + at, SopsRefusal::Unreadable(what)));
            }
        }
        let empty = range.is_empty() && style == ScalarStyle::Plain;
        let value = match value {
            v if !self.block_adds_a_break(style, &range, &v) => v,
            Cow::Borrowed(v) => Cow::Borrowed(v.get(..v.len() - 1).unwrap_or(v)),
            Cow::Owned(mut v) => {
                v.pop();
                Cow::Owned(v)
            }
        };
        let (key, value) = match want {
            _ if empty => (String::new(), value),
            Want::Node => (String::new(), value),
            Want::Both => (value.to_string(), value),
            // The node is dropped: the text moves into the key.
            Want::KeyOnly => (value.into_owned(), Cow::Borrowed("")),
        };
        let typed = match tag {
            Some(tag) if tag.handle() == "tag:yaml.org,2002:" => {
                if empty && tag.suffix() == "null" {
                    Value::Null
                } else if empty {
                    // go-yaml reads an empty node as `!!null ""`, which it
                    // cannot decode as a number, boolean or time.
                    if ["int", "float", "bool", "timestamp"].contains(&tag.suffix())
                        && want != Want::KeyOnly
                        && self.may_refuse()
                    {
                        self.sops_unreadable = Some((
                            start,
                            SopsRefusal::Unreadable("an empty value with a `!!int`, `!!float`, `!!bool` or `!!timestamp` tag, which go-yaml refuses (\"cannot decode !!null `` as a !!int\")"),
                        ));
                    }
                    Value::Str(String::new())
                } else {
                    match resolve_core_tag(tag.suffix(), &value) {
                        Ok(v) => v,
                        Err(what) => {
                            if want != Want::KeyOnly && self.may_refuse() {
                                self.sops_unreadable = Some((start, what));
                            }
                            Value::Str(value.into_owned())
                        }
                    }
                }
            }
            Some(_) if empty => Value::Str(String::new()),
            Some(_) => Value::Str(value.into_owned()),
            None if empty => Value::Null,
            None if style == ScalarStyle::Plain => {
                if self.lean
                    && crate::cipher::is_encrypted(&value)
                    && self.src.get(range.clone()) == Some(&*value)
                {
                    // The text is the span: no copy (see `parse_with`).
                    Value::Str(String::new())
                } else {
                    let typed =
                        resolve_typed(&value).unwrap_or_else(|| Value::Str(value.into_owned()));
                    if matches!(typed, Value::Float(_))
                        && want != Want::KeyOnly
                        && self.sops_unreadable.is_none()
                        && super::resolve::is_go_uint64(self.src.get(range.clone()).unwrap_or(""))
                    {
                        self.sops_unreadable = Some((start, SopsRefusal::Uint64));
                    }
                    typed
                }
            }
            None => Value::Str(value.into_owned()),
        };
        if start < range.start || end > range.end {
            self.take_comments_inside(start, end);
            self.last_wide = start..end;
        }
        let slot = match self.stack.last() {
            Some(f) if f.flow => Slot::Quoted,
            _ => Slot::Bare,
        };
        let span = if empty && tag.is_none() {
            range.start..range.start
        } else {
            start..end.max(start)
        };
        let size = alias_cost(&typed);
        Done {
            node: Node::Scalar(Scalar {
                value: typed,
                span: Some(span),
                slot,
            }),
            start,
            end: end.max(start),
            size,
            key,
        }
    }

    /// A plain scalar in a flow collection that go-yaml reads otherwise
    /// than YAML 1.2, or refuses: go-yaml ends a plain scalar there at any
    /// `?` (an explicit key's indicator: `[?x: y]` is `[{x: y}]`, `[a?b]`
    /// is refused) and reads a `:` at a token's start as a value indicator
    /// (`[:b]` is refused), but takes a `:` followed by `,`, `[`, `]`, `{`
    /// or `}` into the scalar (`[x:]` is `["x:"]`, not `[{x: null}]`).
    fn flow_plain_as_go_yaml(&mut self, range: &Span) {
        if !self.stack.last().is_some_and(|f| f.flow) {
            return;
        }
        let lexeme = self.src.get(range.clone()).unwrap_or("");
        if lexeme.is_empty() {
            // An empty value (`["x":]`): its position is no scalar's end.
            return;
        }
        let after = self
            .src
            .get(range.end..)
            .unwrap_or("")
            .trim_start_matches([' ', '\t', '\r', '\n']);
        let refusal = if lexeme.starts_with('?') {
            SopsRefusal::ReadOtherwise("a `?` followed by a non-blank in a flow collection, which go-yaml reads as an explicit key's indicator (`[?x: y]` is `[{x: y}]` there)")
        } else if lexeme.starts_with(':') || lexeme.contains('?') {
            SopsRefusal::Unreadable("a plain scalar starting with `:` or holding `?` in a flow collection, which go-yaml refuses (\"did not find expected ',' or ']'\")")
        } else if after.starts_with(':')
            && after
                .as_bytes()
                .get(1)
                .is_some_and(|b| b",[]{}".contains(b))
        {
            SopsRefusal::ReadOtherwise("a plain scalar followed by `:` and a flow indicator in a flow collection (`[x:]`), whose `:` go-yaml reads as part of the text (`[\"x:\"]`), not as a value indicator")
        } else {
            return;
        };
        self.sops_unreadable = Some((range.start, refusal));
    }

    /// Whether a construct go-yaml refuses is still to be recorded: none
    /// is yet, or only a uint64 value (which sops refuses later, when it
    /// encrypts: the refusal to read comes first).
    fn may_refuse(&self) -> bool {
        self.sops_unreadable
            .is_none_or(|(_, refusal)| refusal == SopsRefusal::Uint64)
    }

    /// An anchor's or alias's name at byte `at`: go-yaml reads only
    /// letters, digits, `_` and `-` (YAML allows more).
    fn anchor_name(&mut self, name: &str, at: usize) {
        let go = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        if self.may_refuse() && !name.bytes().all(go) {
            self.sops_unreadable = Some((
                at,
                SopsRefusal::Unreadable("an anchor or alias name with a character other than a letter, digit, `_` or `-`, which go-yaml refuses"),
            ));
        }
        // go-yaml ends a name only at a blank, a line break, the end or
        // one of `?:,]}%@` and a backtick (`&a[]` is refused there).
        let after = self.src.as_bytes().get(at + 1 + name.len()).copied();
        let ends = after.is_none_or(|b| b" \t\r\n?:,]}%@`".contains(&b));
        let marked = matches!(self.src.as_bytes().get(at), Some(b'&' | b'*'));
        if marked && !ends && self.may_refuse() {
            self.sops_unreadable = Some((
                at,
                SopsRefusal::Unreadable("an anchor or alias name followed by a character go-yaml does not end a name at (\"did not find expected alphabetic or numeric character\")"),
            ));
        }
    }

    /// The span of a block scalar: from its `|`/`>` header to the last
    /// content character (granit's span starts at the content and runs over
    /// the trailing line breaks).
    fn block_extent(&self, range: &Span) -> (usize, usize) {
        let bytes = self.src.as_bytes();
        // Up to and including `range.start`: granit's span of a block
        // scalar without content (`k: |+` and blank lines) starts at the
        // header itself.
        let Some(header) = self.find_header(self.prev_end.min(range.start), range.start + 1) else {
            return (range.start, range.end);
        };
        let mut after_header = header + 1;
        while matches!(bytes.get(after_header), Some(b'0'..=b'9' | b'+' | b'-')) {
            after_header += 1;
        }
        let end = self.back_over_blanks(range.end, after_header);
        let end = self.blank_content_lines(after_header, end, range.end);
        (header, end.max(after_header))
    }

    /// The end of a block scalar's last line that holds only blanks but is
    /// content (more than the scalar's indentation: a tab, or spaces past
    /// it; `k: |-\n  x\n  \t` is `x\n\t`), if any follows `end` (the last
    /// other character) before `limit`; else `end`. Without it, a value
    /// replaced there left that line behind, which go-yaml refuses.
    fn blank_content_lines(&self, after_header: usize, end: usize, limit: usize) -> usize {
        let src = self.src;
        // Only line breaks after the last character (the usual case), or
        // an explicit indentation indicator: nothing to take.
        let explicit = src
            .get(after_header.saturating_sub(2)..after_header)
            .is_some_and(|h| h.bytes().any(|b| b.is_ascii_digit()));
        let blanks = src
            .get(end..limit)
            .is_some_and(|t| t.bytes().any(|b| b == b' ' || b == b'\t'));
        if explicit || !blanks {
            return end;
        }
        // The indentation: the first line with more than spaces.
        let Some(indent) = src.get(after_header..limit).and_then(|body| {
            body.split('\n').skip(1).find_map(|line| {
                let line = line.strip_suffix('\r').unwrap_or(line);
                let body = line.trim_start_matches(' ');
                (!body.is_empty()).then_some(line.len() - body.len())
            })
        }) else {
            return end;
        };
        let mut out = end;
        let Some(mut at) = src
            .get(end..limit)
            .and_then(|t| t.find('\n'))
            .map(|i| end + i + 1)
        else {
            return end;
        };
        while at < limit {
            let line_end = src
                .get(at..limit)
                .and_then(|t| t.find('\n'))
                .map_or(limit, |i| at + i);
            let line = src.get(at..line_end).unwrap_or("");
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.len() > indent && line.bytes().all(|b| b == b' ' || b == b'\t') {
                out = at + line.len();
            }
            at = line_end + 1;
        }
        out
    }

    /// The first directive before the `---` at `marker` that go-yaml v3
    /// refuses: `%YAML` other than 1.1 ("found incompatible YAML
    /// document") or a reserved one ("found unknown directive name");
    /// `%TAG` is fine. Directives are the lines starting with `%` between
    /// the previous event (the stream's start or a `...`) and the marker.
    fn directives(&self, marker: usize) -> Option<(usize, &'static str)> {
        let from = self.prev_end.min(marker);
        let prefix = self.src.get(from..marker)?;
        let mut at = from;
        for line in prefix.split_inclusive('\n') {
            let start = at;
            at += line.len();
            let Some(directive) = line.trim_start_matches('\u{feff}').strip_prefix('%') else {
                continue;
            };
            let mut words = directive
                .split([' ', '\t', '\r', '\n'])
                .filter(|w| !w.is_empty());
            match words.next() {
                Some("TAG") => {}
                Some("YAML") => {
                    let version = words.next().unwrap_or("");
                    let numbers: Vec<Option<u64>> = version
                        .split('.')
                        .map(|n| {
                            n.bytes()
                                .all(|c| c.is_ascii_digit())
                                .then(|| n.parse().ok())
                                .flatten()
                        })
                        .collect();
                    if numbers != [Some(1), Some(1)] {
                        return Some((
                            start,
                            "a `%YAML` directive for a version other than 1.1, which go-yaml refuses (\"found incompatible YAML document\")",
                        ));
                    }
                }
                _ => {
                    return Some((
                        start,
                        "a directive go-yaml does not know (\"found unknown directive name\")",
                    ))
                }
            }
        }
        None
    }

    /// Whether granit ended the value of a block scalar (`style`, granit's
    /// `range`) with a line break the text does not have: clip and keep
    /// chomping keep the last line's break only if there is one (YAML 1.2
    /// §8.1.1.2), so a last content line that ends the text without one
    /// adds none (`k: |\n  a` is `a`, as go-yaml reads it), and neither does
    /// an unterminated line of indentation after the header (`k: |+\n  `
    /// is empty). granit adds one in both cases. In an encrypted file, the
    /// line break inserted before the metadata of such a text (see
    /// [`Self::block_meta_span`]) is not the scalar's either.
    fn block_adds_a_break(&self, style: ScalarStyle, range: &Span, value: &str) -> bool {
        if !matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) || !value.ends_with('\n') {
            return false;
        }
        let Some((end, inserted)) = self.text_end(range.end) else {
            return false;
        };
        let src = self.src.get(..end).unwrap_or("");
        let Some(header) = self.find_header(self.prev_end.min(range.start), range.start) else {
            // No content line (granit's range starts at the header): the
            // value holds only the breaks of the empty lines after the
            // header's own break; the unterminated last line has none.
            if !matches!(src.as_bytes().get(range.start), Some(b'|' | b'>')) {
                return false;
            }
            let breaks = src
                .get(range.start..)
                .map_or(0, |t| t.bytes().filter(|&c| c == b'\n').count());
            return value.len() >= breaks;
        };
        // The range starts at the indentation of the first content line:
        // the last line is content if it is longer than that. If it is
        // not, the inserted break made it an empty line, which only keep
        // chomping (`+`) puts in the value.
        let indent = range.start.saturating_sub(line_start(src, range.start));
        let content = end - line_start(src, end) > indent;
        let keep = || {
            let indicators = src.get(header + 1..).unwrap_or("");
            indicators
                .bytes()
                .take_while(|c| matches!(c, b'0'..=b'9' | b'+' | b'-'))
                .any(|c| c == b'+')
        };
        content || (inserted && keep())
    }

    /// Where the text as written ends, if a scalar whose granit range ends
    /// at `at` reaches that end, and whether a line break was inserted
    /// there: the end of a text without a final line break, or the line
    /// break before the `sops:` metadata that sops-like appended to such a
    /// text (the metadata runs to the end, which has no line break).
    fn text_end(&self, at: usize) -> Option<(usize, bool)> {
        let src = self.src;
        if src.as_bytes().last().is_none_or(|&c| is_lb(c)) {
            return None;
        }
        if at == src.len() {
            return Some((at, false));
        }
        let rest = src.get(at..)?;
        let metadata = rest.trim_start_matches(' ').starts_with("sops:")
            && rest
                .split('\n')
                .skip(1)
                .all(|l| l.is_empty() || l.starts_with(' '));
        let before = src.get(..at)?;
        let lb = if before.ends_with("\r\n") {
            2
        } else if before.ends_with(['\n', '\r']) {
            1
        } else {
            return None;
        };
        let end = at - lb;
        let ends_line = src.as_bytes().get(..end)?.last().is_some_and(|&c| is_lb(c));
        (metadata && !ends_line).then_some((end, true))
    }

    /// The `|`/`>` of a block scalar, scanning forward from the end of the
    /// previous event over indicators, properties and comments.
    fn find_header(&self, from: usize, to: usize) -> Option<usize> {
        let b = self.src.as_bytes();
        let mut i = from;
        while i < to {
            match b.get(i)? {
                b' ' | b'\t' | b'\r' | b'\n' | b':' | b'-' | b'?' => i += 1,
                b'#' => {
                    while b.get(i).is_some_and(|&c| !is_lb(c)) {
                        i += 1;
                    }
                }
                b'&' | b'!' => {
                    while b
                        .get(i)
                        .is_some_and(|&c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
                    {
                        i += 1;
                    }
                }
                b'|' | b'>' => return Some(i),
                _ => return None,
            }
        }
        None
    }

    /// In `!tag &anchor value` the anchor sits between tag and value; the
    /// anchor must stay outside the span, so the span starts at the value.
    fn anchor_after_tag(&self, tag_start: usize, start: usize) -> bool {
        let between = self.src.get(tag_start..start).unwrap_or("");
        let after_tag = between
            .find(|c: char| c.is_whitespace())
            .map_or("", |i| between.get(i..).unwrap_or(""));
        after_tag.trim_start().starts_with('&')
    }

    /// Comments inside a scalar's span (on a block header line, between a
    /// tag and its value), read before the scalar: taken out of where they
    /// went, in order, to follow the scalar (see [`Builder::inside_comment`]).
    fn take_comments_inside(&mut self, start: usize, end: usize) {
        let inside = |c: &Comment| {
            c.span
                .as_ref()
                .is_some_and(|s| s.start > start && s.start < end)
        };
        let mut taken = Vec::new();
        if let Some(f) = self.stack.last_mut() {
            match &mut f.coll {
                Coll::Map(entries) => {
                    while matches!(entries.last(), Some(Entry::Comment(c)) if inside(c)) {
                        if let Some(Entry::Comment(c)) = entries.pop() {
                            taken.push(c);
                        }
                    }
                }
                Coll::Seq(items) => {
                    while matches!(items.last(), Some(Item::Comment(c)) if inside(c)) {
                        if let Some(Item::Comment(c)) = items.pop() {
                            taken.push(c);
                        }
                    }
                }
            }
        }
        taken.reverse();
        let (moved, kept): (Vec<Comment>, Vec<Comment>) =
            self.pending.drain(..).partition(|c| inside(c));
        self.pending = kept;
        self.after_dash = self.after_dash.min(self.pending.len());
        taken.extend(moved);
        taken.sort_by_key(|c| c.span.as_ref().map_or(0, |s| s.start));
        self.inside = taken;
    }

    /// A comment inside the lexeme of the scalar just read (`k: > # c`,
    /// `k: !!str # c` + the value below): the line comment of its entry or
    /// item, as go-yaml gives it (sops puts it before the entry), so that it
    /// is encrypted like any comment. Sealing an encrypted value seals it
    /// with the lexeme (XChaCha) or after the `ENC[…]` text (AES); see
    /// `engine::seal`. Inside a key: a comment where it stands.
    fn inside_comment(&mut self, mut c: Comment) {
        c.attach = if matches!(self.role(), Role::Value) {
            Attach::Here
        } else {
            Attach::Line
        };
        if let Some(f) = self.stack.last_mut() {
            f.push_comment(c);
        }
    }

    /// Put a finished node where it belongs.
    fn complete(&mut self, done: Done, anchor: usize) -> Result<(), ParseError> {
        if anchor != 0 {
            self.anchors
                .insert(anchor, (done.node.clone(), done.size, done.key.clone()));
        }
        let at_root = self.stack.len() == 1;
        let src = self.src;
        let mut bad_merge = None;
        let Some(f) = self.stack.last_mut() else {
            if let Some(doc) = self.doc.as_mut() {
                doc.root = Some(done);
            }
            return Ok(());
        };
        f.last_end = f.last_end.max(done.end);
        f.size = f.size.saturating_add(done.size);
        let flow = f.flow;
        match &mut f.coll {
            Coll::Seq(items) => items.push(Item::Node(done.node)),
            Coll::Map(entries) => match f.key.take() {
                None => {
                    f.first_key.get_or_insert(done.start);
                    f.key = Some((done.key, done.start));
                }
                Some((key, key_start)) if at_root && !f.as_key && key == "sops" => {
                    // go-yaml (so sops) refuses a key twice at the top
                    // level; a second block would be read by no one, and
                    // is what joining two documents leaves.
                    if self.doc.as_ref().is_some_and(|d| d.has_meta) {
                        return Err(ParseError::at(
                            src,
                            key_start,
                            "the key `sops` appears twice in one document: a file joined from two, or changed by hand",
                        ));
                    }
                    let span = if flow {
                        self.flow_meta_span(key_start, done.end)
                    } else {
                        self.block_meta_span(key_start, done.end)
                    };
                    self.metadata_spans.push(span);
                    if let Some(doc) = self.doc.as_mut() {
                        doc.has_meta = true;
                    }
                    let mut node = done.node;
                    if self.lean {
                        crate::syntax::restore_enc(self.src, &mut node);
                    }
                    if self.metadata.is_none() {
                        self.metadata = Some(node);
                    } else {
                        self.more_metadata.push(node);
                    }
                }
                Some((key, key_start)) => {
                    // go-yaml merges a plain `<<` key's value, which must be
                    // a mapping or a sequence of mappings.
                    let merge = key == "<<"
                        && src
                            .get(key_start..)
                            .is_some_and(|k| k.starts_with('<') || k.starts_with("!!merge"));
                    if merge && !merges(&done.node) {
                        bad_merge = Some(key_start);
                    }
                    entries.push(Entry::Pair(Pair {
                        key,
                        value: done.node,
                    }))
                }
            },
        }
        if let Some(at) = bad_merge.filter(|_| self.may_refuse()) {
            self.sops_unreadable = Some((
                at,
                SopsRefusal::Unreadable("a merge key `<<` whose value is not a mapping or a sequence of mappings, which go-yaml refuses (\"map merge requires map or sequence of maps as the value\")"),
            ));
        }
        Ok(())
    }

    /// The bytes of a block-style `sops:` entry: its whole lines, plus the
    /// line break before it when the file ends right after it (insertion
    /// into a text without a final line break).
    fn block_meta_span(&self, key_start: usize, end: usize) -> Span {
        let src = self.src;
        let mut start = line_start(src, key_start);
        if !src
            .get(start..key_start)
            .is_some_and(|p| p.bytes().all(|c| c == b' '))
        {
            start = key_start;
        }
        if end >= src.len() {
            let b = src.as_bytes();
            let sep = if start >= 2 && b.get(start - 2..start) == Some(b"\r\n") {
                2
            } else if start >= 1 && b.get(start - 1).copied().is_some_and(is_lb) {
                1
            } else {
                0
            };
            return start - sep..end;
        }
        let rest = src.get(end..).unwrap_or("");
        let blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let after = end + blanks;
        let lb = match src.as_bytes().get(after..after + 2) {
            Some(b"\r\n") => 2,
            _ if src.as_bytes().get(after).copied().is_some_and(is_lb) => 1,
            _ => return start..end,
        };
        start..after + lb
    }

    /// The bytes of a flow-style `sops` entry: `, sops: {…}` before the
    /// closing brace, or `sops: {…},` after a `{` or a trailing comma.
    fn flow_meta_span(&self, key_start: usize, end: usize) -> Span {
        let b = self.src.as_bytes();
        if b.get(end) == Some(&b',') {
            key_start..end + 1
        } else if key_start >= 2 && b.get(key_start - 2..key_start) == Some(b", ") {
            key_start - 2..end
        } else {
            key_start..end
        }
    }

    /// The indentation of the mapping whose first key starts at `k`: that
    /// key's line's, or the `?` indicator's line's when the key is an
    /// explicit one below it (`?\n a\n: 1`, `? # c\n a\n: 1`; blank and
    /// comment lines may come between).
    fn key_indent(&self, k: usize) -> usize {
        let src = self.src;
        let start = line_start(src, k);
        // (`line_start` starts the first line after a BOM.)
        let own = src.get(start..k).unwrap_or("");
        if !own.trim_start_matches([' ', '\t']).is_empty() {
            return indent_of(src, k);
        }
        let mut end = start;
        while end > 0 {
            let from = line_start(src, end - 1);
            let line = src
                .get(from..end - 1)
                .unwrap_or("")
                .trim_matches([' ', '\t', '\r']);
            if let Some(rest) = line.strip_prefix('?') {
                if rest.is_empty() || rest.starts_with([' ', '\t']) {
                    return indent_of(src, from);
                }
                break;
            }
            if !(line.is_empty() || line.starts_with('#')) {
                break;
            }
            end = from;
        }
        indent_of(src, k)
    }

    fn document_end(&mut self, range: Span) {
        let doc = self.doc.take().unwrap_or_default();
        let (mut node, layout) = match doc.root {
            Some(Done {
                node: Node::Scalar(s),
                ..
            }) if s.value == Value::Null && s.span.as_ref().is_some_and(|r| r.is_empty()) => {
                (Node::Scalar(s), Root::Empty)
            }
            Some(done) => (done.node, doc.layout.unwrap_or(Root::Other)),
            None => (Node::value(Value::Null), Root::Empty),
        };
        // A block mapping whose only key is `sops` holds the empty mapping,
        // as sops reads it (and writes it, for a document emptied by
        // `unset`): `{}` takes the metadata's place in the plaintext.
        if doc.has_meta
            && matches!(layout, Root::BlockMap { .. })
            && matches!(&node, Node::Map(e) if !e.iter().any(|e| matches!(e, Entry::Pair(_))))
        {
            if let Some(span) = self.metadata_spans.last() {
                let fill = empty_map_fill(self.src.get(span.clone()).unwrap_or(""));
                self.metadata_fill.push((span.clone(), fill));
            }
        }
        append_comments(&mut node, layout == Root::Empty, &mut self.pending);
        self.after_dash = 0;
        let explicit = !range.is_empty();
        let end = if explicit {
            range.start
        } else {
            self.src.len()
        };
        self.open_end = !explicit;
        self.layouts.push(DocLayout {
            root: layout,
            end,
            start: doc.start,
            lb: line_break_style(self.src, doc.start, end),
            has_meta: doc.has_meta,
        });
        self.docs.push(node);
    }

    fn close_open_end(&mut self, at: usize) {
        if self.open_end {
            if let Some(l) = self.layouts.last_mut() {
                l.end = at;
                l.lb = line_break_style(self.src, l.start, at);
            }
            self.open_end = false;
        }
    }

    fn stream_end(&mut self) {
        self.close_open_end(self.src.len());
        if let Some(last) = self.docs.last_mut() {
            // (Comments after the last document's `...` are its own.)
            let empty = self.layouts.last().is_some_and(|l| l.root == Root::Empty);
            append_comments(last, empty, &mut self.pending);
        }
        self.pending.clear();
        self.after_dash = 0;
    }
}

/// The plaintext of a document whose block metadata `removed` was its only
/// key: `{}` with the line break the removal takes (after it; or before it,
/// for a block at the end of a text without a final line break).
fn empty_map_fill(removed: &str) -> &'static str {
    if removed.ends_with("\r\n") {
        "{}\r\n"
    } else if removed.ends_with('\n') {
        "{}\n"
    } else if removed.starts_with("\r\n") {
        "\r\n{}"
    } else if removed.starts_with('\n') {
        "\n{}"
    } else {
        "{}"
    }
}

/// The first escape in the double-quoted scalar `lexeme` that go-yaml
/// refuses (YAML 1.2 allows it): `\/`, or a `\x`/`\u`/`\U` code that is
/// a UTF-16 surrogate (go-yaml does not pair them). Its offset in `lexeme`
/// and what it is.
fn go_yaml_escape(lexeme: &str) -> Option<(usize, &'static str)> {
    let b = lexeme.as_bytes();
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'\\', b.get(i..)?) {
        let at = i + off;
        let len = match b.get(at + 1) {
            Some(b'/') => return Some((at, "the escape `\\/`, which go-yaml refuses")),
            Some(b'x') => 2,
            Some(b'u') => 4,
            Some(b'U') => 8,
            _ => {
                i = at + 2;
                continue;
            }
        };
        let code = lexeme
            .get(at + 2..at + 2 + len)
            .and_then(|h| u32::from_str_radix(h, 16).ok());
        if code.is_some_and(|c| (0xD800..=0xDFFF).contains(&c)) {
            return Some((
                at,
                "an escaped UTF-16 surrogate (`\\ud83d`), which go-yaml refuses",
            ));
        }
        i = at + 2 + len;
    }
    None
}

/// Whether go-yaml reads a mapping key as a string (sops refuses any other
/// key): quoted, `!!str`, another tag, or a plain scalar that resolves to
/// a string (not an int, float, bool, null or timestamp). `!!merge <<`,
/// the merge key as sops writes it, is read as the plain `<<` is.
fn key_is_string(value: &str, style: ScalarStyle, tag: Option<&Tag>) -> bool {
    match tag {
        Some(t) if t.handle() == "tag:yaml.org,2002:" => {
            t.suffix() == "str" || (t.suffix() == "merge" && value == "<<")
        }
        Some(_) => true,
        None if style == ScalarStyle::Plain => {
            matches!(resolve_typed(value), None | Some(Value::Str(_)))
        }
        None => true,
    }
}

/// Whether go-yaml merges `node` as a merge key's value: a mapping (or an
/// alias of one), or a sequence of them.
fn merges(node: &Node) -> bool {
    let map = |n: &Node| match n {
        Node::Map(_) => true,
        Node::Alias(a) => matches!(&**a, Node::Map(_)),
        _ => false,
    };
    match node {
        Node::Seq(items) => items.iter().all(|i| match i {
            Item::Node(n) => map(n),
            Item::Comment(_) => true,
        }),
        n => map(n),
    }
}

/// Trailing comments go to the end of a top-level collection; a scalar
/// document cannot hold them. An `empty` document holding comments becomes
/// the empty mapping sops reads there, holding them (encrypted with the
/// top level's AAD, never dropped and left in clear).
fn append_comments(node: &mut Node, empty: bool, pending: &mut Vec<Comment>) {
    if empty && !pending.is_empty() && matches!(node, Node::Scalar(_)) {
        *node = Node::Map(Vec::new());
    }
    match node {
        Node::Map(entries) => entries.extend(pending.drain(..).map(Entry::Comment)),
        Node::Seq(items) => items.extend(pending.drain(..).map(Item::Comment)),
        _ => pending.clear(),
    }
}

/// Whether only `- ` indicators precede the `#` at byte `hash` on its line
/// (`- # c`, `  - - # c`).
fn after_dash(src: &str, hash: usize) -> bool {
    let before = src.get(line_start(src, hash)..hash).unwrap_or("");
    let body = before.trim_start_matches([' ', '\t']);
    !body.is_empty()
        && body
            .split('-')
            .skip(1)
            .all(|gap| !gap.is_empty() && gap.bytes().all(|b| b == b' ' || b == b'\t'))
        && body.starts_with('-')
}

/// Leading spaces on the line of byte `pos`.
fn indent_of(src: &str, pos: usize) -> usize {
    let start = line_start(src, pos);
    src.get(start..)
        .map_or(0, |l| l.bytes().take_while(|&c| c == b' ').count())
}

/// Words per document in [`Parsed::marks`].
const MARK_WORDS: usize = 7;

/// The layouts as [`Parsed::marks`]: the source length, then
/// [`MARK_WORDS`] words per document, so that metadata insertion needs no
/// second parse of the same text.
pub(crate) fn layout_marks(src_len: usize, layouts: &[DocLayout]) -> Vec<usize> {
    let mut marks = Vec::with_capacity(1 + layouts.len() * MARK_WORDS);
    marks.push(src_len);
    for l in layouts {
        let (kind, a, b) = match l.root {
            Root::Empty => (0, 0, 0),
            Root::Other => (1, 0, 0),
            Root::BlockMap { indent } => (2, indent, 0),
            Root::FlowMap { close, comma } => (3, close, usize::from(comma)),
        };
        let crlf = usize::from(l.lb == "\r\n");
        marks.extend([kind, a, b, l.end, l.start, crlf, usize::from(l.has_meta)]);
    }
    marks
}

/// The layouts recorded by [`layout_marks`] for a parse of `src`, or
/// `None` if `marks` do not come from such a parse.
pub(crate) fn layouts_from_marks(src: &str, marks: &[usize]) -> Option<Vec<DocLayout>> {
    let (&len, rest) = marks.split_first()?;
    if len != src.len() || rest.len() % MARK_WORDS != 0 {
        return None;
    }
    rest.chunks_exact(MARK_WORDS)
        .map(|w| {
            let &[kind, a, b, end, start, crlf, has_meta] = w else {
                return None;
            };
            let root = match kind {
                0 => Root::Empty,
                1 => Root::Other,
                2 => Root::BlockMap { indent: a },
                3 => Root::FlowMap {
                    close: a,
                    comma: b != 0,
                },
                _ => return None,
            };
            if end > src.len() || start > end {
                return None;
            }
            Some(DocLayout {
                root,
                end,
                start,
                lb: if crlf != 0 { "\r\n" } else { "\n" },
                has_meta: has_meta != 0,
            })
        })
        .collect()
}

/// The first byte order mark at the start of a line after the text's first
/// byte and outside every value: YAML 1.2 reads it as a document prefix
/// (`\u{feff}\n\u{feff}k: v` is `{k: v}`), go-yaml only skips one at the
/// text's start and reads the others as text (the key `\u{feff}k`).
fn later_bom(src: &str, docs: &[Node]) -> Option<usize> {
    const BOM: &str = "\u{feff}";
    let start = src.chars().next().map_or(0, char::len_utf8);
    let mut from = start + src.get(start..)?.find(BOM)?;
    let mut spans = Vec::new();
    for doc in docs {
        doc.value_spans(&mut spans);
    }
    loop {
        let at = from + src.get(from..)?.find(BOM)?;
        let line_start = src.as_bytes().get(at.wrapping_sub(1)) == Some(&b'\n');
        if line_start && !spans.iter().any(|s| s.start <= at && at < s.end) {
            return Some(at);
        }
        from = at + BOM.len();
    }
}
