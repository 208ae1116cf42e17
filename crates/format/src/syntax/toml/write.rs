//! Writing trees as TOML: whole documents (`emit`) and the `[sops]`
//! metadata table (`insert_metadata`).
//!
//! A map is written as its scalar and inline-written entries first
//! (`key = value`; arrays of scalars, mixed arrays and maps inside arrays
//! inline), then its sub-maps as `[a.b]` tables and its arrays of maps as
//! `[[a.b]]` arrays of tables, each in their original relative order.

use super::lex;
use super::scalar::{self, Lines};
use crate::splice::Edit;
use crate::syntax::{EmitError, Parsed};
use crate::tree::{Entry, Item, Node, Pair, Tree, Value};
use crate::wipe::SecretText;
use zeroize::Zeroizing;

/// Write a generated tree as a TOML document.
pub(super) fn emit(tree: &Tree) -> Result<String, EmitError> {
    let root = match tree.docs.as_slice() {
        [] => return Ok(String::new()),
        [root] => deref(root),
        docs => {
            return Err(EmitError(format!(
                "a TOML file holds one document; cannot write {}",
                docs.len()
            )))
        }
    };
    let Node::Map(entries) = root else {
        return Err(EmitError(
            "the top level of a TOML document must be a table".to_string(),
        ));
    };
    let mut w = Writer::new("\n", Lines::Raw);
    w.body(&mut Vec::new(), entries)?;
    Ok(w.out.into_string())
}

/// Append the metadata as a `[sops]` table at the end of `src`, after one
/// line ending (a blank line when `src` ends with a newline), in the line
/// endings `src` uses.
pub(super) fn insert_metadata(
    src: &str,
    parsed: &Parsed,
    meta: &Node,
) -> Result<Vec<Edit>, EmitError> {
    let has_sops =
        parsed.metadata.is_some() || parsed.tree.docs.iter().any(|d| d.get("sops").is_some());
    if has_sops {
        return Err(EmitError(
            "the document already has a top-level `sops` key".to_string(),
        ));
    }
    let Node::Map(entries) = deref(meta) else {
        return Err(EmitError("the sops metadata must be a map".to_string()));
    };
    let eol = lex::eol(src);
    let lines = if eol == "\r\n" {
        Lines::Continued
    } else {
        Lines::Raw
    };
    let mut w = Writer::new(eol, lines);
    // Always a `[sops]` header first: it starts a new table wherever the
    // data ends (even inside an array of tables).
    w.out.push_str(eol);
    w.out.push_str("[sops]");
    w.out.push_str(eol);
    let mut path = vec!["sops".to_string()];
    w.body(&mut path, entries)?;
    Ok(vec![Edit {
        span: src.len()..src.len(),
        text: w.out.into_string(),
    }])
}

/// Follow aliases to the node they copy.
fn deref(node: &Node) -> &Node {
    match node {
        Node::Alias(inner) => deref(inner),
        other => other,
    }
}

/// The maps of a sequence that is written as an array of tables: one with
/// at least one element, all of them maps. Comments are ignored.
fn table_array(node: &Node) -> Option<Vec<&[Entry]>> {
    let Node::Seq(items) = node else { return None };
    let maps: Vec<&[Entry]> = items
        .iter()
        .filter_map(|i| match i {
            Item::Node(n) => Some(n),
            Item::Comment(_) => None,
        })
        .map(|n| match deref(n) {
            Node::Map(entries) => Some(entries.as_slice()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    (!maps.is_empty()).then_some(maps)
}

fn pairs(entries: &[Entry]) -> impl Iterator<Item = &Pair> {
    entries.iter().filter_map(|e| match e {
        Entry::Pair(p) => Some(p),
        Entry::Comment(_) => None,
    })
}

/// Whether a map's entry goes on a `key = value` line.
fn is_inline(node: &Node) -> bool {
    !matches!(deref(node), Node::Map(_)) && table_array(deref(node)).is_none()
}

struct Writer {
    /// A whole decrypted document, when one is written out: see
    /// [`SecretText`].
    out: SecretText,
    eol: &'static str,
    lines: Lines,
}

impl Writer {
    fn new(eol: &'static str, lines: Lines) -> Writer {
        Writer {
            out: SecretText::default(),
            eol,
            lines,
        }
    }

    /// `[a.b]` or `[[a.b]]`, after a blank line unless it is the first line.
    fn header(&mut self, path: &[String], array: bool) {
        if !self.out.is_empty() && !self.out.ends_with(&format!("{0}{0}", self.eol)) {
            self.out.push_str(self.eol);
        }
        let keys: Vec<String> = path.iter().map(|k| scalar::key_lexeme(k)).collect();
        let (open, close) = if array { ("[[", "]]") } else { ("[", "]") };
        self.out.push_str(open);
        self.out.push_str(&keys.join("."));
        self.out.push_str(close);
        self.out.push_str(self.eol);
    }

    /// The contents of the table at `path`.
    fn body(&mut self, path: &mut Vec<String>, entries: &[Entry]) -> Result<(), EmitError> {
        for p in pairs(entries).filter(|p| is_inline(&p.value)) {
            path.push(p.key.clone());
            self.out.push_str(&scalar::key_lexeme(&p.key));
            self.out.push_str(" = ");
            inline(path, &p.value, self.lines, &mut self.out)?;
            path.pop();
            self.out.push_str(self.eol);
        }
        for p in pairs(entries).filter(|p| !is_inline(&p.value)) {
            path.push(p.key.clone());
            match (deref(&p.value), table_array(deref(&p.value))) {
                (_, Some(maps)) => {
                    for map in maps {
                        self.header(path, true);
                        self.body(path, map)?;
                    }
                }
                (Node::Map(sub), None) => {
                    // A table holding only tables needs no header of its own.
                    let only_tables =
                        pairs(sub).next().is_some() && pairs(sub).all(|q| !is_inline(&q.value));
                    if !only_tables {
                        self.header(path, false);
                    }
                    self.body(path, sub)?;
                }
                _ => {}
            }
            path.pop();
        }
        Ok(())
    }
}

/// Write the value after `key = ` to `out`: scalars, arrays and inline
/// tables (straight into `out`: the values may be decrypted ones, see
/// [`SecretText`]).
fn inline(
    path: &[String],
    node: &Node,
    lines: Lines,
    out: &mut SecretText,
) -> Result<(), EmitError> {
    match deref(node) {
        Node::Scalar(s) => match &s.value {
            Value::Null => {
                return Err(EmitError(format!(
                    "null value at {} cannot be written as TOML",
                    path.join(".")
                )))
            }
            v => out.push_str(&Zeroizing::new(scalar::value_lexeme(v, lines))),
        },
        Node::Seq(items) => {
            out.push('[');
            let nodes = items.iter().filter_map(|i| match i {
                Item::Node(n) => Some(n),
                Item::Comment(_) => None,
            });
            for (i, n) in nodes.enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                inline(path, n, Lines::Single, out)?;
            }
            out.push(']');
        }
        Node::Map(entries) => {
            if pairs(entries).next().is_none() {
                out.push_str("{}");
                return Ok(());
            }
            out.push_str("{ ");
            for (i, p) in pairs(entries).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let mut sub = path.to_vec();
                sub.push(p.key.clone());
                out.push_str(&scalar::key_lexeme(&p.key));
                out.push_str(" = ");
                inline(&sub, &p.value, Lines::Single, out)?;
            }
            out.push_str(" }");
        }
        Node::Alias(_) => return Err(EmitError("internal error: unresolved alias".to_string())),
    }
    Ok(())
}
