//! Decrypting the leaves of an encrypted document: the walk collects the
//! work in document order, the opening runs on every core, then the MAC
//! (sops-compatible files), the stash and the output are made in order.

use super::par::{chunked, splice_into, spliced_capacity, Aads};
use super::{has_aliases, EncryptedFile, EngineError, Stash};
use crate::cipher::{is_encrypted, CipherKind, EncParts, ValueCipher};
use crate::mac::Mac;
use crate::tree::{Slot, Span, Value};
use crate::walk::{walk, Leaf};
use std::collections::HashMap;
use std::ops::Range;
use zeroize::Zeroizing;

/// One encrypted leaf.
struct Job<'a> {
    /// The `ENC[…]` text.
    text: &'a str,
    span: Span,
    /// `None` for a comment.
    slot: Option<Slot>,
    aad: usize,
    /// For a comment: the other AADs to try (see [`open_document`]).
    candidates: Range<usize>,
}

/// One opened leaf: ranges into its chunk's buffer.
struct Out<'a> {
    /// What to replace (the leaf's span, or a comment item's line).
    span: Span,
    plain: Range<usize>,
    repl: Range<usize>,
    /// The type the stash records.
    ty: &'a str,
    /// The plaintext is part of a sops-compatible MAC.
    mac: bool,
}

/// What sops-compatible MAC input comes next, in walk order.
enum MacStep {
    /// An unencrypted value's sops text.
    Text(String),
    /// An encrypted value: its plaintext, once opened.
    Job(usize),
    /// An encrypted value reached through an alias: the plaintext of the
    /// value whose span starts there.
    Alias(usize),
}

/// A chunk's plaintexts and replacements, and each leaf's ranges in them.
type Chunk<'a> = (Zeroizing<String>, Vec<Out<'a>>);

