//! Selector regexes and `path_regex` mean what they mean in sops (Go's
//! RE2): `\w \d \s \b` are ASCII, `\Q…\E`, octal escapes and a `{` that
//! starts no repetition are Go's, and what Go refuses is refused. Each
//! pattern is given to both tools and the encrypted keys compared.

use crate::util::*;

/// Keys where Unicode and ASCII classes, Go's literals and case folding
/// differ.
const KEYS: &[&str] = &[
    "clé_id",
    "cle_id",
    "pässwort",
    "zahl٣",
    "zahl3",
    "a{,3}",
    "A-b",
    "x y",
    "K",
    "\u{212A}",
    "ſ",
    "s",
    "a.b",
    "axb",
    "<a>",
    "a&b",
    "[a",
    "]a",
    "a-~",
    "AB",
    "a$",
    "λ",
    "Ω_1",
    "_",
    "é",
    "ab",
    "abab",
    "a(b",
];

const PATTERNS: &[&str] = &[
    r"^\w+_id$",
    r"\d$",
    r"\bsswort$",
    r"^[\w-]+$",
    r"^\D+$",
    r"\s",
    r"(?i)^k$",
    r"(?i)[^\W]",
    r"^\W$",
    r"^\pL+$",
    r"^[[:alpha:]]+$",
    r"a{,3}",
    r"^\101",
    r"\<a\>",
    r"[a&&b]",
    r"^[[a]",
    r"^[]a]",
    r"^[-a~]+$",
    r"^\Qa.b\E$",
    r"^\Qa(b",
    r"(?U)^a+",
];

/// The keys whose values are `ENC[…]` in an encrypted YAML document.
fn encrypted_keys(text: &str) -> Vec<String> {
    text.lines()
        .take_while(|l| !l.starts_with("sops:"))
        .filter_map(|l| l.split_once(": ENC["))
        .map(|(k, _)| match k.strip_prefix('"') {
            Some(q) => serde_json::from_str::<String>(&format!("\"{q}")).unwrap(),
            None => k.trim_matches('\'').replace("''", "'"),
        })
        .collect()
}

