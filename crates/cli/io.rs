//! Reading the input and writing the output: stdin/stdout, and atomic
//! file replacement (temp file in the same directory, fsync, rename) for
//! regular files only; devices, FIFOs and `/dev/stdout` are written into.

use crate::args::IoArgs;
use crate::exit::{code, Failure, Result};
use crate::inbuf::InputBytes;
use sops_like_format::binary;
use sops_like_format::engine::EngineError;
use sops_like_format::wipe;
use sops_like_format::Format;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The input document.
pub struct Input {
    /// How to name it in messages.
    pub name: String,
    /// The file, unless stdin.
    pub path: Option<PathBuf>,
    /// The bytes (plaintext possibly: wiped on drop).
    pub bytes: InputBytes,
}

impl Input {
    /// The input as text (every format but binary).
    pub fn text(&self) -> Result<&str> {
        std::str::from_utf8(&self.bytes).map_err(|e| {
            Failure::new(
                code::COULD_NOT_READ_INPUT_FILE,
                format!(
                    "{} is not valid UTF-8 text (byte {})",
                    self.name,
                    e.valid_up_to()
                ),
            )
            .hint("encrypt arbitrary bytes with --input-type binary")
        })
    }

    /// The text of an encrypted file (every command but `encrypt`): text
    /// that is not UTF-8 cannot be a sops file of a text format, a generic
    /// error (1) as in sops, which fails to parse it.
    pub fn encrypted_text(&self) -> Result<&str> {
        self.text().map_err(|f| f.with_code(code::GENERIC))
    }
}

/// Read the encrypted file `file` for a command that changes or uses it
/// (set, unset, rotate, groups, exec-*: `code` 2, sops's
/// CouldNotReadInputFile; updatekeys, filestatus: 1). sops checks that the
/// file exists (NoFileSpecified, 100) only in `encrypt` and `decrypt`
/// ([`read_input`]); the others fail to read it, with `code`.
pub fn read_encrypted(file: &str, code: i32) -> Result<Input> {
    read_input(Some(file)).map_err(|f| f.with_code(code))
}

/// Read the encrypted file `file` that a command writes back in place
/// (set, unset, edit, updatekeys): `-` is the file of that name here, as in
/// sops, never stdin (the changed file would be written to a file `-`).
pub fn read_file_to_change(file: &str, code: i32) -> Result<Input> {
    if file != "-" {
        return read_encrypted(file, code);
    }
    let mut input = read_encrypted("./-", code)?;
    input.name = file.to_string();
    Ok(input)
}

/// Read `file` (`None` or `-`: stdin).
pub fn read_input(file: Option<&str>) -> Result<Input> {
    match file {
        None | Some("-") => {
            let bytes = read_secret(&mut std::io::stdin().lock()).map_err(|e| {
                Failure::new(
                    code::COULD_NOT_READ_INPUT_FILE,
                    format!("could not read stdin: {e}"),
                )
            })?;
            Ok(Input {
                name: "<stdin>".into(),
                path: None,
                bytes: bytes.into(),
            })
        }
        Some(f) => {
            let path = PathBuf::from(f);
            // Looked up once: a large regular file is read into huge pages.
            let size = regular_size(&path);
            let large = size.and_then(|size| crate::inbuf::read_large(&path, size));
            let bytes = match large {
                Some(read) => read,
                None => read_sized(&path, size).map(InputBytes::from),
            }
            .map_err(|e| {
                // sops's encrypt and decrypt check that the file exists
                // first: a missing file is NoFileSpecified (100); other
                // read errors are 2 (see also `read_encrypted`).
                if e.kind() == std::io::ErrorKind::NotFound {
                    Failure::new(code::NO_FILE_SPECIFIED, format!("could not read {f}: {e}"))
                        .hint("check the path")
                } else {
                    Failure::new(
                        code::COULD_NOT_READ_INPUT_FILE,
                        format!("could not read {f}: {e}"),
                    )
                }
            })?;
            Ok(Input {
                name: f.to_string(),
                path: Some(path),
                bytes,
            })
        }
    }
}

