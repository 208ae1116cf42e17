//! Format conversions and less-used formats (differential testing against
//! sops 3.11, session fuzz52): binary input written as JSON or .env, sops's
//! multi-line YAML comments, .env comments and backslashes, INI to .env,
//! a JSON file read as YAML.

use crate::util::*;
use std::path::Path;

/// Run sops-like with the demo identity in `dir`.
fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    cmd(dir, Some("age-test.txt"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Run sops-like, assert success, return stdout.
#[track_caller]
fn ok(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Run sops-like with `args` and write its stdout to `dir/to`.
#[track_caller]
fn ok_to(dir: &Path, args: &[&str], to: &str) {
    let out = ok(dir, args);
    std::fs::write(dir.join(to), out).unwrap();
}

/// [09] Binary input written as JSON with the default cipher decrypts,
/// whatever is asked for; so does an XChaCha binary-store file read as
/// JSON or YAML (its value is raw bytes, not a lexeme).
#[test]
fn xchacha_binary_as_json_decrypts() {
    let dir = tempdir();
    let d = dir.path();
    let r = demo_recipient();
    std::fs::write(d.join("m.bin"), "x").unwrap();
    ok_to(
        d,
        &[
            "encrypt",
            "--age",
            &r,
            "--input-type",
            "binary",
            "--output-type",
            "json",
            "m.bin",
        ],
        "m.json",
    );
    assert_eq!(ok(d, &["decrypt", "m.json"]), b"{\n\t\"data\": \"x\"\n}\n");
    assert_eq!(
        ok(d, &["decrypt", "--output-type", "binary", "m.json"]),
        b"x"
    );
    assert_eq!(
        ok(d, &["decrypt", "--output-type", "yaml", "m.json"]),
        b"data: x\n"
    );
    assert_eq!(
        ok(d, &["decrypt", "--extract", "[\"data\"]", "m.json"]),
        b"x"
    );
    // The same file under a binary-store name gives its bytes.
    std::fs::copy(d.join("m.json"), d.join("m2.bin")).unwrap();
    assert_eq!(ok(d, &["decrypt", "m2.bin"]), b"x");
    // set and rotate read it too.
    ok(d, &["set", "m.json", "[\"data\"]", "\"y\""]);
    ok(d, &["rotate", "-i", "m.json"]);
    assert_eq!(
        ok(d, &["decrypt", "--output-type", "binary", "m.json"]),
        b"y"
    );

    // A binary-store file (raw bytes sealed) read as JSON or YAML.
    std::fs::write(d.join("t.bin"), "true").unwrap();
    ok_to(d, &["encrypt", "--age", &r, "t.bin"], "x.bin");
    assert_eq!(
        ok(
            d,
            &[
                "decrypt",
                "--input-type",
                "yaml",
                "--output-type",
                "json",
                "x.bin"
            ]
        ),
        b"{\n\t\"data\": \"true\"\n}\n"
    );
    assert_eq!(
        ok(d, &["decrypt", "--input-type", "json", "x.bin"]),
        b"true"
    );
    // ... and rotated into a .json name, which decrypts and rotates again.
    ok_to(d, &["rotate", "--output-type", "json", "x.bin"], "r.json");
    assert_eq!(
        ok(d, &["decrypt", "--output-type", "binary", "r.json"]),
        b"true"
    );
    ok(d, &["rotate", "-i", "r.json"]);
    assert_eq!(
        ok(d, &["decrypt", "--extract", "[\"data\"]", "r.json"]),
        b"true"
    );
}

/// [02] Bytes that are not UTF-8, written as JSON (both ciphers, and by
/// sops): `--output-type binary` and `--extract '["data"]'` give them back;
/// a JSON output is refused with a hint.
#[test]
fn non_utf8_binary_as_json_gives_its_bytes_back() {
    let dir = tempdir();
    let d = dir.path();
    let r = demo_recipient();
    let bytes = b"a\xffb";
    std::fs::write(d.join("b.bin"), bytes).unwrap();
    let base = [
        "--age",
        &r,
        "--input-type",
        "binary",
        "--output-type",
        "json",
        "b.bin",
    ];
    let mut files = vec![];
    for (name, extra) in [
        ("x.json", vec![]),
        ("a.json", vec!["--cipher", "aes256-gcm"]),
    ] {
        let mut args = vec!["encrypt"];
        args.extend(extra);
        args.extend(base);
        ok_to(d, &args, name);
        files.push(name);
    }
    let home = d.join("home");
    std::fs::create_dir_all(&home).unwrap();
    if let Some(mut s) = sops(&home, "age-test.txt") {
        let out = s
            .current_dir(d)
            .args(["encrypt"])
            .args(base)
            .output()
            .unwrap();
        assert_ok(&out);
        std::fs::write(d.join("s.json"), out.stdout).unwrap();
        files.push("s.json");
    }
    for f in files {
        assert_eq!(
            ok(d, &["decrypt", "--output-type", "binary", f]),
            bytes,
            "{f}"
        );
        assert_eq!(
            ok(d, &["decrypt", "--extract", "[\"data\"]", f]),
            bytes,
            "{f}"
        );
        let out = run(d, &["decrypt", f]);
        assert_eq!(out.status.code(), Some(4), "{f}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--output-type binary"));
    }
}

/// [01] A sops YAML file whose encrypted comment holds a line break (sops's
/// reading of an INI comment run) decrypts to YAML: every line its own
/// comment at the comment's indentation, as sops writes it.
#[test]
fn multi_line_sops_comment_decrypts_to_yaml() {
    let dir = tempdir();
    let d = dir.path();
    let home = d.join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(d.join("c.ini"), "[s]\n; c1\n; c2\nk = v\n").unwrap();
    let Some(mut s) = sops(&home, "age-test.txt") else {
        return;
    };
    let out = s
        .current_dir(d)
        .args([
            "encrypt",
            "--age",
            &demo_recipient(),
            "--output-type",
            "yaml",
            "c.ini",
        ])
        .output()
        .unwrap();
    assert_ok(&out);
    std::fs::write(d.join("f.yaml"), &out.stdout).unwrap();
    assert_eq!(
        String::from_utf8(ok(d, &["decrypt", "f.yaml"])).unwrap(),
        "DEFAULT: {}\ns:\n    k: v\n    #c1\n    # ; c2\n"
    );
    assert_eq!(
        String::from_utf8(ok(d, &["decrypt", "--output-type", "json", "f.yaml"])).unwrap(),
        "{\n\t\"DEFAULT\": {},\n\t\"s\": {\n\t\t\"k\": \"v\"\n\t}\n}\n"
    );
    assert_eq!(
        String::from_utf8(ok(d, &["decrypt", "--extract", "[\"s\"]", "f.yaml"])).unwrap(),
        "k: v\n#c1\n# ; c2\n"
    );
    std::fs::copy(d.join("f.yaml"), d.join("g.yaml")).unwrap();
    ok(d, &["set", "g.yaml", "[\"s\"][\"k\"]", "\"w\""]);
    ok(d, &["rotate", "-i", "f.yaml"]);
    assert_eq!(
        ok(d, &["decrypt", "--extract", "[\"s\"][\"k\"]", "g.yaml"]),
        b"w"
    );
}

/// [08] Binary input with a literal `\n` written as .env: sealed as it is
/// with AES256_GCM (sops and sops-like give the exact bytes back, also
/// from sops's own file); refused with the default cipher, whose .env
/// value is its text.
#[test]
fn binary_into_dotenv_keeps_backslash_n() {
    let dir = tempdir();
    let d = dir.path();
    let r = demo_recipient();
    let bytes = b"echo \"a\\nb\"\n";
    std::fs::write(d.join("s.sh"), bytes).unwrap();
    let args = [
        "--age",
        &r,
        "--input-type",
        "binary",
        "--output-type",
        "dotenv",
        "s.sh",
    ];
    let mut aes = vec!["encrypt", "--cipher", "aes256-gcm"];
    aes.extend(args);
    ok_to(d, &aes, "a.env");
    assert_eq!(
        ok(d, &["decrypt", "--output-type", "binary", "a.env"]),
        bytes
    );
    assert_eq!(
        ok(d, &["decrypt", "--output-type", "json", "a.env"]),
        b"{\n\t\"data\": \"echo \\\"a\\\\nb\\\"\\n\"\n}\n"
    );
    let mut x = vec!["encrypt"];
    x.extend(args);
    let out = run(d, &x);
    assert_eq!(out.status.code(), Some(4));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cipher aes256-gcm"));
    let home = d.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let Some(mut s) = sops(&home, "age-test.txt") else {
        return;
    };
    let out = s
        .current_dir(d)
        .args(["decrypt", "--output-type", "binary", "a.env"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(out.stdout, bytes);
    let mut so = sops(&home, "age-test.txt").unwrap();
    let out = so
        .current_dir(d)
        .arg("encrypt")
        .args(args)
        .output()
        .unwrap();
    assert_ok(&out);
    std::fs::write(d.join("so.env"), out.stdout).unwrap();
    assert_eq!(
        ok(d, &["decrypt", "--output-type", "binary", "so.env"]),
        bytes
    );
}

/// [11] An XChaCha JSON file read with `--input-type yaml`: read as the
/// JSON it is (YAML reads `-0` as the integer 0, so its MAC would not hold).
#[test]
fn xchacha_json_read_as_yaml() {
    let dir = tempdir();
    let d = dir.path();
    let enc = encrypt_text(d, "p.json", "{\"a\":-0}", &[]);
    std::fs::write(d.join("x.json"), enc).unwrap();
    assert_eq!(
        ok(d, &["decrypt", "--input-type", "yaml", "x.json"]),
        b"{\"a\":-0}"
    );
    assert_eq!(
        ok(
            d,
            &[
                "decrypt",
                "--input-type",
                "yaml",
                "--output-type",
                "yaml",
                "x.json"
            ]
        ),
        b"a: -0.0\n"
    );
}

/// [03] A .env file of comments only keeps them as YAML (`# only\n{}`).
#[test]
fn comment_only_dotenv_to_yaml_keeps_comments() {
    let dir = tempdir();
    let d = dir.path();
    let r = demo_recipient();
    std::fs::write(d.join("p.env"), "# only\n").unwrap();
    for cipher in ["xchacha20-poly1305", "aes256-gcm"] {
        ok_to(
            d,
            &["encrypt", "--cipher", cipher, "--age", &r, "p.env"],
            "e.env",
        );
        assert_eq!(
            ok(d, &["decrypt", "--output-type", "yaml", "e.env"]),
            b"# only\n{}\n"
        );
        ok_to(
            d,
            &[
                "encrypt",
                "--cipher",
                cipher,
                "--age",
                &r,
                "--output-type",
                "yaml",
                "p.env",
            ],
            "e.yaml",
        );
        assert!(!String::from_utf8(std::fs::read(d.join("e.yaml")).unwrap())
            .unwrap()
            .contains("# only"));
        assert_eq!(ok(d, &["decrypt", "e.yaml"]), b"# only\n{}\n");
    }
}

/// [05] A value ending in a backslash is written bare to .env, so that
/// python-dotenv reads a later double-quoted line.
#[test]
fn dotenv_output_value_ending_in_backslash_is_bare() {
    let dir = tempdir();
    let d = dir.path();
    let enc = encrypt_text(d, "p.json", "{\"a\":\"x\\\\\",\"b\":\"it's\"}", &[]);
    std::fs::write(d.join("x.json"), enc).unwrap();
    assert_eq!(
        String::from_utf8(ok(d, &["decrypt", "--output-type", "dotenv", "x.json"])).unwrap(),
        "a=x\\\nb=\"it's\"\n"
    );
}

/// [06] An INI file with no key before its first section flattens to .env
/// (its implicit empty DEFAULT section has no line).
#[test]
fn ini_without_default_keys_flattens_to_dotenv() {
    let dir = tempdir();
    let d = dir.path();
    let r = demo_recipient();
    std::fs::write(d.join("p.ini"), "[db]\nuser = u\npass = p\n").unwrap();
    ok_to(d, &["encrypt", "--age", &r, "p.ini"], "x.ini");
    assert_eq!(
        ok(d, &["decrypt", "--output-type", "dotenv", "x.ini"]),
        b"db_user=u\ndb_pass=p\n"
    );
    ok_to(
        d,
        &["encrypt", "--age", &r, "--output-type", "dotenv", "p.ini"],
        "x.env",
    );
    assert_eq!(ok(d, &["decrypt", "x.env"]), b"db_user=u\ndb_pass=p\n");
}

/// A value ending with a carriage return written as .env with the default
/// cipher is refused (exit 4), as the `\n` text is: the .env text would
/// read the CR as part of the line break and drop it (fuzz57). AES keeps it.
#[test]
fn trailing_cr_into_dotenv_is_kept_or_refused() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("p.json"), "{\"a\": \"x\\r\"}").unwrap();
    let out = cmd(d, Some("age-test.txt"))
        .args([
            "encrypt",
            "--age",
            &demo_recipient(),
            "--output-type",
            "dotenv",
            "p.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let out = cmd(d, Some("age-test.txt"))
        .args([
            "encrypt",
            "--cipher",
            "aes256-gcm",
            "--age",
            &demo_recipient(),
        ])
        .args(["--output-type", "dotenv", "p.json"])
        .output()
        .unwrap();
    assert_ok(&out);
    std::fs::write(d.join("x.env"), &out.stdout).unwrap();
    let out = cmd(d, Some("age-test.txt"))
        .args(["decrypt", "--output-type", "json", "x.env"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(out.stdout, b"{\n\t\"a\": \"x\\r\"\n}\n");
}

/// A TOML local date or time converted to .env or INI in AES mode is
/// stored as a string: sealed `type:time` (no offset, no RFC 3339 time),
/// neither sops nor sops-like could decrypt the file (fuzz58).
#[test]
fn toml_local_times_into_env_and_ini_stay_readable() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("p.toml"), "a = 1979-05-27\nb = 07:32:00\n").unwrap();
    for (to, name, want) in [
        ("dotenv", "x.env", &b"a=1979-05-27\nb=07:32:00\n"[..]),
        ("ini", "x.ini", &b"a = 1979-05-27\nb = 07:32:00\n"[..]),
    ] {
        let out = cmd(d, Some("age-test.txt"))
            .args([
                "encrypt",
                "--cipher",
                "aes256-gcm",
                "--age",
                &demo_recipient(),
            ])
            .args(["--output-type", to, "p.toml"])
            .output()
            .unwrap();
        assert_ok(&out);
        let enc = String::from_utf8(out.stdout).unwrap();
        assert!(!enc.contains("type:time"), "{enc}");
        std::fs::write(d.join(name), &enc).unwrap();
        let out = cmd(d, Some("age-test.txt"))
            .args(["decrypt", name])
            .output()
            .unwrap();
        assert_ok(&out);
        assert_eq!(out.stdout, want, "{to}");
    }
}
