//! The INI syntax, read the way sops reads it (`gopkg.in/ini.v1` with
//! `AllowNonUniqueSections`), with every byte of the file kept.
//!
//! The tree is one mapping whose entries are the sections in file order,
//! each a mapping of its `key = value` pairs (values are always
//! [`Value::Str`]). The first entry is always `DEFAULT`: the keys before
//! any section header (empty if there are none, as in sops). An explicit
//! `[DEFAULT]` header, or any repeated header, starts a new entry with the
//! same key (so its AAD prefix is `DEFAULT:` too), as go-ini and sops do.
//!
//! go-ini semantics kept here (see `scan.rs`):
//! * Keys and values are trimmed around `=` or `:` (the first of either).
//!   A value surrounded by one pair of `"` or `'` loses them; `"""…"""` and
//!   backtick values may span lines; a trailing `\` continues the value on
//!   the next line.
//! * **Inline comments**: the first `#` or `;` in an unquoted value starts
//!   a comment, even without a space before it (`url = http://h/#x` reads
//!   as `http://h/` plus a comment `x`), exactly as go-ini's defaults. The
//!   comment is an [`Entry::Comment`] after its pair.
//! * A comment's span is its text after the marker and the blanks that
//!   follow it (`; foo` → `foo`), so that `; ENC[…]`, as sops writes
//!   encrypted comments, is recognised, and sops's comment text (which it
//!   strips the same way) is what gets encrypted.
//! * Comment lines are attached as go-ini attaches them: to the next key
//!   (same section) or, when a section header comes first, to that new
//!   section (their AAD is then the new section's). Comments at the end of
//!   the file, or right before `[sops]`, stay in the last section. Every
//!   comment is one entry per line, in file order.
//! * A comment after a section header (`[a] ; c`; go-ini reads the name
//!   up to the line's *last* `]`, and a comment from the first `;` or `#`
//!   after it) is the section's first comment, after the comment lines
//!   above the header. sops-like's own files encrypt it in place
//!   (`[a] ; ENC[…]`, read back without it); files sops reads get it on a
//!   line of its own above the header first, as sops writes it (see
//!   [`header_comments_moved`]). Other text after the `]`, which go-ini
//!   ignores, is refused in a plaintext.
//!
//! The metadata is a `[sops]` section of flattened names without the
//! `sops_` prefix (see [`super::flat`]); values with literal `\n` for
//! newlines (sops 3.11, 3.13.2) or `"""` multi-line values (3.13.0/1) are
//! both read. It is written last, sorted, after a blank line.

mod edit;
mod scan;
mod write;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use super::flat::unflatten;
use super::{EmitError, ParseError, Parsed, PathStep, Syntax};
use crate::splice::Edit;
use crate::tree::{Attach, Comment, Entry, Node, Pair, Scalar, Slot, Span, Tree, Value};
use scan::{Kind, Line};

/// The INI format.
pub struct Ini;

/// The name of the metadata section.
const META_SECTION: &str = "sops";
/// The section of keys before any header.
const DEFAULT_SECTION: &str = "DEFAULT";

impl Syntax for Ini {
    fn name(&self) -> &'static str {
        "ini"
    }

    fn parse(&self, src: &str) -> Result<Parsed, ParseError> {
        parse_with(src, false)
    }

    fn enc_lexeme(&self, _slot: Slot, enc: &str) -> String {
        enc.to_string()
    }

    /// The string, quoted where go-ini would otherwise read it differently
    /// (see [`write::value_lexeme`]); other values as sops writes them in
    /// flat formats.
    fn value_lexeme(&self, _slot: Slot, value: &Value) -> String {
        match value {
            Value::Str(s) => write::value_lexeme(s),
            other => write::value_lexeme(&super::flat::flat_value(other).unwrap_or_default()),
        }
    }

    fn insert_metadata(
        &self,
        src: &str,
        parsed: &Parsed,
        meta: &Node,
    ) -> Result<Vec<Edit>, EmitError> {
        if parsed.metadata.is_some() {
            return Err(EmitError("the document already has sops metadata".into()));
        }
        let eol = line_break_style(src);
        let Some(lines) = write::metadata_lines(meta, eol)? else {
            return Ok(Vec::new());
        };
        let trailing = src.is_empty() || src.ends_with('\n');
        let mut out = String::new();
        if trailing {
            if !src.is_empty() {
                out.push_str(eol);
            }
            for l in &lines {
                out.push_str(l);
                out.push_str(eol);
            }
        } else {
            out.push_str(eol);
            for l in &lines {
                out.push_str(eol);
                out.push_str(l);
            }
        }
        // A final `\r` without `\n` stays last: it is trailing space of the
        // last line, and the metadata must not turn it into a line break.
        let at = if !trailing && src.ends_with('\r') {
            src.len() - 1
        } else {
            src.len()
        };
        Ok(vec![Edit {
            span: at..at,
            text: out,
        }])
    }

    fn set_value(
        &self,
        src: &str,
        parsed: &Parsed,
        path: &[PathStep],
        value: &Node,
    ) -> Result<Vec<Edit>, EmitError> {
        edit::set_value(src, parsed, path, value)
    }

    fn remove_value(
        &self,
        src: &str,
        parsed: &Parsed,
        path: &[PathStep],
    ) -> Result<Option<Vec<Edit>>, EmitError> {
        edit::remove_value(src, parsed, path)
    }

    fn emit(&self, tree: &Tree) -> Result<String, EmitError> {
        write::emit(tree)
    }
}

