//! `set` values and sops-compatible files, compared with the real sops:
//! negative numbers, numbers out of range, INI duplicate keys, and quiet
//! diffs on files sops wrote.

use crate::util::*;

#[test]
fn set_takes_negative_numbers_and_refuses_out_of_range_ones() {
    let dir = tempdir();
    let home = dir.path();
    std::fs::write(dir.path().join("p.json"), "{\"a\": 1, \"b\": 2}\n").unwrap();
    let Some(mut real) = sops(home, "age-test.txt") else {
        return;
    };
    let out = real
        .current_dir(dir.path())
        .args(["encrypt", "--age", &demo_recipient(), "p.json"])
        .output()
        .unwrap();
    assert_ok(&out);
    for name in ["ours.json", "theirs.json"] {
        std::fs::write(dir.path().join(name), &out.stdout).unwrap();
    }
    let run = |tool: &str, args: &[&str]| {
        let mut c = if tool == "sops" {
            sops(home, "age-test.txt").unwrap()
        } else {
            cmd(home, Some("age-test.txt"))
        };
        c.current_dir(dir.path()).args(args).output().unwrap()
    };
    for (tool, file) in [("sops", "theirs.json"), ("sops-like", "ours.json")] {
        assert_ok(&run(tool, &["set", file, r#"["a"]"#, "-5"]));
        // The legacy form, one quoted argument.
        assert_ok(&run(tool, &["--set", r#"["b"] -7"#, file]));
        let out = run(tool, &["set", file, r#"["a"]"#, "1e400"]);
        assert_eq!(out.status.code(), Some(7), "{tool}: 1e400");
    }
    let plain = |file: &str| -> serde_json::Value {
        let out = run("sops-like", &["decrypt", file]);
        assert_ok(&out);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(plain("ours.json"), serde_json::json!({"a": -5, "b": -7}));
    assert_eq!(plain("ours.json"), plain("theirs.json"));
}

/// What sops cannot read back is refused in AES mode: an INI key twice in
/// a section (sops keeps the last, so the MAC would not match).
#[test]
fn aes_mode_refuses_what_sops_cannot_read() {
    let dir = tempdir();
    for (name, text) in [("d.ini", "[s]\nx = 1\nx = 2\n")] {
        std::fs::write(dir.path().join(name), text).unwrap();
        let out = encrypt_aes(dir.path())
            .arg(name)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(23), "{name}");
        assert!(out.stdout.is_empty());
        // XChaCha files keep them, byte for byte.
        let enc = encrypt_text(dir.path(), name, text, &[]);
        let out = decrypt_text(dir.path(), &format!("enc-{name}"), &enc, &[]);
        assert_ok(&out);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), text);
    }
}

/// The first `set` on a JSON file sops wrote keeps the ciphertext of every
/// other value: sops stores integers as `type:float`, sops-like reads them
/// as integers, and the stored ciphertext is reused all the same.
#[test]
fn set_on_a_sops_json_file_changes_only_that_value() {
    let dir = tempdir();
    let home = dir.path();
    std::fs::write(
        dir.path().join("q.json"),
        "{\"n\": 2, \"s\": \"x\", \"f\": 1.5, \"l\": [3, 4]}\n",
    )
    .unwrap();
    let Some(mut sops) = sops(home, "age-test.txt") else {
        return;
    };
    let out = sops
        .current_dir(dir.path())
        .args(["encrypt", "--age", &demo_recipient(), "q.json"])
        .output()
        .unwrap();
    assert_ok(&out);
    let before = String::from_utf8(out.stdout).unwrap();
    std::fs::write(dir.path().join("e.json"), &before).unwrap();
    let out = cmd(home, Some("age-test.txt"))
        .current_dir(dir.path())
        .args(["set", "e.json", r#"["s"]"#, r#""y""#])
        .output()
        .unwrap();
    assert_ok(&out);
    let after = std::fs::read_to_string(dir.path().join("e.json")).unwrap();
    let changed: Vec<&str> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.trim())
        .collect();
    assert!(
        changed.iter().all(|l| l.starts_with("\"s\"")
            || l.starts_with("\"mac\"")
            || l.starts_with("\"lastmodified\"")),
        "{changed:#?}"
    );
}

/// `set` and `unset` over a value sops wrote as a literal block whose last
/// line holds only blanks past the indentation (`k: |-\n    x\n    \t`,
/// the string "x\n\t"): the whole block is replaced (fuzzer round 19, S1:
/// the tab line stayed behind, and sops refused the file, "found character
/// that cannot start any token").
#[test]
fn set_and_unset_replace_a_block_ending_in_a_blank_content_line() {
    let dir = tempdir();
    let plain = dir.path().join("b.yaml");
    std::fs::write(&plain, "k_unencrypted: \"x\\n\\t\"\nj: 1\n").unwrap();
    let Some(enc) = sops_encrypt_file(dir.path(), &plain) else {
        return;
    };
    assert!(
        enc.starts_with("k_unencrypted: |-\n    x\n    \t\n"),
        "{enc}"
    );
    let runs: [(&[&str], &str); 2] = [
        (
            &["set", "[\"k_unencrypted\"]", "\"z\""],
            "k_unencrypted: z\nj: 1\n",
        ),
        (&["unset", "[\"k_unencrypted\"]"], "j: 1\n"),
    ];
    for (i, (args, want)) in runs.iter().enumerate() {
        let file = dir.path().join(format!("e{i}.yaml"));
        std::fs::write(&file, &enc).unwrap();
        let out = cmd(dir.path(), Some("age-test.txt"))
            .arg(args[0])
            .arg(&file)
            .args(&args[1..])
            .output()
            .unwrap();
        assert_ok(&out);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains('\t'), "{args:?}: {text}");
        let Some(mut c) = sops(dir.path(), "age-test.txt") else {
            return;
        };
        let out = c.arg("decrypt").arg(&file).output().unwrap();
        assert_ok(&out);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), *want, "{args:?}");
    }
}

/// Of duplicate keys, `--extract`, `set` and `unset` take the one sops
/// takes: the first (in an INI file the first of duplicate sections, and
/// the last of a section's duplicate keys, which sops's INI reader keeps).
/// Each command runs with both tools on the same sops file, and both
/// results are decrypted by sops.
#[test]
fn duplicate_keys_are_read_as_sops_reads_them() {
    let dir = tempdir();
    let files = [
        (
            "d.json",
            "{\"a\": 1, \"b\": {\"x\": 1}, \"a\": 2, \"b\": {\"y\": 2}}\n",
        ),
        ("d.env", "A=1\nB=x\nA=2\n"),
        (
            "d.ini",
            "[s]\na = 1\nb = x\na = 2\n[t]\nc = 1\n[s]\nd = 4\n",
        ),
    ];
    let runs: &[(&str, &[&str])] = &[
        ("d.json", &["decrypt", "--extract", "[\"a\"]"]),
        ("d.json", &["decrypt", "--extract", "[\"b\"][\"x\"]"]),
        ("d.json", &["decrypt", "--extract", "[\"b\"][\"y\"]"]),
        ("d.json", &["set", "[\"a\"]", "9"]),
        ("d.json", &["set", "[\"b\"][\"z\"]", "9"]),
        ("d.json", &["unset", "[\"a\"]"]),
        ("d.env", &["decrypt", "--extract", "[\"A\"]"]),
        ("d.env", &["set", "[\"A\"]", "\"9\""]),
        ("d.env", &["unset", "[\"A\"]"]),
        ("d.ini", &["decrypt", "--extract", "[\"s\"][\"a\"]"]),
        ("d.ini", &["decrypt", "--extract", "[\"s\"][\"d\"]"]),
        ("d.ini", &["set", "[\"s\"][\"d\"]", "\"9\""]),
        ("d.ini", &["unset", "[\"s\"]"]),
    ];
    let mut sops_files = std::collections::HashMap::new();
    for (name, text) in files {
        let plain = dir.path().join(name);
        std::fs::write(&plain, text).unwrap();
        let Some(enc) = sops_encrypt_file(dir.path(), &plain) else {
            return;
        };
        sops_files.insert(name, enc);
    }
    for (i, (name, args)) in runs.iter().enumerate() {
        let mut results = Vec::new();
        for tool in ["sops", "sops-like"] {
            let file = dir.path().join(format!("{tool}-{i}-{name}"));
            std::fs::write(&file, &sops_files[name]).unwrap();
            let mut c = match tool {
                "sops" => sops(dir.path(), "age-test.txt").unwrap(),
                _ => cmd(dir.path(), Some("age-test.txt")),
            };
            let out = match args[0] {
                "decrypt" => c.args(*args).arg(&file).output().unwrap(),
                _ => c.arg(args[0]).arg(&file).args(&args[1..]).output().unwrap(),
            };
            let (code, stdout) = (out.status.code(), out.stdout);
            // What the file holds afterwards, as sops reads it.
            let after = sops(dir.path(), "age-test.txt")
                .unwrap()
                .arg("decrypt")
                .arg(&file)
                .output()
                .unwrap();
            assert_ok(&after);
            results.push((code, stdout, after.stdout));
        }
        let show = |r: &(Option<i32>, Vec<u8>, Vec<u8>)| {
            format!(
                "exit {:?}, out {:?}, file {:?}",
                r.0,
                String::from_utf8_lossy(&r.1),
                String::from_utf8_lossy(&r.2)
            )
        };
        assert_eq!(
            show(&results[1]),
            show(&results[0]),
            "{name} {args:?}: sops-like (left) vs sops (right)"
        );
    }
}

/// A path deeper than any document is read at is refused before the
/// nested value is built (5,000 steps took 700 MB and then failed on the
/// text it had written), and nothing is written; a deep path within the
/// limit is set.
#[test]
fn a_path_deeper_than_documents_nest_is_refused_at_once() {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "e.yaml", "a: x\n", &[]);
    let file = dir.path().join("e.yaml");
    std::fs::write(&file, &enc).unwrap();
    let deep = "[\"k\"]".repeat(5000);
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["set"])
        .arg(&file)
        .args([deep.as_str(), "\"v\""])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nested too deeply: 5000 levels"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), enc);
    let ok = "[\"k\"]".repeat(100);
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["set"])
        .arg(&file)
        .args([ok.as_str(), "\"v\""])
        .output()
        .unwrap();
    assert_ok(&out);
}

/// A `set` or `unset` whose text edit would move a comment marker off the
/// value it selects (a multi-line TOML list, a YAML flow list) is refused,
/// nothing written: it wrote a value that was encrypted in clear (fuzz58).
#[test]
fn set_and_unset_never_write_a_sealed_value_in_clear() {
    let dir = tempdir();
    let d = dir.path();
    let marker = ["--encrypted-comment-regex", "sops:enc"];
    let cases: [(&str, &str, &[&str]); 3] = [
        (
            "a.toml",
            "x = [\n  \"p1\",\n  # sops:enc\n  \"s2secret\",\n]\n",
            &["unset", "a.toml", "[\"x\"][0]"],
        ),
        (
            "b.toml",
            "x = [\n  \"s1secret\", # sops:enc\n]\n",
            &["set", "b.toml", "[\"x\"][1]", "\"newpub\""],
        ),
        (
            "c.yaml",
            "x: [\n  s1secret, # sops:enc\n  p2public]\n",
            &["unset", "c.yaml", "[\"x\"][1]"],
        ),
    ];
    for (name, text, args) in cases {
        let enc = encrypt_text(d, name, text, &marker);
        std::fs::write(d.join(name), &enc).unwrap();
        let out = cmd(d, Some("age-test.txt")).args(args).output().unwrap();
        let after = std::fs::read_to_string(d.join(name)).unwrap();
        assert!(
            !after.contains("s1secret") && !after.contains("s2secret"),
            "{args:?}: {after}"
        );
        if out.status.success() {
            continue;
        }
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(after, enc, "{args:?}: written anyway");
    }
}