/// Read `reader` (stdin, a pipe: no size known beforehand) to its end.
/// Through [`wipe::SecretBytes`]: `read_to_end` into a `Vec` lets it
/// grow, which leaves a copy of the input read so far (plaintext, when
/// encrypting) in each allocation it leaves. (A regular file is read with
/// `fs::read`, which sizes its buffer from the file's length first.)
pub fn read_secret(reader: &mut dyn Read) -> std::io::Result<zeroize::Zeroizing<Vec<u8>>> {
    let mut bytes = wipe::SecretBytes::default();
    bytes.read_to_end(reader)?;
    Ok(zeroize::Zeroizing::new(bytes.into_vec()))
}

/// Read the file at `path`. `fs::read` sizes its buffer from a regular
/// file's length, so it does not grow; anything else (a FIFO,
/// `/dev/stdin`, a process substitution) is read as stdin is (see
/// [`read_secret`]).
pub fn read_file(path: &Path) -> std::io::Result<zeroize::Zeroizing<Vec<u8>>> {
    read_sized(path, regular_size(path))
}

/// The length of `path` if it is a regular file.
fn regular_size(path: &Path) -> Option<u64> {
    fs::metadata(path)
        .ok()
        .filter(fs::Metadata::is_file)
        .map(|m| m.len())
}

/// [`read_file`] for a path whose [`regular_size`] was looked up already.
fn read_sized(path: &Path, size: Option<u64>) -> std::io::Result<zeroize::Zeroizing<Vec<u8>>> {
    match size {
        Some(_) => fs::read(path).map(zeroize::Zeroizing::new),
        None => fs::File::open(path).and_then(|mut file| read_secret(&mut file)),
    }
}

/// The input format: `--input-type`, else the extension of
/// `--filename-override` or of the file.
pub fn input_format(io: &IoArgs, input: &Input) -> Result<Format> {
    if let Some(t) = &io.input_type {
        return parse_type(t);
    }
    let name = io
        .filename_override
        .as_deref()
        .or(input.path.as_ref().and_then(|p| p.to_str()));
    match name {
        Some(n) => Format::from_path(n).ok_or_else(|| {
            Failure::new(code::GENERIC, format!("cannot tell the format of {n} from its name"))
                .hint("name it .yaml, .yml, .json, .env or .toml, or pass --input-type yaml|json|dotenv|toml")
        }),
        None => Err(Failure::new(code::CONFLICTING_PARAMETERS, "reading stdin needs --input-type (or --filename-override)")
            .hint("name the format of stdin: --input-type yaml|json|dotenv|ini|toml|binary, or --filename-override NAME")),
    }
}

/// Whether the input is handled by the binary store: `--input-type binary`,
/// or (as sops does) a file name with no known format extension; or a
/// file that sops wrote as a binary file under a name only sops-like gives
/// a format (`.env.local`, `x.toml`): its text is the binary store's JSON
/// document, which is neither valid .env nor TOML.
pub fn is_binary(io: &IoArgs, input: &Input) -> bool {
    let name = io
        .filename_override
        .as_deref()
        .or(input.path.as_ref().and_then(|p| p.to_str()));
    if is_binary_name(io.input_type.as_deref(), name) {
        return true;
    }
    io.input_type.is_none()
        && name.is_some_and(|n| Format::from_path_as_sops(n).is_none())
        && is_sops_binary_document(&input.bytes)
}

/// Whether `bytes` is a binary-store document (`{"data": …, "sops": …}`).
fn is_sops_binary_document(bytes: &[u8]) -> bool {
    bytes.trim_ascii_start().starts_with(b"{")
        && std::str::from_utf8(bytes).is_ok_and(|text| binary::open_binary(text).is_ok())
}

/// [`is_binary`] for a file not read yet: `--input-type binary`, or a
/// name with no known format extension (stdin, `None`, is never binary
/// unless the type says so).
pub fn is_binary_name(input_type: Option<&str>, name: Option<&str>) -> bool {
    match input_type {
        Some(t) => t.eq_ignore_ascii_case("binary"),
        None => name.is_some_and(|n| Format::from_path(n).is_none()),
    }
}

/// The output format: `--output-type`, else the input's.
pub fn output_format(io: &IoArgs, input: Format) -> Result<Format> {
    match &io.output_type {
        Some(t) => parse_type(t),
        None => Ok(input),
    }
}

