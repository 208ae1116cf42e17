//! Typed reading of the YAML tree, with positions for error messages.
//!
//! go-yaml (which sops uses) decodes the config into Go structs; this
//! module gives the same leniency (a plain `123` is fine where a string is
//! expected, `null` is "not set") and the same strictness (a list where a
//! map is expected is an error), but every error names a line and column.

use super::source::Source;
use crate::exit::Failure;
use sops_like_format::{Entry, Item, Node, Value};

/// One key of a mapping, with its value and where both are.
pub(super) struct Field<'n> {
    /// The key.
    pub key: &'n str,
    /// Byte offset of the key (best effort: the key has no span of its own).
    pub at: usize,
    /// The value.
    pub value: &'n Node,
    /// Byte offset of the value (the key's offset if the value has none).
    pub value_at: usize,
}

/// The offset of the first scalar or comment inside `node`, if any.
pub(super) fn first_offset(node: &Node) -> Option<usize> {
    match node {
        Node::Scalar(s) => s.span.as_ref().map(|s| s.start),
        Node::Alias(_) => None,
        Node::Map(entries) => entries.iter().find_map(|e| match e {
            Entry::Pair(p) => first_offset(&p.value),
            Entry::Comment(c) => c.span.as_ref().map(|s| s.start),
        }),
        Node::Seq(items) => items.iter().find_map(|i| match i {
            Item::Node(n) => first_offset(n),
            Item::Comment(c) => c.span.as_ref().map(|s| s.start),
        }),
    }
}

/// What kind of node this is, for messages ("a list", "a string", …).
pub(super) fn describe(node: &Node) -> &'static str {
    match node {
        Node::Map(_) => "a mapping",
        Node::Seq(_) => "a list",
        Node::Alias(inner) => describe(inner),
        Node::Scalar(s) => match s.value {
            Value::Null => "null",
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Time(_) => "a timestamp",
        },
    }
}

/// `node` without alias wrappers.
pub(super) fn unalias(node: &Node) -> &Node {
    match node {
        Node::Alias(inner) => unalias(inner),
        other => other,
    }
}

/// Whether the node is `null` / empty.
pub(super) fn is_null(node: &Node) -> bool {
    matches!(unalias(node), Node::Scalar(s) if s.value == Value::Null)
}

/// The fields of a mapping, in order. YAML merge keys (`<<: *anchor`, or a
/// list of anchors) are expanded, explicit keys winning, as go-yaml does.
/// A duplicate explicit key is an error (go-yaml rejects it too). `null`
/// gives no fields; anything else that is not a mapping is an error.
pub(super) fn fields<'n>(
    src: &Source,
    node: &'n Node,
    at: usize,
    what: &str,
) -> Result<Vec<Field<'n>>, Failure> {
    let entries = match unalias(node) {
        Node::Map(entries) => entries,
        n if is_null(n) => return Ok(Vec::new()),
        n => return Err(src.error(at, format!("{what} must be a mapping, not {}", describe(n)))),
    };
    let mut out: Vec<Field<'n>> = Vec::new();
    let mut merged: Vec<Field<'n>> = Vec::new();
    let mut cursor = at;
    for entry in entries {
        let Entry::Pair(pair) = entry else { continue };
        let value_at = first_offset(&pair.value).filter(|v| *v >= cursor);
        let key_at = locate_key(src.text, &pair.key, cursor, value_at);
        cursor = key_at.saturating_add(pair.key.len()).max(cursor);
        let value_at = value_at.unwrap_or(key_at);
        if pair.key == "<<" {
            merge_into(src, &pair.value, value_at, what, &mut merged)?;
            continue;
        }
        if out.iter().any(|f| f.key == pair.key) {
            return Err(src.error(
                key_at,
                format!("{what}: the key `{}` appears twice", pair.key),
            ));
        }
        out.push(Field {
            key: &pair.key,
            at: key_at,
            value: &pair.value,
            value_at,
        });
    }
    for field in merged {
        if !out.iter().any(|f| f.key == field.key) {
            out.push(field);
        }
    }
    Ok(out)
}

/// Add the fields of the merge value `node` (a mapping or a list of them)
/// that are not in `out` yet.
fn merge_into<'n>(
    src: &Source,
    node: &'n Node,
    at: usize,
    what: &str,
    out: &mut Vec<Field<'n>>,
) -> Result<(), Failure> {
    let maps: Vec<&Node> = match unalias(node) {
        Node::Seq(items) => items
            .iter()
            .filter_map(|i| match i {
                Item::Node(n) => Some(n),
                Item::Comment(_) => None,
            })
            .collect(),
        _ => vec![node],
    };
    for map in maps {
        if !matches!(unalias(map), Node::Map(_)) {
            return Err(src.error(
                at,
                format!(
                    "{what}: a merge key `<<` needs a mapping, not {}",
                    describe(map)
                ),
            ));
        }
        let map_at = anchor_offset(map).unwrap_or(at);
        for field in fields(src, map, map_at, what)? {
            if !out.iter().any(|f| f.key == field.key) {
                out.push(field);
            }
        }
    }
    Ok(())
}

/// Where the content of a node is, looking through aliases (their spans
/// point at the anchored node).
pub(super) fn anchor_offset(node: &Node) -> Option<usize> {
    match node {
        Node::Alias(inner) => anchor_offset(inner),
        other => first_offset(other),
    }
}

