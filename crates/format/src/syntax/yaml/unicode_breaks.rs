//! U+2028, U+2029 and U+0085 written raw in a scalar, as go-yaml v3 (and so
//! sops) reads them.
//!
//! YAML 1.2 reads them as ordinary characters; go-yaml, a YAML 1.1 reader,
//! reads each as a line break: a NEL as `\n`, a line or paragraph
//! separator as itself, and in both cases the blanks around it are not
//! part of the value (they are indentation). The go-yaml emitter writes
//! such a value raw in a single-quoted scalar (`'x<LS>    y'`, the next
//! line's indentation after the separator) or a literal block, so a value
//! that sops leaves unencrypted reads differently in the two tools, and so
//! does the MAC over it. [`go_yaml_text`] gives go-yaml's reading, for the
//! MAC of files sops reads (see `engine`).

/// go-yaml's `is_break`: `\r`, `\n`, NEL, LS, PS.
fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t')
}

/// Whether go-yaml reads `text` otherwise than YAML 1.2 may. Run over a
/// whole file before an AES encryption: the three characters' lead bytes
/// are found with `memchr`.
pub(super) fn has_unicode_breaks(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr2_iter(0xc2, 0xe2, bytes).any(|i| {
        let rest = bytes.get(i..).unwrap_or_default();
        ["\u{85}", "\u{2028}", "\u{2029}"]
            .iter()
            .any(|c| rest.starts_with(c.as_bytes()))
    })
}

/// go-yaml's reading of the scalar `lexeme` (its span: tag included) whose
/// YAML 1.2 value is `value`, if it holds a raw NEL, LS or PS and is plain,
/// single-quoted or a block scalar without an indentation indicator;
/// `None` otherwise (the same reading, or a form not handled here).
pub(super) fn go_yaml_text(lexeme: &str, value: &str) -> Option<String> {
    if !has_unicode_breaks(lexeme) {
        return None;
    }
    let body = skip_tag(lexeme)?;
    match body.chars().next()? {
        '\'' => Some(fold_flow(
            body.strip_prefix('\'')?.strip_suffix('\'')?,
            true,
        )),
        '"' => None,
        '|' | '>' => block(body, value),
        _ => Some(fold_flow(body, false)),
    }
}

/// The lexeme after a leading tag and the blanks after it.
fn skip_tag(lexeme: &str) -> Option<&str> {
    if !lexeme.starts_with('!') {
        return Some(lexeme);
    }
    let end = lexeme.find(|c: char| c.is_whitespace())?;
    let rest = lexeme
        .get(end..)?
        .trim_start_matches([' ', '\t', '\r', '\n']);
    (!rest.starts_with('#')).then_some(rest)
}

/// go-yaml's `read_line`: append the break at the start of `rest` to
/// `out` (CR LF, CR, LF and NEL as `\n`; LS and PS as themselves) and
/// return its length.
fn read_line(rest: &str, out: &mut String) -> usize {
    if rest.starts_with("\r\n") {
        out.push('\n');
        return 2;
    }
    match rest.chars().next() {
        Some(c @ ('\u{2028}' | '\u{2029}')) => {
            out.push(c);
            c.len_utf8()
        }
        Some(c) => {
            out.push('\n');
            c.len_utf8()
        }
        None => 0,
    }
}

