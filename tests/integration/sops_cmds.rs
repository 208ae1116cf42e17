//! Key-management and editing subcommands (rotate, groups, unset, edit,
//! updatekeys) run side by side with the real sops 3.11: the same
//! behaviour on the same inputs.

use crate::util::*;
use std::path::{Path, PathBuf};

/// A YAML file encrypted by the real sops for `recipients` (`None`: no sops).
fn sops_encrypted(dir: &Path, name: &str, text: &str, recipients: &str) -> Option<PathBuf> {
    let plain = dir.join(format!("plain.{name}"));
    std::fs::write(&plain, text).unwrap();
    let out = sops(dir, "age-test.txt")?
        .args(["encrypt", "--age", recipients])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let file = dir.join(name);
    std::fs::write(&file, out.stdout).unwrap();
    Some(file)
}

/// `file` copied to `name` (one copy for each tool).
fn copy(file: &Path, name: &str) -> PathBuf {
    let to = file.with_file_name(name);
    std::fs::copy(file, &to).unwrap();
    to
}

/// The age recipients written in a sops file.
fn recipients(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- recipient: "))
        .map(str::to_string)
        .collect()
}

/// The wrapped data keys (`enc:` blocks) of a sops YAML file.
fn wrapped_keys(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .filter(|l| !l.contains("recipient") && l.starts_with("            "))
        .collect()
}

/// `rotate --rm-age` of a recipient the file does not have: sops ignores it
/// and rotates (an off-boarding loop must not stop at a file the leaver
/// could not read); so does sops-like, with a warning. Present ones in the
/// same list are removed; a string that is no age recipient is refused by
/// both.
#[test]
fn rotate_rm_age_of_an_absent_recipient_still_rotates() {
    let dir = tempdir();
    let (one, two, three) = (
        demo_recipient(),
        recipient_of("age-test-2.txt"),
        recipient_of("age-test-3.txt"),
    );
    let Some(file) = sops_encrypted(
        dir.path(),
        "s.yaml",
        "a: 1\nb: hello\n",
        &format!("{one},{two}"),
    ) else {
        return;
    };
    let rotate = |tool: &str, f: &Path, rm: &str| {
        let mut c = if tool == "sops" {
            sops(dir.path(), "age-test.txt").unwrap()
        } else {
            cmd(dir.path(), Some("age-test.txt"))
        };
        c.args(["rotate", "-i", "--rm-age", rm])
            .arg(f)
            .output()
            .unwrap()
    };
    for (rm, left) in [
        (three.clone(), vec![one.clone(), two.clone()]),
        (format!("{two},{three}"), vec![one.clone()]),
    ] {
        for tool in ["sops", "sops-like"] {
            let f = copy(&file, &format!("{tool}.yaml"));
            let out = rotate(tool, &f, &rm);
            assert_ok(&out);
            assert_eq!(recipients(&f), left, "{tool} --rm-age {rm}");
            assert_ne!(wrapped_keys(&f), wrapped_keys(&file), "{tool}: rotated");
            if tool == "sops-like" {
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.contains("warning") && err.contains(&three), "{err}");
            }
            // Both tools read the result.
            let out = sops(dir.path(), "age-test.txt")
                .unwrap()
                .arg("decrypt")
                .arg(&f)
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), "a: 1\nb: hello\n");
        }
    }
    for tool in ["sops", "sops-like"] {
        let f = copy(&file, &format!("{tool}.yaml"));
        let out = rotate(tool, &f, "not-a-key");
        assert_eq!(out.status.code(), Some(1), "{tool}");
        assert_eq!(std::fs::read(&f).unwrap(), std::fs::read(&file).unwrap());
    }
}

