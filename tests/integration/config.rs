//! Issue 4: creation rules from `.sops-like.yaml` / `.sops.yaml`, through
//! the binary: matching, precedence, ciphers, key groups with Shamir,
//! named recipients, errors, and sops compatibility of rule-made files.

use crate::util::*;
use std::path::Path;

fn write(dir: &Path, rel: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn encrypt_in(dir: &Path, rel: &str, extra: &[&str]) -> std::process::Output {
    cmd(dir, None)
        .arg("encrypt")
        .args(extra)
        .arg(rel)
        .output()
        .unwrap()
}

fn config(dir: &Path, name: &str) {
    let (a, b, c) = (
        demo_recipient(),
        recipient_of("age-test-2.txt"),
        recipient_of("age-test-3.txt"),
    );
    write(
        dir,
        name,
        &format!(
            "recipients:\n  alice: {a}\n  bob: {b}\n  carol: {c}\ncreation_rules:\n  - path_regex: ^groups/\n    cipher: aes256_gcm\n    shamir_threshold: 2\n    key_groups:\n      - age: [alice]\n      - age: [bob]\n      - age: [carol]\n  - path_regex: ^team/\n    age: [alice, bob]\n  - path_regex: \\.env$\n    encrypted_regex: ^SECRET\n    cipher: aes256_gcm\n    age: {a}\n"
        ),
    );
}

#[test]
fn first_matching_rule_gives_keys_selector_and_cipher() {
    let dir = tempdir();
    config(dir.path(), ".sops-like.yaml");
    write(dir.path(), "team/a.yaml", "x: 1\n");
    let out = encrypt_in(dir.path(), "team/a.yaml", &[]);
    assert_ok(&out);
    let enc = String::from_utf8(out.stdout).unwrap();
    assert!(
        enc.contains(&demo_recipient()) && enc.contains(&recipient_of("age-test-2.txt")),
        "named recipients resolved"
    );
    assert!(
        enc.contains("XCHACHA20_POLY1305"),
        "a .sops-like.yaml defaults to xchacha"
    );
    write(dir.path(), "app.env", "SECRET_A=1\nPLAIN=2\n");
    let out = encrypt_in(dir.path(), "app.env", &[]);
    let enc = String::from_utf8(out.stdout).unwrap();
    assert!(
        enc.contains("PLAIN=2") && enc.contains("SECRET_A=ENC[AES256_GCM"),
        "{enc}"
    );
    assert!(enc.contains("sops_encrypted_regex=^SECRET"));
    // Keys on the command line override the rule.
    let out = encrypt_in(
        dir.path(),
        "team/a.yaml",
        &["--age", &recipient_of("age-test-3.txt")],
    );
    let enc = String::from_utf8(out.stdout).unwrap();
    assert!(enc.contains(&recipient_of("age-test-3.txt")) && !enc.contains(&demo_recipient()));
    // --cipher overrides the rule's cipher.
    let out = encrypt_in(dir.path(), "app.env", &["--cipher", "xchacha20-poly1305"]);
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("XCHACHA20_POLY1305"));
}

#[test]
fn no_matching_rule_lists_the_rules() {
    let dir = tempdir();
    config(dir.path(), ".sops-like.yaml");
    write(dir.path(), "other/x.yaml", "x: 1\n");
    let out = encrypt_in(dir.path(), "other/x.yaml", &[]);
    // As sops: exit 1.
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("other/x.yaml") && err.contains("^team/"),
        "{err}"
    );
}

/// A rule that matches but has no keys is named as such (not as "no rule
/// matches").
#[test]
fn a_matching_rule_without_keys_says_so() {
    let dir = tempdir();
    write(
        dir.path(),
        ".sops.yaml",
        "creation_rules:\n  - path_regex: f\\.yaml$\n    age: \"\"\n",
    );
    write(dir.path(), "f.yaml", "a: 1\n");
    let out = encrypt_in(dir.path(), "f.yaml", &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("that matches f.yaml has an empty key group"),
        "{err}"
    );
}