/// The output format as sops picks it for `encrypt`, `decrypt` and
/// `rotate`: `--output-type`, else the format of the name
/// (`--filename-override`, else the file's), else `input`'s (stdin, or a
/// name with no known extension, where sops would write its binary form).
/// So `decrypt --input-type yaml x.json` writes JSON, as in sops.
pub fn output_format_by_name(io: &IoArgs, input: &Input, format: Format) -> Result<Format> {
    if io.output_type.is_some() {
        return output_format(io, format);
    }
    let name = io
        .filename_override
        .as_deref()
        .or(input.path.as_ref().and_then(|p| p.to_str()));
    Ok(name.and_then(Format::from_path).unwrap_or(format))
}

fn parse_type(t: &str) -> Result<Format> {
    if t.eq_ignore_ascii_case("binary") {
        return Err(Failure::new(
            code::GENERIC,
            "binary is not a document format: this command cannot convert to or from it",
        )
        .hint("--input-type binary reads a file as bytes; decrypt --output-type binary writes a document's `data` value"));
    }
    Format::from_name(t).ok_or_else(|| {
        Failure::new(code::GENERIC, format!("unknown file type {t:?}"))
            .hint("supported types: yaml, json, dotenv, toml, ini, binary")
    })
}

/// How sensitive the output is: new output files holding plaintext are
/// created 0600.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sensitivity {
    /// Encrypted output.
    Encrypted,
    /// Plaintext output.
    Plaintext,
}

/// The file the output replaces: the input for `-i`, `--output`, or
/// `None` for stdout.
fn output_target<'a>(io: &'a IoArgs, input: &'a Input) -> Result<Option<&'a Path>> {
    if io.in_place && io.output.is_some() {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "-i/--in-place and --output cannot be used together",
        ));
    }
    if !io.in_place {
        return Ok(io.output.as_deref());
    }
    input.path.as_deref().map(Some).ok_or_else(|| {
        Failure::new(
            code::CONFLICTING_PARAMETERS,
            "-i/--in-place needs a file, not stdin",
        )
    })
}

/// Write the result where `io` says: in place, to `--output`, or stdout.
pub fn write_output(
    io: &IoArgs,
    input: &Input,
    data: &[u8],
    sensitivity: Sensitivity,
) -> Result<()> {
    match output_target(io, input)? {
        Some(path) => atomic_write(path, data, sensitivity),
        None => write_stdout(data),
    }
}

/// Write to stdout; a closed pipe is not an error.
pub fn write_stdout(data: &[u8]) -> Result<()> {
    let mut out = Stdout {
        inner: std::io::stdout().lock(),
        closed: false,
    };
    out.write_all(data)
        .and_then(|()| out.flush())
        .map_err(stdout_failure)
}

/// The failure for writing to stdout.
fn stdout_failure(e: std::io::Error) -> Failure {
    Failure::new(
        code::COULD_NOT_WRITE_OUTPUT_FILE,
        format!("could not write to stdout: {e}"),
    )
}

/// Write the result where `io` says (in place, to `--output`, or stdout)
/// as the engine's `write` produces it, without holding it whole: stdout is
/// locked and buffered (a closed pipe is not an error; the rest of the
/// output is dropped), a file is written through [`AtomicFile`] and
/// replaced only if `write` succeeds. Nothing is written before `write`
/// writes. A sink error is reported as a write failure, any other as an
/// engine failure on the input.
pub fn stream_output(
    io: &IoArgs,
    input: &Input,
    sensitivity: Sensitivity,
    write: impl FnOnce(&mut dyn Write) -> std::result::Result<(), EngineError>,
) -> Result<()> {
    match output_target(io, input)? {
        Some(path) => {
            let mut file = AtomicFile::create(path, sensitivity)?;
            write(file.writer()).map_err(|e| match e {
                EngineError::Write(e) => file.fail("writing", e),
                e => Failure::engine(&input.name, e),
            })?;
            file.commit()
        }
        None => {
            let mut out = Stdout {
                inner: Buffered::new(std::io::stdout().lock()),
                closed: false,
            };
            write(&mut out).map_err(|e| match e {
                EngineError::Write(e) => stdout_failure(e),
                e => Failure::engine(&input.name, e),
            })?;
            // Unflushed bytes (if `write` did not flush) go out here.
            out.flush().map_err(stdout_failure)
        }
    }
}

