//! `exec-env` and `exec-file`: run a command with the plaintext, never
//! writing it to disk (a FIFO, or with `--no-fifo` a 0600 file, in a 0700
//! dir on RAM-backed storage when there is one; see `editor::Scratch`).

use crate::args::{ExecEnvArgs, ExecFileArgs, IoArgs};
use crate::exit::{code, Failure, Result};
use crate::sopsfile;
use crate::{io, keysource};
use sops_like_format::binary::{self, Stored};
use sops_like_format::cipher::CipherKind;
use sops_like_format::syntax::dotenv;
use sops_like_format::syntax::flat::flat_value;
use sops_like_format::syntax::{show_path, PathStep};
use sops_like_format::{engine, Entry, Format, Item, Node, Scalar, Tree, Value};
use std::process::{Command, Stdio};
use zeroize::Zeroizing;

/// A decrypted file: a document of a text format, or a binary-store
/// file's bytes.
enum Plain {
    /// The text, and the data as sops reads it (see
    /// [`sopsfile::decrypted_tree`]).
    Text(Format, Zeroizing<String>, Tree, CipherKind),
    Bytes(Zeroizing<Vec<u8>>),
}

fn decrypt(file: &str, input_type: Option<String>, order: Option<&str>) -> Result<Plain> {
    let io_args = IoArgs::file(false, input_type);
    let input = io::read_encrypted(file, code::COULD_NOT_READ_INPUT_FILE)?;
    let (format, enc) = if io::is_binary(&io_args, &input) {
        // sops's binary store reads a JSON document that is more than its
        // own `{"data": …}` as that document (`sops encrypt p.json >
        // secrets.enc`), as `decrypt` does.
        match binary::open_stored(input.encrypted_text()?)
            .map_err(|e| Failure::load(&input.name, e))?
        {
            Stored::Binary(_) => {
                return sopsfile::open_binary(&input, order, false).map(|b| Plain::Bytes(b.plain))
            }
            Stored::Document(file) => (Format::Json, *file),
        }
    } else {
        let format = io::input_format(&io_args, &input)?;
        let enc = engine::open(format, input.encrypted_text()?)
            .map_err(|e| Failure::load(&input.name, e))?;
        (format, enc)
    };
    // The binary store's own document of the default cipher (raw bytes).
    if binary::unreadable_as_document(&enc).is_some() {
        return sopsfile::open_binary(&input, order, false).map(|b| Plain::Bytes(b.plain));
    }
    let key = keysource::data_key(&enc.metadata, &input.name, order)?;
    let (plain, kept) = engine::decrypt_counting_kept(&enc, key.as_bytes(), false)
        .map_err(|e| Failure::engine(&input.name, e))?;
    super::decrypt::warn_kept_comments(&input.name, kept);
    let tree = sopsfile::decrypted_tree(&input.name, &enc, key.as_bytes(), &plain)?;
    let cipher = enc.metadata.cipher_or_sops();
    Ok(Plain::Text(format, plain, tree, cipher))
}

/// The command to run: `-- cmd args…` as given, or one string through
/// `/bin/sh -c`, as sops runs it (so builtins, `$VAR`, `;`, `>` work in a
/// string without spaces too).
fn command(words: &[String], replace: Option<&str>) -> Result<Command> {
    let words: Vec<String> = match replace {
        Some(path) => words.iter().map(|w| w.replace("{}", path)).collect(),
        None => words.to_vec(),
    };
    let (first, rest) = words
        .split_first()
        .ok_or_else(|| Failure::new(code::GENERIC, "no command given"))?;
    if rest.is_empty() {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(first);
        return Ok(c);
    }
    let mut c = Command::new(first);
    c.args(rest);
    Ok(c)
}

