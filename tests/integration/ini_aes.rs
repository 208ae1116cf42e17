//! INI files meant for sops (`AES256_GCM`), against the real sops 3.11
//! (audit F: F1, F4, F8): comment runs are one comment for sops (go-ini
//! joins them, sops decrypts only the first `ENC[…]` of a comment), a
//! comment marker above a key selects the key after it (sops's tree holds
//! a key's comment after the key), and a sops-written file with a value
//! that is not UTF-8 is refused with a clear message, not as tampered.

use crate::util::*;
use sops_like_format::walk::{walk, Leaf};
use sops_like_format::{Format, Value};
use std::path::Path;

fn run(c: &mut assert_cmd::Command, what: &str) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Each value of an encrypted INI file: its path and whether it is encrypted.
fn selection(text: &str) -> Vec<(String, bool)> {
    let parsed = Format::Ini.syntax().parse(text).unwrap();
    let mut out = Vec::new();
    walk(&parsed.tree, |place, leaf| {
        if let Leaf::Value(s) = leaf {
            let enc = matches!(&s.value, Value::Str(t) if t.starts_with("ENC["));
            out.push((place.path.join("."), enc));
        }
    });
    out
}

/// Encrypt `text` as `name` with sops and with sops-like (AES), `flags`
/// added to both; returns (sops's file, sops-like's file), or `None`
/// without sops.
fn both(home: &Path, name: &str, text: &str, flags: &[&str]) -> Option<(String, String)> {
    let plain = home.join(name);
    std::fs::write(&plain, text).unwrap();
    let mut c = sops(home, "age-test.txt")?;
    c.current_dir(home)
        .args(["-e", "--age", &demo_recipient()])
        .args(flags)
        .arg(&plain);
    let theirs = run(&mut c, "sops encrypt");
    let mut c = encrypt_aes(home);
    c.args(flags).arg(&plain);
    let ours = run(&mut c, "sops-like encrypt");
    Some((theirs, ours))
}

/// `sops decrypt` of `text` written to `name`.
fn sops_decrypt(home: &Path, name: &str, text: &str) -> Option<String> {
    let path = home.join(name);
    std::fs::write(&path, text).unwrap();
    let mut c = sops(home, "age-test.txt")?;
    c.arg("decrypt").arg(&path);
    Some(run(&mut c, "sops decrypt"))
}

const RUNS: &[&str] = &[
    "[s]\n; c1\n; c2\n; c3\na = 1\n",
    "; top\n# hash\n[section]\nk = v\n",
    "; top\n\n  # indented, after a blank line\n[s]\n;x\n;;y\n#  z  \r\nc = 3\n",
    "a = 1\n; one\n; two\nb = 2\n[t]\n# three\n# four\nc = 3\n",
];