/// A `BufWriter` (64 KiB) whose buffer is wiped when it is done with: it
/// holds the last output written through it (plaintext, when decrypting),
/// which a `BufWriter` frees as it is.
struct Buffered<W: Write>(Option<std::io::BufWriter<W>>);

impl<W: Write> Buffered<W> {
    fn new(inner: W) -> Buffered<W> {
        Buffered(Some(std::io::BufWriter::with_capacity(1 << 16, inner)))
    }

    /// Flush and return the writer (as `BufWriter::into_inner`), the
    /// buffer wiped.
    fn into_inner(mut self) -> std::io::Result<W> {
        let mut writer = self.writer()?;
        writer.flush()?;
        Ok(wiped(writer))
    }

    /// The `BufWriter`, taken out (it is there until `into_inner` or drop).
    fn writer(&mut self) -> std::io::Result<std::io::BufWriter<W>> {
        self.0
            .take()
            .ok_or_else(|| std::io::Error::other("the writer is gone"))
    }
}

/// The writer of `buffered`, its buffer wiped (unwritten bytes are dropped:
/// flush first).
fn wiped<W: Write>(buffered: std::io::BufWriter<W>) -> W {
    let (inner, buffer) = buffered.into_parts();
    if let Ok(mut buffer) = buffer {
        wipe::wipe(&mut buffer);
    }
    inner
}

impl<W: Write> Write for Buffered<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.0 {
            Some(writer) => writer.write(buf),
            None => Err(std::io::Error::other("the writer is gone")),
        }
    }

    /// Passed on: the engine writes windows of output together.
    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        match &mut self.0 {
            Some(writer) => writer.write_vectored(bufs),
            None => Err(std::io::Error::other("the writer is gone")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.0 {
            Some(writer) => writer.flush(),
            None => Ok(()),
        }
    }
}

impl<W: Write> Drop for Buffered<W> {
    /// As a `BufWriter` drops: what is buffered is written (errors
    /// ignored); then the buffer is wiped.
    fn drop(&mut self) {
        if let Some(mut writer) = self.0.take() {
            let _ = writer.flush();
            wiped(writer);
        }
    }
}

/// Stdout for [`write_stdout`] and [`stream_output`]: once the reader has
/// gone (a broken pipe), what is left is dropped and nothing fails.
struct Stdout<W: Write> {
    inner: W,
    closed: bool,
}

impl<W: Write> Stdout<W> {
    /// `r`, or nothing once the pipe is closed.
    fn unless_closed<T>(&mut self, r: std::io::Result<T>, none: T) -> std::io::Result<T> {
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(none)
            }
            r => r,
        }
    }
}

impl<W: Write> Write for Stdout<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let r = self.inner.write(buf);
        self.unless_closed(r, buf.len())
    }

    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        let len = bufs.iter().map(|b| b.len()).sum();
        if self.closed {
            return Ok(len);
        }
        let r = self.inner.write_vectored(bufs);
        self.unless_closed(r, len)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let r = self.inner.flush();
        self.unless_closed(r, ())
    }
}

/// Write `data` to `path`. A regular file (an existing one, or a new one)
/// is replaced atomically: a temp file in the same directory, fsync,
/// rename over the target, fsync the directory. An existing file keeps its
/// permissions (symlinks are followed, also to a target not created yet);
/// a new file is 0600 for plaintext, `0666 & !umask` otherwise (as sops
/// creates it). Anything else (`/dev/null`, `/dev/stdout`, a FIFO, a
/// terminal) is opened and written into, as sops does: never replaced.
pub fn atomic_write(path: &Path, data: &[u8], sensitivity: Sensitivity) -> Result<()> {
    let mut file = AtomicFile::create(path, sensitivity)?;
    file.writer()
        .write_all(data)
        .map_err(|e| file.fail("writing", e))?;
    file.commit()
}

/// What an output path names, as sops would open it for writing.
enum Target {
    /// An existing regular file (symlinks resolved), with its metadata: it
    /// is replaced.
    Regular(PathBuf, fs::Metadata),
    /// No file yet at this path (a dangling symlink resolved to the path it
    /// points to): it is created.
    New(PathBuf),
    /// Not a regular file, or a file reached through `/proc` (`/dev/stdout`,
    /// `/dev/fd/N`): opened and written into.
    Special,
}

