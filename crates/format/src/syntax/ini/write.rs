//! Writing INI: value and key lexemes that go-ini reads back unchanged,
//! whole trees (`emit`), and the `[sops]` metadata section.

use super::META_SECTION;
use crate::syntax::flat::{flat_value, flatten};
use crate::syntax::EmitError;
use crate::tree::{Entry, Node, Pair, Tree, Value};
use crate::wipe::SecretText;
use zeroize::Zeroizing;

/// A lexeme that go-ini reads back as exactly `s`: bare when that is
/// safe, otherwise in backticks, or in `"""` when `s` holds a line break or
/// a backtick (go-ini's own choice of quotes, plus the cases it misses:
/// surrounding quotes, a trailing `\`, a leading quote sequence).
pub(super) fn value_lexeme(s: &str) -> String {
    let bare_ok = !s.is_empty()
        && s.trim_matches(char::is_whitespace).len() == s.len()
        && !s.contains(['#', ';', '\n', '\r'])
        && !s.ends_with('\\')
        && !s.starts_with('`')
        && !s.starts_with("\"\"\"")
        && !surrounded(s, '"')
        && !surrounded(s, '\'');
    let quote = if s.is_empty() || bare_ok {
        ""
    } else if !s.contains(['`', '\n', '\r']) {
        "`"
    } else {
        "\"\"\""
    };
    // Sized before the value goes in (it may be a decrypted one: a
    // `format!` buffer grows as it is written, see [`SecretText`]).
    let mut out = SecretText::with_capacity(s.len() + 2 * quote.len());
    out.push_str(quote);
    out.push_str(s);
    out.push_str(quote);
    out.into_string()
}

fn surrounded(s: &str, q: char) -> bool {
    s.len() >= 2
        && s.starts_with(q)
        && s.ends_with(q)
        && s.get(1..).and_then(|r| r.find(q)) == Some(s.len() - 2)
}

/// A key lexeme go-ini reads back as `key`, or an error for keys it cannot
/// hold (empty, surrounding whitespace, line breaks, `-`).
pub(super) fn key_lexeme(key: &str) -> Result<String, EmitError> {
    if key.is_empty()
        || key == "-"
        || key.contains(['\n', '\r'])
        || key.trim_matches(char::is_whitespace).len() != key.len()
    {
        return Err(EmitError(format!(
            "the key {key:?} cannot be written in an INI file"
        )));
    }
    let needs_quotes = key.contains(['=', ':', '"', '`']) || key.starts_with(['#', ';', '[', '\'']);
    Ok(if !needs_quotes {
        key.to_string()
    } else if !key.contains('`') {
        format!("`{key}`")
    } else if !key.contains("\"\"\"") {
        format!("\"\"\"{key}\"\"\"")
    } else {
        return Err(EmitError(format!(
            "the key {key:?} cannot be written in an INI file"
        )));
    })
}

/// A section name go-ini reads back unchanged.
fn section_header(name: &str) -> Result<String, EmitError> {
    if name.is_empty() || name.contains(['\n', '\r']) || name == META_SECTION {
        return Err(EmitError(format!(
            "the section name {name:?} cannot be written in an INI file"
        )));
    }
    Ok(format!("[{name}]"))
}

/// The text of a scalar in an INI file (sops `ValToString`); null is empty.
fn scalar_text(value: &Value) -> Zeroizing<String> {
    Zeroizing::new(flat_value(value).unwrap_or_default())
}

/// `key = value` lines, `=` aligned as go-ini aligns them.
fn pair_lines(pairs: &[(String, Zeroizing<String>)], eol: &str, out: &mut SecretText) {
    let width = pairs
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    for (k, v) in pairs {
        let pad = width - k.chars().count();
        out.push_str(k);
        out.push_str(&" ".repeat(pad));
        out.push_str(" = ");
        out.push_str(v);
        out.push_str(eol);
    }
}

