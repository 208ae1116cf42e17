//! A signal while plaintext is on disk: `exec-file` stops the command and
//! removes the file or FIFO (sops leaves it behind).

use crate::util::*;
use std::time::{Duration, Instant};

#[test]
fn exec_file_no_fifo_removes_the_plaintext_on_sigterm() {
    exec_file_cleans_up_on_signal(true, "TERM");
}

/// The FIFO (the default) too: the command is stopped and the FIFO and
/// its directory are removed, exit 85 (sops dies and leaves them).
#[test]
fn exec_file_removes_its_fifo_on_sigterm() {
    exec_file_cleans_up_on_signal(false, "TERM");
}

/// Not only SIGINT/SIGTERM/SIGHUP: Ctrl-\ (SIGQUIT), SIGUSR1 and SIGALRM
/// (`timeout -s ALRM`) end the process by default too, and would leave the
/// plaintext behind.
#[test]
fn exec_file_no_fifo_removes_the_plaintext_on_sigquit_usr1_alrm() {
    for signal in ["QUIT", "USR1", "ALRM"] {
        exec_file_cleans_up_on_signal(true, signal);
    }
}

/// A private dir for `$XDG_RUNTIME_DIR`: the RAM-backed base where `edit`
/// and `exec-file` make their temp dirs; empty once sops-like is done.
fn runtime_dir(dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let run = dir.join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
    run
}