/// Go's `\Q…\E` literal spans work in `path_regex` and selectors, as in
/// sops (the regex crate has no such syntax of its own).
#[test]
fn go_literal_spans_in_regexes() {
    let dir = tempdir();
    let config = format!(
        "creation_rules:\n  - path_regex: '\\Qf.yaml\\E$'\n    encrypted_regex: '^\\Qpass.word\\E$'\n    age: {}\n",
        demo_recipient()
    );
    write(dir.path(), ".sops.yaml", &config);
    write(dir.path(), "f.yaml", "pass.word: hunter2\nother: visible\n");
    let out = encrypt_in(dir.path(), "f.yaml", &[]);
    assert_ok(&out);
    let enc = String::from_utf8(out.stdout).unwrap();
    assert!(
        !enc.contains("hunter2") && enc.contains("other: visible"),
        "{enc}"
    );
}

#[test]
fn sops_yaml_defaults_to_aes_and_sops_reads_the_result() {
    let dir = tempdir();
    write(
        dir.path(),
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: \\.yaml$\n    age: {}\n",
            demo_recipient()
        ),
    );
    write(
        dir.path(),
        "s.yaml",
        "db:\n  password: hunter2\n  port: 5432\n",
    );
    let out = encrypt_in(dir.path(), "s.yaml", &["-i"]);
    assert_ok(&out);
    let enc = std::fs::read_to_string(dir.path().join("s.yaml")).unwrap();
    assert!(enc.contains("ENC[AES256_GCM"));
    let Some(mut sops) = sops(dir.path(), "age-test.txt") else {
        return;
    };
    let out = sops
        .current_dir(dir.path())
        .args(["decrypt", "s.yaml"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("password: hunter2"));
}

#[test]
fn key_groups_need_two_of_three() {
    let dir = tempdir();
    config(dir.path(), ".sops-like.yaml");
    write(dir.path(), "groups/g.yaml", "token: abc\n");
    let out = encrypt_in(dir.path(), "groups/g.yaml", &["-i"]);
    assert_ok(&out);
    let file = dir.path().join("groups/g.yaml");
    let enc = std::fs::read_to_string(&file).unwrap();
    assert!(enc.contains("shamir_threshold: 2") && enc.contains("key_groups:"));
    let keys = |names: &[&str]| {
        names
            .iter()
            .map(|n| std::fs::read_to_string(key(n)).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    };
    for pair in [
        ["age-test.txt", "age-test-2.txt"],
        ["age-test-2.txt", "age-test-3.txt"],
        ["age-test.txt", "age-test-3.txt"],
    ] {
        let out = cmd(dir.path(), None)
            .env("SOPS_AGE_KEY", keys(&pair))
            .arg("decrypt")
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "token: abc\n",
            "{pair:?}"
        );
    }
    for one in ["age-test.txt", "age-test-2.txt", "age-test-3.txt"] {
        let out = cmd(dir.path(), Some(one))
            .arg("decrypt")
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(128),
            "{one} alone must not open a 2-of-3 file"
        );
        assert!(out.stdout.is_empty());
    }
    // The real sops agrees (its Shamir scheme), with two identities.
    if let Some(mut s) = sops(dir.path(), "age-test.txt") {
        let out = s
            .env_remove("SOPS_AGE_KEY_FILE")
            .env("SOPS_AGE_KEY", keys(&["age-test.txt", "age-test-3.txt"]))
            .arg("decrypt")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "sops: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // groups delete / add keep the file readable.
    let out = cmd(dir.path(), None)
        .env("SOPS_AGE_KEY", keys(&["age-test.txt", "age-test-2.txt"]))
        .args(["groups", "delete", "-i", "-f"])
        .arg(&file)
        .arg("2")
        .output()
        .unwrap();
    assert_ok(&out);
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("decrypt")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(128));
    let out = cmd(dir.path(), None)
        .env("SOPS_AGE_KEY", keys(&["age-test.txt", "age-test-2.txt"]))
        .args([
            "groups",
            "add",
            "-i",
            "--age",
            &recipient_of("age-test-3.txt"),
            "--shamir-secret-sharing-threshold",
            "2",
            "-f",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert_ok(&out);
    let out = cmd(dir.path(), None)
        .env("SOPS_AGE_KEY", keys(&["age-test.txt", "age-test-3.txt"]))
        .arg("decrypt")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "token: abc\n");
}

