//! SIGINT, SIGTERM and SIGHUP while plaintext is on disk (`edit`'s temp
//! file, `exec-file --no-fifo`'s file): caught, so that the file is removed
//! before sops-like exits instead of being left behind.
//!
//! SIGINT is taken by a thread of its own (blocked in every other thread,
//! fetched with `sigwait`), so that it can be left to a child that has the
//! terminal: while an editor runs, Ctrl-C reaches the editor and sops-like
//! passes over it, as sops does; the editor's exit status decides.

use nix::sys::signal::{SigSet, Signal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Whether a SIGINT now is the editor's, not ours.
static SIGINT_TO_CHILD: AtomicBool = AtomicBool::new(false);

/// A flag set when SIGINT, SIGTERM or SIGHUP arrives; from the first call
/// on, those signals no longer end the process (the caller checks the flag
/// while it waits, cleans up and exits).
pub fn interrupted() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let mut sigint = SigSet::empty();
        sigint.add(Signal::SIGINT);
        // Blocked here before the handler's and the waiter's threads start,
        // so that they inherit the mask; children get a clean mask from
        // `std::process::Command`.
        let blocked = sigint.thread_block().is_ok();
        let f = flag.clone();
        // If a handler cannot be installed, a signal kills us and the OS
        // removes nothing: temp dirs are in RAM-backed storage when possible.
        let _ = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst));
        if blocked {
            let f = flag.clone();
            let waiter = std::thread::Builder::new()
                .name("sigint".into())
                .spawn(move || {
                    while sigint.wait().is_ok() {
                        if !SIGINT_TO_CHILD.load(Ordering::SeqCst) {
                            f.store(true, Ordering::SeqCst);
                        }
                    }
                });
            if waiter.is_err() {
                let _ = sigint.thread_unblock();
            }
        }
        flag
    })
    .clone()
}

/// Run `f` (which waits for a child that has the terminal, the editor)
/// with SIGINT left to that child: a SIGINT meanwhile does not set the
/// [`interrupted`] flag (SIGTERM and SIGHUP still do).
pub fn sigint_to_child<T>(f: impl FnOnce() -> T) -> T {
    let _ = interrupted();
    SIGINT_TO_CHILD.store(true, Ordering::SeqCst);
    let out = f();
    SIGINT_TO_CHILD.store(false, Ordering::SeqCst);
    out
}