/// Parse `src`. `sops`: read comments as sops reads an INI file meant for
/// it (`AES256_GCM`, see [`SopsIni`]); otherwise one comment per line, each
/// seen where it stands.
fn parse_with(src: &str, sops: bool) -> Result<Parsed, ParseError> {
    let lines = scan::scan(src)?;
    let mut sections: Vec<(String, Vec<Entry>)> = vec![(DEFAULT_SECTION.into(), Vec::new())];
    // The comment lines since the last key or section header.
    let mut pending: Vec<&Line> = Vec::new();
    let mut meta: Vec<(String, String)> = Vec::new();
    let mut in_meta = false;
    // Per [sops] section: (index of its header line, of its last line).
    let mut meta_blocks: Vec<(usize, usize)> = Vec::new();
    // The first text after a section header that go-ini ignores.
    let mut stray_at = None;
    let comment = |span: &Span| {
        Entry::Comment(Comment::new(
            src.get(span.clone()).unwrap_or_default().to_string(),
            Some(span.clone()),
        ))
    };
    // The pending comment lines as entries: one per line, or, for sops,
    // one comment for the whole run, seen by sops where `attach` says.
    let take = |pending: &mut Vec<&Line>, attach: Attach| -> Vec<Entry> {
        let lines = std::mem::take(pending);
        if sops {
            let parts: Vec<(usize, usize, usize)> = lines
                .iter()
                .filter_map(|l| match &l.kind {
                    Kind::Comment(span) => {
                        Some((scan::marker_of(src, span.start), l.end, span.end))
                    }
                    _ => None,
                })
                .collect();
            return scan::sops_comment(src, &parts)
                .map(|(text, span)| {
                    Entry::Comment(Comment {
                        text,
                        span: Some(span),
                        attach,
                        sops_keys: None,
                    })
                })
                .into_iter()
                .collect();
        }
        lines
            .iter()
            .filter_map(|l| match &l.kind {
                Kind::Comment(span) => Some(comment(span)),
                _ => None,
            })
            .collect()
    };
    for (idx, line) in lines.iter().enumerate() {
        match &line.kind {
            Kind::Blank => {}
            Kind::Comment(_) => pending.push(line),
            Kind::Section { name, .. } if name == META_SECTION => {
                let run = take(&mut pending, Attach::Here);
                flush(&mut sections, run);
                in_meta = true;
                meta_blocks.push((idx, idx));
            }
            Kind::Section {
                name,
                comment: inline,
                stray,
            } => {
                in_meta = false;
                stray_at = stray_at.or(*stray);
                let mut entries = take(&mut pending, Attach::Here);
                // The header's own comment, after the lines above it.
                entries.extend(inline.as_ref().map(comment));
                sections.push((name.clone(), entries));
            }
            Kind::Pair { key, value, .. } if in_meta => {
                // Comments inside [sops] are removed with it.
                pending.clear();
                meta.push((key.clone(), value.text.replace("\\n", "\n")));
                if let Some(block) = meta_blocks.last_mut() {
                    block.1 = idx;
                }
            }
            Kind::Pair {
                key,
                value,
                comment: inline,
            } => {
                let run = take(&mut pending, Attach::AfterEntry);
                let Some((_, entries)) = sections.last_mut() else {
                    continue;
                };
                entries.extend(run);
                entries.push(Entry::Pair(Pair {
                    key: key.clone(),
                    value: Node::Scalar(Scalar {
                        value: Value::Str(value.text.clone()),
                        span: Some(value.span.clone()),
                        slot: Slot::Bare,
                    }),
                }));
                if let Some(span) = inline {
                    let sops_text = sops
                        .then(|| {
                            let marker = scan::marker_of(src, span.start);
                            scan::sops_comment(src, &[(marker, span.end, span.end)])
                        })
                        .flatten();
                    entries.push(match sops_text {
                        Some((text, span)) => Entry::Comment(Comment::new(text, Some(span))),
                        None => comment(span),
                    });
                }
            }
        }
    }
    let run = take(&mut pending, Attach::Here);
    flush(&mut sections, run);
    if let (Some(at), true) = (stray_at, meta_blocks.is_empty()) {
        // A plaintext: sops would drop the text, and sops-like would keep
        // it in clear in the encrypted file.
        return Err(ParseError::at(
            src,
            at,
            "text after a section header's `]` that is not a comment: go-ini (and so sops) ignores it, and it would stay in clear in the encrypted file; put it on a line of its own, or start it with `;` or `#`",
        ));
    }
    let metadata_spans = metadata_spans(src, &lines, &meta_blocks);
    let root = Node::map(
        sections
            .into_iter()
            .map(|(name, entries)| (name, Node::Map(entries))),
    );
    Ok(Parsed {
        tree: Tree::new(vec![root]),
        metadata: (!meta_blocks.is_empty()).then(|| unflatten(meta)),
        metadata_spans,
        metadata_fill: Vec::new(),
        marks: Vec::new(),
        non_string_key: None,
        sops_unreadable: None,
        tags_before_anchors: Vec::new(),
    })
}

