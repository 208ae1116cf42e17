//! Changes to key groups that would weaken or break a file are refused
//! before anything is written.

use crate::util::*;

/// `groups delete` that would leave fewer groups than the Shamir threshold
/// is refused, as sops refuses it (lowering the threshold silently would
/// let fewer key holders decrypt); an explicit lower threshold is taken.
#[test]
fn groups_delete_keeps_the_threshold_or_refuses() {
    let dir = tempdir();
    let file = dir.path().join("f.yaml");
    std::fs::write(&file, "a: 1\n").unwrap();
    let all: String = ["age-test.txt", "age-test-2.txt", "age-test-3.txt"]
        .iter()
        .map(|k| std::fs::read_to_string(key(k)).unwrap())
        .collect();
    let run = |args: &[&str]| {
        cmd(dir.path(), None)
            .env("SOPS_AGE_KEY", &all)
            .args(args)
            .output()
            .unwrap()
    };
    let f = file.to_str().unwrap();
    assert_ok(&run(&["encrypt", "-i", "--age", &demo_recipient(), f]));
    let two = recipient_of("age-test-2.txt");
    let three = recipient_of("age-test-3.txt");
    assert_ok(&run(&["groups", "add", "-i", "--file", f, "--age", &two]));
    assert_ok(&run(&[
        "groups",
        "add",
        "-i",
        "--file",
        f,
        "--age",
        &three,
        "--shamir-secret-sharing-threshold",
        "3",
    ]));
    let before = std::fs::read_to_string(&file).unwrap();
    assert!(before.contains("shamir_threshold: 3"), "{before}");
    let out = run(&["groups", "delete", "-i", "--file", f, "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("threshold is 3"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before, "unchanged");
    // The real sops refuses the same.
    if let Some(mut sops) = sops(dir.path(), "age-test.txt") {
        let copy = dir.path().join("g.yaml");
        std::fs::write(&copy, &before).unwrap();
        let out = sops
            .env("SOPS_AGE_KEY", &all)
            .args(["groups", "delete", "-i", "--file"])
            .arg(&copy)
            .arg("0")
            .output()
            .unwrap();
        assert!(!out.status.success());
    }
    // With an explicit threshold the group goes.
    let out = run(&[
        "groups",
        "delete",
        "-i",
        "--file",
        f,
        "0",
        "--shamir-secret-sharing-threshold",
        "2",
    ]);
    assert_ok(&out);
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(after.contains("shamir_threshold: 2"), "{after}");
}

/// `recipients remove` of the only key of a key group would leave the
/// config invalid: refused with nothing changed (config and files), rather
/// than a broken config and files still open to the removed person.
#[test]
fn recipients_remove_refuses_to_empty_a_key_group() {
    let dir = tempdir();
    let (alice, bob) = (demo_recipient(), recipient_of("age-test-2.txt"));
    let config = format!(
        "recipients: {{alice: {alice}, bob: {bob}}}\ncreation_rules:\n  - path_regex: ^g/\n    shamir_threshold: 2\n    key_groups: [{{age: [alice]}}, {{age: [bob]}}, {{age: [{}]}}]\n  - age: [alice, bob]\n",
        recipient_of("age-test-3.txt")
    );
    std::fs::write(dir.path().join(".sops-like.yaml"), &config).unwrap();
    std::fs::create_dir_all(dir.path().join("g")).unwrap();
    std::fs::write(dir.path().join("f.yaml"), "x: 1\n").unwrap();
    std::fs::write(dir.path().join("g/c.yaml"), "y: 1\n").unwrap();
    for f in ["f.yaml", "g/c.yaml"] {
        assert_ok(
            &cmd(dir.path(), None)
                .args(["encrypt", "-i", f])
                .output()
                .unwrap(),
        );
    }
    let files = |d: &std::path::Path| {
        ["f.yaml", "g/c.yaml"].map(|f| std::fs::read_to_string(d.join(f)).unwrap())
    };
    let before = files(dir.path());
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["recipients", "remove", "bob"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("would leave the config invalid") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".sops-like.yaml")).unwrap(),
        config
    );
    assert_eq!(files(dir.path()), before);
}