/// Run `cmd` as `user` (`--user`): that user's uid and primary gid.
fn as_user(cmd: &mut Command, user: &str) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let found = nix::unistd::User::from_name(user).map_err(|e| {
        Failure::new(
            code::GENERIC,
            format!("could not look up user {user:?}: {e}"),
        )
    })?;
    let u = found.ok_or_else(|| Failure::new(code::GENERIC, format!("no such user: {user:?}")))?;
    // Only root may switch; anyone else fails here (exit 1, as sops), not
    // when the command starts (which read as "cannot execute", 126) or when
    // a file is given to the user.
    let me = nix::unistd::geteuid();
    if !me.is_root() && u.uid != me {
        return Err(Failure::new(
            code::GENERIC,
            format!("cannot run the command as {user:?}: operation not permitted"),
        )
        .hint("only root can run the command as another user (--user)"));
    }
    cmd.uid(u.uid.as_raw()).gid(u.gid.as_raw());
    Ok(())
}

/// The owner to give the temporary file when the command runs as `user`.
fn owner_of(user: &str) -> Result<(u32, u32)> {
    let u = nix::unistd::User::from_name(user)
        .ok()
        .flatten()
        .ok_or_else(|| Failure::new(code::GENERIC, format!("no such user: {user:?}")))?;
    Ok((u.uid.as_raw(), u.gid.as_raw()))
}

/// The failure for a command that could not be started. sops runs every
/// command through `sh -c`, so the exit codes are the shell's: 127 for a
/// command not found, 126 for one that cannot be executed.
fn not_started(e: std::io::Error) -> Failure {
    let code = match e.kind() {
        std::io::ErrorKind::NotFound => 127,
        std::io::ErrorKind::PermissionDenied => 126,
        _ => code::GENERIC,
    };
    Failure::new(code, format!("could not run the command: {e}"))
}

fn run_child(mut cmd: Command) -> Result<()> {
    let status = cmd.status().map_err(not_started)?;
    child_result(status)
}

/// [`run_child`] while plaintext is on disk: SIGINT, SIGTERM, SIGHUP or
/// another caught signal (Ctrl-C, `docker stop`, a CI timeout, a closed
/// terminal; see [`crate::signals`]) is passed on
/// to the command as SIGTERM and ends the wait with exit code 85, so that
/// the caller removes the file (sops leaves it behind).
fn run_child_until_signal(cmd: Command) -> Result<()> {
    // The signal is handled here (the command stopped first), not by the
    // signal thread.
    crate::signals::deferred(|| wait_child_or_signal(cmd))
}

