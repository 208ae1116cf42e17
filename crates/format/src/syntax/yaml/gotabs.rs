//! Tabs go-yaml refuses where YAML allows them: in block context, a tab
//! in the blanks after a `-`, `?` or `:` indicator that starts a line's
//! (`-\tx`, `- \tx`, `? \tk`, `:\tv` after an explicit key, `-\t# c`, but
//! not `?\t# c` or `:\t# c`), as
//! go-yaml's scanner only skips tabs where a simple key cannot start
//! ("found character that cannot start any token"). sops cannot read such a
//! file, so sops's cipher refuses it (see `Parsed::sops_unreadable`).

use crate::tree::Node;

/// The offset of the first such tab in `src`, outside the scalars of
/// `docs` (its parse).
pub(super) fn refused_tab(src: &str, docs: &[Node]) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut from = 0;
    let mut spans: Option<Vec<std::ops::Range<usize>>> = None;
    while let Some(off) = memchr::memchr(b'\t', bytes.get(from..)?) {
        let at = from + off;
        from = at + 1;
        let line_start = src.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
        let before = src.get(line_start..at)?.trim_start_matches(' ');
        if !only_indicators(before) {
            continue;
        }
        // After a `?` or `:` indicator, blanks with tabs and then a comment
        // are read (`?\t# c`, `: \t# c`); after `-` they are not, and a
        // tab that ends the line is not either (measured with sops 3.11).
        let after = src.get(at..)?.trim_start_matches([' ', '\t']);
        let last = before.trim_end_matches([' ', '\t']).chars().last();
        if matches!(last, Some('?' | ':')) && after.starts_with('#') {
            continue;
        }
        // The scalars' spans, sorted, once there is a candidate.
        let spans = spans.get_or_insert_with(|| {
            let mut all = Vec::new();
            for d in docs {
                d.value_spans(&mut all);
            }
            all.sort_unstable_by_key(|r| r.start);
            all
        });
        let i = spans.partition_point(|r| r.start <= at);
        let inside = i
            .checked_sub(1)
            .and_then(|j| spans.get(j))
            .is_some_and(|r| at < r.end);
        if !inside {
            return Some(at);
        }
    }
    None
}

/// `-`, `?` or `:` indicators, each followed by blanks (the last may be
/// followed by nothing): `- `, `- - `, `?`, `: `.
fn only_indicators(text: &str) -> bool {
    let mut rest = text;
    if rest.is_empty() {
        return false;
    }
    while let Some(c) = rest.chars().next() {
        if !matches!(c, '-' | '?' | ':') {
            return false;
        }
        let after = rest.get(1..).unwrap_or("");
        let blanks = after.trim_start_matches([' ', '\t']);
        if blanks.len() == after.len() && !after.is_empty() {
            // `-x`, `--`: not an indicator.
            return false;
        }
        rest = blanks;
    }
    true
}

#[cfg(test)]
mod tests {
    fn refused(src: &str) -> Option<usize> {
        let out = crate::syntax::yaml::parse::parse(src).unwrap();
        out.parsed.sops_unreadable.map(|(at, _)| at)
    }

    #[test]
    fn tabs_after_indicators_as_go_yaml_reads_them() {
        // go-yaml refuses these (measured with sops 3.11: exit 2).
        for src in [
            "a:\n-\tb\n",
            "a:\n- \tb\n",
            "a:\n  -\tb\n",
            "? a\n:\tb\n",
            "? \ta\n: b\n",
            "a:\n- - \tb\n",
            "a:\n- \t# c\n  - b\n",
            "a:\n-\t\n",
            "a:\n-\t# c\n  - b\n",
            "? k\n:\t\n",
            "?\t\n k\n: v\n",
        ] {
            assert!(refused(src).is_some(), "{src:?}");
        }
        // And reads these.
        for src in [
            "a:\tb\n",
            "a: 1\t# c\nb: 2\n",
            "a:\n- b: 1\n  c:\t2\n",
            "a: 1 \t\n",
            "a: |\n  - \tx\n",
            "a: \"x\n  - \ty\"\n",
            "a: 1 # -\tx\n",
            "a:\n ?\t# c\n  k\n : v\n",
            "a:\n ? k\n :\t# c\n  v\n",
            "? \t# c\n k\n: v\n",
            "a:\n ? k\n : \t\t# c\n  v\n",
        ] {
            assert_eq!(refused(src), None, "{src:?}");
        }
    }
}