/// `--shamir-secret-sharing-threshold 0` means "not given", as in sops
/// (the flag's default is 0): the rule's threshold applies on encrypt and
/// the file's on `groups add`; a literal `shamir_threshold: 0` (every group
/// needed, and a file sops misreads) is never written.
#[test]
fn shamir_threshold_flag_zero_is_not_given() {
    let dir = tempdir();
    let recipients = ["age-test.txt", "age-test-2.txt", "age-test-3.txt"].map(recipient_of);
    let config = format!(
        "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n{}",
        recipients
            .iter()
            .map(|r| format!("      - age: [{r}]\n"))
            .collect::<String>()
    );
    std::fs::write(dir.path().join(".sops.yaml"), config).unwrap();
    std::fs::write(dir.path().join("p.yaml"), "a: 1\nb: secret\n").unwrap();
    let out = cmd(dir.path(), None)
        .args(["encrypt", "--cipher", "aes256-gcm"])
        .args(["--filename-override", "f.yaml"])
        .args(["--shamir-secret-sharing-threshold", "0", "p.yaml"])
        .output()
        .unwrap();
    assert_ok(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("shamir_threshold: 2"), "{text}");
    let f = dir.path().join("f.yaml");
    std::fs::write(&f, &text).unwrap();
    // Two of the three groups suffice, with either tool.
    let two: String = ["age-test.txt", "age-test-2.txt"]
        .iter()
        .map(|k| std::fs::read_to_string(key(k)).unwrap())
        .collect();
    let out = cmd(dir.path(), None)
        .env("SOPS_AGE_KEY", &two)
        .arg("decrypt")
        .arg(&f)
        .output()
        .unwrap();
    assert_ok(&out);
    if let Some(mut sops) = sops(dir.path(), "age-test.txt") {
        let out = sops
            .env_remove("SOPS_AGE_KEY_FILE")
            .env("SOPS_AGE_KEY", &two)
            .arg("decrypt")
            .arg(&f)
            .output()
            .unwrap();
        assert_ok(&out);
        assert_eq!(out.stdout, b"a: 1\nb: secret\n");
    }
    // groups add with 0 keeps the file's threshold.
    let all: String = ["age-test.txt", "age-test-2.txt", "age-test-3.txt"]
        .iter()
        .map(|k| std::fs::read_to_string(key(k)).unwrap())
        .collect();
    let out = cmd(dir.path(), None)
        .env("SOPS_AGE_KEY", &all)
        .args(["groups", "add", "-i", "--file"])
        .arg(&f)
        .args(["--age", &recipients[0]])
        .args(["--shamir-secret-sharing-threshold", "0"])
        .output()
        .unwrap();
    assert_ok(&out);
    let after = std::fs::read_to_string(&f).unwrap();
    assert!(after.contains("shamir_threshold: 2"), "{after}");
    assert_eq!(after.matches("recipient:").count(), 4, "{after}");
}

