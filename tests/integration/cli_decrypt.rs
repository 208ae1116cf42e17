//! `decrypt`: keys, MAC, errors, --extract, --output-type.

use crate::util::*;

const DOC: &str =
    "app:\n  name: my-app\n  port: 8080\n  list:\n    - first\n    - second\ntoken: s3cr3t-token\n";

#[test]
fn tampered_value_is_refused_without_output() {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "x.yaml", DOC, &[]);
    // Swap two ciphertexts: both authenticate only at their own path.
    let lines: Vec<&str> = enc.lines().collect();
    let name = lines
        .iter()
        .position(|l| l.trim_start().starts_with("name:"))
        .unwrap();
    let token = lines.iter().position(|l| l.starts_with("token:")).unwrap();
    let mut swapped: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    let name_val = lines[name].split_once(": ").unwrap().1.to_string();
    let token_val = lines[token].split_once(": ").unwrap().1.to_string();
    swapped[name] = format!("  name: {token_val}");
    swapped[token] = format!("token: {name_val}");
    let out = decrypt_text(
        dir.path(),
        "swapped.yaml",
        &(swapped.join("\n") + "\n"),
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(25),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("s3cr3t"));
}

#[test]
fn changed_cleartext_value_is_a_mac_mismatch() {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "x.yaml", "a: 1\nb_unencrypted: visible\n", &[]);
    let tampered = enc.replace("b_unencrypted: visible", "b_unencrypted: changed");
    let out = decrypt_text(dir.path(), "t.yaml", &tampered, &[]);
    assert_eq!(out.status.code(), Some(51));
    assert!(out.stdout.is_empty());
    let out = decrypt_text(dir.path(), "t.yaml", &tampered, &["--ignore-mac"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "a: 1\nb_unencrypted: changed\n"
    );
}

#[test]
fn plaintext_file_has_no_metadata() {
    let dir = tempdir();
    let out = decrypt_text(dir.path(), "plain.yaml", "a: 1\n", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("metadata not found"));
}

#[test]
fn wrong_identity_lists_recipients_and_sources() {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "x.yaml", DOC, &[]);
    let path = dir.path().join("x.enc.yaml");
    std::fs::write(&path, &enc).unwrap();
    let out = cmd(dir.path(), Some("age-test-2.txt"))
        .arg("decrypt")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(128));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&demo_recipient()), "{err}");
    assert!(err.contains("age-test-2.txt"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn identity_from_env_text_and_default_location() {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "x.yaml", DOC, &[]);
    let path = dir.path().join("x.enc.yaml");
    std::fs::write(&path, &enc).unwrap();
    let key_text = std::fs::read_to_string(key("age-test.txt")).unwrap();
    let out = cmd(dir.path(), None)
        .env("SOPS_AGE_KEY", &key_text)
        .arg("decrypt")
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let home = tempdir();
    std::fs::create_dir_all(home.path().join(".config/sops/age")).unwrap();
    std::fs::write(home.path().join(".config/sops/age/keys.txt"), &key_text).unwrap();
    let out = cmd(home.path(), None)
        .arg("decrypt")
        .arg(&path)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), DOC);
}

#[test]
fn ssh_recipients_and_identities() {
    let dir = tempdir();
    let pubkey = std::fs::read_to_string(key("id_ed25519.pub")).unwrap();
    let path = dir.path().join("x.yaml");
    std::fs::write(&path, DOC).unwrap();
    let out = cmd(dir.path(), None)
        .arg("encrypt")
        .args(["--age", pubkey.trim()])
        .arg(&path)
        .output()
        .unwrap();
    assert_ok(&out);
    let enc_path = dir.path().join("x.enc.yaml");
    std::fs::write(&enc_path, &out.stdout).unwrap();
    let out = cmd(dir.path(), None)
        .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", key("id_ed25519"))
        .arg("decrypt")
        .arg(&enc_path)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), DOC);
}

#[test]
fn extract_prints_values_and_subtrees() {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "x.yaml", DOC, &[]);
    let out = decrypt_text(
        dir.path(),
        "x.enc.yaml",
        &enc,
        &["--extract", r#"["token"]"#],
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "s3cr3t-token");
    let out = decrypt_text(
        dir.path(),
        "x.enc.yaml",
        &enc,
        &["--extract", r#"["app"]["list"][1]"#],
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "second");
    let out = decrypt_text(
        dir.path(),
        "x.enc.yaml",
        &enc,
        &["--extract", r#"["app"]["port"]"#],
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "8080\n");
    let out = decrypt_text(
        dir.path(),
        "x.enc.yaml",
        &enc,
        &["--extract", r#"["app"]"#, "--output-type", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["name"], "my-app");
    let out = decrypt_text(
        dir.path(),
        "x.enc.yaml",
        &enc,
        &["--extract", r#"["nope"]"#],
    );
    assert_eq!(out.status.code(), Some(1));
    let out = decrypt_text(dir.path(), "x.enc.yaml", &enc, &["--extract", "app.name"]);
    assert_eq!(out.status.code(), Some(91));
}

#[test]
fn output_type_converts() {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "x.yaml", DOC, &[]);
    let out = decrypt_text(dir.path(), "x.enc.yaml", &enc, &["--output-type", "json"]);
    assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["app"]["port"].as_f64(), Some(8080.0));
    assert_eq!(v["token"], "s3cr3t-token");
}

#[test]
fn decrypt_in_place_and_output_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "x.yaml", DOC, &[]);
    let path = dir.path().join("x.enc.yaml");
    std::fs::write(&path, &enc).unwrap();
    let out_path = dir.path().join("plain.yaml");
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("decrypt")
        .arg("--output")
        .arg(&out_path)
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&out_path).unwrap(), DOC);
    assert_eq!(
        std::fs::metadata(&out_path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["decrypt", "-i"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), DOC);
}

