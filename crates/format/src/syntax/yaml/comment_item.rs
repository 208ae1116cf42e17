//! sops writes a comment that sits inside a sequence as a sequence item
//! (`- ENC[…,type:comment]`); decrypting turns the item back into a
//! `# comment` line at the dash's position.

use crate::splice::Edit;
use crate::tree::Span;

/// The edit replacing `- <item>` (the dash through the item's span) with
/// `#text`, if the item is a block sequence entry alone after its dash.
pub(super) fn comment_item(src: &str, span: &Span, text: &str) -> Option<Edit> {
    let before = src.get(..span.start)?;
    let trimmed = before.trim_end_matches([' ', '\t']);
    let dash = trimmed.strip_suffix('-')?;
    let line_start = dash.rfind('\n').map_or(0, |i| i + 1);
    // Only whitespace (or further `- ` of nested sequences) before the dash.
    if !dash[line_start..]
        .chars()
        .all(|c| c == ' ' || c == '\t' || c == '-')
    {
        return None;
    }
    Some(Edit {
        span: dash.len()..span.end,
        text: format!("#{text}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_an_item_into_a_comment_line() {
        let src = "list:\n    - a\n    - ENC[x]\n    - b\n";
        let start = src.find("ENC").unwrap();
        let e = comment_item(src, &(start..start + 6), " note").unwrap();
        let out = crate::splice::splice(src, vec![e]).unwrap();
        assert_eq!(out, "list:\n    - a\n    # note\n    - b\n");
        assert!(comment_item("a: ENC[x]\n", &(3..9), "x").is_none());
    }
}
