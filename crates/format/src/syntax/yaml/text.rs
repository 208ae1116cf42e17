//! Small byte-level helpers over the source text: lines, line breaks,
//! whitespace.

/// Whether `line` starts with the document marker `marker` (`---` or
/// `...`): the marker followed by nothing, a blank or a line break (`---x`
/// is content).
pub fn is_marker_line(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// Whether `c` ends an anchor's or alias's name (`&name`, `*name`): a
/// blank, a line break or a flow indicator.
pub(crate) fn ends_anchor_name(c: char) -> bool {
    c.is_whitespace() || ",[]{}".contains(c)
}

/// `\n` or `\r`.
pub(crate) fn is_lb(c: u8) -> bool {
    c == b'\n' || c == b'\r'
}

/// The start of the line holding byte `pos` (after a leading byte order
/// mark on the first line).
pub(crate) fn line_start(src: &str, pos: usize) -> usize {
    let b = src.as_bytes();
    let pos = pos.min(b.len());
    match b.get(..pos).and_then(|s| s.iter().rposition(|&c| is_lb(c))) {
        Some(i) => i + 1,
        None if src.starts_with('\u{feff}') && pos >= 3 => 3,
        None => 0,
    }
}

/// The line break used in `src[from..to]` (else in the whole text):
/// `"\r\n"` if the first `\n` follows a `\r`, else `"\n"`.
pub(crate) fn line_break_style(src: &str, from: usize, to: usize) -> &'static str {
    let b = src.as_bytes();
    let first_in = |lo: usize, hi: usize| {
        b.get(lo..hi)
            .and_then(|s| s.iter().position(|&c| c == b'\n'))
            .map(|i| i + lo)
    };
    match first_in(from, to.min(b.len())).or_else(|| first_in(0, b.len())) {
        Some(i) if i > 0 && b.get(i - 1) == Some(&b'\r') => "\r\n",
        _ => "\n",
    }
}

/// Walk back from `i` over spaces, tabs and line breaks, not below `floor`.
pub(crate) fn skip_ws_back(src: &str, mut i: usize, floor: usize) -> usize {
    let b = src.as_bytes();
    while i > floor && matches!(b.get(i - 1), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i -= 1;
    }
    i
}

/// Whether the text ends with a line break (or is empty).
pub(crate) fn ends_with_lb(src: &str) -> bool {
    src.is_empty() || src.ends_with(['\n', '\r'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(line_start("ab\ncd", 4), 3);
        assert_eq!(line_start("\u{feff}ab", 4), 3);
        assert_eq!(line_start("ab", 1), 0);
        assert_eq!(line_break_style("a\r\nb", 0, 4), "\r\n");
        assert_eq!(line_break_style("a\nb\r\n", 0, 2), "\n");
        assert_eq!(line_break_style("ab", 0, 2), "\n");
        assert_eq!(skip_ws_back("a \n b", 4, 0), 1);
        assert!(ends_with_lb("a\r"));
        assert!(!ends_with_lb("a"));
    }
}
