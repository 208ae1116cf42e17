//! Splitting an INI file into logical lines, reading keys and values the
//! way `gopkg.in/ini.v1` does with sops's options (`LoadOptions{
//! AllowNonUniqueSections: true}`, everything else default).
//!
//! A logical line is one physical line, or several for a `"""`/backtick
//! value whose closing quote is on a later line and for a value continued
//! with a trailing `\`.

use crate::syntax::ParseError;
use crate::tree::Span;
use crate::wipe::SecretText;

/// A UTF-8 byte order mark (skipped, as go-ini does).
pub(super) const BOM: &str = "\u{feff}";

/// One logical line.
pub(super) struct Line {
    /// Where the line starts.
    pub start: usize,
    /// Where the next line starts.
    pub end: usize,
    /// What it holds.
    pub kind: Kind,
}

/// What a logical line holds.
pub(super) enum Kind {
    /// Only whitespace.
    Blank,
    /// A whole-line `;` or `#` comment: the span of its text (after the
    /// marker and the blanks that follow it, trailing whitespace excluded).
    Comment(Span),
    /// `[name]`, and what follows its `]` on the line.
    Section {
        /// The section name (not trimmed, as go-ini reads it).
        name: String,
        /// A comment after the `]` (`[db] ; note`): the span of its text,
        /// as for a comment line. go-ini adds it to the section's comment,
        /// after the comment lines above the header.
        comment: Option<Span>,
        /// Where text after the `]` starts that is neither blank nor a
        /// comment (`[db] password = x`): go-ini, and so sops, ignores it.
        stray: Option<usize>,
    },
    /// `key = value`.
    Pair {
        /// The key as go-ini reads it (trimmed, quotes removed).
        key: String,
        /// The value.
        value: ValueTok,
        /// An inline comment after the value: the span of its text.
        comment: Option<Span>,
    },
}

/// A value and the bytes that hold it.
pub(super) struct ValueTok {
    /// The value as go-ini reads it.
    pub text: String,
    /// The lexeme: quotes included; zero-width for an empty value.
    pub span: Span,
}

/// Go's `unicode.IsSpace`.
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// The blanks skipped after a comment marker.
fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn get(src: &str, span: Span) -> &str {
    src.get(span).unwrap_or_default()
}

/// The first byte at or after `from` (and before `to`) that is not space.
fn skip_space(src: &str, from: usize, to: usize) -> usize {
    let text = get(src, from..to);
    from + (text.len() - text.trim_start_matches(is_space).len())
}

/// The end of `from..to` without trailing space.
fn trim_end(src: &str, from: usize, to: usize) -> usize {
    from + get(src, from..to).trim_end_matches(is_space).len()
}

/// The span of a comment's text starting right after its marker at
/// `marker`, ending before trailing space at `to`.
///
/// An encrypted comment after a run of its marker (`## ENC[…]`, as
/// sops-like wrote `## note` for sops: sops encrypts the text after the
/// whole run, see [`sops_comment`]) starts at its `ENC[`.
fn comment_span(src: &str, marker: usize, to: usize) -> Span {
    let text = get(src, marker + 1..to);
    let mut start = marker + 1 + (text.len() - text.trim_start_matches(is_blank).len());
    let mark = get(src, marker..marker + 1);
    let rest = get(src, start..to);
    let after_run = rest.trim_start_matches(|c: char| c == ' ' || mark.starts_with(c));
    if after_run.starts_with("ENC[") && !rest.starts_with("ENC[") {
        start += rest.len() - after_run.len();
    }
    let end = trim_end(src, start, to).max(start);
    start..end
}

/// The comment marker (`;` or `#`) of a comment whose text span (as
/// [`comment_span`] cuts it) starts at `text_start`.
pub(super) fn marker_of(src: &str, text_start: usize) -> usize {
    let before = get(src, 0..text_start).trim_end_matches(is_blank);
    before.len().saturating_sub(1)
}

