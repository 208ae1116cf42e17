//! A comment that lies inside a value's text (on a block scalar's header
//! line, `k: > # c`, or after a tag whose value is below, `k: !!str # c`)
//! is sealed with the value by the XChaCha lexeme. The AES `ENC[…]` lexeme
//! holds the value alone, so such a comment is written after it: ` #` on
//! the value's line, then a line of its own for each further one (at the
//! value's line's indentation), and a line break before what follows the
//! value on its line (in a flow collection). sops reads each at the path
//! go-yaml gives it there.

use crate::tree::Span;

/// Where the `nth` (from 0) such comment of the value at `value` goes: the
/// offset to insert at, and the text before and after the comment's own.
pub(super) fn comment_after(src: &str, value: &Span, nth: usize) -> (usize, String, String) {
    let at = value.end;
    let line_end = src
        .get(at..)
        .and_then(|r| r.find('\n'))
        .map_or(src.len(), |i| at + i);
    let rest = src.get(at..line_end).unwrap_or("");
    let lb = if rest.ends_with('\r') { "\r\n" } else { "\n" };
    let line_start = src
        .get(..at)
        .and_then(|b| b.rfind('\n'))
        .map_or(0, |i| i + 1);
    let indent: String = src
        .get(line_start..at)
        .unwrap_or("")
        .chars()
        .take_while(|&c| c == ' ')
        .collect();
    let more = !rest.trim_end_matches(['\r', ' ', '\t']).is_empty();
    // Blanks that end the line (a block scalar's last line may end with
    // some): the comment goes after them, so that it ends the line.
    let at = if more {
        at
    } else {
        at + rest.trim_end_matches('\r').len()
    };
    let lead = match (nth, more) {
        (0, _) => " #".to_string(),
        (_, true) => "#".to_string(),
        (_, false) => format!("{lb}{indent}#"),
    };
    let trail = if more {
        format!("{lb}{indent}")
    } else {
        String::new()
    };
    (at, lead, trail)
}

#[cfg(test)]
mod tests {
    use super::comment_after;

    #[test]
    fn after_the_value_then_on_lines_of_their_own() {
        // (text, value span, nth): (offset, lead, trail)
        let cases = [
            ("  k: |\n    text\n", 5..16, 0, (16, " #", "")),
            ("  k: ENC\n", 5..8, 0, (8, " #", "")),
            ("  k: ENC\n", 5..8, 1, (8, "\n  #", "")),
            ("k: |\n  x \r\n", 3..8, 0, (9, " #", "")),
            ("a: [!!str x, y]\r\n", 4..11, 0, (11, " #", "\r\n")),
            ("a: [!!str x, y]\r\n", 4..11, 1, (11, "#", "\r\n")),
        ];
        for (src, value, nth, (at, lead, trail)) in cases {
            let want = (at, lead.to_string(), trail.to_string());
            assert_eq!(comment_after(src, &value, nth), want, "{src:?} {nth}");
        }
    }
}
