//! What `--output`, `-i`, `set` and `edit` do to the path they write, run
//! with both tools: a FIFO, a device or a `/proc/self/fd` link is written
//! into, never replaced; a read-only file is refused (exit 3); a dangling
//! symlink is written through (its target created); new encrypted files
//! follow the umask; a file with several hard links is warned about.
//!
//! No test here names the real `/dev/null` or `/dev/stdout`: run as root,
//! a regression would replace them. Their stand-ins live in a temp dir (a
//! FIFO, a `mknod` copy of /dev/null, a link to `/proc/self/fd/1`).

use crate::util::*;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const PLAIN: &str = "{\n\t\"a\": 1\n}\n";

/// The tools to compare: sops-like, then the real sops if it is there.
fn tools() -> Vec<(&'static str, PathBuf)> {
    let mut t = vec![("sops-like", assert_cmd::cargo::cargo_bin("sops-like"))];
    if let Some(sops) = sops_bin() {
        t.push(("sops", sops));
    }
    t
}

/// `bin args…` in `dir`, with a clean environment and the test identity;
/// `prefix` runs it through another command (`sh -c 'umask …'`, setpriv).
fn command(dir: &Path, prefix: &[&str], bin: &Path, args: &[&str]) -> Command {
    let mut c = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    c.args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SOPS_DISABLE_VERSION_CHECK", "1")
        .env("SOPS_AGE_KEY_FILE", key("age-test.txt"))
        .stdin(Stdio::null());
    c
}

/// An encrypted `s.json` holding [`PLAIN`] in `dir`.
fn encrypted(dir: &Path) -> PathBuf {
    let enc = encrypt_text(dir, "p.json", PLAIN, &["--cipher", "aes256-gcm"]);
    let path = dir.join("s.json");
    std::fs::write(&path, enc).unwrap();
    path
}

#[track_caller]
fn assert_code(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn output_to_a_fifo_writes_into_it() {
    let dir = tempdir();
    encrypted(dir.path());
    for (name, bin) in tools() {
        let fifo = dir.path().join(format!("fifo-{name}"));
        let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = fifo.clone();
        // Not joined: if the FIFO were replaced, this read would never end.
        std::thread::spawn(move || {
            let _ = tx.send(std::fs::read_to_string(&reader));
        });
        let out = command(dir.path(), &[], &bin, &["decrypt", "--output"])
            .arg(&fifo)
            .arg("s.json")
            .output()
            .unwrap();
        assert_code(&out, 0, name);
        let got = rx.recv_timeout(Duration::from_secs(20));
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(kind.is_fifo(), "{name}: the FIFO was replaced");
        assert_eq!(got.unwrap().unwrap(), PLAIN, "{name}");
    }
}

#[test]
fn output_through_a_proc_fd_link_writes_to_stdout() {
    let dir = tempdir();
    encrypted(dir.path());
    // As `/dev/stdout` is: a link to this process's fd 1.
    let link = dir.path().join("stdout");
    std::os::unix::fs::symlink("/proc/self/fd/1", &link).unwrap();
    for (name, bin) in tools() {
        // Stdout a pipe, then a regular file.
        let out = command(dir.path(), &[], &bin, &["decrypt", "--output", "stdout"])
            .arg("s.json")
            .output()
            .unwrap();
        assert_code(&out, 0, name);
        assert_eq!(String::from_utf8_lossy(&out.stdout), PLAIN, "{name}");
        let file = dir.path().join(format!("captured-{name}"));
        std::fs::write(&file, "old content, longer than the plaintext written\n").unwrap();
        let out = command(dir.path(), &[], &bin, &["decrypt", "--output", "stdout"])
            .arg("s.json")
            .stdout(std::fs::File::create(&file).unwrap())
            .output()
            .unwrap();
        assert_code(&out, 0, name);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), PLAIN, "{name}");
        let kind = std::fs::symlink_metadata(&link).unwrap().file_type();
        assert!(kind.is_symlink(), "{name}: the link was replaced");
        // `encrypt` and `rotate` too (sops-like only: same writer).
        if name == "sops-like" {
            for args in [
                &[
                    "encrypt",
                    "--age",
                    &demo_recipient(),
                    "--output",
                    "stdout",
                    "p.json",
                ][..],
                &["rotate", "--output", "stdout", "s.json"],
            ] {
                let out = command(dir.path(), &[], &bin, args).output().unwrap();
                assert_code(&out, 0, args[0]);
                assert!(String::from_utf8_lossy(&out.stdout).contains("sops"));
                assert!(std::fs::symlink_metadata(&link)
                    .unwrap()
                    .file_type()
                    .is_symlink());
            }
        }
    }
}