/// F1: sops reads every line of a comment run of a sops-like file (as
/// its own), also after `sops set` rewrote the file.
#[test]
fn ini_comment_runs_are_one_comment_for_sops() {
    let dir = tempdir();
    let home = dir.path();
    for (i, text) in RUNS.iter().enumerate() {
        let Some((theirs, ours)) = both(home, &format!("r{i}.ini"), text, &[]) else {
            return;
        };
        let want = sops_decrypt(home, &format!("r{i}.s.ini"), &theirs).unwrap();
        let got = sops_decrypt(home, &format!("r{i}.l.ini"), &ours).unwrap();
        assert_eq!(got, want, "{text:?}\n{ours}");
        assert_eq!(
            ours.matches("type:comment]").count(),
            theirs.matches("type:comment]").count(),
            "{text:?}\n{ours}"
        );
        // sops-like gives the comment lines back.
        let out = decrypt_text(home, &format!("r{i}.l.ini"), &ours, &[]);
        assert_ok(&out);
        let back = String::from_utf8(out.stdout).unwrap();
        for line in text
            .lines()
            .filter(|l| l.trim_start().starts_with([';', '#']))
        {
            assert!(back.contains(line.trim()), "{line:?} lost: {back}");
        }
    }
    // `sops set` keeps them.
    let path = home.join("set.ini");
    std::fs::write(&path, RUNS[0]).unwrap();
    let mut c = encrypt_aes(home);
    c.args(["-i"]).arg(&path);
    run(&mut c, "sops-like encrypt -i");
    let mut c = sops(home, "age-test.txt").unwrap();
    c.arg("set").arg(&path).args([r#"["s"]["b"]"#, r#""2""#]);
    run(&mut c, "sops set");
    let mut c = cmd(home, Some("age-test.txt"));
    c.arg("decrypt").arg(&path);
    let back = run(&mut c, "sops-like decrypt");
    assert!(back.contains("c1\n; c2\n; c3"), "{back}");
}

const MARKED: &[&str] = &[
    "[db]\nhost = h\n; sops:enc\npassword = secret\nuser = admin\n",
    "[x]\na = 1\n; sops:enc\nk = v\n",
    "; sops:enc\n[s]\na = 1\nb = 2\n",
    "[s]\n; sops:enc\na = 1\nb = 2\nc = 3\n",
    "top = 1\n; note\n; sops:enc\nnext = 2\nlast = 3\n[t]\nk = v ; sops:enc\nl = w\n",
];

/// F4: a marker comment selects in a sops-like AES file what it selects
/// for sops (the key after the one below the marker), and sops reads it.
#[test]
fn ini_comment_markers_select_what_sops_selects() {
    let dir = tempdir();
    let home = dir.path();
    for flag in ["--encrypted-comment-regex", "--unencrypted-comment-regex"] {
        for (i, text) in MARKED.iter().enumerate() {
            let name = format!("m{i}{}.ini", flag.len());
            let Some((theirs, ours)) = both(home, &name, text, &[flag, "sops:enc"]) else {
                return;
            };
            assert_eq!(
                selection(&ours),
                selection(&theirs),
                "{flag} {text:?}\n{ours}\n--- sops:\n{theirs}"
            );
            let want = sops_decrypt(home, "s.ini", &theirs).unwrap();
            assert_eq!(sops_decrypt(home, "l.ini", &ours).unwrap(), want);
        }
    }
}

/// F8: a value sops stored as bytes that are not UTF-8 (a Latin-1 .env or
/// INI file) is refused with a message that says so and exit 4, not as a
/// tampered file (25).
#[test]
fn non_utf8_values_of_sops_files_are_refused_clearly() {
    let dir = tempdir();
    let home = dir.path();
    for (name, bytes) in [
        ("l1.env", &b"A=caf\xe9\nB=ok\n"[..]),
        ("l1.ini", &b"[s]\na = caf\xe9\n"[..]),
    ] {
        let plain = home.join(name);
        std::fs::write(&plain, bytes).unwrap();
        let Some(mut c) = sops(home, "age-test.txt") else {
            return;
        };
        c.args(["encrypt", "--age", &demo_recipient()]).arg(&plain);
        let enc = c.output().unwrap();
        assert!(enc.status.success());
        let path = home.join(format!("enc.{name}"));
        std::fs::write(&path, &enc.stdout).unwrap();
        for args in [&["decrypt"][..], &["decrypt", "--output-type", "json"]] {
            let out = cmd(home, Some("age-test.txt"))
                .args(args)
                .arg(&path)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(4), "{name} {args:?}: {err}");
            assert!(err.contains("not UTF-8"), "{name}: {err}");
            assert!(!err.contains("caf"), "{name}: {err}");
        }
    }
}

/// In AES mode a marker above `password` leaves it in clear (sops's
/// reading): sops-like says so on stderr, naming the key, never the value;
/// in XChaCha mode the marker selects `password` itself and nothing is said.
#[test]
fn a_marker_that_sops_reads_elsewhere_is_warned_about() {
    let dir = tempdir();
    let plain = dir.path().join("m.ini");
    std::fs::write(
        &plain,
        "[db]\nhost = h\n; sops:enc\npassword = hunter2\nuser = u\n",
    )
    .unwrap();
    let encrypt = |cipher: &str| {
        cmd(dir.path(), Some("age-test.txt"))
            .args(["encrypt", "--cipher", cipher, "--age", &demo_recipient()])
            .args(["--encrypted-comment-regex", "sops:enc"])
            .arg(&plain)
            .output()
            .unwrap()
    };
    let aes = encrypt("aes256-gcm");
    assert_ok(&aes);
    let err = String::from_utf8_lossy(&aes.stderr);
    assert!(
        err.contains(r#"["db"]["password"] stays in clear"#),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    assert!(String::from_utf8_lossy(&aes.stdout).contains("password = hunter2"));
    let xchacha = encrypt("xchacha20-poly1305");
    assert_ok(&xchacha);
    assert!(!String::from_utf8_lossy(&xchacha.stderr).contains("warning"));
    assert!(!String::from_utf8_lossy(&xchacha.stdout).contains("hunter2"));
}

/// A comment after a section header (`[db] ; note`) is encrypted, as sops
/// encrypts it: in AES mode on a line of its own above the header, where
/// sops writes it (in place, go-ini would read it as part of the name);
/// in sops-like's own files in place, and given back byte for byte. It
/// was left in clear. Text after the `]` that go-ini ignores is refused.
#[test]
fn a_section_headers_comment_is_encrypted_as_sops_encrypts_it() {
    let dir = tempdir();
    let home = dir.path();
    let texts = [
        "[db] ; admin password is hunter2\nuser = admin\n",
        "; db settings\n[db] # hunter2 note\nuser = admin\n",
        "a = 1\n  [db]\t;  hunter2  \r\nuser = admin\r\n",
    ];
    for (i, text) in texts.iter().enumerate() {
        let Some((theirs, ours)) = both(home, &format!("h{i}.ini"), text, &[]) else {
            return;
        };
        assert!(!ours.contains("hunter2"), "{ours}");
        let want = sops_decrypt(home, &format!("h{i}.s.ini"), &theirs).unwrap();
        let got = sops_decrypt(home, &format!("h{i}.l.ini"), &ours).unwrap();
        assert_eq!(got, want, "{text:?}\n{ours}");
        // sops-like reads its file: the comment, above the header.
        let out = decrypt_text(home, &format!("h{i}.l.ini"), &ours, &[]);
        assert_ok(&out);
        let back = String::from_utf8(out.stdout).unwrap();
        assert!(back.contains("hunter2"), "{back}");
        // sops-like's own cipher: in place, byte for byte.
        let plain = home.join(format!("x{i}.ini"));
        std::fs::write(&plain, text).unwrap();
        let mut c = cmd(home, None);
        c.args(["encrypt", "--age", &demo_recipient()]).arg(&plain);
        let enc = run(&mut c, "sops-like encrypt");
        assert!(!enc.contains("hunter2"), "{enc}");
        let out = decrypt_text(home, &format!("x{i}.enc.ini"), &enc, &[]);
        assert_ok(&out);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), *text);
    }
    let plain = home.join("stray.ini");
    std::fs::write(&plain, "[db] password = hunter2\nuser = admin\n").unwrap();
    for aes in [false, true] {
        let mut c = if aes {
            encrypt_aes(home)
        } else {
            cmd(home, None)
        };
        if !aes {
            c.args(["encrypt", "--age", &demo_recipient()]);
        }
        let out = c.arg(&plain).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("stray.ini:1:6") && !err.contains("hunter2"),
            "{err}"
        );
    }
}

