//! The editor round trip: the plaintext goes to a 0600 file inside a 0700
//! directory, on a RAM-backed location when there is one; the editor is
//! `$SOPS_EDITOR`, then `$EDITOR` (split like a shell), then vim, nano or vi,
//! as in sops;
//! the file is overwritten and removed on every path, Ctrl-C included
//! (a symlink left in its place is removed, never followed).

use crate::exit::{code, Failure, Result};
use sha2::{Digest, Sha256};
use std::io::{BufRead, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use zeroize::Zeroizing;

/// Where to put the temp directory: `$XDG_RUNTIME_DIR`, else `/dev/shm`,
/// else the system temp dir. `shared`: another user (`exec-file --user`)
/// must reach it, so not `$XDG_RUNTIME_DIR` (0700, this user's).
pub fn temp_base(shared: bool) -> PathBuf {
    let candidates = [
        std::env::var_os("XDG_RUNTIME_DIR")
            .filter(|_| !shared)
            .map(PathBuf::from),
        Some(PathBuf::from("/dev/shm")),
    ];
    for c in candidates.into_iter().flatten() {
        if c.is_dir()
            && tempfile::Builder::new()
                .prefix(".sops-like-probe")
                .tempfile_in(&c)
                .is_ok()
        {
            return c;
        }
    }
    std::env::temp_dir()
}

/// The editor command, split into words: sops's order. `$VISUAL` is not
/// read, as in sops (a desktop's `VISUAL=code` would open a GUI editor
/// that returns at once, where `sops edit` opens `$EDITOR`).
pub fn editor_command() -> Result<Vec<String>> {
    for var in ["SOPS_EDITOR", "EDITOR"] {
        if let Ok(v) = std::env::var(var) {
            if v.trim().is_empty() {
                continue;
            }
            let words = shell_words::split(&v).map_err(|e| {
                Failure::new(code::NO_EDITOR_FOUND, format!("cannot parse ${var}: {e}"))
            })?;
            if !words.is_empty() {
                return resolved(words, var);
            }
        }
    }
    for fallback in ["vim", "nano", "vi"] {
        if let Some(path) = which(fallback) {
            return Ok(vec![path.to_string_lossy().into_owned()]);
        }
    }
    Err(Failure::new(code::NO_EDITOR_FOUND, "no editor found")
        .hint("set $EDITOR (or $SOPS_EDITOR), e.g. EDITOR=nano"))
}

/// `words` with a bare program name (no `/`) replaced by where [`which`]
/// finds it: an editor is never run from the current directory through an
/// empty or relative `PATH` entry (an untrusted checkout's `./vim` would get
/// the plaintext), as sops (Go's `execabs`) never runs one.
fn resolved(mut words: Vec<String>, var: &str) -> Result<Vec<String>> {
    if words[0].contains('/') {
        return Ok(words);
    }
    let found = which(&words[0]).ok_or_else(|| {
        Failure::new(
            code::NO_EDITOR_FOUND,
            format!("the editor {:?} (${var}) is not in PATH", words[0]),
        )
        .hint("empty and relative PATH entries (the current directory) are not searched, as in sops; give the editor's full path")
    })?;
    words[0] = found.to_string_lossy().into_owned();
    Ok(words)
}

/// The executable file `name` in the absolute directories of `PATH` (an
/// empty or relative entry names the current directory: skipped).
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// A private directory (0700, on the RAM-backed base when there is one)
/// holding plaintext files; each is overwritten and removed on drop, and
/// the directory with it. Registered for [`crate::signals`]: a signal
/// removes them too.
pub struct Scratch {
    dir: tempfile::TempDir,
    /// The directory's device and inode, to see that its path still names
    /// it when the files are wiped.
    dir_id: Option<(u64, u64)>,
    /// The files made in it, in order, each with its registration.
    files: Vec<(PathBuf, crate::signals::Registered)>,
    _dir_registered: crate::signals::Registered,
}

impl Scratch {
    /// An empty private directory named `prefix…` (see [`temp_base`]);
    /// with an `owner` (uid, gid), the files made in it are theirs.
    pub fn new(prefix: &str, owner: Option<(u32, u32)>) -> Result<Scratch> {
        use crate::signals::{register_new, Kind};
        let (dir, registered) = register_new(Kind::Dir, || {
            tempfile::Builder::new()
                .prefix(prefix)
                .tempdir_in(temp_base(owner.is_some()))
                .map(|d| {
                    let p = d.path().to_path_buf();
                    (d, p)
                })
        })
        .map_err(scratch_failure)?;
        let mut scratch = Scratch {
            dir,
            files: Vec::new(),
            _dir_registered: registered,
            dir_id: None,
        };
        // For another user (`exec-file --user`) the directory stays ours,
        // 0711: that user opens the file by its name, but can neither list
        // the directory nor rename, replace or add anything in it (the
        // base is sticky), so the cleanup, which runs as us, removes what
        // it made and nothing a symlink points to.
        let mode = if owner.is_some() { 0o711 } else { 0o700 };
        std::fs::set_permissions(scratch.dir.path(), std::fs::Permissions::from_mode(mode))
            .map_err(scratch_failure)?;
        scratch.dir_id = dir_identity(scratch.dir.path());
        Ok(scratch)
    }

    /// The path of `name` in the directory, registered (wiped and removed
    /// on a signal, and when this is dropped) before anything is made there.
    pub fn reserve(&mut self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        let registered = crate::signals::register(&path, crate::signals::Kind::Secret);
        self.files.push((path.clone(), registered));
        path
    }

    /// Write `text` to a new 0600 file `name` (given to `owner` if set).
    pub fn write(&mut self, name: &str, text: &[u8], owner: Option<(u32, u32)>) -> Result<PathBuf> {
        let file = self.reserve(name);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file)
            .map_err(scratch_failure)?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&file, Some(uid), Some(gid)).map_err(scratch_failure)?;
        }
        f.write_all(text).map_err(scratch_failure)?;
        f.sync_all().map_err(scratch_failure)?;
        Ok(file)
    }
}

