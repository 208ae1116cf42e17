//! `encrypt`: format preservation end to end, in every format and cipher.

use crate::util::*;

const SAMPLES: &[(&str, &str)] = &[
    (
        "a.yaml",
        "# Top comment\napp:\n  name: \"my-app\"   # inline\n  port: 8080\n  ratio: 1.50\n  debug: true\n  empty: \"\"\n  nothing: null\n\ndefaults: &d\n  timeout: 30\nservice:\n  <<: *d\nlist: [a, 'b', 3]\nblock: |\n  line one\n  line two\npassword_unencrypted: visible\n",
    ),
    ("b.json", "{\n  \"b\":   \"a value\",\n \"n\" : 12345678901234567890,\n\t\"nested\": {\"x\": [1, 2.5, true, null, \"s\\u00e9\"]},\n \"empty\": \"\"\n}"),
    ("c.env", "# comment\nDB_USER=admin-user\nDB_PASS=\"quoted value\"\n\nexport TOKEN=abc # inline\nSINGLE='x y'\nEMPTY=\n"),
    ("d.toml", "# comment\ntitle = \"x\"\n[db]\nport = 5432\npass = 'literal'\nwhen = 1979-05-27T07:32:00Z\n\n[[servers]]\nname = \"\"\"\nmulti\n\"\"\"\n"),
];

#[test]
fn round_trip_is_byte_exact_in_every_format() {
    let dir = tempdir();
    for (name, text) in SAMPLES {
        let enc = encrypt_text(dir.path(), name, text, &[]);
        assert!(enc.contains("ENC[XCHACHA20_POLY1305,"), "{name}: {enc}");
        // Each has a character outside base64 or 7 or more letters: a
        // shorter one turns up in random ciphertext now and then.
        for secret in ["my-app", "admin-user", "quoted value", "literal", "a value"] {
            if text.contains(secret) {
                assert!(
                    !enc.contains(secret),
                    "{name}: plaintext {secret} leaked:\n{enc}"
                );
            }
        }
        let out = decrypt_text(dir.path(), &format!("enc-{name}"), &enc, &[]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap(), *text, "{name}");
    }
}

#[test]
fn aes_mode_round_trips_data() {
    let dir = tempdir();
    let text = "a: hello\nb: 2\n";
    let enc = encrypt_text(dir.path(), "x.yaml", text, &["--cipher", "aes256-gcm"]);
    assert!(enc.contains("ENC[AES256_GCM,"));
    let out = decrypt_text(dir.path(), "x.enc.yaml", &enc, &[]);
    assert_ok(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), text);
}

#[test]
fn unencrypted_suffix_stays_clear() {
    let dir = tempdir();
    let enc = encrypt_text(
        dir.path(),
        "x.yaml",
        "a: secret1\nb_unencrypted: visible\n",
        &[],
    );
    assert!(enc.contains("b_unencrypted: visible"));
    assert!(!enc.contains("secret1"));
    assert!(enc.contains("unencrypted_suffix: _unencrypted"));
}

/// `--unencrypted-regex "$VAR"` with `$VAR` empty: sops treats an empty
/// selector flag as not given. Taken as a selector, an empty suffix or regex
/// matches every key and would leave every value in plaintext.
#[test]
fn an_empty_selector_flag_counts_as_not_given() {
    let dir = tempdir();
    for flag in [
        "--unencrypted-suffix",
        "--encrypted-suffix",
        "--unencrypted-regex",
        "--encrypted-regex",
        "--unencrypted-comment-regex",
        "--encrypted-comment-regex",
    ] {
        let enc = encrypt_text(
            dir.path(),
            "x.yaml",
            "password: hunter2\nb_unencrypted: visible\n",
            &[flag, ""],
        );
        assert!(!enc.contains("hunter2"), "{flag} \"\": {enc}");
        assert!(enc.contains("b_unencrypted: visible"), "{flag} \"\": {enc}");
        assert!(
            enc.contains("unencrypted_suffix: _unencrypted"),
            "{flag} \"\": {enc}"
        );
    }
}
#[test]
fn already_encrypted_is_refused_with_203() {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "x.yaml", "a: 1\n", &[]);
    let path = dir.path().join("again.yaml");
    std::fs::write(&path, &enc).unwrap();
    let out = cmd(dir.path(), None)
        .args(["encrypt", "--age", &demo_recipient()])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(203));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already encrypted"));
}

