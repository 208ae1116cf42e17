//! Helpers for the per-leaf work: run it on every core in contiguous
//! chunks, and splice borrowed replacement texts into the source.

use crate::splice::SpliceError;
use crate::tree::Span;

/// Below this many items one thread does all the work (a thread costs more
/// than it saves on small files).
const MIN_PARALLEL: usize = 2048;

/// At most this many threads.
const MAX_THREADS: usize = 8;

/// How many items each chunk gets when `len` items are shared out over
/// the cores (all of them in one chunk for small inputs).
pub(super) fn chunk_len(len: usize) -> usize {
    let threads = if len < MIN_PARALLEL {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_THREADS)
    };
    len.div_ceil(threads).max(1)
}

/// Run every task, the first on this thread and the others on their own
/// threads. The results come back in task order.
pub(super) fn run_all<R: Send, F: FnOnce() -> R + Send>(tasks: Vec<F>) -> Vec<R> {
    let mut tasks = tasks.into_iter();
    let Some(first) = tasks.next() else {
        return Vec::new();
    };
    if tasks.len() == 0 {
        return vec![first()];
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = tasks.map(|t| scope.spawn(t)).collect();
        let mut results = Vec::with_capacity(handles.len() + 1);
        results.push(first());
        for h in handles {
            match h.join() {
                Ok(r) => results.push(r),
                // A worker panicked (a bug, not an input error): propagate it.
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
        results
    })
}

/// Apply `work` to contiguous chunks of `items`, on several threads for
/// large inputs. The results come back in chunk order.
pub(super) fn chunked<T: Sync, R: Send>(items: &[T], work: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    if items.is_empty() {
        return vec![work(items)];
    }
    let work = &work;
    run_all(
        items
            .chunks(chunk_len(items.len()))
            .map(|c| move || work(c))
            .collect(),
    )
}

/// Replace each `(span, text)` of `src`, writing into `out` (which should be
/// empty). Same rules as [`crate::splice::splice`]: pieces may come in any
/// order (they are stably sorted by span when they are not in order
/// already), zero-width spans insert, overlaps and bad bounds are errors.
pub(super) fn splice_into(
    src: &str,
    mut pieces: Vec<(Span, &str)>,
    out: &mut String,
) -> Result<(), SpliceError> {
    let key = |p: &(Span, &str)| (p.0.start, p.0.end);
    if !pieces.is_sorted_by_key(key) {
        pieces.sort_by_key(key);
    }
    splice_sorted_into(src, pieces, out)
}

/// [`splice_into`] for pieces already in span order (an overlap error
/// otherwise).
pub(super) fn splice_sorted_into<'t>(
    src: &str,
    pieces: impl IntoIterator<Item = (Span, &'t str)>,
    out: &mut String,
) -> Result<(), SpliceError> {
    let mut pos = 0;
    for (span, text) in pieces {
        let (start, end) = (span.start, span.end);
        let (Some(before), true) = (src.get(pos.min(start)..start), src.is_char_boundary(end))
        else {
            return Err(SpliceError::OutOfBounds(start, end));
        };
        if start > end || end > src.len() {
            return Err(SpliceError::OutOfBounds(start, end));
        }
        if start < pos {
            return Err(SpliceError::Overlap(start, end));
        }
        out.push_str(before);
        out.push_str(text);
        pos = end;
    }
    out.push_str(src.get(pos..).unwrap_or(""));
    Ok(())
}

/// The AAD strings of the leaves, all in one buffer; consecutive leaves
/// usually share one.
#[derive(Default)]
pub(super) struct Aads {
    /// Every distinct-from-its-predecessor AAD, back to back.
    text: String,
    /// Where each AAD starts in `text` (it ends where the next starts).
    starts: Vec<usize>,
}

impl Aads {
    /// The index of the AAD of `path` (`a:b:`; `:` for the empty path).
    pub(super) fn index(&mut self, path: &[&str]) -> usize {
        let start = self.text.len();
        for p in path {
            self.text.push_str(p);
            self.text.push(':');
        }
        if path.is_empty() {
            self.text.push(':');
        }
        let same = match self.starts.last() {
            Some(&prev) => self.text.get(prev..start) == self.text.get(start..),
            None => false,
        };
        if same {
            self.text.truncate(start);
        } else {
            self.starts.push(start);
        }
        self.starts.len().saturating_sub(1)
    }

    /// Forget every AAD, keeping the capacity (a new window of leaves).
    pub(super) fn clear(&mut self) {
        self.text.clear();
        self.starts.clear();
    }

    /// The AAD at `i`.
    pub(super) fn get(&self, i: usize) -> &str {
        let Some(&start) = self.starts.get(i) else {
            return "";
        };
        let end = self.starts.get(i + 1).copied().unwrap_or(self.text.len());
        self.text.get(start..end).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str, pieces: Vec<(Span, &str)>) -> Result<String, SpliceError> {
        let mut out = String::new();
        splice_into(src, pieces, &mut out).map(|()| out)
    }

    #[test]
    // A reversed span is one of the bad inputs checked.
    #[allow(clippy::reversed_empty_ranges)]
    fn matches_splice() {
        let cases: Vec<(&str, Vec<(Span, &str)>)> = vec![
            ("a: 1\n", vec![]),
            (
                "a: 1\nb: 2\n",
                vec![(8..9, "X"), (3..4, "Y"), (10..10, "c"), (10..10, "d")],
            ),
            ("abcdef", vec![(1..3, ""), (2..4, "")]),
            ("ab", vec![(1..3, "")]),
            ("é", vec![(1..1, "x")]),
            ("abc", vec![(2..1, "x")]),
        ];
        for (src, pieces) in cases {
            let edits = pieces
                .iter()
                .map(|(s, t)| crate::splice::Edit {
                    span: s.clone(),
                    text: t.to_string(),
                })
                .collect();
            assert_eq!(run(src, pieces), crate::splice::splice(src, edits));
        }
    }

    #[test]
    fn aads_match_cipher_aad() {
        let mut a = Aads::default();
        for path in [&["x", "y"][..], &["x", "y"], &[], &["z"]] {
            let i = a.index(path);
            assert_eq!(a.get(i), crate::cipher::aad(path));
        }
        assert_eq!(a.starts.len(), 3);
    }

    #[test]
    fn chunked_keeps_order() {
        let items: Vec<usize> = (0..10_000).collect();
        let sums = chunked(&items, |c| c.to_vec());
        assert_eq!(sums.concat(), items);
        assert_eq!(chunked(&items[..3], |c| c.len()), vec![3]);
        assert_eq!(chunked(&[] as &[u8], |c| c.len()), vec![0]);
    }
}
