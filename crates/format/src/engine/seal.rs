//! Encrypting the selected leaves of a parsed document: the walk collects
//! the work in document order, the sealing runs on every core, and the
//! `ENC[…]` texts are spliced straight into the output.

use super::par::{chunked, splice_into, spliced_capacity, Aads};
use super::{EngineError, Stash};
use crate::cipher::{CipherError, CipherKind, ValueCipher};
use crate::select::Decider;
use crate::splice::Edit;
use crate::syntax::Syntax;
use crate::tree::{Slot, Span, Tree, Value};
use crate::walk::{walk, Leaf};
use zeroize::Zeroizing;

/// What goes into one leaf's span.
enum Text<'a> {
    /// Plaintext to seal: borrowed from the source or the tree.
    Plain(&'a str),
    /// Plaintext to seal, computed (sops text of a non-string value).
    Owned(Zeroizing<String>),
    /// The finished replacement (a reused ciphertext from the stash).
    Done(String),
}

struct Job<'a> {
    span: Span,
    /// `None` for a comment (its text is the bare `ENC[…]`).
    slot: Option<Slot>,
    text: Text<'a>,
    ty: &'static str,
    /// Index into the AAD strings.
    aad: usize,
}

/// Encrypt every selected leaf of `tree` (a parse of `src`), reusing stashed
/// ciphertexts, and splice the results and `extra` edits (the metadata)
/// into a copy of `src`.
#[allow(clippy::too_many_arguments)]
pub(super) fn seal_document(
    syntax: &dyn Syntax,
    src: &str,
    tree: &Tree,
    key: &[u8; 32],
    cipher: CipherKind,
    decider: &Decider,
    mut stash: Option<&mut Stash>,
    extra: &[Edit],
) -> Result<String, EngineError> {
    let mut aads = Aads::default();
    let mut jobs = Vec::new();
    walk(tree, |place, leaf| {
        if place.in_alias {
            return;
        }
        let path = place.path;
        match leaf {
            Leaf::Value(s) => {
                let Some(span) = s.span.clone() else { return };
                if matches!(&s.value, Value::Null)
                    || matches!(&s.value, Value::Str(t) if t.is_empty())
                {
                    return;
                }
                if !decider.value(path, place.comments) {
                    return;
                }
                let text = match (cipher, &s.value) {
                    (CipherKind::XChaCha20Poly1305, _) => {
                        Text::Plain(src.get(span.clone()).unwrap_or_default())
                    }
                    (CipherKind::Aes256Gcm, Value::Str(t)) => Text::Plain(t),
                    (CipherKind::Aes256Gcm, v) => {
                        Text::Owned(Zeroizing::new(v.sops_text().unwrap_or_default()))
                    }
                };
                let ty = s.value.sops_type();
                let aad = aads.index(path);
                let text = match stash.as_deref_mut() {
                    Some(st) => match st.take(aads.get(aad), ty, plain_of(&text)) {
                        Some(enc) => Text::Done(syntax.enc_lexeme(s.slot, &enc)),
                        None => text,
                    },
                    None => text,
                };
                jobs.push(Job {
                    span,
                    slot: Some(s.slot),
                    text,
                    ty,
                    aad,
                });
            }
            Leaf::Comment(c) => {
                let Some(span) = c.span.clone() else { return };
                if c.text.is_empty() || !decider.comment(path, place.comments) {
                    return;
                }
                let aad = aads.index(path);
                let text = match stash
                    .as_deref_mut()
                    .and_then(|st| st.take(aads.get(aad), "comment", &c.text))
                {
                    Some(enc) => Text::Done(enc),
                    None => Text::Plain(&c.text),
                };
                jobs.push(Job {
                    span,
                    slot: None,
                    text,
                    ty: "comment",
                    aad,
                });
            }
        }
    });
    let aads = &aads;
    let sealed = chunked(&jobs, |chunk| seal_chunk(syntax, key, cipher, chunk, aads));
    let mut pieces: Vec<(Span, &str)> = Vec::with_capacity(jobs.len() + extra.len());
    let mut jobs_left = jobs.iter();
    let mut done = 0;
    for result in &sealed {
        let (buf, ends) = match result {
            Ok(r) => r,
            Err((i, source)) => {
                let aad = jobs.get(done + i).map_or("", |j| aads.get(j.aad));
                return Err(EngineError::Encrypt {
                    path: aad.to_string(),
                    source: source.clone(),
                });
            }
        };
        let mut start = 0;
        for (&end, job) in ends.iter().zip(jobs_left.by_ref()) {
            pieces.push((job.span.clone(), buf.get(start..end).unwrap_or("")));
            start = end;
        }
        done += ends.len();
    }
    pieces.extend(extra.iter().map(|e| (e.span.clone(), e.text.as_str())));
    let mut out = String::with_capacity(spliced_capacity(src, &pieces));
    splice_into(src, pieces, &mut out)?;
    Ok(out)
}

fn plain_of<'t>(text: &'t Text<'_>) -> &'t str {
    match text {
        Text::Plain(p) => p,
        Text::Owned(p) => p,
        Text::Done(d) => d,
    }
}

/// Seal one chunk: all replacement texts in one buffer, and where each ends.
fn seal_chunk(
    syntax: &dyn Syntax,
    key: &[u8; 32],
    cipher: CipherKind,
    jobs: &[Job<'_>],
    aads: &Aads,
) -> Result<(String, Vec<usize>), (usize, CipherError)> {
    let mut sealer = ValueCipher::new(key);
    let mut buf = String::with_capacity(jobs.len() * 100);
    let mut ends = Vec::with_capacity(jobs.len());
    let mut scratch = Zeroizing::new(Vec::new());
    let mut enc = String::new();
    for (i, job) in jobs.iter().enumerate() {
        match &job.text {
            Text::Done(text) => buf.push_str(text),
            text => {
                let plain = plain_of(text);
                let aad = aads.get(job.aad);
                match job.slot {
                    None => sealer.seal_into(
                        cipher,
                        plain.as_bytes(),
                        aad.as_bytes(),
                        job.ty,
                        &mut scratch,
                        &mut buf,
                    ),
                    Some(slot) => {
                        enc.clear();
                        sealer
                            .seal_into(
                                cipher,
                                plain.as_bytes(),
                                aad.as_bytes(),
                                job.ty,
                                &mut scratch,
                                &mut enc,
                            )
                            .map(|()| buf.push_str(&syntax.enc_lexeme(slot, &enc)))
                    }
                }
                .map_err(|e| (i, e))?;
            }
        }
        ends.push(buf.len());
    }
    Ok((buf, ends))
}
