//! `decrypt` output rendering measured against the real sops: `--extract`
//! of non-string values, `--output-type dotenv` keys, NaN/Inf in JSON,
//! multi-document streams.

use crate::util::*;
use std::path::{Path, PathBuf};

/// Encrypt `text` (named `name`) with the real sops; `None` without sops.
fn sops_encrypted(dir: &Path, name: &str, text: &str) -> Option<PathBuf> {
    let plain = dir.join(name);
    std::fs::write(&plain, text).unwrap();
    let out = sops(dir, "age-test.txt")?
        .args(["encrypt", "--age", &demo_recipient()])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let enc = dir.join(format!("enc.{name}"));
    std::fs::write(&enc, out.stdout).unwrap();
    Some(enc)
}

/// Exit code and stdout of `decrypt ARGS FILE` by sops and by sops-like.
fn both(dir: &Path, file: &Path, args: &[&str]) -> Option<((i32, String), (i32, String))> {
    let run = |mut c: assert_cmd::Command| {
        let out = c.arg("decrypt").args(args).arg(file).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
        )
    };
    let theirs = run(sops(dir, "age-test.txt")?);
    let ours = run(cmd(dir, Some("age-test.txt")));
    Some((theirs, ours))
}

#[test]
fn extract_renders_values_as_sops_does() {
    let dir = tempdir();
    let yaml = "a: 1e21\nb: 1e-7\nc: .inf\nc2: -.inf\nd: .nan\ne: 5e-324\n\
                f: 2024-01-02T03:04:05Z\ng: true\nh: 2024-01-02\ni: 7\nj: null\nk: 1.5\n\
                l: [1, 2.5, x, 1e21]\nm: {p: 1.5, q: [a]}\nn: 1.7976931348623157e308\n\
                o: 123456789012.5\np: -0.0\nq: 2024-01-02T03:04:05.100+02:00\nr: str\n\
                s: []\nt: {}\nu: 1e10\nv: 0.000001\nw: 1234567.5\n\
                y: [{b: 1, a: \"<x>\"}, 2024-01-02, null]\n";
    let Some(enc) = sops_encrypted(dir.path(), "x.yaml", yaml) else {
        return;
    };
    let json = "{\"a\": 1e21, \"b\": true, \"c\": null, \"d\": [1, \"x\"], \"e\": {\"f\": 1.5}, \
                \"g\": 1.0, \"h\": [], \"i\": 1e-7}\n";
    let enc_json = sops_encrypted(dir.path(), "j.json", json).unwrap();
    let keys = [
        "a", "b", "c", "c2", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q",
        "r", "s", "t", "u", "v", "w", "y",
    ];
    let json_keys = ["a", "b", "c", "d", "e", "g", "h", "i"];
    let output_types: [&[&str]; 3] = [&[], &["--output-type", "json"], &["--output-type", "yaml"]];
    for (file, keys) in [(&enc, &keys[..]), (&enc_json, &json_keys[..])] {
        for ot in output_types {
            for k in keys {
                let path = format!("[\"{k}\"]");
                let mut args = ot.to_vec();
                args.extend(["--extract", &path]);
                let (theirs, ours) = both(dir.path(), file, &args).unwrap();
                assert_eq!(theirs, ours, "{} {args:?}", file.display());
            }
        }
    }
    // dotenv holds only strings: sops refuses every other value (exit 4).
    for k in ["a", "g", "j", "f", "l"] {
        let path = format!("[\"{k}\"]");
        let args = ["--output-type", "dotenv", "--extract", &path];
        let (theirs, ours) = both(dir.path(), &enc, &args).unwrap();
        assert_eq!((theirs.0, ours.0), (4, 4), "{args:?}");
    }
    let args = ["--output-type", "dotenv", "--extract", "[\"r\"]"];
    let (theirs, ours) = both(dir.path(), &enc, &args).unwrap();
    assert_eq!(theirs, ours);
}