/// How many symlinks are followed before giving up (Linux's limit).
const MAX_LINKS: usize = 40;

/// What `path` names (see [`Target`]). A path that is a directory, whose
/// directory does not exist, or that cannot be looked up is a write failure
/// (exit 3, as sops's "Could not open output file for writing").
fn resolve(path: &Path) -> Result<Target> {
    let open_fail = |e: std::io::Error| write_failure(path, "opening for writing", e);
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(open_fail(std::io::ErrorKind::IsADirectory.into())),
        Ok(m) if m.is_file() && !through_proc(path) => {
            let target = fs::canonicalize(path).map_err(open_fail)?;
            Ok(Target::Regular(target, m))
        }
        Ok(_) => Ok(Target::Special),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let target = dangling_target(path).map_err(open_fail)?;
            match fs::metadata(parent_dir(&target)) {
                Ok(d) if d.is_dir() => Ok(Target::New(target)),
                Ok(_) => Err(open_fail(std::io::ErrorKind::NotADirectory.into())),
                Err(e) => Err(open_fail(e)),
            }
        }
        Err(e) => Err(open_fail(e)),
    }
}

/// Whether renaming over the file `meta` in `dir` is refused: `dir` is
/// sticky and neither it nor the file is this user's (root may).
fn sticky_refuses_rename(dir: &Path, meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    let me = nix::unistd::geteuid().as_raw();
    me != 0
        && meta.uid() != me
        && fs::metadata(dir).is_ok_and(|d| d.mode() & 0o1000 != 0 && d.uid() != me)
}

/// The directory holding `path` (`.` for a bare name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Whether `path` or a symlink on the way to its file is under `/proc`
/// (`/dev/stdout` → `/proc/self/fd/1`): a file descriptor of this process,
/// not a file to replace.
fn through_proc(path: &Path) -> bool {
    let under_proc = |p: &Path| {
        fs::canonicalize(parent_dir(p)).is_ok_and(|d| d.starts_with("/proc"))
            || (p.is_absolute() && p.starts_with("/proc"))
    };
    let mut at = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        if under_proc(&at) {
            return true;
        }
        match fs::read_link(&at) {
            Ok(link) => at = parent_dir(&at).join(link),
            Err(_) => return false,
        }
    }
    false
}

/// The path a file will be created at for `path`, which does not resolve
/// to a file: `path` itself, or, for a symlink whose target does not exist
/// yet, that target (a chain of links followed), as opening it for writing
/// would create it.
fn dangling_target(path: &Path) -> std::io::Result<PathBuf> {
    let mut at = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = fs::read_link(&at)?;
                at = parent_dir(&at).join(link);
            }
            // A file appeared meanwhile: create it as named.
            Ok(_) => return Ok(at),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(at),
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::from_raw_os_error(40)) // ELOOP
}

/// Refuse to replace `path` unless this process may write to the file
/// itself (not only to its directory, which is all a rename needs): a
/// read-only file is refused with exit 3, as sops's "Could not open
/// output file for writing". A missing file, or one that is not regular,
/// is not refused here.
pub fn check_writable(path: &Path) -> Result<()> {
    match resolve(path)? {
        Target::Regular(target, _) => writable(path, &target),
        _ => Ok(()),
    }
}

/// Open the regular file `target` (named `path`) for writing, without
/// changing it, to see that this process may.
fn writable(path: &Path, target: &Path) -> Result<()> {
    fs::OpenOptions::new()
        .write(true)
        .open(target)
        .map(drop)
        .map_err(|e| write_failure(path, "opening for writing", e))
}

/// A file being written (see [`atomic_write`]): a regular file is written
/// to a temporary file in the target's directory (0600 while it is
/// written), which [`AtomicFile::commit`] gives the target's owner and
/// permissions, syncs and renames over the target; dropped uncommitted, the
/// temporary file is removed and the target is untouched.
///
/// When no temporary file can be made there (a directory the user may not
/// write to, holding a file they may), the content is held in memory and
/// written over the file in place at commit, as sops always writes, with
/// a warning that this is not atomic. A target that is not a regular file
/// (a device, a FIFO, `/dev/stdout`) is written the same way, without the
/// warning: it is opened (no file is created) and written into.
pub struct AtomicFile {
    /// The path as given (for messages).
    path: PathBuf,
    /// The file replaced: `path` with symlinks resolved.
    target: PathBuf,
    dir: PathBuf,
    /// The mode to give the new file; `None`: the one it was created with
    /// (`0666 & !umask`).
    mode: Option<u32>,
    /// The target's owner and group, kept on the new file.
    owner: Option<(u32, u32)>,
    sink: Sink,
}

