//! The current directory as sops sees it. Go's `os.Getwd` returns `$PWD`
//! when it is absolute and names the same directory as `.` (the *logical*
//! path, symlinks and all, as the shell shows it), else the physical
//! `getcwd`. sops makes file paths and the config's directory absolute
//! against it (`filepath.Abs`), so `path_regex` sees the same relative
//! path here only if the same directory is used.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The current directory, as Go's `os.Getwd` computes it.
pub fn current_dir() -> std::io::Result<PathBuf> {
    let dot = std::fs::metadata(".")?;
    if let Some(pwd) = std::env::var_os("PWD").map(PathBuf::from) {
        if pwd.is_absolute() && same_file(&pwd, &dot) {
            return Ok(pwd);
        }
    }
    std::env::current_dir()
}

/// Whether `path` is the file or directory `meta` describes (same device
/// and inode, Go's `os.SameFile`).
fn same_file(path: &Path, meta: &std::fs::Metadata) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.dev() == meta.dev() && m.ino() == meta.ino())
}