#[test]
fn dotenv_output_takes_the_keys_sops_writes() {
    let dir = tempdir();
    let json = "{\"db.password\": \"s3cret\", \"my-key\": \"v\", \"clé\": \"w\", \"1a\": \"x\", \
                \"a b\": \"y\", \"x#y\": \"q\", \" sp\": \"s\", \"export FOO\": \"e\"}\n";
    let Some(enc) = sops_encrypted(dir.path(), "k.json", json) else {
        return;
    };
    let (theirs, ours) = both(dir.path(), &enc, &["--output-type", "dotenv"]).unwrap();
    assert_eq!(theirs, ours);
    assert_eq!(ours.0, 0);
    // Read back as a .env file, every key is the same key again.
    let enc_back = encrypt_text(dir.path(), "back.env", &ours.1, &[]);
    let out = decrypt_text(
        dir.path(),
        "enc.back.env",
        &enc_back,
        &["--output-type", "json"],
    );
    assert_ok(&out);
    let out = String::from_utf8(out.stdout).unwrap();
    for key in [
        "db.password",
        "my-key",
        "clé",
        "1a",
        "a b",
        "x#y",
        " sp",
        "export FOO",
    ] {
        assert!(out.contains(&format!("\"{key}\"")), "{key}: {out}");
    }
    // What no .env line can hold is refused (exit 4), not written wrong.
    for key in ["a=b", "#x", "", "a\\nb", " "] {
        let json = format!("{{\"{key}\": \"v\"}}\n");
        let enc = encrypt_text(dir.path(), "bad.json", &json, &[]);
        let out = decrypt_text(
            dir.path(),
            "enc.bad.json",
            &enc,
            &["--output-type", "dotenv"],
        );
        assert_eq!(out.status.code(), Some(4), "{key:?}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn json_output_refuses_nan_and_infinities_as_sops_does() {
    let dir = tempdir();
    for text in [
        "a: .nan\n",
        "b: .inf\n",
        "c: [1, -.inf]\n",
        "d: {e: .NaN}\n",
    ] {
        let Some(enc) = sops_encrypted(dir.path(), "n.yaml", text) else {
            return;
        };
        let (theirs, ours) = both(dir.path(), &enc, &["--output-type", "json"]).unwrap();
        assert_eq!(theirs, ours, "{text:?}");
        assert_eq!(ours.0, 4, "{text:?}");
    }
}

#[test]
fn yaml_streams_are_not_cut_to_their_first_document() {
    let dir = tempdir();
    for (text, refused) in [
        ("a: 1\n---\nb: 2\n", true),
        ("a: 1\n---\n---\nb: 2\n", true),
        ("a: 1\n---\n", false),
        ("a: 1\nb: x\n", false),
    ] {
        let Some(enc) = sops_encrypted(dir.path(), "m.yaml", text) else {
            return;
        };
        for ot in ["json", "dotenv"] {
            let (theirs, ours) = both(dir.path(), &enc, &["--output-type", ot]).unwrap();
            if refused {
                // sops writes the first document and drops the others; a
                // document with data is never dropped here.
                assert_eq!(theirs.0, 0, "{text:?} {ot}");
                assert_eq!((ours.0, ours.1.as_str()), (4, ""), "{text:?} {ot}");
            } else {
                assert_eq!(theirs, ours, "{text:?} {ot}");
            }
        }
    }
}

#[test]
fn whole_document_floats_are_spelled_as_go_yaml_spells_them() {
    let dir = tempdir();
    let text = "b: 1e21\nc: 1e-7\nd: 1e10\no: 123456789012.5\nw: 1234567.5\nv: 0.000001\n\
                n: 1.7976931348623157e308\ni: .inf\nk: 0.1\n";
    let Some(enc) = sops_encrypted(dir.path(), "f.yaml", text) else {
        return;
    };
    let (theirs, ours) = both(dir.path(), &enc, &[]).unwrap();
    assert_eq!(theirs, ours);
    // A float with an integral value keeps its `.0` (go-yaml writes `1`,
    // which reads back as an integer): a documented difference.
    let enc = sops_encrypted(dir.path(), "g.yaml", "a: 1.0\n").unwrap();
    let (theirs, ours) = both(dir.path(), &enc, &[]).unwrap();
    assert_eq!((theirs.1.as_str(), ours.1.as_str()), ("a: 1\n", "a: 1.0\n"));
}

/// Without `--output-type`, the output format is the name's, as in sops:
/// `decrypt --input-type yaml x.json` writes JSON, and `--filename-override`
/// names the output too. (sops writes its binary form for stdin or a name
/// with no format, and fails; sops-like writes the input type there.)
#[test]
fn output_format_follows_the_name_as_in_sops() {
    let dir = tempdir();
    let Some(enc) = sops_encrypted(dir.path(), "a.yaml", "a: 1\nb: [x, z]\n") else {
        return;
    };
    let json_named = dir.path().join("enc.a.json");
    std::fs::copy(&enc, &json_named).unwrap();
    let (theirs, ours) = both(dir.path(), &json_named, &["--input-type", "yaml"]).unwrap();
    assert_eq!(theirs.0, 0);
    assert!(theirs.1.starts_with('{'), "{}", theirs.1);
    assert_eq!(ours, theirs);
    let args = ["--input-type", "yaml", "--filename-override", "x.json"];
    let (theirs, ours) = both(dir.path(), &enc, &args).unwrap();
    assert!(theirs.1.starts_with('{'), "{}", theirs.1);
    assert_eq!(ours, theirs);
    // encrypt too: YAML text in a .json file is encrypted as JSON.
    let plain = dir.path().join("y.json");
    std::fs::write(&plain, "a: 1\n").unwrap();
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args([
            "encrypt",
            "--cipher",
            "aes256-gcm",
            "--age",
            &demo_recipient(),
        ])
        .args(["--input-type", "yaml"])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let written = dir.path().join("written.json");
    std::fs::write(&written, &out.stdout).unwrap();
    assert!(out.stdout.starts_with(b"{"));
    let (theirs, ours) = both(dir.path(), &written, &[]).unwrap();
    assert_eq!(theirs, (0, "{\n\t\"a\": 1\n}\n".to_string()));
    assert_eq!(ours, theirs);
    // From stdin, or a name with no format: the input type.
    let unknown = dir.path().join("enc.a.unknown");
    std::fs::copy(&enc, &unknown).unwrap();
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["decrypt", "--input-type", "yaml"])
        .arg(&unknown)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(out.stdout, b"a: 1\nb:\n    - x\n    - z\n");
}

/// Tree paths as sops reads them: the text between the quotes as it is,
/// backslashes and inner quotes included (before, `\` escaped the next
/// character: `["a\tb"]` named the key `atb`; fuzzer round 19, P1).
#[test]
fn extract_paths_take_backslashes_and_quotes_as_sops_does() {
    let dir = tempdir();
    let json = "{\"a\\\\tb\": 1, \"atb\": 2, \"x\\\"y\": 3, \"q\\\\\\\"r\": 4, \"c:\\\\d\": [5]}\n";
    let Some(enc) = sops_encrypted(dir.path(), "p.json", json) else {
        return;
    };
    for path in [
        r#"["a\tb"]"#,
        r#"["atb"]"#,
        r#"["x"y"]"#,
        r#"["q\"r"]"#,
        r#"['c:\d'][0]"#,
        r#"["c:\\d"]"#,
    ] {
        let (theirs, ours) = both(dir.path(), &enc, &["--extract", path]).unwrap();
        assert_eq!(theirs, ours, "{path}");
    }
}

/// An empty mapping or list below the top level has no .env line: written
/// as .env (`encrypt`/`edit`/`decrypt --output-type dotenv`) it was
/// silently lost, and `edit` rewrote the file without it. It is refused
/// with exit 4, as sops refuses any nested value, and `edit` leaves the
/// file as it was.
#[test]
fn empty_collections_are_not_lost_in_dotenv_output() {
    let dir = tempdir();
    let d = dir.path();
    for text in [
        "a: x1\ne: []\n",
        "a: x1\nm: {}\n",
        "a: x1\nd:\n  b: []\n",
        "l: [1, {}]\n",
    ] {
        std::fs::write(d.join("p.yaml"), text).unwrap();
        let out = cmd(d, Some("age-test.txt"))
            .args([
                "encrypt",
                "--age",
                &demo_recipient(),
                "--output-type",
                "dotenv",
                "p.yaml",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4), "{text:?}: {out:?}");
        assert!(out.stdout.is_empty());
        let out = cmd(d, Some("age-test.txt"))
            .args(["encrypt", "--age", &demo_recipient(), "p.yaml"])
            .output()
            .unwrap();
        assert_ok(&out);
        let enc = d.join("p.enc.yaml");
        std::fs::write(&enc, &out.stdout).unwrap();
        let out = decrypt_text(
            d,
            "p.enc.yaml",
            &String::from_utf8(out.stdout).unwrap(),
            &["--output-type", "dotenv"],
        );
        assert_eq!(out.status.code(), Some(4), "{text:?}: {out:?}");
        let before = std::fs::read(&enc).unwrap();
        let editor = d.join("add-a-key.sh");
        std::fs::write(&editor, "#!/bin/sh\necho 'z: 1' >> \"$1\"\n").unwrap();
        std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let out = cmd(d, Some("age-test.txt"))
            .env("EDITOR", &editor)
            .args(["edit", "--output-type", "dotenv"])
            .arg(&enc)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4), "{text:?}: {out:?}");
        assert_eq!(std::fs::read(&enc).unwrap(), before);
        if let Some(enc) = sops_encrypted(d, "s.yaml", text) {
            let out = sops(d, "age-test.txt")
                .unwrap()
                .args(["decrypt", "--output-type", "dotenv"])
                .arg(&enc)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(4), "sops: {text:?}");
        }
    }
}