#[test]
fn filestatus_reports() {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "x.yaml", DOC, &[]);
    let path = dir.path().join("x.enc.yaml");
    std::fs::write(&path, &enc).unwrap();
    let out = cmd(dir.path(), None)
        .arg("filestatus")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"encrypted\":true}\n"
    );
    let out = cmd(dir.path(), None)
        .arg("filestatus")
        .arg(dir.path().join("x.yaml"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\"encrypted\":false}\n"
    );
}

/// A .env file of many windows (decrypted from disk a window at a time):
/// the exact plaintext, the same failures as any other file (a moved value
/// exits 25, a changed clear value 51, both without output), `-i`, and a
/// file with a metadata line in its middle (read whole) still decrypts,
/// also when the lines that wrap the data key are above a data line.
#[test]
fn large_dotenv_files_decrypt_a_window_at_a_time() {
    let dir = tempdir();
    let mut doc = String::from("\u{feff}# head\n");
    for i in 0..10_000 {
        match i % 5 {
            0 => doc.push_str(&format!("KEY_{i}=value-{i}\n")),
            1 => doc.push_str(&format!("export Q_{i}=\"two\\nlines {i}\"\n")),
            2 => doc.push_str(&format!("# note {i}\n\n")),
            3 => doc.push_str(&format!("OPEN_{i}_unencrypted=clear {i}\r\n")),
            _ => doc.push_str(&format!("M_{i}=\"multi\nline ü {i}\"\n")),
        }
    }
    doc.push_str("LAST=end");
    let enc = encrypt_text(dir.path(), "big.env", &doc, &[]);
    let out = decrypt_text(dir.path(), "big.enc.env", &enc, &[]);
    assert_ok(&out);
    assert!(out.stdout == doc.as_bytes(), "plaintext differs");

    let key0 = enc.lines().find(|l| l.starts_with("KEY_0=")).unwrap();
    let last = enc.lines().find(|l| l.starts_with("LAST=")).unwrap();
    let swapped = enc
        .replace(key0, "@@")
        .replace(last, &format!("LAST={}", key0.trim_start_matches("KEY_0=")))
        .replace("@@", &format!("KEY_0={}", last.trim_start_matches("LAST=")));
    let out = decrypt_text(dir.path(), "swapped.env", &swapped, &[]);
    assert_refused(&out, 25);

    let (was, now) = (
        "OPEN_8_unencrypted=clear 8\r",
        "OPEN_8_unencrypted=clear 9\r",
    );
    let changed = enc.replace(was, now);
    let out = decrypt_text(dir.path(), "changed.env", &changed, &[]);
    assert_refused(&out, 51);
    let out = decrypt_text(dir.path(), "changed.env", &changed, &["--ignore-mac"]);
    assert_ok(&out);
    assert!(out.stdout == doc.replace(was, now).as_bytes());

    // A metadata line moved to the middle: read whole, same plaintext.
    let version = enc
        .lines()
        .find(|l| l.starts_with("sops_version="))
        .unwrap();
    let inner = enc.replace(&format!("{version}\n"), "").replacen(
        "KEY_5=",
        &format!("{version}\nKEY_5="),
        1,
    );
    let out = decrypt_text(dir.path(), "inner.env", &inner, &[]);
    assert_ok(&out);
    assert!(out.stdout == doc.as_bytes(), "plaintext differs");

    // A data line between the `sops_` lines, below those that wrap the
    // data key: the key unwraps from the whole file's metadata, as sops
    // reads it (the tail alone has no recipient).
    let age_lines: String = enc
        .lines()
        .filter(|l| l.starts_with("sops_age__"))
        .map(|l| format!("{l}\n"))
        .collect();
    let last_line = enc.lines().find(|l| l.starts_with("LAST=")).unwrap();
    let split = enc.replace(&age_lines, "").replace(
        &format!("{last_line}\n"),
        &format!("{age_lines}{last_line}\n"),
    );
    assert!(split.find(&age_lines).unwrap() < split.find(last_line).unwrap());
    let out = decrypt_text(dir.path(), "split.env", &split, &[]);
    assert_ok(&out);
    assert!(out.stdout == doc.as_bytes(), "plaintext differs");

    let path = dir.path().join("inplace.env");
    std::fs::write(&path, &enc).unwrap();
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["decrypt", "-i"])
        .arg(&path)
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(std::fs::read(&path).unwrap() == doc.as_bytes());
}