/// `rotate --output-type T` writes format T, and without it the format of
/// `--filename-override`'s name, as sops does (edit/set convert the same
/// way); the real sops reads what sops-like wrote. `binary` is refused.
#[test]
fn rotate_writes_the_output_type() {
    let dir = tempdir();
    let Some(file) = sops_encrypted(dir.path(), "s.yaml", "a: 1\nb: hello\n", &demo_recipient())
    else {
        return;
    };
    let f = file.to_str().unwrap();
    let run = |tool: &str, args: &[&str]| {
        let mut c = if tool == "sops" {
            sops(dir.path(), "age-test.txt").unwrap()
        } else {
            cmd(dir.path(), Some("age-test.txt"))
        };
        let out = c.arg("rotate").args(args).output().unwrap();
        assert_ok(&out);
        out.stdout
    };
    let decrypt_json = |text: &[u8], name: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let out = sops(dir.path(), "age-test.txt")
            .unwrap()
            .arg("decrypt")
            .arg(&p)
            .output()
            .unwrap();
        assert_ok(&out);
        // .env as text: sops keeps `type:int` there, sops-like converts to
        // strings (the .env text is the same).
        if name.ends_with(".env") {
            serde_json::Value::String(String::from_utf8(out.stdout).unwrap())
        } else {
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
        }
    };
    let want = serde_json::json!({"a": 1, "b": "hello"});
    for (args, name, first) in [
        (vec!["--output-type", "json", f], "o.json", b'{'),
        (vec!["--output-type", "dotenv", f], "o.env", b'a'),
        (
            vec!["--filename-override", "x.json", "--input-type", "yaml", f],
            "fo.json",
            b'{',
        ),
    ] {
        let got: Vec<serde_json::Value> = ["sops", "sops-like"]
            .into_iter()
            .map(|tool| {
                let out = run(tool, &args);
                assert_eq!(out.first(), Some(&first), "{tool} {args:?}");
                decrypt_json(&out, name)
            })
            .collect();
        assert_eq!(got[0], got[1], "{args:?}");
        if !name.ends_with(".env") {
            assert_eq!(got[1], want, "{args:?}");
        }
    }
    // In place too.
    for tool in ["sops", "sops-like"] {
        let f = copy(&file, &format!("{tool}.yaml"));
        run(tool, &["-i", "--output-type", "json", f.to_str().unwrap()]);
        assert!(
            std::fs::read_to_string(&f).unwrap().starts_with('{'),
            "{tool}"
        );
    }
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["rotate", "--output-type", "binary", f])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

