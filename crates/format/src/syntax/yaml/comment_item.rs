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
    // Only whitespace (or further `- ` of nested sequences, or the `: ` of
    // an explicit key's value, as sops writes a key with a line break in
    // it: `? |\n    k\n:   - ENC[…]`) before the dash.
    let lead = &dash[line_start..];
    let body = lead.trim_start_matches([' ', '\t']);
    let body = body
        .strip_prefix(':')
        .filter(|rest| rest.starts_with([' ', '\t']))
        .unwrap_or(body);
    if !body.chars().all(|c| c == ' ' || c == '\t' || c == '-') {
        return None;
    }
    let comment = format!("#{text}");
    // The only items of a list are comments (sops writes `d: [] # c` so):
    // the list stays a list, `d: []`, not null. (Not for a sequence that
    // starts after another's dash, `- - ENC[…]`: no key is above it.)
    let first_dash = dash[line_start..].bytes().all(|c| c == b' ' || c == b'\t');
    if let Some(colon) = only_comments_below_key(src, line_start, span.end).filter(|_| first_dash) {
        let gap = src.get(colon..dash.len())?;
        return Some(Edit {
            span: colon..span.end,
            text: format!(" []{gap}{comment}"),
        });
    }
    Some(Edit {
        span: dash.len()..span.end,
        text: comment,
    })
}

/// Where to write ` []` (just after the key's `:`), if the item whose line
/// starts at `line_start` and whose value ends at `end` is the first of a
/// block sequence below a `key:` line (nothing after the colon), and every
/// item of that sequence is a comment (`- ENC[…,type:comment]`).
fn only_comments_below_key(src: &str, line_start: usize, end: usize) -> Option<usize> {
    let indent = src
        .get(line_start..)?
        .bytes()
        .take_while(|&b| b == b' ')
        .count();
    let before = src.get(..line_start.checked_sub(1)?)?;
    let key_line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let key_line = before.get(key_line_start..)?;
    let trimmed = key_line.trim_end_matches([' ', '\t', '\r']);
    // The key may be a list item's first (`- key:`).
    let mut body = trimmed.trim_start_matches(' ');
    while let Some(rest) = body.strip_prefix("- ") {
        body = rest.trim_start_matches(' ');
    }
    if !trimmed.ends_with(':') || body.starts_with('#') || body.starts_with('-') {
        return None;
    }
    // The key's column is at most the items' (`key:\n- a` has them equal).
    if trimmed.len() - body.len() > indent {
        return None;
    }
    let rest = src.get(end..)?;
    let rest = rest.get(rest.find('\n').map_or(rest.len(), |i| i + 1)..)?;
    for line in rest.split('\n') {
        let body = line.trim_start_matches(' ');
        let col = line.len() - body.len();
        // Comment lines (sops writes a comment before an item as a
        // `#ENC[…]` line at the items' column) do not end the sequence.
        if body.trim().is_empty() || body.starts_with('#') {
            continue;
        }
        if col < indent || (col == indent && !body.starts_with("- ")) {
            break;
        }
        if col == indent {
            // One dash: `- - ENC[…,type:comment]` is an item holding a
            // sequence (whose first item is a comment), not a comment.
            let item = body
                .strip_prefix("- ")
                .unwrap_or(body)
                .trim_start_matches(' ')
                .trim_end_matches(['\r', ' ']);
            if !(item.starts_with("ENC[") && item.ends_with(",type:comment]")) {
                return None;
            }
        }
    }
    Some(key_line_start + trimmed.len())
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

    fn decrypted(src: &str) -> String {
        let mut edits = Vec::new();
        let mut from = 0;
        while let Some(i) = src[from..].find("ENC[") {
            let start = from + i;
            let end = start + src[start..].find(']').unwrap() + 1;
            edits.push(comment_item(src, &(start..end), " c").unwrap());
            from = end;
        }
        crate::splice::splice(src, edits).unwrap()
    }

    /// A comment item of a sequence after another's dash, or as an
    /// explicit key's value.
    #[test]
    fn sequences_after_a_dash_or_an_explicit_key_s_colon() {
        // sops writes `k:\n- - 1 # c` with the comment as the inner
        // sequence's first item.
        let turned = |src: &str| {
            let at = src.find("ENC[c]").unwrap();
            let e = comment_item(src, &(at..at + 6), " c").unwrap();
            let mut out = src.to_string();
            out.replace_range(e.span.clone(), &e.text);
            out
        };
        assert_eq!(
            turned("k:\n    - - ENC[c]\n      - 1\n"),
            "k:\n    - # c\n      - 1\n"
        );
        // The value of an explicit key.
        assert_eq!(
            turned("? |\n    k\n:   - ENC[c]\n    - 0\n"),
            "? |\n    k\n:   # c\n    - 0\n"
        );
    }

    /// A list whose only items are comments stays a list.
    #[test]
    fn a_list_of_only_comments_stays_a_list() {
        let c = "ENC[AES256_GCM,data:x,type:comment]";
        assert_eq!(
            decrypted(&format!("d:\n    - {c}\ne: 1\n")),
            "d: []\n    # c\ne: 1\n"
        );
        assert_eq!(
            decrypted(&format!("a:\n  d:\n  - {c}\n  - {c}\n")),
            "a:\n  d: []\n  # c\n  # c\n"
        );
        // A list with a value among its items, or a key line with more
        // after its colon, is left as it is.
        assert_eq!(
            decrypted(&format!("d:\n    - {c}\n    - v\n")),
            "d:\n    # c\n    - v\n"
        );
        // A comment line between the comment item and a value item
        // (sops's `k:\n  # c1\n  - # c2\n    a: 1`).
        assert_eq!(
            decrypted(&format!("k:\n    - {c}\n    #x\n    - a: 1\n")),
            "k:\n    # c\n    #x\n    - a: 1\n"
        );
        // An item holding a sequence whose first item is a comment
        // (sops's `k:\n  # c1\n  - # c2\n    - 1`).
        assert_eq!(
            decrypted(&format!("k:\n    - {c}\n    - - {c}\n      - 1\n")),
            "k:\n    # c\n    - # c\n      - 1\n"
        );
        assert_eq!(
            decrypted(&format!("k:\n- {c}\n#x\ne: 1\n")),
            "k: []\n# c\n#x\ne: 1\n"
        );
        assert_eq!(
            decrypted(&format!("d: # k\n    - {c}\n")),
            "d: # k\n    # c\n"
        );
        assert_eq!(decrypted(&format!("- {c}\n")), "# c\n");
        // The key of a list item.
        assert_eq!(
            decrypted(&format!("l:\n    - d:\n        - {c}\n      e: 1\n")),
            "l:\n    - d: []\n        # c\n      e: 1\n"
        );
    }
}
