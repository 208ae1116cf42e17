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
    std::fs::write(dir.join("blank.yaml"), " \n\n").unwrap();
    std::fs::write(dir.join("docend.yaml"), "...\n# c\n").unwrap();
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
    // The MAC was encrypted with the old `lastmodified` as its AAD: it no
    // longer decrypts (the commonest tamper).
    let stamp = enc
        .find("lastmodified: \"")
        .map(|i| i + "lastmodified: \"".len());
    let mut badmac = enc.clone();
    if let Some(i) = stamp {
        badmac.replace_range(i..i + 4, "1999");
    }
    assert_ne!(badmac, enc);
    std::fs::write(dir.join("badmac.yaml"), badmac).unwrap();
    // Files that do not parse, as a merge conflict leaves them.
    std::fs::write(dir.join("bad.yaml"), "not: [valid\n").unwrap();
    std::fs::write(dir.join("bad.json"), "{\"a\": ").unwrap();
    std::fs::write(dir.join("bad.env"), "A\n").unwrap();
    std::fs::write(dir.join("bad.ini"), "[sec\n").unwrap();
    std::fs::write(dir.join("bad.bin"), "notjson").unwrap();
    std::fs::write(dir.join("nonutf8.yaml"), b"a: \xff\xfe\n").unwrap();
    std::fs::write(dir.join("v.json"), "\"v\"").unwrap();
    std::fs::write(dir.join("p.env"), "A=1\n").unwrap();
    // Plaintexts whose top level cannot hold the metadata (sops: 2).
    std::fs::write(dir.join("list.yaml"), "- a\n- b\n").unwrap();
    std::fs::write(dir.join("str.yaml"), "just a string\n").unwrap();
    std::fs::write(dir.join("multi.yaml"), "a: 1\n---\n- x\n").unwrap();
    std::fs::write(dir.join("null.json"), "null\n").unwrap();
    std::fs::write(dir.join("envlike.env"), "# c\nNAME=app\n").unwrap();
    std::fs::write(dir.join("dashes.yaml"), "---\n").unwrap();
    std::fs::write(dir.join("a.txt"), "hello\n").unwrap();
    let out = sops(home, "age-test.txt")?
        .current_dir(dir)
        .args(["encrypt", "--age", &demo_recipient(), "a.txt"])
        .output()
        .unwrap();
    assert_ok(&out);
    std::fs::write(dir.join("a.bin"), &out.stdout).unwrap();
    let out = sops(home, "age-test.txt")?
        .current_dir(dir)
        .args(["encrypt", "--age", &demo_recipient(), "p.env"])
        .output()
        .unwrap();
    assert_ok(&out);
    std::fs::write(dir.join("e.env"), &out.stdout).unwrap();
    Some(())
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
            "encrypt a YAML file of blank lines",
            vec![],
            vec!["encrypt", "--age", &age, "blank.yaml"],
            None,
        ),
        (
            "encrypt a YAML file of a `...` marker and a comment",
            vec![],
            vec!["encrypt", "--age", &age, "docend.yaml"],
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
        // A MAC that cannot be decrypted is sops's MacMismatch (51), on
        // every command that checks it.
        (
            "MAC does not decrypt, decrypt",
            vec![],
            vec!["decrypt", "badmac.yaml"],
            None,
        ),
        (
            "MAC does not decrypt, edit",
            vec![("EDITOR", "true")],
            vec!["edit", "badmac.yaml"],
            None,
        ),
        (
            "MAC does not decrypt, set",
            vec![],
            vec!["set", "badmac.yaml", r#"["a"]"#, "2"],
            None,
        ),
        (
            "MAC does not decrypt, unset",
            vec![],
            vec!["unset", "badmac.yaml", r#"["a"]"#],
            None,
        ),
        (
            "MAC does not decrypt, rotate",
            vec![],
            vec!["rotate", "badmac.yaml"],
            None,
        ),
        (
            "MAC does not decrypt, exec-env",
            vec![],
            vec!["exec-env", "badmac.yaml", "true"],
            None,
        ),
        (
            "MAC does not decrypt, --ignore-mac",
            vec![],
            vec!["decrypt", "--ignore-mac", "badmac.yaml"],
            None,
        ),
    ];
    // An encrypted file that does not parse: 1 on every command that loads
    // one, 2 only for `encrypt` of a plaintext.
    let mut loads: Vec<(String, Vec<String>, Option<&str>)> = Vec::new();
    let rule = format!("creation_rules:\n  - age: {age}\n");
    for f in [
        "bad.yaml",
        "bad.json",
        "bad.env",
        "bad.ini",
        "bad.bin",
        "nonutf8.yaml",
    ] {
        loads.push((
            format!("decrypt {f}"),
            vec!["decrypt".into(), f.into()],
            None,
        ));
    }
    let per_command = |f: &str| -> Vec<Vec<String>> {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<String>>();
        vec![
            words(&["rotate", f]),
            words(&["rotate", "-i", f]),
            words(&["updatekeys", "-y", f]),
            words(&["set", f, r#"["a"]"#, "1"]),
            words(&["unset", f, r#"["a"]"#]),
            words(&["exec-env", f, "true"]),
            words(&["exec-file", f, "true"]),
            words(&["filestatus", f]),
            words(&["groups", "add", "--file", f, "--age", &age]),
            words(&["groups", "delete", "--file", f, "0"]),
            words(&["edit", f]),
        ]
    };
    for f in ["bad.yaml", "bad.env"] {
        for args in per_command(f) {
            loads.push((args.join(" "), args, Some(rule.as_str())));
        }
        loads.push((
            format!("encrypt {f}"),
            vec!["encrypt".into(), "--age".into(), age.clone(), f.into()],
            None,
        ));
    }
    // A missing file: 100 only from encrypt and decrypt; the others fail
    // to read it (2), or stop with 1 (updatekeys, filestatus).
    for args in per_command("nofile.yaml")
        .into_iter()
        .filter(|a| a[0] != "edit")
        .chain([
            vec!["decrypt".to_string(), "nofile.yaml".into()],
            vec![
                "encrypt".to_string(),
                "--age".into(),
                age.clone(),
                "nofile.yaml".into(),
            ],
            vec!["rotate".to_string(), "nofile.bin".into()],
            vec![
                "set".to_string(),
                "nofile.bin".into(),
                r#"["data"]"#.into(),
                r#""x""#.into(),
            ],
        ])
    {
        loads.push((
            format!("missing: {}", args.join(" ")),
            args,
            Some(rule.as_str()),
        ));
    }
    let empty_rule = "creation_rules:\n  - path_regex: .*\n    age: ''\n";
    let other = key("age-test-2.txt");
    let other = other.to_str().unwrap();
    let more: Vec<(&str, Vec<(&str, &str)>, Vec<&str>, Option<&str>)> = vec![
        // Usage errors: sops's argument count checks (100, or 1 for
        // exec-* and groups delete) and its flag parser (1).
        ("set, no arguments", vec![], vec!["set"], None),
        ("set, no index", vec![], vec!["set", "e.yaml"], None),
        (
            "set, no value",
            vec![],
            vec!["set", "e.yaml", r#"["a"]"#],
            None,
        ),
        (
            "set, an index and no value",
            vec![],
            vec!["set", "e.yaml", "x"],
            None,
        ),
        (
            "set, an extra argument",
            vec![],
            vec!["set", "e.yaml", "a", "b", "c"],
            None,
        ),
        ("unset, no index", vec![], vec!["unset", "e.yaml"], None),
        (
            "unset, an extra argument",
            vec![],
            vec!["unset", "e.yaml", "a", "b"],
            None,
        ),
        ("rotate, no file", vec![], vec!["rotate"], None),
        ("edit, no file", vec![], vec!["edit"], None),
        // (sops looks for its config first: 1 without one)
        (
            "updatekeys, no file",
            vec![],
            vec!["updatekeys", "-y"],
            Some(rule.as_str()),
        ),
        ("filestatus, no file", vec![], vec!["filestatus"], None),
        (
            "filestatus, two files: the first one's status",
            vec![],
            vec!["filestatus", "e.yaml", "other.yaml"],
            None,
        ),
        (
            "groups add, an extra argument",
            vec![],
            vec![
                "groups",
                "add",
                "--file",
                "e.yaml",
                "--age",
                "age1xksg0j7xz6au3772au4papt5wnqq2llx9adm2pmjsanknhc2neps05glmq",
                "extra",
            ],
            None,
        ),
        (
            "exec-env, no command",
            vec![],
            vec!["exec-env", "e.yaml"],
            None,
        ),
        (
            "exec-file, no command",
            vec![],
            vec!["exec-file", "e.yaml"],
            None,
        ),
        (
            "groups, no subcommand: its help",
            vec![],
            vec!["groups"],
            None,
        ),
        (
            "groups delete, no index",
            vec![],
            vec!["groups", "delete", "--file", "e.yaml"],
            None,
        ),
        (
            "groups delete, no --file",
            vec![],
            vec!["groups", "delete", "0"],
            None,
        ),
        (
            "groups delete, nothing",
            vec![],
            vec!["groups", "delete"],
            None,
        ),
        (
            "groups add, no --file",
            vec![],
            vec![
                "groups",
                "add",
                "--age",
                "age1xksg0j7xz6au3772au4papt5wnqq2llx9adm2pmjsanknhc2neps05glmq",
            ],
            None,
        ),
        (
            "groups, an unknown subcommand",
            vec![],
            vec!["groups", "foo"],
            None,
        ),
        (
            "groups delete, a signed index",
            vec![],
            vec!["groups", "delete", "--file", "e.yaml", "+1"],
            None,
        ),
        (
            "a global flag before set, no index",
            vec![],
            vec!["--config", "/dev/null", "set", "e.yaml"],
            None,
        ),
        (
            "an unknown flag",
            vec![],
            vec!["decrypt", "--bogus", "e.yaml"],
            None,
        ),
        (
            "an unknown flag, rotate",
            vec![],
            vec!["rotate", "--bogus", "e.yaml"],
            None,
        ),
        (
            "a flag value that does not parse",
            vec![],
            vec![
                "set",
                "--shamir-secret-sharing-threshold",
                "abc",
                "e.yaml",
                r#"["a"]"#,
                "1",
            ],
            None,
        ),
        (
            "set --value-stdin with a VALUE too",
            vec![],
            vec!["set", "--value-stdin", "e.yaml", r#"["a"]"#, r#""x""#],
            None,
        ),
        (
            "set --value-file with --value-stdin",
            vec![],
            vec![
                "set",
                "--value-file",
                "--value-stdin",
                "e.yaml",
                r#"["a"]"#,
                "v.json",
            ],
            None,
        ),
        (
            "set --value-file, the file is missing",
            vec![],
            vec!["set", "--value-file", "e.yaml", r#"["a"]"#, "nonexist.json"],
            None,
        ),
        (
            "set --value-file, no value file named",
            vec![],
            vec!["set", "--value-file", "e.yaml", r#"["a"]"#],
            None,
        ),
        // A key group left without keys: sops's "empty key group provided" (1).
        (
            "rotate --rm-age of the only key",
            vec![],
            vec!["rotate", "-i", "--rm-age", &age, "e.yaml"],
            None,
        ),
        (
            "updatekeys, a rule with no keys",
            vec![],
            vec!["updatekeys", "-y", "e.yaml"],
            Some(empty_rule),
        ),
        // groups stops with 1 on any error but an unreadable file.
        (
            "groups add, no identity",
            vec![("SOPS_AGE_KEY_FILE", other)],
            vec!["groups", "add", "--file", "e.yaml", "--age", &age],
            None,
        ),
        (
            "groups delete, no identity",
            vec![("SOPS_AGE_KEY_FILE", other)],
            vec!["groups", "delete", "--file", "e.yaml", "0"],
            None,
        ),
        // .env holds no nested values: a mapping is sops's "cannot use
        // complex value in dotenv file" (4), a list its invalid value (7).
        (
            "set, .env, a nested path",
            vec![],
            vec!["set", "e.env", r#"["X"]["y"]"#, r#""n""#],
            None,
        ),
        (
            "set, .env, a path below a value",
            vec![],
            vec!["set", "e.env", r#"["A"]["y"]"#, r#""n""#],
            None,
        ),
        (
            "set, .env, an index below a key",
            vec![],
            vec!["set", "e.env", r#"["X"][0]"#, r#""n""#],
            None,
        ),
        (
            "set, .env, a mapping value",
            vec![],
            vec!["set", "e.env", r#"["X"]"#, r#"{"y":1}"#],
            None,
        ),
        (
            "set, .env, a list value",
            vec![],
            vec!["set", "e.env", r#"["X"]"#, "[1]"],
            None,
        ),
        // A plaintext whose top level is not a mapping: sops's "Error
        // unmarshalling file" (2), not a conversion problem (4).
        (
            "encrypt, a YAML list",
            vec![],
            vec!["encrypt", "--age", &age, "list.yaml"],
            None,
        ),
        (
            "encrypt, a YAML string",
            vec![],
            vec!["encrypt", "--age", &age, "str.yaml"],
            None,
        ),
        (
            "encrypt, a YAML stream with a list",
            vec![],
            vec!["encrypt", "--age", &age, "multi.yaml"],
            None,
        ),
        (
            "encrypt, JSON null",
            vec![],
            vec!["encrypt", "--age", &age, "null.json"],
            None,
        ),
        (
            "encrypt --input-type yaml of a .env text",
            vec![],
            vec![
                "encrypt",
                "--age",
                &age,
                "--input-type",
                "yaml",
                "envlike.env",
            ],
            None,
        ),
        // A lone `---` reads as {}: sops encrypts it.
        (
            "encrypt, a lone ---",
            vec![],
            vec!["encrypt", "--age", &age, "dashes.yaml"],
            None,
        ),
        // A binary file is the document {"data": …} to --extract.
        (
            "decrypt --extract data, binary",
            vec![],
            vec!["decrypt", "--extract", r#"["data"]"#, "a.bin"],
            None,
        ),
        (
            "decrypt --extract another key, binary",
            vec![],
            vec!["decrypt", "--extract", r#"["x"]"#, "a.bin"],
            None,
        ),
        (
            "decrypt --extract a bad path, binary",
            vec![],
            vec!["decrypt", "--extract", r#"["data""#, "a.bin"],
            None,
        ),
        // Binary input has no INI form (4); dotenv and binary it has.
        (
            "encrypt binary input as ini",
            vec![],
            vec![
                "encrypt",
                "--age",
                &age,
                "--input-type",
                "binary",
                "--output-type",
                "ini",
                "a.txt",
            ],
            None,
        ),
        (
            "encrypt binary input as dotenv",
            vec![],
            vec![
                "encrypt",
                "--age",
                &age,
                "--input-type",
                "binary",
                "--output-type",
                "dotenv",
                "a.txt",
            ],
            None,
        ),
        (
            "encrypt --output-type binary of YAML",
            vec![],
            vec![
                "encrypt",
                "--age",
                &age,
                "--output-type",
                "binary",
                "p.yaml",
            ],
            None,
        ),
    ];
    let cases: Vec<(String, Vec<(&str, &str)>, Vec<String>, Option<&str>)> = cases
        .into_iter()
        .chain(more)
        .map(|(what, env, args, config)| {
            (
                what.to_string(),
                env,
                args.into_iter().map(String::from).collect(),
                config,
            )
        })
        .chain(
            loads
                .into_iter()
                .map(|(what, args, config)| (what, vec![("EDITOR", "true")], args, config)),
        )
        .collect();
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

/// A stderr whose reader is gone (`2>&1 | head -c 80` after the first
/// bytes) does not turn a failure's exit code into a panic's (101): the
/// message is written once, and a failed write is ignored.
#[test]
fn a_closed_stderr_keeps_the_exit_code() {
    let dir = tempdir();
    std::fs::write(dir.path().join("sp.json"), "{\"sops\":{\"x\":\"1\"}}").unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sops-like"))
        .current_dir(dir.path())
        .env_clear()
        .env("HOME", dir.path())
        .args(["encrypt", "--age", &demo_recipient(), "sp.json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(203));
}