/// One comment as go-ini and sops read a run of comment lines (or an
/// inline comment): the lines, each `(marker, line end, text end)` (the
/// offset of its `;`/`#`, where the next line starts, where its text ends
/// without trailing space), are joined with their line breaks (go-ini),
/// and the leading run of the first marker and spaces is cut (sops's
/// `stripCommentChar`). Returns that text and the span from where it starts
/// to the end of the last line's text. The text differs from the span's
/// bytes only when blank lines or indentation come between the lines
/// (go-ini skips them). `None` for no lines.
pub(super) fn sops_comment(src: &str, lines: &[(usize, usize, usize)]) -> Option<(String, Span)> {
    let &(first, _, _) = lines.first()?;
    let &(_, _, end) = lines.last()?;
    // The comment may be an encrypted one: see [`SecretText`].
    let mut joined = SecretText::default();
    for (i, &(marker, line_end, text_end)) in lines.iter().enumerate() {
        let to = if i + 1 == lines.len() {
            text_end
        } else {
            line_end
        };
        joined.push_str(get(src, marker..to.max(marker)));
    }
    let mark = joined.chars().next().unwrap_or(';');
    let text = joined.trim_start_matches([mark, ' ']);
    let start = (first + (joined.len() - text.len())).min(end.max(first));
    Some((text.to_string(), start..end.max(start)))
}

/// The end of the physical line starting at `at`: (content end before the
/// `\n`, start of the next line).
fn physical(src: &str, at: usize) -> (usize, usize) {
    match src
        .as_bytes()
        .get(at..)
        .and_then(|r| r.iter().position(|&b| b == b'\n'))
    {
        Some(i) => (at + i, at + i + 1),
        None => (src.len(), src.len()),
    }
}

/// The first `#` or `;` in `from..to`.
fn find_comment(src: &str, from: usize, to: usize) -> Option<usize> {
    get(src, from..to).find(['#', ';']).map(|i| from + i)
}

/// Split `src` into logical lines.
pub(super) fn scan(src: &str) -> Result<Vec<Line>, ParseError> {
    let mut lines = Vec::new();
    let mut pos = if src.starts_with(BOM) { BOM.len() } else { 0 };
    // go-ini's counter for `-` keys, reset by every section header.
    let mut auto = 1usize;
    while pos < src.len() {
        let start = pos;
        let (content_end, next) = physical(src, start);
        let a = skip_space(src, start, content_end);
        let rest = get(src, a..content_end);
        let (kind, end) = if a == content_end {
            (Kind::Blank, next)
        } else if rest.starts_with(['#', ';']) {
            (Kind::Comment(comment_span(src, a, content_end)), next)
        } else if rest.starts_with('[') {
            // go-ini reads the name up to the line's last `]`; a comment
            // encrypted in place after the header (sops-like's own files,
            // `[db] ; ENC[…]`) is not part of it.
            let sealed = sealed_header_comment(src, a, content_end);
            let head_end = sealed.unwrap_or(content_end);
            let close = get(src, a..head_end)
                .rfind(']')
                .ok_or_else(|| ParseError::at(src, a, "unclosed section header"))?;
            let name = get(src, a + 1..a + close);
            if name.is_empty() {
                return Err(ParseError::at(src, a, "empty section name"));
            }
            auto = 1;
            let after = a + close + 1;
            let marker = sealed.or_else(|| find_comment(src, after, content_end));
            let text_end = marker.unwrap_or(content_end);
            let stray = (skip_space(src, after, text_end) < text_end)
                .then(|| skip_space(src, after, text_end));
            (
                Kind::Section {
                    name: name.to_string(),
                    comment: marker.map(|m| comment_span(src, m, content_end)),
                    stray,
                },
                next,
            )
        } else {
            let (mut key, value_at) = key_name(src, a, content_end, next)?;
            if key == "-" {
                key = format!("#{auto}");
                auto += 1;
            }
            let (value, comment, end) = value(src, value_at, content_end, next)?;
            (
                Kind::Pair {
                    key,
                    value,
                    comment,
                },
                end,
            )
        };
        lines.push(Line { start, end, kind });
        pos = end;
    }
    Ok(lines)
}

