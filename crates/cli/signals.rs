//! Signals while a file of ours is on disk: plaintext (`edit`'s temp
//! file, `exec-file`'s file or FIFO, a `decrypt -i`/`--output` being
//! written) or a half-written temp file beside an `-i` target.
//!
//! [`install`] (called before the first such file is made) catches every
//! signal whose default action ends the process and that a user, a service
//! manager or `timeout -s` sends: SIGINT, SIGTERM, SIGHUP, SIGQUIT,
//! SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGPWR, SIGIO.
//! Each files its path in a registry ([`register`], [`register_new`]) and
//! takes it back once it is gone or renamed into place. On a signal, a
//! thread of ours removes every registered path (a plaintext file is
//! overwritten first) and exits with code 85, holding the registry's lock
//! so that nothing is renamed into place after that. Inside [`deferred`]
//! (the editor or `exec-file`'s command runs) the caller handles the
//! signal instead: it sees the [`interrupted`] flag, stops and cleans up.
//!
//! SIGXFSZ (a write past `ulimit -f`) is caught and dropped, so that the
//! write fails with EFBIG and the error is reported (exit 3) after the temp
//! file is removed, instead of the process dying with it on disk.
//!
//! The handlers are the standard ones of the `tokio` crate's signal module
//! (process-wide, whatever thread a signal is delivered to); children get
//! the default dispositions back when they `exec`. SIGINT can be left to a
//! child that has the terminal ([`sigint_to_child`]): while an editor runs,
//! Ctrl-C reaches the editor and sops-like passes over it, as sops does;
//! the editor's exit status decides.

use nix::fcntl::OFlag;
use nix::sys::signal::Signal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The signals caught while files of ours are on disk; all end the process
/// by default. (SIGKILL and SIGSTOP cannot be caught; SIGSEGV, SIGBUS and
/// the like are faults, not requests.)
const CAUGHT: [Signal; 12] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGALRM,
    Signal::SIGVTALRM,
    Signal::SIGPROF,
    Signal::SIGXCPU,
    Signal::SIGPWR,
    Signal::SIGIO,
];

/// Whether a SIGINT now is the editor's, not ours.
static SIGINT_TO_CHILD: AtomicBool = AtomicBool::new(false);

/// How many callers currently handle the [`interrupted`] flag themselves.
static DEFERRED: AtomicUsize = AtomicUsize::new(0);

/// The paths to remove on a signal, in the order they were registered.
static REGISTRY: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// What a registered path is, and how it is removed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// A file: unlinked.
    File,
    /// A file holding plaintext: overwritten (see [`wipe_and_remove`]),
    /// then unlinked.
    Secret,
    /// A private directory: removed with what is in it.
    Dir,
}

struct Entry {
    id: u64,
    path: PathBuf,
    kind: Kind,
}

fn registry() -> MutexGuard<'static, Vec<Entry>> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// A registered path: removed by the signal thread if a signal arrives
/// while this lives. Dropping it only takes the path back (the owner
/// removes the file itself, before).
#[derive(Debug)]
pub struct Registered {
    id: u64,
}

impl Registered {
    /// Run `f` (a rename of the file into place) with the registry locked,
    /// and take the path back if it succeeds: a signal meanwhile waits for
    /// it, and then finds the path gone; it never removes a file that is
    /// already the target.
    pub fn release_with<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let mut reg = registry();
        let out = f();
        if out.is_ok() {
            reg.retain(|e| e.id != self.id);
        }
        out
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        registry().retain(|e| e.id != self.id);
    }
}

fn add(reg: &mut Vec<Entry>, path: PathBuf, kind: Kind) -> Registered {
    let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
    reg.push(Entry { id, path, kind });
    Registered { id }
}

/// Register `path` (before it is created: a signal between its creation
/// and the registration would leave it behind). Installs the handling.
pub fn register(path: &Path, kind: Kind) -> Registered {
    install();
    add(&mut registry(), path.to_path_buf(), kind)
}

/// Create something whose path is known only once it exists (a temp file
/// with a random name): `make` runs with the registry locked and returns
/// it and its path, registered before a signal can be handled.
pub fn register_new<T, E>(
    kind: Kind,
    make: impl FnOnce() -> Result<(T, PathBuf), E>,
) -> Result<(T, Registered), E> {
    install();
    let mut reg = registry();
    let (made, path) = make()?;
    let registered = add(&mut reg, path, kind);
    Ok((made, registered))
}