fn scratch_failure(e: std::io::Error) -> Failure {
    Failure::new(
        code::COULD_NOT_WRITE_OUTPUT_FILE,
        format!("could not create the temporary file: {e}"),
    )
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Overwritten before unlinking (cheap; matters on disk-backed
        // /tmp); a symlink or any other file the editor left in its place
        // is only unlinked, never followed. Then taken back from the
        // registry; the directory (what else the editor left in it too,
        // such as a swap file) goes when `dir` drops, after this.
        // Only while the directory's path still names the directory made
        // (not a symlink the editor put in its place): the wipe would go
        // through it to another directory's file of that name. Otherwise
        // only the directory's path is removed (a symlink is unlinked).
        if self.dir_id.is_some() && dir_identity(self.dir.path()) == self.dir_id {
            for (file, _) in self.files.iter().rev() {
                crate::signals::wipe_and_remove(file);
            }
        }
        self.files.clear();
    }
}

/// The device and inode of the directory `path` (not followed if it is a
/// symlink), or `None`.
fn dir_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .filter(std::fs::Metadata::is_dir)
        .map(|m| (m.dev(), m.ino()))
}

/// Let the user edit `text` (named like `path`). `Ok(None)` if they saved
/// no change. `validate` is checked after each save of a change; on error
/// its message is shown and the editor reopens after Enter (at the end of
/// the input, the edit is given up with that error's exit code).
pub fn edit_text(
    path: &Path,
    text: &str,
    mut validate: impl FnMut(&str) -> Result<()>,
) -> Result<Option<Zeroizing<String>>> {
    let name = file_name(path);
    let edited = edit_bytes(path, text.as_bytes(), |bytes| {
        match std::str::from_utf8(bytes) {
            Ok(text) => validate(text),
            Err(e) => Err(Failure::new(
                code::GENERIC,
                format!(
                    "the edited file is not valid: {name}: not UTF-8 text (byte {}): save it as text",
                    e.valid_up_to()
                ),
            )),
        }
    })?;
    Ok(edited.map(|mut bytes| {
        // Validated as UTF-8 above; the bytes move into the string, no copy.
        let text = String::from_utf8(std::mem::take(&mut *bytes)).unwrap_or_else(|e| {
            zeroize::Zeroize::zeroize(&mut e.into_bytes());
            String::new()
        });
        Zeroizing::new(text)
    }))
}

