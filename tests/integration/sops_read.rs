//! Issue 3, direction 1: every file the real sops 3.11 wrote (testdata/sops/)
//! decrypts with sops-like to the same data as `sops decrypt`, and the
//! failure cases give sops's exit codes.

use crate::util::*;
use sops_like_format::{Entry, Format, Item, Node, Tree, Value};
use std::path::Path;

/// A canonical rendering of a tree's data (keys, order, values and types),
/// comments left out: what "the same data" means across layouts.
pub fn canonical(tree: &Tree) -> String {
    fn node(n: &Node, out: &mut String) {
        match n {
            Node::Alias(inner) => node(inner, out),
            Node::Scalar(s) => out.push_str(&match &s.value {
                Value::Null => "null".to_string(),
                Value::Str(t) => format!("s{t:?}"),
                Value::Int(i) => format!("n{i}"),
                // sops: a float that is integral may come back as an int.
                Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("n{}", *f as i64),
                Value::Float(f) => format!("f{}", sops_like_format::value::go_float(*f)),
                Value::Bool(b) => format!("b{b}"),
                Value::Time(t) => format!("t{t}"),
            }),
            Node::Map(entries) => {
                out.push('{');
                for e in entries {
                    if let Entry::Pair(p) = e {
                        out.push_str(&format!("{:?}:", p.key));
                        node(&p.value, out);
                        out.push(',');
                    }
                }
                out.push('}');
            }
            Node::Seq(items) => {
                out.push('[');
                for i in items {
                    if let Item::Node(n) = i {
                        node(n, out);
                        out.push(',');
                    }
                }
                out.push(']');
            }
        }
    }
    let mut out = String::new();
    for d in &tree.docs {
        node(d, &mut out);
        out.push('\n');
    }
    out
}

/// Parse `text` as `format` and render it canonically.
pub fn canonical_text(format: Format, text: &str) -> String {
    match format.syntax().parse(text) {
        Ok(p) => canonical(&p.tree),
        Err(e) => panic!("does not parse as {}: {e}\n{text}", format.name()),
    }
}

/// Environment for a set of identity files: age identities concatenated
/// into SOPS_AGE_KEY, an SSH key through SOPS_AGE_SSH_PRIVATE_KEY_FILE.
fn with_identities(mut c: assert_cmd::Command, ids: &str) -> assert_cmd::Command {
    let mut age = String::new();
    for id in ids.split(',').filter(|s| !s.is_empty()) {
        let path = root().join(id);
        if id.contains("id_") {
            c.env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &path);
        } else {
            age.push_str(&std::fs::read_to_string(&path).unwrap());
            age.push('\n');
        }
    }
    if !age.is_empty() {
        c.env("SOPS_AGE_KEY", age);
    }
    c
}

fn cases() -> Vec<(String, String, String, Vec<String>)> {
    let text = std::fs::read_to_string(root().join("testdata/sops/cases.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let extra = f
                .get(3)
                .map(|s| s.split_whitespace().map(String::from).collect())
                .unwrap_or_default();
            (
                f[0].to_string(),
                f[1].to_string(),
                f.get(2).unwrap_or(&"").to_string(),
                extra,
            )
        })
        .collect()
}

