//! Helpers for the per-leaf work: run it on every core in contiguous
//! chunks, and splice borrowed replacement texts into the source.

use crate::splice::SpliceError;
use crate::tree::Span;
use std::collections::BTreeMap;
use std::sync::{mpsc, Arc, Mutex};

/// Below this many items one thread does all the work (a thread costs more
/// than it saves on small files).
const MIN_PARALLEL: usize = 2048;

/// At most this many threads.
const MAX_THREADS: usize = 8;

/// How many items each chunk gets when `len` items are shared out over
/// the cores (all of them in one chunk for small inputs).
pub(super) fn chunk_len(len: usize) -> usize {
    let threads = if len < MIN_PARALLEL { 1 } else { workers() };
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
    let spread = crate::cores::Spread::here();
    std::thread::scope(|scope| {
        let handles: Vec<_> = tasks
            .enumerate()
            .map(|(n, t)| spread.spawn(scope, n + 1, t))
            .collect();
        spread.started();
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

/// The worker threads for [`ordered`]: one per core, at most
/// [`MAX_THREADS`]. Asked of the system once (on Linux that reads the
/// cgroup's CPU quota: half a dozen system calls).
pub(super) fn workers() -> usize {
    static WORKERS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *WORKERS.get_or_init(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, MAX_THREADS))
    })
}

/// A pipeline: items from `source` (read on this thread) go to `workers`
/// threads running `work` (this thread and `workers - 1` more), and the
/// results come to `sink` (on this thread) in source order. This thread
/// works on a queued item whenever no result is ready: with a thread per
/// core and this one only waiting, the reading and the sink were left to
/// wait for a core (a 100,000-value .env decryption: each worker idle a
/// fifth of the time). At most `ahead` items are in flight, so memory
/// stays bounded whatever the source's length. The first error of
/// `source` or `sink` stops it; `lost` is the error if the workers stopped
/// early (a worker's panic is then propagated).
pub(super) fn ordered<I, R, E>(
    workers: usize,
    ahead: usize,
    mut source: impl FnMut() -> Result<Option<I>, E>,
    work: impl Fn(I) -> R + Sync,
    mut sink: impl FnMut(R) -> Result<(), E>,
    lost: impl Fn() -> E,
) -> Result<(), E>
where
    I: Send,
    R: Send,
{
    let ahead = ahead.max(1);
    let (work_tx, work_rx) = mpsc::sync_channel::<(usize, I)>(ahead);
    let (done_tx, done_rx) = mpsc::channel::<(usize, R)>();
    let work_rx = Arc::new(Mutex::new(work_rx));
    let work = &work;
    let spread = if workers > 1 {
        crate::cores::Spread::here()
    } else {
        crate::cores::Spread::none()
    };
    std::thread::scope(|scope| {
        for n in 1..workers.max(1) {
            let (work_rx, done_tx) = (Arc::clone(&work_rx), done_tx.clone());
            spread.spawn(scope, n, move || loop {
                let next = work_rx.lock().ok().and_then(|rx| rx.recv().ok());
                let Some((index, item)) = next else {
                    return;
                };
                if done_tx.send((index, work(item))).is_err() {
                    return;
                }
            });
        }
        spread.started();
        drop(done_tx);
        let mut waiting = BTreeMap::new();
        let (mut sent, mut next, mut exhausted) = (0, 0, false);
        let result = (|| loop {
            while !exhausted && sent < next + ahead {
                match source()? {
                    Some(item) => {
                        work_tx.send((sent, item)).map_err(|_| lost())?;
                        sent += 1;
                    }
                    None => exhausted = true,
                }
            }
            if exhausted && next == sent {
                return Ok(());
            }
            // A result, or else a queued item done here, or else wait for
            // a result (the other workers have every item in flight).
            let (index, result) = match done_rx.try_recv() {
                Ok(done) => done,
                Err(_) => {
                    let queued = work_rx.try_lock().ok().and_then(|rx| rx.try_recv().ok());
                    match queued {
                        Some((index, item)) => (index, work(item)),
                        None => done_rx.recv().map_err(|_| lost())?,
                    }
                }
            };
            waiting.insert(index, result);
            while let Some(result) = waiting.remove(&next) {
                sink(result)?;
                next += 1;
            }
        })();
        // The workers stop once the queue is empty and closed.
        drop(work_tx);
        result
    })
}

