//! .env and INI files against the real sops: values whose double quote does
//! not close on their line (sops's .env store reads line by line), and
//! typed values (`type:int/float/bool`) in sops-written .env and INI files.

use crate::util::*;
use std::path::Path;

/// `sops` with `args`, in `dir`; its standard output (`None` without sops).
fn run_sops(dir: &Path, args: &[&str]) -> Option<String> {
    let out = sops(dir, "age-test.txt")?
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sops {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

/// `sops-like` with `args`, in `dir`, with the demo identity; its output.
fn run_ours(dir: &Path, args: &[&str]) -> String {
    let out = cmd(dir, Some("age-test.txt")).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "sops-like {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Plaintexts whose double quotes do not close on their line, and the
/// lines that come after them (each non-blank line is one key for sops).
const OPEN_QUOTES: &[&str] = &[
    "A=\"a\nB=2\n",
    "A=\"\nB=2\n",
    "A=\"a\\\"\nB=2\n",
    "K= \"a\nB=2",
    "A=\"unterminated\nB=x \"quoted\" y\nC=3\n",
    "A=\"x\nB=y\"\nC=3\n",
    // Lines that do not look like `KEY=` between the quotes: only a
    // line-by-line reading gives sops's keys.
    "A_unencrypted=\"x\n1NUM=v\nc d_unencrypted=w\"\nE=5\n",
    "A=\"x\nclé=w\nB=\"\n",
];

#[test]
fn sops_written_env_files_with_open_quotes_read_as_sops_reads_them() {
    let dir = tempdir();
    let d = dir.path();
    for (i, plain) in OPEN_QUOTES.iter().enumerate() {
        let name = format!("p{i}.env");
        std::fs::write(d.join(&name), plain).unwrap();
        let Some(enc) = run_sops(d, &["encrypt", "--age", &demo_recipient(), &name]) else {
            return;
        };
        let enc_name = format!("e{i}.env");
        std::fs::write(d.join(&enc_name), &enc).unwrap();
        let theirs = run_sops(d, &["decrypt", "--output-type", "json", &enc_name]).unwrap();
        let ours = run_ours(d, &["decrypt", "--output-type", "json", &enc_name]);
        assert_eq!(json(&ours), json(&theirs), "{plain:?}");
        // The plaintext itself, and every key on its own.
        let theirs_text = run_sops(d, &["decrypt", &enc_name]).unwrap();
        assert_eq!(
            run_ours(d, &["decrypt", &enc_name]),
            theirs_text,
            "{plain:?}"
        );
        let data = json(&theirs);
        for (key, value) in data.as_object().unwrap() {
            let path = format!("[\"{key}\"]");
            let got = run_ours(d, &["decrypt", "--extract", &path, &enc_name]);
            assert_eq!(got, value.as_str().unwrap(), "{plain:?} {key}");
        }
        // `set` finds the key sops finds (it would add a second one if a
        // multi-line reading had swallowed it).
        let last = data.as_object().unwrap().keys().last().unwrap().clone();
        let path = format!("[\"{last}\"]");
        run_ours(d, &["set", &enc_name, &path, "\"changed\""]);
        let after = json(&run_sops(d, &["decrypt", "--output-type", "json", &enc_name]).unwrap());
        let mut expected = data.clone();
        expected[&last] = "changed".into();
        assert_eq!(after, expected, "{plain:?}");
    }
}

#[test]
fn aes_env_files_are_written_with_the_keys_sops_reads() {
    let dir = tempdir();
    let d = dir.path();
    for (i, plain) in OPEN_QUOTES.iter().enumerate() {
        let name = format!("p{i}.env");
        std::fs::write(d.join(&name), plain).unwrap();
        let Some(theirs) = run_sops(d, &["encrypt", "--age", &demo_recipient(), &name]) else {
            return;
        };
        std::fs::write(d.join("theirs.env"), theirs).unwrap();
        let out = encrypt_aes(d).arg(&name).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(d.join("ours.env"), &out.stdout).unwrap();
        let expected = run_sops(d, &["decrypt", "--output-type", "json", "theirs.env"]).unwrap();
        let got = run_sops(d, &["decrypt", "--output-type", "json", "ours.env"]).unwrap();
        assert_eq!(json(&got), json(&expected), "{plain:?}");
        assert_eq!(run_ours(d, &["decrypt", "ours.env"]), *plain);
    }
    // A value spanning lines that sops cannot read either is refused.
    std::fs::write(d.join("ml.env"), "A=\"x\nline two\"\nB=1\n").unwrap();
    let out = encrypt_aes(d).arg("ml.env").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    if let Some(mut sops) = sops(d, "age-test.txt") {
        let out = sops
            .current_dir(d)
            .args(["encrypt", "--age", &demo_recipient(), "ml.env"])
            .output()
            .unwrap();
        assert!(!out.status.success());
    }
}

#[test]
fn own_env_files_never_let_an_open_quote_swallow_keys() {
    let dir = tempdir();
    let d = dir.path();
    for (i, plain) in OPEN_QUOTES.iter().enumerate() {
        // Lines sops reads as keys that do not look like `KEY=` may still
        // continue a quoted value in sops-like's own files.
        if plain.contains("1NUM") || plain.contains("clé") {
            continue;
        }
        let name = format!("p{i}.env");
        std::fs::write(d.join(&name), plain).unwrap();
        let enc = run_ours(d, &["encrypt", "--age", &demo_recipient(), &name]);
        std::fs::write(d.join("own.env"), &enc).unwrap();
        assert_eq!(run_ours(d, &["decrypt", "own.env"]), *plain);
        let ours = json(&run_ours(
            d,
            &["decrypt", "--output-type", "json", "own.env"],
        ));
        let keys = plain.lines().filter(|l| !l.is_empty()).count();
        assert_eq!(ours.as_object().unwrap().len(), keys, "{plain:?}");
        if let Some(theirs) = run_sops(d, &["encrypt", "--age", &demo_recipient(), &name]) {
            std::fs::write(d.join("theirs.env"), theirs).unwrap();
            let theirs = run_sops(d, &["decrypt", "--output-type", "json", "theirs.env"]).unwrap();
            assert_eq!(ours, json(&theirs), "{plain:?}");
        }
    }
    // A real multi-line value still is one (a PEM body's `=` padding line
    // included).
    let pem = "KEY=\"-----BEGIN X-----\nQUJD\nQUI=\n-----END X-----\"\nB=1\n";
    std::fs::write(d.join("pem.env"), pem).unwrap();
    let enc = run_ours(d, &["encrypt", "--age", &demo_recipient(), "pem.env"]);
    std::fs::write(d.join("pem.enc.env"), &enc).unwrap();
    assert_eq!(run_ours(d, &["decrypt", "pem.enc.env"]), pem);
    let data = json(&run_ours(
        d,
        &["decrypt", "--output-type", "json", "pem.enc.env"],
    ));
    assert_eq!(data.as_object().unwrap().len(), 2);
}

#[test]
fn typed_values_in_sops_written_env_and_ini_files_keep_their_types() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(d.join("s.env"), "A=x\n").unwrap();
    let Some(enc) = run_sops(d, &["encrypt", "--age", &demo_recipient(), "s.env"]) else {
        return;
    };
    std::fs::write(d.join("es.env"), enc).unwrap();
    run_sops(d, &["set", "es.env", "[\"PORT\"]", "8080"]).unwrap();
    run_sops(d, &["set", "es.env", "[\"ON\"]", "true"]).unwrap();
    run_sops(d, &["set", "es.env", "[\"R\"]", "1.5"]).unwrap();
    std::fs::write(
        d.join("m.yaml"),
        "n: 1.5\nb: true\ni: 7\nt: 2024-01-02T03:04:05.123Z\ns: '8'\n",
    )
    .unwrap();
    let env = run_sops(
        d,
        &[
            "encrypt",
            "--age",
            &demo_recipient(),
            "--output-type",
            "dotenv",
            "m.yaml",
        ],
    )
    .unwrap();
    std::fs::write(d.join("m.env"), env).unwrap();
    std::fs::write(
        d.join("m2.yaml"),
        "s:\n  n: 1.5\n  b: true\n  i: 7\n  s: x\n",
    )
    .unwrap();
    let ini = run_sops(
        d,
        &[
            "encrypt",
            "--age",
            &demo_recipient(),
            "--output-type",
            "ini",
            "m2.yaml",
        ],
    )
    .unwrap();
    std::fs::write(d.join("m.ini"), ini).unwrap();
    for file in ["es.env", "m.env", "m.ini"] {
        let theirs = run_sops(d, &["decrypt", "--output-type", "json", file]).unwrap();
        let ours = run_ours(d, &["decrypt", "--output-type", "json", file]);
        assert_eq!(json(&ours), json(&theirs), "{file}");
        // The default output (the file's own format) is unchanged.
        let theirs = run_sops(d, &["decrypt", file]).unwrap();
        assert_eq!(run_ours(d, &["decrypt", file]), theirs, "{file}");
    }
    let yaml = run_ours(d, &["decrypt", "--output-type", "yaml", "es.env"]);
    assert!(
        yaml.contains("\nPORT: 8080") && !yaml.contains("\"8080"),
        "{yaml}"
    );
    assert!(yaml.contains("\"ON\": true"), "{yaml}");
    // exec-env sets what the file shows, as sops does.
    let env = run_sops(d, &["exec-env", "es.env", "echo $PORT $ON $R"]).unwrap();
    assert_eq!(
        run_ours(d, &["exec-env", "es.env", "echo $PORT $ON $R"]),
        env
    );
    let port = run_ours(
        d,
        &[
            "decrypt",
            "--output-type",
            "json",
            "--extract",
            "[\"PORT\"]",
            "es.env",
        ],
    );
    assert_eq!(port.trim_end(), "8080");
}

/// Lines sops's .env store reads its own way: it splits at `\n` only (a
/// `\r` ends the value), takes a line starting with `#` as a comment and
/// every other non-empty line as `KEY=VALUE` at its first `=`, whatever
/// the key. Both tools read each other's `AES256_GCM` files of these the
/// same, and the plaintext comes back byte for byte.
const SOPS_LINES: &[&str] = &[
    "A=\r\nB_unencrypted=y\r\n",
    "A=x\r\n",
    "#c\r\nA=1\r\nB_unencrypted=2\r\n",
    " #k=v\n",
    " #k_unencrypted=v\n",
    "=x\n",
    " =x\n",
    "\u{feff}A=1\r\n",
];

/// Lines sops refuses in a .env file (no `=`): a line of blanks, an
/// indented comment, a `\r` alone in a `\r\n` file, a BOM before a comment.
const SOPS_REFUSES: &[&str] = &[
    " #c\nA=1\n",
    "A=1\n  \nB=2\n",
    "A=1\r\n\r\nB=2\r\n",
    "\u{feff}#c\nA=1\n",
];

#[test]
fn env_lines_read_as_sops_reads_them_both_ways() {
    let dir = tempdir();
    let d = dir.path();
    let r = demo_recipient();
    for (i, plain) in SOPS_LINES.iter().enumerate() {
        let name = format!("p{i}.env");
        std::fs::write(d.join(&name), plain).unwrap();
        // sops-like's file: sops reads it as its own.
        let ours = run_ours(
            d,
            &["encrypt", "--cipher", "aes256-gcm", "--age", &r, &name],
        );
        let ours_name = format!("o{i}.env");
        std::fs::write(d.join(&ours_name), &ours).unwrap();
        assert_eq!(run_ours(d, &["decrypt", &ours_name]), *plain);
        let Some(theirs_of_ours) = run_sops(d, &["decrypt", &ours_name]) else {
            return;
        };
        // sops's file: sops-like reads it as sops does.
        let theirs = run_sops(d, &["encrypt", "--age", &r, &name]).unwrap();
        let theirs_name = format!("s{i}.enc.env");
        std::fs::write(d.join(&theirs_name), &theirs).unwrap();
        let sops_own = run_sops(d, &["decrypt", &theirs_name]).unwrap();
        assert_eq!(theirs_of_ours, sops_own, "{plain:?}");
        assert_eq!(
            run_ours(d, &["decrypt", &theirs_name]),
            sops_own,
            "{plain:?}"
        );
        let as_json = ["decrypt", "--output-type", "json"];
        let ours_json = run_ours(d, &[&as_json[..], &[theirs_name.as_str()]].concat());
        let sops_json = run_sops(d, &[&as_json[..], &[theirs_name.as_str()]].concat()).unwrap();
        assert_eq!(json(&ours_json), json(&sops_json), "{plain:?}");
    }
    for (i, plain) in SOPS_REFUSES.iter().enumerate() {
        let name = format!("bad{i}.env");
        std::fs::write(d.join(&name), plain).unwrap();
        let out = cmd(d, None)
            .args(["encrypt", "--cipher", "aes256-gcm", "--age", &r, &name])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{plain:?}");
        assert!(out.stdout.is_empty());
        // sops-like's own cipher reads them as dotenv does.
        let out = cmd(d, None)
            .args(["encrypt", "--age", &r, &name])
            .output()
            .unwrap();
        assert!(out.status.success(), "{plain:?}");
        if let Some(mut sops) = sops(d, "age-test.txt") {
            let out = sops
                .current_dir(d)
                .args(["encrypt", "--age", &r, &name])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "sops: {plain:?}");
        }
    }
}

/// `set` and `unset` in a `\r\n` file sops reads: a new line ends with
/// `\n` (a `\r` would be the new value's), and removing the last line
/// leaves the `\r` of the value before it.
#[test]
fn set_and_unset_keep_sops_lines_in_crlf_files() {
    let dir = tempdir();
    let d = dir.path();
    let r = demo_recipient();
    std::fs::write(d.join("p.env"), "A=1\r\nB=2\r").unwrap();
    let enc = run_ours(
        d,
        &["encrypt", "--cipher", "aes256-gcm", "--age", &r, "p.env"],
    );
    std::fs::write(d.join("e.env"), enc).unwrap();
    run_ours(d, &["set", "e.env", r#"["C"]"#, r#""3""#]);
    assert_eq!(run_ours(d, &["decrypt", "e.env"]), "A=1\r\nB=2\r\nC=3");
    if let Some(theirs) = run_sops(d, &["decrypt", "e.env"]) {
        assert_eq!(theirs, "A=1\r\nB=2\r\nC=3\n");
    }
    run_ours(d, &["unset", "e.env", r#"["C"]"#]);
    run_ours(d, &["unset", "e.env", r#"["B"]"#]);
    // `A`'s value is `1\r` in both (sops ends every line it writes with `\n`).
    assert_eq!(run_ours(d, &["decrypt", "e.env"]), "A=1\r");
    if let Some(theirs) = run_sops(d, &["decrypt", "e.env"]) {
        assert_eq!(theirs, "A=1\r\n");
    }
}