/// The name of `path`, for the temp file and messages.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into())
}

/// [`edit_text`] for any bytes (a binary-store file).
pub fn edit_bytes(
    path: &Path,
    text: &[u8],
    mut validate: impl FnMut(&[u8]) -> Result<()>,
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let name = file_name(path);
    let editor = editor_command()?;
    // Caught from here on: the temp file is removed whatever arrives.
    let flag = crate::signals::interrupted();
    let mut scratch = Scratch::new("sops-like-edit-", None)?;
    let file = scratch.write(&name, text, None)?;
    let before = Sha256::digest(text);
    let interrupted = || {
        Failure::new(
            code::KEYBOARD_INTERRUPT,
            "interrupted; nothing written, temporary file removed",
        )
    };
    loop {
        // Ctrl-C while the editor runs is the editor's (sops ignores it
        // too): what it saves counts if it exits successfully.
        let status = crate::signals::sigint_to_child(|| {
            std::process::Command::new(&editor[0])
                .args(&editor[1..])
                .arg(&file)
                .status()
        })
        .map_err(|e| {
            Failure::new(
                code::NO_EDITOR_FOUND,
                format!("could not run the editor {:?}: {e}", editor[0]),
            )
        })?;
        // SIGTERM or SIGHUP meanwhile, or SIGINT before the editor started.
        if flag.load(Ordering::SeqCst) {
            return Err(interrupted());
        }
        // The editor died of the Ctrl-C (or exited as a shell reports that,
        // 128 + SIGINT).
        let sigint = nix::sys::signal::Signal::SIGINT as i32;
        if std::os::unix::process::ExitStatusExt::signal(&status) == Some(sigint)
            || status.code() == Some(128 + sigint)
        {
            return Err(interrupted());
        }
        if !status.success() {
            // sops: "Could not run editor", NoEditorFound (measured: 201).
            return Err(Failure::new(
                code::NO_EDITOR_FOUND,
                format!("the editor exited with {status}; nothing written, temporary file removed"),
            ));
        }
        // Not through a symlink the editor may have left there.
        let edited = Zeroizing::new(crate::signals::read_regular(&file).map_err(|e| {
            Failure::new(
                code::COULD_NOT_READ_INPUT_FILE,
                format!("could not read the edited file: {e}"),
            )
        })?);
        if Sha256::digest(edited.as_slice()) == before {
            return Ok(None);
        }
        match validate(&edited) {
            Ok(()) => return Ok(Some(edited)),
            Err(failure) => {
                stderr!("error: {}", failure.message);
                for hint in &failure.hints {
                    stderr!("  hint: {hint}");
                }
                stderr!(
                    "Press Enter to return to the editor, or Ctrl-C to abort (nothing is written)."
                );
                // Not `deferred`: a signal while this waits for a line
                // removes the file and ends the process at once (exit 85).
                let mut line = String::new();
                let n = std::io::stdin().lock().read_line(&mut line).unwrap_or(0);
                if flag.load(Ordering::SeqCst) {
                    return Err(interrupted());
                }
                if n == 0 {
                    return Err(Failure::new(
                        failure.code,
                        "aborted; nothing written, temporary file removed",
                    ));
                }
            }
        }
    }
}