#[test]
fn malformed_input_names_file_line_and_column() {
    let dir = tempdir();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, "{\n  \"a\": 1,\n  \"b\": \n}\n").unwrap();
    let out = cmd(dir.path(), None)
        .args(["encrypt", "--age", &demo_recipient()])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.json:"), "{err}");
    assert!(
        err.lines().next().unwrap().contains(":4:") || err.contains(":3:"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

/// No keys given and no config: sops exits 1 (measured; the codes table's
/// NoEncryptionKeyFound, 111, is not what it returns here).
#[test]
fn no_recipients_is_exit_1_as_in_sops() {
    let dir = tempdir();
    let path = dir.path().join("x.yaml");
    std::fs::write(&path, "a: 1\n").unwrap();
    let out = cmd(dir.path(), None)
        .arg("encrypt")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no recipients"));
}

/// An invalid `--age` recipient: one error line naming it and why (once),
/// the hint, exit 1, no output.
#[test]
fn invalid_recipient_is_named_once() {
    let dir = tempdir();
    let path = dir.path().join("x.yaml");
    std::fs::write(&path, "a: 1\n").unwrap();
    for (recipient, why) in [
        ("age1xyz", "Bech32"),
        ("ssh-ed25519 AAAA", "ssh-ed25519"),
        ("bob", "expected an age1"),
    ] {
        let out = cmd(dir.path(), None)
            .args(["encrypt", "--age", recipient])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("error: invalid age recipient {recipient:?}: "))
                && first.contains(why),
            "{err}"
        );
        assert_eq!(err.matches("invalid age recipient").count(), 1, "{err}");
        assert!(
            err.contains("hint: age recipients look like age1…"),
            "{err}"
        );
    }
}

#[test]
fn in_place_keeps_permissions_and_stdin_needs_a_type() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let path = dir.path().join("x.yaml");
    std::fs::write(&path, "a: secret\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = cmd(dir.path(), None)
        .args(["encrypt", "-i", "--age", &demo_recipient()])
        .arg(&path)
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(out.stdout.is_empty());
    let enc = std::fs::read_to_string(&path).unwrap();
    assert!(enc.contains("sops:") && !enc.contains("secret\n"));
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
    // No leftover temp files.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    let out = cmd(dir.path(), None)
        .args(["encrypt", "--age", &demo_recipient()])
        .write_stdin("a: 1\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8));
    let out = cmd(dir.path(), None)
        .args([
            "encrypt",
            "--input-type",
            "yaml",
            "--age",
            &demo_recipient(),
            "-",
        ])
        .write_stdin("a: 1\n")
        .output()
        .unwrap();
    assert!(out.status.success());
}

/// docs/format.md, "What AES256_GCM mode cannot keep": sops's value model
/// canonicalises these spellings (its MAC is over the canonical text), so
/// in sops-compatible mode they come back canonical; the real sops agrees
/// (sops_write::sops_decrypts_what_we_write_in_aes_mode checks the MAC).
#[test]
fn aes_mode_canonicalises_what_sops_canonicalises() {
    let dir = tempdir();
    let text = "ratio: 1.50\nhex: 0x1F\nexp: 1e3\nday: 2024-01-02\nquoted: \"my-app\"\nblock: |\n  a\n  b\nword: 'yes'\n";
    let enc = encrypt_text(dir.path(), "c.yaml", text, &["--cipher", "aes256-gcm"]);
    let out = decrypt_text(dir.path(), "c.enc.yaml", &enc, &[]);
    assert_ok(&out);
    let got = String::from_utf8(out.stdout).unwrap();
    for line in [
        "ratio: 1.5\n",
        "hex: 31\n",
        "exp: 1000",
        "day: 2024-01-02T00:00:00Z\n",
        "quoted: my-app\n",
        "block: \"a\\nb\\n\"\n",
    ] {
        assert!(got.contains(line), "{line:?} not in\n{got}");
    }
    assert!(
        got.contains("word: 'yes'") || got.contains("word: \"yes\""),
        "yes must stay a string\n{got}"
    );
    // The same file with the default cipher keeps every spelling.
    let enc = encrypt_text(dir.path(), "d.yaml", text, &[]);
    let out = decrypt_text(dir.path(), "d.enc.yaml", &enc, &[]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), text);
}

