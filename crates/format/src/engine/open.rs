//! Decrypting the leaves of an encrypted document: the walk collects the
//! work in document order, the opening runs on every core, then the MAC
//! (sops-compatible files), the stash and the output are made in order.

use super::par::{chunk_len, chunked, splice_into, splice_sorted_into, Aads};
use super::{enc_text, has_aliases, EncryptedFile, EngineError, Stash};
use crate::cipher::{is_encrypted, CipherError, CipherKind, EncParts, ValueCipher};
use crate::mac::Mac;
use crate::syntax::{yaml, Format};
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
    /// Index into the AAD strings; past u32 (never in practice) it reads
    /// as an empty AAD, so the value fails to authenticate.
    aad: u32,
    /// For a comment: the other AADs to try (see [`open_document`]).
    candidates: Range<u32>,
}

/// One opened leaf: ranges into its chunk's buffer.
struct Out {
    /// What to replace (the leaf's span, or a comment item's line).
    span: Span,
    /// The plaintext's range (32-bit offsets: there is one per leaf).
    plain_start: u32,
    plain_end: u32,
    /// The replacement ends here; it starts where the plaintext starts
    /// (the plaintext is the replacement) or where it ends.
    repl_end: u32,
    repl_after_plain: bool,
    /// A value (not a comment, not a comment item): part of the MAC.
    value: bool,
}

/// MAC input in walk order, other than the encrypted values' plaintexts
/// (in sops-compatible and fast mode every job is one, in job order).
enum MacStep {
    /// An unencrypted value's sops text.
    Text(String),
    /// An encrypted value reached through an alias: the plaintext of the
    /// value whose span starts there.
    Alias(usize),
}

/// A MAC step as replayed: the recorded ones between the jobs.
enum Step<'s> {
    Text(&'s str),
    Job(usize),
    Alias(usize),
}

/// Replay the MAC steps: `steps` are `(jobs before it, step)`, in order;
/// every job index in between is a [`Step::Job`]. Stops at `None`.
fn replay<'s>(
    steps: &'s [(usize, MacStep)],
    jobs: usize,
    mut f: impl FnMut(Step<'s>) -> Option<()>,
) -> Option<()> {
    let mut recorded = steps.iter().peekable();
    for i in 0..=jobs {
        while let Some((_, step)) = recorded.next_if(|(at, _)| *at <= i) {
            f(match step {
                MacStep::Text(t) => Step::Text(t),
                MacStep::Alias(start) => Step::Alias(*start),
            })?;
        }
        if i < jobs {
            f(Step::Job(i))?;
        }
    }
    Some(())
}

/// A chunk's plaintexts and replacements, and each leaf's ranges in them.
type Chunk = (Zeroizing<String>, Vec<Out>);

/// The opened leaves, by job index.
struct Opened<'c> {
    chunks: &'c [Chunk],
    /// Jobs per chunk (see [`chunk_len`]).
    per: usize,
}

/// An opened leaf and its chunk's buffer.
#[derive(Clone, Copy)]
struct Entry<'c> {
    buf: &'c str,
    out: &'c Out,
}

impl<'c> Entry<'c> {
    fn plain(self) -> &'c str {
        let o = self.out;
        self.buf
            .get(o.plain_start as usize..o.plain_end as usize)
            .unwrap_or("")
    }

    fn repl(self) -> &'c str {
        let o = self.out;
        let start = if o.repl_after_plain {
            o.plain_end
        } else {
            o.plain_start
        };
        self.buf
            .get(start as usize..o.repl_end as usize)
            .unwrap_or("")
    }
}

