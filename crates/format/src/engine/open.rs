//! Decrypting the leaves of an encrypted document: the walk collects the
//! work in document order, the opening runs on every core, then the MAC
//! (sops-compatible files), the stash and the output are made in order.

use super::par::{chunk_len, chunked, splice_into, Aads};
use super::{enc_text, has_aliases, EncryptedFile, EngineError, Stash};
use crate::cipher::{is_encrypted, CipherError, CipherKind, EncParts, ValueCipher};
use crate::mac::Mac;
use crate::metadata::Metadata;
use crate::splice::SpliceError;
use crate::syntax::{Format, Syntax};
use crate::tree::{Slot, Span, Value};
use crate::walk::{walk, Leaf, Place};
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
    /// Opened with another AAD than its path's (a comment placed elsewhere
    /// by its writer): not stashed, so that it is sealed anew at its path.
    moved: bool,
    /// A value (not a comment, not a comment item): part of the MAC.
    value: bool,
    /// A comment that opens at none of its paths, kept as it is (see
    /// [`Stash::kept_comments`]).
    kept: bool,
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

/// A document's plaintext and, when it was computed on the way, its MAC.
type Opening = (Zeroizing<String>, Option<String>);

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

/// Leaves per batch when a document is opened in batches: the per-leaf
/// work lists (jobs, AADs, opened chunks) never hold more than this many.
/// Small in unit tests, so that every engine test crosses batches.
const BATCH: usize = if cfg!(test) { 64 } else { 16 * 1024 };

/// The work the walk collects, in document order: the encrypted leaves,
/// their AADs, and the MAC steps between them.
struct Collector<'a> {
    src: &'a str,
    /// Record MAC steps (sops-compatible files, or the lexeme MAC).
    record: bool,
    mac_only: bool,
    aads: Aads,
    candidates: Vec<String>,
    jobs: Vec<Job<'a>>,
    steps: Vec<(usize, MacStep)>,
    /// The path of the last value seen: sops attaches a comment that ends a
    /// nested mapping to the deepest open mapping, which a layout-based
    /// parser may place higher up. Such comments are tried at every prefix.
    prev_path: Vec<&'a str>,
    /// Comments whose other AADs are not listed yet: they are also tried
    /// at every prefix of the next value's path (where earlier sops-like
    /// builds put a comment that ends a nested block, or a `key: # c`
    /// line comment).
    open_comments: Vec<usize>,
    /// The span starts of values that look encrypted but that the file's
    /// selector leaves in clear: kept as they are, as sops keeps them (see
    /// [`open_keeping_clear`]).
    clear: rustc_hash::FxHashSet<usize>,
}