fn wait_child_or_signal(mut cmd: Command) -> Result<()> {
    use std::sync::atomic::Ordering;
    let flag = crate::signals::interrupted();
    if flag.load(Ordering::SeqCst) {
        return Err(Failure::new(
            code::KEYBOARD_INTERRUPT,
            "interrupted; the plaintext file removed",
        ));
    }
    let mut child = cmd.spawn().map_err(not_started)?;
    let waiting = |e: std::io::Error| {
        Failure::new(
            code::GENERIC,
            format!("could not wait for the command: {e}"),
        )
    };
    loop {
        if let Some(status) = child.try_wait().map_err(waiting)? {
            return child_result(status);
        }
        if flag.load(Ordering::SeqCst) {
            if let Ok(pid) = i32::try_from(child.id()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
            let _ = child.wait();
            return Err(Failure::new(
                code::KEYBOARD_INTERRUPT,
                "interrupted; the command was stopped and the plaintext file removed",
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The result of a finished command: its own exit code.
fn child_result(status: std::process::ExitStatus) -> Result<()> {
    match status.code() {
        Some(0) => Ok(()),
        Some(c) => Err(Failure {
            code: c,
            message: format!("the command exited with status {c}"),
            hints: vec![],
        }),
        // sops runs the command through `sh -c`, whose status for a
        // command killed by signal N is 128 + N.
        None => Err(Failure::new(
            std::os::unix::process::ExitStatusExt::signal(&status)
                .map_or(code::GENERIC, |n| 128 + n),
            format!("the command was killed ({status})"),
        )),
    }
}

/// How [`env_vars`] reads a decrypted document.
pub struct EnvSource<'a> {
    pub format: Format,
    /// The decrypted text the tree was parsed from: a number is given as
    /// it stands there, as `decrypt` shows it.
    pub plain: &'a str,
    /// A .env file sops reads (`AES256_GCM`): each value exactly as sops
    /// reads it (quotes, ` #…` and blanks kept), as sops sets it. Otherwise
    /// a .env value gets its dotenv meaning ([`dotenv::env_value`]).
    pub sops_env: bool,
}

/// One environment variable, and the path of the value it came from.
struct Var {
    name: String,
    path: Vec<PathStep>,
    value: Zeroizing<String>,
}

/// Environment variables from a decrypted document's data: nested keys
/// joined with `_` (`db: {user: x}` -> `db_user`), list items by index.
/// Only the first document of a YAML stream, as sops reads it. Two
/// different paths that give one name (`A_B` and `A: {B: …}`) are refused,
/// and so is a key written twice with two values (sops takes the last):
/// the MAC does not cover an empty value, so anyone who can write the file
/// can add `PASSWORD:` or `PASSWORD=` after the real one without the key.
pub fn env_vars(src: &EnvSource<'_>, tree: &Tree) -> Result<Vec<(String, Zeroizing<String>)>> {
    let mut vars = Vec::new();
    let mut empty = Vec::new();
    if let Some(doc) = tree.docs.first() {
        flatten(
            src,
            doc,
            String::new(),
            &mut Vec::new(),
            &mut vars,
            &mut empty,
        );
    }
    // An empty list or mapping has no variable; sops refuses it rather
    // than leave the name unset without a word.
    if let Some(name) = empty.first() {
        return Err(Failure::new(
            code::GENERIC,
            format!("cannot use complex value in environment; offending key {name}"),
        )
        .hint("an empty list or mapping has no environment form: remove it, or use exec-file"));
    }
    let mut seen: std::collections::HashMap<&str, &Var> = std::collections::HashMap::new();
    for v in &vars {
        match seen.insert(&v.name, v) {
            Some(other) if other.path == v.path && other.value != v.value => {
                return Err(Failure::new(
                    code::GENERIC,
                    format!(
                        "{} is written twice, with two values: sops-like does not choose which one {:?} gets",
                        show_path(&v.path),
                        v.name
                    ),
                )
                .hint("remove one of them; if you did not write both, the file may have been tampered with (a value added after the real one is not covered by the MAC when it is empty)"));
            }
            Some(other) if other.path != v.path => {
                let other = &other.path;
                return Err(Failure::new(
                    code::GENERIC,
                    format!(
                        "{} and {} would both be the environment variable {:?}",
                        show_path(other),
                        show_path(&v.path),
                        v.name
                    ),
                )
                .hint("rename one of the keys: nested keys are joined with `_`"));
            }
            _ => {}
        }
    }
    Ok(vars.into_iter().map(|v| (v.name, v.value)).collect())
}

fn flatten(
    src: &EnvSource<'_>,
    node: &Node,
    prefix: String,
    path: &mut Vec<PathStep>,
    out: &mut Vec<Var>,
    empty: &mut Vec<String>,
) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}_{k}")
        }
    };
    match node {
        Node::Alias(inner) => flatten(src, inner, prefix, path, out, empty),
        Node::Map(entries)
            if !prefix.is_empty() && !entries.iter().any(|e| matches!(e, Entry::Pair(_))) =>
        {
            empty.push(prefix);
        }
        Node::Seq(items)
            if !prefix.is_empty() && !items.iter().any(|i| matches!(i, Item::Node(_))) =>
        {
            empty.push(prefix);
        }
        Node::Map(entries) => {
            for e in entries {
                if let Entry::Pair(p) = e {
                    path.push(PathStep::Key(p.key.clone()));
                    if src.format == Format::Dotenv {
                        let key = join(dotenv::env_key(&p.key));
                        if let Node::Scalar(s) = &p.value {
                            // A typed value (`type:float`…, written by sops)
                            // as the file shows it (`8080.0`), as sops sets it.
                            let value = match &s.value {
                                Value::Str(raw) if src.sops_env => raw.clone(),
                                Value::Str(raw) => dotenv::env_value(raw),
                                other => flat_value(other).unwrap_or_default(),
                            };
                            out.push(Var {
                                name: key,
                                path: path.clone(),
                                value: Zeroizing::new(value),
                            });
                        } else {
                            flatten(src, &p.value, key, path, out, empty);
                        }
                    } else {
                        flatten(src, &p.value, join(&p.key), path, out, empty);
                    }
                    path.pop();
                }
            }
        }
        Node::Seq(items) => {
            let mut i = 0usize;
            for it in items {
                if let Item::Node(n) = it {
                    path.push(PathStep::Index(i));
                    flatten(src, n, join(&i.to_string()), path, out, empty);
                    path.pop();
                    i += 1;
                }
            }
        }
        Node::Scalar(s) => {
            let text = match &s.value {
                Value::Null => String::new(),
                Value::Bool(b) => b.to_string(),
                // Otherwise (a tag before it) as sops spells it (`3.0`).
                Value::Int(_) | Value::Float(_) => number_text(src.plain, s)
                    .map_or_else(|| flat_value(&s.value).unwrap_or_default(), str::to_string),
                other => other.sops_text().unwrap_or_default(),
            };
            out.push(Var {
                name: prefix,
                path: path.clone(),
                value: Zeroizing::new(text),
            });
        }
    }
}

/// A number as the decrypted text spells it (`1.0`, `1e-7`), when its
/// lexeme is a bare number token (no tag, no quotes).
fn number_text<'a>(plain: &'a str, s: &Scalar) -> Option<&'a str> {
    let lexeme = plain.get(s.span.clone()?)?;
    let bare = !lexeme.is_empty()
        && lexeme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_'));
    bare.then_some(lexeme)
}