#[test]
fn every_sops_written_file_decrypts_to_the_same_data() {
    let home = tempdir();
    let mut checked = 0;
    for (enc, expected, ids, extra) in cases() {
        let enc_path = root().join("testdata/sops").join(&enc);
        let expected_path = root().join("testdata/sops").join(&expected);
        let name = enc_path.file_name().unwrap().to_string_lossy().to_string();
        let out = with_identities(cmd(home.path(), None), &ids)
            .arg("decrypt")
            .args(&extra)
            .arg(&enc_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{enc} with {ids}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = std::fs::read(&expected_path).unwrap();
        match Format::from_path(&name) {
            Some(format) => {
                let got = String::from_utf8(out.stdout).unwrap();
                let want = String::from_utf8(want).unwrap();
                assert_eq!(
                    canonical_text(format, &got),
                    canonical_text(format, &want),
                    "{enc}: data differs\n--- ours ---\n{got}"
                );
            }
            None => assert_eq!(out.stdout, want, "{enc}: bytes differ"),
        }
        checked += 1;
    }
    assert!(checked >= 30);
}

#[test]
fn sops_error_cases_give_sops_exit_codes() {
    let home = tempdir();
    let dir = root().join("testdata/sops/errors");
    let code = |case: &str| -> i32 {
        std::fs::read_to_string(dir.join(format!("{case}.code")))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let run = |file: &Path, id: &str| {
        cmd(home.path(), Some(id))
            .arg("decrypt")
            .arg(file)
            .output()
            .unwrap()
    };
    for case in ["tampered-data", "tampered-swap", "tampered-cleartext"] {
        let out = run(&dir.join(format!("{case}.yaml")), "age-test.txt");
        assert_eq!(
            out.status.code(),
            Some(code(case)),
            "{case}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{case} printed plaintext");
    }
    let enc = root().join("testdata/sops/enc/yaml-types.yaml");
    let out = run(&enc, "age-test-2.txt");
    assert_eq!(out.status.code(), Some(code("decrypt-no-matching-key")));
    let out = run(
        &root().join("testdata/sops/plain/yaml-types.yaml"),
        "age-test.txt",
    );
    assert_eq!(out.status.code(), Some(code("decrypt-plaintext")));
    let out = cmd(home.path(), None)
        .args(["encrypt", "--age", &demo_recipient()])
        .arg(&enc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(code("encrypt-already-encrypted")));
    let out = with_identities(cmd(home.path(), None), "testdata/keys/age-test-3.txt")
        .arg("decrypt")
        .arg(root().join("testdata/sops/enc/groups-shamir.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(code("shamir-one-group-only")));
}

/// sops writes a comment on an empty list's line (`d: [] # c`) as the
/// list's only item, `- ENC[…,type:comment]`: decrypted, the list stays
/// an empty list (not null), as `sops decrypt` shows it.
#[test]
fn sops_comment_items_of_an_empty_list_keep_the_list() {
    let dir = tempdir();
    let d = dir.path();
    for (i, plain) in ["d: [] # c\n", "a:\n    d: [] # c\n    e: 1\n"]
        .iter()
        .enumerate()
    {
        let Some((enc, enc_name)) = sops_encrypted(d, &format!("l{i}"), plain) else {
            return;
        };
        assert!(
            enc.contains("- ENC[AES256_GCM,") && enc.contains("type:comment]"),
            "{enc}"
        );
        let ours = cmd(d, Some("age-test.txt"))
            .args(["decrypt", &enc_name])
            .output()
            .unwrap();
        assert_ok(&ours);
        let text = String::from_utf8(ours.stdout).unwrap();
        assert!(text.contains("d: []\n") && text.contains("# c\n"), "{text}");
        let json = cmd(d, Some("age-test.txt"))
            .args(["decrypt", "--output-type", "json", &enc_name])
            .output()
            .unwrap();
        let theirs = sops_decrypt_json(d, &enc_name);
        let ours: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(ours, theirs, "{plain:?}");
    }
}

/// sops writes a comment that starts a sequence as that sequence's first
/// item, also for a sequence after another's dash (`- - ENC[…]`) and for
/// the value of an explicit key (`:   - ENC[…]`, a key holding a line
/// break): sops-like turns each back into a comment line, and the text is
/// YAML with sops's data (before: `k: []` above the items, and exit 25).
#[test]
fn sops_comment_items_of_nested_sequences_and_explicit_keys() {
    let dir = tempdir();
    let d = dir.path();
    for (i, (plain, ours_expected)) in [
        ("k:\n- - 1 # c\n", "k:\n    - # c\n      - 1\n"),
        ("\"k\\n\":\n# c\n- 0\n", "? |\n    k\n:   # c\n    - 0\n"),
        // A comment item, then a comment line, then a value item (fuzzer
        // round 19, D1: decrypted to `k: []` above the items, not YAML).
        (
            "k:\n  # c1\n  - # c2\n    a: 1\n",
            "k:\n    # c1\n    # c2\n    - a: 1\n",
        ),
        // The same before an item holding a sequence (round 20, D1b).
        (
            "k:\n  # c1\n  - # c2\n    - 1\n",
            "k:\n    # c1\n    - # c2\n      - 1\n",
        ),
    ]
    .iter()
    .enumerate()
    {
        let Some((enc, enc_name)) = sops_encrypted(d, &format!("n{i}"), plain) else {
            return;
        };
        assert!(enc.contains("- ENC[AES256_GCM,"), "{enc}");
        let ours = cmd(d, Some("age-test.txt"))
            .args(["decrypt", &enc_name])
            .output()
            .unwrap();
        assert_ok(&ours);
        assert_eq!(String::from_utf8(ours.stdout).unwrap(), *ours_expected);
        let json = cmd(d, Some("age-test.txt"))
            .args(["decrypt", "--output-type", "json", &enc_name])
            .output()
            .unwrap();
        assert_ok(&json);
        let theirs = sops_decrypt_json(d, &enc_name);
        let ours: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(ours, theirs, "{plain:?}");
    }
}

/// sops writes some comments at a path it then does not read them at (a
/// comment at the end of the text after a nested flow mapping): it keeps
/// such a comment as its `ENC[…]` text and warns. sops-like does the same
/// (before: exit 25), whether it decrypts the text (a window at a time),
/// converts it or edits it; values that do not open still fail.
#[test]
fn comments_sops_cannot_open_either_are_kept_with_a_warning() {
    let dir = tempdir();
    let d = dir.path();
    let Some((enc, enc_name)) = sops_encrypted(d, "k", "d:\n  k: {a: {}}\n#c") else {
        return;
    };
    let theirs = sops(d, "age-test.txt")
        .unwrap()
        .current_dir(d)
        .args(["decrypt", &enc_name])
        .output()
        .unwrap();
    assert_ok(&theirs);
    assert!(String::from_utf8_lossy(&theirs.stdout).contains("#ENC[AES256_GCM,"));
    for extra in [&[][..], &["--output-type", "json"][..]] {
        let ours = cmd(d, Some("age-test.txt"))
            .arg("decrypt")
            .args(extra)
            .arg(&enc_name)
            .output()
            .unwrap();
        assert_ok(&ours);
        let err = String::from_utf8_lossy(&ours.stderr);
        assert!(err.contains("1 encrypted comment did not decrypt"), "{err}");
        if extra.is_empty() {
            let text = String::from_utf8(ours.stdout).unwrap();
            assert!(
                text.contains("#ENC[AES256_GCM,") && text.contains("a: {}"),
                "{text}"
            );
        } else {
            let ours: serde_json::Value = serde_json::from_slice(&ours.stdout).unwrap();
            assert_eq!(ours, sops_decrypt_json(d, &enc_name));
        }
    }
    // A damaged value still fails (exit 25), comments or not.
    let at = enc.find("a: {}").unwrap();
    let damaged = format!("{}a: ENC[AES256_GCM,data:AA==,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:int]{}", &enc[..at], &enc[at + 5..]);
    std::fs::write(d.join("damaged.enc.yaml"), damaged).unwrap();
    let out = cmd(d, Some("age-test.txt"))
        .args(["decrypt", "damaged.enc.yaml"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(25),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sops_decrypt_json(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_str(&sops_cmd_output(
        dir,
        &["decrypt", "--output-type", "json"],
        name,
    ))
    .unwrap()
}

/// sops writes a comment on an empty mapping's line (`d: {} # c`) inside
/// the flow mapping, sealed at the mapping's path (`d:`): sops-like opens
/// it there and gives sops's data.
#[test]
fn sops_comments_inside_flow_collections_open_at_their_path() {
    let dir = tempdir();
    let d = dir.path();
    let plains = [
        "d: {} # c\n",
        "x:\n    d: {} # c\n    e: 1\n",
        "d: {a: 1,\n  # c\n  b: 2}\n",
    ];
    for (i, plain) in plains.iter().enumerate() {
        let Some((_, enc_name)) = sops_encrypted(d, &format!("m{i}"), plain) else {
            return;
        };
        let ours = cmd(d, Some("age-test.txt"))
            .args(["decrypt", &enc_name])
            .output()
            .unwrap();
        assert_ok(&ours);
        assert!(String::from_utf8(ours.stdout).unwrap().contains("# c\n"));
        let json = cmd(d, Some("age-test.txt"))
            .args(["decrypt", "--output-type", "json", &enc_name])
            .output()
            .unwrap();
        let ours: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(ours, sops_decrypt_json(d, &enc_name), "{plain:?}");
    }
}

/// sops's JSON writer keeps a comment of a YAML list as an array element
/// (`"ENC[…,type:comment]"`, from `encrypt --output-type json`), and its
/// reader drops it: sops-like refused every such file (exit 25, "does not
/// match its type comment"). It now reads the data sops reads, and files
/// it rotates or sets are still sops's to read.
#[test]
fn sops_json_comment_elements_of_lists_are_dropped() {
    let dir = tempdir();
    let d = dir.path();
    let plains = [
        "l:\n  # c\n  - x\n",
        "l:\n  - x # c\n",
        "l: [1, 2] # c\n",
        "l:\n  - 1\n  # c\n",
        "l:\n  - - 1\n    # c\n    - 2\n",
        "l:\n  # a\n  # b\n  - 1\n  # c\n  - 2\n  # d\n",
    ];
    for (i, plain) in plains.iter().enumerate() {
        let enc_name = format!("c{i}.json");
        let Some(enc) = sops_encrypted_json(d, &enc_name, plain) else {
            return;
        };
        assert!(enc.contains("type:comment]"), "{plain:?}: {enc}");
        let want = sops_decrypt_json(d, &enc_name);
        for args in [&["decrypt"][..], &["decrypt", "--output-type", "json"]] {
            let ours = cmd(d, Some("age-test.txt"))
                .args(args)
                .arg(&enc_name)
                .output()
                .unwrap();
            assert_ok(&ours);
            let ours: serde_json::Value = serde_json::from_slice(&ours.stdout).unwrap();
            assert_eq!(ours, want, "{plain:?}");
        }
        for args in [&["rotate", "-i"][..], &["set", &enc_name, "[\"z\"]", "1"]] {
            let mut c = cmd(d, Some("age-test.txt"));
            c.args(args);
            if args[0] == "rotate" {
                c.arg(&enc_name);
            }
            assert_ok(&c.output().unwrap());
            let mut after = sops_decrypt_json(d, &enc_name);
            if let Some(m) = after.as_object_mut() {
                m.remove("z");
            }
            assert_eq!(after, want, "{plain:?} {args:?}");
        }
    }
}

/// A sops-written JSON file (from YAML, `encrypt --output-type json`)
/// holds a time as `type:time` and `.inf`/`.nan` as `type:float`, which the
/// JSON text cannot hold: they keep their types in `--output-type yaml` and
/// `--extract` as sops shows them (before: the strings
/// `"2024-01-02T00:00:00Z"` and `NaN`).
#[test]
fn sops_json_times_and_non_finite_floats_keep_their_types() {
    let dir = tempdir();
    let d = dir.path();
    let plain = "d: 2024-01-02\ne: .inf\nn: .nan\nx: 1.5\ni: 7\n";
    if sops_encrypted_json(d, "t.json", plain).is_none() {
        return;
    }
    for args in [
        &["decrypt", "--output-type", "yaml"][..],
        &["decrypt", "--extract", "[\"d\"]", "--output-type", "yaml"],
        &["decrypt", "--extract", "[\"n\"]", "--output-type", "yaml"],
    ] {
        let theirs = sops_cmd_output(d, args, "t.json");
        let ours = cmd(d, Some("age-test.txt"))
            .args(args)
            .arg("t.json")
            .output()
            .unwrap();
        assert_ok(&ours);
        assert_eq!(String::from_utf8(ours.stdout).unwrap(), theirs, "{args:?}");
    }
    let ours = cmd(d, Some("age-test.txt"))
        .args([
            "decrypt",
            "--extract",
            "[\"n\"]",
            "--output-type",
            "json",
            "t.json",
        ])
        .output()
        .unwrap();
    assert_eq!(ours.status.code(), Some(4), "NaN is no JSON, as sops says");
}

/// The YAML `plain` encrypted by the real sops as JSON (`encrypt
/// --output-type json`) into `name` in `dir`: its text (`None` without
/// sops).
fn sops_encrypted_json(dir: &Path, name: &str, plain: &str) -> Option<String> {
    let yaml = format!("{name}.yaml");
    std::fs::write(dir.join(&yaml), plain).unwrap();
    let out = sops(dir, "age-test.txt")?
        .current_dir(dir)
        .args([
            "encrypt",
            "--age",
            &demo_recipient(),
            "--output-type",
            "json",
            &yaml,
        ])
        .output()
        .unwrap();
    assert_ok(&out);
    let enc = String::from_utf8(out.stdout).unwrap();
    std::fs::write(dir.join(name), &enc).unwrap();
    Some(enc)
}

/// The real sops's `ARGS FILE` in `dir`, which must succeed: its output.
fn sops_cmd_output(dir: &Path, args: &[&str], file: &str) -> String {
    let out = sops(dir, "age-test.txt")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    assert_ok(&out);
    String::from_utf8(out.stdout).unwrap()
}

/// `plain` written as `STEM.yaml` in `dir` and encrypted by the real sops
/// into `STEM.enc.yaml`: its text and name (`None` without sops).
fn sops_encrypted(dir: &Path, stem: &str, plain: &str) -> Option<(String, String)> {
    let name = format!("{stem}.yaml");
    std::fs::write(dir.join(&name), plain).unwrap();
    let out = sops(dir, "age-test.txt")?
        .current_dir(dir)
        .args(["encrypt", "--age", &demo_recipient(), &name])
        .output()
        .unwrap();
    assert!(out.status.success());
    let enc = String::from_utf8(out.stdout).unwrap();
    let enc_name = format!("{stem}.enc.yaml");
    std::fs::write(dir.join(&enc_name), &enc).unwrap();
    Some((enc, enc_name))
}

/// A value that only looks encrypted (`ENC[…]` text) at a path the
/// selector leaves in clear is text, as sops reads it (sops decrypts what
/// the selector encrypts): sops-like tried to decrypt it and could not
/// read such a file (exit 25), even one it wrote itself. YAML, JSON and
/// .env (a large one too, decrypted a window at a time), files written by
/// sops and by sops-like with either cipher, and `edit`.
#[test]
fn values_that_only_look_encrypted_stay_text() {
    let dir = tempdir();
    let d = dir.path();
    let fake = "ENC[AES256_GCM,data:abc=,iv:abc=,tag:abc=,type:str]";
    let mut big = String::from("a=SECRET1\n");
    for i in 0..3000 {
        big.push_str(&format!("K{i}=v{i}\n"));
    }
    big.push_str(&format!("note_unencrypted={fake}\n"));
    let plains = [
        (
            "y.yaml",
            format!("a: SECRET1\nnote_unencrypted: {fake}\nn:\n  deep_unencrypted: \"{fake}\"\n"),
        ),
        (
            "j.json",
            format!("{{\"a\": \"SECRET1\", \"note_unencrypted\": \"{fake}\"}}\n"),
        ),
        (
            "e.env",
            format!(
                "a=SECRET1\nnote_unencrypted={fake}\nn_unencrypted={}\n",
                fake.replace("str", "int")
            ),
        ),
        ("big.env", big),
        // CRLF: sops reads a value with its `\r` (it is sealed with it).
        (
            "c.env",
            format!("a=SECRET1\r\nnote_unencrypted={fake}\r\nx=ENC[x]\r\n"),
        ),
    ];
    for (name, plain) in &plains {
        std::fs::write(d.join(name), plain).unwrap();
        let (stem, ext) = name.split_once('.').unwrap();
        let mut files = Vec::new();
        if let Some(mut c) = sops(d, "age-test.txt") {
            let out = c
                .current_dir(d)
                .args(["encrypt", "--age", &demo_recipient(), name])
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            files.push((format!("{stem}.sops.{ext}"), out.stdout));
        }
        for cipher in ["aes256-gcm", "xchacha20-poly1305"] {
            let out = cmd(d, Some("age-test.txt"))
                .args([
                    "encrypt",
                    "--cipher",
                    cipher,
                    "--age",
                    &demo_recipient(),
                    name,
                ])
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            files.push((format!("{stem}.{cipher}.{ext}"), out.stdout));
        }
        for (enc_name, enc) in files {
            let enc = String::from_utf8(enc).unwrap();
            assert!(enc.contains(fake) && !enc.contains("SECRET1"), "{enc_name}");
            // What sops gives for its files (it writes YAML its own way).
            let want = match sops(d, "age-test.txt") {
                Some(mut c) if enc_name.contains(".sops.") => {
                    std::fs::write(d.join(&enc_name), &enc).unwrap();
                    let out = c.arg("decrypt").arg(d.join(&enc_name)).output().unwrap();
                    assert!(out.status.success(), "{out:?}");
                    String::from_utf8(out.stdout).unwrap()
                }
                _ => plain.clone(),
            };
            let out = decrypt_text(d, &enc_name, &enc, &[]);
            assert_ok(&out);
            assert_eq!(String::from_utf8(out.stdout).unwrap(), want, "{enc_name}");
            // As data too (typed .env values are opened again for their types).
            for args in [
                &["--output-type", "json"][..],
                &["--extract", "[\"note_unencrypted\"]"],
            ] {
                let out = decrypt_text(d, &enc_name, &enc, args);
                assert_ok(&out);
                assert!(
                    String::from_utf8(out.stdout).unwrap().contains(fake),
                    "{enc_name} {args:?}"
                );
            }
            let out = cmd(d, Some("age-test.txt"))
                .args(["exec-env"])
                .arg(d.join(&enc_name))
                .arg("printenv note_unencrypted")
                .output()
                .unwrap();
            assert_ok(&out);
            assert_eq!(
                String::from_utf8(out.stdout).unwrap().trim_end(),
                fake,
                "{enc_name}"
            );
            // `edit` reads it, changes a value, and both tools read the result.
            let path = d.join(&enc_name);
            let out = cmd(d, Some("age-test.txt"))
                .env("EDITOR", "sed -i s/SECRET1/SECRET2/")
                .arg("edit")
                .arg(&path)
                .output()
                .unwrap();
            assert_ok(&out);
            let edited = std::fs::read_to_string(&path).unwrap();
            let out = decrypt_text(d, &enc_name, &edited, &[]);
            assert_ok(&out);
            let back = String::from_utf8(out.stdout).unwrap();
            assert_eq!(back, want.replace("SECRET1", "SECRET2"), "{enc_name}");
            if enc.contains("XCHACHA20") {
                continue;
            }
            let Some(mut c) = sops(d, "age-test.txt") else {
                continue;
            };
            let out = c.arg("decrypt").arg(&path).output().unwrap();
            assert!(out.status.success(), "sops: {enc_name}: {out:?}");
            assert!(String::from_utf8(out.stdout).unwrap().contains(fake));
        }
    }
    // A value the selector encrypts that is not a valid `ENC[…]` still
    // fails, with its path.
    let y = "a: SECRET1\nnote_unencrypted: x\n";
    std::fs::write(d.join("bad.yaml"), y).unwrap();
    let out = cmd(d, Some("age-test.txt"))
        .args(["encrypt", "--age", &demo_recipient(), "bad.yaml"])
        .output()
        .unwrap();
    let enc = String::from_utf8(out.stdout).unwrap();
    let start = enc.find("a: ").unwrap();
    let end = start + enc[start..].find('\n').unwrap();
    let tampered = format!("{}a: {fake}{}", &enc[..start], &enc[end..]);
    let out = decrypt_text(d, "bad.enc.yaml", &tampered, &[]);
    assert_eq!(out.status.code(), Some(25), "{out:?}");
    assert!(String::from_utf8(out.stderr).unwrap().contains("[\"a\"]"));
}
