//! sops's comment stacks (sops-format.md §2: what `encrypted_comment_regex`
//! and `unencrypted_comment_regex` decide by), from go-yaml's reading of
//! the text: go-yaml gives a comment to the previous document, to a
//! collection higher up or deeper, or drops it, where the tree keeps it in
//! its place ([`crate::walk`]'s stack follows the tree). sops pushes each
//! comment of a collection on its level of the stack when its walk reaches
//! it, clears the level after each value (a nested collection counts as
//! one), and starts each document with an empty stack.

use std::collections::HashMap;

use super::foot::match_docs;
use super::goyaml::{self, Step};
use crate::tree::{Node, SopsStacks};

/// sops's stack at every value and comment of `docs` (the parse of
/// `src`) that go-yaml's reading of `src` pairs with the tree; `None` if
/// go-yaml refuses `src` or reads other documents or collections.
pub(super) fn sops_stacks(src: &str, docs: &[Node]) -> Option<SopsStacks> {
    let g = goyaml::read(src)?;
    let mut leaves = HashMap::new();
    match_docs(src, &g, docs, Some(&mut leaves))?;
    let mut out = SopsStacks::default();
    // A comment's span starts after its `#`.
    let flat = |levels: &[Vec<usize>]| -> Vec<usize> {
        levels.iter().flatten().map(|hash| hash + 1).collect()
    };
    for &d in &g.docs {
        let mut levels: Vec<Vec<usize>> = vec![Vec::new()];
        g.sops_walk(d, |step| match step {
            Step::Comment { at, .. } => {
                if let Some(level) = levels.last_mut() {
                    level.push(at);
                }
                out.comments.entry(at + 1).or_insert_with(|| flat(&levels));
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