/// Best-effort offset of `key`: the last occurrence before its value, or
/// the first one after `cursor`.
fn locate_key(text: &str, key: &str, cursor: usize, value_at: Option<usize>) -> usize {
    if let Some(v) = value_at {
        return text
            .get(cursor..v)
            .and_then(|s| s.rfind(key))
            .map_or(v, |i| cursor + i);
    }
    text.get(cursor..)
        .and_then(|s| s.find(key))
        .map_or(cursor, |i| cursor + i)
}

/// The elements of a list with their offsets; `null` gives none.
pub(super) fn items<'n>(
    src: &Source,
    node: &'n Node,
    at: usize,
    what: &str,
) -> Result<Vec<(&'n Node, usize)>, Failure> {
    match unalias(node) {
        Node::Seq(items) => Ok(items
            .iter()
            .filter_map(|i| match i {
                Item::Node(n) => Some((n, anchor_offset(n).unwrap_or(at))),
                Item::Comment(_) => None,
            })
            .collect()),
        n if is_null(n) => Ok(Vec::new()),
        n => Err(src.error(at, format!("{what} must be a list, not {}", describe(n)))),
    }
}

/// A string value; `None` for null. Plain numbers, booleans and dates are
/// taken as written (go-yaml decodes them into string fields the same way).
pub(super) fn string(
    src: &Source,
    node: &Node,
    at: usize,
    what: &str,
) -> Result<Option<String>, Failure> {
    let Node::Scalar(s) = unalias(node) else {
        return Err(src.error(
            at,
            format!("{what} must be a string, not {}", describe(node)),
        ));
    };
    Ok(match &s.value {
        Value::Null => None,
        Value::Str(text) => Some(text.clone()),
        other => Some(
            s.span
                .as_ref()
                .and_then(|sp| src.slice(sp))
                .map(str::to_string)
                .unwrap_or_else(|| other_text(other)),
        ),
    })
}

fn other_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Str(s) | Value::Time(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
    }
}

/// A comma-separated string or a list of strings (sops 3.11 takes both),
/// trimmed, blanks dropped, each with its offset.
pub(super) fn string_list(
    src: &Source,
    node: &Node,
    at: usize,
    what: &str,
) -> Result<Vec<(String, usize)>, Failure> {
    match unalias(node) {
        Node::Seq(_) => {
            let mut out = Vec::new();
            for (item, item_at) in items(src, node, at, what)? {
                if matches!(unalias(item), Node::Map(_) | Node::Seq(_)) {
                    return Err(src.error(
                        item_at,
                        format!(
                            "{what}: each element must be a string, not {}",
                            describe(item)
                        ),
                    ));
                }
                if let Some(s) = string(src, item, item_at, what)? {
                    out.extend(split_commas(&s, item_at));
                }
            }
            Ok(out)
        }
        Node::Map(_) => Err(src.error(
            at,
            format!("{what} must be a comma-separated string or a list, not a mapping"),
        )),
        _ => Ok(string(src, node, at, what)?
            .map(|s| split_commas(&s, at))
            .unwrap_or_default()),
    }
}

fn split_commas(s: &str, at: usize) -> Vec<(String, usize)> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| (x.to_string(), at))
        .collect()
}

/// A boolean (`true`/`false` only, as YAML 1.2 and go-yaml v3 read it).
pub(super) fn boolean(
    src: &Source,
    node: &Node,
    at: usize,
    what: &str,
) -> Result<Option<bool>, Failure> {
    match unalias(node) {
        Node::Scalar(s) => match &s.value {
            Value::Bool(b) => Ok(Some(*b)),
            Value::Null => Ok(None),
            Value::Str(text) if yaml11_bool(text).is_some() => Ok(yaml11_bool(text)),
            _ => Err(src.error(
                at,
                format!("{what} must be true or false, not {}", describe(node)),
            )),
        },
        _ => Err(src.error(
            at,
            format!("{what} must be true or false, not {}", describe(node)),
        )),
    }
}

/// The YAML 1.1 booleans that sops's YAML library (gopkg.in/yaml.v3)
/// still accepts for a `bool` field, quoted or not: `y`, `yes`, `on`, `n`,
/// `no`, `off` in lower, capitalised or upper case.
fn yaml11_bool(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// 2^63 as a float: the first one above `i64::MAX`.
const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

/// An integer. A float with no fractional part (`2.0`, `1e1`) is that
/// integer, as sops's YAML library (go.yaml.in/yaml/v3) decodes it into an
/// `int` field; any other float is refused (so does that library: the
/// conversion must be lossless).
pub(super) fn integer(
    src: &Source,
    node: &Node,
    at: usize,
    what: &str,
) -> Result<Option<i64>, Failure> {
    match unalias(node) {
        Node::Scalar(s) => match s.value {
            Value::Int(i) => Ok(Some(i)),
            Value::Null => Ok(None),
            // -2^63 ≤ f < 2^63: the floats that fit an i64.
            Value::Float(f) if f.fract() == 0.0 && (-I64_BOUND..I64_BOUND).contains(&f) => {
                Ok(Some(f as i64))
            }
            _ => Err(src.error(
                at,
                format!("{what} must be an integer, not {}", describe(node)),
            )),
        },
        _ => Err(src.error(
            at,
            format!("{what} must be an integer, not {}", describe(node)),
        )),
    }
}