#[test]
fn config_discovery_precedence_and_errors() {
    let dir = tempdir();
    // .sops-like.yaml wins over .sops.yaml in the same directory.
    write(
        dir.path(),
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - age: {}\n",
            recipient_of("age-test-2.txt")
        ),
    );
    write(
        dir.path(),
        ".sops-like.yaml",
        &format!("creation_rules:\n  - age: {}\n", demo_recipient()),
    );
    write(dir.path(), "sub/dir/x.yaml", "a: 1\n");
    let out = cmd(&dir.path().join("sub/dir"), None)
        .args(["encrypt", "x.yaml"])
        .output()
        .unwrap();
    let enc = String::from_utf8(out.stdout).unwrap();
    assert!(enc.contains(&demo_recipient()) && !enc.contains(&recipient_of("age-test-2.txt")));
    // --config skips the search.
    let out = cmd(dir.path(), None)
        .args(["--config", ".sops.yaml", "encrypt", "sub/dir/x.yaml"])
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains(&recipient_of("age-test-2.txt")));
    let out = cmd(dir.path(), None)
        .args(["--config", "missing.yaml", "encrypt", "sub/dir/x.yaml"])
        .output()
        .unwrap();
    // As sops: exit 1.
    assert_eq!(out.status.code(), Some(1));
    // An invalid config names the file, line and column; an unknown key warns.
    write(
        dir.path(),
        ".sops-like.yaml",
        "creation_rules:\n  - path_regex: \"(\"\n    age: x\n",
    );
    let out = cmd(dir.path(), None)
        .args(["encrypt", "sub/dir/x.yaml"])
        .output()
        .unwrap();
    // As sops: exit 1.
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(".sops-like.yaml:2:"), "{err}");
    write(
        dir.path(),
        ".sops-like.yaml",
        &format!(
            "creation_rules:\n  - age: {}\n    colour: blue\n",
            demo_recipient()
        ),
    );
    let out = cmd(dir.path(), None)
        .args(["encrypt", "sub/dir/x.yaml"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning:")
            && String::from_utf8_lossy(&out.stderr).contains("colour")
    );
}

/// A bad GCP KMS or PGP key is reported as such (not as "an invalid age
/// recipient"), and in a config at its FILE:LINE:COL when the config is
/// loaded, like Vault and Azure entries. sops fails too (exit 1).
#[test]
fn bad_gcp_and_pgp_keys_name_their_kind_and_line() {
    let dir = tempdir();
    write(dir.path(), "f.yaml", "a: 1\n");
    for (flag, kind) in [("--gcp-kms", "GCP KMS"), ("--pgp", "PGP")] {
        let out = encrypt_in(dir.path(), "f.yaml", &[flag, "bogus"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains(&format!("invalid {kind} key \"bogus\"")),
            "{err}"
        );
        assert!(!err.contains("age recipient"), "{err}");
    }
    let cases = [
        ("creation_rules:\n  - gcp_kms: bogus\n", ":2:14: creation rule 1: gcp_kms: invalid GCP KMS key \"bogus\": expected projects/"),
        ("creation_rules:\n  - pgp: [ABCDEF0123456789, bogus]\n", ":2:29: creation rule 1: pgp: invalid PGP key \"bogus\""),
        ("creation_rules:\n  - key_groups:\n      - gcp_kms:\n          - resource_id: projects/p/k\n", ":4:26: creation rule 1: key group 1.gcp_kms.resource_id: invalid GCP KMS key \"projects/p/k\""),
        ("creation_rules:\n  - key_groups:\n      - pgp: [0xZZ12345678]\n", ":3:15: creation rule 1: key group 1.pgp: invalid PGP key \"0xZZ12345678\""),
    ];
    for (config, want) in cases {
        write(dir.path(), ".sops.yaml", config);
        let out = encrypt_in(dir.path(), "f.yaml", &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains(&format!(".sops.yaml{want}")),
            "{config}\n{err}"
        );
        assert!(!err.contains("age recipient"), "{err}");
        if let Some(mut sops) = sops(dir.path(), "age-test.txt") {
            let out = sops
                .current_dir(dir.path())
                .args(["encrypt", "f.yaml"])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(1), "sops with {config}");
        }
    }
}

