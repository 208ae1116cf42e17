//! Encrypting the selected leaves of a parsed document and writing the
//! result to a sink in bounded windows.
//!
//! When the leaves' spans come in document order (the usual case), one
//! walk collects the work of a window of leaves at a time; each window's
//! `ENC[…]` texts are sealed on every core straight into a reused buffer
//! (their lengths are known before sealing), and the buffer is written out.
//! Neither the whole output nor a list of every leaf is ever held. When the
//! spans are out of order, all the work is collected and sorted first, then
//! written in the same windows; spans that are not valid are an error
//! before anything is written.

use super::par::{chunk_len, chunked, run_all, Aads};
use super::{EngineError, Stash};
use crate::cipher::{CipherError, CipherKind, ValueCipher};
use crate::select::Decider;
use crate::splice::{Edit, SpliceError};
use crate::syntax::Syntax;
use crate::tree::{Slot, Span, Tree, Value};
use crate::walk::{walk, Leaf, Place};
use std::io::Write;
use zeroize::Zeroizing;

/// Leaves (and metadata edits) per output window: bounds the work lists
/// and the output buffer (a few MiB) while leaving each window enough
/// leaves to share out over the cores.
const WINDOW: usize = 16 * 1024;

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
    /// For a comment written after an `ENC[…]` value instead of in its
    /// span (see [`Collect::inside`]): the text around its `ENC[…]`.
    around: Option<Box<(String, String)>>,
    text: Text<'a>,
    ty: &'static str,
    /// Index into the AAD strings.
    aad: usize,
}

/// The settings every part of the sealing shares.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    syntax: &'a dyn Syntax,
    src: &'a str,
    key: &'a [u8; 32],
    cipher: CipherKind,
    /// Edits to splice in too (the metadata).
    extra: &'a [Edit],
}

/// Turns the leaves of a walk into jobs, in document order: picks the
/// selected ones and takes their stashed ciphertexts.
struct Collect<'a, 's> {
    ctx: Ctx<'a>,
    decider: &'s Decider,
    stash: Option<&'s mut Stash>,
    /// The span of the last value visited, and whether it is replaced.
    last: Option<(Span, bool)>,
    /// Comments written after that value so far.
    after_last: usize,
}

impl<'a, 's> Collect<'a, 's> {
    fn new(ctx: Ctx<'a>, decider: &'s Decider, stash: Option<&'s mut Stash>) -> Self {
        Collect {
            ctx,
            decider,
            stash,
            last: None,
            after_last: 0,
        }
    }

    /// Where a comment inside the span of the value just visited goes (a
    /// YAML comment on a block scalar's header line or after a tag, which
    /// the lexeme holds): `None` if the value is not replaced (the comment
    /// is sealed in place); `Some(None)` if the XChaCha lexeme seals it
    /// with the value; else where it goes after the value's `ENC[…]` and
    /// the text around it (AES writes the value alone; see
    /// [`Syntax::comment_after`]).
    fn inside(&mut self, span: &Span) -> Option<Option<(Span, String, String)>> {
        let (value, replaced) = self.last.clone()?;
        if !(replaced && crate::tree::in_lexeme(span, &value)) {
            return None;
        }
        if self.ctx.cipher == CipherKind::XChaCha20Poly1305 {
            return Some(None);
        }
        let (at, lead, trail) =
            self.ctx
                .syntax
                .comment_after(self.ctx.src, &value, self.after_last)?;
        self.after_last += 1;
        Some(Some((at..at, lead, trail)))
    }

