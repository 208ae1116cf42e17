//! `-i` keeps what a file is besides its bytes: its owner and group (when
//! this user may set them), and, in a directory the user cannot write to,
//! the file is still rewritten (in place, with a warning), as sops does.

use crate::util::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

#[test]
fn in_place_keeps_the_owner_when_root() {
    if !is_root() {
        eprintln!("note: not root; owner preservation not tested");
        return;
    }
    let dir = tempdir();
    let path = dir.path().join("x.yaml");
    std::fs::write(&path, "a: secret\n").unwrap();
    std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    for args in [
        vec!["encrypt", "-i", "--age", &demo_recipient()],
        vec!["rotate", "-i"],
        vec!["decrypt", "-i"],
    ] {
        let out = cmd(dir.path(), Some("age-test.txt"))
            .args(&args)
            .arg(&path)
            .output()
            .unwrap();
        assert_ok(&out);
        let m = std::fs::metadata(&path).unwrap();
        assert_eq!((m.uid(), m.gid()), (65534, 65534), "{args:?}");
        assert_eq!(m.permissions().mode() & 0o7777, 0o640, "{args:?}");
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "a: secret\n");
}

#[test]
fn in_place_in_a_read_only_directory_writes_over_the_file() {
    let setpriv = std::path::Path::new("/usr/bin/setpriv");
    if !is_root() || !setpriv.is_file() {
        eprintln!("note: needs root and setpriv; not tested");
        return;
    }
    let dir = tempdir();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let path = ro.join("x.yaml");
    std::fs::write(&path, "a: secret\n").unwrap();
    for p in [&path, &ro] {
        std::os::unix::fs::chown(p, Some(65534), Some(65534)).unwrap();
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    let out = std::process::Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(assert_cmd::cargo::cargo_bin("sops-like"))
        .args(["encrypt", "-i", "--age", &demo_recipient()])
        .arg(&path)
        .env_clear()
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not atomically"));
    let enc = std::fs::read_to_string(&path).unwrap();
    assert!(enc.contains("sops:") && !enc.contains("secret"), "{enc}");
    assert_eq!(std::fs::read_dir(&ro).unwrap().count(), 1);
}

/// A file another user owns in a sticky directory (1777, like /tmp) that
/// this user may write: the kernel refuses a rename over it, so it is
/// written in place (owner and mode kept), as sops writes it. It failed
/// with exit 3 at the end, after `edit` had taken the changes.
#[test]
fn in_place_in_a_sticky_directory_writes_over_the_file() {
    let setpriv = std::path::Path::new("/usr/bin/setpriv");
    if !is_root() || !setpriv.is_file() {
        eprintln!("note: needs root and setpriv; not tested");
        return;
    }
    let dir = tempdir();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let sticky = dir.path().join("st");
    std::fs::create_dir(&sticky).unwrap();
    std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let path = sticky.join("e.yaml");
    std::fs::write(&path, encrypt_text(dir.path(), "p.yaml", "a: 1\n", &[])).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = std::process::Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(assert_cmd::cargo::cargo_bin("sops-like"))
        .args(["set"])
        .arg(&path)
        .args(["[\"a\"]", "2"])
        .env_clear()
        .env("HOME", dir.path())
        .env(
            "SOPS_AGE_KEY",
            std::fs::read_to_string(key("age-test.txt")).unwrap(),
        )
        .output()
        .unwrap();
    assert_ok(&out);
    let m = std::fs::metadata(&path).unwrap();
    assert_eq!((m.uid(), m.permissions().mode() & 0o7777), (0, 0o666));
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("decrypt")
        .arg(&path)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(out.stdout, b"a: 2\n");
    assert_eq!(std::fs::read_dir(&sticky).unwrap().count(), 1);
}

/// `set`, `unset`, `edit` and `updatekeys` change a file in place: `-` is
/// the file of that name (as in sops), never stdin, so stdin's document is
/// not written over a file named `-`. A directory to read is exit 2, as in
/// sops, for `decrypt` and `edit` alike.
#[test]
fn dash_is_a_file_for_commands_that_change_it_and_a_directory_is_unreadable() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(
        d.join("-"),
        encrypt_text(d, "p.yaml", "other: precious\n", &[]),
    )
    .unwrap();
    let elsewhere = encrypt_text(d, "q.yaml", "a: 1\n", &[]);
    let out = cmd(d, Some("age-test.txt"))
        .args(["set", "--input-type", "yaml", "-", "[\"b\"]", "2"])
        .write_stdin(elsewhere.clone())
        .output()
        .unwrap();
    assert_ok(&out);
    let out = cmd(d, Some("age-test.txt"))
        .args(["decrypt", "--input-type", "yaml", "./-"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(out.stdout, b"other: precious\nb: 2\n");
    // unset of a key only stdin's document has: not found in the file `-`.
    let out = cmd(d, Some("age-test.txt"))
        .args(["unset", "--input-type", "yaml", "-", "[\"a\"]"])
        .write_stdin(elsewhere)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    std::fs::create_dir(d.join("dir.yaml")).unwrap();
    for args in [["decrypt", "dir.yaml"], ["edit", "dir.yaml"]] {
        let out = cmd(d, Some("age-test.txt"))
            .args(args)
            .env("EDITOR", "true")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