/// Byte buffers handed back for reuse by the windows of a pipeline
/// ([`ordered`]): a window's buffer, once written out, holds the next
/// one's. Fresh buffers cost a page fault per 4 KiB touched, and the
/// allocator returned freed windows to the system between windows: reusing
/// them took a 100,000-value .env encryption from 2,050 page faults to
/// 1,690 (1 ms less) and its decryption from 1,800 to 1,690 (`perf stat
/// -e page-faults`). Only the text of encrypted files goes through it (no
/// plaintext, which is wiped where it is held).
#[derive(Default)]
pub(super) struct Pool(Mutex<Vec<Vec<u8>>>);

impl Pool {
    /// A buffer, empty, with whatever room it had.
    pub(super) fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .ok()
            .and_then(|mut free| free.pop())
            .unwrap_or_default()
    }

    /// Hand `buf` back (emptied). At most as many are kept as can be in
    /// flight at once.
    pub(super) fn give(&self, mut buf: Vec<u8>) {
        buf.clear();
        if let Ok(mut free) = self.0.lock() {
            if free.len() < 4 * MAX_THREADS {
                free.push(buf);
            }
        }
    }
}

/// About how many bytes of output [`Gather`] holds before it writes them.
const GATHER: usize = 1 << 19;

/// Windows of output written half a megabyte at a time, in one vectored
/// write each, instead of one write per window (150 KB for a .env window):
/// the kernel then fills its page cache in larger folios. Writing the 14.7
/// MB encryption of the 100,000-key .env file to a file took 12.0 ms of
/// CPU in writes of 150 KB and 7.7 ms in writes of 1 MB (`perf stat` of
/// `dd`); 512 KB writes took as little (8–9.6 ms either way in another
/// series), for 0.7 MB less memory held.
/// The buffers go back to the [`Pool`] once written.
#[derive(Default)]
pub(super) struct Gather {
    held: Vec<Vec<u8>>,
    len: usize,
}

impl Gather {
    /// Hold `buf`, and write what is held once it is about [`GATHER`] bytes.
    pub(super) fn push(
        &mut self,
        buf: Vec<u8>,
        sink: &mut dyn std::io::Write,
        pool: &Pool,
    ) -> std::io::Result<()> {
        self.len += buf.len();
        self.held.push(buf);
        if self.len >= GATHER {
            self.flush(sink, pool)?;
        }
        Ok(())
    }

    /// Write what is held, in order.
    pub(super) fn flush(
        &mut self,
        sink: &mut dyn std::io::Write,
        pool: &Pool,
    ) -> std::io::Result<()> {
        write_gathered(sink, self.held.iter().map(Vec::as_slice))?;
        for buf in self.held.drain(..) {
            pool.give(buf);
        }
        self.len = 0;
        Ok(())
    }
}

/// Write `pieces` to `sink` in order, about [`GATHER`] bytes at a time in
/// one vectored write (see [`Gather`]).
pub(super) fn write_gathered<'p>(
    sink: &mut dyn std::io::Write,
    pieces: impl IntoIterator<Item = &'p [u8]>,
) -> std::io::Result<()> {
    let mut slices = Vec::new();
    let mut len = 0;
    for piece in pieces {
        len += piece.len();
        slices.push(std::io::IoSlice::new(piece));
        if len >= GATHER {
            write_all_vectored(sink, &mut slices)?;
            slices.clear();
            len = 0;
        }
    }
    write_all_vectored(sink, &mut slices)
}