#[test]
fn aes_mode_refuses_aliases_of_encrypted_values() {
    let dir = tempdir();
    let path = dir.path().join("a.yaml");
    std::fs::write(&path, "base: &b\n  t: 30\nsvc:\n  <<: *b\n").unwrap();
    let out = cmd(dir.path(), None)
        .args([
            "encrypt",
            "--cipher",
            "aes256-gcm",
            "--age",
            &demo_recipient(),
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(23));
    assert!(String::from_utf8_lossy(&out.stderr).contains("aliases"));
    let out = cmd(dir.path(), None)
        .args(["encrypt", "--age", &demo_recipient()])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
}

/// The streamed output: a large file (several windows) written to stdout
/// and with --output round-trips; a full device is a write error (exit 3)
/// and a failed --output leaves no temporary file behind.
#[test]
fn streamed_output_round_trips_and_reports_write_errors() {
    let dir = tempdir();
    let text: String = (0..40_000).map(|i| format!("k{i}: secret{i}\n")).collect();
    let enc = encrypt_text(dir.path(), "big.yaml", &text, &[]);
    let out = decrypt_text(dir.path(), "big.enc.yaml", &enc, &[]);
    assert_ok(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), text);

    let target = dir.path().join("out.enc.yaml");
    let run = cmd(dir.path(), None)
        .arg("encrypt")
        .args(["--age", &demo_recipient()])
        .arg("--output")
        .arg(&target)
        .arg(dir.path().join("big.yaml"))
        .output()
        .unwrap();
    assert_ok(&run);
    assert!(run.stdout.is_empty());
    let out = decrypt_text(
        dir.path(),
        "out2.enc.yaml",
        &std::fs::read_to_string(&target).unwrap(),
        &[],
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), text);

    if std::path::Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let run = std::process::Command::new(assert_cmd::cargo::cargo_bin!("sops-like"))
            .env_clear()
            .env("HOME", dir.path())
            .current_dir(dir.path())
            .arg("encrypt")
            .args(["--age", &demo_recipient()])
            .arg(dir.path().join("big.yaml"))
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(
            run.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(err.contains("could not write to stdout"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".sops-like-"))
        .collect();
    assert!(leftovers.is_empty());
}

/// A YAML file whose top-level keys are indented with a tab is refused
/// (exit 2, as sops), and `-i` leaves it as it was: encrypted, its `sops:`
/// key could not match that indentation and the file would not decrypt.
#[test]
fn tab_indented_top_level_yaml_is_refused_and_left_alone() {
    let dir = tempdir();
    let path = dir.path().join("t.yaml");
    let text = "\tu: secret\n";
    std::fs::write(&path, text).unwrap();
    for in_place in [false, true] {
        let mut c = cmd(dir.path(), None);
        c.args(["encrypt", "--age", &demo_recipient()]);
        if in_place {
            c.arg("-i");
        }
        let out = c.arg(&path).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains("t.yaml:1:2"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
}