/// A file whose `shamir_threshold` exceeds its number of groups fails with
/// that reason only: no hint about SOPS_AGE_KEY_FILE, which is set and works.
#[test]
fn impossible_threshold_has_no_missing_key_hint() {
    let dir = tempdir();
    let f = dir.path().join("g.yaml");
    std::fs::write(&f, "a: 1\n").unwrap();
    let run = |args: &[&str]| {
        cmd(dir.path(), Some("age-test.txt"))
            .args(args)
            .arg(&f)
            .output()
            .unwrap()
    };
    assert_ok(&run(&["encrypt", "-i", "--age", &demo_recipient()]));
    assert_ok(&run(&[
        "groups",
        "add",
        "-i",
        "--age",
        &demo_recipient(),
        "--file",
    ]));
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains("shamir_threshold: 2"), "{text}");
    std::fs::write(
        &f,
        text.replace("shamir_threshold: 2", "shamir_threshold: 5"),
    )
    .unwrap();
    let out = run(&["decrypt"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(
        err.contains("invalid shamir threshold 5 for 2 key groups"),
        "{err}"
    );
    assert!(!err.contains("SOPS_AGE_KEY_FILE"), "{err}");
}

/// `updatekeys` keeps the file's Shamir threshold (at most the number of
/// groups), as sops does: the rule's `shamir_threshold` is not applied
/// (with a note). Both tools update copies of one file after the rule's
/// threshold changed, and the same identities open both results. Before,
/// sops-like applied the rule's threshold (or all groups when the rule had
/// none), so a different set of key holders could decrypt.
#[test]
fn updatekeys_keeps_the_files_threshold_as_sops() {
    let dir = tempdir();
    let d = dir.path();
    let names = ["age-test.txt", "age-test-2.txt", "age-test-3.txt"];
    let identity = |ks: &[&str]| -> String {
        ks.iter()
            .map(|k| std::fs::read_to_string(key(k)).unwrap())
            .collect()
    };
    let all = identity(&names);
    let rule = |threshold: Option<usize>| {
        let mut text = String::from("creation_rules:\n  - key_groups:\n");
        for n in names {
            text.push_str(&format!("      - age: [{}]\n", recipient_of(n)));
        }
        if let Some(t) = threshold {
            text.push_str(&format!("    shamir_threshold: {t}\n"));
        }
        std::fs::write(d.join(".sops.yaml"), text).unwrap();
    };
    // (file's threshold, the rule's afterwards): what the file keeps.
    for (file_t, rule_t) in [(2, Some(3)), (2, None), (3, Some(2))] {
        rule(Some(file_t));
        let plain = d.join("p.yaml");
        std::fs::write(&plain, "a: secret\n").unwrap();
        let enc = cmd(d, None)
            .current_dir(d)
            .args(["encrypt", "--cipher", "aes256-gcm"])
            .arg(&plain)
            .output()
            .unwrap();
        assert_ok(&enc);
        rule(rule_t);
        let mut runs = vec![("sops-like", cmd(d, None))];
        if let Some(s) = sops(d, "age-test.txt") {
            runs.push(("sops", s));
        }
        for (tool, mut c) in runs {
            let file = d.join(format!("{tool}.yaml"));
            std::fs::write(&file, &enc.stdout).unwrap();
            let out = c
                .current_dir(d)
                .env("SOPS_AGE_KEY", &all)
                .args(["updatekeys", "-y"])
                .arg(&file)
                .output()
                .unwrap();
            assert_ok(&out);
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(
                text.contains(&format!("shamir_threshold: {file_t}\n")),
                "{tool} {file_t} {rule_t:?}: {text}"
            );
            // Two key holders open it exactly when the threshold is 2.
            let two = cmd(d, None)
                .env("SOPS_AGE_KEY", identity(&names[..2]))
                .arg("decrypt")
                .arg(&file)
                .output()
                .unwrap();
            assert_eq!(
                two.status.success(),
                file_t == 2,
                "{tool} {file_t} {rule_t:?}"
            );
        }
    }
}

/// `rotate --add-age K --rm-age K` adds, then removes, as sops does: K is
/// not a recipient of the result (sops-like removed first, then added,
/// and K could still decrypt).
#[test]
fn rotate_adds_before_it_removes() {
    let dir = tempdir();
    let d = dir.path();
    let file = d.join("f.json");
    std::fs::write(&file, "{\"a\": \"secret\"}\n").unwrap();
    let (one, two, three) = (
        demo_recipient(),
        recipient_of("age-test-2.txt"),
        recipient_of("age-test-3.txt"),
    );
    let f = file.to_str().unwrap();
    let recipients = format!("{one},{two}");
    assert_ok(
        &cmd(d, None)
            .args(["encrypt", "-i", "--age", &recipients, f])
            .output()
            .unwrap(),
    );
    let add = format!("{two},{three}");
    let out = cmd(d, Some("age-test.txt"))
        .args(["rotate", "-i", "--add-age", &add, "--rm-age", &two, f])
        .output()
        .unwrap();
    assert_ok(&out);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&three) && text.contains(&one), "{text}");
    assert!(!text.contains(&two), "{text}");
}

/// `rotate --add-age` with a bad recipient exits 1 before any identity is
/// looked for, as sops checks it first (it was 128 without an identity);
/// a removal that would empty a group is refused after the file is opened.
#[test]
fn rotate_checks_the_keys_before_it_unwraps() {
    let dir = tempdir();
    let d = dir.path();
    let file = d.join("f.yaml");
    std::fs::write(&file, "a: 1\n").unwrap();
    let f = file.to_str().unwrap();
    assert_ok(
        &cmd(d, None)
            .args(["encrypt", "-i", "--age", &demo_recipient(), f])
            .output()
            .unwrap(),
    );
    for identity in [Some("age-test.txt"), Some("age-test-2.txt"), None] {
        let out = cmd(d, identity)
            .args(["rotate", "-i", "--add-age", "notanagekey", f])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{identity:?}");
    }
    // Emptying a group is checked once the file is open, as sops checks
    // it: without an identity that opens it, 128.
    for (identity, code) in [(Some("age-test.txt"), 1), (Some("age-test-2.txt"), 128)] {
        let out = cmd(d, identity)
            .args(["rotate", "-i", "--rm-age", &demo_recipient(), f])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{identity:?}");
    }
}
