//! Writing trees as go-yaml v3 does with sops's settings: 4-space indent,
//! sequences indented under their key, multi-line strings as literal
//! blocks, comments as `#text` lines. Also a one-line flow form for
//! metadata inside a flow mapping.

use super::lexeme::{string_lexeme, value_lexeme};
use crate::tree::{Entry, Item, Node, Value};
use crate::wipe::SecretText;

/// go-yaml's best indent as sops configures it.
const INDENT: usize = 4;

/// A block-style writer.
pub(crate) struct Emitter<'a> {
    /// A whole decrypted document, when one is written out: see
    /// [`SecretText`].
    out: SecretText,
    lb: &'a str,
    /// Columns added to every line (metadata in an indented document).
    base: usize,
    /// Whether `|+` blocks may be used (not at the end of inserted metadata,
    /// where the trailing empty lines would be ambiguous).
    keep: bool,
}

impl<'a> Emitter<'a> {
    /// A writer with line break `lb`, every line shifted by `base` columns.
    pub(crate) fn new(lb: &'a str, base: usize, keep: bool) -> Self {
        Emitter {
            out: SecretText::default(),
            lb,
            base,
            keep,
        }
    }

    /// The text written so far.
    pub(crate) fn finish(self) -> String {
        self.out.into_string()
    }

    /// Write a whole document.
    pub(crate) fn document(&mut self, node: &Node) {
        let node = unalias(node);
        match node {
            Node::Map(entries) if has_pairs(entries) => self.map(entries, 0, false),
            Node::Seq(items) if has_nodes(items) => self.seq(items, 0, false),
            Node::Map(entries) => {
                // Comments only (a .env file of comment lines): kept above
                // the `{}`, as go-yaml writes them for sops.
                for e in entries {
                    if let Entry::Comment(c) = e {
                        self.indent(0);
                        self.out.push('#');
                        self.out.push_str(&single_line(&c.text));
                        self.out.push_str(self.lb);
                    }
                }
                self.line("{}")
            }
            Node::Seq(_) => self.line("[]"),
            Node::Scalar(s) => {
                let text = value_lexeme(&s.value, false);
                self.line(&text);
            }
            Node::Alias(_) => {}
        }
    }

    /// Write `entries` as a block mapping with keys at column `indent`.
    /// `inline` means the first line's indentation is already written
    /// (after a sequence's `- `).
    pub(crate) fn map(&mut self, entries: &[Entry], indent: usize, inline: bool) {
        let mut first = inline;
        for e in entries {
            if !first {
                self.indent(indent);
            }
            first = false;
            match e {
                Entry::Comment(c) => {
                    self.out.push('#');
                    self.out.push_str(&single_line(&c.text));
                    self.out.push_str(self.lb);
                }
                Entry::Pair(p) => {
                    let key = key_lexeme(p, false);
                    if explicit_key(&p.key, &key) {
                        self.out.push_str("? ");
                        self.rest(&key);
                        self.indent(indent);
                        self.out.push(':');
                        self.explicit_value(&p.value, indent);
                    } else {
                        self.out.push_str(&key);
                        self.out.push(':');
                        self.value(&p.value, indent, false);
                    }
                }
            }
        }
    }

    /// Write the value of an explicit key after its `:`, the key being at
    /// `indent`: as go-yaml writes it, a block mapping or sequence starts
    /// on the `:` line, at the column its later lines take.
    fn explicit_value(&mut self, node: &Node, indent: usize) {
        let child = INDENT * ((indent + INDENT) / INDENT);
        let pad = child.saturating_sub(indent + 1);
        match unalias(node) {
            Node::Map(entries) if has_pairs(entries) => {
                self.out.push_str(&" ".repeat(pad));
                self.map(entries, child, true);
            }
            Node::Seq(items) if has_nodes(items) => {
                self.out.push_str(&" ".repeat(pad));
                self.seq(items, child, true);
            }
            _ => self.value(node, indent, false),
        }
    }

    fn seq(&mut self, items: &[Item], indent: usize, inline: bool) {
        let mut first = inline;
        for i in items {
            if !first {
                self.indent(indent);
            }
            first = false;
            match i {
                Item::Comment(c) => {
                    self.out.push('#');
                    self.out.push_str(&single_line(&c.text));
                    self.out.push_str(self.lb);
                }
                Item::Node(n) => {
                    self.out.push('-');
                    self.value(n, indent, true);
                }
            }
        }
    }

    /// Write a value after `key:` (or `-`), the parent being at `indent`.
    fn value(&mut self, node: &Node, indent: usize, in_seq: bool) {
        // go-yaml: inside a sequence item the content sits right after
        // "- "; elsewhere at the next multiple of the indent.
        let child = if in_seq {
            indent + 2
        } else {
            INDENT * ((indent + INDENT) / INDENT)
        };
        match unalias(node) {
            Node::Map(entries) if has_pairs(entries) => {
                if in_seq {
                    self.out.push(' ');
                    self.map(entries, child, true);
                } else {
                    self.out.push_str(self.lb);
                    self.map(entries, child, false);
                }
            }
            Node::Seq(items) if has_nodes(items) => {
                if in_seq {
                    self.out.push(' ');
                    self.seq(items, child, true);
                } else {
                    self.out.push_str(self.lb);
                    self.seq(items, child, false);
                }
            }
            Node::Map(_) => self.rest(" {}"),
            Node::Seq(_) => self.rest(" []"),
            Node::Scalar(s) => match &s.value {
                Value::Str(text) if self.literal_ok(text) => {
                    self.literal(text, indent, child);
                }
                v => {
                    let text = value_lexeme(v, false);
                    self.out.push(' ');
                    self.rest(&text);
                }
            },
            Node::Alias(_) => self.rest(" null"),
        }
    }