/// sops-like wrote `## note` for sops as `## ENC[…]` (sops encrypts the
/// text after the whole run of markers) and could not decrypt it: it
/// printed the `ENC[…]` text. Both tools now read the file, also files
/// written before.
#[test]
fn comments_after_a_run_of_markers_decrypt() {
    let dir = tempdir();
    let home = dir.path();
    let text = "## Database settings\n[db]\n;; the admin password\npassword = hunter2\nuser = admin ;; inline note\n# # nested\nk = v\n";
    let Some((theirs, ours)) = both(home, "m.ini", text, &[]) else {
        return;
    };
    assert!(ours.contains("## ENC[AES256_GCM,"), "{ours}");
    let want = sops_decrypt(home, "m.s.ini", &theirs).unwrap();
    let got = sops_decrypt(home, "m.l.ini", &ours).unwrap();
    assert_eq!(got, want);
    let out = decrypt_text(home, "m.l.ini", &ours, &[]);
    assert_ok(&out);
    let back = String::from_utf8(out.stdout).unwrap();
    assert!(!back.contains("ENC["), "{back}");
    assert_eq!(back, text);
}

/// A comment whose first line is only markers, with more comment text
/// after it: sops 3.11 panics writing it (go-ini), so it cannot decrypt a
/// file holding it, even its own. AES mode refuses it (exit 23, nothing
/// written); sops-like's own cipher keeps it; sops's files holding it
/// still decrypt.
#[test]
fn comments_sops_cannot_write_are_refused_in_aes_mode() {
    let dir = tempdir();
    let home = dir.path();
    let text = "[db]\n;\n; note\npassword = hunter2\n";
    let plain = home.join("e.ini");
    std::fs::write(&plain, text).unwrap();
    let Some(mut c) = sops(home, "age-test.txt") else {
        return;
    };
    c.current_dir(home)
        .args(["encrypt", "--age", &demo_recipient()])
        .arg(&plain);
    let theirs = run(&mut c, "sops encrypt");
    let path = home.join("e.s.ini");
    std::fs::write(&path, &theirs).unwrap();
    let mut c = sops(home, "age-test.txt").unwrap();
    let out = c.arg("decrypt").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "sops decrypts it now: {out:?}");
    let mut c = encrypt_aes(home);
    let out = c.arg(&plain).output().unwrap();
    assert_eq!(out.status.code(), Some(23), "{out:?}");
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("line 2") && err.contains("xchacha20-poly1305"),
        "{err}"
    );
    let out = decrypt_text(home, "e.s2.ini", &theirs, &[]);
    assert_ok(&out);
    let mut c = cmd(home, None);
    c.args(["encrypt", "--age", &demo_recipient()]).arg(&plain);
    let enc = run(&mut c, "sops-like encrypt");
    let out = decrypt_text(home, "e.enc.ini", &enc, &[]);
    assert_ok(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), text);
}