/// The marker (`;` or `#`) of a comment encrypted in place after a
/// section header, `[name] ; ENC[…,type:comment]`, on the line
/// `a..content_end` (which starts with `[`): only blanks come between the
/// header's `]`, the marker and the `ENC[…]` text, which ends the line.
fn sealed_header_comment(src: &str, a: usize, content_end: usize) -> Option<usize> {
    let line = get(src, a..trim_end(src, a, content_end));
    let enc = line.rfind("ENC[")?;
    let value = line.get(enc..)?;
    let body = value.strip_suffix(",type:comment]")?;
    if body.contains(']') {
        return None;
    }
    let before = line.get(..enc)?.trim_end_matches(is_blank);
    let marker = before.len().checked_sub(1)?;
    if !before.ends_with([';', '#']) {
        return None;
    }
    let head = before.get(..marker)?.trim_end_matches(is_blank);
    head.ends_with(']').then_some(a + marker)
}

/// Read the key of a line whose first non-space byte is at `a` (go-ini
/// `readKeyName`): returns the key and where the value starts (after the
/// `=` or `:`).
fn key_name(
    src: &str,
    a: usize,
    content_end: usize,
    next: usize,
) -> Result<(String, usize), ParseError> {
    let line = get(src, a..content_end);
    // go-ini measures the line with its line break.
    let quote = if line.starts_with("\"\"\"") && next - a > 6 {
        Some("\"\"\"")
    } else if line.starts_with('"') {
        Some("\"")
    } else if line.starts_with('`') {
        Some("`")
    } else {
        None
    };
    let (key, delim) = match quote {
        Some(q) => {
            let inner = a + q.len();
            let close = get(src, inner..content_end)
                .find(q)
                .map(|i| inner + i)
                .ok_or_else(|| ParseError::at(src, a, "missing closing quote of the key"))?;
            let after = close + q.len();
            let delim = get(src, after..content_end)
                .find(['=', ':'])
                .map(|i| after + i)
                .ok_or_else(|| ParseError::at(src, after, "expected '=' or ':' after the key"))?;
            (get(src, inner..close).trim_matches(is_space), delim)
        }
        None => {
            let delim = line
                .find(['=', ':'])
                .map(|i| a + i)
                .ok_or_else(|| ParseError::at(src, a, "expected key = value"))?;
            (get(src, a..delim).trim_matches(is_space), delim)
        }
    };
    if key.is_empty() {
        return Err(ParseError::at(src, a, "empty key name"));
    }
    Ok((key.to_string(), delim + 1))
}

/// Read a value starting at `at` on a line whose content ends at
/// `content_end` and whose successor starts at `next` (go-ini
/// `readValue`). Returns the value, an inline comment, and where the
/// logical line ends.
fn value(
    src: &str,
    at: usize,
    content_end: usize,
    next: usize,
) -> Result<(ValueTok, Option<Span>, usize), ParseError> {
    let a = skip_space(src, at, content_end);
    if a == content_end {
        let tok = ValueTok {
            text: String::new(),
            span: a..a,
        };
        return Ok((tok, None, next));
    }
    // go-ini looks at the line with its line break.
    let line = get(src, a..next);
    if line.starts_with("\"\"\"") && line.len() > 3 {
        return quoted(src, a, "\"\"\"", content_end, next);
    }
    if line.starts_with('`') {
        return quoted(src, a, "`", content_end, next);
    }
    let b = trim_end(src, a, content_end);
    if get(src, a..b).ends_with('\\') {
        return continued(src, a, b, next);
    }
    let (e, comment) = match find_comment(src, a, b) {
        Some(i) => (trim_end(src, a, i), Some(comment_span(src, i, b))),
        None => (b, None),
    };
    let raw = get(src, a..e);
    let text = if surrounded(raw, '"') || surrounded(raw, '\'') {
        raw.get(1..raw.len() - 1).unwrap_or_default()
    } else {
        raw
    };
    let tok = ValueTok {
        text: text.to_string(),
        span: a..e,
    };
    Ok((tok, comment, next))
}