/// `mac_only_encrypted: yes` / `on` / `y` / `no` / `off` (YAML 1.1
/// booleans, which sops's YAML library still reads into a bool, quoted or
/// not): the same metadata as sops; `"true"` and `1` are errors in both.
#[test]
fn mac_only_encrypted_accepts_yaml_1_1_booleans_like_sops() {
    let dir = tempdir();
    write(dir.path(), "f.yaml", "a: 1\n");
    let age = demo_recipient();
    for v in [
        "yes", "on", "y", "YES", "'On'", "no", "off", "N", "\"no\"", "'true'", "1",
    ] {
        write(
            dir.path(),
            ".sops.yaml",
            &format!("creation_rules:\n  - mac_only_encrypted: {v}\n    age: {age}\n"),
        );
        let ours = encrypt_in(dir.path(), "f.yaml", &[]);
        let ours_mac_only =
            String::from_utf8_lossy(&ours.stdout).contains("mac_only_encrypted: true");
        let expect_ok = !matches!(v, "'true'" | "1");
        assert_eq!(
            ours.status.success(),
            expect_ok,
            "{v}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        if expect_ok {
            let want = ["yes", "on", "y", "YES", "'On'"].contains(&v);
            assert_eq!(ours_mac_only, want, "{v}");
        }
        if let Some(mut sops) = sops(dir.path(), "age-test.txt") {
            let out = sops
                .current_dir(dir.path())
                .args(["encrypt", "f.yaml"])
                .output()
                .unwrap();
            assert_eq!(
                out.status.success(),
                ours.status.success(),
                "{v}: sops and sops-like disagree"
            );
            let theirs = String::from_utf8_lossy(&out.stdout).contains("mac_only_encrypted: true");
            assert_eq!(theirs, ours_mac_only, "{v}: sops and sops-like disagree");
        }
    }
}

/// `key_groups: []` next to flat keys: sops uses the flat keys (an empty
/// list is no key_groups), and so does sops-like, with a warning.
#[test]
fn empty_key_groups_means_the_flat_keys() {
    let dir = tempdir();
    write(dir.path(), "f.yaml", "a: 1\n");
    let age = demo_recipient();
    write(
        dir.path(),
        ".sops.yaml",
        &format!("creation_rules:\n  - key_groups: []\n    age: {age}\n"),
    );
    let ours = encrypt_in(dir.path(), "f.yaml", &[]);
    assert_ok(&ours);
    let enc = String::from_utf8(ours.stdout).unwrap();
    assert!(enc.contains(&format!("recipient: {age}")), "{enc}");
    assert!(
        String::from_utf8_lossy(&ours.stderr).contains("key_groups is empty"),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    if let Some(mut sops) = sops(dir.path(), "age-test.txt") {
        let out = sops
            .current_dir(dir.path())
            .args(["encrypt", "f.yaml"])
            .output()
            .unwrap();
        assert_ok(&out);
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("recipient: {age}")));
    }
}