/// Remove every registered path, the last registered first (a file before
/// its directory).
fn remove_all(reg: &[Entry]) {
    for e in reg.iter().rev() {
        match e.kind {
            Kind::File => {
                let _ = std::fs::remove_file(&e.path);
            }
            Kind::Secret => wipe_and_remove(&e.path),
            Kind::Dir => {
                let _ = std::fs::remove_dir_all(&e.path);
            }
        }
    }
}

/// Overwrite the regular file at `path` with zeros (cheap; matters on a
/// disk-backed temp dir), then unlink it. Whatever else is there (a
/// symlink, a FIFO, a file with other names: something the editor or
/// command put in its place) is only unlinked: a symlink is never
/// followed, and no other file of the user's is ever written to.
pub fn wipe_and_remove(path: &Path) {
    wipe(path);
    let _ = std::fs::remove_file(path);
}

fn wipe(path: &Path) {
    use std::io::Write;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let Ok(before) = std::fs::symlink_metadata(path) else {
        return;
    };
    if !before.file_type().is_file() || before.nlink() != 1 {
        return;
    }
    // O_NOFOLLOW: a symlink swapped in since is refused; O_NONBLOCK: a FIFO
    // swapped in does not block the open.
    let flags = (OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).bits();
    let Ok(mut f) = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(flags)
        .open(path)
    else {
        return;
    };
    let Ok(meta) = f.metadata() else {
        return;
    };
    if !meta.file_type().is_file()
        || meta.nlink() != 1
        || (meta.dev(), meta.ino()) != (before.dev(), before.ino())
    {
        return;
    }
    let zeros = [0u8; 64 * 1024];
    let mut left = meta.len();
    while left > 0 {
        let n = usize::try_from(left.min(zeros.len() as u64)).unwrap_or(zeros.len());
        if f.write_all(&zeros[..n]).is_err() {
            break;
        }
        left -= n as u64;
    }
    let _ = f.sync_all();
}

/// Read the file at `path` without following a symlink (refused, as is
/// anything but a regular file).
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let flags = (OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).bits();
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(nix::errno::Errno::ELOOP as i32) {
                std::io::Error::other("it is a symbolic link (not followed)")
            } else {
                e
            }
        })?;
    let meta = f.metadata()?;
    if !meta.file_type().is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    // Sized once: the plaintext is not copied by a growing buffer.
    let len = meta.len();
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    f.take(len).read_to_end(&mut buf)?;
    Ok(buf)
}

/// A flag set when one of the caught signals arrives (see [`deferred`]).
pub fn interrupted() -> Arc<AtomicBool> {
    install();
    flag()
}

fn flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
        .clone()
}

/// Run `f`, which watches the [`interrupted`] flag (while it waits for a
/// child) and cleans up itself: a signal meanwhile only sets the flag.
pub fn deferred<T>(f: impl FnOnce() -> T) -> T {
    install();
    DEFERRED.fetch_add(1, Ordering::SeqCst);
    let out = f();
    DEFERRED.fetch_sub(1, Ordering::SeqCst);
    out
}

/// [`deferred`], running `f` (which waits for a child that has the
/// terminal, the editor) with SIGINT left to that child: a SIGINT
/// meanwhile does not set the [`interrupted`] flag (the others still do).
pub fn sigint_to_child<T>(f: impl FnOnce() -> T) -> T {
    deferred(|| {
        SIGINT_TO_CHILD.store(true, Ordering::SeqCst);
        let out = f();
        SIGINT_TO_CHILD.store(false, Ordering::SeqCst);
        out
    })
}

/// Install the handling (once; later calls return at once). From here
/// on the caught signals no longer end the process by themselves: see the
/// module's documentation. May be called at the start of `main`, and is
/// called before every file of ours is created.
pub fn install() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
        let started = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || listen(ready_tx));
        // Wait until the handlers are in place: what follows counts on them.
        // If they cannot be (no thread, no runtime), the signals keep their
        // default action; temp dirs are in RAM-backed storage when possible.
        if started.is_ok() {
            let _ = ready_rx.recv();
        }
    });
}

fn listen(ready: std::sync::mpsc::Sender<()>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    else {
        return;
    };
    rt.block_on(async move {
        let mut streams = Vec::new();
        for s in CAUGHT.into_iter().chain([Signal::SIGXFSZ]) {
            if let Ok(stream) = signal(SignalKind::from_raw(s as i32)) {
                streams.push((s, stream));
            }
        }
        let _ = ready.send(());
        drop(ready);
        loop {
            let got = std::future::poll_fn(|cx| {
                for (s, stream) in streams.iter_mut() {
                    if let std::task::Poll::Ready(Some(())) = stream.poll_recv(cx) {
                        return std::task::Poll::Ready(Some(*s));
                    }
                }
                if streams.is_empty() {
                    return std::task::Poll::Ready(None);
                }
                std::task::Poll::Pending
            })
            .await;
            match got {
                Some(s) => on_signal(s),
                None => return,
            }
        }
    });
}