/// A document written as .env or INI for sops (`encrypt --output-type`,
/// `edit --output-type`) keeps its values' types, as sops records them in
/// each value's `type:`: read back as JSON, `8080` is a number and `true`
/// a boolean, by both tools, as from sops's own file (they were strings).
#[test]
fn values_written_as_dotenv_or_ini_keep_their_types() {
    let dir = tempdir();
    let d = dir.path();
    let cases = [
        (
            "dotenv",
            "env",
            "port: 8080\nf: 1.5\nb: true\nt: x\nd: 2024-01-01T00:00:00Z\n",
        ),
        (
            "ini",
            "ini",
            "s:\n  port: 8080\n  f: 1.5\n  b: false\n  t: x\n",
        ),
    ];
    for (ty, ext, yaml) in cases {
        std::fs::write(d.join("src.yaml"), yaml).unwrap();
        let json_of = |c: Option<assert_cmd::Command>, name: &str| {
            let out = c?
                .args(["decrypt", "--output-type", "json"])
                .arg(d.join(name))
                .output()
                .unwrap();
            assert!(out.status.success(), "{name}: {out:?}");
            Some(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap())
        };
        let out = cmd(d, Some("age-test.txt"))
            .args([
                "encrypt",
                "--cipher",
                "aes256-gcm",
                "--age",
                &demo_recipient(),
            ])
            .args(["--output-type", ty, "src.yaml"])
            .output()
            .unwrap();
        assert_ok(&out);
        let ours = format!("ours.{ext}");
        std::fs::write(d.join(&ours), &out.stdout).unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("type:int]") && text.contains("type:float]"),
            "{text}"
        );
        let got = json_of(Some(cmd(d, Some("age-test.txt"))), &ours).unwrap();
        let port = if ty == "ini" {
            &got["s"]["port"]
        } else {
            &got["port"]
        };
        assert_eq!(*port, serde_json::json!(8080), "{got}");
        let Some(mut c) = sops(d, "age-test.txt") else {
            continue;
        };
        let out = c
            .args([
                "encrypt",
                "--age",
                &demo_recipient(),
                "--output-type",
                ty,
                "src.yaml",
            ])
            .current_dir(d)
            .output()
            .unwrap();
        assert_ok(&out);
        let theirs = format!("theirs.{ext}");
        std::fs::write(d.join(&theirs), &out.stdout).unwrap();
        let want = json_of(sops(d, "age-test.txt"), &theirs).unwrap();
        assert_eq!(got, want);
        assert_eq!(json_of(sops(d, "age-test.txt"), &ours).unwrap(), want);
        // `edit --output-type` of the YAML file, as sops's `edit` writes it.
        std::fs::write(d.join("e.yaml"), yaml).unwrap();
        let out = cmd(d, Some("age-test.txt"))
            .args([
                "encrypt",
                "-i",
                "--cipher",
                "aes256-gcm",
                "--age",
                &demo_recipient(),
                "e.yaml",
            ])
            .output()
            .unwrap();
        assert_ok(&out);
        let ed = d.join("ed.sh");
        std::fs::write(&ed, "#!/bin/sh\nsed -i 's/x$/y/' \"$1\"\n").unwrap();
        std::fs::set_permissions(&ed, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let out = cmd(d, Some("age-test.txt"))
            .env("EDITOR", &ed)
            .args(["edit", "--output-type", ty, "e.yaml"])
            .output()
            .unwrap();
        assert_ok(&out);
        let edited = format!("edited.{ext}");
        std::fs::copy(d.join("e.yaml"), d.join(&edited)).unwrap();
        let mut want = want.clone();
        let t = if ty == "ini" {
            &mut want["s"]["t"]
        } else {
            &mut want["t"]
        };
        *t = serde_json::json!("y");
        assert_eq!(json_of(sops(d, "age-test.txt"), &edited).unwrap(), want);
    }
}