#[track_caller]
fn assert_empty(dir: &std::path::Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

fn exec_file_cleans_up_on_signal(no_fifo: bool, signal: &str) {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "p.yaml", "a: secret\n", &[]);
    let file = dir.path().join("e.yaml");
    std::fs::write(&file, enc).unwrap();
    let seen = dir.path().join("seen");
    let run = runtime_dir(dir.path());
    let bin = assert_cmd::cargo::cargo_bin("sops-like");
    let child = std::process::Command::new(bin)
        .env_clear()
        .env("HOME", dir.path())
        .env("XDG_RUNTIME_DIR", &run)
        .env("TMPDIR", dir.path())
        .env("SOPS_AGE_KEY_FILE", key("age-test.txt"))
        .arg("exec-file")
        .args(no_fifo.then_some("--no-fifo"))
        .arg(&file)
        .arg(format!("echo {{}} > '{}'; exec sleep 30", seen.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let plain = loop {
        if let Ok(p) = std::fs::read_to_string(&seen) {
            if !p.trim().is_empty() {
                break std::path::PathBuf::from(p.trim());
            }
        }
        assert!(Instant::now() < deadline, "the command did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    // On the RAM-backed base (here `$XDG_RUNTIME_DIR`), not in `$TMPDIR`.
    assert!(plain.starts_with(&run), "{}", plain.display());
    if no_fifo {
        assert_eq!(std::fs::read_to_string(&plain).unwrap(), "a: secret\n");
    } else {
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&plain).unwrap().file_type().is_fifo());
    }
    let killed = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(85),
        "SIG{signal}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !plain.exists(),
        "SIG{signal}: the plaintext file is left at {}",
        plain.display()
    );
    assert!(plain.parent().is_some_and(|d| !d.exists()));
    assert_empty(&run);
}

/// Run `edit` in a process group of its own with an editor that ignores
/// SIGINT and saves once told to (a `go` file, made 300 ms after the
/// signal: a slow run cannot have the editor save before the signal);
/// send `signal` to the group (`-pgid`, as a terminal's Ctrl-C) or to
/// sops-like alone once the editor has started. Returns the exit status
/// and the decrypted file.
fn edit_with_signal(bin: &std::path::Path, signal: &str, to_group: bool) -> (Option<i32>, String) {
    use std::os::unix::process::CommandExt;
    let dir = tempdir();
    let enc = encrypt_text(
        dir.path(),
        "p.yaml",
        "b: hello\n",
        &["--cipher", "aes256-gcm"],
    );
    let file = dir.path().join("s.yaml");
    std::fs::write(&file, &enc).unwrap();
    let started = dir.path().join("started");
    let go = dir.path().join("go");
    let editor = dir.path().join("ed.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\ntrap '' INT\ntouch '{}'\ni=0\nwhile [ ! -e '{}' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\nsed -i s/hello/EDITED/ \"$1\"\n",
            started.display(),
            go.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = runtime_dir(dir.path());
    let child = std::process::Command::new(bin)
        .env_clear()
        .env("HOME", dir.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("XDG_RUNTIME_DIR", &run)
        .env("SOPS_DISABLE_VERSION_CHECK", "1")
        .env("SOPS_AGE_KEY_FILE", key("age-test.txt"))
        .env("SOPS_EDITOR", &editor)
        .arg("edit")
        .arg(&file)
        .process_group(0)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !started.exists() {
        assert!(Instant::now() < deadline, "the editor did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let target = if to_group {
        format!("-{}", child.id())
    } else {
        child.id().to_string()
    };
    let killed = std::process::Command::new("kill")
        .args([&format!("-{signal}"), "--", &target])
        .status()
        .unwrap();
    assert!(killed.success());
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&go, "").unwrap();
    let out = child.wait_with_output().unwrap();
    let plain = cmd(dir.path(), Some("age-test.txt"))
        .arg("decrypt")
        .arg(&file)
        .output()
        .unwrap();
    assert_ok(&plain);
    assert_empty(&run);
    (out.status.code(), String::from_utf8(plain.stdout).unwrap())
}

/// Ctrl-C (SIGINT to the foreground group) while the editor runs is the
/// editor's, as in git: one that survives it and saves has its edits kept.
/// (sops dies of it, leaving its temp file; the audit that saw sops keep
/// the edits ran it in a background job, where SIGINT is ignored.)
#[test]
fn edit_keeps_what_the_editor_saves_after_ctrl_c() {
    let ours = assert_cmd::cargo::cargo_bin("sops-like");
    assert_eq!(
        edit_with_signal(&ours, "INT", true),
        (Some(0), "b: EDITED\n".into())
    );
}

/// SIGTERM to sops-like while the editor runs still aborts the edit (85):
/// nothing written.
#[test]
fn edit_aborts_on_sigterm_while_the_editor_runs() {
    let ours = assert_cmd::cargo::cargo_bin("sops-like");
    assert_eq!(
        edit_with_signal(&ours, "TERM", false),
        (Some(85), "b: hello\n".into())
    );
}

/// Ctrl-\ (SIGQUIT), SIGUSR1 and SIGALRM (`timeout -s ALRM`) to sops-like
/// while the editor runs abort the edit as SIGTERM does (85, nothing
/// written, the temp file removed), instead of killing it with the
/// plaintext left in the temp dir.
#[test]
fn edit_aborts_on_sigquit_usr1_alrm_while_the_editor_runs() {
    let ours = assert_cmd::cargo::cargo_bin("sops-like");
    for signal in ["QUIT", "USR1", "ALRM"] {
        assert_eq!(
            edit_with_signal(&ours, signal, false),
            (Some(85), "b: hello\n".into()),
            "SIG{signal}"
        );
    }
}

/// An executable script `name` in `dir`.
fn script(dir: &std::path::Path, name: &str, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// `sops-like` with a clean environment: HOME and cwd `home`, the demo
/// identity, `$XDG_RUNTIME_DIR` `run` (where its temp dirs go).
fn ours(home: &std::path::Path, run: &std::path::Path) -> std::process::Command {
    in_env(assert_cmd::cargo::cargo_bin("sops-like"), home, run)
}

/// `program` in the environment of [`ours`].
fn in_env(
    program: impl AsRef<std::ffi::OsStr>,
    home: &std::path::Path,
    run: &std::path::Path,
) -> std::process::Command {
    let mut c = std::process::Command::new(program);
    c.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("XDG_RUNTIME_DIR", run)
        .env("TMPDIR", home)
        .env("SOPS_DISABLE_VERSION_CHECK", "1")
        .env("SOPS_AGE_KEY_FILE", key("age-test.txt"))
        .current_dir(home);
    c
}

/// `lines` lines of YAML, each a value with a marker.
fn big_yaml(lines: usize) -> String {
    (0..lines)
        .map(|i| format!("k{i}: CANARY_{i:06}_{}\n", "x".repeat(40)))
        .collect()
}

/// Wait for `child` at most `secs` seconds; killed (and the test failed)
/// if it is still running then.
fn wait_at_most(
    child: &mut std::process::Child,
    secs: u64,
    what: &str,
) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running {secs} s later");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn send(child: &std::process::Child, signal: &str) {
    let signal: nix::sys::signal::Signal = format!("SIG{signal}").parse().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        signal,
    )
    .unwrap();
}

/// The `.sops-like-*.tmp` files in `dir`.
fn temp_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".sops-like-"))
        .map(|e| e.path())
        .collect()
}