/// Where an [`AtomicFile`]'s content goes until it is committed.
enum Sink {
    /// A temporary file beside the target, renamed over it; registered
    /// so that a signal removes it (dropped after the file, which removes
    /// it first).
    Temp(
        Buffered<tempfile::NamedTempFile>,
        crate::signals::Registered,
    ),
    /// Memory, written over the target in place; `true` for a regular file
    /// (synced after writing). It may hold plaintext as it grows: see
    /// [`wipe::SecretBytes`].
    InPlace(wipe::SecretBytes, bool),
}

impl AtomicFile {
    /// Start writing `path`. A read-only regular file is refused (exit 3)
    /// before anything is written.
    pub fn create(path: &Path, sensitivity: Sensitivity) -> Result<AtomicFile> {
        use std::os::unix::fs::MetadataExt;
        let (target, existing) = match resolve(path)? {
            Target::Regular(target, meta) => {
                writable(path, &target)?;
                // sops writes over the file, so every name of it sees the
                // new content; a rename replaces only this name.
                if meta.nlink() > 1 {
                    stderr!(
                        "warning: {} has {} hard links: it is replaced by a new file, and its other names keep the previous content",
                        path.display(),
                        meta.nlink()
                    );
                }
                (target, Some(meta))
            }
            Target::New(target) => (target, None),
            Target::Special => {
                return Ok(AtomicFile {
                    path: path.to_path_buf(),
                    target: path.to_path_buf(),
                    dir: parent_dir(path).to_path_buf(),
                    mode: None,
                    owner: None,
                    sink: Sink::InPlace(wipe::SecretBytes::default(), false),
                });
            }
        };
        // A new plaintext file is 0600 whatever the umask; a new encrypted
        // file is created 0666 and the umask applies, as in sops.
        let (mode, created) = match &existing {
            Some(m) => (Some(m.permissions().mode() & 0o7777), 0o600),
            None if sensitivity == Sensitivity::Plaintext => (Some(0o600), 0o600),
            None => (None, 0o666),
        };
        let owner = existing.as_ref().map(|m| (m.uid(), m.gid()));
        let dir = parent_dir(&target).to_path_buf();
        // In a sticky directory (1777, like /tmp) the kernel refuses to
        // rename over another user's file, though this user may write it:
        // written in place, as sops writes every file, rather than failing
        // at the end (after an edit). No temporary file is made.
        let sticky = existing
            .as_ref()
            .is_some_and(|m| sticky_refuses_rename(&dir, m));
        let sink = if sticky {
            stderr!(
                "warning: {} belongs to another user in a sticky directory ({}): it is written in place, not atomically",
                path.display(),
                dir.display()
            );
            Sink::InPlace(wipe::SecretBytes::default(), true)
        } else {
            // Registered as it is created: a signal from here on removes it
            // (and SIGXFSZ makes a write fail instead of ending the process).
            let made = crate::signals::register_new(crate::signals::Kind::File, || {
                tempfile::Builder::new()
                    .prefix(".sops-like-")
                    .suffix(".tmp")
                    .permissions(fs::Permissions::from_mode(created))
                    .tempfile_in(&dir)
                    .map(|tmp| {
                        let p = tmp.path().to_path_buf();
                        (tmp, p)
                    })
            });
            match made {
                Ok((tmp, registered)) => Sink::Temp(Buffered::new(tmp), registered),
                Err(e)
                    if e.kind() == std::io::ErrorKind::PermissionDenied && existing.is_some() =>
                {
                    stderr!(
                        "warning: cannot create a temporary file in {} ({e}); {} will be written in place, not atomically",
                        dir.display(),
                        path.display()
                    );
                    Sink::InPlace(wipe::SecretBytes::default(), true)
                }
                Err(e) => return Err(write_failure(path, "creating a temporary file", e)),
            }
        };
        Ok(AtomicFile {
            path: path.to_path_buf(),
            target,
            dir,
            mode,
            owner,
            sink,
        })
    }