/// The command failed with `code` and printed nothing.
fn assert_refused(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

/// A YAML file of many windows (decrypted from disk a window at a time):
/// the exact plaintext, the same failures as when read whole (a moved
/// value exits 25, a changed clear value 51, both without output), and a
/// file with an alias (read whole) still decrypts.
#[test]
fn large_yaml_files_decrypt_a_window_at_a_time() {
    let dir = tempdir();
    let mut doc = String::from("# head\n");
    for i in 0..3000 {
        doc.push_str(&format!(
            "svc_{i}:\n  # about {i}\n  port: {i}\n  name: \"n {i}\"\n  note: |\n    line {i}\n  tags: [a, 'b {i}']\n  open_unencrypted: clear {i}\n"
        ));
    }
    let enc = streams_exactly(dir.path(), "yaml", &doc, "  port: ");

    let (was, now) = ("open_unencrypted: clear 7\n", "open_unencrypted: clear X\n");
    let changed = enc.replacen(was, now, 1);
    assert_refused(&decrypt_text(dir.path(), "changed.yaml", &changed, &[]), 51);

    let aliased = encrypt_text(
        dir.path(),
        "alias.yaml",
        &format!("base: &b 1\n{doc}again: *b\n"),
        &[],
    );
    let out = decrypt_text(dir.path(), "alias.enc.yaml", &aliased, &[]);
    assert_ok(&out);
    assert!(out.stdout == format!("base: &b 1\n{doc}again: *b\n").as_bytes());
}

/// A TOML file of many windows decrypts from disk a window at a time to
/// its exact plaintext; a moved value still exits 25 without output.
#[test]
fn large_toml_files_decrypt_a_window_at_a_time() {
    let dir = tempdir();
    let mut doc = String::from("title = \"t\"\n");
    for i in 0..3000 {
        doc.push_str(&format!(
            "[svc_{i}]\nport = {i}\nname = \"n {i}\" # c\n[[svc_{i}.tags]]\nv = 'x {i}'\n"
        ));
    }
    streams_exactly(dir.path(), "toml", &doc, "port = ");
}

/// A JSON file of many windows (members over several lines, nested
/// objects and arrays) decrypts from disk a window at a time to its exact
/// plaintext; a moved value still exits 25 without output.
#[test]
fn large_json_files_decrypt_a_window_at_a_time() {
    let dir = tempdir();
    let mut doc = String::from("{\n  \"title\": \"t\",");
    for i in 0..3000 {
        doc.push_str(&format!(
            "\n  \"svc_{i}\": {{\n    \"port\": {i},\n    \"name\": \"n, {i}\",\n    \"tags\": [\n      \"x {i}\",\n      {{\"v\": true}}\n    ]\n  }},"
        ));
    }
    doc.push_str("\n  \"end\": null\n}\n");
    streams_exactly(dir.path(), "json", &doc, "    \"port\": ");
}

/// Encrypt the large document `doc` (extension `ext`), check that it
/// decrypts to exactly `doc`, and that swapping the values of its first
/// and last lines starting with `value_line` exits 25 without output;
/// returns the encrypted text.
fn streams_exactly(dir: &std::path::Path, ext: &str, doc: &str, value_line: &str) -> String {
    let enc = encrypt_text(dir, &format!("big.{ext}"), doc, &[]);
    assert!(enc.len() > 1 << 20);
    let out = decrypt_text(dir, &format!("big.enc.{ext}"), &enc, &[]);
    assert_ok(&out);
    assert!(out.stdout == doc.as_bytes(), "plaintext differs");
    let lines: Vec<&str> = enc.lines().filter(|l| l.starts_with(value_line)).collect();
    let (first, last) = (lines[0], lines[lines.len() - 1]);
    let swapped = enc
        .replacen(first, "@@", 1)
        .replacen(last, first, 1)
        .replacen("@@", last, 1);
    let out = decrypt_text(dir, &format!("swapped.{ext}"), &swapped, &[]);
    assert_refused(&out, 25);
    enc
}

/// A file whose keys are all age keys is encrypted and decrypted without
/// the key services' settings: here `~/.vault-token` is a FIFO that no one
/// writes, so a run that read it would wait until the timeout.
#[test]
fn age_only_runs_read_no_service_token() {
    let dir = tempdir();
    let home = dir.path();
    let made = std::process::Command::new("mkfifo")
        .arg(home.join(".vault-token"))
        .status()
        .unwrap();
    assert!(made.success());
    let plain = home.join("p.yaml");
    std::fs::write(&plain, "a: secret\n").unwrap();
    let limit = std::time::Duration::from_secs(30);
    let out = cmd(home, None)
        .args(["encrypt", "--age", &demo_recipient()])
        .arg(&plain)
        .timeout(limit)
        .output()
        .unwrap();
    assert_ok(&out);
    let enc = home.join("e.yaml");
    std::fs::write(&enc, &out.stdout).unwrap();
    let out = cmd(home, Some("age-test.txt"))
        .arg("decrypt")
        .arg(&enc)
        .timeout(limit)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "a: secret\n");
}