/// A file-size limit (`ulimit -f`, as some CI runners and containers set):
/// the write past it fails (SIGXFSZ is not left to kill the process) with
/// "could not write", exit 3, and no temp file with the plaintext stays
/// beside the target or in the temp dir; the target is untouched and
/// `--output` creates nothing. (sops also reports the error, but leaves a
/// partial output file.)
#[test]
fn writes_past_a_file_size_limit_fail_cleanly() {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "p.yaml", &big_yaml(8000), &[]);
    std::fs::remove_file(dir.path().join("p.yaml")).unwrap();
    let work = dir.path().join("w");
    std::fs::create_dir(&work).unwrap();
    let run = runtime_dir(dir.path());
    let input = work.join("in.yaml");
    std::fs::write(&input, &enc).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("sops-like");
    for args in [
        "decrypt -i in.yaml",
        "decrypt --output out.yaml in.yaml",
        "edit in.yaml",
        "exec-file --no-fifo in.yaml 'wc -c {}'",
    ] {
        // 100 blocks: 50 KiB (dash) or 100 KiB (bash); the plaintext is
        // 480 KiB.
        let out = in_env("sh", &work, &run)
            .env("SOPS_EDITOR", "true")
            .arg("-c")
            .arg(format!("ulimit -f 100; exec \"$0\" {args}"))
            .arg(&bin)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{args}: {:?} {stderr}",
            out.status
        );
        assert!(stderr.contains("File too large"), "{args}: {stderr}");
        assert!(!stderr.contains("CANARY"), "{args}: {stderr}");
        assert_eq!(
            temp_files(&work),
            Vec::<std::path::PathBuf>::new(),
            "{args}"
        );
        assert!(!work.join("out.yaml").exists(), "{args}");
        assert_eq!(std::fs::read_to_string(&input).unwrap(), enc, "{args}");
        assert_empty(&run);
    }
}

/// SIGTERM or SIGINT while `decrypt -i` or `decrypt --output` writes (or
/// syncs) its temp file: the temp file, holding the plaintext, is removed
/// before sops-like exits with 85 (it used to die and leave it beside the
/// target, where `git add .` finds it). Each run sends the signal as soon
/// as the temp file is seen; a run that ends first is retried. Whatever
/// the timing, no temp file may be left; at least one run must have been
/// interrupted mid-write.
#[test]
fn a_signal_during_an_atomic_write_removes_the_temp_file() {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "p.yaml", &big_yaml(40_000), &[]);
    let work = dir.path().join("w");
    std::fs::create_dir(&work).unwrap();
    let run = runtime_dir(dir.path());
    let target = work.join("k.yaml");
    let out_file = work.join("out.yaml");
    std::fs::remove_file(dir.path().join("p.yaml")).unwrap();
    let source = dir.path().join("big.enc.yaml");
    std::fs::write(&source, &enc).unwrap();
    for (signal, args) in [
        ("TERM", vec!["decrypt", "-i", "k.yaml"]),
        ("INT", vec!["decrypt", "-i", "k.yaml"]),
        (
            "INT",
            vec!["decrypt", "--output", "out.yaml", "../big.enc.yaml"],
        ),
    ] {
        let mut hits = 0;
        let mut runs = 0;
        for _ in 0..40 {
            runs += 1;
            if hits >= 2 {
                break;
            }
            std::fs::write(&target, &enc).unwrap();
            let _ = std::fs::remove_file(&out_file);
            let mut child = ours(&work, &run)
                .args(&args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let mut sent = false;
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                if !temp_files(&work).is_empty() {
                    send(&child, signal);
                    sent = true;
                    break;
                }
                std::thread::yield_now();
            }
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                temp_files(&work),
                Vec::<std::path::PathBuf>::new(),
                "SIG{signal} {args:?}: {:?} {stderr}",
                out.status
            );
            assert!(!stderr.contains("CANARY"), "{stderr}");
            if sent {
                // 0: it was done (renamed into place) before the signal came.
                assert!(
                    matches!(out.status.code(), Some(85 | 0)),
                    "{args:?}: {:?} {stderr}",
                    out.status
                );
                let untouched = if args.contains(&"--output") {
                    !out_file.exists()
                } else {
                    std::fs::read_to_string(&target).unwrap() == enc
                };
                if untouched && out.status.code() == Some(85) {
                    hits += 1;
                }
            }
        }
        eprintln!("SIG{signal} {args:?}: {hits} interrupted writes in {runs} runs");
        assert!(
            hits >= 1,
            "SIG{signal} {args:?}: never sent while the temp file was being written"
        );
    }
}