/// go-ini `hasSurroundedQuote`: `s` starts and ends with `q` and holds no
/// other `q`.
fn surrounded(s: &str, q: char) -> bool {
    s.len() >= 2
        && s.starts_with(q)
        && s.ends_with(q)
        && s.get(1..).and_then(|r| r.find(q)) == Some(s.len() - 2)
}

/// A value opened by `q` (`"""` or a backtick) at `a`. On one line, the
/// value runs to the last `q` and the rest of the line is ignored (the
/// span covers it, so that it is kept with the value). Over several lines,
/// it runs to the last `q` of the first line holding one, and a comment
/// may follow.
fn quoted(
    src: &str,
    a: usize,
    q: &str,
    content_end: usize,
    next: usize,
) -> Result<(ValueTok, Option<Span>, usize), ParseError> {
    let inner = a + q.len();
    if let Some(i) = get(src, inner..next).rfind(q) {
        let close = inner + i;
        let tok = ValueTok {
            text: get(src, inner..close).to_string(),
            span: a..trim_end(src, a, content_end).max(close + q.len()),
        };
        return Ok((tok, None, next));
    }
    let mut ls = next;
    while ls < src.len() {
        let (lcontent, lnext) = physical(src, ls);
        if let Some(i) = get(src, ls..lnext).rfind(q) {
            let close = ls + i;
            let after = close + q.len();
            let tail_end = trim_end(src, after, lcontent);
            let (span_end, comment) = match find_comment(src, after, tail_end) {
                Some(c) => (
                    trim_end(src, after, c),
                    Some(comment_span(src, c, tail_end)),
                ),
                None => (tail_end, None),
            };
            let tok = ValueTok {
                text: get(src, inner..close).to_string(),
                span: a..span_end.max(after),
            };
            return Ok((tok, comment, lnext));
        }
        ls = lnext;
    }
    Err(ParseError::at(
        src,
        a,
        format!("missing closing {q} of a multi-line value"),
    ))
}