/// Decrypt every encrypted leaf of `file` and remove its metadata. Returns
/// the plaintext and, for sops-compatible (AES) files, the MAC computed
/// over the decrypted value texts exactly as sops does (a re-parse of the
/// plaintext could differ, e.g. a `\r` that sops keeps in .env values).
/// Fills `stash` when `keep`.
pub(super) fn open_document(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    keep: bool,
    stash: &mut Stash,
) -> Result<(Zeroizing<String>, Option<String>), EngineError> {
    let src = file.src;
    let direct = file.metadata.cipher() == Some(CipherKind::Aes256Gcm);
    let mac_only = file.metadata.mac_only_encrypted;
    let mut aads = Aads::default();
    let mut candidates: Vec<String> = Vec::new();
    let mut jobs: Vec<Job<'_>> = Vec::new();
    let mut steps: Vec<MacStep> = Vec::new();
    // The path of the last value seen: sops attaches a comment that ends a
    // nested mapping to the deepest open mapping, which a layout-based
    // parser may place higher up. Such comments are tried at every prefix.
    let mut prev_path: Vec<&str> = Vec::new();
    walk(&file.parsed.tree, |place, leaf| {
        if let (true, Leaf::Value(s)) = (direct, &leaf) {
            match &s.value {
                Value::Str(t) if is_encrypted(t) => {
                    if let (true, Some(sp)) = (place.in_alias, &s.span) {
                        steps.push(MacStep::Alias(sp.start));
                    }
                }
                v if !mac_only => {
                    if let Some(t) = v.sops_text() {
                        steps.push(MacStep::Text(t));
                    }
                }
                _ => {}
            }
        }
        if place.in_alias {
            return;
        }
        let path = place.path;
        if let Leaf::Value(_) = leaf {
            prev_path.clear();
            prev_path.extend_from_slice(path);
        }
        let (text, span, slot) = match leaf {
            Leaf::Value(s) => match (&s.value, &s.span) {
                (Value::Str(t), Some(span)) if is_encrypted(t) => {
                    (t.as_str(), span.clone(), Some(s.slot))
                }
                _ => return,
            },
            Leaf::Comment(c) => match &c.span {
                Some(span) if is_encrypted(&c.text) => (c.text.as_str(), span.clone(), None),
                _ => return,
            },
        };
        let first = candidates.len();
        if slot.is_none() {
            for k in (0..=prev_path.len()).rev() {
                let candidate = prev_path.get(..k).unwrap_or_default();
                if candidate != path {
                    candidates.push(crate::cipher::aad(candidate));
                }
            }
        }
        if direct {
            steps.push(MacStep::Job(jobs.len()));
        }
        jobs.push(Job {
            text,
            span,
            slot,
            aad: aads.index(path),
            candidates: first..candidates.len(),
        });
    });
    let (aads, candidates) = (&aads, &candidates);
    let opened = chunked(&jobs, |chunk| {
        open_chunk(file, key, direct, chunk, aads, candidates)
    });
    let mut chunks: Vec<Chunk<'_>> = Vec::with_capacity(opened.len());
    for result in opened {
        chunks.push(result?);
    }
    // Every leaf's (buffer, output) in job order.
    let outs: Vec<(&str, &Out<'_>)> = chunks
        .iter()
        .flat_map(|(buf, outs)| outs.iter().map(move |o| (buf.as_str(), o)))
        .collect();
    if keep {
        for (i, entry) in outs.iter().enumerate() {
            if let Some(job) = jobs.get(i) {
                let plain = text_of(entry, &entry.1.plain);
                stash.put(aads.get(job.aad), entry.1.ty, plain, job.text);
            }
        }
    }
    let mac = direct.then(|| {
        let has_alias = has_aliases(&file.parsed.tree);
        let mut mac = Mac::new(mac_only);
        let mut by_span: HashMap<usize, usize> = HashMap::new();
        for step in &steps {
            match step {
                MacStep::Text(t) => mac.update(t.as_bytes()),
                MacStep::Job(i) => {
                    if let (Some(entry), Some(job)) = (outs.get(*i), jobs.get(*i)) {
                        if entry.1.mac {
                            mac.update(text_of(entry, &entry.1.plain).as_bytes());
                            if has_alias {
                                by_span.insert(job.span.start, *i);
                            }
                        }
                    }
                }
                MacStep::Alias(start) => {
                    if let Some(entry) = by_span.get(start).and_then(|&i| outs.get(i)) {
                        mac.update(text_of(entry, &entry.1.plain).as_bytes());
                    }
                }
            }
        }
        mac.finish()
    });
    let mut pieces: Vec<(Span, &str)> = outs
        .iter()
        .map(|entry| (entry.1.span.clone(), text_of(entry, &entry.1.repl)))
        .collect();
    pieces.extend(file.parsed.metadata_spans.iter().map(|s| (s.clone(), "")));
    let mut plaintext = Zeroizing::new(String::with_capacity(spliced_capacity(src, &pieces)));
    splice_into(src, pieces, &mut plaintext)?;
    Ok((plaintext, mac))
}

/// The text of `range` in a leaf's chunk buffer.
fn text_of<'b>(entry: &(&'b str, &Out<'_>), range: &Range<usize>) -> &'b str {
    entry.0.get(range.clone()).unwrap_or("")
}

/// Append `s` to a secret buffer without leaving a copy behind when the
/// buffer grows.
fn push_secret(buf: &mut Zeroizing<String>, s: &str) {
    if buf.capacity() - buf.len() < s.len() {
        let mut bigger = Zeroizing::new(String::with_capacity(
            (buf.capacity() * 2).max(buf.len() + s.len()),
        ));
        bigger.push_str(buf);
        *buf = bigger;
    }
    buf.push_str(s);
}

/// Open one chunk of leaves. Stops at the chunk's first failure.
fn open_chunk<'a>(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    direct: bool,
    jobs: &[Job<'a>],
    aads: &Aads,
    candidates: &[String],
) -> Result<Chunk<'a>, EngineError> {
    let syntax = file.format.syntax();
    let opener = ValueCipher::new(key);
    let mut buf = Zeroizing::new(String::with_capacity(
        jobs.iter().map(|j| j.text.len()).sum(),
    ));
    let mut outs = Vec::with_capacity(jobs.len());
    let mut scratch = Zeroizing::new(Vec::new());
    for job in jobs {
        let path = aads.get(job.aad);
        let is_comment = job.slot.is_none();
        let fail = |source| EngineError::Decrypt {
            path: path.to_string(),
            source,
        };
        let parts = EncParts::split(job.text).map_err(fail)?;
        let bad_type = || EngineError::BadType {
            path: path.to_string(),
            ty: parts.ty.to_string(),
        };
        let mut opened = opener.open_into(&parts, path.as_bytes(), &mut scratch);
        if is_comment && opened.is_err() {
            for candidate in candidates.get(job.candidates.clone()).unwrap_or_default() {
                if opener
                    .open_into(&parts, candidate.as_bytes(), &mut scratch)
                    .is_ok()
                {
                    opened = Ok(());
                    break;
                }
            }
        }
        opened.map_err(fail)?;
        let plain = std::str::from_utf8(&scratch).map_err(|_| bad_type())?;
        let start = buf.len();
        push_secret(&mut buf, plain);
        let plain_range = start..buf.len();
        let ty = if is_comment { "comment" } else { parts.ty };
        let mut span = job.span.clone();
        let repl = if !is_comment && parts.ty == "comment" {
            let edit = syntax
                .comment_item(file.src, &job.span, plain)
                .ok_or_else(bad_type)?;
            span = edit.span;
            push_secret(&mut buf, &edit.text);
            plain_range.end..buf.len()
        } else if is_comment || parts.cipher == CipherKind::XChaCha20Poly1305 {
            if is_comment != (parts.ty == "comment") {
                return Err(bad_type());
            }
            plain_range.clone()
        } else {
            let value = Value::from_sops(parts.ty, plain).ok_or_else(bad_type)?;
            let lexeme =
                Zeroizing::new(syntax.value_lexeme(job.slot.unwrap_or(Slot::Quoted), &value));
            push_secret(&mut buf, &lexeme);
            plain_range.end..buf.len()
        };
        outs.push(Out {
            span,
            plain: plain_range,
            repl,
            ty,
            mac: direct && !is_comment && parts.ty != "comment",
        });
    }
    zeroize::Zeroize::zeroize(&mut *scratch);
    Ok((buf, outs))
}