/// `exec-file --no-fifo`: a signal while the plaintext file is being made
/// and written (before the command starts) removes it too: the handling
/// is in place before its directory exists, and that directory is on the
/// RAM-backed base (`$XDG_RUNTIME_DIR` here), not in `$TMPDIR`. The signal
/// is sent as soon as the directory appears.
#[test]
fn exec_file_no_fifo_removes_the_plaintext_on_a_signal_while_writing_it() {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "p.yaml", &big_yaml(40_000), &[]);
    std::fs::remove_file(dir.path().join("p.yaml")).unwrap();
    std::fs::write(dir.path().join("e.yaml"), &enc).unwrap();
    let run = runtime_dir(dir.path());
    for signal in ["TERM", "INT", "QUIT"] {
        let mut child = ours(dir.path(), &run)
            .args(["exec-file", "--no-fifo", "e.yaml", "sleep 20"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let made = std::fs::read_dir(&run).unwrap().next().is_some();
            if made {
                send(&child, signal);
                break;
            }
            if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
                let _ = child.kill();
                panic!("SIG{signal}: no temp dir was made in $XDG_RUNTIME_DIR");
            }
            std::thread::yield_now();
        }
        let status = wait_at_most(&mut child, 15, "exec-file");
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(85), "SIG{signal}: {status:?} {stderr}");
        assert_empty(&run);
        assert_empty_of_exec_dirs(dir.path());
    }
}

/// No `sops-like-exec-*` directory in `dir` (`$TMPDIR`).
fn assert_empty_of_exec_dirs(dir: &std::path::Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name();
        assert!(
            !name.to_string_lossy().starts_with("sops-like-"),
            "left in $TMPDIR: {name:?}"
        );
    }
}

/// `edit`: the editor saved something invalid and sops-like asks "Press
/// Enter to return to the editor, or Ctrl-C to abort". Ctrl-C (SIGINT),
/// SIGTERM or SIGHUP there abort at once: the temp file is removed and
/// sops-like exits with 85, without waiting for a line on stdin (here a
/// pipe kept open, as a terminal would be).
#[test]
fn edit_aborts_at_once_on_a_signal_at_the_re_edit_prompt() {
    use std::io::BufRead;
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "p.yaml", "a: prompt_secret\n", &[]);
    let file = dir.path().join("e.yaml");
    std::fs::write(&file, &enc).unwrap();
    let run = runtime_dir(dir.path());
    let editor = script(dir.path(), "ed.sh", "printf 'bad: [\\n' >> \"$1\"");
    for signal in ["INT", "TERM", "HUP"] {
        let mut child = ours(dir.path(), &run)
            .env("SOPS_EDITOR", &editor)
            .args(["edit", "e.yaml"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Kept open until the end: sops-like must not need its EOF.
        let stdin = child.stdin.take().unwrap();
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            let n = stderr.read_line(&mut line).unwrap();
            assert!(n > 0, "no prompt: {seen}");
            seen.push_str(&line);
            if line.contains("Press Enter") {
                break;
            }
        }
        send(&child, signal);
        let status = wait_at_most(&mut child, 10, "edit at the prompt");
        drop(stdin);
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        assert_eq!(
            status.code(),
            Some(85),
            "SIG{signal}: {status:?} {seen}{rest}"
        );
        assert!(!rest.contains("prompt_secret"), "{rest}");
        assert_empty(&run);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), enc);
    }
}

/// An editor that leaves a symlink at the temp file's path (to another
/// file of the user): the temp file's wipe never writes through it (that
/// file used to be zero-filled), and a successful exit does not make
/// sops-like read and encrypt the file it points to (refused, exit 2).
#[test]
fn edit_never_follows_a_symlink_the_editor_left() {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "p.yaml", "a: secret\n", &[]);
    let file = dir.path().join("e.yaml");
    std::fs::write(&file, &enc).unwrap();
    let run = runtime_dir(dir.path());
    let precious = dir.path().join("precious.yaml");
    for (exit, code) in [(1, 201), (0, 2)] {
        std::fs::write(&precious, "important: user data\n").unwrap();
        let editor = script(
            dir.path(),
            "ed.sh",
            &format!(
                "rm -f \"$1\"; ln -s '{}' \"$1\"; exit {exit}",
                precious.display()
            ),
        );
        let out = ours(dir.path(), &run)
            .env("SOPS_EDITOR", &editor)
            .args(["edit", "e.yaml"])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "exit {exit}: {stderr}");
        assert_eq!(
            std::fs::read_to_string(&precious).unwrap(),
            "important: user data\n",
            "exit {exit}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), enc, "exit {exit}");
        assert_empty(&run);
    }
}