#[test]
fn selector_regexes_select_the_keys_sops_selects() {
    let dir = tempdir();
    let home = dir.path();
    let doc: String = KEYS
        .iter()
        .map(|k| format!("{}: v\n", serde_json::to_string(k).unwrap()))
        .collect();
    let plain = home.join("d.yaml");
    std::fs::write(&plain, &doc).unwrap();
    let mut differences = Vec::new();
    for pattern in PATTERNS {
        let Some(mut sops) = sops(home, "age-test.txt") else {
            return;
        };
        let theirs = sops
            .args([
                "encrypt",
                "--age",
                &demo_recipient(),
                "--encrypted-regex",
                pattern,
            ])
            .arg(&plain)
            .output()
            .unwrap();
        assert_ok(&theirs);
        let ours = encrypt_aes(home)
            .args(["--encrypted-regex", pattern])
            .arg(&plain)
            .output()
            .unwrap();
        assert_ok(&ours);
        let (theirs, ours) = (
            encrypted_keys(&String::from_utf8_lossy(&theirs.stdout)),
            encrypted_keys(&String::from_utf8_lossy(&ours.stdout)),
        );
        if theirs != ours {
            differences.push(format!("{pattern}: sops {theirs:?}, sops-like {ours:?}"));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// What Go refuses is refused (sops then selects nothing, silently; a
/// regex that matches the empty string would select every key here).
#[test]
fn regexes_go_refuses_are_refused() {
    let dir = tempdir();
    let home = dir.path();
    std::fs::write(home.join("f.yaml"), "a: 1\n").unwrap();
    for pattern in [r"a**", r"a+?*", r"a{2}{3}", r"\1", r"(?x)a", r"a{1001}"] {
        let out = encrypt_aes(home)
            .args(["--encrypted-regex", pattern, "f.yaml"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{pattern} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("encrypted_regex"), "{pattern}: {err}");
    }
}

/// A file sops wrote with `--unencrypted-regex '^\w+_id$'` keeps `clé_id`
/// encrypted when sops-like changes another value (with Unicode classes it
/// was written back in clear), and sops still reads the result.
#[test]
fn a_sops_file_keeps_what_sops_encrypted() {
    let dir = tempdir();
    let home = dir.path();
    let plain = home.join("g.yaml");
    std::fs::write(&plain, "clé_id: s3cr3t\nb: 1\n").unwrap();
    let Some(mut sops_cmd) = sops(home, "age-test.txt") else {
        return;
    };
    let out = sops_cmd
        .args([
            "encrypt",
            "--age",
            &demo_recipient(),
            "--unencrypted-regex",
            r"^\w+_id$",
        ])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let file = home.join("g.enc.yaml");
    std::fs::write(&file, &out.stdout).unwrap();
    let out = cmd(home, Some("age-test.txt"))
        .args(["set"])
        .arg(&file)
        .args([r#"["b"]"#, "2"])
        .output()
        .unwrap();
    assert_ok(&out);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("s3cr3t"), "written in clear:\n{text}");
    let Some(mut sops_cmd) = sops(home, "age-test.txt") else {
        return;
    };
    let out = sops_cmd.arg("decrypt").arg(&file).output().unwrap();
    assert_ok(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "clé_id: s3cr3t\nb: 2\n"
    );
}

/// `path_regex` too: `\w` does not match `é`, so `secrets/clé.yaml` takes
/// the second rule, as in sops.
#[test]
fn path_regex_is_read_as_go_reads_it() {
    let dir = tempdir();
    let home = dir.path();
    std::fs::create_dir(home.join("secrets")).unwrap();
    std::fs::write(
        home.join(".sops.yaml"),
        format!(
            "creation_rules:\n  - path_regex: '^secrets/\\w+\\.yaml$'\n    encrypted_regex: '^a$'\n    age: {r}\n  - encrypted_regex: '^b$'\n    age: {r}\n",
            r = demo_recipient()
        ),
    )
    .unwrap();
    for name in ["clé", "cle"] {
        let file = format!("secrets/{name}.yaml");
        std::fs::write(home.join(&file), "a: 1\nb: 2\n").unwrap();
        let ours = cmd(home, None).args(["encrypt", &file]).output().unwrap();
        assert_ok(&ours);
        let ours = encrypted_keys(&String::from_utf8_lossy(&ours.stdout));
        let expected = if name == "clé" { ["b"] } else { ["a"] };
        assert_eq!(ours, expected, "{file}");
        let Some(mut sops_cmd) = sops(home, "age-test.txt") else {
            return;
        };
        let theirs = sops_cmd
            .current_dir(home)
            .args(["encrypt", &file])
            .output()
            .unwrap();
        assert_ok(&theirs);
        assert_eq!(
            encrypted_keys(&String::from_utf8_lossy(&theirs.stdout)),
            expected,
            "sops, {file}"
        );
    }
}

/// Each rule's `path_regex` is compiled when a file reaches it, as sops
/// compiles them in turn: a rule after the matching one is not compiled,
/// and a `^literal…` pattern is not compiled for a path without its
/// literal. A pattern whose syntax is wrong is still refused when the
/// config is read; one the `regex` crate cannot compile (too large: Go
/// compiles it) fails only the files that reach it, naming it.
#[test]
fn path_regexes_are_compiled_when_a_file_reaches_them() {
    let dir = tempdir();
    let home = dir.path();
    std::fs::create_dir(home.join("big")).unwrap();
    let r = demo_recipient();
    std::fs::write(
        home.join(".sops.yaml"),
        format!(
            "creation_rules:\n  - path_regex: '^big/\\pL{{1000}}'\n    age: {r}\n  - path_regex: '^other\\.yaml$'\n    encrypted_regex: '^a$'\n    age: {r}\n  - path_regex: '\\pL{{1000}}'\n    age: {r}\n"
        ),
    )
    .unwrap();
    for file in ["other.yaml", "big/x.yaml", "third.yaml"] {
        std::fs::write(home.join(file), "a: 1\nb: 2\n").unwrap();
    }
    // Rule 1 cannot match (no `big/` prefix), rule 2 matches: rule 3 is
    // never compiled.
    let out = cmd(home, None)
        .args(["encrypt", "other.yaml"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(encrypted_keys(&String::from_utf8_lossy(&out.stdout)), ["a"]);
    // Files that reach a pattern too large to compile.
    for (file, pattern) in [
        ("big/x.yaml", "^big/\\pL{1000}"),
        ("third.yaml", "\\pL{1000}"),
    ] {
        let out = cmd(home, None).args(["encrypt", file]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {err}");
        assert!(out.stdout.is_empty(), "{file}");
        assert!(
            err.contains(&format!("path_regex `{pattern}` cannot be compiled")),
            "{err}"
        );
        assert!(err.contains("size limit"), "{err}");
    }
    // A syntax error anywhere is refused when the config is read.
    std::fs::write(
        home.join(".sops.yaml"),
        format!("creation_rules:\n  - path_regex: '^other'\n    age: {r}\n  - path_regex: '(x'\n    age: {r}\n"),
    )
    .unwrap();
    let out = cmd(home, None)
        .args(["encrypt", "other.yaml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("path_regex is not a valid regular expression"),
        "{err}"
    );
}