/// A plain scalar's text, or a single-quoted one's between its quotes, as
/// go-yaml's flow and plain scanners join its lines.
fn fold_flow(text: &str, single: bool) -> String {
    let mut s = String::with_capacity(text.len());
    let (mut blanks, mut leading, mut trailing) = (String::new(), String::new(), String::new());
    let mut i = 0;
    loop {
        while let Some(c) = text.get(i..).and_then(|r| r.chars().next()) {
            if is_blank(c) || is_break(c) {
                break;
            }
            if single && text.get(i..).is_some_and(|r| r.starts_with("''")) {
                s.push('\'');
                i += 2;
            } else {
                s.push(c);
                i += c.len_utf8();
            }
        }
        if i >= text.len() {
            break;
        }
        let mut broken = false;
        while let Some(c) = text.get(i..).and_then(|r| r.chars().next()) {
            if is_blank(c) {
                if !broken {
                    blanks.push(c);
                }
                i += 1;
            } else if is_break(c) {
                let rest = text.get(i..).unwrap_or_default();
                if broken {
                    i += read_line(rest, &mut trailing);
                } else {
                    blanks.clear();
                    i += read_line(rest, &mut leading);
                    broken = true;
                }
            } else {
                break;
            }
        }
        if broken {
            if leading.starts_with('\n') {
                if trailing.is_empty() {
                    s.push(' ');
                } else {
                    s.push_str(&trailing);
                }
            } else {
                s.push_str(&leading);
                s.push_str(&trailing);
            }
            leading.clear();
            trailing.clear();
        } else {
            s.push_str(&blanks);
            blanks.clear();
        }
    }
    s
}

/// A block scalar: its YAML 1.2 `value` with the indentation after each LS
/// or PS taken out (go-yaml ends the line there, and the next line's
/// indentation is not content), and in a literal block each NEL a `\n`.
/// `None` with an indentation indicator, or a NEL in a folded block.
fn block(body: &str, value: &str) -> Option<String> {
    let header_end = body.find(['\n', '\r'])?;
    let header = body.get(..header_end)?;
    let indicators = header.split('#').next().unwrap_or_default().trim_end();
    if indicators.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let literal = header.starts_with('|');
    if !literal && value.contains('\u{85}') {
        return None;
    }
    // The content's indentation: its first line with a non-blank.
    let indent = body
        .get(header_end..)?
        .split(['\n', '\r'])
        .find(|line| !line.trim().is_empty())?
        .chars()
        .take_while(|&c| c == ' ')
        .count();
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{2028}' | '\u{2029}' | '\u{85}' => {
                out.push(if c == '\u{85}' { '\n' } else { c });
                for _ in 0..indent {
                    if chars.next_if_eq(&' ').is_none() {
                        break;
                    }
                }
            }
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::go_yaml_text;

    /// The readings measured with sops 3.11 (`sops decrypt` of files it
    /// wrote, and of plaintexts it read).
    #[test]
    fn as_go_yaml_reads_them() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("'x\u{2028}    y'", "x\u{2028}    y", Some("x\u{2028}y")),
            ("'x\u{2028}'", "x\u{2028}", Some("x\u{2028}")),
            ("'\u{2028}'", "\u{2028}", Some("\u{2028}")),
            ("'p\u{2029}\u{2029}    q'", "", Some("p\u{2029}\u{2029}q")),
            ("'it''s\u{2028}    x'", "", Some("it's\u{2028}x")),
            ("'a  \u{2028}  b'", "", Some("a\u{2028}b")),
            ("'a\u{85}  b'", "", Some("a b")),
            ("'a\u{2028}\n   b'", "", Some("a\u{2028}\nb")),
            ("x\u{2028} y", "x\u{2028} y", Some("x\u{2028}y")),
            ("!!str x\u{2028} y", "", Some("x\u{2028}y")),
            (
                "|-\n    a\n    b\u{2028}    c",
                "a\nb\u{2028}    c",
                Some("a\nb\u{2028}c"),
            ),
            (
                ">\n  a\u{2028}    b\n",
                "a\u{2028}    b\n",
                Some("a\u{2028}  b\n"),
            ),
            ("|\n  a\u{85}  b\n", "a\u{85}  b\n", Some("a\nb\n")),
            ("|2\n  a\u{2028}  b\n", "a\u{2028}  b\n", None),
            ("\"x\u{2028}y\"", "x\u{2028}y", None),
            ("'plain'", "plain", None),
            ("'\u{a0}\u{2027}\u{202f}'", "", None),
        ];
        for (lexeme, value, want) in cases {
            assert_eq!(go_yaml_text(lexeme, value).as_deref(), *want, "{lexeme:?}");
        }
    }
}