/// A comment as `; text` lines (lines that already start with a marker are
/// kept as they are).
fn comment_lines(text: &str, out: &mut SecretText) {
    for line in text.trim().split('\n') {
        let line = line.trim_end_matches('\r');
        if line.starts_with(['#', ';']) {
            out.push_str(line);
        } else if line.is_empty() {
            out.push(';');
        } else {
            out.push_str("; ");
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// Write the entries of one section (or the header-less area).
fn section_body(entries: &[&Entry], where_: &str, out: &mut SecretText) -> Result<(), EmitError> {
    // Consecutive pairs are aligned together; comments break the run.
    let mut run: Vec<(String, Zeroizing<String>)> = Vec::new();
    for entry in entries {
        match entry {
            Entry::Comment(c) => {
                pair_lines(&run, "\n", out);
                run.clear();
                comment_lines(&c.text, out);
            }
            Entry::Pair(Pair { key, value }) => {
                let text = match value {
                    Node::Scalar(s) => scalar_text(&s.value),
                    Node::Alias(inner) => match inner.as_value() {
                        Some(v) => scalar_text(v),
                        None => return Err(nested(where_, key)),
                    },
                    _ => return Err(nested(where_, key)),
                };
                run.push((key_lexeme(key)?, Zeroizing::new(value_lexeme(&text))));
            }
        }
    }
    pair_lines(&run, "\n", out);
    Ok(())
}

fn nested(section: &str, key: &str) -> EmitError {
    EmitError(format!(
        "INI holds only section → key → value; {section:?} → {key:?} is nested deeper"
    ))
}

/// The entries of a mapping node (through aliases).
fn map_entries(node: &Node) -> Option<&[Entry]> {
    match node {
        Node::Map(entries) => Some(entries),
        Node::Alias(inner) => map_entries(inner),
        _ => None,
    }
}

/// Write a tree: top-level mappings are sections; top-level scalars and a
/// leading `DEFAULT` mapping go in the header-less area before the first
/// section (go-ini's DEFAULT section); a later `DEFAULT` gets its header.
pub(super) fn emit(tree: &Tree) -> Result<String, EmitError> {
    let root = match tree.docs.as_slice() {
        [] => return Ok(String::new()),
        [doc] => doc,
        docs => {
            return Err(EmitError(format!(
                "INI holds exactly one document, this tree has {}",
                docs.len()
            )))
        }
    };
    let entries = map_entries(root)
        .ok_or_else(|| EmitError("an INI file needs a mapping at the top level".into()))?;
    let mut head: Vec<&Entry> = Vec::new();
    let mut sections: Vec<(&str, &[Entry])> = Vec::new();
    for entry in entries {
        match entry {
            Entry::Pair(p) => match map_entries(&p.value) {
                Some(inner) if p.key == "DEFAULT" && sections.is_empty() => {
                    head.extend(inner.iter());
                }
                Some(inner) => sections.push((&p.key, inner)),
                None if sections.is_empty() => head.push(entry),
                None => {
                    return Err(EmitError(format!(
                        "the top-level value {:?} comes after a section: INI cannot hold it there",
                        p.key
                    )))
                }
            },
            Entry::Comment(_) if sections.is_empty() => head.push(entry),
            Entry::Comment(_) => {}
        }
    }
    // A whole decrypted document, written out: see [`SecretText`].
    let mut out = SecretText::default();
    section_body(&head, "DEFAULT", &mut out)?;
    for (name, body) in sections {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&section_header(name)?);
        out.push('\n');
        let body: Vec<&Entry> = body.iter().collect();
        section_body(&body, name, &mut out)?;
    }
    Ok(out.into_string())
}

/// The `[sops]` section for the metadata `meta`: flattened names (sorted),
/// newlines written as the two characters `\n`, as sops 3.11 writes it,
/// each line ended by `eol`. `None` if there is nothing to write.
pub(super) fn metadata_lines(meta: &Node, eol: &str) -> Result<Option<Vec<String>>, EmitError> {
    let mut pairs = flatten(meta);
    if pairs.is_empty() {
        return Ok(None);
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut lexemes = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        lexemes.push((
            key_lexeme(&name)?,
            Zeroizing::new(value_lexeme(&value.replace('\n', "\\n"))),
        ));
    }
    let mut block = SecretText::default();
    pair_lines(&lexemes, eol, &mut block);
    let mut lines = vec![format!("[{META_SECTION}]")];
    lines.extend(
        block
            .split(eol)
            .filter(|l| !l.is_empty())
            .map(str::to_string),
    );
    Ok(Some(lines))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn value_lexemes() {
        assert_eq!(value_lexeme("plain"), "plain");
        assert_eq!(value_lexeme("a b"), "a b");
        assert_eq!(value_lexeme(""), "");
        assert_eq!(value_lexeme(" x"), "` x`");
        assert_eq!(value_lexeme("a;b"), "`a;b`");
        assert_eq!(value_lexeme("\"q\""), "`\"q\"`");
        assert_eq!(value_lexeme("x\\"), "`x\\`");
        assert_eq!(value_lexeme("a\nb"), "\"\"\"a\nb\"\"\"");
        assert_eq!(value_lexeme("a`b#"), "\"\"\"a`b#\"\"\"");
    }

    #[test]
    fn key_lexemes() {
        assert_eq!(key_lexeme("k").unwrap(), "k");
        assert_eq!(key_lexeme("a=b").unwrap(), "`a=b`");
        assert_eq!(key_lexeme("a`b:").unwrap(), "\"\"\"a`b:\"\"\"");
        assert_eq!(key_lexeme("#k").unwrap(), "`#k`");
        assert!(key_lexeme(" k").is_err());
        assert!(key_lexeme("").is_err());
        assert!(key_lexeme("-").is_err());
    }
}