    /// The job for a leaf, if it is to be sealed; its AAD goes into `aads`.
    fn job(&mut self, aads: &mut Aads, place: &Place<'a, '_>, leaf: Leaf<'a>) -> Option<Job<'a>> {
        if place.in_alias {
            return None;
        }
        let path = place.path;
        match leaf {
            Leaf::Value(s) => {
                let span = s.span.clone()?;
                let sealed =
                    !s.value.is_never_encrypted() && self.decider.value(path, place.comments);
                self.last = Some((span.clone(), sealed));
                self.after_last = 0;
                if !sealed {
                    return None;
                }
                let text = match (self.ctx.cipher, &s.value) {
                    (CipherKind::XChaCha20Poly1305, _) => {
                        Text::Plain(self.ctx.src.get(span.clone()).unwrap_or_default())
                    }
                    (CipherKind::Aes256Gcm, Value::Str(t)) => Text::Plain(t),
                    (CipherKind::Aes256Gcm, v) => {
                        Text::Owned(Zeroizing::new(v.sops_text().unwrap_or_default()))
                    }
                };
                let ty = s.value.sops_type();
                let aad = aads.index(path);
                let text = match self.stash.as_deref_mut() {
                    Some(st) => match st.take(aads.get(aad), ty, plain_of(&text)) {
                        Some(enc) => Text::Done(self.ctx.syntax.enc_lexeme(s.slot, &enc)),
                        None => text,
                    },
                    None => text,
                };
                Some(Job {
                    span,
                    slot: Some(s.slot),
                    around: None,
                    text,
                    ty,
                    aad,
                })
            }
            Leaf::Comment(c) => {
                let mut span = c.span.clone()?;
                let mut around = None;
                match self.inside(&span) {
                    None => {}
                    Some(None) => return None,
                    Some(Some((at, lead, trail))) => {
                        span = at;
                        around = Some(Box::new((lead, trail)));
                    }
                }
                // A comment sops reads in another collection in the
                // plaintext is encrypted when sops encrypts it there (see
                // `Comment::sops_keys`): higher up, with that collection's
                // AAD (sops's); deeper, with its place's (where sops reads
                // it in the encrypted file, and decrypts it).
                let here = self.decider.comment(path, place.comments);
                let there = c
                    .sops_keys
                    .as_ref()
                    .filter(|_| !here)
                    .map(|keys| keys.iter().map(String::as_str).collect::<Vec<_>>())
                    .filter(|there| self.decider.comment(there, place.comments));
                let (path, sealed) = match there {
                    Some(there) if there.len() < path.len() => {
                        (path.get(..there.len()).unwrap_or(path), true)
                    }
                    Some(_) => (path, true),
                    None => (path, here),
                };
                // An edit never writes in clear a comment that was
                // encrypted, more often than it was in clear (see
                // `Stash::may_stay_clear`); but a marker that selects
                // what follows it is in clear, as sops must read it
                // (sealed, sops would not see it and fail the MAC check).
                let sealed = sealed
                    || (!self.decider.is_marker(&c.text)
                        && self
                            .stash
                            .as_deref_mut()
                            .is_some_and(|st| !st.may_stay_clear(&c.text)));
                if c.text.is_empty() || !sealed {
                    // Left in clear: after the value too, if it moves.
                    return around.map(|a| Job {
                        span,
                        slot: None,
                        around: None,
                        text: Text::Done(format!("{}{}{}", a.0, c.text, a.1)),
                        ty: "comment",
                        aad: aads.index(path),
                    });
                }
                let aad = aads.index(path);
                let text = match self
                    .stash
                    .as_deref_mut()
                    .and_then(|st| st.take(aads.get(aad), "comment", &c.text))
                {
                    Some(enc) => match around.take() {
                        Some(a) => Text::Done(format!("{}{enc}{}", a.0, a.1)),
                        None => Text::Done(enc),
                    },
                    None => Text::Plain(&c.text),
                };
                Some(Job {
                    span,
                    slot: None,
                    around,
                    text,
                    ty: "comment",
                    aad,
                })
            }
        }
    }
}

/// Encrypt every selected leaf of `tree` (a parse of `src`), reusing stashed
/// ciphertexts, splice the results and the `extra` edits (the metadata)
/// into `src`, and write the result to `sink`.
#[allow(clippy::too_many_arguments)]
pub(super) fn seal_document(
    syntax: &dyn Syntax,
    src: &str,
    tree: &Tree,
    key: &[u8; 32],
    cipher: CipherKind,
    decider: &Decider,
    stash: Option<&mut Stash>,
    extra: &[Edit],
    sink: &mut dyn Write,
) -> Result<(), EngineError> {
    let ctx = Ctx {
        syntax,
        src,
        key,
        cipher,
        extra,
    };
    let collect = Collect::new(ctx, decider, stash);
    seal_windowed(collect, tree, WINDOW, sink)
}

/// [`seal_document`] with `window` leaves per window.
fn seal_windowed<'a>(
    collect: Collect<'a, '_>,
    tree: &'a Tree,
    window: usize,
    sink: &mut dyn Write,
) -> Result<(), EngineError> {
    let window = window.max(1);
    if in_order(tree, collect.ctx.src, collect.ctx.extra) {
        stream(collect, tree, window, sink)
    } else {
        buffered(collect, tree, window, sink)
    }
}

/// The sort key of a span: replacements go out in this order (a
/// zero-width insertion before a replacement starting at the same offset).
fn span_key(span: &Span) -> (usize, usize) {
    (span.start, span.end)
}

/// The indices of the `extra` edits in span order (stable: insertions at
/// one offset keep their order).
fn extra_order(extra: &[Edit]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..extra.len()).collect();
    order.sort_by_key(|&i| extra.get(i).map(|e| span_key(&e.span)));
    order
}