    /// Where to write the new content.
    pub fn writer(&mut self) -> &mut dyn Write {
        match &mut self.sink {
            Sink::Temp(tmp, _) => tmp,
            Sink::InPlace(buf, _) => buf,
        }
    }

    /// The failure to report for `what` going wrong.
    fn fail(&self, what: &str, e: std::io::Error) -> Failure {
        write_failure(&self.path, what, e)
    }

    /// Give the new file the target's owner (and group), as far as this
    /// user may, then its permissions (a change of owner clears set-id
    /// bits), sync, and rename over the target; then sync the directory.
    pub fn commit(self) -> Result<()> {
        let AtomicFile {
            path,
            target,
            dir,
            mode,
            owner,
            sink,
        } = self;
        let fail = |what: &str, e: std::io::Error| write_failure(&path, what, e);
        let (tmp, registered) = match sink {
            Sink::Temp(tmp, registered) => (tmp, registered),
            Sink::InPlace(buf, regular) => {
                // No `create`: the file is there (a device or FIFO is never
                // made a regular file if it went away meanwhile).
                let mut file = fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(&target)
                    .map_err(|e| fail("opening for writing", e))?;
                file.write_all(buf.as_slice())
                    .map_err(|e| fail("writing", e))?;
                if regular {
                    file.sync_all().map_err(|e| fail("syncing", e))?;
                }
                return Ok(());
            }
        };
        let tmp = tmp.into_inner().map_err(|e| fail("writing", e))?;
        if let Some((uid, gid)) = owner {
            keep_owner(tmp.as_file(), &path, uid, gid);
        }
        if let Some(mode) = mode {
            tmp.as_file()
                .set_permissions(fs::Permissions::from_mode(mode))
                .map_err(|e| fail("setting permissions", e))?;
        }
        tmp.as_file().sync_all().map_err(|e| fail("syncing", e))?;
        // Taken back from the signal registry in the same step as the
        // rename: a signal now never removes the file once it is the target.
        // (On failure the temp file comes back and is removed on drop.)
        registered
            .release_with(|| tmp.persist(&target))
            .map_err(|e| fail("renaming into place", e.error))?;
        if let Ok(d) = fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Give `file` the owner `uid` and group `gid` of the file it replaces.
/// Root can; another user can keep the group if they are in it. What
/// cannot be kept is said in a warning (the file then belongs to this
/// user, as with any editor that saves by renaming).
fn keep_owner(file: &fs::File, path: &Path, uid: u32, gid: u32) {
    use std::os::unix::fs::{fchown, MetadataExt};
    let Ok(now) = file.metadata() else {
        return;
    };
    if (now.uid(), now.gid()) == (uid, gid) {
        return;
    }
    if fchown(file, Some(uid), Some(gid)).is_ok() {
        return;
    }
    let group_kept = now.gid() == gid || fchown(file, None, Some(gid)).is_ok();
    if now.uid() != uid {
        stderr!(
            "warning: {}: could not keep its owner (uid {uid}{}); it now belongs to you",
            path.display(),
            if group_kept { "" } else { " and group" }
        );
    }
}

/// The failure for writing `path`: `what` went wrong.
fn write_failure(path: &Path, what: &str, e: std::io::Error) -> Failure {
    Failure::new(
        code::COULD_NOT_WRITE_OUTPUT_FILE,
        format!("could not write {}: {what}: {e}", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As a `BufWriter`: `into_inner` flushes, and so does dropping.
    #[test]
    fn buffered_writes_everything() {
        let mut out = Buffered::new(Vec::new());
        out.write_all(b"plain").unwrap();
        out.write_all(&[7u8; 70_000]).unwrap();
        let inner = out.into_inner().unwrap();
        assert_eq!(inner.len(), 70_005);
        assert_eq!(&inner[..5], b"plain");

        let mut sink = Vec::new();
        {
            let mut out = Buffered::new(&mut sink);
            out.write_all(b"dropped").unwrap();
        }
        assert_eq!(sink, b"dropped");
    }

    /// Input of unknown size is read whole (see `read_secret`).
    #[test]
    fn read_secret_reads_everything() {
        let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let read = read_secret(&mut data.as_slice()).unwrap();
        assert!(read.as_slice() == data.as_slice());
    }
}
