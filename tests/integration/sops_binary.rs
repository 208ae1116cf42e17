//! The binary store and the top level of a document, compared with the
//! real sops: `--extract '["data"]'` of a binary file, an encrypted JSON
//! document under a binary-store name, binary input written as another
//! format, and YAML streams of empty documents.

use crate::util::*;
use std::path::Path;

/// Run `args` with both tools in `dir`: (sops, sops-like) outputs.
fn both(dir: &Path, args: &[&str]) -> Option<(std::process::Output, std::process::Output)> {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let s = sops(&home, "age-test.txt")?
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let l = cmd(&home, Some("age-test.txt"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    Some((s, l))
}

/// Both tools give the same exit code and stdout for `args`.
#[track_caller]
fn same(dir: &Path, args: &[&str]) -> Option<std::process::Output> {
    let (s, l) = both(dir, args)?;
    assert_eq!(
        (s.status.code(), String::from_utf8_lossy(&s.stdout)),
        (l.status.code(), String::from_utf8_lossy(&l.stdout)),
        "{args:?}\n  sops said: {}\n  sops-like said: {}",
        String::from_utf8_lossy(&s.stderr),
        String::from_utf8_lossy(&l.stderr)
    );
    Some(l)
}

/// `sops encrypt --age <demo> file` in `dir`: the encrypted text.
fn sops_encrypt(dir: &Path, extra: &[&str], file: &str) -> Option<Vec<u8>> {
    let out = sops(dir, "age-test.txt")?
        .current_dir(dir)
        .args(["encrypt", "--age", &demo_recipient()])
        .args(extra)
        .arg(file)
        .output()
        .unwrap();
    assert_ok(&out);
    Some(out.stdout)
}

/// `sops-like encrypt` in AES mode (files sops reads).
fn like_encrypt(dir: &Path, extra: &[&str], file: &str) -> std::process::Output {
    encrypt_aes(dir)
        .current_dir(dir)
        .args(extra)
        .arg(file)
        .output()
        .unwrap()
}

#[test]
fn extract_data_of_a_binary_file_is_its_bytes() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("a.txt"), "hello world\n").unwrap();
    std::fs::write(d.join("b.bin"), b"caf\xe9\x00\n").unwrap();
    let Some(a) = sops_encrypt(d, &[], "a.txt") else {
        return;
    };
    std::fs::write(d.join("a.enc"), &a).unwrap();
    // Binary input under a name with a format: that format, as sops.
    std::fs::write(d.join("a.bin.json"), &a).unwrap();
    std::fs::write(d.join("a.env.local"), &a).unwrap();
    same(d, &["decrypt", "--input-type", "binary", "a.bin.json"]);
    same(d, &["decrypt", "a.env.local"]);
    std::fs::write(d.join("b.enc"), sops_encrypt(d, &[], "b.bin").unwrap()).unwrap();
    let l = like_encrypt(d, &[], "a.txt");
    assert_ok(&l);
    std::fs::write(d.join("l.enc"), &l.stdout).unwrap();
    for (file, bytes) in [
        ("a.enc", &b"hello world\n"[..]),
        ("l.enc", b"hello world\n"),
        ("b.enc", b"caf\xe9\x00\n"),
    ] {
        for out in [
            &[][..],
            &["--output-type", "json"],
            &["--output-type", "binary"],
        ] {
            let mut args = vec!["decrypt", "--extract", r#"["data"]"#];
            args.extend_from_slice(out);
            args.push(file);
            let l = same(d, &args).unwrap();
            assert_eq!(l.stdout, bytes, "{args:?}");
        }
        same(d, &["decrypt", "--extract", r#"["x"]"#, file]);
        same(d, &["decrypt", "--extract", r#"["data"][0]"#, file]);
        same(d, &["decrypt", "--extract", r#"["data""#, file]);
    }
}

#[test]
fn a_json_document_under_a_binary_store_name_is_a_document() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(
        d.join("in.json"),
        "{\"name\": \"app\", \"port\": 8080, \"sub\": {\"x\": \"y\"}, \"data\": 5}\n",
    )
    .unwrap();
    let Some(enc) = sops_encrypt(d, &[], "in.json") else {
        return;
    };
    std::fs::write(d.join("in.json.enc"), enc).unwrap();
    for args in [
        &["decrypt", "--output-type", "json", "in.json.enc"][..],
        &["decrypt", "--output-type", "yaml", "in.json.enc"],
        // Binary output of a document without a string `data`: 4.
        &["decrypt", "in.json.enc"],
        &["decrypt", "--output-type", "binary", "in.json.enc"],
        &["decrypt", "--extract", r#"["name"]"#, "in.json.enc"],
        &["decrypt", "--extract", r#"["port"]"#, "in.json.enc"],
        &[
            "decrypt",
            "--extract",
            r#"["sub"]"#,
            "--output-type",
            "json",
            "in.json.enc",
        ],
        &[
            "decrypt",
            "--input-type",
            "binary",
            "--output-type",
            "yaml",
            "in.json.enc",
        ],
    ] {
        same(d, args);
    }
    // `encrypt --output-type binary` writes the document as JSON; each
    // tool reads the other's.
    std::fs::write(d.join("p.yaml"), "data: hi\nx: 1\n").unwrap();
    std::fs::write(
        d.join("s.bin"),
        sops_encrypt(d, &["--output-type", "binary"], "p.yaml").unwrap(),
    )
    .unwrap();
    let l = like_encrypt(d, &["--output-type", "binary"], "p.yaml");
    assert_ok(&l);
    std::fs::write(d.join("l.bin"), &l.stdout).unwrap();
    for file in ["s.bin", "l.bin"] {
        let out = same(d, &["decrypt", file]).unwrap();
        assert_eq!(out.stdout, b"hi");
        same(d, &["decrypt", "--output-type", "json", file]);
    }
}

#[test]
fn binary_input_is_written_in_the_output_type() {
    let dir = tempdir();
    let d = dir.path();
    let text = "line1\nsecond \"q\" = # x\n";
    std::fs::write(d.join("t.txt"), text).unwrap();
    if sops_bin().is_none() {
        return;
    }
    for (to, name) in [
        ("dotenv", "t.enc.env"),
        ("yaml", "t.enc.yaml"),
        ("json", "t.enc.json"),
    ] {
        let l = like_encrypt(d, &["--input-type", "binary", "--output-type", to], "t.txt");
        assert_ok(&l);
        std::fs::write(d.join(name), &l.stdout).unwrap();
        assert!(!String::from_utf8_lossy(&l.stdout).starts_with('{') || to == "json");
        let out = same(d, &["decrypt", "--output-type", "binary", name]).unwrap();
        assert_eq!(out.stdout, text.as_bytes(), "{to}");
        same(d, &["decrypt", "--output-type", "json", name]);
    }
    // Values converted to .env for encryption are written as sops writes
    // them: no quotes that would become part of the value.
    std::fs::write(d.join("s.yaml"), "a: hello world\nb: \"x\\ny\"\nc: ''\n").unwrap();
    let l = like_encrypt(d, &["--output-type", "dotenv"], "s.yaml");
    assert_ok(&l);
    std::fs::write(d.join("s.env"), &l.stdout).unwrap();
    let out = same(d, &["decrypt", "--output-type", "json", "s.env"]).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\n\t\"a\": \"hello world\",\n\t\"b\": \"x\\ny\",\n\t\"c\": \"\"\n}\n"
    );
}

/// Binary input is one value, always encrypted: a selector (a flag or a
/// creation rule's) and `mac_only_encrypted` are ignored with a warning, as
/// sops ignores them, whatever the output type. Before, written as YAML or
/// .env under a selector that did not select `data`, the bytes stayed in
/// clear.
#[test]
fn binary_input_ignores_selectors() {
    let dir = tempdir();
    let d = dir.path();
    let secret = "topsecret";
    std::fs::write(d.join("data.txt"), format!("{secret}\n")).unwrap();
    std::fs::write(
        d.join("rules.yaml"),
        format!(
            "creation_rules:\n  - age: {}\n    encrypted_regex: ^pass\n    mac_only_encrypted: true\n",
            demo_recipient()
        ),
    )
    .unwrap();
    for to in ["yaml", "dotenv", "json", "binary"] {
        for flags in [
            &["--encrypted-regex", "^pass"][..],
            &["--unencrypted-regex", "^data$"],
            &["--unencrypted-suffix", "a"],
            &["--config", "rules.yaml"],
        ] {
            let out = like_encrypt(d, &[flags, &["--output-type", to]].concat(), "data.txt");
            assert_ok(&out);
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(!text.contains(secret), "{to} {flags:?}: {text}");
            assert!(
                !text.contains("mac_only_encrypted"),
                "{to} {flags:?}: {text}"
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("it is ignored"), "{to} {flags:?}: {stderr}");
            // Both tools read it back.
            let name = match to {
                "dotenv" => "o.env".to_string(),
                "binary" => "o.bin".to_string(),
                _ => format!("o.{to}"),
            };
            std::fs::write(d.join(&name), &out.stdout).unwrap();
            let extract = ["decrypt", "--extract", "[\"data\"]", &name];
            if let Some(read) = same(d, &extract) {
                assert_eq!(String::from_utf8_lossy(&read.stdout), format!("{secret}\n"));
            }
        }
    }
}

#[test]
fn yaml_streams_of_empty_documents_hold_an_empty_mapping() {
    let dir = tempdir();
    let d = dir.path();
    if sops_bin().is_none() {
        return;
    }
    for (i, text) in [
        "---\n",
        "---\n---\n",
        "--- # c\n",
        "~\n",
        "a: 1\n---\n~\n",
        "---\n---\na: 1\n",
    ]
    .into_iter()
    .enumerate()
    {
        let plain = format!("p{i}.yaml");
        std::fs::write(d.join(&plain), text).unwrap();
        let s = sops_encrypt(d, &[], &plain).unwrap();
        std::fs::write(d.join(format!("s{i}.yaml")), s).unwrap();
        let l = like_encrypt(d, &[], &plain);
        assert_ok(&l);
        std::fs::write(d.join(format!("l{i}.yaml")), &l.stdout).unwrap();
        // sops reads sops-like's file as it reads its own (the same data).
        let read = |file: &str| {
            let out = sops(d, "age-test.txt")
                .unwrap()
                .current_dir(d)
                .args(["decrypt", "--output-type", "json", file])
                .output()
                .unwrap();
            assert_ok(&out);
            out.stdout
        };
        assert_eq!(
            read(&format!("l{i}.yaml")),
            read(&format!("s{i}.yaml")),
            "{text:?}"
        );
        // (sops writes the first document of a stream as JSON, sops-like
        // the one holding data: a documented difference.)
        if text != "---\n---\na: 1\n" {
            same(
                d,
                &["decrypt", "--output-type", "json", &format!("s{i}.yaml")],
            );
        }
    }
    // XChaCha files keep their text where they can.
    let enc = encrypt_text(d, "x.yaml", "---\n---\na: 1\n", &[]);
    let out = decrypt_text(d, "x.enc.yaml", &enc, &[]);
    assert_ok(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "---\n---\na: 1\n");
}