pub fn run_env(args: ExecEnvArgs) -> Result<()> {
    if args.background && args.same_process {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "--background cannot be used with --same-process",
        ));
    }
    let vars = match decrypt(
        &args.file,
        args.input_type.clone(),
        args.decryption_order.as_deref(),
    )? {
        Plain::Text(format, plain, tree, cipher) => {
            let later = tree.docs.iter().skip(1).filter(|d| d.holds_data()).count();
            // The command would run with none of the file's values: an
            // empty document put before the real one (no key is needed for
            // that) must not be how a deploy loses its secrets.
            if later > 0 && !tree.docs.first().is_some_and(Node::holds_data) {
                return Err(Failure::new(
                    code::GENERIC,
                    format!(
                        "{}: the first YAML document is empty, and exec-env reads the first document, as sops does ({later} later document(s) hold data)",
                        args.file
                    ),
                )
                .hint("put the values in the first document; if you did not add the empty one, the file may have been tampered with"));
            }
            if later > 0 {
                stderr!(
                    "warning: {} is a stream of YAML documents: only the first is in the environment ({later} later document(s) with data ignored, as sops does)",
                    args.file
                );
            }
            let src = EnvSource {
                format,
                plain: &plain,
                sops_env: format == Format::Dotenv && cipher == CipherKind::Aes256Gcm,
            };
            // The INI reader's empty `DEFAULT` section (every file whose
            // keys are all in sections has one) is no data of the user's.
            let tree = super::decrypt::without_empty_ini_default(format, Format::Dotenv, &tree);
            env_vars(&src, &tree)?
        }
        // The binary store's one value, named as in the document.
        Plain::Bytes(bytes) => {
            let text = std::str::from_utf8(&bytes).map_err(|_| {
                Failure::new(
                    code::GENERIC,
                    "the file's bytes are not text: they cannot be an environment variable",
                )
                .hint("use exec-file")
            })?;
            vec![("data".to_string(), Zeroizing::new(text.to_string()))]
        }
    };
    let mut cmd = command(&args.command, None)?;
    if args.pristine {
        cmd.env_clear();
    }
    if let Some(user) = &args.user {
        as_user(&mut cmd, user)?;
    }
    for (k, v) in &vars {
        if k.is_empty() || k.contains('=') || k.contains('\0') {
            return Err(Failure::new(
                code::GENERIC,
                format!("cannot use {k:?} as an environment variable name"),
            ));
        }
        if v.contains('\0') {
            return Err(Failure::new(
                code::GENERIC,
                format!("the value of {k} contains a NUL byte, which an environment variable cannot hold"),
            )
            .hint("use exec-file"));
        }
        cmd.env(k, v.as_str());
    }
    drop(vars);
    if args.same_process {
        use std::os::unix::process::CommandExt;
        // Only returns on failure.
        return Err(not_started(cmd.exec()));
    }
    if args.background {
        // As sops: started, not waited for, its streams on /dev/null.
        return cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(drop)
            .map_err(not_started);
    }
    run_child(cmd)
}