/// `groups add`, `groups delete` and `unset` read a file sops stored as
/// binary (a name with no known extension, or one sops does not know such
/// as `X.YAML`), as decrypt and rotate do.
#[test]
fn groups_and_unset_read_binary_files() {
    let dir = tempdir();
    let bytes = "hello binary\n\u{1} raw";
    let two = recipient_of("age-test-2.txt");
    let both = format!(
        "{}{}",
        std::fs::read_to_string(key("age-test.txt")).unwrap(),
        std::fs::read_to_string(key("age-test-2.txt")).unwrap()
    );
    for name in ["s.bin", "S.YAML", "noext"] {
        let plain = dir.path().join(format!("plain-{name}"));
        std::fs::write(&plain, bytes).unwrap();
        let Some(mut enc) = sops(dir.path(), "age-test.txt") else {
            return;
        };
        let out = enc
            .args([
                "encrypt",
                "--input-type",
                "binary",
                "--age",
                &demo_recipient(),
            ])
            .arg(&plain)
            .output()
            .unwrap();
        assert_ok(&out);
        let file = dir.path().join(name);
        std::fs::write(&file, &out.stdout).unwrap();
        // `tool ARGS… FILE REST…`
        let run = |tool: &str, args: &[&str], f: &Path, rest: &[&str]| {
            let mut c = if tool == "sops" {
                sops(dir.path(), "age-test.txt").unwrap()
            } else {
                cmd(dir.path(), Some("age-test.txt"))
            };
            c.env("SOPS_AGE_KEY", &both)
                .env_remove("SOPS_AGE_KEY_FILE")
                .args(args)
                .arg(f)
                .args(rest)
                .output()
                .unwrap()
        };
        let decrypt = |f: &Path| run("sops", &["decrypt"], f, &[]).stdout;
        for tool in ["sops", "sops-like"] {
            let f = dir.path().join(format!("{tool}-{name}"));
            std::fs::copy(&file, &f).unwrap();
            let add = ["groups", "add", "-i", "--age", &two, "--file"];
            assert_ok(&run(tool, &add, &f, &[]));
            let text = std::fs::read_to_string(&f).unwrap();
            assert!(
                text.contains(&two) && text.contains("shamir_threshold"),
                "{tool} {name}: {text}"
            );
            assert_eq!(decrypt(&f), bytes.as_bytes(), "{tool} {name}");
            let delete = [
                "groups",
                "delete",
                "-i",
                "--shamir-secret-sharing-threshold",
                "1",
                "--file",
            ];
            assert_ok(&run(tool, &delete, &f, &["0"]));
            let text = std::fs::read_to_string(&f).unwrap();
            assert!(
                text.contains(&two) && !text.contains(&demo_recipient()),
                "{tool} {name}: {text}"
            );
            assert_eq!(decrypt(&f), bytes.as_bytes(), "{tool} {name}");
        }
        // unset of a path a binary file does not hold: not found (1), or a
        // no-op with --idempotent (0, nothing written), in both tools.
        for tool in ["sops", "sops-like"] {
            let f = dir.path().join(format!("u-{tool}-{name}"));
            std::fs::copy(&file, &f).unwrap();
            let out = run(tool, &["unset", "--idempotent"], &f, &[r#"["other"]"#]);
            assert_eq!(out.status.code(), Some(0), "{tool} {name}");
            let out = run(tool, &["unset"], &f, &[r#"["other"]"#]);
            assert_eq!(out.status.code(), Some(1), "{tool} {name}");
            assert_eq!(std::fs::read(&f).unwrap(), std::fs::read(&file).unwrap());
        }
        // `["data"]`, the one value: sops writes a file with no data (that
        // it cannot decrypt); sops-like refuses and keeps the file.
        let f = dir.path().join(format!("d-{name}"));
        std::fs::copy(&file, &f).unwrap();
        let out = run("sops-like", &["unset"], &f, &[r#"["data"]"#]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(std::fs::read(&f).unwrap(), std::fs::read(&file).unwrap());
    }
}

/// `edit` takes `$SOPS_EDITOR`, then `$EDITOR`; `$VISUAL` is ignored, as
/// in sops.
#[test]
fn edit_ignores_visual_as_sops_does() {
    let dir = tempdir();
    let Some(file) = sops_encrypted(dir.path(), "s.yaml", "a: 1\nb: hello\n", &demo_recipient())
    else {
        return;
    };
    let sed = |to: &str| format!("sed -i s/hello/{to}/");
    for (vars, want) in [
        (vec![("VISUAL", sed("VI")), ("EDITOR", sed("ED"))], "ED"),
        (
            vec![
                ("VISUAL", sed("VI")),
                ("EDITOR", sed("ED")),
                ("SOPS_EDITOR", sed("SE")),
            ],
            "SE",
        ),
    ] {
        for tool in ["sops", "sops-like"] {
            let f = copy(&file, &format!("{tool}.yaml"));
            let mut c = if tool == "sops" {
                sops(dir.path(), "age-test.txt").unwrap()
            } else {
                cmd(dir.path(), Some("age-test.txt"))
            };
            for (k, v) in &vars {
                c.env(k, v);
            }
            assert_ok(&c.arg("edit").arg(&f).output().unwrap());
            let out = sops(dir.path(), "age-test.txt")
                .unwrap()
                .args(["decrypt", "--extract", r#"["b"]"#])
                .arg(&f)
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                want,
                "{tool} {vars:?}"
            );
        }
    }
}

/// A YAML file whose keys are all unset: sops writes the `sops:` block
/// alone and reads it as the empty mapping `{}`; sops-like reads sops's
/// file the same (decrypt, JSON output, groups) and writes such a file as
/// sops does, in either cipher.
#[test]
fn yaml_with_every_key_unset_is_the_empty_mapping() {
    let dir = tempdir();
    let Some(file) = sops_encrypted(dir.path(), "s.yaml", "# c\na: 1\nb: 2\n", &demo_recipient())
    else {
        return;
    };
    let run = |tool: &str, args: &[&str], f: &Path, rest: &[&str]| {
        let mut c = if tool == "sops" {
            sops(dir.path(), "age-test.txt").unwrap()
        } else {
            cmd(dir.path(), Some("age-test.txt"))
        };
        let out = c.args(args).arg(f).args(rest).output().unwrap();
        assert_ok(&out);
        out.stdout
    };
    let emptied = |tool: &str, f: &Path| {
        run(tool, &["unset"], f, &[r#"["a"]"#]);
        run(tool, &["unset"], f, &[r#"["b"]"#]);
    };
    // The file sops empties: both tools read `{}` (after the comment).
    let by_sops = copy(&file, "by-sops.yaml");
    emptied("sops", &by_sops);
    for tool in ["sops", "sops-like"] {
        let plain = run(tool, &["decrypt"], &by_sops, &[]);
        assert_eq!(String::from_utf8_lossy(&plain), "# c\n{}\n", "{tool}");
        let json = run(tool, &["decrypt", "--output-type", "json"], &by_sops, &[]);
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(json, serde_json::json!({}), "{tool}");
    }
    // Its keys can be changed (the metadata has no data to sit after).
    let two = recipient_of("age-test-2.txt");
    let out = run(
        "sops-like",
        &["groups", "add", "--age", &two, "--file"],
        &by_sops,
        &[],
    );
    assert!(String::from_utf8_lossy(&out).starts_with("#ENC["));
    // The file sops-like empties: written as sops writes it (block
    // metadata right after the comment), read back as `{}` by both.
    let by_us = copy(&file, "by-us.yaml");
    emptied("sops-like", &by_us);
    let text = std::fs::read_to_string(&by_us).unwrap();
    let sops_text = std::fs::read_to_string(&by_sops).unwrap();
    let shape = |t: &str| {
        t.lines()
            .map(|l| l.split(':').next().unwrap_or("").to_string())
            .take(3)
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&text), shape(&sops_text), "{text}");
    for tool in ["sops", "sops-like"] {
        let plain = run(tool, &["decrypt"], &by_us, &[]);
        assert_eq!(String::from_utf8_lossy(&plain), "# c\n{}\n", "{tool}");
    }
    // XChaCha mode: `{}` round-trips byte for byte, with block metadata.
    let plain = dir.path().join("e.yaml");
    for text in [
        "{}\n",
        "# c\n{}\n",
        "{}\r\n",
        "a: 1\n---\n{}\n",
        "{}",
        "{ }\n",
    ] {
        std::fs::write(&plain, text).unwrap();
        let enc = encrypt_text(dir.path(), "e.yaml", text, &[]);
        let out = decrypt_text(dir.path(), "enc.yaml", &enc, &[]);
        assert_ok(&out);
        assert_eq!(String::from_utf8_lossy(&out.stdout), text, "{enc}");
        if text.contains("{}\n") {
            assert!(!enc.contains("{sops"), "block metadata: {enc}");
        }
    }
}

/// `updatekeys` prints the changes and its question on stdout, as sops
/// does, group by group with the Shamir threshold change; an empty answer
/// fails (1) and `n` leaves the file as it is (0) in both tools.
#[test]
fn updatekeys_prints_sops_diff_on_stdout() {
    let dir = tempdir();
    let (one, two, three) = (
        demo_recipient(),
        recipient_of("age-test-2.txt"),
        recipient_of("age-test-3.txt"),
    );
    let Some(file) = sops_encrypted(dir.path(), "s.yaml", "a: 1\n", &one) else {
        return;
    };
    let all: String = ["age-test.txt", "age-test-2.txt", "age-test-3.txt"]
        .iter()
        .map(|k| std::fs::read_to_string(key(k)).unwrap())
        .collect();
    let rule = |text: String| std::fs::write(dir.path().join(".sops.yaml"), text).unwrap();
    let run = |tool: &str, f: &Path, args: &[&str], stdin: &str| {
        let mut c = if tool == "sops" {
            sops(dir.path(), "age-test.txt").unwrap()
        } else {
            cmd(dir.path(), Some("age-test.txt"))
        };
        c.current_dir(dir.path())
            .env_remove("SOPS_AGE_KEY_FILE")
            .env("SOPS_AGE_KEY", &all)
            .arg("updatekeys")
            .args(args)
            .arg(f)
            .write_stdin(stdin)
            .output()
            .unwrap()
    };
    let same_stdout = |f: &Path, args: &[&str]| {
        let outs: Vec<_> = ["sops", "sops-like"]
            .iter()
            .map(|tool| {
                let copy = copy(f, &format!("{tool}-u.yaml"));
                let out = run(tool, &copy, args, "");
                assert_ok(&out);
                String::from_utf8(out.stdout).unwrap()
            })
            .collect();
        assert_eq!(outs[0], outs[1]);
        outs[1].clone()
    };
    rule(format!("creation_rules:\n  - age: {two}\n"));
    let out = same_stdout(&file, &["-y"]);
    assert_eq!(
        out,
        format!("The following changes will be made to the file's groups:\nGroup 1\n+++ {two}\n--- {one}\n")
    );
    // Three groups (written by sops, threshold 3) to one key: the
    // threshold change and each group's removed keys.
    rule(format!(
        "creation_rules:\n  - key_groups:\n      - age: [{one}]\n      - age: [{two}]\n      - age: [{three}]\n"
    ));
    let grouped = copy(&file, "g.yaml");
    assert_ok(&run("sops", &grouped, &["-y"], ""));
    rule(format!("creation_rules:\n  - age: {two}\n"));
    let out = same_stdout(&grouped, &["-y"]);
    assert!(
        out.contains("+++ shamir_threshold: 1\n--- shamir_threshold: 3\n"),
        "{out}"
    );
    assert!(out.contains(&format!("Group 3\n--- {three}\n")), "{out}");
    // sops wrote `shamir_threshold: 1` with that one group: it means
    // nothing, so a second group gets the default threshold (both groups),
    // and the file still opens.
    let one_group = dir.path().join("sops-u.yaml");
    assert!(std::fs::read_to_string(&one_group)
        .unwrap()
        .contains("shamir_threshold: 1"));
    let out = cmd(dir.path(), None)
        .env("SOPS_AGE_KEY", &all)
        .args(["groups", "add", "-i", "--age", &three, "-f"])
        .arg(&one_group)
        .output()
        .unwrap();
    assert_ok(&out);
    let text = std::fs::read_to_string(&one_group).unwrap();
    assert!(text.contains("shamir_threshold: 2"), "{text}");
    let out = sops(dir.path(), "age-test.txt")
        .unwrap()
        .env_remove("SOPS_AGE_KEY_FILE")
        .env("SOPS_AGE_KEY", &all)
        .arg("decrypt")
        .arg(&one_group)
        .output()
        .unwrap();
    assert_ok(&out);
    // In a group, the kept keys come first, then the added ones.
    rule(format!("creation_rules:\n  - age: {two},{one}\n"));
    let out = same_stdout(&file, &["-y"]);
    assert!(
        out.ends_with(&format!("Group 1\n    {one}\n+++ {two}\n")),
        "{out}"
    );
    // An unchanged threshold is shown as it is.
    rule(format!(
        "creation_rules:\n  - key_groups:\n      - age: [{one}]\n      - age: [{two}]\n"
    ));
    let two_groups = copy(&file, "g2.yaml");
    assert_ok(&run("sops", &two_groups, &["-y"], ""));
    rule(format!(
        "creation_rules:\n  - key_groups:\n      - age: [{one}]\n      - age: [{two}, {three}]\n"
    ));
    let out = same_stdout(&two_groups, &["-y"]);
    assert!(
        out.contains("groups:\nshamir_threshold: 2\nGroup 1\n"),
        "{out}"
    );
    // A recipient listed twice in the file is the same set of keys:
    // nothing to do.
    let Some(twice) = sops_encrypted(
        dir.path(),
        "t.yaml",
        "a: 1\n",
        &format!("{one},{one},{two}"),
    ) else {
        return;
    };
    rule(format!("creation_rules:\n  - age: {one},{two}\n"));
    assert_eq!(same_stdout(&twice, &["-y"]), "");
    // The question, and the answers.
    for (answer, code) in [("\n", 1), ("n\n", 0)] {
        for tool in ["sops", "sops-like"] {
            let f = copy(&file, &format!("{tool}-a.yaml"));
            let out = run(tool, &f, &[], answer);
            assert_eq!(out.status.code(), Some(code), "{tool} {answer:?}");
            assert!(String::from_utf8_lossy(&out.stdout).ends_with("Is this okay? (y/n):"));
            assert_eq!(std::fs::read(&f).unwrap(), std::fs::read(&file).unwrap());
        }
    }
}

/// `edit` of a new file opens sops's example document for its format, as
/// sops does; saved unchanged, nothing is written (200) in both. A change
/// to it is encrypted (and the real sops reads it).
#[test]
fn edit_of_a_new_file_starts_from_sops_template() {
    let dir = tempdir();
    if sops_bin().is_none() {
        return;
    }
    std::fs::write(
        dir.path().join(".sops.yaml"),
        format!("creation_rules:\n  - age: {}\n", demo_recipient()),
    )
    .unwrap();
    let show = dir.path().join("show.sh");
    std::fs::write(
        &show,
        "#!/bin/sh\ncp \"$1\" \"$SEEN\"\n[ -z \"$ADD\" ] || printf '%s' \"$ADD\" >> \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&show, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let edit = |tool: &str, name: &str, add: &str| {
        let mut c = if tool == "sops" {
            sops(dir.path(), "age-test.txt").unwrap()
        } else {
            cmd(dir.path(), Some("age-test.txt"))
        };
        let seen = dir.path().join(format!("seen-{tool}-{name}"));
        let out = c
            .current_dir(dir.path())
            .env("EDITOR", &show)
            .env("SEEN", &seen)
            .env("ADD", add)
            .args(["edit", name])
            .output()
            .unwrap();
        (out, std::fs::read(&seen).unwrap_or_default())
    };
    for name in ["n.yaml", "n.json", "n.env", "n.ini", "n.bin"] {
        let (sops_out, sops_seen) = edit("sops", name, "");
        let (our_out, our_seen) = edit("sops-like", name, "");
        assert_eq!(sops_out.status.code(), Some(200), "{name}");
        assert_eq!(our_out.status.code(), Some(200), "{name}");
        assert!(!sops_seen.is_empty(), "{name}");
        assert_eq!(
            String::from_utf8_lossy(&our_seen),
            String::from_utf8_lossy(&sops_seen),
            "{name}"
        );
        assert!(!dir.path().join(name).exists(), "{name}: nothing written");
    }
    // An addition to the example is saved; sops reads the whole.
    let (out, _) = edit("sops-like", "n.yaml", "added: yes\n");
    assert_ok(&out);
    let out = sops(dir.path(), "age-test.txt")
        .unwrap()
        .args(["decrypt", "--extract", r#"["added"]"#])
        .arg(dir.path().join("n.yaml"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "yes");
    // TOML (no sops format): an example that parses, saved when changed.
    let (out, seen) = edit("sops-like", "n.toml", "added = 1\n");
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&seen).contains("Welcome to SOPS!"));
}

/// `edit -s` (`--show-master-keys`) is not supported: sops-like says so on
/// stderr instead of ignoring it without a word, and edits the document.
#[test]
fn edit_show_master_keys_warns() {
    let dir = tempdir();
    let enc = encrypt_text(dir.path(), "p.yaml", "b: hello\n", &[]);
    let file = dir.path().join("s.yaml");
    std::fs::write(&file, enc).unwrap();
    let out = cmd(dir.path(), Some("age-test.txt"))
        .env("SOPS_EDITOR", "sed -i s/hello/EDITED/")
        .args(["edit", "-s"])
        .arg(&file)
        .output()
        .unwrap();
    assert_ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--show-master-keys is not supported"), "{err}");
    let plain = cmd(dir.path(), Some("age-test.txt"))
        .arg("decrypt")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&plain.stdout), "b: EDITED\n");
}
