//! `set` and `unset` on INI text. Paths are `[section][key]` (`DEFAULT`
//! for the keys before any header). A value is replaced in its line; a new
//! key goes on a line after the section's last key, written like the
//! file's first pair (`key = value` or `key=value`); a new section goes at
//! the end, after a blank line (before `[sops]`). `unset` removes whole
//! lines: a key's, or a section's header and body.

use super::scan::{scan, Kind, Line, BOM};
use super::write::{key_lexeme, value_lexeme};
use super::{DEFAULT_SECTION, META_SECTION};
use crate::splice::Edit;
use crate::syntax::edit::{empty_path, in_the_way, lookup_in, show, verified_with};
use crate::syntax::flat::flat_value;
use crate::syntax::{EmitError, Parsed, PathStep};
use crate::tree::{Entry, Node, Value};

/// One section: its name, its header line (none for the leading
/// `DEFAULT` keys) and its lines after the header.
struct Section {
    name: String,
    header: Option<usize>,
    body: std::ops::Range<usize>,
}

/// See [`crate::syntax::Syntax::set_value`].
pub(super) fn set_value(
    src: &str,
    parsed: &Parsed,
    path: &[PathStep],
    value: &Node,
) -> Result<Vec<Edit>, EmitError> {
    let value = &as_strings(path, value)?;
    if crate::syntax::edit::already_set(parsed, path, value) {
        return Ok(Vec::new());
    }
    let lines = scan(src).map_err(|_| EmitError("invalid INI file".into()))?;
    let sections = sections(&lines);
    let eol = eol(src);
    let (name, pairs): (&str, Vec<(&str, &str)>) = match (path, value) {
        ([PathStep::Key(s), PathStep::Key(k)], Node::Scalar(_)) => (s, vec![(k, "")]),
        ([PathStep::Key(s)], Node::Map(entries)) => (
            s,
            entries
                .iter()
                .filter_map(|e| match e {
                    Entry::Pair(p) => Some((p.key.as_str(), "")),
                    Entry::Comment(_) => None,
                })
                .collect(),
        ),
        _ => return Err(shape_error(path)),
    };
    let text_of = |key: &str| -> String {
        let node = match (path, value) {
            ([_], _) => value.get(key),
            _ => Some(value),
        };
        match node.and_then(Node::as_value) {
            Some(Value::Str(s)) => value_lexeme(s),
            _ => String::new(),
        }
    };
    // The first of duplicate sections, as sops's lookups select it.
    let section = sections.iter().find(|s| s.name == name);
    let edit = match section {
        Some(_) if path.len() == 1 => {
            return Err(EmitError(format!(
                "the section {} exists: set its keys one by one",
                show(path)
            )))
        }
        Some(sec) => {
            let (key, _) = pairs.first().copied().unwrap_or_default();
            let existing = lines.get(sec.body.clone()).unwrap_or_default().iter().rev();
            let existing = existing.clone().find_map(|l| match &l.kind {
                Kind::Pair { key: k, value, .. } if k == key => Some(value.span.clone()),
                _ => None,
            });
            match existing {
                Some(span) => Edit {
                    span,
                    text: text_of(key),
                },
                None => {
                    let line = format!(
                        "{}{}{}",
                        key_lexeme(key)?,
                        separator(src, &lines),
                        text_of(key)
                    );
                    add_line(src, &lines, sec, &line, eol)
                }
            }
        }
        None => {
            if name == META_SECTION {
                return Err(EmitError("the [sops] section holds the metadata".into()));
            }
            if name.is_empty() || name.contains(['\n', '\r', ']']) {
                return Err(EmitError(format!(
                    "{} is not a valid INI section name",
                    show(path.get(..1).unwrap_or(path))
                )));
            }
            let mut text = String::new();
            if !src.is_empty() && !src.ends_with('\n') {
                text.push_str(eol);
            }
            if !src.trim().is_empty() {
                text.push_str(eol);
            }
            text.push_str(&format!("[{name}]{eol}"));
            for (key, _) in &pairs {
                let sep = separator(src, &lines);
                text.push_str(&format!("{}{sep}{}{eol}", key_lexeme(key)?, text_of(key)));
            }
            let at = lines
                .iter()
                .find(|l| matches!(&l.kind, Kind::Section { name, .. } if name == META_SECTION))
                .map_or(src.len(), |l| l.start);
            Edit { span: at..at, text }
        }
    };
    verified_with(&super::Ini, src, vec![edit], path, Some(value), lookup)
}

/// The node at `path` as sops reads an INI document (see
/// [`lookup_in`]).
fn lookup<'n>(doc: &'n Node, path: &[PathStep]) -> Option<&'n Node> {
    lookup_in(crate::Format::Ini, doc, path)
}