/// `Write::write_all_vectored`, which is not stable yet.
fn write_all_vectored(
    sink: &mut dyn std::io::Write,
    slices: &mut [std::io::IoSlice<'_>],
) -> std::io::Result<()> {
    use std::io::{ErrorKind, IoSlice};
    let mut rest = slices;
    while rest.iter().any(|s| !s.is_empty()) {
        match sink.write_vectored(rest) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
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
/// otherwise). `out` grows by plain pushes: a caller writing plaintext
/// sizes it for the whole result first, or a reallocation would leave a
/// copy of what was written behind.
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
        crate::cipher::push_aad(&mut self.text, path);
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

    /// A sink that takes at most a few bytes of a vectored write, and
    /// fails with `Interrupted` every other call.
    struct Stingy {
        out: Vec<u8>,
        calls: usize,
        vectored: usize,
    }

    impl std::io::Write for Stingy {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.write_vectored(&[std::io::IoSlice::new(buf)])
        }

        fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls % 2 == 0 {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            self.vectored += usize::from(bufs.len() > 1);
            let all: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            let n = all.len().min(7);
            self.out.extend_from_slice(&all[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn gathered_windows_are_written_whole_and_in_order() {
        let pool = Pool::default();
        let mut gather = Gather::default();
        let mut sink = Stingy {
            out: Vec::new(),
            calls: 0,
            vectored: 0,
        };
        let mut expected = Vec::new();
        for i in 0..50u8 {
            let window: Vec<u8> = (0..(i as usize * 3))
                .map(|j| i.wrapping_add(j as u8))
                .collect();
            expected.extend_from_slice(&window);
            gather.push(window, &mut sink, &pool).unwrap();
        }
        // Nothing is written before `GATHER` bytes are held, or the end.
        assert!(sink.out.is_empty());
        gather.flush(&mut sink, &pool).unwrap();
        assert_eq!(sink.out, expected);
        assert!(sink.vectored > 0);
        // The buffers went back to the pool, emptied.
        assert!(pool.take().is_empty() && pool.0.lock().unwrap().len() > 10);
        // `GATHER` bytes are written at once.
        let mut sink = Vec::new();
        gather.push(vec![1; GATHER], &mut sink, &pool).unwrap();
        assert_eq!(sink.len(), GATHER);
    }

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
    fn ordered_keeps_order_and_bounds_what_is_in_flight() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let in_flight = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let mut items = 0..1000usize;
        let mut out = Vec::new();
        let result: Result<(), String> = ordered(
            3,
            4,
            || {
                let n = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(n, Ordering::SeqCst);
                Ok(items.next())
            },
            |i| {
                // Later items finish first now and then.
                if i % 7 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                i * 2
            },
            |r| {
                in_flight.fetch_sub(1, Ordering::SeqCst);
                out.push(r);
                Ok(())
            },
            || "lost".to_string(),
        );
        result.unwrap();
        assert_eq!(out, (0..1000).map(|i| i * 2).collect::<Vec<_>>());
        // The source is called once more than there are items (the `None`).
        assert!(
            most.load(Ordering::SeqCst) <= 5,
            "{}",
            most.load(Ordering::SeqCst)
        );
    }

    /// One worker is this thread alone (no thread is started); with more,
    /// this thread works too. Every count gives the items in order, with
    /// this thread doing some of them.
    #[test]
    fn ordered_works_on_this_thread_too() {
        let here = std::thread::current().id();
        for workers in 1..=3 {
            let mut items = 0..500usize;
            let mut out = Vec::new();
            let mut mine = 0;
            let result: Result<(), String> = ordered(
                workers,
                4,
                || Ok(items.next()),
                |i| (i, std::thread::current().id() == here),
                |(i, on_this)| {
                    out.push(i);
                    mine += usize::from(on_this);
                    Ok(())
                },
                || "lost".to_string(),
            );
            result.unwrap();
            assert_eq!(out, (0..500).collect::<Vec<_>>(), "{workers} workers");
            if workers == 1 {
                assert_eq!(mine, 500);
            }
        }
    }

    #[test]
    fn ordered_stops_at_the_first_error() {
        let mut items = 0..100usize;
        let mut seen = Vec::new();
        let result = ordered(
            2,
            3,
            || Ok(items.next()),
            |i| if i == 10 { Err(i) } else { Ok(i) },
            |r| r.map(|i| seen.push(i)).map_err(|i| format!("item {i}")),
            || "lost".to_string(),
        );
        assert_eq!(result, Err("item 10".to_string()));
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        let mut failing = 0..100usize;
        let result: Result<(), String> = ordered(
            2,
            3,
            || {
                failing
                    .next()
                    .filter(|&i| i < 5)
                    .map(Some)
                    .ok_or("source".to_string())
            },
            |i| i,
            |_| Ok(()),
            || "lost".to_string(),
        );
        assert_eq!(result, Err("source".to_string()));
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