/// A character device: a copy of /dev/null made in the temp dir (needs
/// root and a filesystem that allows devices; skipped otherwise).
#[test]
fn output_to_a_device_writes_into_it() {
    let dir = tempdir();
    encrypted(dir.path());
    let null = dir.path().join("null");
    let made = Command::new("mknod")
        .args(["-m", "666"])
        .arg(&null)
        .args(["c", "1", "3"])
        .stderr(Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success())
        || std::fs::OpenOptions::new().write(true).open(&null).is_err()
    {
        eprintln!("note: cannot make a usable device node here; not tested");
        return;
    }
    for (name, bin) in tools() {
        let out = command(
            dir.path(),
            &[],
            &bin,
            &["decrypt", "--output", "null", "s.json"],
        )
        .output()
        .unwrap();
        assert_code(&out, 0, name);
        let m = std::fs::symlink_metadata(&null).unwrap();
        assert!(
            m.file_type().is_char_device(),
            "{name}: the device was replaced"
        );
    }
}

/// A read-only file is refused (exit 3) and left as it is, by every way of
/// writing it; needs a user that permissions apply to (root runs the tools
/// as nobody through setpriv).
#[test]
fn read_only_files_are_refused_with_exit_3() {
    let prefix: &[&str] = if is_root() {
        if !Path::new("/usr/bin/setpriv").is_file() {
            eprintln!("note: root without setpriv; not tested");
            return;
        }
        &[
            "/usr/bin/setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]
    } else {
        &[]
    };
    let dir = tempdir();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let enc = std::fs::read_to_string(encrypted(dir.path())).unwrap();
    let key_copy = dir.path().join("key.txt");
    std::fs::copy(key("age-test.txt"), &key_copy).unwrap();
    std::fs::set_permissions(&key_copy, std::fs::Permissions::from_mode(0o644)).unwrap();
    let marker = dir.path().join("editor-ran");
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\ntouch '{}'\nprintf '{{\"a\": 2}}\\n' > \"$1\"\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cases: &[&[&str]] = &[
        &["set", "ro.json", "[\"a\"]", "2"],
        &["unset", "ro.json", "[\"a\"]"],
        &["decrypt", "-i", "ro.json"],
        &["rotate", "-i", "ro.json"],
        &["decrypt", "--output", "ro-out.json", "s.json"],
        &["edit", "ro.json"],
    ];
    for (name, bin) in tools() {
        for args in cases {
            let ro = dir.path().join("ro.json");
            let ro_out = dir.path().join("ro-out.json");
            for p in [&ro, &ro_out] {
                let _ = std::fs::remove_file(p);
                std::fs::write(p, &enc).unwrap();
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o444)).unwrap();
            }
            let _ = std::fs::remove_file(&marker);
            let out = command(dir.path(), prefix, &bin, args)
                .env("SOPS_AGE_KEY_FILE", &key_copy)
                .env("SOPS_EDITOR", &editor)
                .output()
                .unwrap();
            assert_code(&out, 3, &format!("{name} {args:?}"));
            for p in [&ro, &ro_out] {
                assert_eq!(std::fs::read_to_string(p).unwrap(), enc, "{name} {args:?}");
            }
            if name == "sops-like" {
                // Refused before the editor opens: no edits are lost.
                assert!(!marker.exists(), "the editor ran for a read-only file");
            }
        }
    }
}