/// Whether the spans of every leaf a walk can seal (in walk order) merged
/// with the `extra` edits (in span order) are in span order, valid in
/// `src`, and do not overlap: then the output can be written as the walk
/// goes.
fn in_order(tree: &Tree, src: &str, extra: &[Edit]) -> bool {
    let valid = |span: &Span, pos: usize| {
        span.start >= pos
            && span.start <= span.end
            && span.end <= src.len()
            && src.is_char_boundary(span.start)
            && src.is_char_boundary(span.end)
    };
    let order = extra_order(extra);
    let mut extras = order.iter().filter_map(|&i| extra.get(i)).peekable();
    let mut pos = 0;
    let mut last = (0, 0);
    let mut ok = true;
    let mut value = 0..0;
    walk(tree, |place, leaf| {
        let span = match leaf {
            Leaf::Value(s) => s.span.as_ref(),
            Leaf::Comment(c) => c.span.as_ref(),
        };
        let Some(span) = span.filter(|_| ok && !place.in_alias) else {
            return;
        };
        match leaf {
            Leaf::Value(_) => value = span.clone(),
            // Inside the value just visited: written in its span or right
            // after it (see `Collect::inside`), so in order.
            Leaf::Comment(_) if crate::tree::in_lexeme(span, &value) => return,
            Leaf::Comment(_) => {}
        }
        while let Some(e) = extras.next_if(|e| span_key(&e.span) < span_key(span)) {
            ok &= valid(&e.span, pos);
            pos = e.span.end;
        }
        ok &= valid(span, pos) && span_key(span) >= last;
        last = span_key(span);
        pos = span.end;
    });
    for e in extras {
        ok &= valid(&e.span, pos);
        pos = e.span.end;
    }
    ok
}

