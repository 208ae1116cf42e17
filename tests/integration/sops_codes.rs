//! Exit codes compared with the real sops, case by case: each case runs
//! the same command line (but for the binary) with both tools in fresh
//! copies of one directory, and the codes must be equal. Scripts branch on
//! these codes, so a drop-in must return sops's, not the codes table's
//! names (sops returns 1 for several errors that have a named code).

use crate::util::*;
use std::path::Path;

/// A directory holding `p.yaml` (plain), `e.yaml` (encrypted by sops),
/// `l.enc.yaml` (a list, encrypted by sops),
/// `nomac.yaml` (`e.yaml` without its MAC), `empty.yaml`, `comments.yaml`,
/// and editor scripts.
fn setup(dir: &Path, home: &Path) -> Option<()> {
    std::fs::write(dir.join("p.yaml"), "a: 1\n").unwrap();
    std::fs::write(dir.join("l.yaml"), "list: [1, 2]\n").unwrap();
    let out = sops(home, "age-test.txt")?
        .current_dir(dir)
        .args(["encrypt", "--age", &demo_recipient(), "l.yaml"])
        .output()
        .unwrap();
    assert_ok(&out);
    std::fs::write(dir.join("l.enc.yaml"), &out.stdout).unwrap();
    std::fs::write(dir.join("empty.yaml"), "").unwrap();
    std::fs::write(dir.join("comments.yaml"), "# only a comment\n").unwrap();
    std::fs::write(dir.join("badmeta.yaml"), "sops: x\na: 1\n").unwrap();
    let out = sops(home, "age-test.txt")?
        .current_dir(dir)
        .args(["encrypt", "--age", &demo_recipient(), "p.yaml"])
        .output()
        .unwrap();
    assert_ok(&out);
    let enc = String::from_utf8(out.stdout).unwrap();
    std::fs::write(dir.join("e.yaml"), &enc).unwrap();
    let nomac: String = enc
        .lines()
        .filter(|l| !l.trim_start().starts_with("mac:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("nomac.yaml"), nomac).unwrap();
    let script = |name: &str, body: &str| {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    script("fail-editor.sh", "#!/bin/sh\nexit 3\n");
    script("kill-self.sh", "#!/bin/sh\nkill -9 $$\n");
    Some(())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn exit_codes_match_the_real_sops() {
    let base = tempdir();
    let home = base.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let template = base.path().join("template");
    std::fs::create_dir_all(&template).unwrap();
    if setup(&template, &home).is_none() {
        return;
    }
    let age = demo_recipient();
    // (what, environment, arguments, .sops.yaml to write or none)
    let rule_elsewhere = format!("creation_rules:\n  - path_regex: nomatch\n    age: {age}\n");
    // Master keys that cannot wrap the data key: sops exits 1 ("Could not
    // generate data key"), not 23 (a value that cannot be encrypted).
    let rule_for_all = format!("creation_rules:\n  - encrypted_regex: ^c$\n    age: {age}\n");
    let two_groups =
        format!("creation_rules:\n  - key_groups: [{{age: [{age}]}}, {{age: [{age}]}}]\n");
    let gnupg = base.path().join("gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    let gnupg = gnupg.to_str().unwrap();
    let fp = "85D77543B3D624B63CEA9E6DBC17301B491B3F21";
    let pgp_rule = format!("creation_rules:\n  - pgp: {fp}\n");
    let unreachable_kms = vec![
        ("AWS_ACCESS_KEY_ID", "x"),
        ("AWS_SECRET_ACCESS_KEY", "y"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
    ];
    let cases: Vec<(&str, Vec<(&str, &str)>, Vec<&str>, Option<&str>)> = vec![
        (
            "decrypt a missing file",
            vec![],
            vec!["decrypt", "nope.yaml"],
            None,
        ),
        (
            "encrypt, no keys, no config",
            vec![],
            vec!["encrypt", "p.yaml"],
            None,
        ),
        (
            "--config missing, encrypt",
            vec![],
            vec![
                "--config",
                "/nonexistent.yaml",
                "encrypt",
                "--age",
                &age,
                "p.yaml",
            ],
            None,
        ),
        (
            "--config missing, decrypt",
            vec![],
            vec!["--config", "/nonexistent.yaml", "decrypt", "e.yaml"],
            None,
        ),
        (
            "invalid .sops.yaml",
            vec![],
            vec!["encrypt", "p.yaml"],
            Some("creation_rules: [\n"),
        ),
        (
            "no rule matches",
            vec![],
            vec!["encrypt", "p.yaml"],
            Some(&rule_elsewhere),
        ),
        (
            "updatekeys, no config",
            vec![],
            vec!["updatekeys", "-y", "e.yaml"],
            None,
        ),
        (
            "decrypt without a MAC",
            vec![],
            vec!["decrypt", "nomac.yaml"],
            None,
        ),
        (
            "encrypt an empty YAML file",
            vec![],
            vec!["encrypt", "--age", &age, "empty.yaml"],
            None,
        ),
        (
            "encrypt a comment-only YAML file",
            vec![],
            vec!["encrypt", "--age", &age, "comments.yaml"],
            None,
        ),
        (
            "-i with --output",
            vec![],
            vec![
                "encrypt", "-i", "--output", "o.yaml", "--age", &age, "p.yaml",
            ],
            None,
        ),
        (
            "the editor fails",
            vec![("EDITOR", "./fail-editor.sh")],
            vec!["edit", "e.yaml"],
            None,
        ),
        (
            "exec-env, no such command",
            vec![],
            vec!["exec-env", "e.yaml", "no_such_command_xyz"],
            None,
        ),
        (
            "exec-env, the command is killed",
            vec![],
            vec!["exec-env", "e.yaml", "./kill-self.sh"],
            None,
        ),
        (
            "exec-env, the command exits 3",
            vec![],
            vec!["exec-env", "e.yaml", "sh -c 'exit 3'"],
            None,
        ),
        ("no arguments", vec![], vec![], None),
        (
            "set past the end of a list",
            vec![],
            vec!["set", "l.enc.yaml", "[\"list\"][5]", "9"],
            None,
        ),
        (
            "no MAC, --ignore-mac",
            vec![],
            vec!["decrypt", "nomac.yaml", "--ignore-mac"],
            None,
        ),
        (
            "filestatus, a sops key that is not metadata",
            vec![],
            vec!["filestatus", "badmeta.yaml"],
            None,
        ),
        (
            "filestatus, plaintext",
            vec![],
            vec!["filestatus", "p.yaml"],
            None,
        ),
        (
            "filestatus, encrypted",
            vec![],
            vec!["filestatus", "e.yaml"],
            None,
        ),
        // A flag given twice: the last value wins (wrappers rely on it).
        (
            "a flag given twice",
            vec![],
            vec![
                "-d",
                "--input-type",
                "yaml",
                "--input-type",
                "yaml",
                "e.yaml",
            ],
            None,
        ),
        (
            "encrypt, impossible Shamir threshold",
            vec![],
            vec![
                "encrypt",
                "--shamir-secret-sharing-threshold",
                "3",
                "p.yaml",
            ],
            Some(&two_groups),
        ),
        (
            "encrypt, PGP key not in the keyring",
            vec![("GNUPGHOME", gnupg)],
            vec!["encrypt", "--pgp", fp, "p.yaml"],
            None,
        ),
        (
            "rotate, PGP key not in the keyring",
            vec![("GNUPGHOME", gnupg)],
            vec!["rotate", "--add-pgp", fp, "e.yaml"],
            None,
        ),
        (
            "updatekeys, PGP key not in the keyring",
            vec![("GNUPGHOME", gnupg)],
            vec!["updatekeys", "-y", "e.yaml"],
            Some(&pgp_rule),
        ),
        (
            "updatekeys, the matching rule has no keys",
            vec![],
            vec!["updatekeys", "-y", "e.yaml"],
            Some("creation_rules:\n  - encrypted_regex: ^a$\n"),
        ),
        (
            "encrypt, KMS unreachable",
            unreachable_kms,
            vec![
                "encrypt",
                "--kms",
                "arn:aws:kms:us-east-1:123456789012:key/abc",
                "p.yaml",
            ],
            None,
        ),
        // From stdin with a config: sops needs --filename-override (exit 8)
        // to match the creation rules, even with keys given.
        (
            "encrypt from stdin, a config, no --filename-override",
            vec![],
            vec!["encrypt", "--input-type", "yaml"],
            Some(&rule_for_all),
        ),
        (
            "encrypt from stdin, a config, --age, no --filename-override",
            vec![],
            vec!["encrypt", "--input-type", "yaml", "--age", &age],
            Some(&rule_for_all),
        ),
        (
            "encrypt from stdin, a config, SOPS_AGE_RECIPIENTS, no --filename-override",
            vec![("SOPS_AGE_RECIPIENTS", &age)],
            vec!["encrypt", "--input-type", "yaml"],
            Some(&rule_for_all),
        ),
        (
            "--age given twice",
            vec![],
            vec!["encrypt", "--age", "x", "--age", &age, "p.yaml"],
            None,
        ),
    ];
    let mut differ = Vec::new();
    for (i, (what, env, args, config)) in cases.iter().enumerate() {
        let mut codes = Vec::new();
        for tool in ["sops", "sops-like"] {
            let dir = base.path().join(format!("case{i}-{tool}"));
            copy_dir(&template, &dir);
            if let Some(c) = config {
                std::fs::write(dir.join(".sops.yaml"), c).unwrap();
            }
            let mut c = if tool == "sops" {
                sops(&home, "age-test.txt").unwrap()
            } else {
                cmd(&home, Some("age-test.txt"))
            };
            c.current_dir(&dir).args(args).write_stdin("");
            for (k, v) in env {
                c.env(k, v);
            }
            let out = c.output().unwrap();
            codes.push((
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
        if codes[0].0 != codes[1].0 {
            differ.push(format!(
                "{what}: sops {:?}, sops-like {:?}\n  sops said: {}\n  sops-like said: {}",
                codes[0].0, codes[1].0, codes[0].1, codes[1].1
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "exit codes differ:\n{}",
        differ.join("\n")
    );
}
