//! `set` and `unset` on TOML text, with the positions `toml_edit` gives
//! for keys, values and headers. A value (scalar, array or inline table)
//! is replaced in place; a new key goes on a new line after the last
//! `key = value` line of its `[table]` (or of the root, before the first
//! header), or into an inline table after its last entry; new nested
//! mappings and lists are written as inline tables and arrays. `unset`
//! removes a `key = value` line, or an element of an array or inline table
//! with its comma. Whole `[table]` sections and arrays of tables are not
//! created or removed (an error says so).

use crate::wipe::SecretText;
use toml_edit::{Document, Item, Table, Value as TValue};

use super::lex::line_start;
use super::scalar::{key_lexeme, value_lexeme, Lines};
use crate::splice::Edit;
use crate::syntax::edit::{
    already_set, check_path, empty_path, in_the_way, nest, out_of_range, show, verified,
};
use crate::syntax::{EmitError, Parsed, PathStep};
use crate::tree::{Entry, Item as TreeItem, Node, Value};

/// Where a path step has led.
enum At<'d> {
    Table(&'d Table),
    Inline(&'d toml_edit::InlineTable),
    Array(&'d toml_edit::Array),
    Tables(&'d toml_edit::ArrayOfTables),
    Scalar(&'d TValue),
}

/// See [`crate::syntax::Syntax::set_value`].
pub(super) fn set_value(
    src: &str,
    parsed: &Parsed,
    path: &[PathStep],
    value: &Node,
) -> Result<Vec<Edit>, EmitError> {
    check_path(parsed, path)?;
    if already_set(parsed, path, value) {
        return Ok(Vec::new());
    }
    let doc = parse(src)?;
    let mut at = At::Table(doc.as_table());
    for (depth, step) in path.iter().enumerate() {
        let done = path.get(..=depth).unwrap_or_default();
        let rest = path.get(depth + 1..).unwrap_or_default();
        let next = match (step, &at) {
            (PathStep::Key(k), At::Table(t)) => match t.get(k).and_then(item_at) {
                Some(next) => next,
                None => {
                    let new = nest(done, rest, value)?;
                    let edit = add_to_table(src, t, k, &new, done)?;
                    return verified(&super::Toml, src, vec![edit], path, Some(value));
                }
            },
            (PathStep::Key(k), At::Inline(t)) => match t.get(k) {
                Some(v) => value_at(v),
                None => {
                    let new = nest(done, rest, value)?;
                    let text = format!("{} = {}", key_lexeme(k), inline(&new, done)?);
                    let last = t.iter().filter_map(|(_, v)| v.span()).map(|s| s.end).max();
                    let edit = add_to_flow(t.span(), last, text)?;
                    return verified(&super::Toml, src, vec![edit], path, Some(value));
                }
            },
            (PathStep::Index(i), At::Array(a)) => match a.get(*i) {
                Some(v) => value_at(v),
                // Past the end appends, as sops's `set` does.
                None => {
                    let new = nest(done, rest, value)?;
                    let text = inline(&new, done)?;
                    let last = a.iter().filter_map(TValue::span).map(|s| s.end).max();
                    let edit = add_to_flow(a.span(), last, text)?;
                    return verified(&super::Toml, src, vec![edit], path, Some(value));
                }
            },
            (PathStep::Index(i), At::Tables(a)) => match a.get(*i) {
                Some(t) => At::Table(t),
                None if *i == a.len() => {
                    return Err(EmitError(format!(
                        "cannot append to the array of tables at {}: add a [[table]] by hand",
                        show(path.get(..depth).unwrap_or_default())
                    )))
                }
                None => return Err(out_of_range(done)),
            },
            _ => return Err(in_the_way(done)),
        };
        at = next;
    }
    let span = match &at {
        At::Scalar(v) => v.span(),
        At::Inline(t) => t.span(),
        At::Array(a) => a.span(),
        At::Table(_) | At::Tables(_) => {
            return Err(EmitError(format!(
                "{} is a [table] section: set its keys one by one",
                show(path)
            )))
        }
    };
    let span = span.ok_or_else(|| EmitError("internal error: TOML positions".into()))?;
    let edit = Edit {
        span,
        text: inline(value, path)?,
    };
    verified(&super::Toml, src, vec![edit], path, Some(value))
}

/// See [`crate::syntax::Syntax::remove_value`].
pub(super) fn remove_value(
    src: &str,
    parsed: &Parsed,
    path: &[PathStep],
) -> Result<Option<Vec<Edit>>, EmitError> {
    check_path(parsed, path)?;
    let doc = parse(src)?;
    let Some((last, parent)) = path.split_last() else {
        return Err(empty_path());
    };
    let mut at = At::Table(doc.as_table());
    for step in parent {
        let next = match (step, &at) {
            (PathStep::Key(k), At::Table(t)) => t.get(k).and_then(item_at),
            (PathStep::Key(k), At::Inline(t)) => t.get(k).map(value_at),
            (PathStep::Index(i), At::Array(a)) => a.get(*i).map(value_at),
            (PathStep::Index(i), At::Tables(a)) => a.get(*i).map(At::Table),
            _ => None,
        };
        let Some(next) = next else {
            return Ok(None);
        };
        at = next;
    }
    let edit = match (last, &at) {
        (PathStep::Key(k), At::Table(t)) => {
            let Some((key, item)) = t.get_key_value(k) else {
                return Ok(None);
            };
            let Item::Value(v) = item else {
                return Err(EmitError(format!(
                    "{} is a [table] section: unset its keys one by one",
                    show(path)
                )));
            };
            let (Some(ks), Some(vs)) = (key.span(), v.span()) else {
                return Err(EmitError("internal error: TOML positions".into()));
            };
            Edit {
                span: whole_lines(src, ks.start, vs.end),
                text: String::new(),
            }
        }
        (PathStep::Key(k), At::Inline(t)) => {
            if !t.contains_key(k) {
                return Ok(None);
            }
            // `{ b.c = 1 }`: `c` alone under the dotted key `b` has no
            // brackets of its own to keep (sops would leave `b: {}`).
            if t.is_dotted() && t.len() == 1 {
                return Err(dotted_alone(path));
            }
            let children: Vec<(usize, usize, bool)> = t
                .iter()
                .filter_map(|(name, v)| {
                    let ks = t.key(name).and_then(|key| key.span())?;
                    Some((ks.start, value_end(v)?, name == k))
                })
                .collect();
            if children.len() != t.len() {
                return Err(EmitError("internal error: TOML positions".into()));
            }
            match cut(t.span(), &children) {
                Some(e) => e,
                None => return Ok(None),
            }
        }
        (PathStep::Index(i), At::Array(a)) => {
            let children: Vec<(usize, usize, bool)> = a
                .iter()
                .enumerate()
                .filter_map(|(n, v)| {
                    let s = v.span()?;
                    Some((s.start, s.end, n == *i))
                })
                .collect();
            match cut(a.span(), &children) {
                Some(e) => e,
                None => return Ok(None),
            }
        }
        (PathStep::Index(i), At::Tables(a)) if *i < a.len() => {
            return Err(EmitError(format!(
                "{} is a [[table]] section: remove it by hand",
                show(path)
            )))
        }
        _ => return Ok(None),
    };
    removal_verified(src, parsed, edit, path).map(Some)
}

fn dotted_alone(path: &[PathStep]) -> EmitError {
    EmitError(format!(
        "{} is the only key under a dotted key inside an inline table (`{{ b.c = 1 }}`), which cannot be removed in place: change it with `edit`",
        show(path)
    ))
}

/// Where the value `v` of an inline table's entry ends: its own span, or
/// for a dotted key (`{ b.c = 1, b.d = 2 }`: `b`), its last entry's end.
fn value_end(v: &TValue) -> Option<usize> {
    match v {
        TValue::InlineTable(t) if t.is_dotted() => t.iter().filter_map(|(_, v)| value_end(v)).max(),
        other => other.span().map(|s| s.end),
    }
}

/// `edit` removes exactly the value at `path` from the document `parsed`
/// (of `src`): every other key and value is still there, unchanged. A
/// removal the positions cannot express is an error, never a changed
/// file.
fn removal_verified(
    src: &str,
    parsed: &Parsed,
    edit: Edit,
    path: &[PathStep],
) -> Result<Vec<Edit>, EmitError> {
    let cannot = || {
        EmitError(format!(
            "{} cannot be removed in place from this TOML text: change it with `edit`",
            show(path)
        ))
    };
    let mut expected = parsed.tree.docs.first().cloned().ok_or_else(cannot)?;
    if !remove_at(&mut expected, path) {
        return Err(cannot());
    }
    let out = crate::splice::splice(src, vec![edit.clone()]).map_err(|_| cannot())?;
    let after = crate::syntax::Syntax::parse(&super::Toml, &out).map_err(|_| cannot())?;
    match after.tree.docs.first() {
        Some(doc) if crate::syntax::edit::same(doc, &expected) => Ok(vec![edit]),
        _ => Err(cannot()),
    }
}

/// Remove the value at `path` from `node`; `false` if there is none.
fn remove_at(node: &mut Node, path: &[PathStep]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    match (first, node) {
        (PathStep::Key(k), Node::Map(entries)) => {
            let at = entries
                .iter()
                .position(|e| matches!(e, Entry::Pair(p) if &p.key == k));
            match (at, rest.is_empty()) {
                (Some(i), true) => {
                    entries.remove(i);
                    true
                }
                (Some(i), false) => match entries.get_mut(i) {
                    Some(Entry::Pair(p)) => remove_at(&mut p.value, rest),
                    _ => false,
                },
                (None, _) => false,
            }
        }
        (PathStep::Index(n), Node::Seq(items)) => {
            let at = items
                .iter()
                .enumerate()
                .filter(|(_, it)| matches!(it, TreeItem::Node(_)))
                .nth(*n)
                .map(|(i, _)| i);
            match (at, rest.is_empty()) {
                (Some(i), true) => {
                    items.remove(i);
                    true
                }
                (Some(i), false) => match items.get_mut(i) {
                    Some(TreeItem::Node(n)) => remove_at(n, rest),
                    _ => false,
                },
                (None, _) => false,
            }
        }
        _ => false,
    }
}

/// The document keeps its own copy of `src` (plaintext): wiped when
/// dropped (see [`SecretText`]).
fn parse(src: &str) -> Result<Document<SecretText>, EmitError> {
    Document::parse(SecretText::from(src.to_string())).map_err(|_| {
        EmitError("this TOML file cannot be edited in place (toml_edit rejects it)".into())
    })
}

fn item_at(item: &Item) -> Option<At<'_>> {
    match item {
        Item::Table(t) => Some(At::Table(t)),
        Item::ArrayOfTables(a) => Some(At::Tables(a)),
        Item::Value(v) => Some(value_at(v)),
        Item::None => None,
    }
}

fn value_at(v: &TValue) -> At<'_> {
    match v {
        TValue::InlineTable(t) => At::Inline(t),
        TValue::Array(a) => At::Array(a),
        other => At::Scalar(other),
    }
}

/// A new `key = value` line in table `t`: after its last `key = value`
/// line, else after its header, else (the root) at the top.
fn add_to_table(
    src: &str,
    t: &Table,
    key: &str,
    value: &Node,
    path: &[PathStep],
) -> Result<Edit, EmitError> {
    if t.is_implicit() || t.is_dotted() {
        return Err(EmitError(format!(
            "cannot add {} to a table that has no [header] of its own",
            show(path)
        )));
    }
    let line = format!("{} = {}", key_lexeme(key), inline(value, path)?);
    let eol = super::lex::eol(src);
    // The root has no header: with no value of its own, it starts the file.
    let header = if path.len() > 1 { t.span() } else { None };
    let last = last_value_end(t).or(header.map(|s| s.end));
    let at = match last {
        Some(end) => line_end(src, end),
        None if src.starts_with('\u{feff}') => 3,
        None => 0,
    };
    let text = if at == src.len() && !src.is_empty() && !src.ends_with('\n') {
        format!("{eol}{line}")
    } else {
        format!("{line}{eol}")
    };
    Ok(Edit { span: at..at, text })
}

/// The end of the last value written in table `t`'s own section (its
/// `key = value` and dotted `a.b = value` lines).
fn last_value_end(t: &Table) -> Option<usize> {
    t.iter()
        .filter_map(|(_, item)| match item {
            Item::Value(v) => v.span().map(|s| s.end),
            Item::Table(sub) if sub.is_dotted() => last_value_end(sub),
            _ => None,
        })
        .max()
}

/// Add `text` as the last element of an inline table or array whose
/// brackets span `outer`; `last` is the end of its last element.
fn add_to_flow(
    outer: Option<std::ops::Range<usize>>,
    last: Option<usize>,
    text: String,
) -> Result<Edit, EmitError> {
    let outer = outer.ok_or_else(|| EmitError("internal error: TOML positions".into()))?;
    Ok(match last {
        Some(end) => Edit {
            span: end..end,
            text: format!(", {text}"),
        },
        None => Edit {
            span: outer.start + 1..outer.start + 1,
            text,
        },
    })
}

/// Remove the marked children `(start, end, doomed)` of an inline table
/// or array whose brackets span `outer`, with their commas.
fn cut(outer: Option<std::ops::Range<usize>>, children: &[(usize, usize, bool)]) -> Option<Edit> {
    let i = children.iter().position(|c| c.2)?;
    let &(start, end, _) = children.get(i)?;
    let span = if children.len() == 1 {
        let o = outer?;
        o.start + 1..o.end.saturating_sub(1)
    } else if i == 0 {
        start..children.get(1).map_or(end, |c| c.0)
    } else {
        children.get(i - 1).map_or(start, |c| c.1)..end
    };
    Some(Edit {
        span,
        text: String::new(),
    })
}

/// A value as one-line TOML: scalars, arrays, inline tables.
fn inline(node: &Node, path: &[PathStep]) -> Result<String, EmitError> {
    match node {
        Node::Scalar(s) => match &s.value {
            Value::Null => Err(EmitError(format!(
                "TOML has no null: cannot set {} to null",
                show(path)
            ))),
            v => Ok(value_lexeme(v, Lines::Single)),
        },
        Node::Alias(inner) => inline(inner, path),
        Node::Seq(items) => {
            let parts = items
                .iter()
                .filter_map(|i| match i {
                    TreeItem::Node(n) => Some(inline(n, path)),
                    TreeItem::Comment(_) => None,
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(format!("[{}]", parts.join(", ")))
        }
        Node::Map(entries) => {
            let parts = entries
                .iter()
                .filter_map(|e| match e {
                    Entry::Pair(p) => Some(
                        inline(&p.value, path).map(|v| format!("{} = {v}", key_lexeme(&p.key))),
                    ),
                    Entry::Comment(_) => None,
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if parts.is_empty() {
                "{}".to_string()
            } else {
                format!("{{ {} }}", parts.join(", "))
            })
        }
    }
}

/// The offset just after the line holding `at` (line break included).
fn line_end(src: &str, at: usize) -> usize {
    match src
        .as_bytes()
        .get(at..)
        .and_then(|r| r.iter().position(|&c| c == b'\n'))
    {
        Some(i) => at + i + 1,
        None => src.len(),
    }
}

/// The whole lines from `start`'s to `end`'s; at the end of a text
/// without a final line break, with the line break before them instead.
fn whole_lines(src: &str, start: usize, end: usize) -> std::ops::Range<usize> {
    let from = line_start(src, start);
    let to = line_end(src, end);
    if to == src.len() && !src.ends_with('\n') && from > 0 {
        let before = src.get(..from).unwrap_or("");
        let lb = if before.ends_with("\r\n") { 2 } else { 1 };
        return from - lb..to;
    }
    from..to
}

#[cfg(test)]
mod tests;