pub fn run_file(args: ExecFileArgs) -> Result<()> {
    if args.background {
        // sops starts the command and removes the file as it exits, so the
        // command may find nothing to read.
        return Err(Failure::new(
            code::GENERIC,
            "--background is not supported by exec-file: the plaintext file is removed when sops-like exits",
        )
        .hint("run the whole command in the background instead: sops-like exec-file FILE 'cmd {}' &"));
    }
    // What `decrypt FILE` prints, with the same types: the output format
    // is the file name's unless `--output-type` (as sops's exec-file).
    let plain = {
        let decrypt = crate::args::DecryptArgs {
            files: vec![args.file.clone()],
            recursive: false,
            io: IoArgs {
                output_type: args.output_type.clone(),
                ..IoArgs::file(false, args.input_type.clone())
            },
            extract: None,
            ignore_mac: false,
            decryption_order: args.decryption_order.clone(),
        };
        let input = io::read_encrypted(&args.file, code::COULD_NOT_READ_INPUT_FILE)?;
        super::decrypt::output_of(&decrypt, &input, None)?
    };
    if args.filename.contains('/')
        || matches!(args.filename.as_str(), "" | "." | "..")
        || args.filename.len() > 255
    {
        return Err(Failure::new(
            code::GENERIC,
            "--filename must be a plain file name",
        ));
    }
    // Caught from here on, before anything is made: on a signal the
    // directory and what is in it are removed (the file overwritten
    // first), and while the command runs it is stopped first (exit 85).
    let _ = crate::signals::interrupted();
    // The command and `--user` checked before anything is made; the
    // command is built again below with the file's path.
    let mut cmd = command(&args.command, None)?;
    let owner = match &args.user {
        Some(user) => {
            as_user(&mut cmd, user)?;
            Some(owner_of(user)?)
        }
        None => None,
    };
    // The command's user must be able to open the file (0600) and enter
    // the directory (0700). On the RAM-backed base `edit` uses.
    let mut scratch = crate::editor::Scratch::new("sops-like-exec-", owner)?;
    let path = if args.no_fifo {
        scratch.write(&args.filename, &plain, owner)?
    } else {
        let path = scratch.reserve(&args.filename);
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).map_err(
            |e| {
                Failure::new(
                    code::COULD_NOT_WRITE_OUTPUT_FILE,
                    format!("could not create a FIFO: {e}"),
                )
            },
        )?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid)).map_err(|e| {
                Failure::new(
                    code::COULD_NOT_WRITE_OUTPUT_FILE,
                    format!("could not create a FIFO: {e}"),
                )
            })?;
        }
        // The writer blocks until the command opens the FIFO; it may never do.
        let writer_path = path.clone();
        let data = plain.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&writer_path) {
                let _ = f.write_all(&data);
            }
        });
        path
    };
    let path_str = path.to_string_lossy().into_owned();
    let mut cmd = command(&args.command, Some(&path_str))?;
    if let Some(user) = &args.user {
        as_user(&mut cmd, user)?;
    }
    // `scratch` drops after the command: the file or FIFO is overwritten
    // (a regular file) and removed with its directory.
    let result = run_child_until_signal(cmd);
    drop(scratch);
    result
}
