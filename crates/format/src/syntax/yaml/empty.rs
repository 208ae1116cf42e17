//! Empty YAML documents as sops reads them: a document with no content
//! (`---` alone, or only comments) or a `null` one is `{}` to go-yaml's
//! reading in sops, and holds the `sops` metadata there. Also the texts
//! that hold no document at all, which sops refuses.

use super::text::is_marker_line;
use crate::tree::{Entry, Node, Tree, Value};
use zeroize::Zeroizing;

/// Why a YAML text has no document to encrypt (and to hold the metadata).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoDocument {
    /// No byte at all (sops: exit 92, "at least one document").
    Empty,
    /// Blank lines only (sops: "Error unmarshalling file: EOF", exit 2).
    OnlyBlanks,
    /// Comments (and blanks) only (the same).
    OnlyComments,
    /// A `...` marker before any document (go-yaml: "did not find
    /// expected node content", exit 2).
    EndMarkerFirst,
}

/// Whether `text` holds no YAML document, and why (see [`NoDocument`]).
/// A BOM is not content.
pub fn no_document(text: &str) -> Option<NoDocument> {
    if text.is_empty() {
        return Some(NoDocument::Empty);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = || text.lines().map(str::trim);
    let is_end = |l: &str| is_marker_line(l, "...");
    if !lines().all(|l| l.is_empty() || l.starts_with('#') || is_end(l)) {
        return None;
    }
    Some(if lines().any(is_end) {
        NoDocument::EndMarkerFirst
    } else if lines().any(|l| !l.is_empty()) {
        NoDocument::OnlyComments
    } else {
        NoDocument::OnlyBlanks
    })
}

/// A YAML stream with documents that are empty (`---`) or `null`, as
/// sops reads it: each such document is `{}`, and sops writes its metadata
/// there; sops reads the metadata of the first document only. So each
/// `null` spelled out becomes `{}`, and a first document that is empty
/// gets a `{}` when no document is a mapping or, for sops's cipher
/// (`aes`), always (an XChaCha file keeps its text). `None` when nothing
/// is to change.
pub fn fill_empty_documents(text: &str, tree: &Tree, aes: bool) -> Option<Filled> {
    let null_span = |doc: &Node| match doc {
        Node::Scalar(s) if s.value == Value::Null => s.span.as_ref().map(|sp| sp.start..sp.end),
        // An empty document that holds comments (sops reads it as `{}`
        // with those comments): it starts right after its `---` marker,
        // and only blanks and line breaks come between that and its first
        // comment's `#`.
        Node::Map(entries) => {
            let mut hash = None;
            for e in entries {
                match e {
                    Entry::Comment(c) => {
                        hash = hash.or(c.span.as_ref().map(|sp| sp.start.saturating_sub(1)));
                    }
                    Entry::Pair(_) => return None,
                }
            }
            let at = empty_document_start(text, hash?)?;
            only_comments_to_next_marker(text.get(at..)?).then_some(at..at)
        }
        _ => None,
    };
    let all_empty = tree.docs.iter().all(|d| null_span(d).is_some());
    let mut edits: Vec<(std::ops::Range<usize>, &str)> = tree
        .docs
        .iter()
        .filter_map(null_span)
        .filter(|sp| sp.end > sp.start)
        .map(|sp| (sp, "{}"))
        .collect();
    let first_empty = tree
        .docs
        .first()
        .and_then(null_span)
        .filter(|sp| sp.is_empty());
    if let Some(at) = first_empty.filter(|_| all_empty || aes) {
        // Right after a `---` marker: `--- {}`.
        let fill = if text.get(..at.start).is_some_and(|t| t.ends_with('-')) {
            " {}"
        } else {
            "{}"
        };
        edits.insert(0, (at, fill));
    }
    if edits.is_empty() {
        return None;
    }
    // The plaintext copy is sized for every fill (none grows it, so none
    // leaves a copy behind) and wiped when dropped.
    let room = text.len() + edits.iter().map(|(_, fill)| fill.len()).sum::<usize>();
    let mut out = Zeroizing::new(String::with_capacity(room));
    out.push_str(text);
    for (span, fill) in edits.iter().rev() {
        out.replace_range(span.clone(), fill);
    }
    Some(Filled {
        text: out,
        edits: edits
            .into_iter()
            .map(|(span, fill)| (span, fill.len()))
            .collect(),
    })
}

/// A text [`fill_empty_documents`] filled.
pub struct Filled {
    /// The filled text.
    pub text: Zeroizing<String>,
    /// What changed, in order: each range of the original text and the
    /// length of the text that replaced it.
    pub edits: Vec<(std::ops::Range<usize>, usize)>,
}

/// Where an empty YAML document whose first comment's `#` is at `hash`
/// starts: right after its `---` marker, which is on the comment's line
/// (`--- # c`) or on the first line above it that is not blank, a comment
/// or a `...` marker (`---\n...\n# c`), or, for comments that come
/// before the stream's first marker (`# c\n---\n`), on the first line
/// below them that is not blank or a comment. A BOM before the text is not
/// part of its first line.
fn empty_document_start(text: &str, hash: usize) -> Option<usize> {
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let line_at = |at: usize| {
        text.get(..at)
            .and_then(|t| t.rfind('\n'))
            .map_or(bom, |i| i + 1)
    };
    let ws: &[char] = &[' ', '\t', '\r'];
    let dashes = |l: &str| is_marker_line(l, "---");
    let dots = |l: &str| is_marker_line(l, "...");
    let skipped = |l: &str| {
        let t = l.trim_matches(ws);
        t.is_empty() || t.starts_with('#') || dots(t)
    };
    // The comment's own line, then the lines above it.
    let mut end = hash;
    loop {
        let start = line_at(end);
        let line = text.get(start..end)?;
        if dashes(line) {
            return Some(start + 3);
        }
        if !skipped(line) {
            return None;
        }
        if start <= bom {
            break;
        }
        end = start - 1;
    }
    // Only comments (and blanks) above: the first marker below them.
    let mut line_start = hash;
    for line in text.get(hash..)?.split_inclusive('\n') {
        let start = line_start;
        line_start += line.len();
        if dashes(line) {
            return Some(start + 3);
        }
        let t = line.trim_matches([' ', '\t', '\r', '\n']);
        if !(t.is_empty() || t.starts_with('#')) {
            return None;
        }
    }
    None
}

/// Whether `rest` (a YAML text from the end of a `---` marker on) holds
/// only comments, blanks and line breaks up to the next `---` or `...`
/// marker or its end: the document there is empty.
fn only_comments_to_next_marker(rest: &str) -> bool {
    let marker = |l: &str| is_marker_line(l, "---") || is_marker_line(l, "...");
    rest.split('\n')
        .enumerate()
        .take_while(|(i, l)| *i == 0 || !marker(l))
        .all(|(_, l)| {
            let l = l.trim_start_matches([' ', '\t']);
            l.trim_end_matches('\r').is_empty() || l.starts_with('#')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::Syntax;

    fn fill(text: &str, aes: bool) -> Option<String> {
        let parsed = match super::super::Yaml.parse(text) {
            Ok(p) => p,
            Err(e) => panic!("parse failed: {e}\n{text}"),
        };
        fill_empty_documents(text, &parsed.tree, aes).map(|f| f.text.to_string())
    }

    #[test]
    fn texts_without_a_document() {
        assert_eq!(no_document(""), Some(NoDocument::Empty));
        assert_eq!(no_document("\n \n"), Some(NoDocument::OnlyBlanks));
        assert_eq!(no_document("\u{feff}"), Some(NoDocument::OnlyBlanks));
        assert_eq!(no_document("# c\n\n#d"), Some(NoDocument::OnlyComments));
        assert_eq!(no_document("# c\n...\n"), Some(NoDocument::EndMarkerFirst));
        for text in [
            "a: 1",
            "---\n",
            "# c\n---",
            "--- # c\n",
            "\u{feff}k: v",
            "...x: 1",
        ] {
            assert_eq!(no_document(text), None, "{text:?}");
        }
    }

    #[test]
    fn empty_and_null_documents_hold_an_empty_mapping() {
        let cases: &[(&str, bool, Option<&str>)] = &[
            // A mapping needs no fill.
            ("a: 1\n", true, None),
            // A stream of empty documents: the first holds `{}`.
            ("---\n", false, Some("--- {}\n")),
            ("---\n---\n", false, Some("--- {}\n---\n")),
            // A `null` spelled out becomes `{}`, in every document.
            ("~\n", false, Some("{}\n")),
            ("a: 1\n--- null\n", false, Some("a: 1\n--- {}\n")),
            // An empty first document before a mapping: only for sops's cipher.
            ("---\n---\na: 1\n", false, None),
            ("---\n---\na: 1\n", true, Some("--- {}\n---\na: 1\n")),
            // An empty document holding comments: on its marker's line,
            // below it, or with the comments before the first marker.
            (
                "--- # c\n---\na: 1\n",
                true,
                Some("--- {} # c\n---\na: 1\n"),
            ),
            (
                "---\n# c\n---\na: 1\n",
                true,
                Some("--- {}\n# c\n---\na: 1\n"),
            ),
            (
                "# c\n---\n---\na: 1\n",
                true,
                Some("# c\n--- {}\n---\na: 1\n"),
            ),
            ("\u{feff}--- # c\n", false, Some("\u{feff}--- {} # c\n")),
            // A later empty document with comments keeps its text.
            ("a: 1\n--- # c\n", true, None),
        ];
        for (text, aes, want) in cases {
            assert_eq!(fill(text, *aes).as_deref(), *want, "{text:?} aes={aes}");
        }
    }

    #[test]
    fn an_empty_documents_start_is_its_marker() {
        // The `#` of the comment at 4 (`---\n# c`): the document starts
        // after `---`.
        assert_eq!(empty_document_start("---\n# c\n", 4), Some(3));
        assert_eq!(empty_document_start("---\n...\n# c\n", 8), Some(3));
        assert_eq!(empty_document_start("# c\n\n---\n", 0), Some(8));
        assert_eq!(empty_document_start("k: v\n# c\n", 5), None);
        assert!(only_comments_to_next_marker(" # c\n\n# d\n---\nk: v\n"));
        assert!(!only_comments_to_next_marker("\nk: v\n"));
    }
}
