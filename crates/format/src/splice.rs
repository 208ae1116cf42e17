//! The one routine that rewrites a document: copy every byte outside the
//! edited spans unchanged, put new text into the spans.

use crate::tree::Span;

/// Replace `span` of the source with `text`. A zero-width span inserts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// The bytes to replace.
    pub span: Span,
    /// What to put there.
    pub text: String,
}

/// An edit's text may be plaintext (a decrypted comment item, the value
/// `set` writes): it is wiped when dropped (see [`crate::wipe::wipe`]).
impl Drop for Edit {
    fn drop(&mut self) {
        crate::wipe::wipe_string(&mut self.text);
    }
}

/// Why a set of edits could not be applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpliceError {
    /// Two edits overlap.
    #[error("internal error: overlapping edits at bytes {0}..{1}")]
    Overlap(usize, usize),
    /// An edit lies outside the source or not on a character boundary.
    #[error("internal error: edit at bytes {0}..{1} is outside the text")]
    OutOfBounds(usize, usize),
}

/// Apply `edits` to `src`. Edits may come in any order; insertions at the
/// same offset keep their relative order.
pub fn splice(src: &str, mut edits: Vec<Edit>) -> Result<String, SpliceError> {
    // Stable sort: zero-width insertions at one offset keep their order, and
    // sort before a replacement starting at the same offset.
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    let extra: usize = edits.iter().map(|e| e.text.len()).sum();
    let mut out = String::with_capacity(src.len() + extra);
    let mut pos = 0;
    for e in &edits {
        let (start, end) = (e.span.start, e.span.end);
        if start > end
            || end > src.len()
            || !src.is_char_boundary(start)
            || !src.is_char_boundary(end)
        {
            return Err(SpliceError::OutOfBounds(start, end));
        }
        if start < pos {
            return Err(SpliceError::Overlap(start, end));
        }
        out.push_str(&src[pos..start]);
        out.push_str(&e.text);
        pos = end;
    }
    out.push_str(&src[pos..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(start: usize, end: usize, text: &str) -> Edit {
        Edit {
            span: start..end,
            text: text.to_string(),
        }
    }

    #[test]
    fn no_edits_is_identity() {
        assert_eq!(splice("a: 1\n", vec![]).as_deref(), Ok("a: 1\n"));
    }

    #[test]
    fn replaces_and_inserts_in_order() {
        let out = splice(
            "a: 1\nb: 2\n",
            vec![
                edit(8, 9, "X"),
                edit(3, 4, "Y"),
                edit(10, 10, "c"),
                edit(10, 10, "d"),
            ],
        );
        assert_eq!(out.as_deref(), Ok("a: Y\nb: X\ncd"));
    }

    #[test]
    fn rejects_overlap_and_bounds() {
        assert!(matches!(
            splice("abcdef", vec![edit(1, 3, ""), edit(2, 4, "")]),
            Err(SpliceError::Overlap(..))
        ));
        assert!(matches!(
            splice("ab", vec![edit(1, 3, "")]),
            Err(SpliceError::OutOfBounds(..))
        ));
        assert!(matches!(
            splice("é", vec![edit(1, 1, "x")]),
            Err(SpliceError::OutOfBounds(..))
        ));
    }
}