fn on_signal(s: Signal) {
    if s == Signal::SIGXFSZ {
        // The write that went past the limit fails with EFBIG.
        return;
    }
    if s == Signal::SIGINT && SIGINT_TO_CHILD.load(Ordering::SeqCst) {
        return;
    }
    // The flag first: a caller leaving `deferred` now either sees it or
    // has left (and then this thread cleans up).
    flag().store(true, Ordering::SeqCst);
    if DEFERRED.load(Ordering::SeqCst) > 0 {
        return;
    }
    // Held until the process is gone: nothing is renamed into place (or
    // registered) after the files are removed.
    let reg = registry();
    remove_all(&reg);
    let what = if reg.is_empty() {
        ""
    } else {
        "; temporary files removed"
    };
    stderr!("error: interrupted ({}){what}", s.as_str());
    // (std's `exit` is safe against the main thread exiting at the same
    // time.)
    std::process::exit(crate::exit::code::KEYBOARD_INTERRUPT);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A registered path is taken back when its guard drops, or by
    /// `release_with` only once the rename succeeded; what is left is
    /// what a signal would remove.
    #[test]
    fn registry_tracks_what_a_signal_removes() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        let c = dir.path().join("c");
        let listed = |p: &Path| registry().iter().any(|e| e.path == p);
        let ra = register(&a, Kind::File);
        let (_, rb) = register_new(Kind::Secret, || {
            std::fs::write(&b, "secret").map(|()| ((), b.clone()))
        })
        .unwrap();
        assert!(listed(&a) && listed(&b));
        // A failed rename keeps the path registered.
        let failed: Result<(), ()> = ra.release_with(|| Err(()));
        assert!(failed.is_err() && listed(&a));
        ra.release_with(|| Ok::<(), ()>(())).unwrap();
        assert!(!listed(&a));
        drop(rb);
        assert!(!listed(&b));
        // A failed creation registers nothing.
        let none: Result<((), Registered), std::io::Error> =
            register_new(Kind::File, || Err(std::io::Error::other("no")));
        assert!(none.is_err() && !listed(&c));
    }

    /// What the signal thread does: files (a plaintext one overwritten
    /// first), then directories; a symlink's target is never written.
    #[test]
    fn remove_all_removes_and_never_follows_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("precious");
        std::fs::write(&outside, "keep me").unwrap();
        let private = dir.path().join("private");
        std::fs::create_dir(&private).unwrap();
        let secret = private.join("s");
        std::fs::write(&secret, "plain").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let tmp = dir.path().join(".tmp");
        std::fs::write(&tmp, "x").unwrap();
        let entries = vec![
            Entry {
                id: u64::MAX - 3,
                path: private.clone(),
                kind: Kind::Dir,
            },
            Entry {
                id: u64::MAX - 2,
                path: secret.clone(),
                kind: Kind::Secret,
            },
            Entry {
                id: u64::MAX - 1,
                path: link.clone(),
                kind: Kind::Secret,
            },
            Entry {
                id: u64::MAX,
                path: tmp.clone(),
                kind: Kind::File,
            },
        ];
        remove_all(&entries);
        assert!(!private.exists() && !tmp.exists());
        assert!(std::fs::symlink_metadata(&link).is_err());
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep me");
    }

    /// The wipe overwrites a regular file in place (the same inode) but
    /// not one with another name (a hard link the editor made).
    #[test]
    fn wipe_writes_zeros_only_to_a_file_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("own");
        std::fs::write(&own, "plain text").unwrap();
        wipe(&own);
        assert_eq!(std::fs::read(&own).unwrap(), vec![0u8; 10]);
        let other = dir.path().join("other");
        std::fs::write(&other, "user data").unwrap();
        let linked = dir.path().join("linked");
        std::fs::hard_link(&other, &linked).unwrap();
        wipe_and_remove(&linked);
        assert!(!linked.exists());
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "user data");
    }

    #[test]
    fn read_regular_refuses_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, "abc").unwrap();
        assert_eq!(read_regular(&f).unwrap(), b"abc");
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert!(read_regular(&link).is_err());
        assert!(read_regular(dir.path()).is_err());
    }
}
