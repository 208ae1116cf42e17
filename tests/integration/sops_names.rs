//! File names decide a file's format as in sops: `.yaml .yml .json .env
//! .ini`, matched as written; anything else is the binary store. sops-like
//! adds `.toml` and `.env.*`, so it also reads a file sops wrote as binary
//! under such a name (its text is the binary store's JSON document).

use crate::util::*;

/// Encrypt `text` as `name` with the real sops (which picks the format from
/// the name), then decrypt with sops-like: the same bytes come back, and
/// `filestatus` calls it encrypted.
#[test]
fn files_sops_wrote_as_binary_decrypt_whatever_their_name() {
    let dir = tempdir();
    let home = dir.path();
    for (name, text) in [
        (".env.local", "K=v\nOTHER='x y'\n"),
        ("app.env.production", "K=v\n"),
        ("c.toml", "a = \"x\"\n[t]\nb = 1\n"),
        ("B.YAML", "a: 1\nb: [x]\n"),
        ("x.YML", "k: v\n"),
        ("App.INI", "[s]\nk = v\n"),
        ("notes.txt", "free text\n"),
    ] {
        let plain = dir.path().join(format!("plain-{name}"));
        std::fs::write(&plain, text).unwrap();
        let enc = dir.path().join(name);
        let Some(mut sops) = sops(home, "age-test.txt") else {
            return;
        };
        let out = sops
            .args(["encrypt", "--age", &demo_recipient(), "--filename-override"])
            .arg(&enc)
            .arg(&plain)
            .output()
            .unwrap();
        assert_ok(&out);
        assert!(
            out.stdout.starts_with(b"{\n\t\"data\": \"ENC[AES256_GCM,"),
            "{name}: sops did not write the binary store:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        std::fs::write(&enc, &out.stdout).unwrap();

        let out = cmd(home, Some("age-test.txt"))
            .arg("decrypt")
            .arg(&enc)
            .output()
            .unwrap();
        assert_ok(&out);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), text, "{name}");
        let out = cmd(home, None)
            .arg("filestatus")
            .arg(&enc)
            .output()
            .unwrap();
        assert_ok(&out);
        assert_eq!(
            String::from_utf8(out.stdout).unwrap().trim(),
            r#"{"encrypted":true}"#,
            "{name}"
        );
    }
}

/// Names sops treats as binary that sops-like does not claim (upper-case
/// suffixes) are encrypted as binary by sops-like too, so sops decrypts
/// them to the same bytes.
#[test]
fn upper_case_suffixes_are_binary_files_as_in_sops() {
    let dir = tempdir();
    let home = dir.path();
    for (name, text) in [("B.YAML", "a: 1\n"), ("c.JSON", "{\"a\": 1}\n")] {
        let plain = dir.path().join(name);
        std::fs::write(&plain, text).unwrap();
        let out = encrypt_aes(home).arg(&plain).output().unwrap();
        assert_ok(&out);
        let enc = String::from_utf8(out.stdout).unwrap();
        assert!(enc.contains("\"data\": \"ENC[AES256_GCM,"), "{name}: {enc}");
        let enc_path = dir.path().join(format!("enc.{name}"));
        std::fs::write(&enc_path, &enc).unwrap();
        let Some(mut sops) = sops(home, "age-test.txt") else {
            return;
        };
        let out = sops.arg("decrypt").arg(&enc_path).output().unwrap();
        assert_ok(&out);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), text, "{name}");
    }
}

/// `--output-type binary` writes a document's `data` string; a binary
/// file's bytes shown as a document are its `data` key; `set` past the end
/// of a list appends. Each compared with the real sops's output.
#[test]
fn binary_output_types_and_set_past_the_end_match_sops() {
    let dir = tempdir();
    let home = dir.path();
    let run_both = |args: &[&str]| -> Option<(Vec<u8>, Vec<u8>)> {
        let theirs = sops(home, "age-test.txt")?
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert_ok(&theirs);
        let ours = cmd(home, Some("age-test.txt"))
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert_ok(&ours);
        Some((theirs.stdout, ours.stdout))
    };
    std::fs::write(dir.path().join("p.yaml"), "data: hello\nother: 1\n").unwrap();
    std::fs::write(dir.path().join("t.txt"), "hello\n").unwrap();
    std::fs::write(dir.path().join("l.yaml"), "l: [1, 2]\n").unwrap();
    let age = demo_recipient();
    for (plain, enc) in [
        ("p.yaml", "p.enc.yaml"),
        ("t.txt", "t.enc.txt"),
        ("l.yaml", "l.enc.yaml"),
    ] {
        let Some((theirs, _)) = run_both(&["encrypt", "--age", &age, plain]) else {
            return;
        };
        std::fs::write(dir.path().join(enc), theirs).unwrap();
    }
    let (theirs, ours) = run_both(&["decrypt", "--output-type", "binary", "p.enc.yaml"]).unwrap();
    assert_eq!(ours, b"hello");
    assert_eq!(ours, theirs);
    let (theirs, ours) = run_both(&[
        "decrypt",
        "--extract",
        r#"["data"]"#,
        "--output-type",
        "binary",
        "p.enc.yaml",
    ])
    .unwrap();
    assert_eq!(ours, b"hello");
    assert_eq!(ours, theirs);
    for t in ["json", "yaml", "dotenv"] {
        let (theirs, ours) = run_both(&["decrypt", "--output-type", t, "t.enc.txt"]).unwrap();
        let ours = String::from_utf8(ours).unwrap();
        assert!(
            ours.contains("data") && ours.contains("hello"),
            "{t}: {ours}"
        );
        if t == "json" {
            // YAML: sops writes a block scalar, sops-like a quoted string;
            // .env: sops `data=hello\n`, sops-like `data="hello\n"`.
            assert_eq!(ours, String::from_utf8(theirs).unwrap(), "{t}");
        }
    }
    std::fs::copy(
        dir.path().join("l.enc.yaml"),
        dir.path().join("l2.enc.yaml"),
    )
    .unwrap();
    let set = |tool: &str, file: &str| {
        let mut c = if tool == "sops" {
            sops(home, "age-test.txt").unwrap()
        } else {
            cmd(home, Some("age-test.txt"))
        };
        assert_ok(
            &c.current_dir(dir.path())
                .args(["set", file, r#"["l"][5]"#, "9"])
                .output()
                .unwrap(),
        );
    };
    set("sops", "l.enc.yaml");
    set("sops-like", "l2.enc.yaml");
    let (a, _) = run_both(&["decrypt", "--output-type", "json", "l.enc.yaml"]).unwrap();
    let (_, b) = run_both(&["decrypt", "--output-type", "json", "l2.enc.yaml"]).unwrap();
    let a: serde_json::Value = serde_json::from_slice(&a).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(a, b);
    assert_eq!(b["l"], serde_json::json!([1, 2, 9]));
}
