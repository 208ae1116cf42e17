//! The little lexing `toml_edit` does not expose: where the comments are.
//!
//! Run only on text `toml_edit` accepted, so it only has to tell strings
//! (and quoted keys) from everything else: a `#` outside a string starts a
//! comment that runs to the end of the line.

use crate::tree::Span;

/// The spans of the comment texts (after the `#`, without the line ending),
/// in document order.
pub(super) fn comments(src: &str) -> Vec<Span> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'#' => {
                let start = i + 1;
                let mut j = start;
                while b.get(j).is_some_and(|&d| d != b'\n') {
                    j += 1;
                }
                let end = if j > start && b.get(j - 1) == Some(&b'\r') {
                    j - 1
                } else {
                    j
                };
                out.push(start..end);
                i = j;
            }
            b'"' | b'\'' => i = skip_string(b, i),
            _ => i += 1,
        }
    }
    out
}

/// The offset just past the string (or quoted key) that starts at `i`.
fn skip_string(b: &[u8], i: usize) -> usize {
    let Some(&q) = b.get(i) else { return i + 1 };
    let escapes = q == b'"';
    let triple = b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q);
    if triple {
        let mut j = i + 3;
        loop {
            match b.get(j) {
                None => return j,
                Some(b'\\') if escapes => j += 2,
                Some(&d) if d == q => {
                    let mut n = 0;
                    while b.get(j + n) == Some(&q) {
                        n += 1;
                    }
                    if n >= 3 {
                        // Up to two quotes may end the content just before
                        // the closing delimiter: the whole run is consumed.
                        return j + n;
                    }
                    j += n;
                }
                Some(_) => j += 1,
            }
        }
    }
    let mut j = i + 1;
    loop {
        match b.get(j) {
            None | Some(b'\n') => return j,
            Some(b'\\') if escapes => j += 2,
            Some(&d) if d == q => return j + 1,
            Some(_) => j += 1,
        }
    }
}

/// The offset where the line holding `pos` starts.
pub(super) fn line_start(src: &str, pos: usize) -> usize {
    src.as_bytes()
        .get(..pos)
        .and_then(|before| before.iter().rposition(|&c| c == b'\n'))
        .map_or(0, |i| i + 1)
}

/// Whether only spaces and tabs precede `pos` on its line.
pub(super) fn starts_line(src: &str, pos: usize) -> bool {
    let start = line_start(src, pos);
    src.as_bytes()
        .get(start..pos)
        .is_some_and(|s| s.iter().all(|&c| c == b' ' || c == b'\t'))
}

/// Whether `src[from..to]` holds only whitespace, line endings and comments.
pub(super) fn only_trivia(src: &str, from: usize, to: usize) -> bool {
    let b = src.as_bytes();
    let mut i = from;
    while i < to {
        match b.get(i) {
            Some(b' ' | b'\t' | b'\r' | b'\n') => i += 1,
            Some(b'#') => {
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
    true
}

/// The line ending `src` uses: `\r\n` if its first line ends so, else `\n`.
pub(super) fn eol(src: &str) -> &'static str {
    match src.find('\n') {
        Some(i) if i > 0 && src.as_bytes().get(i - 1) == Some(&b'\r') => "\r\n",
        _ => "\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<&str> {
        comments(src).into_iter().map(|s| &src[s]).collect()
    }

    #[test]
    fn finds_comments_outside_strings() {
        let src = "# top\na = \"x # no\" # yes\r\n'k#' = '''\n# no\n''' #z\nb = \"\"\"q\\\"\"\"# no\"\"\"\"#end";
        assert_eq!(texts(src), vec![" top", " yes", "z", "end"]);
        assert_eq!(texts("a = \"\" # e\nb = '' #f"), vec![" e", "f"]);
        assert_eq!(texts("x = '''a'''''#c"), vec!["c"]);
        assert_eq!(texts("#\r\n"), vec![""]);
    }

    #[test]
    fn line_helpers() {
        let src = "a = 1\n  # c\n[t]";
        assert_eq!(line_start(src, 8), 6);
        assert!(starts_line(src, 8));
        assert!(!starts_line(src, 4));
        assert!(only_trivia(src, 5, 12));
        assert!(!only_trivia(src, 0, 12));
        assert_eq!(eol("a\r\nb\n"), "\r\n");
        assert_eq!(eol("a\nb\r\n"), "\n");
        assert_eq!(eol(""), "\n");
    }
}
