//! sops's comment stacks (sops-format.md §2: what `encrypted_comment_regex`
//! and `unencrypted_comment_regex` decide by), from go-yaml's reading of
//! the text: go-yaml gives a comment to the previous document, to a
//! collection higher up or deeper, or drops it, where the tree keeps it in
//! its place ([`crate::walk`]'s stack follows the tree). sops pushes each
//! comment of a collection on its level of the stack when its walk reaches
//! it, clears the level after each value (a nested collection counts as
//! one), and starts each document with an empty stack.

use super::foot::{match_docs, with_metadata_keys};
use super::goyaml::{self, Step};
use super::parse::layouts_from_marks;
use crate::syntax::Parsed;
use crate::tree::{Node, SopsStacks};

/// sops's readings of the plaintext `src` (see
/// [`crate::syntax::Syntax::sops_stacks`]): of `src` itself, then of the
/// encrypted file (`src` with a `sops` key after each document that gets
/// one), where that one differs.
pub(super) fn sops_readings(src: &str, parsed: &Parsed) -> Vec<SopsStacks> {
    let docs = &parsed.tree.docs;
    let mut out: Vec<SopsStacks> = sops_stacks(src, docs, |at| at).into_iter().collect();
    let Some(layouts) = layouts_from_marks(src, &parsed.marks) else {
        return out;
    };
    let (text, inserts) = with_metadata_keys(src, &layouts);
    // The `sops` key moves only comment lines below a document's last
    // value.
    let mut ends = Vec::new();
    for doc in docs {
        doc.value_spans(&mut ends);
    }
    let moved = inserts.iter().any(|&(at, _)| {
        let last = ends.iter().map(|s| s.end).filter(|&e| e <= at).max();
        let below = src
            .get(last.unwrap_or(0)..at)
            .and_then(|t| t.split_once('\n'))
            .map_or("", |(_, rest)| rest);
        last.is_none() || below.contains('#')
    });
    if !moved {
        return out;
    }
    // An offset in `text` back in `src` (no comment is in an insertion).
    let to_src = |at: usize| {
        let mut shift = 0;
        for &(insert_at, len) in &inserts {
            if insert_at + shift + len <= at {
                shift += len;
            }
        }
        at - shift
    };
    if let Some(file) = sops_stacks(&text, docs, to_src) {
        if out.first() != Some(&file) {
            out.push(file);
        }
    }
    out
}

/// sops's stack at every value and comment of `docs` that go-yaml's
/// reading of `text` pairs with the tree (the parse of `text`, or of the
/// text `to_src` maps `text`'s offsets back into); `None` if go-yaml
/// refuses `text` or reads other documents or collections.
fn sops_stacks(text: &str, docs: &[Node], to_src: impl Fn(usize) -> usize) -> Option<SopsStacks> {
    let g = goyaml::read(text)?;
    let mut leaves = std::collections::HashMap::new();
    match_docs(text, &g, docs, Some(&mut leaves))?;
    let mut out = SopsStacks::default();
    // A comment's span starts after its `#`.
    let flat = |levels: &[Vec<usize>]| -> Vec<usize> {
        levels
            .iter()
            .flatten()
            .map(|&hash| to_src(hash) + 1)
            .collect()
    };
    for &d in &g.docs {
        let mut levels: Vec<Vec<usize>> = vec![Vec::new()];
        g.sops_walk(d, |step| match step {
            Step::Comment { at, .. } => {
                if let Some(level) = levels.last_mut() {
                    level.push(at);
                }
                out.comments
                    .entry(to_src(at) + 1)
                    .or_insert_with(|| flat(&levels));
            }
            Step::Value(n) => {
                if let Some(&start) = leaves.get(&n) {
                    out.values.insert(start, flat(&levels));
                }
                if let Some(level) = levels.last_mut() {
                    level.clear();
                }
            }
            Step::Open => levels.push(Vec::new()),
            Step::Close => {
                levels.pop();
                if let Some(level) = levels.last_mut() {
                    level.clear();
                }
            }
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::Syntax;
    use crate::tree::Value;
    use crate::walk::{walk, Leaf};

    /// Each value's text with the texts of the comments on its stack, as
    /// the walk gives them once the tree holds sops's stacks.
    fn stacks(src: &str) -> Vec<(String, Vec<String>)> {
        let mut tree = super::super::Yaml.parse(src).unwrap().tree;
        tree.sops_stacks = sops_stacks(src, &tree.docs, |at| at).map(Box::new);
        assert!(tree.sops_stacks.is_some(), "{src:?}");
        let mut out = Vec::new();
        walk(&tree, |place, leaf| {
            if let Leaf::Value(s) = leaf {
                let text = match &s.value {
                    Value::Str(t) => t.clone(),
                    Value::Int(i) => i.to_string(),
                    _ => String::new(),
                };
                let comments = place.comments.iter().map(|c| c.text.trim().to_string());
                out.push((text, comments.collect()));
            }
        });
        out
    }

    fn owned(v: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        v.iter()
            .map(|(t, cs)| (t.to_string(), cs.iter().map(|c| c.to_string()).collect()))
            .collect()
    }

    #[test]
    fn stacks_follow_go_yaml_placement() {
        // The previous document's foot comment: nothing on k's stack.
        assert_eq!(
            stacks("a: 1\n---\n# keep\n\nk: s\n"),
            owned(&[("1", &[]), ("s", &[])])
        );
        // Without the blank line, k's head comment.
        assert_eq!(
            stacks("a: 1\n---\n# keep\nk: s\n"),
            owned(&[("1", &[]), ("s", &["keep"])])
        );
        // Before an explicit key's `:`: the key's (its value's stack),
        // cleared after it.
        assert_eq!(
            stacks("? k\n# keep\n: 0\nd: s\n"),
            owned(&[("0", &["keep"]), ("s", &[])])
        );
        // A line comment comes before its value; a nested level keeps
        // the outer comments.
        assert_eq!(
            stacks("# top\nm:\n  a: 1 # one\n  b: 2\n"),
            owned(&[("1", &["top", "one"]), ("2", &["top"])])
        );
    }
}