/// A plain value `a..b` ending with `\`: go-ini joins the trimmed following
/// lines until one does not end with `\` (a blank line ends it and is
/// consumed). No comment or quote handling applies.
fn continued(
    src: &str,
    a: usize,
    b: usize,
    next: usize,
) -> Result<(ValueTok, Option<Span>, usize), ParseError> {
    // The value may be a plaintext one: see [`SecretText`].
    let mut text = SecretText::default();
    text.push_str(get(src, a..b.saturating_sub(1)));
    let mut span_end = b;
    let mut end = next;
    while end < src.len() {
        let (lcontent, lnext) = physical(src, end);
        let s = skip_space(src, end, lcontent);
        let e = trim_end(src, s, lcontent);
        end = lnext;
        if s == e {
            break;
        }
        text.push_str(get(src, s..e));
        span_end = e;
        if text.ends_with('\\') {
            text.pop();
        } else {
            break;
        }
    }
    let tok = ValueTok {
        text: text.into_string(),
        span: a..span_end,
    };
    Ok((tok, None, end))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn pairs(src: &str) -> Vec<(String, String, String, Option<String>)> {
        scan(src)
            .unwrap()
            .into_iter()
            .filter_map(|l| match l.kind {
                Kind::Pair {
                    key,
                    value,
                    comment,
                } => Some((
                    key,
                    value.text,
                    src[value.span].to_string(),
                    comment.map(|c| src[c].to_string()),
                )),
                _ => None,
            })
            .collect()
    }

    fn one(src: &str) -> (String, String, String, Option<String>) {
        pairs(src).into_iter().next().unwrap()
    }

    fn s(x: &str) -> String {
        x.to_string()
    }

    #[test]
    fn plain_values_trim_and_cut_comments() {
        assert_eq!(one("a = b\n"), (s("a"), s("b"), s("b"), None));
        assert_eq!(one("  a:b  \r\n"), (s("a"), s("b"), s("b"), None));
        assert_eq!(
            one("name=web ; inline semicolon\n"),
            (s("name"), s("web"), s("web"), Some(s("inline semicolon")))
        );
        // go-ini cuts at any # or ;, even without a space before it.
        assert_eq!(
            one("url = http://x/#frag\n"),
            (s("url"), s("http://x/"), s("http://x/"), Some(s("frag")))
        );
        assert_eq!(one("e =\n").1, "");
        assert_eq!(one("e = ;c").2, "");
        assert_eq!(one("a = b = c").1, "b = c");
        assert_eq!(one("a = b : c").1, "b : c");
        assert_eq!(one("a : b = c").0, "a");
    }

    #[test]
    fn quotes_are_stripped_only_when_they_surround() {
        assert_eq!(one("p = \"quoted secret\"\n").1, "quoted secret");
        assert_eq!(one("p = \"quoted secret\"\n").2, "\"quoted secret\"");
        assert_eq!(one("p = 'x'").1, "x");
        assert_eq!(one("p = \"a\"b\"").1, "\"a\"b\"");
        assert_eq!(one("p = \"a;b\"").1, "\"a");
        assert_eq!(one("p = \"\"").1, "");
        assert_eq!(one("p = \"").1, "\"");
    }

    #[test]
    fn triple_and_backtick_quotes() {
        assert_eq!(one("a = \"\"\"x;y\"\"\" tail\n").1, "x;y");
        assert_eq!(one("a = \"\"\"x;y\"\"\" tail\n").2, "\"\"\"x;y\"\"\" tail");
        assert_eq!(one("a = `x # y`").1, "x # y");
        let (_, v, raw, c) = one("a = \"\"\"one\r\ntwo\n\"\"\" ; c\nb = 1\n");
        assert_eq!(v, "one\r\ntwo\n");
        assert_eq!(raw, "\"\"\"one\r\ntwo\n\"\"\"");
        assert_eq!(c.as_deref(), Some("c"));
        assert_eq!(pairs("a = `x\ny`\nb = 1\n").len(), 2);
        assert!(scan("a = \"\"\"open\nnever closed\n").is_err());
        // Three quotes at the very end are a plain value.
        assert_eq!(one("a = \"\"\"").1, "\"\"\"");
    }

    #[test]
    fn continuation_lines() {
        let (_, v, raw, _) = one("a = one \\\n   two\\\n three ; x\nb = 2\n");
        assert_eq!(v, "one twothree ; x");
        assert_eq!(raw, "one \\\n   two\\\n three ; x");
        let all = pairs("a = x\\\n\nb = 2\n");
        assert_eq!(all[0].1, "x");
        assert_eq!(all[1].1, "2");
        assert_eq!(one("a = x\\").1, "x");
    }

    #[test]
    fn keys() {
        assert_eq!(one("\"a=b\" = 1").0, "a=b");
        assert_eq!(one("`a:b` : 1").0, "a:b");
        assert_eq!(one("\"\"\"a`b\"\"\" = 1").0, "a`b");
        assert_eq!(one("  spaced key   = 1").0, "spaced key");
        let auto = pairs("- = a\n- = b\n[s]\n- = c\n");
        let keys: Vec<&str> = auto.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(keys, ["#1", "#2", "#1"]);
    }

    #[test]
    fn errors_have_positions_and_no_values() {
        let e = scan("a = 1\nsecret-without-delimiter\n").err().unwrap();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(!e.message.contains("secret"));
        assert!(scan("[unclosed\n").is_err());
        assert!(scan("[]\n").is_err());
        assert!(scan("= value\n").is_err());
        assert!(scan("\"open = 1\n").is_err());
        assert!(scan("\"\" = 1\n").is_err());
    }

    #[test]
    fn sections_and_comments() {
        let lines = scan("\u{feff}; c\n[ a b ] ; x]\n#  d  \r\n").unwrap();
        assert!(matches!(&lines[0].kind, Kind::Comment(s) if s == &(5..6)));
        assert!(matches!(&lines[1].kind, Kind::Section { name, .. } if name == " a b ] ; x"));
        assert!(matches!(&lines[2].kind, Kind::Comment(s) if s == &(23..24)));
        assert_eq!(lines[0].start, 3);
    }
}