/// A comment holding U+2028 (or U+2029, U+0085), written as YAML: go-yaml
/// (so sops) and PyYAML break lines there, so the rest of the comment was
/// read as YAML (`# note<U+2028>evil: 1` gave them a key `evil`). A `#`
/// follows each such character, as go-yaml writes it, and sops reads the
/// data alone.
#[test]
fn yaml_comments_keep_yaml_1_1_line_breaks_commented() {
    let dir = crate::util::tempdir();
    let d = dir.path();
    for sep in ['\u{2028}', '\u{2029}', '\u{85}'] {
        let plain = format!("# note{sep}evil: 1\nA=1\n");
        let enc = crate::util::encrypt_text(d, "w.env", &plain, &[]);
        let out = crate::util::decrypt_text(d, "w.enc.env", &enc, &["--output-type", "yaml"]);
        crate::util::assert_ok(&out);
        let yaml = String::from_utf8(out.stdout).unwrap();
        assert!(yaml.contains(&format!("note{sep}#")), "{yaml:?}");
        std::fs::write(d.join("o.yaml"), &yaml).unwrap();
        let Some(mut sops) = crate::util::sops(d, "age-test.txt") else {
            continue;
        };
        let run = sops
            .current_dir(d)
            .args(["encrypt", "--age", &crate::util::demo_recipient(), "o.yaml"])
            .output()
            .unwrap();
        crate::util::assert_ok(&run);
        std::fs::write(d.join("o.enc.yaml"), &run.stdout).unwrap();
        let read = crate::util::sops(d, "age-test.txt")
            .unwrap()
            .current_dir(d)
            .args(["decrypt", "--output-type", "json", "o.enc.yaml"])
            .output()
            .unwrap();
        crate::util::assert_ok(&read);
        let data: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
        assert_eq!(data, serde_json::json!({"A": "1"}), "{yaml:?}");
    }
}
