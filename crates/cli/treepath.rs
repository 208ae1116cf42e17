//! sops's tree paths: `["a"]["b"][0]` (strings in double or single quotes,
//! integers bare), and looking them up in a tree.

use crate::exit::{code, Failure, Result};
use sops_like_format::{Format, Node};

/// One step of a path: the format crate's own, so paths go straight to
/// the structural edits.
pub use sops_like_format::syntax::PathStep as Step;

/// Parse `["a"][0]`.
pub fn parse(path: &str) -> Result<Vec<Step>> {
    let bad = |why: &str| {
        Failure::new(
            code::INVALID_TREE_PATH_FORMAT,
            format!("invalid tree path {path:?}: {why}"),
        )
        .hint(r#"write it like '["key"]["nested"][0]'"#)
    };
    let mut steps = Vec::new();
    let mut rest = path.trim();
    while !rest.is_empty() {
        rest = rest.strip_prefix('[').ok_or_else(|| bad("expected ["))?;
        let first = rest.chars().next().ok_or_else(|| bad("unexpected end"))?;
        if first == '"' || first == '\'' {
            // As sops reads it: the text between the quotes as it is (no
            // escapes: `["a\tb"]` is the key `a\tb`), up to the first
            // closing quote and `]` that the end or the next `[` follows.
            let body = &rest[1..];
            let close = format!("{first}]");
            let mut from = 0;
            let mut end = None;
            while let Some(i) = body.get(from..).and_then(|b| b.find(close.as_str())) {
                let at = from + i;
                let after = body.get(at + 2..).unwrap_or("").trim_start();
                if after.is_empty() || after.starts_with('[') {
                    end = Some(at);
                    break;
                }
                from = at + 1;
            }
            let end = end.ok_or_else(|| bad("unterminated string"))?;
            let key = body.get(..end).unwrap_or_default().to_string();
            rest = body.get(end + 2..).unwrap_or_default();
            steps.push(Step::Key(key));
        } else {
            let close = rest.find(']').ok_or_else(|| bad("expected ]"))?;
            let n = rest[..close]
                .trim()
                .parse::<usize>()
                .map_err(|_| bad("index must be a non-negative integer or a quoted key"))?;
            steps.push(Step::Index(n));
            rest = &rest[close + 1..];
        }
        rest = rest.trim_start();
    }
    Ok(steps)
}

/// Find the node at `steps` in a document of `format`, as sops finds it
/// (see [`sops_like_format::syntax::lookup_in`]: of duplicate keys the
/// first, in an INI section the last).
pub fn lookup<'a>(node: &'a Node, steps: &[Step], format: Format) -> Option<&'a Node> {
    sops_like_format::syntax::lookup_in(format, node, steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sops_paths() {
        assert_eq!(
            parse(r#"["a"]['b'][0]"#).ok(),
            Some(vec![
                Step::Key("a".into()),
                Step::Key("b".into()),
                Step::Index(0)
            ])
        );
        // No escapes, as in sops: backslashes are the key's own, and a
        // quote is part of the key unless `]` and the end or `[` follow.
        assert_eq!(
            parse(r#"["x\"y"]"#).ok(),
            Some(vec![Step::Key("x\\\"y".into())])
        );
        assert_eq!(
            parse(r#"["a\tb"]['c"]d'][1]"#).ok(),
            Some(vec![
                Step::Key("a\\tb".into()),
                Step::Key("c\"]d".into()),
                Step::Index(1)
            ])
        );
        assert_eq!(
            parse(r#"["x"y"]"#).ok(),
            Some(vec![Step::Key("x\"y".into())])
        );
        assert!(parse("a.b").is_err());
        assert!(parse(r#"["a"#).is_err());
        assert!(parse("[-1]").is_err());
    }

    proptest::proptest! {
        /// Any text either parses or fails with the tree path code.
        #[test]
        fn any_text_parses_or_fails_cleanly(text in r#"[\[\]"'\\0-9a-zé ]{0,24}"#) {
            if let Err(e) = parse(&text) {
                proptest::prop_assert_eq!(e.code, code::INVALID_TREE_PATH_FORMAT);
            }
        }

        /// Keys parse back from their spelling between quotes, as they are
        /// (quotes and backslashes too).
        #[test]
        fn spelled_keys_parse_back(keys in proptest::collection::vec(r#"[a-z"'\\é ]{0,6}"#, 1..4)) {
            let spelled: String = keys.iter().map(|k| format!("[\"{k}\"]")).collect();
            let steps = parse(&spelled).map_err(|e| proptest::test_runner::TestCaseError::fail(e.message))?;
            let expected: Vec<Step> = keys.into_iter().map(Step::Key).collect();
            proptest::prop_assert_eq!(steps, expected);
        }
    }
}