/// A working directory reached through a symlink: like Go's `os.Getwd`,
/// the current directory is `$PWD` when that names it, so `$PWD/f.yaml`
/// is matched as `sub/f.yaml` (the logical path) and the physical path as
/// an absolute one; the search for the config climbs physical parents.
/// Same rules picked as by the real sops.
#[test]
fn symlinked_working_directory_matches_rules_like_sops() {
    let base = tempdir();
    let t = base.path();
    std::fs::create_dir_all(t.join("repo/sub")).unwrap();
    std::fs::create_dir_all(t.join("phys/inner")).unwrap();
    std::os::unix::fs::symlink("repo", t.join("link")).unwrap();
    std::os::unix::fs::symlink(t.join("phys/inner"), t.join("repo/sub/lnk")).unwrap();
    let age = demo_recipient();
    write(
        t,
        "repo/.sops.yaml",
        &format!("creation_rules:\n  - path_regex: ^sub/\n    encrypted_regex: ^a$\n    age: {age}\n  - unencrypted_regex: ^a$\n    age: {age}\n"),
    );
    write(
        t,
        "phys/.sops.yaml",
        &format!("creation_rules:\n  - encrypted_regex: ^b$\n    age: {age}\n"),
    );
    write(t, "repo/sub/f.yaml", "a: 1\nb: 2\n");
    write(t, "phys/inner/g.yaml", "a: 1\nb: 2\n");
    let logical = t.join("link/sub");
    let physical = t.join("repo/sub");
    let inner = t.join("link/sub/lnk");
    let cases = [
        (&logical, logical.join("f.yaml"), "encrypted_regex: ^a$"),
        (&logical, physical.join("f.yaml"), "unencrypted_regex: ^a$"),
        (&logical, "f.yaml".into(), "encrypted_regex: ^a$"),
        (&inner, "g.yaml".into(), "encrypted_regex: ^b$"),
    ];
    let selector = |out: &std::process::Output| {
        assert_ok(out);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.contains("_regex:"))
            .map(|l| l.trim().to_string())
    };
    for (cwd, file, want) in cases {
        let ours = cmd(t, None)
            .current_dir(cwd)
            .env("PWD", cwd)
            .arg("encrypt")
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(selector(&ours).as_deref(), Some(want), "{}", file.display());
        if let Some(mut sops) = sops(t, "age-test.txt") {
            let out = sops
                .current_dir(cwd)
                .env("PWD", cwd)
                .arg("encrypt")
                .arg(&file)
                .output()
                .unwrap();
            assert_eq!(
                selector(&out).as_deref(),
                Some(want),
                "sops: {}",
                file.display()
            );
        }
    }
    // A $PWD that is not the current directory is ignored (Go checks it).
    let ours = cmd(t, None)
        .current_dir(&logical)
        .env("PWD", t.join("phys"))
        .arg("encrypt")
        .arg(logical.join("f.yaml"))
        .output()
        .unwrap();
    assert_eq!(selector(&ours).as_deref(), Some("unencrypted_regex: ^a$"));
}

/// An ignored `.sops.yml` is warned about also when the search finds no
/// config at all (sops warns in both cases), with or without keys given.
#[test]
fn ignored_sops_yml_is_warned_about_without_any_config() {
    let dir = tempdir();
    let age = demo_recipient();
    write(
        dir.path(),
        ".sops.yml",
        &format!("creation_rules:\n  - age: {age}\n"),
    );
    write(dir.path(), "f.yaml", "a: 1\n");
    for (extra, ok) in [(vec![], false), (vec!["--age", age.as_str()], true)] {
        let out = encrypt_in(dir.path(), "f.yaml", &extra);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.success(), ok, "{err}");
        assert!(
            err.contains(".sops.yml: ignored: the config file must be called .sops.yaml"),
            "{err}"
        );
        if !ok {
            assert!(
                err.contains("hint: a .sops.yml / .sops-like.yml was ignored"),
                "{err}"
            );
        }
        if let Some(mut sops) = sops(dir.path(), "age-test.txt") {
            let out = sops
                .current_dir(dir.path())
                .arg("encrypt")
                .args(&extra)
                .arg("f.yaml")
                .output()
                .unwrap();
            assert_eq!(out.status.success(), ok);
            assert!(String::from_utf8_lossy(&out.stderr).contains("ignoring \\\".sops.yml\\\""));
        }
    }
}

