//! Which collection a comment at the end of a nested block belongs to, as
//! sops sees it (go-yaml v3 head/line/foot comments turned into sops tree
//! comments): the comment's additional authenticated data is that
//! collection's path, so it must be the same as sops's.
//!
//! go-yaml v3 splits the comment lines between a value and the next token
//! into *runs* (a new run starts at a blank line or where the column
//! changes). When block collections close there, measured against sops
//! 3.11 (`tests/integration/sops_write.rs`, comment placements):
//!
//! * the first run belongs to the innermost closing collection, unless a
//!   blank line or the end of the document follows it, or the next token
//!   follows it directly at the run's own column (then it is a head comment
//!   of that token);
//! * every closing collection, innermost first, claims the first run (from
//!   the last claimed one on) at exactly its indentation, together with
//!   the unclaimed runs before that one;
//! * what no closing collection takes belongs to the collection of the next
//!   token (the top level at the end of the document), as before.

use super::text::line_start;
use crate::tree::Comment;

/// A run of comment lines at one column without blank lines between them.
struct Run {
    /// Index of its first and one past its last comment in the list.
    first: usize,
    end: usize,
    /// The column of its `#`s.
    col: usize,
}

/// The comments that wait while block collections close, split into runs,
/// and which collection each run went to.
pub(super) struct Closing {
    comments: Vec<Option<Comment>>,
    runs: Vec<Run>,
    /// Whether the first run goes to the innermost closing collection.
    first_inner: bool,
    /// Whether the innermost collection has closed.
    inner_done: bool,
    /// Runs before this index were claimed or passed over.
    cursor: usize,
}

/// The byte offset of a comment's `#`.
fn hash_at(c: &Comment) -> Option<usize> {
    c.span.as_ref().map(|s| s.start.saturating_sub(1))
}

/// The column of byte `pos` (bytes since the line start).
fn column(src: &str, pos: usize) -> usize {
    pos - line_start(src, pos).min(pos)
}

/// The number of line breaks in `text` and whether `text` has nothing but
/// whitespace.
fn breaks(text: &str) -> (usize, bool) {
    let blank = text
        .bytes()
        .all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'));
    (text.bytes().filter(|&c| c == b'\n').count(), blank)
}

/// What follows the comments: the column of the next token and whether a
/// blank line comes first. At the end of the document (end of text, `---`
/// or `...`) the next token is `end`: where the `sops` metadata key goes
/// (sops reads an encrypted file, where it follows), `None` if nowhere.
fn next_token(src: &str, from: usize, end: Option<usize>) -> (Option<usize>, bool) {
    let rest = src.get(from..).unwrap_or("");
    // The rest of the last comment's line.
    let Some(nl) = rest.find('\n') else {
        return (end, false);
    };
    let mut blank = false;
    for line in rest.get(nl + 1..).unwrap_or("").split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() {
            blank = true;
            continue;
        }
        let marker = ["---", "..."].iter().any(|m| {
            body.strip_prefix(m)
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']))
        });
        if marker {
            return (end, blank);
        }
        return (Some(body.len() - trimmed.len()), blank);
    }
    (end, blank)
}

impl Closing {
    /// Split the waiting comments into runs (every parsed comment has a
    /// span). `end`: the column of the `sops` key that follows the document
    /// in the encrypted file (see [`next_token`]).
    pub(super) fn new(src: &str, comments: Vec<Comment>, end: Option<usize>) -> Closing {
        let mut runs: Vec<Run> = Vec::new();
        let mut prev_end = 0;
        let mut blank_after_first = false;
        for (i, c) in comments.iter().enumerate() {
            let at = hash_at(c).unwrap_or(prev_end);
            let col = column(src, at);
            let (lines, only_ws) = breaks(src.get(prev_end..at).unwrap_or(""));
            match runs.last_mut() {
                Some(run) if run.col == col && lines == 1 && only_ws => run.end = i + 1,
                last => {
                    if last.is_some() && runs.len() == 1 {
                        blank_after_first = lines > 1 || !only_ws;
                    }
                    runs.push(Run {
                        first: i,
                        end: i + 1,
                        col,
                    });
                }
            }
            prev_end = c.span.as_ref().map_or(at, |s| s.end);
        }
        let (next, blank) = next_token(src, prev_end, end);
        let first_inner = match runs.as_slice() {
            [] => false,
            [only] => !blank && next.is_some_and(|n| n != only.col),
            [_, ..] => !blank_after_first,
        };
        Closing {
            comments: comments.into_iter().map(Some).collect(),
            runs,
            first_inner,
            inner_done: false,
            cursor: 0,
        }
    }

    /// The comments for a block collection at indentation `indent` that
    /// closes now (innermost first); `claims` is false for a collection
    /// go-yaml gives no indentation level (a sequence at its key's column).
    pub(super) fn take(&mut self, indent: usize, claims: bool) -> Vec<Comment> {
        let mut runs = Vec::new();
        if !self.inner_done {
            self.inner_done = true;
            if self.first_inner {
                runs.push(0);
                // Runs after it that are deeper than this collection's keys
                // stay with it.
                runs.extend(
                    (1..self.runs.len())
                        .take_while(|&r| self.runs.get(r).is_some_and(|run| run.col > indent)),
                );
            }
        }
        if claims {
            let found = self
                .runs
                .iter()
                .enumerate()
                .skip(self.cursor)
                .find(|(_, r)| r.col == indent)
                .map(|(i, _)| i);
            if let Some(r) = found {
                runs.extend(self.cursor..=r);
                self.cursor = r;
            }
        }
        let mut out = Vec::new();
        for r in runs {
            if let Some(run) = self.runs.get(r) {
                for slot in self
                    .comments
                    .get_mut(run.first..run.end)
                    .unwrap_or_default()
                {
                    out.extend(slot.take());
                }
            }
        }
        out
    }

    /// The comments no collection took, in order.
    pub(super) fn rest(self) -> Vec<Comment> {
        self.comments.into_iter().flatten().collect()
    }
}