impl<'a> Collector<'a> {
    fn new(src: &'a str, record: bool, mac_only: bool, capacity: usize) -> Collector<'a> {
        Collector {
            src,
            record,
            mac_only,
            aads: Aads::default(),
            candidates: Vec::new(),
            jobs: Vec::with_capacity(capacity),
            steps: Vec::new(),
            prev_path: Vec::new(),
            open_comments: Vec::new(),
            clear: rustc_hash::FxHashSet::default(),
        }
    }

    /// The `ENC[…]` text of the value `s`, unless it is kept in clear.
    fn enc_of(&self, s: &'a crate::tree::Scalar) -> Option<&'a str> {
        let clear = !self.clear.is_empty()
            && s.span
                .as_ref()
                .is_some_and(|sp| self.clear.contains(&sp.start));
        enc_text(self.src, s).filter(|_| !clear)
    }

    fn visit(&mut self, place: &Place<'a, '_>, leaf: Leaf<'a>) {
        if let (true, Leaf::Value(s)) = (self.record, &leaf) {
            match (&s.value, self.enc_of(s)) {
                (_, Some(_)) => {
                    if let (true, Some(sp)) = (place.in_alias, &s.span) {
                        self.steps.push((self.jobs.len(), MacStep::Alias(sp.start)));
                    }
                }
                (v, None) if !self.mac_only => {
                    // A value that only looks encrypted, kept in clear: its
                    // text (a lean parse holds it by its span only).
                    let kept = enc_text(self.src, s).map(str::to_string);
                    if let Some(t) = kept.or_else(|| v.sops_text()) {
                        self.steps.push((self.jobs.len(), MacStep::Text(t)));
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
            self.list_candidates(path);
            self.prev_path.clear();
            self.prev_path.extend_from_slice(path);
        }
        let (text, span, slot) = match leaf {
            Leaf::Value(s) => match (self.enc_of(s), &s.span) {
                (Some(t), Some(span)) => (t, span.clone(), Some(s.slot)),
                _ => return,
            },
            Leaf::Comment(c) => match &c.span {
                Some(span) if is_encrypted(&c.text) => (c.text.as_str(), span.clone(), None),
                _ => return,
            },
        };
        if slot.is_none() {
            self.open_comments.push(self.jobs.len());
        }
        self.jobs.push(Job {
            text,
            span,
            slot,
            aad: u32::try_from(self.aads.index(path)).unwrap_or(u32::MAX),
            candidates: 0..0,
        });
    }

    /// List the other AADs of the comments since the last value: every
    /// prefix of the last value's path, then of `next` (the next value's
    /// path; empty at the end), but not the comment's own.
    fn list_candidates(&mut self, next: &[&str]) {
        for i in std::mem::take(&mut self.open_comments) {
            let first = self.candidates.len();
            let Some(job) = self.jobs.get(i) else {
                continue;
            };
            let own = self.aads.get(job.aad as usize).to_string();
            let prev = (0..=self.prev_path.len())
                .rev()
                .map(|k| self.prev_path.get(..k).unwrap_or_default());
            let after = (0..=next.len())
                .rev()
                .map(|k| next.get(..k).unwrap_or_default());
            for candidate in prev.chain(after) {
                let aad = crate::cipher::aad(candidate);
                if aad != own
                    && !self
                        .candidates
                        .get(first..)
                        .unwrap_or_default()
                        .contains(&aad)
                {
                    self.candidates.push(aad);
                }
            }
            if let Some(job) = self.jobs.get_mut(i) {
                // Past u32 (never in practice) a comment is tried at its
                // own path only.
                job.candidates = u32::try_from(first).unwrap_or(u32::MAX)
                    ..u32::try_from(self.candidates.len()).unwrap_or(u32::MAX);
            }
        }
    }

    /// List the other AADs of the comments still open (before opening).
    fn finish(&mut self) {
        self.list_candidates(&[]);
    }

    /// Forget the collected work (the walk state stays).
    fn clear(&mut self) {
        self.aads.clear();
        self.candidates.clear();
        self.jobs.clear();
        self.steps.clear();
    }
}

/// Open every collected leaf, on every core; the first failure in
/// document order is the error.
fn open_collected(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    c: &Collector<'_>,
) -> Result<Vec<Chunk>, EngineError> {
    let (aads, candidates) = (&c.aads, &c.candidates);
    let opened = chunked(&c.jobs, |chunk| {
        open_chunk(file, key, chunk, aads, candidates)
    });
    let mut chunks: Vec<Chunk> = Vec::with_capacity(opened.len());
    for result in opened {
        chunks.push(result?);
    }
    Ok(chunks)
}

impl Stash {
    /// Count the comments of `chunks` kept as they are.
    fn note_kept(&mut self, chunks: &[Chunk]) {
        let kept = chunks
            .iter()
            .map(|(_, outs)| outs.iter().filter(|o| o.kept).count())
            .sum::<usize>();
        self.kept_comments += kept;
    }
}

/// Remember every opened leaf's ciphertext (see [`Stash`]).
fn stash_opened(stash: &mut Stash, c: &Collector<'_>, opened: &Opened<'_>) {
    for (entry, job) in opened.iter().zip(&c.jobs) {
        if entry.out.moved {
            continue;
        }
        let ty = match job.slot {
            None => "comment",
            Some(_) => EncParts::split(job.text).map_or("", |p| p.ty),
        };
        stash.put(c.aads.get(job.aad as usize), ty, entry.plain(), job.text);
    }
}

/// Feed the MAC of a sops-compatible (AES) file with one collection's
/// steps: the decrypted value texts, exactly as sops hashes them.
/// `by_span` maps a value's span start to its job (for aliases).
fn direct_mac(
    mac: &mut Mac,
    c: &Collector<'_>,
    opened: &Opened<'_>,
    has_alias: bool,
    by_span: &mut HashMap<usize, usize>,
) {
    replay(&c.steps, c.jobs.len(), |step| {
        match step {
            Step::Text(t) => mac.update(t.as_bytes()),
            Step::Job(i) => {
                if let (Some(entry), Some(job)) = (opened.get(i), c.jobs.get(i)) {
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
}

/// Feed the MAC of a sops-like file (no `mac_only_encrypted`) with one
/// collection's steps, without parsing the plaintext again: the value of
/// every decrypted lexeme taken on its own, which equals what a parse of
/// the plaintext gives when every lexeme is simple (one line, no
/// structure; see [`Syntax::simple_value`]) and no comment
/// text spans lines, since then the plaintext has the same structure as
/// the encrypted file. `None` when some lexeme is not simple: the caller
/// parses. `by_span` keeps the values aliases refer to.
fn lexeme_mac(
    syntax: &dyn Syntax,
    mac: &mut Mac,
    c: &Collector<'_>,
    opened: &Opened<'_>,
    has_alias: bool,
    by_span: &mut HashMap<usize, Value>,
) -> Option<()> {
    replay(&c.steps, c.jobs.len(), |step| {
        match step {
            Step::Text(t) => mac.update(t.as_bytes()),
            Step::Job(i) => {
                let (entry, job) = (opened.get(i)?, c.jobs.get(i)?);
                let repl = entry.repl();
                let Some(slot) = job.slot else {
                    return (!repl.contains(['\n', '\r'])).then_some(());
                };
                if !entry.out.value {
                    return None;
                }
                let value = syntax.simple_value(repl, slot)?;
                mac_value(mac, &value);
                if has_alias {
                    by_span.insert(job.span.start, value);
                }
            }
            Step::Alias(start) => {
                if let Some(value) = by_span.get(&start) {
                    mac_value(mac, value);
                }
            }
        }
        Some(())
    })
}

/// Feed the sops text of `value`, a decrypted value, to `mac` without
/// leaving a copy of it behind: a string as it is, the text of another
/// value (a number, a time: [`Value::sops_text`] makes one) wiped after.
fn mac_value(mac: &mut Mac, value: &Value) {
    match value {
        Value::Str(text) => mac.update(text.as_bytes()),
        other => {
            if let Some(text) = other.sops_text().map(Zeroizing::new) {
                mac.update(text.as_bytes());
            }
        }
    }
}

/// Decrypt every encrypted leaf of `file` and remove its metadata. Returns
/// the plaintext and, for sops-compatible (AES) files, the MAC computed
/// over the decrypted value texts exactly as sops does (a re-parse of the
/// plaintext could differ, e.g. a `\r` that sops keeps in .env values).
/// Fills `stash` when `keep`.
///
/// A document without aliases whose leaves come in source order (every
/// usual file) is opened in batches of [`BATCH`] leaves, its plaintext
/// written as it goes, so the work lists stay small; any other document
/// is collected whole first.
pub(super) fn open_document(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    keep: bool,
    stash: &mut Stash,
) -> Result<(Zeroizing<String>, Option<String>), EngineError> {
    let (leaves, plain_len, in_clear) = size_up(file);
    if in_clear > 0 {
        super::audit::check(file, false)?;
    }
    let has_alias = has_aliases(&file.parsed.tree);
    if !has_alias {
        if let Some(done) = open_in_batches(file, key, keep, stash, (leaves, plain_len))? {
            return Ok(done);
        }
        *stash = Stash::default();
    }
    open_whole(file, key, keep, stash, has_alias, Default::default())
}

/// [`open_document`] for a file with values that look encrypted (`ENC[…]`)
/// at paths its selector leaves in clear (`clear`: their span starts):
/// those are kept as they are and hashed as text, as sops reads them
/// (it decrypts only what the selector encrypts).
pub(super) fn open_keeping_clear(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    keep: bool,
    stash: &mut Stash,
    clear: rustc_hash::FxHashSet<usize>,
) -> Result<Opening, EngineError> {
    *stash = Stash::default();
    let has_alias = has_aliases(&file.parsed.tree);
    open_whole(file, key, keep, stash, has_alias, clear)
}

/// How the MAC is computed while opening.
#[derive(Clone, Copy)]
pub(super) struct MacMode {
    /// sops-compatible (AES) file: from the decrypted value texts.
    direct: bool,
    /// sops-like's own file in a format whose lexemes tell their values
    /// (see [`lexeme_mac`]).
    fast: bool,
    mac_only: bool,
}

impl MacMode {
    /// The mode for `file`. A YAML tag before an anchor (`!!str &a v`)
    /// sits outside the value's lexeme and changes its value: such a
    /// file's MAC is taken from a parse of the plaintext.
    pub(super) fn of(file: &EncryptedFile<'_>) -> MacMode {
        let mut mode = MacMode::of_metadata(file.format, &file.metadata);
        mode.fast &= file.parsed.tags_before_anchors.is_empty();
        mode
    }

    /// The mode for a file of `format` with `metadata`.
    pub(super) fn of_metadata(format: Format, metadata: &Metadata) -> MacMode {
        let direct = metadata.cipher() == Some(CipherKind::Aes256Gcm);
        let mac_only = metadata.mac_only_encrypted;
        MacMode {
            direct,
            fast: !direct
                && !mac_only
                && matches!(
                    format,
                    Format::Yaml | Format::Json | Format::Dotenv | Format::Toml
                ),
            mac_only,
        }
    }

    fn collector<'a>(self, src: &'a str, capacity: usize) -> Collector<'a> {
        Collector::new(src, self.direct || self.fast, self.mac_only, capacity)
    }
}

/// The MAC computed while opening, fed one collection at a time.
pub(super) struct MacFeed {
    direct: Option<Mac>,
    /// `None` once a lexeme is not simple (the caller then parses).
    lexemes: Option<Mac>,
    /// Aliases are replayed from the values their spans start at (whole
    /// documents only: batches are never used with aliases).
    has_alias: bool,
    by_job: HashMap<usize, usize>,
    by_value: HashMap<usize, Value>,
}

impl MacFeed {
    pub(super) fn new(mode: MacMode, has_alias: bool) -> MacFeed {
        MacFeed {
            direct: mode.direct.then(|| Mac::new(mode.mac_only)),
            lexemes: mode.fast.then(|| Mac::new(false)),
            has_alias,
            by_job: HashMap::new(),
            by_value: HashMap::new(),
        }
    }

    /// A feed for one part of a document opened apart from the rest (see
    /// [`MacFeed::absorb`]).
    pub(super) fn recording(mode: MacMode) -> MacFeed {
        MacFeed {
            direct: mode.direct.then(Mac::recording),
            lexemes: mode.fast.then(Mac::recording),
            has_alias: false,
            by_job: HashMap::new(),
            by_value: HashMap::new(),
        }
    }

    /// Add the input of the next part of the document, recorded by `part`.
    pub(super) fn absorb(&mut self, part: MacFeed) {
        if let (Some(mac), Some(kept)) = (self.direct.as_mut(), part.direct) {
            mac.absorb(kept);
        }
        match (self.lexemes.as_mut(), part.lexemes) {
            (Some(mac), Some(kept)) => mac.absorb(kept),
            _ => self.lexemes = None,
        }
    }

    /// Add lexeme MAC input recorded apart (see [`open_lean_dotenv`]).
    fn absorb_lexemes(&mut self, part: Mac) {
        if let Some(mac) = self.lexemes.as_mut() {
            mac.absorb(part);
        }
    }

    fn feed(&mut self, syntax: &dyn Syntax, c: &Collector<'_>, opened: &Opened<'_>) {
        if let Some(mac) = self.direct.as_mut() {
            direct_mac(mac, c, opened, self.has_alias, &mut self.by_job);
        }
        if let Some(mac) = self.lexemes.as_mut() {
            let fed = lexeme_mac(syntax, mac, c, opened, self.has_alias, &mut self.by_value);
            if fed.is_none() {
                self.lexemes = None;
            }
        }
    }

    pub(super) fn finish(self) -> Option<String> {
        self.direct.or(self.lexemes).map(Mac::finish)
    }
}

/// [`open_document`] in batches; `None` (and a partly filled `stash`) when
/// the leaves turn out not to be in source order.
fn open_in_batches(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    keep: bool,
    stash: &mut Stash,
    (leaves, plain_len): (usize, usize),
) -> Result<Option<Opening>, EngineError> {
    let mut plain = Zeroizing::new(String::with_capacity(plain_len));
    let mut macs = MacFeed::new(MacMode::of(file), false);
    let in_order = batches(file, key, keep, stash, leaves, &mut macs, &mut plain)?;
    Ok(in_order.then(|| (plain, macs.finish())))
}

/// Open `file` (a document without aliases) in batches of [`BATCH`]
/// leaves, feeding `macs` and appending its plaintext to `plain`; `false`
/// when the leaves turn out not to be in source order.
fn batches(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    keep: bool,
    stash: &mut Stash,
    leaves: usize,
    macs: &mut MacFeed,
    plain: &mut Zeroizing<String>,
) -> Result<bool, EngineError> {
    let syntax = file.format.syntax();
    let mut collector = MacMode::of(file).collector(file.src, leaves.min(BATCH));
    let mut out = Output::new(file, plain);
    let mut batch = |c: &Collector<'_>, stash: &mut Stash| -> Result<bool, EngineError> {
        let chunks = open_collected(file, key, c)?;
        stash.note_kept(&chunks);
        let opened = Opened {
            chunks: &chunks,
            per: chunk_len(c.jobs.len()),
        };
        if keep {
            stash_opened(stash, c, &opened);
        }
        macs.feed(syntax, c, &opened);
        let in_order = opened.iter().all(|e| out.put(&e.out.span, e.repl()));
        Ok(in_order)
    };
    let mut result = Ok(true);
    walk(&file.parsed.tree, |place, leaf| {
        if !matches!(result, Ok(true)) {
            return;
        }
        collector.visit(place, leaf);
        if collector.jobs.len() >= BATCH {
            collector.finish();
            result = batch(&collector, stash);
            collector.clear();
        }
    });
    collector.finish();
    Ok(result? && batch(&collector, stash)? && out.finish())
}

/// One window of a document decrypted a window at a time (see
/// [`super::stream`]): `file` is the window, with the whole document's
/// metadata. Returns its plaintext and how many comments it kept as they
/// are (see [`Stash::kept_comments`]), and feeds its MAC input to `macs`.
pub(super) fn open_window(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    macs: &mut MacFeed,
) -> Result<(Zeroizing<String>, usize), EngineError> {
    let (leaves, plain_len, in_clear) = size_up(file);
    if in_clear > 0 {
        super::audit::check(file, true)?;
    }
    if !file.parsed.tags_before_anchors.is_empty() {
        macs.lexemes = None; // see `MacMode::of`
    }
    let mut plain = Zeroizing::new(String::with_capacity(plain_len));
    let mut stash = Stash::default();
    if batches(file, key, false, &mut stash, leaves, macs, &mut plain)? {
        Ok((plain, stash.kept_comments()))
    } else {
        // Leaves out of source order (a TOML table reopened in the
        // window): the caller decrypts the document whole.
        Err(SpliceError::OutOfBounds(0, file.src.len()).into())
    }
}

/// A .env window of `KEY=ENC[…]` lines and comments (see
/// [`crate::syntax::dotenv::enc_lines`]) of a sops-like file whose MAC is
/// taken from the plaintext lexemes, opened without its tree: each value
/// decrypted with the AAD `KEY:`, each `ENC[…]` comment with `:` (a
/// top-level comment's), spliced in, the values fed to the MAC, exactly as
/// [`open_window`] does for such a window (tested against it); comments in
/// clear stay as they are. `None` for any other window, or when a value or
/// comment does not open there (a comment may have been sealed at another
/// path), has the other kind's type, or is not a simple lexeme: the caller
/// opens it with [`open_window`], which reports what is wrong, and `macs`
/// is untouched.
pub(super) fn open_lean_dotenv(
    src: &str,
    key: &[u8; 32],
    mode: MacMode,
    macs: &mut MacFeed,
) -> Option<Zeroizing<String>> {
    use crate::syntax::dotenv::PlainLine;
    if mode.direct || !mode.fast {
        return None;
    }
    // The encrypted texts' spans, each with its key (`None`: a comment).
    let mut sealed: Vec<(Span, Option<&str>)> = Vec::new();
    for line in crate::syntax::dotenv::enc_lines(src)? {
        match line {
            PlainLine::Pair(k, v) => sealed.push((v, Some(src.get(k)?))),
            PlainLine::Comment(c) => {
                if is_encrypted(src.get(c.clone())?) {
                    sealed.push((c, None));
                }
            }
        }
    }
    let syntax = Format::Dotenv.syntax();
    let cipher = ValueCipher::new(key);
    let mut mac = Mac::recording();
    // Sized once (an upper bound): a buffer that grew would leave copies
    // of plaintext behind, and every byte of it is wiped when dropped.
    let enc_len: usize = sealed.iter().map(|(v, _)| v.len()).sum();
    let plain_len: usize = sealed
        .iter()
        .filter_map(|(v, _)| src.get(v.clone()))
        .map(plain_estimate)
        .sum();
    let mut out = Zeroizing::new(String::with_capacity(
        src.len().saturating_sub(enc_len) + plain_len,
    ));
    // Opened a batch at a time (see `ValueCipher::open_batch_into`).
    let mut plains: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    plains.resize_with(OPEN_BATCH, || Zeroizing::new(Vec::new()));
    let mut aads = String::new();
    let mut pos = 0;
    for batch in sealed.chunks(OPEN_BATCH) {
        aads.clear();
        let mut ends = Vec::with_capacity(batch.len());
        for (_, name) in batch {
            // A comment's path is the top level's.
            crate::cipher::push_aad(&mut aads, name.as_slice());
            ends.push(aads.len());
        }
        let mut values = Vec::with_capacity(batch.len());
        let mut from = 0;
        for ((v, name), &end) in batch.iter().zip(&ends) {
            let parts = EncParts::split(src.get(v.clone())?).ok()?;
            // A comment's type is `comment`, and only a comment's.
            if (parts.ty == "comment") != name.is_none() {
                return None;
            }
            values.push((parts, aads.as_bytes().get(from..end)?));
            from = end;
        }
        cipher.open_batch_into(&values, &mut plains).ok()?;
        for ((v, name), plain) in batch.iter().zip(&plains) {
            let lexeme = std::str::from_utf8(plain).ok()?;
            if name.is_none() {
                // A comment: its text, not in the MAC.
            } else if lexeme
                .bytes()
                .any(|b| matches!(b, b'\\' | b'"' | b'\n' | b'\r'))
            {
                // A lexeme with no escape, quote or line break is its own
                // value (what `simple_value` gives, without copying the
                // plaintext twice).
                let value = syntax.simple_value(lexeme, Slot::Bare)?;
                mac_value(&mut mac, &value);
            } else {
                mac.update(lexeme.as_bytes());
            }
            push_secret(&mut out, src.get(pos..v.start)?);
            push_secret(&mut out, lexeme);
            pos = v.end;
        }
    }
    push_secret(&mut out, src.get(pos..)?);
    macs.absorb_lexemes(mac);
    Some(out)
}

/// Values opened together by [`open_lean_dotenv`].
const OPEN_BATCH: usize = 32;

/// The number of leaves of `file` (an upper bound of the encrypted ones),
/// about how long its plaintext is, and how many of its values are in
/// clear where a selector could encrypt them (see [`super::audit`]).
fn size_up(file: &EncryptedFile<'_>) -> (usize, usize, usize) {
    let src = file.src;
    let (mut leaves, mut shrink, mut in_clear) = (0, 0, 0);
    walk(&file.parsed.tree, |place, leaf| {
        if place.in_alias {
            return;
        }
        leaves += 1;
        let text = match leaf {
            Leaf::Value(s) => {
                let enc = enc_text(src, s);
                if enc.is_none() && super::audit::in_clear(src, place, s) {
                    in_clear += 1;
                }
                enc
            }
            Leaf::Comment(c) => Some(c.text.as_str()),
        };
        if let Some(t) = text {
            shrink += t.len().saturating_sub(plain_estimate(t));
        }
    });
    let meta: usize = file.parsed.metadata_spans.iter().map(|s| s.len()).sum();
    (leaves, src.len().saturating_sub(shrink + meta), in_clear)
}

/// The plaintext, written in source order: the text between the leaves
/// copied, each leaf replaced, the metadata left out.
struct Output<'s, 'o> {
    src: &'s str,
    out: &'o mut Zeroizing<String>,
    /// Where the next copy from `src` starts.
    pos: usize,
    /// The metadata spans still to leave out, in order.
    metadata: &'s [Span],
    /// The parse, for what a metadata span leaves behind.
    parsed: &'s crate::syntax::Parsed,
}

impl<'s, 'o> Output<'s, 'o> {
    fn new(file: &'s EncryptedFile<'_>, out: &'o mut Zeroizing<String>) -> Output<'s, 'o> {
        Output {
            src: file.src,
            out,
            pos: 0,
            metadata: &file.parsed.metadata_spans,
            parsed: &file.parsed,
        }
    }

    /// Copy up to `span`, write `text` for it; `false` if `span` does not
    /// come after what is written (or is out of bounds).
    fn put(&mut self, span: &Span, text: &str) -> bool {
        let key = |s: &Span| (s.start, s.end);
        while let Some((m, rest)) = self.metadata.split_first() {
            if key(m) >= key(span) {
                break;
            }
            self.metadata = rest;
            if !self.replace(m, self.parsed.metadata_text(m)) {
                return false;
            }
        }
        self.replace(span, text)
    }

    fn replace(&mut self, span: &Span, text: &str) -> bool {
        if span.start < self.pos || span.start > span.end || !self.src.is_char_boundary(span.end) {
            return false;
        }
        let Some(before) = self.src.get(self.pos..span.start) else {
            return false;
        };
        push_secret(self.out, before);
        push_secret(self.out, text);
        self.pos = span.end;
        true
    }

    /// Write the rest of the source (without the remaining metadata);
    /// `false` if a span was out of order.
    fn finish(mut self) -> bool {
        let end = self.src.len();
        for m in std::mem::take(&mut self.metadata) {
            if !self.replace(m, self.parsed.metadata_text(m)) {
                return false;
            }
        }
        self.replace(&(end..end), "")
    }
}

/// [`open_document`] with every leaf collected first (documents with
/// aliases, or whose leaves are not in source order).
fn open_whole(
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    keep: bool,
    stash: &mut Stash,
    has_alias: bool,
    clear: rustc_hash::FxHashSet<usize>,
) -> Result<Opening, EngineError> {
    let mode = MacMode::of(file);
    let mut collector = mode.collector(file.src, super::leaf_count(&file.parsed.tree));
    collector.clear = clear;
    walk(&file.parsed.tree, |place, leaf| {
        collector.visit(place, leaf)
    });
    collector.finish();
    let chunks = open_collected(file, key, &collector)?;
    stash.note_kept(&chunks);
    let opened = Opened {
        chunks: &chunks,
        per: chunk_len(collector.jobs.len()),
    };
    if keep {
        stash_opened(stash, &collector, &opened);
    }
    let mut macs = MacFeed::new(mode, has_alias);
    macs.feed(file.format.syntax(), &collector, &opened);
    let plaintext = write_plaintext(file, &opened)?;
    Ok((plaintext, macs.finish()))
}

/// The source with every opened leaf's replacement and without the
/// metadata: written as [`Output`] goes when the spans come in order, else
/// spliced after a stable sort of "leaves, then metadata".
fn write_plaintext(
    file: &EncryptedFile<'_>,
    opened: &Opened<'_>,
) -> Result<Zeroizing<String>, EngineError> {
    let mut plaintext = Zeroizing::new(String::with_capacity(file.src.len()));
    let mut out = Output::new(file, &mut plaintext);
    if opened.iter().all(|e| out.put(&e.out.span, e.repl())) && out.finish() {
        return Ok(plaintext);
    }
    let pieces = opened
        .iter()
        .map(|e| (e.out.span.clone(), e.repl()))
        .chain(
            file.parsed
                .metadata_spans
                .iter()
                .map(|s| (s.clone(), file.parsed.metadata_text(s))),
        )
        .collect();
    // A new buffer: the first one (wiped when dropped) was sized for the
    // source, which a replacement may outgrow (a re-spelled AES value).
    splice_sized(file.src, pieces)
}

/// [`splice_into`] into a buffer sized once for the longest the result can
/// be (the source and every piece): it pushes as it goes, and a buffer
/// that grew would leave copies of plaintext behind.
fn splice_sized(src: &str, pieces: Vec<(Span, &str)>) -> Result<Zeroizing<String>, EngineError> {
    let most = src.len() + pieces.iter().map(|(_, text)| text.len()).sum::<usize>();
    let mut plaintext = Zeroizing::new(String::with_capacity(most));
    splice_into(src, pieces, &mut plaintext)?;
    Ok(plaintext)
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
/// buffer: its plaintext (the base64 data: the text less the 103 bytes or
/// so of cipher name, nonce, tag and a short type), twice for AES values,
/// which also get a re-spelled lexeme. An estimate only: the buffer grows
/// if needed.
fn plain_estimate(enc: &str) -> usize {
    let plain = enc.len().saturating_sub(103) / 4 * 3 + 3;
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
    // Values are opened OPEN_BATCH at a time, each at its own path (see
    // `ValueCipher::open_batch_into`: one at a time, XChaCha20's keystream
    // starts and tags were 16% of a 100,000-leaf YAML decryption's samples
    // and 24% of JSON's). A run where any value does not open so (a comment
    // sealed at another path, a BOM left out of the AAD, a damaged value)
    // is opened one value at a time as before, which finds those and
    // reports the first error.
    let mut plains: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    plains.resize_with(OPEN_BATCH, || Zeroizing::new(Vec::new()));
    let mut values: Vec<(EncParts<'_>, &[u8])> = Vec::with_capacity(OPEN_BATCH);
    for run in jobs.chunks(OPEN_BATCH) {
        values.clear();
        for job in run {
            match EncParts::split(job.text) {
                Ok(parts) => values.push((parts, aads.get(job.aad as usize).as_bytes())),
                Err(_) => break,
            }
        }
        let batched =
            values.len() == run.len() && opener.open_batch_into(&values, &mut plains).is_ok();
        for (k, job) in run.iter().enumerate() {
            let path = aads.get(job.aad as usize);
            let is_comment = job.slot.is_none();
            let fail = |source| EngineError::Decrypt {
                path: path.to_string(),
                source,
            };
            let offset = |n: usize| {
                u32::try_from(n).map_err(|_| fail(CipherError::Malformed("too many values")))
            };
            let parts = match values.get(k) {
                Some((parts, _)) if batched => *parts,
                _ => EncParts::split(job.text).map_err(fail)?,
            };
            let bad_type = || EngineError::BadType {
                path: path.to_string(),
                ty: parts.ty.to_string(),
            };
            let at_path = if batched {
                true
            } else {
                let mut opened = opener.open_into(&parts, path.as_bytes(), &mut scratch);
                // A .env file's first key holds the file's BOM (as in sops);
                // earlier sops-like builds left it out of the AAD.
                let at_path = opened.is_ok();
                if let (false, Some(without)) = (at_path, path.strip_prefix('\u{feff}')) {
                    opened = opener.open_into(&parts, without.as_bytes(), &mut scratch);
                }
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
                if is_comment && parts.ty == "comment" && opened.is_err() {
                    // As sops does: a comment that opens nowhere (sops
                    // itself writes some at a path it then does not read
                    // them at) is kept as it is; it is not in the MAC.
                    let start = offset(buf.len())?;
                    push_secret(&mut buf, job.text);
                    let end = offset(buf.len())?;
                    outs.push(Out {
                        span: job.span.clone(),
                        plain_start: start,
                        plain_end: end,
                        repl_end: end,
                        repl_after_plain: false,
                        moved: true,
                        value: false,
                        kept: true,
                    });
                    continue;
                }
                opened.map_err(fail)?;
                at_path
            };
            let opened: &[u8] = match plains.get(k) {
                Some(plain) if batched => plain,
                _ => &scratch,
            };
            let moved = !at_path;
            let plain = std::str::from_utf8(opened).map_err(|_| EngineError::NotText {
                path: path.to_string(),
            })?;
            let start = buf.len();
            push_secret(&mut buf, plain);
            let plain_range = start..buf.len();
            let mut span = job.span.clone();
            let repl = if !is_comment && parts.ty == "comment" {
                let edit = syntax
                    .comment_item(file.src, &job.span, plain)
                    .ok_or_else(bad_type)?;
                span = edit.span.clone();
                push_secret(&mut buf, &edit.text);
                plain_range.end..buf.len()
            } else if is_comment
                && parts.ty == "comment"
                && file.format == Format::Yaml
                && plain.contains('\n')
            {
                // A comment of several lines (sops's reading of an INI
                // comment run): each line its own comment, as go-yaml
                // writes it, so that the text stays YAML.
                let lines = Zeroizing::new(yaml_comment_lines(file.src, job.span.start, plain));
                push_secret(&mut buf, &lines);
                plain_range.end..buf.len()
            } else if is_comment || parts.cipher == CipherKind::XChaCha20Poly1305 {
                if is_comment != (parts.ty == "comment") {
                    return Err(bad_type());
                }
                plain_range.clone()
            } else {
                let value =
                    Value::from_sops_in(file.format, parts.ty, plain).ok_or_else(bad_type)?;
                let lexeme =
                    Zeroizing::new(syntax.value_lexeme(job.slot.unwrap_or(Slot::Quoted), &value));
                push_secret(&mut buf, &lexeme);
                plain_range.end..buf.len()
            };
            outs.push(Out {
                span,
                plain_start: offset(plain_range.start)?,
                plain_end: offset(plain_range.end)?,
                repl_end: offset(repl.end)?,
                repl_after_plain: repl.start != plain_range.start,
                moved,
                value: !is_comment && parts.ty != "comment",
                kept: false,
            });
        }
    }
    zeroize::Zeroize::zeroize(&mut *scratch);
    Ok((buf, outs))
}

/// The decrypted text of a YAML comment whose plaintext `plain` holds line
/// breaks, for the `ENC[…]` text at `at` in `src` (after its `#`): every
/// further line at the indentation of the comment's line with a `# ` of its
/// own (none for a line that starts with `#`, a blank line left blank),
/// in the file's line break, as go-yaml's emitter writes a comment, and
/// as sops decrypts such a comment.
fn yaml_comment_lines(src: &str, at: usize, plain: &str) -> String {
    let before = src.get(..at).unwrap_or_default();
    let line = before.rfind('\n').map_or(before, |i| &before[i + 1..]);
    let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
    let crlf = src
        .get(at..)
        .and_then(|rest| rest.find('\n').map(|i| &rest[..i]))
        .is_some_and(|l| l.ends_with('\r'));
    let mut out = String::with_capacity(plain.len() + 16);
    for (i, l) in plain.split('\n').enumerate() {
        let l = l.strip_suffix('\r').unwrap_or(l);
        if i > 0 {
            out.push_str(if crlf { "\r\n" } else { "\n" });
            if l.is_empty() {
                continue;
            }
            out.push_str(indent);
            if !l.starts_with('#') {
                out.push_str("# ");
            }
        }
        out.push_str(l);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{compute_mac, encrypt, open, EncryptOptions, KeyMaterial};
    use crate::select::Decider;

    /// A multi-line comment: each further line a comment of its own at
    /// the comment's indentation (blank lines blank, `#` lines as they are).
    #[test]
    fn yaml_comment_lines_as_go_yaml_writes_them() {
        let src = "s:\n    #ENC[x]\n";
        let at = src.find("ENC").unwrap_or_default();
        assert_eq!(yaml_comment_lines(src, at, "c1\n; c2"), "c1\n    # ; c2");
        assert_eq!(yaml_comment_lines(src, at, "a\n\n#b"), "a\n\n    #b");
        let crlf = "s:\r\n  #ENC[x]\r\n";
        let at = crlf.find("ENC").unwrap_or_default();
        assert_eq!(yaml_comment_lines(crlf, at, "a\r\nb"), "a\r\n  # b");
    }

    const KEY: [u8; 32] = [5u8; 32];

    /// Encrypt `doc` (XChaCha unless `aes`) and open the result.
    fn sealed(format: Format, doc: &str, aes: bool) -> Option<String> {
        let opts = EncryptOptions {
            cipher: if aes {
                CipherKind::Aes256Gcm
            } else {
                CipherKind::XChaCha20Poly1305
            },
            ..EncryptOptions::default()
        };
        let meta = KeyMaterial::default();
        encrypt(format, doc, &KEY, &opts, meta, "2026-01-01T00:00:00Z").ok()
    }

    /// The MAC computed from the lexemes equals the MAC of a re-parse.
    #[test]
    fn lexeme_mac_equals_reparse_mac() {
        let docs = [
            (
                Format::Yaml,
                "a: 1\nb: x\nc: 'q'\nd: \"d\"\ne: [1, two, 'three']\n",
            ),
            (
                Format::Yaml,
                "a: &x 12\nb: *x\nc: {k: *x, l: -3}\n# note\nd: http://h:1/p\n",
            ),
            (
                Format::Yaml,
                "m: &m {a: 1, b: yes}\nn:\n  <<: *m\n  c: 2024-01-02\n",
            ),
            (Format::Yaml, "a: 1\n---\nb: 2.5\n...\n"),
            (Format::Yaml, "x: |\n  block\ny: 1\n"),
            (Format::Yaml, "x: \"esc\\n\"\ny: ~\nz: null\nw: ''\n"),
            (Format::Yaml, "- a\n- 1\n"),
            (
                Format::Json,
                "{\"a\": 1.50, \"b\": \"x\\u00e9\\n\", \"c\": [true, null, -0, 1e400], \"d\": {}}",
            ),
            (Format::Json, "[{\"k\": \"v\"}, 12345678901234567890]"),
            (
                Format::Dotenv,
                "A=1\n# c\nB=\"q\" # inline\nexport C=x\\ny\nD=\"multi\nline\"\n",
            ),
            (Format::Dotenv, "A='s'\r\nB= spaced \r\n"),
            (Format::Toml, "a = 1\nb = 'lit'\nc = \"\"\"\nmulti\\\n  line\"\"\"\n[t]\nd = 1979-05-27T07:32:00-08:00\ne = 07:32:00\nf = [1.5, true, \"\\u00e9\"]\n"),
            (Format::Toml, "[x]\na = 1\n[y]\nb = 2\n[x.z]\nc = 3\n"),
        ];
        let mut fast = 0;
        for (format, doc) in docs {
            let Some(enc) = sealed(format, doc, false) else {
                continue; // not a mapping: cannot hold metadata
            };
            let file = open(format, &enc).unwrap();
            let mut stash = Stash::default();
            let (plain, mac) = open_document(&file, &KEY, false, &mut stash).unwrap();
            assert_eq!(plain.as_str(), doc);
            let reparsed = format.syntax().parse(&plain).unwrap();
            let decider = Decider::new(&file.metadata.effective_selector()).unwrap();
            let expected = compute_mac(&reparsed.tree, &decider, false);
            if let Some(mac) = mac {
                assert_eq!(mac, expected, "{doc:?}");
                fast += 1;
            }
            assert!(crate::engine::decrypt(&file, &KEY, false).is_ok());
        }
        // Not from the lexemes: the block scalar, the escaped YAML string,
        // the multi-line .env value.
        assert_eq!(fast, 9);
    }

    /// A document of many batches, in every format that batches, both
    /// ciphers: batched and whole opening give the same plaintext (the
    /// source), MAC and stash, and the MAC verifies.
    #[test]
    fn batches_equal_the_whole() {
        let n = 2 * BATCH + 7;
        let mut yaml = String::from("# head\n");
        let mut json = String::from("{");
        let mut env = String::new();
        for i in 0..n {
            yaml.push_str(&format!("k{i}:\n    v: {i}\n    # c\n    s: 'x{i}'\n"));
            json.push_str(&format!(
                "{}\"k{i}\": [{i}, \"s\\n{i}\"]",
                if i > 0 { ", " } else { "" }
            ));
            env.push_str(&format!("K{i}=v{i}\n# c{i}\n"));
        }
        json.push('}');
        for (format, doc) in [
            (Format::Yaml, &yaml),
            (Format::Json, &json),
            (Format::Dotenv, &env),
        ] {
            for aes in [false, true] {
                let enc = sealed(format, doc, aes).unwrap();
                let file = open(format, &enc).unwrap();
                let (mut s1, mut s2) = (Stash::default(), Stash::default());
                let (leaves, plain_len, _) = size_up(&file);
                let (p1, m1) = open_in_batches(&file, &KEY, true, &mut s1, (leaves, plain_len))
                    .unwrap()
                    .unwrap();
                let (p2, m2) =
                    open_whole(&file, &KEY, true, &mut s2, false, Default::default()).unwrap();
                // (AES files get canonical spellings back: compare without printing.)
                assert!(p1.as_str() == p2.as_str(), "{format:?} {aes}");
                assert!(aes || p1.as_str() == doc.as_str(), "{format:?}");
                assert_eq!(m1, m2);
                assert!(m1.is_some(), "{format:?} {aes}");
                assert_eq!(s1.map.len(), s2.map.len());
                assert!(crate::engine::decrypt(&file, &KEY, false).is_ok());
            }
        }
    }

    /// A bad value in a later batch is an error naming it, not a partial
    /// plaintext.
    #[test]
    fn a_bad_value_in_a_later_batch_fails() {
        let n = BATCH + 10;
        let doc: String = (0..n).map(|i| format!("K{i}=v{i}\n")).collect();
        let enc = sealed(Format::Dotenv, &doc, false).unwrap();
        let last = format!("K{}=", n - 1);
        let at = enc.find(&last).unwrap() + last.len() + "ENC[XCHACHA20_POLY1305,data:".len();
        let mut bad = enc.clone();
        let flipped = if &enc[at..at + 1] == "A" { "B" } else { "A" };
        bad.replace_range(at..at + 1, flipped);
        let file = open(Format::Dotenv, &bad).unwrap();
        match crate::engine::decrypt(&file, &KEY, false) {
            Err(EngineError::Decrypt { path, .. }) => assert_eq!(path, format!("K{}:", n - 1)),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("tampered value accepted"),
        }
    }

    /// The spliced plaintext never outgrows the buffer it is written into
    /// (its capacity stays the bound it was sized with), even when the
    /// pieces are longer than what they replace.
    #[test]
    fn spliced_plaintext_is_sized_before_it_is_written() {
        let src = "a: x\nb: y\n";
        let long = "\"\\u0001\\u0002\\u0003\\u0004\\u0005\"";
        let pieces = vec![(8..9, long), (3..4, long)];
        let most = src.len() + 2 * long.len();
        let plain = splice_sized(src, pieces).unwrap();
        assert_eq!(plain.capacity(), most);
        assert!(plain.len() > src.len());
        assert!(plain.starts_with("a: \""));
    }

    /// Leaves out of source order are refused by the writer (the caller
    /// then opens the document whole).
    #[test]
    fn output_needs_source_order() {
        let src = "a: 1\nb: 2\n";
        let enc = sealed(Format::Yaml, src, false).unwrap();
        let file = open(Format::Yaml, &enc).unwrap();
        let mut plain = Zeroizing::new(String::new());
        let mut out = Output::new(&file, &mut plain);
        assert!(out.put(&(6..7), "x"));
        assert!(!out.put(&(3..4), "y"));
    }
}