/// See [`crate::syntax::Syntax::remove_value`].
pub(super) fn remove_value(
    src: &str,
    _parsed: &Parsed,
    path: &[PathStep],
) -> Result<Option<Vec<Edit>>, EmitError> {
    let lines = scan(src).map_err(|_| EmitError("invalid INI file".into()))?;
    let sections = sections(&lines);
    let mut spans = Vec::new();
    match path {
        [] => return Err(empty_path()),
        // The first of duplicate sections, as sops removes it (every line
        // of a section's duplicate keys: sops reads them as one).
        [PathStep::Key(s)] => {
            if let Some(sec) = sections.iter().find(|sec| &sec.name == s) {
                let first = sec.header.unwrap_or(sec.body.start);
                spans.extend(line_span(src, &lines, first, sec.body.end));
            }
        }
        [PathStep::Key(s), PathStep::Key(k)] => {
            if let Some(sec) = sections.iter().find(|sec| &sec.name == s) {
                for i in sec.body.clone() {
                    if matches!(lines.get(i).map(|l| &l.kind), Some(Kind::Pair { key, .. }) if key == k)
                    {
                        spans.extend(line_span(src, &lines, i, i + 1));
                    }
                }
            }
        }
        _ => return Ok(None),
    }
    if spans.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        spans
            .into_iter()
            .map(|span| Edit {
                span,
                text: String::new(),
            })
            .collect(),
    ))
}

/// The value as INI holds it: strings (other scalars as sops writes them);
/// a section is a mapping of scalars.
fn as_strings(path: &[PathStep], value: &Node) -> Result<Node, EmitError> {
    let text = |v: &Value| match v {
        Value::Str(_) => Ok(Node::value(v.clone())),
        other => Ok(Node::str(flat_value(other).unwrap_or_default())),
    };
    match (path.len(), value) {
        (2, Node::Scalar(s)) => text(&s.value),
        (1, Node::Map(entries)) => {
            let mut out = Vec::new();
            for e in entries {
                if let Entry::Pair(p) = e {
                    let Node::Scalar(s) = &p.value else {
                        return Err(shape_error(path));
                    };
                    out.push((p.key.clone(), text(&s.value)?));
                }
            }
            Ok(Node::map(out))
        }
        (0, _) => Err(empty_path()),
        _ => Err(shape_error(path)),
    }
}

fn shape_error(path: &[PathStep]) -> EmitError {
    match path.get(2..) {
        Some([_, ..]) => in_the_way(path.get(..3).unwrap_or(path)),
        _ => EmitError(format!(
            "an INI file holds sections of string values: cannot set {} to this value",
            show(path)
        )),
    }
}

/// The sections in file order (`[sops]` left out).
fn sections(lines: &[Line]) -> Vec<Section> {
    let mut out = vec![Section {
        name: DEFAULT_SECTION.to_string(),
        header: None,
        body: 0..0,
    }];
    let mut in_meta = false;
    for (i, l) in lines.iter().enumerate() {
        if let Kind::Section { name, .. } = &l.kind {
            in_meta = name == META_SECTION;
            if !in_meta {
                out.push(Section {
                    name: name.clone(),
                    header: Some(i),
                    body: i + 1..i + 1,
                });
            }
            continue;
        }
        if !in_meta {
            if let Some(s) = out.last_mut() {
                s.body.end = i + 1;
            }
        }
    }
    out
}

/// The edit that adds `line` as the section's last key.
fn add_line(src: &str, lines: &[Line], sec: &Section, line: &str, eol: &str) -> Edit {
    let last_pair = sec
        .body
        .clone()
        .rev()
        .find(|&i| matches!(lines.get(i).map(|l| &l.kind), Some(Kind::Pair { .. })));
    let at = match last_pair.or(sec.header) {
        Some(i) => lines.get(i).map_or(src.len(), |l| l.end),
        None if src.starts_with(BOM) => BOM.len(),
        None => 0,
    };
    if at == src.len() && !src.is_empty() && !src.ends_with('\n') {
        Edit {
            span: at..at,
            text: format!("{eol}{line}"),
        }
    } else {
        Edit {
            span: at..at,
            text: format!("{line}{eol}"),
        }
    }
}

/// The bytes of lines `from..to`; at the end of a text without a final
/// line break, with the line break before them instead.
fn line_span(src: &str, lines: &[Line], from: usize, to: usize) -> Option<std::ops::Range<usize>> {
    let start = lines.get(from)?.start;
    let end = lines.get(to.checked_sub(1)?)?.end;
    if end == src.len() && !src.ends_with('\n') && start > 0 {
        let before = src.get(..start).unwrap_or("");
        let lb = if before.ends_with("\r\n") {
            2
        } else {
            usize::from(before.ends_with('\n'))
        };
        return Some(start - lb..end);
    }
    Some(start..end)
}

/// What goes between a key and its value: as in the file's first pair.
fn separator<'s>(src: &'s str, lines: &[Line]) -> &'s str {
    lines
        .iter()
        .find_map(|l| match &l.kind {
            Kind::Pair { value, .. } => {
                let raw = src.get(l.start..value.span.start)?;
                let op = raw.find(['=', ':'])?;
                let key = raw.get(..op)?;
                let from = key.trim_end().len();
                let sep = raw.get(from..)?;
                (sep.trim() == "=" || sep.trim() == ":").then_some(sep)
            }
            _ => None,
        })
        .filter(|s| !s.contains(['\n', '\r']))
        .unwrap_or(" = ")
}

/// The file's line break.
fn eol(src: &str) -> &'static str {
    match src.find('\n') {
        Some(i) if i > 0 && src.as_bytes().get(i - 1) == Some(&b'\r') => "\r\n",
        _ => "\n",
    }
}

#[cfg(test)]
mod tests;