/// The INI text `src` as sops writes it: each comment after a section
/// header (`[db] ; note`) on a line of its own right above the header,
/// where go-ini writes a section's comment (joined to the comment lines
/// above the header, as go-ini reads it). `None` if no header has one, or
/// if the text does not parse. A file sops reads (`AES256_GCM`) is
/// encrypted from this text: encrypted in place (`[db] ; ENC[…]`), the
/// comment would be read by go-ini as part of the section's name.
pub fn header_comments_moved(src: &str) -> Option<zeroize::Zeroizing<String>> {
    let lines = scan::scan(src).ok()?;
    let eol = line_break_style(src);
    let mut out = zeroize::Zeroizing::new(String::with_capacity(src.len() + 64));
    let mut pos = 0;
    for line in &lines {
        let Kind::Section {
            comment: Some(span),
            stray: None,
            ..
        } = &line.kind
        else {
            continue;
        };
        let marker = scan::marker_of(src, span.start);
        let header = src.get(line.start..marker)?.trim_end_matches([' ', '\t']);
        out.push_str(src.get(pos..line.start)?);
        out.push_str(src.get(marker..span.end)?.trim_end());
        out.push_str(eol);
        out.push_str(header);
        pos = span.end;
    }
    if pos == 0 {
        return None;
    }
    out.push_str(src.get(pos..)?);
    Some(out)
}

/// Where a comment starts that go-ini cannot write, and so sops cannot
/// decrypt a file holding it (it panics, "index out of range", also when
/// the comment is encrypted): a comment whose first line is only comment
/// markers and spaces (`;`, `; `, `;;;;`, `# #`) when more comment text
/// follows it (a comment line below it before the next key or header, or
/// that key's or header's own comment), as go-ini joins them. sops strips
/// the first line to nothing, and go-ini writes each line of a comment
/// after looking at its first byte. `None` if there is none, or if the
/// text does not parse.
pub fn comment_sops_cannot_write(src: &str) -> Option<usize> {
    let lines = scan::scan(src).ok()?;
    let mut run: Vec<&Line> = Vec::new();
    for line in &lines {
        let inline = match &line.kind {
            Kind::Blank => continue,
            Kind::Comment(_) => {
                run.push(line);
                continue;
            }
            Kind::Section { comment, .. } | Kind::Pair { comment, .. } => comment.is_some(),
        };
        if let Some(first) = run.first() {
            if (run.len() > 1 || inline) && only_markers(src, first) {
                return Some(first.start);
            }
        }
        run.clear();
    }
    None
}

/// The comment line `line` holds only its marker, repeated or not, and
/// spaces: what sops's `stripCommentChar` leaves of it is empty (a tab or
/// a `\r` is kept, and go-ini then writes the comment).
fn only_markers(src: &str, line: &Line) -> bool {
    let text = src.get(line.start..line.end).unwrap_or_default();
    let text = text.strip_suffix('\n').unwrap_or(text).trim_start();
    match text.chars().next() {
        Some(mark @ (';' | '#')) => text.trim_start_matches([mark, ' ']).is_empty(),
        _ => false,
    }
}

/// Attach pending comments to the last section.
fn flush(sections: &mut [(String, Vec<Entry>)], pending: Vec<Entry>) {
    if let Some((_, entries)) = sections.last_mut() {
        entries.extend(pending);
    }
}

/// The line break of the file's first line (`\n` if it has none).
fn line_break_style(src: &str) -> &'static str {
    match src.find('\n') {
        Some(i) if i > 0 && src.as_bytes().get(i - 1) == Some(&b'\r') => "\r\n",
        _ => "\n",
    }
}

