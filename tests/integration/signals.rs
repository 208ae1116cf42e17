//! A signal while plaintext is on disk: `exec-file` stops the command and
//! removes the file or FIFO (sops leaves it behind).

use crate::util::*;
use std::time::{Duration, Instant};

#[test]
fn exec_file_no_fifo_removes_the_plaintext_on_sigterm() {
    exec_file_cleans_up_on_sigterm(true);
}

/// The FIFO (the default) too: the command is stopped and the FIFO and
/// its directory are removed, exit 85 (sops dies and leaves them).
#[test]
fn exec_file_removes_its_fifo_on_sigterm() {
    exec_file_cleans_up_on_sigterm(false);
}

fn exec_file_cleans_up_on_sigterm(no_fifo: bool) {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "p.yaml", "a: secret\n", &[]);
    let file = dir.path().join("e.yaml");
    std::fs::write(&file, enc).unwrap();
    let seen = dir.path().join("seen");
    let bin = assert_cmd::cargo::cargo_bin("sops-like");
    let child = std::process::Command::new(bin)
        .env_clear()
        .env("HOME", dir.path())
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
    if no_fifo {
        assert_eq!(std::fs::read_to_string(&plain).unwrap(), "a: secret\n");
    } else {
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&plain).unwrap().file_type().is_fifo());
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(85),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !plain.exists(),
        "the plaintext file is left at {}",
        plain.display()
    );
    assert!(plain.parent().is_some_and(|d| !d.exists()));
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
    let child = std::process::Command::new(bin)
        .env_clear()
        .env("HOME", dir.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
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
