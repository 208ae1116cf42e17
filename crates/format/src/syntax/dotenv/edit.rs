//! `set` and `unset` on .env text: a value is replaced in its line, a new
//! `KEY=value` line goes after the last data line, and `unset` removes the
//! whole line(s). Only top-level scalar values exist in a .env file.

use super::{scan, Grammar, Kind, META_PREFIX};
use crate::splice::Edit;
use crate::syntax::edit::{empty_path, show, verified};
use crate::syntax::flat::flat_value;
use crate::syntax::{EmitError, Parsed, PathStep, Syntax};
use crate::tree::{Node, Slot, Value};

/// See [`crate::syntax::Syntax::set_value`].
pub(super) fn set_value(
    src: &str,
    parsed: &Parsed,
    path: &[PathStep],
    value: &Node,
    grammar: Grammar,
) -> Result<Vec<Edit>, EmitError> {
    let key = only_key(path)?;
    let Node::Scalar(scalar) = value else {
        return Err(EmitError(format!(
            "a .env file holds only string values: cannot set a mapping or list at {}",
            show(path)
        )));
    };
    // Every .env value is a string: other scalars are stored as their text.
    let value = &match &scalar.value {
        Value::Str(_) => value.clone(),
        other => Node::str(flat_value(other).unwrap_or_default()),
    };
    if let Some(old) = parsed.tree.docs.first().and_then(|d| d.get(key)) {
        if crate::syntax::edit::same(old, value) {
            return Ok(Vec::new());
        }
    }
    let lines = scan(src, grammar).map_err(|_| EmitError("invalid .env file".into()))?;
    let lexeme = match value {
        Node::Scalar(s) => super::Dotenv.value_lexeme(Slot::Bare, &s.value),
        _ => String::new(),
    };
    let existing = lines.iter().find_map(|l| match &l.kind {
        Kind::Pair { key: k, value } if src.get(k.clone()) == Some(key) => Some(value.clone()),
        _ => None,
    });
    let edit = match existing {
        Some(span) => Edit { span, text: lexeme },
        None => {
            if key.is_empty()
                || key.contains(['=', '\n', '\r'])
                || key.trim_start().starts_with('#')
                || key.trim().is_empty()
            {
                return Err(EmitError(format!("{} is not a valid .env key", show(path))));
            }
            let eol = super::line_break_style(src, grammar);
            // Before the metadata lines, if the file has them.
            let meta_line = lines.iter().find(|l| {
                matches!(&l.kind, Kind::Pair { key: k, .. }
                    if src.get(k.clone()).is_some_and(|t| t.starts_with(META_PREFIX)))
            });
            match meta_line {
                Some(l) => Edit {
                    span: l.start..l.start,
                    text: format!("{key}={lexeme}{eol}"),
                },
                None if src.is_empty() || src.ends_with('\n') => Edit {
                    span: src.len()..src.len(),
                    text: format!("{key}={lexeme}{eol}"),
                },
                None => Edit {
                    span: src.len()..src.len(),
                    text: format!("{eol}{key}={lexeme}"),
                },
            }
        }
    };
    verified(grammar.syntax(), src, vec![edit], path, Some(value))
}

/// See [`crate::syntax::Syntax::remove_value`].
pub(super) fn remove_value(
    src: &str,
    _parsed: &Parsed,
    path: &[PathStep],
    grammar: Grammar,
) -> Result<Option<Vec<Edit>>, EmitError> {
    let key = match path {
        [PathStep::Key(k)] => k,
        [] => return Err(empty_path()),
        _ => return Ok(None),
    };
    if key.starts_with(META_PREFIX) {
        return Ok(None);
    }
    let lines = scan(src, grammar).map_err(|_| EmitError("invalid .env file".into()))?;
    let mut edits = Vec::new();
    for l in &lines {
        if matches!(&l.kind, Kind::Pair { key: k, .. } if src.get(k.clone()) == Some(key.as_str()))
        {
            let mut start = l.start;
            if l.end == src.len() && !src.ends_with('\n') {
                // The last line has no line break: remove the one before.
                let before = src.get(..start).unwrap_or("");
                // (In sops's grammar a `\r` there is the line's value's.)
                start -= if before.ends_with("\r\n") && grammar == Grammar::MultiLine {
                    2
                } else {
                    usize::from(before.ends_with('\n'))
                };
            }
            edits.push(Edit {
                span: start..l.end,
                text: String::new(),
            });
            // The first line with the key, as sops removes it (a
            // duplicate after it stays).
            break;
        }
    }
    Ok((!edits.is_empty()).then_some(edits))
}

/// The key of a one-step path (a .env file is flat).
fn only_key(path: &[PathStep]) -> Result<&str, EmitError> {
    match path {
        [PathStep::Key(k)] if k.starts_with(META_PREFIX) => Err(EmitError(format!(
            "keys starting with {META_PREFIX:?} hold the sops metadata"
        ))),
        [PathStep::Key(k)] => Ok(k),
        [] => Err(empty_path()),
        // Nothing is nested in a .env file: say so rather than point at a
        // mapping that may not exist.
        _ => Err(EmitError(format!(
            "a .env file holds only string values: there is no value below {}",
            show(path.get(..1).unwrap_or(path))
        ))),
    }
}

#[cfg(test)]
mod tests;