/// The bytes to delete to remove the `[sops]` sections. A `[sops]` section
/// followed only by its own lines and blank lines is what
/// [`Ini::insert_metadata`] wrote: it is removed with the line breaks
/// inserted before it (one when the file ends with a line break, else two)
/// and up to the end (a final lone `\r` excepted). Any other `[sops]`
/// section is removed from its header to the end of its last key.
fn metadata_spans(src: &str, lines: &[Line], blocks: &[(usize, usize)]) -> Vec<Span> {
    let mut spans = Vec::new();
    for (i, &(header, last)) in blocks.iter().enumerate() {
        let (Some(h), Some(l)) = (lines.get(header), lines.get(last)) else {
            continue;
        };
        let rest_blank = lines
            .get(last + 1..)
            .unwrap_or_default()
            .iter()
            .all(|l| matches!(l.kind, Kind::Blank));
        if i + 1 == blocks.len() && rest_blank {
            let breaks = if src.ends_with('\n') { 1 } else { 2 };
            let mut start = h.start;
            for _ in 0..breaks {
                let before = src.get(..start).unwrap_or_default();
                if before.ends_with("\r\n") {
                    start -= 2;
                } else if before.ends_with('\n') {
                    start -= 1;
                }
            }
            let end = if !src.ends_with('\n') && src.ends_with('\r') {
                src.len() - 1
            } else {
                src.len()
            };
            spans.push(start..end.max(start));
        } else {
            spans.push(h.start..l.end);
        }
    }
    spans
}

/// INI read as sops reads a file meant for it (`AES256_GCM`): each run of
/// comment lines (blank lines between them included) is one comment, as
/// go-ini joins them, so that it is encrypted as one `; ENC[…]` line (sops
/// decrypts only the first `ENC[…]` of a comment), and a run above a key
/// is seen by the comment selectors after that key
/// ([`Attach::AfterEntry`]), as sops's tree holds it. Everything else is
/// [`Ini`]'s.
pub struct SopsIni;

impl Syntax for SopsIni {
    fn name(&self) -> &'static str {
        Ini.name()
    }

    fn parse(&self, src: &str) -> Result<Parsed, ParseError> {
        parse_with(src, true)
    }

    fn enc_lexeme(&self, slot: Slot, enc: &str) -> String {
        Ini.enc_lexeme(slot, enc)
    }

    fn value_lexeme(&self, slot: Slot, value: &Value) -> String {
        Ini.value_lexeme(slot, value)
    }

    fn insert_metadata(
        &self,
        src: &str,
        parsed: &Parsed,
        meta: &Node,
    ) -> Result<Vec<Edit>, EmitError> {
        Ini.insert_metadata(src, parsed, meta)
    }

    fn set_value(
        &self,
        src: &str,
        parsed: &Parsed,
        path: &[PathStep],
        value: &Node,
    ) -> Result<Vec<Edit>, EmitError> {
        Ini.set_value(src, parsed, path, value)
    }

    fn remove_value(
        &self,
        src: &str,
        parsed: &Parsed,
        path: &[PathStep],
    ) -> Result<Option<Vec<Edit>>, EmitError> {
        Ini.remove_value(src, parsed, path)
    }

    fn emit(&self, tree: &Tree) -> Result<String, EmitError> {
        Ini.emit(tree)
    }
}

/// The values of the INI text `src` that a comment marker selects as the
/// text reads (the key below the marker) but sops does not (sops takes the
/// key after that one, see [`SopsIni`]): in `AES256_GCM` mode they are left
/// in clear, as sops leaves them. Their paths as users write them
/// (`["db"]["password"]`), in document order; empty for a text that does
/// not parse or a selector without comment markers.
pub fn values_sops_markers_skip(src: &str, decider: &crate::select::Decider) -> Vec<String> {
    use crate::walk::{walk, Leaf};
    let selected = |tree: &Tree| {
        let mut out: Vec<Vec<PathStep>> = Vec::new();
        walk(tree, |place, leaf| {
            if let Leaf::Value(_) = leaf {
                if decider.value(place.path, place.comments) {
                    out.push(
                        place
                            .path
                            .iter()
                            .map(|k| PathStep::Key((*k).into()))
                            .collect(),
                    );
                }
            }
        });
        out
    };
    let (Ok(plain), Ok(sops)) = (Ini.parse(src), SopsIni.parse(src)) else {
        return Vec::new();
    };
    let theirs = selected(&sops.tree);
    selected(&plain.tree)
        .into_iter()
        .filter(|p| !theirs.contains(p))
        .map(|p| super::edit::show(&p))
        .collect()
}
