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