#[test]
fn output_to_a_dangling_symlink_creates_its_target() {
    let dir = tempdir();
    encrypted(dir.path());
    for (name, bin) in tools() {
        let link = dir.path().join(format!("out-{name}.json"));
        let target = dir.path().join(format!("target-{name}.json"));
        std::os::unix::fs::symlink(target.file_name().unwrap(), &link).unwrap();
        let out = command(dir.path(), &[], &bin, &["decrypt", "--output"])
            .arg(&link)
            .arg("s.json")
            .output()
            .unwrap();
        assert_code(&out, 0, name);
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), PLAIN, "{name}");
        // A link into a directory that does not exist: exit 3, link kept.
        let bad = dir.path().join(format!("bad-{name}.json"));
        std::os::unix::fs::symlink(dir.path().join("missing/x.json"), &bad).unwrap();
        let out = command(dir.path(), &[], &bin, &["decrypt", "--output"])
            .arg(&bad)
            .arg("s.json")
            .output()
            .unwrap();
        assert_code(&out, 3, name);
        assert!(std::fs::symlink_metadata(&bad)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(!dir.path().join("missing").exists());
    }
}

/// New encrypted files are `0666 & !umask`, as sops creates them; a new
/// plaintext file is 0600 (a documented difference: sops follows the umask
/// there too).
#[test]
fn new_files_follow_the_umask() {
    let dir = tempdir();
    encrypted(dir.path());
    let editor = dir.path().join("kv.sh");
    std::fs::write(&editor, "#!/bin/sh\nprintf 'k: v\\n' > \"$1\"\n").unwrap();
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for umask in ["077", "027", "022"] {
        let mut modes: Vec<Vec<u32>> = Vec::new();
        for (name, bin) in tools() {
            let umasked = format!("umask {umask}; exec \"$@\"");
            let prefix = ["sh", "-c", umasked.as_str(), "sh"];
            let r = demo_recipient();
            let runs: [(&[&str], &str); 3] = [
                (
                    &["encrypt", "--age", &r, "--output", "o.json", "p.json"],
                    "o.json",
                ),
                (&["rotate", "--output", "r.json", "s.json"], "r.json"),
                (&["edit", "--age", &r, "n.yaml"], "n.yaml"),
            ];
            let mut these = Vec::new();
            for (args, file) in runs {
                let out = dir.path().join(file);
                let _ = std::fs::remove_file(&out);
                let run = command(dir.path(), &prefix, &bin, args)
                    .env("SOPS_EDITOR", &editor)
                    .output()
                    .unwrap();
                assert_code(&run, 0, &format!("{name} {args:?}"));
                these.push(mode(&out));
            }
            if name == "sops-like" {
                let out = dir.path().join("d.json");
                let _ = std::fs::remove_file(&out);
                let run = command(
                    dir.path(),
                    &prefix,
                    &bin,
                    &["decrypt", "--output", "d.json"],
                )
                .arg("s.json")
                .output()
                .unwrap();
                assert_code(&run, 0, "decrypt --output");
                assert_eq!(mode(&out), 0o600, "umask {umask}: a new plaintext file");
            }
            modes.push(these);
        }
        let expected = 0o666 & !u32::from_str_radix(umask, 8).unwrap();
        assert_eq!(modes[0], vec![expected; 3], "umask {umask}");
        if let Some(sops) = modes.get(1) {
            assert_eq!(&modes[0], sops, "umask {umask}: sops-like vs sops");
        }
    }
}

/// `-i` replaces the file (atomically), so a second hard link keeps the
/// old content, unlike sops, which writes over the file: warned about,
/// naming the file and never its content. A file with one link is not.
#[test]
fn replacing_a_hard_linked_file_is_warned_about() {
    let dir = tempdir();
    let enc = encrypted(dir.path());
    let other = dir.path().join("other.json");
    std::fs::hard_link(&enc, &other).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("sops-like");
    let out = command(dir.path(), &[], &bin, &["decrypt", "-i", "s.json"])
        .output()
        .unwrap();
    assert_code(&out, 0, "decrypt -i of a hard-linked file");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("s.json has 2 hard links"), "{err}");
    assert!(!err.contains("\"a\""), "{err}");
    // This name has the plaintext, the other still the encrypted text.
    assert_eq!(std::fs::read_to_string(&enc).unwrap(), PLAIN);
    assert!(std::fs::read_to_string(&other).unwrap().contains("ENC["));
    let age = recipient_of("age-test.txt");
    let out = command(
        dir.path(),
        &[],
        &bin,
        &["encrypt", "--age", &age, "-i", "s.json"],
    )
    .output()
    .unwrap();
    assert_code(&out, 0, "encrypt -i of a file with one link");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hard link"));
}
