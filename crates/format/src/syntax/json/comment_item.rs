//! sops's JSON writer keeps a comment of a list as an element of the
//! array, `"ENC[…,type:comment]"` (a YAML `l:\n  # c\n  - x` converted with
//! `--output-type json`), and its reader drops it again. JSON has no
//! comments: decrypting removes the element and one comma, so that the
//! elements kept are joined by their own separators.

use crate::splice::Edit;
use crate::tree::Span;

/// The end of a comment element's text: sops's `ENC[…]` string, closed.
const COMMENT_END: &str = "type:comment]\"";

/// The edit that removes the comment element whose string token is at
/// `span`, with the comma after it when it leads the array (only comment
/// elements before it), else the comma before it: every comment element
/// of an array removed this way leaves the other elements as they were
/// joined, and no two edits overlap.
pub(super) fn comment_item(src: &str, span: &Span) -> Option<Edit> {
    let after = src.get(span.end..)?;
    let next = span.end + (after.len() - after.trim_start().len());
    let before = src.get(..span.start)?.trim_end();
    let remove = if leads(src, span.start)? {
        match src.as_bytes().get(next)? {
            b',' => {
                let rest = src.get(next + 1..)?;
                span.start..next + 1 + (rest.len() - rest.trim_start().len())
            }
            b']' => span.clone(),
            _ => return None,
        }
    } else {
        let comma = before.strip_suffix(',')?.len();
        comma..span.end
    };
    Some(Edit {
        span: remove,
        text: String::new(),
    })
}

/// Whether every element before the one that starts at `start` is a
/// comment element (`None`: not an array element).
fn leads(src: &str, mut start: usize) -> Option<bool> {
    loop {
        let before = src.get(..start)?.trim_end();
        if before.ends_with('[') {
            return Some(true);
        }
        let prev = before.strip_suffix(',')?.trim_end();
        if !prev.ends_with(COMMENT_END) {
            return Some(false);
        }
        // No quote inside an `ENC[…]` text: its opening quote is the last.
        start = prev.get(..prev.len() - 1)?.rfind('"')?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::splice::splice;

    /// Remove every comment element of `src` (`"C"` stands for one).
    fn removed(src: &str) -> String {
        let src = src.replace("\"C\"", "\"ENC[AES256_GCM,data:x,type:comment]\"");
        let mut edits = Vec::new();
        let mut from = 0;
        while let Some(i) = src[from..].find("\"ENC[") {
            let start = from + i;
            let end = start + src[start + 1..].find('"').unwrap() + 2;
            edits.push(comment_item(&src, &(start..end)).unwrap());
            from = end;
        }
        splice(&src, edits).unwrap()
    }

    #[test]
    fn elements_kept_keep_their_separators() {
        for (src, want) in [
            (r#"["C"]"#, "[]"),
            (r#"["C", "C"]"#, "[]"),
            (r#"["C", 1]"#, "[1]"),
            (r#"[1, "C"]"#, "[1]"),
            (r#"["C", 1, "C", 2, "C"]"#, "[1, 2]"),
            (r#"[1, "C", "C", 2]"#, "[1, 2]"),
            (r#"["C", "C", {"a": 1}]"#, r#"[{"a": 1}]"#),
            ("[\n  \"C\",\n  \"x\"\n]", "[\n  \"x\"\n]"),
            ("[\n  \"x\",\n  \"C\"\n]", "[\n  \"x\"\n]"),
            ("[\r\n\t\"C\" ,\r\n\t1\r\n]", "[\r\n\t1\r\n]"),
        ] {
            let got = removed(src);
            assert_eq!(got, want, "{src}");
            assert!(
                serde_json::from_str::<serde_json::Value>(&got).is_ok(),
                "{got}"
            );
        }
    }

    #[test]
    fn a_comment_outside_an_array_is_not_one() {
        let src = r#"{"a": "ENC[AES256_GCM,data:x,type:comment]"}"#;
        assert!(comment_item(src, &(6..src.len() - 1)).is_none());
    }
}
