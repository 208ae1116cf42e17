//! Command-line spellings compared with the real sops, case by case: Go's
//! flag forms (`-name`, `--flag=false`, a value that starts with `-`), the
//! legacy form's rules (flags before the file, every flag accepted, `--set`
//! splitting), flags after an `exec-*` command, empty values and empty
//! boolean variables. Each case runs with both tools in fresh copies of one
//! directory; the exit codes, the standard output (where it holds no
//! ciphertext) and the files changed must agree, and every changed file
//! must decrypt with sops to the same plaintext for both.

use crate::util::*;
use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::Path;

/// `p.yaml` (plain), `e.yaml` and `e.env` (encrypted by sops), `nomac.yaml`
/// (`e.yaml` without its MAC), `.sops.yaml` (a rule for the demo key) and
/// `show.sh` (prints its uid, `SECRET` and its arguments).
fn setup(dir: &Path, home: &Path) -> Option<()> {
    let age = demo_recipient();
    std::fs::write(
        dir.join(".sops.yaml"),
        format!("creation_rules:\n  - path_regex: '.*'\n    age: {age}\n"),
    )
    .unwrap();
    std::fs::write(dir.join("p.yaml"), "a: 1\nsecret: hunter2\n").unwrap();
    std::fs::write(dir.join("p.env"), "SECRET=hunter2\n").unwrap();
    for (plain, enc) in [("p.yaml", "e.yaml"), ("p.env", "e.env")] {
        let out = sops(home, "age-test.txt")?
            .current_dir(dir)
            .args(["encrypt", plain])
            .output()
            .unwrap();
        assert_ok(&out);
        std::fs::write(dir.join(enc), &out.stdout).unwrap();
    }
    let enc = std::fs::read_to_string(dir.join("e.yaml")).unwrap();
    let nomac: String = enc
        .lines()
        .filter(|l| !l.trim_start().starts_with("mac:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("nomac.yaml"), nomac).unwrap();
    std::fs::write(dir.join("-x.yaml"), &enc).unwrap();
    std::fs::write(dir.join("nullsops.yaml"), "a: 1\nsops: null\n").unwrap();
    // A configuration for another key.
    std::fs::write(
        dir.join("other.yaml"),
        format!(
            "creation_rules:\n  - age: {}\n",
            recipient_of("age-test-2.txt")
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    let show = dir.join("show.sh");
    std::fs::write(
        &show,
        "#!/bin/sh\necho \"uid=$(id -u) SECRET=$SECRET HOME=${HOME:-none} args=$*\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&show, std::fs::Permissions::from_mode(0o755)).unwrap();
    Some(())
}

fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// What a run did: its exit code, its standard output (unless it is
/// ciphertext), and each changed or new file (decrypted by sops when it is
/// encrypted).
#[derive(Debug, PartialEq)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    files: BTreeMap<String, String>,
}

fn outcome(
    home: &Path,
    dir: &Path,
    before: &BTreeMap<String, Vec<u8>>,
    out: std::process::Output,
) -> Option<Outcome> {
    let mut files = BTreeMap::new();
    for (name, bytes) in contents(dir) {
        if before.get(&name) == Some(&bytes) {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let shown = if text.contains("ENC[") {
            let out = sops(home, "age-test.txt")?
                .current_dir(dir)
                .args(["decrypt", &name])
                .output()
                .unwrap();
            format!(
                "encrypted, sops decrypts ({:?}): {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout)
            )
        } else {
            text
        };
        files.insert(name, shown);
    }
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stdout = if stdout.contains("ENC[") {
        "(ciphertext)".to_string()
    } else {
        stdout
    };
    Some(Outcome {
        code: out.status.code(),
        stdout,
        files,
    })
}

#[test]
fn command_line_forms_match_the_real_sops() {
    let base = tempdir();
    let home = base.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let template = base.path().join("template");
    std::fs::create_dir_all(&template).unwrap();
    if setup(&template, &home).is_none() {
        return;
    }
    let age = demo_recipient();
    let show = template.join("show.sh").to_string_lossy().into_owned();
    // (what, environment, arguments)
    let cases: Vec<(&str, Vec<(&str, &str)>, Vec<&str>)> = vec![
        // Go's `-name` is `--name` (clap read `-verbose` as `-v`: version).
        ("-verbose", vec![], vec!["-verbose", "decrypt", "e.yaml"]),
        ("-decrypt", vec![], vec!["-decrypt", "e.yaml"]),
        (
            "-extract",
            vec![],
            vec!["decrypt", "-extract", "[\"secret\"]", "e.yaml"],
        ),
        (
            "-output-type=json",
            vec![],
            vec!["decrypt", "-output-type=json", "e.yaml"],
        ),
        ("-in-place", vec![], vec!["encrypt", "-in-place", "p.yaml"]),
        // Boolean flags with Go's values.
        (
            "--ignore-mac=false",
            vec![],
            vec!["decrypt", "--ignore-mac=false", "e.yaml"],
        ),
        (
            "--in-place=false",
            vec![],
            vec!["encrypt", "--in-place=false", "p.yaml"],
        ),
        ("-i=true", vec![], vec!["encrypt", "-i=true", "p.yaml"]),
        (
            "-d=false (edit)",
            vec![("EDITOR", "true")],
            vec!["-d=false", "e.yaml"],
        ),
        // A value that starts with `-`.
        (
            "--encrypted-regex -x",
            vec![],
            vec!["encrypt", "-i", "--encrypted-regex", "-x", "p.yaml"],
        ),
        // The legacy form: flags before the file, every flag accepted.
        (
            "-i --set",
            vec![],
            vec!["-i", "--set", "[\"a\"] 3", "e.yaml"],
        ),
        ("-d --age", vec![], vec!["-d", "--age", &age, "e.yaml"]),
        (
            "-e --ignore-mac",
            vec![],
            vec!["-e", "-i", "--ignore-mac", "p.yaml"],
        ),
        ("-d FILE -i", vec![], vec!["-d", "e.yaml", "-i"]),
        (
            "-d FILE --output",
            vec![],
            vec!["-d", "e.yaml", "--output", "o.yaml"],
        ),
        (
            "-e FILE --encrypted-regex",
            vec![],
            vec!["-e", "-i", "p.yaml", "--encrypted-regex", "^secret"],
        ),
        (
            "--set without a value",
            vec![],
            vec!["--set", "[\"a\"]", "e.yaml"],
        ),
        (
            "--set without a space",
            vec![],
            vec!["--set", "[\"a\"]3", "e.yaml"],
        ),
        // Several modes: a warning, and the last one sops runs is seen.
        ("-d -e", vec![], vec!["-d", "-e", "e.yaml"]),
        ("-e -d (plain file)", vec![], vec!["-e", "-d", "p.yaml"]),
        ("-d -r -i", vec![], vec!["-d", "-r", "-i", "e.yaml"]),
        (
            "-d --set",
            vec![],
            vec!["-d", "--set", "[\"a\"] 5", "e.yaml"],
        ),
        // Flags only subcommands read, before a subcommand: ignored.
        (
            "--ignore-mac decrypt",
            vec![],
            vec!["--ignore-mac", "decrypt", "e.yaml"],
        ),
        (
            "--output decrypt",
            vec![],
            vec!["--output", "o.yaml", "decrypt", "e.yaml"],
        ),
        // exec-*'s flags after the command.
        (
            "exec-env CMD --user",
            vec![],
            vec!["exec-env", "e.env", &show, "--user", "nobody"],
        ),
        (
            "exec-env CMD --pristine",
            vec![],
            vec!["exec-env", "e.env", &show, "--pristine"],
        ),
        (
            "exec-file CMD --output-type",
            vec![],
            vec!["exec-file", "e.yaml", "cat {}", "--output-type", "json"],
        ),
        // Empty values are not given.
        (
            "--output ''",
            vec![],
            vec!["decrypt", "--output", "", "e.yaml"],
        ),
        ("--output=", vec![], vec!["decrypt", "--output=", "e.yaml"]),
        (
            "exec-env --user ''",
            vec![],
            vec!["exec-env", "--user", "", "e.env", &show],
        ),
        (
            "SOPS_DISABLE_VERSION_CHECK=",
            vec![("SOPS_DISABLE_VERSION_CHECK", "")],
            vec!["decrypt", "e.yaml"],
        ),
        // `set` writes the file even when the value was already there.
        (
            "set, the same value",
            vec![],
            vec!["set", "e.yaml", "[\"secret\"]", "\"hunter2\""],
        ),
        (
            "set --idempotent, the same value",
            vec![],
            vec![
                "set",
                "--idempotent",
                "e.yaml",
                "[\"secret\"]",
                "\"hunter2\"",
            ],
        ),
        // Without a MAC or a version a file is not encrypted.
        (
            "filestatus, no MAC",
            vec![],
            vec!["filestatus", "nomac.yaml"],
        ),
        // A `sops` key that holds nothing is no metadata.
        (
            "filestatus, sops: null",
            vec![],
            vec!["filestatus", "nullsops.yaml"],
        ),
        // After a subcommand's file, what is not its flag is ignored.
        ("decrypt FILE -v", vec![], vec!["decrypt", "e.yaml", "-v"]),
        (
            "encrypt -i FILE --config",
            vec![],
            vec!["encrypt", "-i", "p.yaml", "--config", "other.yaml"],
        ),
        // Go's `--d`, a legacy `--`, a mode without a file.
        ("--d", vec![], vec!["--d", "e.yaml"]),
        ("-d -- -x.yaml", vec![], vec!["-d", "--", "-x.yaml"]),
        ("-d without a file", vec![], vec!["-d"]),
        // A flag sops's top level does not define.
        (
            "--set --idempotent",
            vec![],
            vec!["--set", "[\"a\"] 7", "--idempotent", "e.yaml"],
        ),
        // Key-service flags after an exec-* command.
        (
            "exec-env CMD --enable-local-keyservice=false",
            vec![],
            vec![
                "exec-env",
                "e.env",
                &show,
                "--enable-local-keyservice=false",
            ],
        ),
        (
            "exec-env CMD --",
            vec![],
            vec!["exec-env", "e.env", &show, "--"],
        ),
        // An empty file name to edit.
        ("edit ''", vec![("EDITOR", "true")], vec!["edit", ""]),
    ];
    let mut failures = Vec::new();
    for (what, env, args) in &cases {
        let mut results = Vec::new();
        for tool in ["sops", "sops-like"] {
            let dir = base.path().join(format!("{tool}-run"));
            let _ = std::fs::remove_dir_all(&dir);
            copy_dir(&template, &dir);
            let before = contents(&dir);
            let mut c: Command = if tool == "sops" {
                let Some(c) = sops(&home, "age-test.txt") else {
                    return;
                };
                c
            } else {
                cmd(&home, Some("age-test.txt"))
            };
            c.current_dir(&dir).args(args);
            for (k, v) in env {
                c.env(k, v);
            }
            let out = c.output().unwrap();
            let Some(result) = outcome(&home, &dir, &before, out) else {
                return;
            };
            results.push(result);
        }
        let (s, l) = (&results[0], &results[1]);
        // `set` writes a new `lastmodified`: compare what each decrypts to.
        // (sops prints its usage on stdout when it refuses a command line.)
        let same = s.code == l.code
            && (s.code != Some(0) || s.stdout == l.stdout)
            && s.files.keys().eq(l.files.keys())
            && s.files.values().zip(l.files.values()).all(|(a, b)| a == b);
        if !same {
            failures.push(format!("{what}:\n  sops:      {s:?}\n  sops-like: {l:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `help TOPIC` as sops reads it: `h` is `help`, words after the topic are
/// ignored, and an unknown topic exits 3 ("No help topic for 'X'"). The
/// help texts differ; the exit codes and the refusal must not.
#[test]
fn help_topics_match_the_real_sops() {
    let home = tempdir();
    let lines: [&[&str]; 8] = [
        &["help", "h"],
        &["h", "h"],
        &["help", "decrypt", "extra"],
        &["help", "d"],
        &["help", "nope"],
        &["help", "groups", "foo"],
        &["help", "-h"],
        &["help", "--help"],
    ];
    for args in lines {
        let Some(mut real) = sops(home.path(), "age-test.txt") else {
            return;
        };
        let real = real.args(args).output().unwrap();
        let ours = cmd(home.path(), Some("age-test.txt"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(ours.status.code(), real.status.code(), "{args:?}");
        if real.status.code() == Some(3) {
            assert_eq!(
                String::from_utf8_lossy(&ours.stderr).trim(),
                String::from_utf8_lossy(&real.stderr).trim(),
                "{args:?}"
            );
        } else {
            assert!(!ours.stdout.is_empty(), "{args:?}");
        }
    }
}
