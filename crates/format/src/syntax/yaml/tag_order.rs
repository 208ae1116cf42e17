//! `!tag &anchor value` written as `&anchor !tag value` for sops.
//!
//! A scalar's span leaves the anchor outside, so a tag written before the
//! anchor stays outside too: sealed, the value reads `!!int &a ENC[…]`,
//! which go-yaml cannot read as an int (sops fails the MAC check). The
//! other order puts the tag inside the span, where the `ENC[…]` replaces
//! it, as sops writes it. Both orders mean the same node (YAML 1.2 §6.9).

/// `src` with the tag and anchor before each value of `at` (`(tag start,
/// value start)`, see `Parsed::tags_before_anchors`) swapped, the blanks
/// between them kept in place, so every other byte keeps its offset.
/// `Err(tag start)` for a pair a line break or comment separates.
pub(crate) fn anchors_first(src: &str, at: &[(usize, usize)]) -> Result<String, usize> {
    let mut out = src.to_string();
    for &(tag, value) in at {
        let between = src.get(tag..value).ok_or(tag)?;
        let (swapped, len) = swap(between).ok_or(tag)?;
        out.replace_range(tag..tag + len, &swapped);
    }
    Ok(out)
}

/// `!tag<blanks>&anchor<blanks>` → (`&anchor<blanks>!tag`, its length),
/// without the trailing blanks; `None` for anything else.
fn swap(between: &str) -> Option<(String, usize)> {
    let blank = |c: char| c == ' ' || c == '\t';
    let tag_end = between.find(blank)?;
    let (tag, rest) = between.split_at(tag_end);
    let anchor_at = rest.find(|c: char| !blank(c))?;
    let (gap, rest) = rest.split_at(anchor_at);
    let anchor_end = rest.find(blank).unwrap_or(rest.len());
    let (anchor, tail) = rest.split_at(anchor_end);
    let ok = tag.starts_with('!')
        && anchor.starts_with('&')
        && !tag.contains(['#', '\n', '\r'])
        && !anchor.contains(['#', '\n', '\r'])
        && tail.chars().all(blank);
    let len = tag.len() + gap.len() + anchor.len();
    ok.then(|| (format!("{anchor}{gap}{tag}"), len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_in_place_and_refuses_across_lines() {
        let src = "a: !!int &x 12\nb: !t\t&y  v\n";
        let at = [(3, 12), (18, 25)];
        assert_eq!(src.get(3..12), Some("!!int &x "));
        let out = anchors_first(src, &at).unwrap();
        assert_eq!(out, "a: &x !!int 12\nb: &y\t!t  v\n");
        assert_eq!(out.len(), src.len());
        let multi = "a: !!int\n  &x 12\n";
        assert_eq!(anchors_first(multi, &[(3, 14)]), Err(3));
        let comment = "a: !!int &x #c\n  12\n";
        assert!(anchors_first(comment, &[(3, 17)]).is_err());
    }
}
