//! Encrypting the selected leaves of a parsed document: the walk collects
//! the work in document order, the sealing runs on every core, and the
//! `ENC[…]` texts are spliced straight into the output.

use super::par::{chunk_len, chunked, run_all, splice_into, spliced_capacity, Aads};
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
    let mut jobs = Vec::with_capacity(super::leaf_count(tree));
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
    let direct = Direct {
        syntax,
        src,
        jobs: &jobs,
        key,
        cipher,
        aads,
        extra,
    };
    if let Some(out) = direct.seal()? {
        return Ok(out);
    }
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

/// A stand-in `ENC[…]` text, to learn what `enc_lexeme` adds around one.
const SAMPLE_ENC: &str = "ENC[XCHACHA20_POLY1305,data:QUJD,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]";

/// What goes into the output at a span, in span order (small: there is
/// one per leaf).
struct Placed {
    span: Span,
    /// The length of the replacement text.
    len: u32,
    /// A job's index, or the number of jobs plus an extra edit's index.
    index: u32,
}

impl Placed {
    fn len(&self) -> usize {
        self.len as usize
    }
}

enum What<'j> {
    /// The job at this index.
    Job(usize),
    /// A finished text (metadata).
    Extra(&'j str),
}

/// Why a chunk could not be written straight into the output.
enum Fill {
    /// A replacement did not have its predicted length (or a span is not
    /// where it should be): the general path takes over.
    Mismatch,
    /// The job at this index could not be sealed.
    Cipher(usize, CipherError),
}

/// Sealing straight into the output: every replacement's length is known
/// before sealing (see [`ValueCipher::sealed_len`]), so each chunk of
/// leaves writes its part of the output in place, in parallel, with no
/// per-chunk buffers and no second copy.
struct Direct<'a> {
    syntax: &'a dyn Syntax,
    src: &'a str,
    jobs: &'a [Job<'a>],
    key: &'a [u8; 32],
    cipher: CipherKind,
    aads: &'a Aads,
    /// Edits to splice in too (the metadata).
    extra: &'a [Edit],
}

impl Direct<'_> {
    /// The output, or `None` when a length turns out different from its
    /// prediction (or the spans are not in order): the caller then takes
    /// the general path.
    fn seal(&self) -> Result<Option<String>, EngineError> {
        let Some(items) = self.place() else {
            return Ok(None);
        };
        let src = self.src;
        let mut total = 0;
        let mut pos = 0;
        for it in &items {
            total += it.span.start - pos + it.len();
            pos = it.span.end;
        }
        total += src.len() - pos;
        let mut out = vec![0u8; total];
        let mut rest: &mut [u8] = &mut out;
        let mut tasks = Vec::new();
        let mut prev_end = 0;
        for chunk in items.chunks(chunk_len(items.len())) {
            let from = prev_end;
            let mut size = 0;
            for it in chunk {
                size += it.span.start - prev_end + it.len();
                prev_end = it.span.end;
            }
            let Some((region, tail)) = std::mem::take(&mut rest).split_at_mut_checked(size) else {
                return Ok(None);
            };
            rest = tail;
            tasks.push(move || self.fill(region, from, chunk));
        }
        for result in run_all(tasks) {
            match result {
                Ok(()) => {}
                Err(Fill::Mismatch) => return Ok(None),
                Err(Fill::Cipher(i, source)) => {
                    let aad = self.jobs.get(i).map_or("", |j| self.aads.get(j.aad));
                    return Err(EngineError::Encrypt {
                        path: aad.to_string(),
                        source,
                    });
                }
            }
        }
        let mut at = 0;
        let tail = src.get(prev_end..).unwrap_or("");
        if put(rest, &mut at, tail).is_err() || at != rest.len() {
            return Ok(None);
        }
        Ok(String::from_utf8(out).ok())
    }

    /// The jobs and `extra` edits in span order with their replacement
    /// lengths; `None` unless the spans are in bounds and do not overlap.
    fn place(&self) -> Option<Vec<Placed>> {
        let wrap = |slot: Slot| {
            let lexeme = self.syntax.enc_lexeme(slot, SAMPLE_ENC);
            lexeme.len().checked_sub(SAMPLE_ENC.len())
        };
        let (bare, quoted) = (wrap(Slot::Bare), wrap(Slot::Quoted));
        let extra = self.extra;
        let mut items = Vec::with_capacity(self.jobs.len() + extra.len());
        for (i, job) in self.jobs.iter().enumerate() {
            let len = match &job.text {
                Text::Done(done) => done.len(),
                text => {
                    let enc = ValueCipher::sealed_len(self.cipher, plain_of(text).len(), job.ty);
                    enc + match job.slot {
                        None => 0,
                        Some(Slot::Bare) => bare?,
                        Some(Slot::Quoted) => quoted?,
                    }
                }
            };
            items.push(Placed {
                span: job.span.clone(),
                len: u32::try_from(len).ok()?,
                index: u32::try_from(i).ok()?,
            });
        }
        for (i, e) in extra.iter().enumerate() {
            items.push(Placed {
                span: e.span.clone(),
                len: u32::try_from(e.text.len()).ok()?,
                index: u32::try_from(self.jobs.len() + i).ok()?,
            });
        }
        let key = |p: &Placed| (p.span.start, p.span.end);
        if !items.is_sorted_by_key(key) {
            items.sort_by_key(key);
        }
        let src = self.src;
        let mut pos = 0;
        for it in &items {
            let (start, end) = (it.span.start, it.span.end);
            if start < pos
                || start > end
                || end > src.len()
                || !src.is_char_boundary(start)
                || !src.is_char_boundary(end)
            {
                return None;
            }
            pos = end;
        }
        Some(items)
    }

    /// Write the source text from `from` and the replacements of `chunk`
    /// into `region`, which must come out exactly full.
    fn fill(&self, region: &mut [u8], from: usize, chunk: &[Placed]) -> Result<(), Fill> {
        let mut sealer = ValueCipher::new(self.key);
        let mut scratch = Zeroizing::new(Vec::new());
        let mut enc = String::new();
        let mut at = 0;
        let mut prev = from;
        for it in chunk {
            let gap = self.src.get(prev..it.span.start).ok_or(Fill::Mismatch)?;
            put(region, &mut at, gap)?;
            let before = at;
            match self.what(it).ok_or(Fill::Mismatch)? {
                What::Extra(text) => put(region, &mut at, text)?,
                What::Job(i) => {
                    let job = self.jobs.get(i).ok_or(Fill::Mismatch)?;
                    match &job.text {
                        Text::Done(done) => put(region, &mut at, done)?,
                        text => {
                            enc.clear();
                            sealer
                                .seal_into(
                                    self.cipher,
                                    plain_of(text).as_bytes(),
                                    self.aads.get(job.aad).as_bytes(),
                                    job.ty,
                                    &mut scratch,
                                    &mut enc,
                                )
                                .map_err(|e| Fill::Cipher(i, e))?;
                            match job.slot {
                                None => put(region, &mut at, &enc)?,
                                Some(slot) => {
                                    let lexeme = self.syntax.enc_lexeme(slot, &enc);
                                    if lexeme.len() != it.len() {
                                        return Err(Fill::Mismatch);
                                    }
                                    put(region, &mut at, &lexeme)?
                                }
                            }
                        }
                    }
                }
            }
            if at - before != it.len() {
                return Err(Fill::Mismatch);
            }
            prev = it.span.end;
        }
        zeroize::Zeroize::zeroize(&mut *scratch);
        if at == region.len() {
            Ok(())
        } else {
            Err(Fill::Mismatch)
        }
    }
}