impl<'c> Opened<'c> {
    fn get(&self, i: usize) -> Option<Entry<'c>> {
        let (buf, outs) = self.chunks.get(i / self.per)?;
        let out = outs.get(i % self.per)?;
        Some(Entry { buf, out })
    }

    fn iter(&self) -> impl Iterator<Item = Entry<'c>> + 'c {
        self.chunks
            .iter()
            .flat_map(|(buf, outs)| outs.iter().map(move |out| Entry { buf, out }))
    }
}

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
    // sops-like's own YAML files: the MAC can be computed from the
    // decrypted lexemes when they are all simple (see `macs_from_lexemes`).
    let fast = !direct && !mac_only && file.format == Format::Yaml;
    let mut aads = Aads::default();
    let mut candidates: Vec<String> = Vec::new();
    let mut jobs: Vec<Job<'_>> = Vec::with_capacity(super::leaf_count(&file.parsed.tree));
    let mut steps: Vec<(usize, MacStep)> = Vec::new();
    // The path of the last value seen: sops attaches a comment that ends a
    // nested mapping to the deepest open mapping, which a layout-based
    // parser may place higher up. Such comments are tried at every prefix.
    let mut prev_path: Vec<&str> = Vec::new();
    walk(&file.parsed.tree, |place, leaf| {
        if let (true, Leaf::Value(s)) = (direct || fast, &leaf) {
            match (&s.value, enc_text(src, s)) {
                (_, Some(_)) => {
                    if let (true, Some(sp)) = (place.in_alias, &s.span) {
                        steps.push((jobs.len(), MacStep::Alias(sp.start)));
                    }
                }
                (v, None) if !mac_only => {
                    if let Some(t) = v.sops_text() {
                        steps.push((jobs.len(), MacStep::Text(t)));
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
            Leaf::Value(s) => match (enc_text(src, s), &s.span) {
                (Some(t), Some(span)) => (t, span.clone(), Some(s.slot)),
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
        jobs.push(Job {
            text,
            span,
            slot,
            aad: u32::try_from(aads.index(path)).unwrap_or(u32::MAX),
            // Past u32 (never in practice) a comment is tried at its own
            // path only.
            candidates: u32::try_from(first).unwrap_or(u32::MAX)
                ..u32::try_from(candidates.len()).unwrap_or(u32::MAX),
        });
    });
    let (aads, candidates) = (&aads, &candidates);
    let opened = chunked(&jobs, |chunk| {
        open_chunk(file, key, chunk, aads, candidates)
    });
    let mut chunks: Vec<Chunk> = Vec::with_capacity(opened.len());
    for result in opened {
        chunks.push(result?);
    }
    let opened = Opened {
        chunks: &chunks,
        per: chunk_len(jobs.len()),
    };
    if keep {
        for (entry, job) in opened.iter().zip(&jobs) {
            let ty = match job.slot {
                None => "comment",
                Some(_) => EncParts::split(job.text).map_or("", |p| p.ty),
            };
            stash.put(aads.get(job.aad as usize), ty, entry.plain(), job.text);
        }
    }
    let mac = direct.then(|| {
        let has_alias = has_aliases(&file.parsed.tree);
        let mut mac = Mac::new(mac_only);
        let mut by_span: HashMap<usize, usize> = HashMap::new();
        replay(&steps, jobs.len(), |step| {
            match step {
                Step::Text(t) => mac.update(t.as_bytes()),
                Step::Job(i) => {
                    if let (Some(entry), Some(job)) = (opened.get(i), jobs.get(i)) {
                        if entry.out.value {
                            mac.update(entry.plain().as_bytes());
                            if has_alias {
                                by_span.insert(job.span.start, i);
                            }
                        }
                    }
                }
                Step::Alias(start) => {
                    if let Some(entry) = by_span.get(&start).and_then(|&i| opened.get(i)) {
                        mac.update(entry.plain().as_bytes());
                    }
                }
            }
            Some(())
        });
        mac.finish()
    });
    let mac = match mac {
        Some(m) => Some(m),
        None if fast => macs_from_lexemes(&file.parsed.tree, &steps, &opened, &jobs),
        None => None,
    };
    let plaintext = write_plaintext(src, &opened, &file.parsed.metadata_spans)?;
    Ok((plaintext, mac))
}

/// The source with every opened leaf's replacement and without the
/// metadata, written in one pass when the spans come in order.
fn write_plaintext(
    src: &str,
    opened: &Opened<'_>,
    metadata: &[Span],
) -> Result<Zeroizing<String>, EngineError> {
    let key = |s: &Span| (s.start, s.end);
    // Both lists in span order, merged as a stable sort of "leaves, then
    // metadata" would order them.
    let merged = || {
        let mut leaves = opened
            .iter()
            .map(|e| (e.out.span.clone(), e.repl()))
            .peekable();
        let mut meta = metadata.iter().map(|s| (s.clone(), "")).peekable();
        std::iter::from_fn(move || match (leaves.peek(), meta.peek()) {
            (Some(l), Some(m)) if key(&m.0) < key(&l.0) => meta.next(),
            (Some(_), _) => leaves.next(),
            (None, _) => meta.next(),
        })
    };
    let mut sorted = true;
    let mut prev = (0, 0);
    let mut len = src.len();
    for (span, text) in merged() {
        sorted &= key(&span) >= prev;
        prev = key(&span);
        len = (len + text.len()).saturating_sub(span.len());
    }
    let mut plaintext = Zeroizing::new(String::with_capacity(len));
    if sorted {
        splice_sorted_into(src, merged(), &mut plaintext)?;
    } else {
        splice_into(src, merged().collect(), &mut plaintext)?;
    }
    Ok(plaintext)
}

/// The MAC of a sops-like YAML file (no `mac_only_encrypted`) without
/// parsing the plaintext again: the value of every decrypted lexeme taken
/// on its own, which equals what a parse of the plaintext gives when every
/// lexeme is simple (one line, no structure; see
/// [`crate::syntax::yaml::simple_value`]) and no comment text spans lines,
/// since then the plaintext has the same structure as the encrypted file.
/// `None` when some lexeme is not simple: the caller parses.
fn macs_from_lexemes(
    tree: &crate::tree::Tree,
    steps: &[(usize, MacStep)],
    opened: &Opened<'_>,
    jobs: &[Job<'_>],
) -> Option<String> {
    let has_alias = has_aliases(tree);
    let mut mac = Mac::new(false);
    let mut by_span: HashMap<usize, Value> = HashMap::new();
    replay(steps, jobs.len(), |step| {
        match step {
            Step::Text(t) => mac.update(t.as_bytes()),
            Step::Job(i) => {
                let (entry, job) = (opened.get(i)?, jobs.get(i)?);
                let repl = entry.repl();
                let Some(slot) = job.slot else {
                    return (!repl.contains(['\n', '\r'])).then_some(());
                };
                if !entry.out.value {
                    return None;
                }
                let value = yaml::simple_value(repl, slot)?;
                if let Some(text) = value.sops_text() {
                    mac.update(text.as_bytes());
                }
                if has_alias {
                    by_span.insert(job.span.start, value);
                }
            }
            Step::Alias(start) => {
                if let Some(text) = by_span.get(&start).and_then(Value::sops_text) {
                    mac.update(text.as_bytes());
                }
            }
        }
        Some(())
    })?;
    Some(mac.finish())
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

/// About how many bytes opening the `ENC[…]` text `enc` adds to a chunk's
/// buffer: its plaintext (the base64 data: the text less about 100 bytes
/// of cipher name, nonce, tag and type), twice for AES values, which also
/// get a re-spelled lexeme. An estimate only: the buffer grows if needed.
fn plain_estimate(enc: &str) -> usize {
    let plain = enc.len().saturating_sub(96) / 4 * 3 + 4;
    if enc.starts_with("ENC[AES") {
        2 * plain
    } else {
        plain
    }
}

/// Open one chunk of leaves. Stops at the chunk's first failure.
fn open_chunk(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    jobs: &[Job<'_>],
    aads: &Aads,
    candidates: &[String],
) -> Result<Chunk, EngineError> {
    let syntax = file.format.syntax();
    let opener = ValueCipher::new(key);
    let mut buf = Zeroizing::new(String::with_capacity(
        jobs.iter().map(|j| plain_estimate(j.text)).sum(),
    ));
    let mut outs = Vec::with_capacity(jobs.len());
    let mut scratch = Zeroizing::new(Vec::new());
    for job in jobs {
        let path = aads.get(job.aad as usize);
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
            let (from, to) = (job.candidates.start as usize, job.candidates.end as usize);
            for candidate in candidates.get(from..to).unwrap_or_default() {
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
        let offset = |n: usize| {
            u32::try_from(n).map_err(|_| fail(CipherError::Malformed("too many values")))
        };
        outs.push(Out {
            span,
            plain_start: offset(plain_range.start)?,
            plain_end: offset(plain_range.end)?,
            repl_end: offset(repl.end)?,
            repl_after_plain: repl.start != plain_range.start,
            value: !is_comment && parts.ty != "comment",
        });
    }
    zeroize::Zeroize::zeroize(&mut *scratch);
    Ok((buf, outs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{compute_mac, encrypt, open, EncryptOptions, KeyMaterial};
    use crate::select::Decider;

    const KEY: [u8; 32] = [5u8; 32];

    /// The MAC computed from the lexemes equals the MAC of a re-parse.
    #[test]
    fn lexeme_mac_equals_reparse_mac() {
        let docs = [
            "a: 1\nb: x\nc: 'q'\nd: \"d\"\ne: [1, two, 'three']\n",
            "a: &x 12\nb: *x\nc: {k: *x, l: -3}\n# note\nd: http://h:1/p\n",
            "m: &m {a: 1, b: yes}\nn:\n  <<: *m\n  c: 2024-01-02\n",
            "a: 1\n---\nb: 2.5\n...\n",
            "x: |\n  block\ny: 1\n",
            "x: \"esc\\n\"\ny: ~\nz: null\nw: ''\n",
            "- a\n- 1\n",
        ];
        let mut fast = 0;
        for doc in docs {
            let opts = EncryptOptions::default();
            let Ok(enc) = encrypt(
                Format::Yaml,
                doc,
                &KEY,
                &opts,
                KeyMaterial::default(),
                "2026-01-01T00:00:00Z",
            ) else {
                continue; // not a mapping: cannot hold metadata
            };
            let file = open(Format::Yaml, &enc).unwrap();
            let mut stash = Stash::default();
            let (plain, mac) = open_document(&file, &KEY, false, &mut stash).unwrap();
            assert_eq!(plain.as_str(), doc);
            let reparsed = Format::Yaml.syntax().parse(&plain).unwrap();
            let decider = Decider::new(&file.metadata.effective_selector()).unwrap();
            let expected = compute_mac(&reparsed.tree, &decider, false);
            if let Some(mac) = mac {
                assert_eq!(mac, expected, "{doc:?}");
                fast += 1;
            }
            assert!(crate::engine::decrypt(&file, &KEY, false).is_ok());
        }
        assert_eq!(fast, 4);
    }
}
