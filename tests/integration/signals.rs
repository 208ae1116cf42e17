//! A signal while plaintext is on disk: `exec-file --no-fifo` stops the
//! command and removes the file (sops leaves it behind).

use crate::util::*;
use std::time::{Duration, Instant};

#[test]
fn exec_file_no_fifo_removes_the_plaintext_on_sigterm() {
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
        .args(["exec-file", "--no-fifo"])
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
    assert_eq!(std::fs::read_to_string(&plain).unwrap(), "a: secret\n");
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
