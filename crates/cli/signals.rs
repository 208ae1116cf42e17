//! SIGINT, SIGTERM and SIGHUP while plaintext is on disk (`edit`'s temp
//! file, `exec-file --no-fifo`'s file): caught, so that the file is removed
//! before sops-like exits instead of being left behind.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A flag set when SIGINT, SIGTERM or SIGHUP arrives; from the first call
/// on, those signals no longer end the process (the caller checks the flag
/// while it waits, cleans up and exits).
pub fn interrupted() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        // If a handler cannot be installed, a signal kills us and the OS
        // removes nothing: temp dirs are in RAM-backed storage when possible.
        let _ = ctrlc::set_handler(move || f.store(true, std::sync::atomic::Ordering::SeqCst));
        flag
    })
    .clone()
}