/// The output as the walk goes: a window of jobs is collected, written,
/// and forgotten.
fn stream<'a>(
    mut collect: Collect<'a, '_>,
    tree: &'a Tree,
    window: usize,
    sink: &mut dyn Write,
) -> Result<(), EngineError> {
    let ctx = collect.ctx;
    let mut out = Windows {
        ctx,
        jobs: Vec::with_capacity(window.min(super::leaf_count(tree))),
        aads: Aads::default(),
        items: Vec::new(),
        order: extra_order(ctx.extra),
        next_extra: 0,
        pos: 0,
        buf: Vec::new(),
        sink,
    };
    let mut failed = None;
    walk(tree, |place, leaf| {
        if failed.is_some() {
            return;
        }
        let Some(job) = collect.job(&mut out.aads, place, leaf) else {
            return;
        };
        out.jobs.push(job);
        if out.jobs.len() >= window {
            failed = out.flush(false).err();
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    out.flush(true)?;
    out.finish()
}

/// The state of [`stream`]: the current window's jobs, and how far the
/// output has got.
struct Windows<'a, 'w> {
    ctx: Ctx<'a>,
    jobs: Vec<Job<'a>>,
    aads: Aads,
    /// The window's jobs and edits in span order (kept for its capacity).
    items: Vec<Placed>,
    /// The `extra` edits in span order, and how many of them are written.
    order: Vec<usize>,
    next_extra: usize,
    /// The source is written up to here.
    pos: usize,
    /// The window's output (kept for its capacity).
    buf: Vec<u8>,
    sink: &'w mut dyn Write,
}

impl Windows<'_, '_> {
    /// Write the collected jobs and the `extra` edits that come before the
    /// last of them (every one left if `last`), then start a new window.
    fn flush(&mut self, last: bool) -> Result<(), EngineError> {
        let direct = Direct::new(self.ctx, &self.jobs, &self.aads);
        self.items.clear();
        let mut predicted = direct.place_jobs(&mut self.items)?;
        let bound = self.jobs.last().map(|j| span_key(&j.span));
        while let Some(e) = self.order.get(self.next_extra).copied() {
            let Some(edit) = self.ctx.extra.get(e) else {
                break;
            };
            if !last && bound.is_none_or(|b| span_key(&edit.span) >= b) {
                break;
            }
            predicted &= direct.place_extra(&mut self.items, e)?;
            self.next_extra += 1;
        }
        sort_placed(&mut self.items);
        self.pos = direct.write(&self.items, self.pos, predicted, &mut self.buf, self.sink)?;
        self.jobs.clear();
        self.aads.clear();
        Ok(())
    }

    /// Write the rest of the source and flush the sink.
    fn finish(self) -> Result<(), EngineError> {
        write_tail(self.ctx.src, self.pos, self.sink)
    }
}

/// Write the source from `pos` to its end, and flush the sink.
fn write_tail(src: &str, pos: usize, sink: &mut dyn Write) -> Result<(), EngineError> {
    let tail = src.get(pos..).unwrap_or("");
    sink.write_all(tail.as_bytes())
        .and_then(|()| sink.flush())
        .map_err(EngineError::Write)
}

/// Put placed items in span order (stable: insertions at one offset keep
/// their order).
fn sort_placed(items: &mut [Placed]) {
    if !items.is_sorted_by_key(|p| span_key(&p.span)) {
        items.sort_by_key(|p| span_key(&p.span));
    }
}

/// Spans out of order: every job is collected and sorted, then written in
/// windows. Spans that are not valid (out of bounds, overlapping) are an
/// error before anything is written.
fn buffered<'a>(
    mut collect: Collect<'a, '_>,
    tree: &'a Tree,
    window: usize,
    sink: &mut dyn Write,
) -> Result<(), EngineError> {
    let ctx = collect.ctx;
    let mut aads = Aads::default();
    let mut jobs = Vec::with_capacity(super::leaf_count(tree));
    walk(tree, |place, leaf| {
        jobs.extend(collect.job(&mut aads, place, leaf));
    });
    let direct = Direct::new(ctx, &jobs, &aads);
    let mut items = Vec::with_capacity(jobs.len() + ctx.extra.len());
    let mut predicted = direct.place_jobs(&mut items)?;
    for e in 0..ctx.extra.len() {
        predicted &= direct.place_extra(&mut items, e)?;
    }
    sort_placed(&mut items);
    direct.check(&items, 0)?;
    let mut buf = Vec::new();
    let mut pos = 0;
    for part in items.chunks(window) {
        pos = direct.write(part, pos, predicted, &mut buf, sink)?;
    }
    write_tail(ctx.src, pos, sink)
}

/// The error for the job at `i` failing to seal (names its path, no plaintext).
fn cipher_error(jobs: &[Job<'_>], aads: &Aads, i: usize, source: CipherError) -> EngineError {
    let aad = jobs.get(i).map_or("", |j| aads.get(j.aad));
    EngineError::Encrypt {
        path: aad.to_string(),
        source,
    }
}

fn out_of_bounds(span: &Span) -> EngineError {
    EngineError::Splice(SpliceError::OutOfBounds(span.start, span.end))
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

/// Values sealed together by [`Direct::fill`].
const SEAL_BATCH: usize = 32;

/// Why a chunk could not be written straight into the output.
enum Fill {
    /// A replacement did not have its predicted length (or a span is not
    /// where it should be): the general path takes over.
    Mismatch,
    /// The job at this index could not be sealed.
    Cipher(usize, CipherError),
}

/// Sealing straight into an output window: every replacement's length is
/// known before sealing (see [`ValueCipher::sealed_len`]), so each chunk of
/// leaves writes its part of the window in place, in parallel, with no
/// per-chunk buffers and no second copy.
struct Direct<'a, 'j> {
    ctx: Ctx<'a>,
    jobs: &'j [Job<'a>],
    aads: &'j Aads,
    /// What `enc_lexeme` adds around an `ENC[…]` text in a bare and in a
    /// quoted slot.
    bare: Option<usize>,
    quoted: Option<usize>,
}

impl<'a, 'j> Direct<'a, 'j> {
    fn new(ctx: Ctx<'a>, jobs: &'j [Job<'a>], aads: &'j Aads) -> Self {
        let wrap = |slot: Slot| {
            let lexeme = ctx.syntax.enc_lexeme(slot, SAMPLE_ENC);
            lexeme.len().checked_sub(SAMPLE_ENC.len())
        };
        Direct {
            ctx,
            jobs,
            aads,
            bare: wrap(Slot::Bare),
            quoted: wrap(Slot::Quoted),
        }
    }

    /// The predicted length of a job's replacement text.
    fn len_of(&self, job: &Job<'_>) -> Option<u32> {
        let len = match &job.text {
            Text::Done(done) => done.len(),
            text => {
                let enc = ValueCipher::sealed_len(self.ctx.cipher, plain_of(text).len(), job.ty);
                enc + match job.slot {
                    None => job.around.as_ref().map_or(0, |a| a.0.len() + a.1.len()),
                    Some(Slot::Bare) => self.bare?,
                    Some(Slot::Quoted) => self.quoted?,
                }
            }
        };
        u32::try_from(len).ok()
    }

    /// Place every job with its predicted replacement length; `false` if a
    /// length cannot be predicted (the window then takes the general path).
    fn place_jobs(&self, items: &mut Vec<Placed>) -> Result<bool, EngineError> {
        let mut predicted = true;
        for (i, job) in self.jobs.iter().enumerate() {
            let len = self.len_of(job);
            predicted &= len.is_some();
            items.push(Placed {
                span: job.span.clone(),
                len: len.unwrap_or(0),
                index: u32::try_from(i).map_err(|_| out_of_bounds(&job.span))?,
            });
        }
        Ok(predicted)
    }

    /// Place the `extra` edit at index `e`; `false` if its length does not
    /// fit the placement.
    fn place_extra(&self, items: &mut Vec<Placed>, e: usize) -> Result<bool, EngineError> {
        let Some(edit) = self.ctx.extra.get(e) else {
            return Ok(true);
        };
        let len = u32::try_from(edit.text.len()).ok();
        items.push(Placed {
            span: edit.span.clone(),
            len: len.unwrap_or(0),
            index: u32::try_from(self.jobs.len() + e).map_err(|_| out_of_bounds(&edit.span))?,
        });
        Ok(len.is_some())
    }

    /// Whether `items` (in span order) lie in the source from `from` on,
    /// on character boundaries, without overlapping.
    fn check(&self, items: &[Placed], from: usize) -> Result<(), EngineError> {
        let src = self.ctx.src;
        let mut pos = from;
        for it in items {
            let (start, end) = (it.span.start, it.span.end);
            if start > end
                || end > src.len()
                || !src.is_char_boundary(start)
                || !src.is_char_boundary(end)
            {
                return Err(out_of_bounds(&it.span));
            }
            if start < pos {
                return Err(EngineError::Splice(SpliceError::Overlap(start, end)));
            }
            pos = end;
        }
        Ok(())
    }

    /// Write the source from `from` with the replacements of `items` (in
    /// span order) to `sink`, through `buf`; the source position reached.
    /// Sealed straight into `buf` when the lengths are `predicted` and turn
    /// out right, else through the general path.
    fn write(
        &self,
        items: &[Placed],
        from: usize,
        predicted: bool,
        buf: &mut Vec<u8>,
        sink: &mut dyn Write,
    ) -> Result<usize, EngineError> {
        self.check(items, from)?;
        if !(predicted && self.fill_window(items, from, buf)?) {
            self.splice_window(items, from, buf)?;
        }
        sink.write_all(buf).map_err(EngineError::Write)?;
        Ok(items.last().map_or(from, |it| it.span.end))
    }

    /// Seal `items` straight into `buf`, in parallel chunks; `false` when a
    /// length turns out different from its prediction.
    fn fill_window(
        &self,
        items: &[Placed],
        from: usize,
        buf: &mut Vec<u8>,
    ) -> Result<bool, EngineError> {
        let mut total = 0;
        let mut pos = from;
        for it in items {
            total += it.span.start - pos + it.len();
            pos = it.span.end;
        }
        buf.clear();
        buf.resize(total, 0);
        let mut rest: &mut [u8] = buf;
        let mut tasks = Vec::new();
        let mut prev_end = from;
        for chunk in items.chunks(chunk_len(items.len())) {
            let start = prev_end;
            let mut size = 0;
            for it in chunk {
                size += it.span.start - prev_end + it.len();
                prev_end = it.span.end;
            }
            let Some((region, tail)) = std::mem::take(&mut rest).split_at_mut_checked(size) else {
                return Ok(false);
            };
            rest = tail;
            tasks.push(move || self.fill(region, start, chunk));
        }
        for result in run_all(tasks) {
            match result {
                Ok(()) => {}
                Err(Fill::Mismatch) => return Ok(false),
                Err(Fill::Cipher(i, source)) => {
                    return Err(cipher_error(self.jobs, self.aads, i, source))
                }
            }
        }
        Ok(rest.is_empty())
    }

    /// Write the source text from `from` and the replacements of `chunk`
    /// into `region`, which must come out exactly full. The values are
    /// sealed [`SEAL_BATCH`] at a time (see [`ValueCipher::seal_batch_append`]:
    /// one value at a time, XChaCha20's keystream starts and tags were 13%
    /// of a 100,000-leaf YAML encryption's samples).
    fn fill(&self, region: &mut [u8], from: usize, chunk: &[Placed]) -> Result<(), Fill> {
        let mut sealer = ValueCipher::new(self.ctx.key);
        let mut scratch = Zeroizing::new(Vec::new());
        // A batch's `ENC[…]` texts, where each starts, and its jobs.
        let mut encs = String::new();
        let mut starts: Vec<usize> = Vec::with_capacity(SEAL_BATCH);
        let mut batch: Vec<usize> = Vec::with_capacity(SEAL_BATCH);
        let mut values: Vec<(&[u8], &[u8])> = Vec::with_capacity(SEAL_BATCH);
        let mut at = 0;
        let mut prev = from;
        let mut next = 0;
        while next < chunk.len() {
            // The items up to the batch's last value.
            batch.clear();
            let mut end = next;
            while let (Some(it), true) = (chunk.get(end), batch.len() < SEAL_BATCH) {
                if let What::Job(i) = self.what(it).ok_or(Fill::Mismatch)? {
                    let job = self.jobs.get(i).ok_or(Fill::Mismatch)?;
                    if !matches!(job.text, Text::Done(_)) {
                        batch.push(i);
                    }
                }
                end += 1;
            }
            values.clear();
            for &i in &batch {
                let job = self.jobs.get(i).ok_or(Fill::Mismatch)?;
                values.push((
                    plain_of(&job.text).as_bytes(),
                    self.aads.get(job.aad).as_bytes(),
                ));
            }
            encs.clear();
            starts.clear();
            let jobs = self.jobs;
            let ty = |k: usize| {
                batch
                    .get(k)
                    .and_then(|&i| jobs.get(i))
                    .map_or("str", |j| j.ty)
            };
            sealer
                .seal_batch_append(
                    self.ctx.cipher,
                    &values,
                    ty,
                    &mut scratch,
                    &mut encs,
                    |_, out| starts.push(out.len()),
                )
                .map_err(|e| Fill::Cipher(batch.first().copied().unwrap_or(0), e))?;
            starts.push(encs.len());
            let mut sealed = starts.windows(2).map(|w| encs.get(w[0]..w[1]));
            for it in chunk.get(next..end).ok_or(Fill::Mismatch)? {
                let gap = self
                    .ctx
                    .src
                    .get(prev..it.span.start)
                    .ok_or(Fill::Mismatch)?;
                put(region, &mut at, gap)?;
                let before = at;
                match self.what(it).ok_or(Fill::Mismatch)? {
                    What::Extra(text) => put(region, &mut at, text)?,
                    What::Job(i) => {
                        let job = self.jobs.get(i).ok_or(Fill::Mismatch)?;
                        match &job.text {
                            Text::Done(done) => put(region, &mut at, done)?,
                            _ => {
                                let enc = sealed.next().flatten().ok_or(Fill::Mismatch)?;
                                match job.slot {
                                    None => match &job.around {
                                        None => put(region, &mut at, enc)?,
                                        Some(a) => {
                                            put(region, &mut at, &a.0)?;
                                            put(region, &mut at, enc)?;
                                            put(region, &mut at, &a.1)?;
                                        }
                                    },
                                    Some(slot) => {
                                        let lexeme = self.ctx.syntax.enc_lexeme(slot, enc);
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
            next = end;
        }
        zeroize::Zeroize::zeroize(&mut *scratch);
        if at == region.len() {
            Ok(())
        } else {
            Err(Fill::Mismatch)
        }
    }

    /// The general path for one window: the replacements of `items` are
    /// sealed in parallel chunks into their own buffers, then spliced into
    /// `buf` (whatever their lengths).
    fn splice_window(
        &self,
        items: &[Placed],
        from: usize,
        buf: &mut Vec<u8>,
    ) -> Result<(), EngineError> {
        let sealed = chunked(items, |chunk| {
            let work = chunk.iter().map(|it| match self.what(it) {
                Some(What::Job(i)) => (i, self.jobs.get(i), ""),
                Some(What::Extra(text)) => (0, None, text),
                None => (0, None, ""),
            });
            seal_texts(self.ctx, work, self.aads)
        });
        buf.clear();
        let mut pos = from;
        let mut items_left = items.iter();
        for result in sealed {
            let (texts, ends) =
                result.map_err(|(i, e)| cipher_error(self.jobs, self.aads, i, e))?;
            let mut start = 0;
            for (&end, it) in ends.iter().zip(items_left.by_ref()) {
                let gap = self.ctx.src.get(pos..it.span.start);
                let text = texts.get(start..end);
                let (Some(gap), Some(text)) = (gap, text) else {
                    return Err(out_of_bounds(&it.span));
                };
                buf.extend_from_slice(gap.as_bytes());
                buf.extend_from_slice(text.as_bytes());
                start = end;
                pos = it.span.end;
            }
        }
        Ok(())
    }

    /// What a placed item stands for.
    fn what(&self, it: &Placed) -> Option<What<'a>> {
        let i = it.index as usize;
        match i.checked_sub(self.jobs.len()) {
            None => Some(What::Job(i)),
            Some(e) => self.ctx.extra.get(e).map(|e| What::Extra(e.text.as_str())),
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

/// Seal a run of work into one buffer, and where each text ends. Each
/// item is `(job index, job, text)`: the job's replacement, or `text`
/// as it is when there is no job. The error names the failing job's index.
fn seal_texts<'j, 'a: 'j>(
    ctx: Ctx<'_>,
    work: impl ExactSizeIterator<Item = (usize, Option<&'j Job<'a>>, &'j str)>,
    aads: &Aads,
) -> Result<(String, Vec<usize>), (usize, CipherError)> {
    let mut sealer = ValueCipher::new(ctx.key);
    let mut buf = String::with_capacity(work.len() * 100);
    let mut ends = Vec::with_capacity(work.len());
    let mut scratch = Zeroizing::new(Vec::new());
    let mut enc = String::new();
    for (i, job, text) in work {
        let Some(job) = job else {
            buf.push_str(text);
            ends.push(buf.len());
            continue;
        };
        match &job.text {
            Text::Done(text) => buf.push_str(text),
            text => {
                let plain = plain_of(text);
                let aad = aads.get(job.aad);
                match job.slot {
                    None => {
                        if let Some(a) = &job.around {
                            buf.push_str(&a.0);
                        }
                        let sealed = sealer.seal_into(
                            ctx.cipher,
                            plain.as_bytes(),
                            aad.as_bytes(),
                            job.ty,
                            &mut scratch,
                            &mut buf,
                        );
                        if let Some(a) = &job.around {
                            buf.push_str(&a.1);
                        }
                        sealed
                    }
                    Some(slot) => {
                        enc.clear();
                        sealer
                            .seal_into(
                                ctx.cipher,
                                plain.as_bytes(),
                                aad.as_bytes(),
                                job.ty,
                                &mut scratch,
                                &mut enc,
                            )
                            .map(|()| buf.push_str(&ctx.syntax.enc_lexeme(slot, &enc)))
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
    use super::super::{compute_mac, seal_mac};
    use super::*;
    use crate::cipher::{aad, EncValue};
    use crate::metadata::{Metadata, Selector, FORMAT_VERSION};
    use crate::syntax::yaml::Yaml;
    use crate::syntax::Format;
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
            let mut out = Vec::new();
            seal_document(
                syntax,
                &src,
                &parsed.tree,
                &key,
                CipherKind::XChaCha20Poly1305,
                &decider,
                None,
                &[],
                &mut out,
            )
            .unwrap();
            check(&src, std::str::from_utf8(&out).unwrap(), &key);
        }
    }

    /// The per-window general path (lengths differ from the prediction)
    /// gives the same leaves whatever the window size.
    #[test]
    fn windows_fall_back_one_by_one() {
        let src: String = (0..300)
            .map(|i| format!("k{i}: 'v{i}'\n# c{i}\nn{i}: {i}\n"))
            .collect();
        let key = [4u8; 32];
        let decider = Decider::new(&Selector::default()).unwrap();
        let parsed = OddQuoting.parse(&src).unwrap();
        for window in [1, 2, 5, 64, 5000] {
            let mut out = Vec::new();
            let collect = Collect::new(
                ctx(&OddQuoting, &src, &key, CipherKind::XChaCha20Poly1305, &[]),
                &decider,
                None,
            );
            seal_windowed(collect, &parsed.tree, window, &mut out).unwrap();
            let out = String::from_utf8(out).unwrap();
            assert!(out.contains("\"ENC["), "some values take the general path");
            check(&src, &out, &key);
        }
    }

    fn ctx<'a>(
        syntax: &'a dyn Syntax,
        src: &'a str,
        key: &'a [u8; 32],
        cipher: CipherKind,
        extra: &'a [Edit],
    ) -> Ctx<'a> {
        Ctx {
            syntax,
            src,
            key,
            cipher,
            extra,
        }
    }

    const NOW: &str = "2026-01-02T03:04:05Z";

    /// The metadata edits `encrypt` would splice into `src` (one MAC
    /// sealing, so two runs with them are comparable).
    fn meta_edits(format: Format, src: &str, key: &[u8; 32], cipher: CipherKind) -> Vec<Edit> {
        let syntax = format.syntax();
        let parsed = syntax.parse(src).unwrap();
        let decider = Decider::new(&Selector::default()).unwrap();
        let mac = compute_mac(&parsed.tree, &decider, false);
        let meta = Metadata {
            key_groups: Vec::new(),
            shamir_threshold: None,
            lastmodified: NOW.into(),
            mac: seal_mac(cipher, key, &mac, NOW).unwrap(),
            selector: Some(Selector::default()),
            mac_only_encrypted: false,
            version: FORMAT_VERSION.into(),
        };
        syntax
            .insert_metadata(src, &parsed, &meta.to_node())
            .unwrap()
    }

    /// `src` encrypted as `encrypt` does, with `window` leaves per window.
    fn seal_with(
        format: Format,
        src: &str,
        key: &[u8; 32],
        cipher: CipherKind,
        extra: &[Edit],
        window: usize,
        stash: Option<&mut Stash>,
    ) -> String {
        let syntax = format.syntax();
        let parsed = syntax.parse(src).unwrap();
        let decider = Decider::new(&Selector::default()).unwrap();
        let collect = Collect::new(ctx(syntax, src, key, cipher, extra), &decider, stash);
        let mut out = Vec::new();
        seal_windowed(collect, &parsed.tree, window, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// `text` with every `ENC[…]` emptied: what does not depend on nonces.
    fn shape(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find("ENC[") {
            out.push_str(&rest[..at + 4]);
            rest = &rest[at..];
            let end = rest.find(']').unwrap();
            out.push_str(&format!("{}]", end));
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// One document per format, with comments, nested values, several
    /// types; TOML's reopened table puts spans out of walk order.
    fn samples() -> Vec<(Format, String, bool)> {
        let many = |f: &dyn Fn(usize) -> String| (0..40).map(f).collect::<String>();
        vec![
            (
                Format::Yaml,
                format!(
                    "# top\n{}list:\n  - 1\n  - two # inline\n  - {{a: b, c: [d, 3.5]}}\nblock: |\n  text\nempty:\n",
                    many(&|i| format!("k{i}: v{i}\nn{i}: {i}\n# c{i}\n"))
                ),
                true,
            ),
            (
                Format::Json,
                format!(
                    "{{\n{}  \"list\": [1, \"two\", {{\"a\": true, \"b\": null}}],\n  \"x\": \"é\"\n}}\n",
                    many(&|i| format!("  \"k{i}\": \"v{i}\",\n  \"n{i}\": {i},\n"))
                ),
                true,
            ),
            (
                Format::Dotenv,
                format!("# top\n{}LAST=é\n", many(&|i| format!("K{i}=v{i}\n# c{i}\nN{i}={i}\n"))),
                true,
            ),
            (
                Format::Toml,
                format!(
                    "top = 1\n[a]\nx = \"1\"\n[b]\n{}[a.c]\nz = 3\n",
                    many(&|i| format!("k{i} = \"v{i}\"\nn{i} = {i}\n"))
                ),
                false,
            ),
        ]
    }

    /// Every format, both ciphers, any window size: the streamed output
    /// decrypts (MAC checked) to the source, and has the shape of the
    /// output the String path gives; the TOML sample takes the buffered
    /// path.
    #[test]
    fn streamed_output_matches_the_string_path() {
        let key = [9u8; 32];
        for (format, src, ordered) in samples() {
            let parsed = format.syntax().parse(&src).unwrap();
            let extra = meta_edits(format, &src, &key, CipherKind::XChaCha20Poly1305);
            assert_eq!(in_order(&parsed.tree, &src, &extra), ordered, "{format:?}");
            for cipher in [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm] {
                let extra = meta_edits(format, &src, &key, cipher);
                let whole = seal_with(format, &src, &key, cipher, &extra, usize::MAX, None);
                for window in [1, 2, 3, 7, 50, WINDOW] {
                    let out = seal_with(format, &src, &key, cipher, &extra, window, None);
                    assert_eq!(shape(&out), shape(&whole), "{format:?} {window}");
                    let file = super::super::open(format, &out).unwrap();
                    let plain = super::super::decrypt(&file, &key, false).unwrap();
                    if cipher == CipherKind::XChaCha20Poly1305 {
                        assert_eq!(*plain, src, "{format:?} {window}");
                    }
                    let whole_file = super::super::open(format, &whole).unwrap();
                    let whole_plain = super::super::decrypt(&whole_file, &key, false).unwrap();
                    assert_eq!(plain, whole_plain, "{format:?} {window}");
                }
            }
        }
    }

    /// With every ciphertext stashed, the streamed output is the String
    /// path's byte for byte, in every window size.
    #[test]
    fn stashed_ciphertexts_stream_unchanged() {
        let key = [7u8; 32];
        for (format, src, _) in samples() {
            let cipher = CipherKind::XChaCha20Poly1305;
            let extra = meta_edits(format, &src, &key, cipher);
            let enc = seal_with(format, &src, &key, cipher, &extra, usize::MAX, None);
            let file = super::super::open(format, &enc).unwrap();
            let stash = || super::super::decrypt_keeping(&file, &key, false).unwrap().1;
            let whole = seal_with(
                format,
                &src,
                &key,
                cipher,
                &extra,
                usize::MAX,
                Some(&mut stash()),
            );
            assert_eq!(whole, enc, "{format:?}");
            for window in [1, 4, 33] {
                let out = seal_with(
                    format,
                    &src,
                    &key,
                    cipher,
                    &extra,
                    window,
                    Some(&mut stash()),
                );
                assert_eq!(out, whole, "{format:?} {window}");
            }
        }
    }

    /// Edits that overlap a leaf are refused before anything is written.
    #[test]
    fn bad_spans_are_a_splice_error() {
        let src = "a: 1\nb: 2\n";
        let key = [1u8; 32];
        let extra = [Edit {
            span: 2..5,
            text: "x".into(),
        }];
        let parsed = Yaml.parse(src).unwrap();
        let decider = Decider::new(&Selector::default()).unwrap();
        let collect = Collect::new(
            ctx(&Yaml, src, &key, CipherKind::Aes256Gcm, &extra),
            &decider,
            None,
        );
        let mut out = Vec::new();
        let r = seal_windowed(collect, &parsed.tree, 1, &mut out);
        assert!(matches!(r, Err(EngineError::Splice(_))));
        assert!(out.is_empty());
    }

    /// A sink that takes `after` bytes, then fails.
    struct Failing {
        after: usize,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.after == 0 {
                return Err(std::io::Error::other("disk full"));
            }
            let n = buf.len().min(self.after);
            self.after -= n;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The public streaming API over more than one window: the output
    /// decrypts to the source; a sink failing at any point is a typed
    /// error that holds no plaintext.
    #[test]
    fn encrypt_plaintext_to_streams_and_reports_sink_errors() {
        use super::super::{encrypt_plaintext_to, plaintext, EncryptOptions, KeyMaterial};
        let key = [5u8; 32];
        let src: String = (0..WINDOW + 100)
            .map(|i| format!("k{i}: secret{i}\n"))
            .collect();
        let opts = EncryptOptions::default();
        let mut out = Vec::new();
        let doc = plaintext(Format::Yaml, &src).unwrap();
        encrypt_plaintext_to(doc, &key, &opts, KeyMaterial::default(), NOW, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let file = super::super::open(Format::Yaml, &out).unwrap();
        assert_eq!(*super::super::decrypt(&file, &key, false).unwrap(), src);
        for after in [0, 100, out.len() / 2, out.len() - 1] {
            let doc = plaintext(Format::Yaml, &src).unwrap();
            let mut sink = Failing { after };
            let r = encrypt_plaintext_to(doc, &key, &opts, KeyMaterial::default(), NOW, &mut sink);
            let Err(e @ EngineError::Write(_)) = r else {
                panic!("not a write error at {after}");
            };
            assert!(!e.to_string().contains("secret"), "{e}");
        }
    }
}