impl<'a> Direct<'a> {
    /// What a placed item stands for.
    fn what(&self, it: &Placed) -> Option<What<'a>> {
        let i = it.index as usize;
        match i.checked_sub(self.jobs.len()) {
            None => Some(What::Job(i)),
            Some(e) => self.extra.get(e).map(|e| What::Extra(e.text.as_str())),
        }
    }
}

/// Copy `text` into `region` at `*at` and move past it.
fn put(region: &mut [u8], at: &mut usize, text: &str) -> Result<(), Fill> {
    let end = *at + text.len();
    region
        .get_mut(*at..end)
        .ok_or(Fill::Mismatch)?
        .copy_from_slice(text.as_bytes());
    *at = end;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cipher::{aad, EncValue};
    use crate::metadata::Selector;
    use crate::syntax::yaml::Yaml;
    use crate::syntax::{EmitError, ParseError, Parsed};
    use crate::tree::Node;

    /// YAML, except that an `ENC[…]` text with a `+` is quoted: its length
    /// differs from the prediction, so sealing falls back to the general path.
    struct OddQuoting;

    impl Syntax for OddQuoting {
        fn name(&self) -> &'static str {
            "odd"
        }
        fn parse(&self, src: &str) -> Result<Parsed, ParseError> {
            Yaml.parse(src)
        }
        fn enc_lexeme(&self, slot: Slot, enc: &str) -> String {
            if enc.contains('+') {
                format!("\"{enc}\"")
            } else {
                Yaml.enc_lexeme(slot, enc)
            }
        }
        fn value_lexeme(&self, slot: Slot, value: &Value) -> String {
            Yaml.value_lexeme(slot, value)
        }
        fn insert_metadata(
            &self,
            src: &str,
            parsed: &Parsed,
            meta: &Node,
        ) -> Result<Vec<Edit>, EmitError> {
            Yaml.insert_metadata(src, parsed, meta)
        }
        fn emit(&self, tree: &Tree) -> Result<String, EmitError> {
            Yaml.emit(tree)
        }
    }

    /// Every leaf of `out` (sealed from `src`) opens to the lexeme at the
    /// same place in `src`.
    fn check(src: &str, out: &str, key: &[u8; 32]) {
        let lexemes = |text: &str, enc: bool| {
            let tree = Yaml.parse(text).unwrap().tree;
            let mut v = Vec::new();
            walk(&tree, |place, leaf| match leaf {
                Leaf::Value(s) if enc => {
                    let Value::Str(t) = &s.value else {
                        panic!("not sealed")
                    };
                    let plain = EncValue::parse(t)
                        .unwrap()
                        .open(key, aad(place.path).as_bytes())
                        .unwrap();
                    v.push(String::from_utf8(plain.to_vec()).unwrap());
                }
                Leaf::Value(s) => v.push(text[s.span.clone().unwrap()].to_string()),
                Leaf::Comment(_) => {}
            });
            v
        };
        assert_eq!(lexemes(out, true), lexemes(src, false));
    }

    #[test]
    fn both_paths_seal_every_leaf() {
        let src: String = (0..300)
            .map(|i| format!("k{i}: 'v{i}'\nn{i}: {i}\n"))
            .collect();
        let key = [4u8; 32];
        let decider = Decider::new(&Selector::default()).unwrap();
        for syntax in [&Yaml as &dyn Syntax, &OddQuoting] {
            let parsed = syntax.parse(&src).unwrap();
            let out = seal_document(
                syntax,
                &src,
                &parsed.tree,
                &key,
                CipherKind::XChaCha20Poly1305,
                &decider,
                None,
                &[],
            )
            .unwrap();
            check(&src, &out, &key);
        }
    }
}