    /// Whether `s` can be a literal block scalar that reads back exactly.
    fn literal_ok(&self, s: &str) -> bool {
        s.contains('\n')
            && !s.bytes().all(|c| c == b'\n')
            && !s.contains(" \n")
            && !s.ends_with(' ')
            && (self.keep || !s.ends_with("\n\n"))
            && s.chars().all(|c| c == '\n' || super::lexeme::printable(c))
    }

    /// `|`, `|-` or `|+` (with an indentation indicator when the text
    /// starts with a space or an empty line), then the lines at `content`.
    fn literal(&mut self, s: &str, parent: usize, content: usize) {
        self.out.push_str(" |");
        if s.starts_with([' ', '\n']) {
            self.out.push_str(&(content - parent).to_string());
        }
        let body = match s.strip_suffix('\n') {
            None => {
                self.out.push('-');
                s
            }
            Some(b) if b.ends_with('\n') => {
                self.out.push('+');
                b
            }
            Some(b) => b,
        };
        self.out.push_str(self.lb);
        for line in body.split('\n') {
            if !line.is_empty() {
                self.indent(content);
                self.out.push_str(line);
            }
            self.out.push_str(self.lb);
        }
    }

    /// Append text as is.
    pub(crate) fn raw(&mut self, text: &str) {
        self.out.push_str(text);
    }

    fn indent(&mut self, n: usize) {
        for _ in 0..self.base + n {
            self.out.push(' ');
        }
    }

    fn line(&mut self, text: &str) {
        self.indent(0);
        self.rest(text);
    }

    fn rest(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push_str(self.lb);
    }
}

/// A node as one line of flow YAML (`{a: 1, b: [x, "y,z"]}`); comments
/// are left out.
pub(crate) fn flow(node: &Node) -> String {
    match unalias(node) {
        Node::Map(entries) => {
            let parts: Vec<String> = entries
                .iter()
                .filter_map(|e| match e {
                    Entry::Pair(p) => Some(format!("{}: {}", key_lexeme(p, true), flow(&p.value))),
                    Entry::Comment(_) => None,
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Node::Seq(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|i| match i {
                    Item::Node(n) => Some(flow(n)),
                    Item::Comment(_) => None,
                })
                .collect();
            format!("[{}]", parts.join(", "))
        }
        Node::Scalar(s) => value_lexeme(&s.value, true),
        Node::Alias(_) => "null".to_string(),
    }
}

/// A pair's key: a merge key (`<<` whose value is an alias or a mapping,
/// or a list of them) as sops writes it, `!!merge <<`, so that it still
/// merges (the string lexeme `"<<"` would be a plain key). sops writes a
/// mapping merged in through an alias out as a copy, so the mapping case
/// covers the files it wrote. Any other `<<` is the string.
fn key_lexeme(p: &crate::tree::Pair, flow: bool) -> String {
    let merged = |n: &Node| matches!(unalias(n), Node::Map(_));
    let merges = match &p.value {
        Node::Seq(items) => {
            has_nodes(items)
                && items.iter().all(|i| match i {
                    Item::Node(n) => merged(n),
                    Item::Comment(_) => true,
                })
        }
        n => merged(n),
    };
    if p.key == "<<" && merges {
        "!!merge <<".to_string()
    } else {
        string_lexeme(&p.key, flow)
    }
}

/// Whether a key is written as an explicit key (`? key` then `: value`):
/// go-yaml (so sops) writes one longer than 128 bytes so, and YAML reads
/// an implicit key of at most 1024 characters.
fn explicit_key(key: &str, lexeme: &str) -> bool {
    key.len() > 128 || lexeme.chars().count() > 1024
}

fn unalias(node: &Node) -> &Node {
    match node {
        Node::Alias(inner) => unalias(inner),
        n => n,
    }
}

fn has_pairs(entries: &[Entry]) -> bool {
    entries.iter().any(|e| matches!(e, Entry::Pair(_)))
}

fn has_nodes(items: &[Item]) -> bool {
    items.iter().any(|i| matches!(i, Item::Node(_)))
}

/// Comment text cannot span lines. YAML 1.1 readers (go-yaml, so sops;
/// PyYAML) also break lines at U+0085, U+2028 and U+2029: each is followed
/// by a `#`, as go-yaml writes it, so that what follows stays comment text
/// (`# note\u{2028}evil: 1` would give them a key `evil`).
fn single_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\u{85}' | '\u{2028}' | '\u{2029}' => {
                out.push(c);
                out.push('#');
            }
            c => out.push(c),
        }
    }
    out
}