/// `encrypt` from stdin when a config is found: without
/// `--filename-override` the rules cannot be matched, and sops refuses it
/// (exit 8) even with keys given; with it, the matching rule applies
/// (here its selector). Without any config, stdin needs only keys.
#[test]
fn stdin_with_a_config_needs_filename_override() {
    let dir = tempdir();
    let age = demo_recipient();
    write(
        dir.path(),
        ".sops.yaml",
        &format!("creation_rules:\n  - path_regex: x\\.yaml$\n    encrypted_regex: ^c$\n    age: {age}\n"),
    );
    let run = |extra: &[&str]| {
        cmd(dir.path(), None)
            .args(["encrypt", "--input-type", "yaml"])
            .args(extra)
            .write_stdin("a: 1\nc: 2\n")
            .output()
            .unwrap()
    };
    for extra in [vec![], vec!["--age", age.as_str()]] {
        let out = run(&extra);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(8), "{err}");
        assert!(
            err.contains("must specify --filename-override when reading from stdin"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    let out = run(&["--filename-override", "x.yaml"]);
    assert_ok(&out);
    let enc = String::from_utf8(out.stdout).unwrap();
    assert!(
        enc.contains("a: 1\n") && enc.contains("encrypted_regex: ^c$"),
        "{enc}"
    );
    std::fs::remove_file(dir.path().join(".sops.yaml")).unwrap();
    assert_ok(&run(&["--age", &age]));
}

/// An empty `SOPS_CONFIG` is not given, as in sops (it stopped every
/// command, exit 1); a `.sops.yaml` that is a directory stops the search
/// with exit 1, as sops fails to read it (a config further up chose the
/// keys instead).
#[test]
fn empty_sops_config_and_a_config_directory_behave_as_in_sops() {
    let dir = tempdir();
    let d = dir.path();
    let a = demo_recipient();
    write(d, ".sops.yaml", &format!("creation_rules:\n  - age: {a}\n"));
    write(d, "sub/f.yaml", "k: v\n");
    let out = cmd(d, None)
        .current_dir(d.join("sub"))
        .env("SOPS_CONFIG", "")
        .args(["encrypt", "f.yaml"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&a));
    std::fs::create_dir_all(d.join("sub/.sops.yaml")).unwrap();
    let out = cmd(d, None)
        .current_dir(d.join("sub"))
        .args(["encrypt", "f.yaml"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

/// A recipient list with an empty entry (`--age 'K,'`, `--age ' '`,
/// `SOPS_AGE_RECIPIENTS='K,'`) is refused with exit 1, as sops refuses it;
/// `--age ' '` encrypted for the config's keys instead, and `K,` for K
/// alone. An empty `--age ''` is not given, as in sops.
#[test]
fn an_empty_recipient_entry_is_refused() {
    let dir = tempdir();
    let d = dir.path();
    write(
        d,
        ".sops.yaml",
        &format!("creation_rules:\n  - age: {}\n", demo_recipient()),
    );
    write(d, "f.yaml", "k: v\n");
    let two = recipient_of("age-test-2.txt");
    let listed = format!("{two},");
    for (flag, env) in [
        (Some(listed.as_str()), None),
        (Some(" "), None),
        (None, Some(listed.as_str())),
    ] {
        let mut c = cmd(d, None);
        c.arg("encrypt");
        if let Some(v) = flag {
            c.args(["--age", v]);
        }
        if let Some(v) = env {
            c.env("SOPS_AGE_RECIPIENTS", v);
        }
        let out = c.arg("f.yaml").output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{flag:?} {env:?}");
        assert!(out.stdout.is_empty());
    }
    let out = cmd(d, None)
        .args(["encrypt", "--age", "", "f.yaml"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&demo_recipient()));
}

/// An empty `--filename-override`, `--input-type`, `--output-type` or
/// `--config` is not given, as in sops: a script's `"$NAME"` with `NAME`
/// unset matched the rules against an empty name (another rule's keys, and
/// the binary format). `--config /dev/null` is an empty configuration.
#[test]
fn empty_flag_values_are_not_given() {
    let dir = tempdir();
    let d = dir.path();
    let (k0, k1) = (recipient_of("age-test.txt"), recipient_of("age-test-2.txt"));
    write(
        d,
        ".sops.yaml",
        &format!("creation_rules:\n  - path_regex: ^secret\n    age: {k0}\n  - age: {k1}\n"),
    );
    write(d, "secret.yaml", "a: 1\n");
    for extra in [
        &["--filename-override", ""][..],
        &["--filename-override=", "--input-type", "", "--output-type="],
    ] {
        let out = encrypt_in(d, "secret.yaml", extra);
        assert_ok(&out);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with("a: ENC["), "{extra:?}: {text}");
        assert!(
            text.contains(&k0) && !text.contains(&k1),
            "{extra:?}: {text}"
        );
    }
    let out = cmd(d, None)
        .args([
            "--config",
            "/dev/null",
            "encrypt",
            "--age",
            &k1,
            "secret.yaml",
        ])
        .output()
        .unwrap();
    assert_ok(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&k1) && !text.contains(&k0), "{text}");
    let out = cmd(d, None)
        .args(["--config", d.to_str().unwrap(), "encrypt", "secret.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a directory is no config");
}

/// `--config` naming a directory says so (it said "no such file"), exit 1.
#[test]
fn a_config_that_is_a_directory_says_so() {
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("cfg")).unwrap();
    std::fs::write(dir.path().join("p.yaml"), "a: 1\n").unwrap();
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["--config", "cfg", "encrypt", "p.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("could not read config file cfg: is a directory"),
        "{err}"
    );
}
