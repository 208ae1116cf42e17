//! Issue 3, direction 2: files sops-like writes in AES256_GCM mode decrypt
//! with the real sops (MAC verified), and sops's edit/set/rotate/updatekeys
//! work on them; files sops writes stay readable by sops after sops-like
//! edits them. Differential property tests in both directions.

use crate::sops_read::canonical_text;
use crate::util::*;
use proptest::prelude::*;
use sops_like_format::Format;
use std::path::Path;

const YAML: &str = "# top comment\napp:\n  name: \"my-app\"   # inline\n  port: 8080\n  ratio: 1.50\n  hex: 0x1F\n  debug: true\n  yes_string: yes\n  empty: \"\"\n  nothing: null\n  when: 2024-01-02\n  list:\n    - one\n    - 2\n    # a comment in a list\n    - three\nmultiline: |\n  line one\n  line two\nflow: {a: 1, b: [x, y]}\npassword_unencrypted: visible\n";
const JSON: &str = "{\n  \"a\": \"x<y>&z\",\n  \"n\": 1.0,\n  \"big\": 12345678901234567890,\n  \"list\": [1, \"two\", true, null, {\"k\": \"v\"}],\n  \"empty\": \"\",\n  \"obj\": {}\n}\n";
const ENV: &str = "# comment\nDB_USER=admin\nDB_PASS=\"quoted value\"\nexport TOKEN=abc\nMULTI=line1\\nline2\nEMPTY=\nSECRET_unencrypted=plain\n";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn ours_aes(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let enc = encrypt_text(dir, name, text, &["--cipher", "aes256-gcm"]);
    write(dir, &format!("enc.{name}"), &enc)
}

fn sops_decrypt(home: &Path, file: &Path) -> Option<String> {
    let out = sops(home, "age-test.txt")?
        .arg("decrypt")
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sops decrypt {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

fn ours_decrypt(home: &Path, file: &Path) -> String {
    let out = cmd(home, Some("age-test.txt"))
        .arg("decrypt")
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sops-like decrypt {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn sops_decrypts_what_we_write_in_aes_mode() {
    let dir = tempdir();
    for (name, text, format) in [
        ("a.yaml", YAML, Format::Yaml),
        ("b.json", JSON, Format::Json),
        ("c.env", ENV, Format::Dotenv),
    ] {
        let enc = ours_aes(dir.path(), name, text);
        let Some(theirs) = sops_decrypt(dir.path(), &enc) else {
            return;
        };
        assert_eq!(
            canonical_text(format, &theirs),
            canonical_text(format, text),
            "{name}\n--- sops says ---\n{theirs}"
        );
        // And ours still reads it back to the same data.
        assert_eq!(
            canonical_text(format, &ours_decrypt(dir.path(), &enc)),
            canonical_text(format, text)
        );
    }
}

#[test]
fn sops_set_rotate_and_edit_work_on_our_files() {
    let dir = tempdir();
    let enc = ours_aes(dir.path(), "a.yaml", YAML);
    let Some(mut set) = sops(dir.path(), "age-test.txt") else {
        return;
    };
    let out = set
        .arg("set")
        .arg(&enc)
        .arg(r#"["app"]["name"]"#)
        .arg(r#""changed""#)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sops set: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ours_decrypt(dir.path(), &enc).contains("name: changed"));

    let out = sops(dir.path(), "age-test.txt")
        .unwrap()
        .args(["rotate", "-i"])
        .arg(&enc)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sops rotate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ours_decrypt(dir.path(), &enc).contains("port: 8080"));

    let editor = write(
        dir.path(),
        "ed.sh",
        "#!/bin/sh\nsed -i 's/port: 8080/port: 9090/' \"$1\"\n",
    );
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = sops(dir.path(), "age-test.txt")
        .unwrap()
        .env("EDITOR", &editor)
        .arg("edit")
        .arg(&enc)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sops edit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ours_decrypt(dir.path(), &enc).contains("port: 9090"));
}

#[test]
fn sops_updatekeys_works_on_our_files() {
    let dir = tempdir();
    let enc = ours_aes(dir.path(), "a.yaml", "a: 1\nb: two\n");
    let second = recipient_of("age-test-2.txt");
    write(
        dir.path(),
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - age: {},{}\n",
            demo_recipient(),
            second
        ),
    );
    let Some(mut c) = sops(dir.path(), "age-test.txt") else {
        return;
    };
    let out = c
        .current_dir(dir.path())
        .args(["updatekeys", "-y"])
        .arg(&enc)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sops updatekeys: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The new recipient can now read it with sops-like.
    let out = cmd(dir.path(), Some("age-test-2.txt"))
        .arg("decrypt")
        .arg(&enc)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "a: 1\nb: two\n");
}

#[test]
fn our_edits_of_sops_files_stay_readable_by_sops() {
    let dir = tempdir();
    for name in [
        "yaml-types.yaml",
        "json-basic.json",
        "dotenv-basic.env",
        "yaml-comments.yaml",
    ] {
        let src = root().join("testdata/sops/enc").join(name);
        let path = dir.path().join(name);
        std::fs::copy(&src, &path).unwrap();
        let plain = ours_decrypt(dir.path(), &path);
        let format = Format::from_path(name).unwrap();
        // Append a value the format can hold, through edit --from.
        let edited = match format {
            Format::Yaml => format!("{plain}added_by_sops_like: hello\n"),
            Format::Dotenv => format!("{plain}ADDED_BY_SOPS_LIKE=hello\n"),
            _ => plain.replacen('{', "{\n\t\"added_by_sops_like\": \"hello\",", 1),
        };
        let from = write(dir.path(), "from.txt", &edited);
        let out = cmd(dir.path(), Some("age-test.txt"))
            .arg("edit")
            .arg(&path)
            .arg("--from")
            .arg(&from)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let Some(theirs) = sops_decrypt(dir.path(), &path) else {
            return;
        };
        assert_eq!(
            canonical_text(format, &theirs),
            canonical_text(format, &edited),
            "{name}"
        );
        // set with sops-like keeps it readable by sops.
        let out = cmd(dir.path(), Some("age-test.txt"))
            .arg("set")
            .arg(&path)
            .arg(r#"["set_by_sops_like"]"#)
            .arg(r#""v""#)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: set: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = sops_decrypt(dir.path(), &path).unwrap();
        assert!(theirs.contains("set_by_sops_like"), "{name}: {theirs}");
        let edited = ours_decrypt(dir.path(), &path);
        // rotate with sops-like keeps it readable by sops too.
        let out = cmd(dir.path(), Some("age-test.txt"))
            .args(["rotate", "-i"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = sops_decrypt(dir.path(), &path).unwrap();
        assert_eq!(
            canonical_text(format, &theirs),
            canonical_text(format, &edited),
            "{name} after rotate"
        );
    }
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9 _.-]{0,20}".prop_map(|s| format!("\"{}\"", s.trim())),
        (-1_000_000i64..1_000_000).prop_map(|i| i.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        (-1000.0f64..1000.0).prop_map(|f| format!("{f:.3}")),
    ]
}

fn doc() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map("[a-z][a-z0-9_]{0,10}", value(), 1..8)
        .prop_map(|m| m.into_iter().collect())
}

fn render(format: Format, pairs: &[(String, String)]) -> String {
    match format {
        Format::Yaml => pairs.iter().map(|(k, v)| format!("{k}: {v}\n")).collect(),
        Format::Json => {
            let body: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("  \"{k}\": {v}"))
                .collect();
            format!("{{\n{}\n}}\n", body.join(",\n"))
        }
        _ => pairs
            .iter()
            .map(|(k, v)| format!("{}={}\n", k.to_uppercase(), v.trim_matches('"')))
            .collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(proptest_cases(12)))]

    #[test]
    fn differential_both_directions(pairs in doc(), which in 0usize..3) {
        let format = [Format::Yaml, Format::Json, Format::Dotenv][which];
        let ext = ["yaml", "json", "env"][which];
        let text = render(format, &pairs);
        let dir = tempdir();
        // sops-like (AES) -> sops.
        let enc = ours_aes(dir.path(), &format!("p.{ext}"), &text);
        let Some(theirs) = sops_decrypt(dir.path(), &enc) else { return Ok(()) };
        prop_assert_eq!(canonical_text(format, &theirs), canonical_text(format, &text));
        // sops -> sops-like.
        let plain = write(dir.path(), &format!("q.{ext}"), &text);
        let out = sops(dir.path(), "age-test.txt").unwrap().args(["encrypt", "--age", &demo_recipient()]).arg(&plain).output().unwrap();
        prop_assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let enc2 = write(dir.path(), &format!("q.enc.{ext}"), &String::from_utf8(out.stdout).unwrap());
        prop_assert_eq!(canonical_text(format, &ours_decrypt(dir.path(), &enc2)), canonical_text(format, &text));
    }
}

#[test]
fn sops_reads_our_aes_files_with_every_selector_and_ini_and_binary() {
    let dir = tempdir();
    let yaml = "# sops:enc\npassword: hunter2\ntoken_secret: abc\npublic_name: visible\nplain: text\n# sops:clear\nclear_one: x\n";
    let cases: &[&[&str]] = &[
        &["--unencrypted-suffix", "_name"],
        &["--encrypted-suffix", "_secret"],
        &["--unencrypted-regex", "^public"],
        &["--encrypted-regex", "^(password|token_secret)$"],
        &["--unencrypted-comment-regex", "sops:clear"],
        &["--encrypted-comment-regex", "sops:enc"],
        &["--mac-only-encrypted", "--encrypted-regex", "^password$"],
    ];
    for (i, flags) in cases.iter().enumerate() {
        let mut args = vec!["--cipher", "aes256-gcm"];
        args.extend_from_slice(flags);
        let enc = encrypt_text(dir.path(), &format!("s{i}.yaml"), yaml, &args);
        let path = write(dir.path(), &format!("s{i}.enc.yaml"), &enc);
        let Some(theirs) = sops_decrypt(dir.path(), &path) else {
            return;
        };
        assert_eq!(
            canonical_text(Format::Yaml, &theirs),
            canonical_text(Format::Yaml, yaml),
            "{flags:?}"
        );
    }
    let ini = "top = 1\n[db]\n; comment\nuser = admin\npass = \"quoted\"\n";
    let enc = ours_aes(dir.path(), "c.ini", ini);
    let theirs = sops_decrypt(dir.path(), &enc).unwrap();
    assert_eq!(
        canonical_text(Format::Ini, &theirs),
        canonical_text(Format::Ini, ini)
    );
    let bin = dir.path().join("blob.bin");
    std::fs::write(&bin, [0u8, 255, 10, 13, 200, 1]).unwrap();
    let out = cmd(dir.path(), None)
        .args([
            "encrypt",
            "-i",
            "--cipher",
            "aes256-gcm",
            "--age",
            &demo_recipient(),
        ])
        .arg(&bin)
        .output()
        .unwrap();
    assert_ok(&out);
    let out = sops(dir.path(), "age-test.txt")
        .unwrap()
        .args(["decrypt", "--input-type", "binary"])
        .arg(&bin)
        .output()
        .unwrap();
    assert_eq!(out.stdout, [0u8, 255, 10, 13, 200, 1]);
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("decrypt")
        .arg(&bin)
        .output()
        .unwrap();
    assert_eq!(out.stdout, [0u8, 255, 10, 13, 200, 1]);
}

/// Comments where go-yaml v3 and sops decide which mapping they belong to
/// (their AAD is its path): at the end of nested blocks, before and after
/// blank lines, at the end of the file, between list items, in and after
/// flow collections, `key: # c`. Every comment is `# cN`.
const COMMENT_PLACEMENTS: &[&str] = &[
    // Comments only where the measured rules and go-yaml agree (read
    // without go-yaml's second pass: `foot::plainly_placed`).
    "# c1\n# c2\na:\n    # c3\n    b: 1  # c4\n    c: x # c5\n# c6\nd:\n  - 1 # c7\n# c8\ne: 2\n",
    "a:\n  b:\n    c: 1\n  # c1\n  d: 2\n# c2\n  # c3\ne: 3\n",
    "a:\n  b:\n    c: 1\n    # c1\n  d: 2\n",
    "a:\n  b:\n    c: 1\n  # c1\n  d: 2\n",
    "a:\n  b:\n    c: 1\n# c1\nd: 2\n",
    "a:\n  b:\n    c: 1\n\n    # c1\n  d: 2\n",
    "a:\n  b:\n    c: 1\n    # c1\n\n  d: 2\n",
    "a:\n  b:\n    c: 1\n    # c1\n",
    "a:\n  b:\n    c: 1\n  # c1\n",
    "a:\n  b:\n    c: 1\n\n# c1\n",
    "a:\n  b:\n    c: 1\n      # c1\n  d: 2\n",
    "a:\n  b:\n    c: 1\n    # c1\n  # c2\n# c3\nd: 2\n",
    "a:\n  b:\n    c:\n      e: 1\n    # c1\nd: 2\n",
    "a:\n  b:\n    c:\n      e: 1\n    # c1\n",
    "a:\n  b:\n    c:\n      e: 1\n    # c1\n\nd: 2\n",
    "a:\n  b:\n    c:\n      e: 1\n    # c1\n  # c2\nd: 2\n",
    "a:\n  b:\n    c:\n      e: 1\n      # c1\n    # c2\n  # c3\n# c4\n",
    "a:\n    b:\n        c: 1\n      # c1\n",
    "a:\n  b:\n    c: 1\n# c1\n  d: 2\n",
    "a:\n  b:\n    c: 1\n    # c1\n    # c2\n\n    # c3\nd: 2\n",
    "resources:\n  limits:\n    cpu: 1\n  # c1\n  #   c2\nimage: app\n",
    "l:\n  - 1\n  # c1\n  - 2\n",
    "l:\n  - 1\n  - 2\n  # c1\nd: 1\n",
    "l:\n  - a: 1\n    b: 2\n    # c1\nd: 1\n",
    "a:\n  l:\n    - 1\n    # c1\nd: 2\n",
    "a:\n  l:\n  - x: 1\n    # c1\nd: 2\n",
    "k1:\n- v\n- k4: 1\n  k5: 2\n  # c1\n",
    "f: {a: 1, b: 2} # c1\ng: 1\n",
    "f: {a: 1, # c1\n  b: 2}\ng: 1\n",
    "f: [1, # c1\n  2]\ng: 1\n",
    "a:\n  b: [1, 2] # c1\nd: 2\n",
    "a:\n  b: {c: 1}\n  # c1\nd: 2\n",
    "a: # c1\n  b: 1\n",
    "a:\n  # c1\n  b: 1 # c2\n",
    "a: 1\n---\nb:\n  c: 1\n  # c1\n---\nd: 1\n",
];

/// The `# cN` comments of a text, in order.
fn comment_names(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() > 1 && w.starts_with('c') && w[1..].bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

#[test]
fn comment_aads_match_sops_both_ways() {
    let dir = tempdir();
    for (i, text) in COMMENT_PLACEMENTS.iter().enumerate() {
        let name = format!("c{i}.yaml");
        // sops-like writes (AES mode), sops reads every comment.
        let enc = ours_aes(dir.path(), &name, text);
        let Some(mut c) = sops(dir.path(), "age-test.txt") else {
            return;
        };
        let out = c.arg("decrypt").arg(&enc).output().unwrap();
        let (theirs, err) = (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{text:?}: sops decrypt: {err}");
        assert!(
            !theirs.contains("ENC[") && !err.contains("unencrypted comment"),
            "{text:?}: sops could not decrypt a comment:\n{theirs}{err}"
        );
        assert_eq!(comment_names(&theirs), comment_names(text), "{text:?}");
        // sops writes, sops-like reads every comment.
        let plain = write(dir.path(), &format!("p{i}.yaml"), text);
        let out = sops(dir.path(), "age-test.txt")
            .unwrap()
            .args(["encrypt", "--age", &demo_recipient()])
            .arg(&plain)
            .output()
            .unwrap();
        assert_ok(&out);
        let theirs_enc = write(
            dir.path(),
            &format!("s{i}.yaml"),
            &String::from_utf8(out.stdout).unwrap(),
        );
        let ours = ours_decrypt(dir.path(), &theirs_enc);
        assert!(!ours.contains("ENC["), "{text:?}: {ours}");
        assert_eq!(comment_names(&ours), comment_names(text), "{text:?}");
    }
}

/// JSON integers stay integers when the document is written as YAML, INI
/// or another JSON: `port: 8080` as sops writes it, not `8080.0`.
#[test]
fn json_integers_convert_as_integers() {
    let dir = tempdir();
    let text = "{\"port\": 8080, \"neg\": -3, \"l\": [1, 2.5], \"x\": 1.5}\n";
    let plain = write(dir.path(), "p.json", text);
    let Some(enc) = sops_encrypt_file(dir.path(), &plain) else {
        return;
    };
    let theirs = write(dir.path(), "s.json", &enc);
    let as_yaml = |file: &Path, extra: &[&str]| {
        let out = cmd(dir.path(), Some("age-test.txt"))
            .arg("decrypt")
            .args(extra)
            .arg(file)
            .output()
            .unwrap();
        assert_ok(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    let yaml = as_yaml(&theirs, &["--output-type", "yaml"]);
    assert_eq!(
        yaml,
        "port: 8080\nneg: -3\nl:\n    - 1\n    - 2.5\nx: 1.5\n"
    );
    let yaml = as_yaml(&theirs, &["--output-type", "yaml", "--extract", "[\"l\"]"]);
    assert_eq!(yaml, "- 1\n- 2.5\n");
    let ini = as_yaml(
        &theirs,
        &["--output-type", "ini", "--extract", "[\"port\"]"],
    );
    assert_eq!(ini.trim(), "8080");
    // Our AES file: sops reads the integers back as integers.
    let ours = ours_aes(dir.path(), "q.json", text);
    let back = sops_decrypt(dir.path(), &ours).unwrap();
    assert!(back.contains("\"port\": 8080,"), "{back}");
    // yaml -> json -> yaml keeps `a: 1`.
    let y = encrypt_text(dir.path(), "y.yaml", "a: 1\nb: 2.5\n", &[]);
    let y = write(dir.path(), "enc.y.yaml", &y);
    let json = as_yaml(&y, &["--output-type", "json"]);
    let j = encrypt_text(dir.path(), "j.json", &json, &[]);
    let j = write(dir.path(), "enc.j.json", &j);
    assert_eq!(as_yaml(&j, &["--output-type", "yaml"]), "a: 1\nb: 2.5\n");
}

/// A `\r\n` .env: sops reads our AES file (its metadata lines end with
/// `\n`, as sops writes them), we read sops's (its values keep a `\r`), and
/// both ciphers give the exact bytes back.
#[test]
fn crlf_dotenv_both_ways() {
    let dir = tempdir();
    for (i, text) in ["A=1\r\nB=two\r\n", "A=1\r\nB=two", "A=1\r\n# c\r\nB=two\r"]
        .iter()
        .enumerate()
    {
        let name = format!("a{i}.env");
        let enc = ours_aes(dir.path(), &name, text);
        let Some(theirs) = sops_decrypt(dir.path(), &enc) else {
            return;
        };
        assert_eq!(
            theirs.replace('\r', ""),
            text.replace('\r', "").trim_end().to_string() + "\n",
            "{text:?}"
        );
        assert_eq!(ours_decrypt(dir.path(), &enc), *text, "{text:?}");
        let x = write(
            dir.path(),
            &format!("x{i}.env"),
            &encrypt_text(dir.path(), &name, text, &[]),
        );
        assert_eq!(ours_decrypt(dir.path(), &x), *text, "{text:?}");
    }
    // sops writes a CRLF file with `\n` lines and `\r` in its values.
    let plain = write(dir.path(), "s.env", "A=1\r\nB=two\r\n");
    let out = sops(dir.path(), "age-test.txt")
        .unwrap()
        .args(["encrypt", "--age", &demo_recipient()])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let theirs = write(
        dir.path(),
        "s.enc.env",
        &String::from_utf8(out.stdout).unwrap(),
    );
    assert_eq!(ours_decrypt(dir.path(), &theirs), "A=1\r\nB=two\r\n");
}

/// Mapping keys sops does not read as strings: sops refuses to encrypt
/// (exit 23, "Tree contains a non-string key") and so does AES mode; the
/// keys it reads as strings are fine in both.
#[test]
fn non_string_keys_refused_in_aes_mode_as_sops_does() {
    let dir = tempdir();
    for key in [
        "200",
        "0x1F",
        "1.5",
        ".inf",
        "true",
        "null",
        "~",
        "2024-01-02",
        "\"200\"",
        "'true'",
        "!!str 200",
        "yes",
        "on",
        "name",
    ] {
        let text = format!("a:\n  {key}: v\n");
        let plain = write(dir.path(), "k.yaml", &text);
        let Some(mut c) = sops(dir.path(), "age-test.txt") else {
            return;
        };
        let theirs = c
            .args(["encrypt", "--age", &demo_recipient()])
            .arg(&plain)
            .output()
            .unwrap();
        let ours = cmd(dir.path(), None)
            .args([
                "encrypt",
                "--cipher",
                "aes256-gcm",
                "--age",
                &demo_recipient(),
            ])
            .arg(&plain)
            .output()
            .unwrap();
        assert_eq!(ours.status.code(), theirs.status.code(), "{key}");
        if ours.status.success() {
            let enc = write(
                dir.path(),
                "k.enc.yaml",
                &String::from_utf8(ours.stdout).unwrap(),
            );
            sops_decrypt(dir.path(), &enc).unwrap();
        } else {
            assert!(String::from_utf8_lossy(&ours.stderr).contains("not a string"));
        }
    }
    // The default cipher (sops-like's own format) keeps such keys.
    let plain = write(dir.path(), "k.yaml", "200: ok\n");
    let out = cmd(dir.path(), None)
        .args(["encrypt", "--age", &demo_recipient()])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
}

/// A .env file with a BOM: sops reads it as part of the first key (AAD
/// `\u{feff}A:`); both tools read each other's files, the bytes come back
/// exactly, and a file from an earlier sops-like build (AAD `A:`) opens.
#[test]
fn dotenv_bom_both_ways() {
    let dir = tempdir();
    let text = "\u{feff}A=1\nB=2\n";
    let enc = ours_aes(dir.path(), "b.env", text);
    let Some(theirs) = sops_decrypt(dir.path(), &enc) else {
        return;
    };
    assert_eq!(theirs, text);
    assert_eq!(ours_decrypt(dir.path(), &enc), text);
    let x = write(
        dir.path(),
        "x.env",
        &encrypt_text(dir.path(), "b.env", text, &[]),
    );
    assert_eq!(ours_decrypt(dir.path(), &x), text);
    let plain = write(dir.path(), "p.env", text);
    let out = sops(dir.path(), "age-test.txt")
        .unwrap()
        .args(["encrypt", "--age", &demo_recipient()])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let s = write(dir.path(), "s.env", &String::from_utf8(out.stdout).unwrap());
    assert_eq!(ours_decrypt(dir.path(), &s), text);
    let earlier = root().join("testdata/earlier/bom.enc.env");
    assert_eq!(ours_decrypt(dir.path(), &earlier), text);
    // exec-env names the variable without the BOM.
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["exec-env"])
        .arg(&x)
        .arg("printf %s \"$A\"")
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "1");
}

/// Strings holding U+2028, U+2029 or U+0085 are written double-quoted with
/// `\L`, `\P`, `\N` in YAML: go-yaml (sops) cannot parse them raw in a plain
/// or block scalar.
#[test]
fn yaml_output_escapes_unicode_line_separators() {
    let dir = tempdir();
    let json =
        "{\"s\": \"a\\u2028b\", \"t\": \"x\\u2029\\u0085y\", \"m\": \"l1\\nl2\\u2028\\n\"}\n";
    let plain = write(dir.path(), "u.json", json);
    let Some(mut c) = sops(dir.path(), "age-test.txt") else {
        return;
    };
    let out = c
        .args(["encrypt", "--age", &demo_recipient()])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let enc = write(
        dir.path(),
        "u.enc.json",
        &String::from_utf8(out.stdout).unwrap(),
    );
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["decrypt", "--output-type", "yaml"])
        .arg(&enc)
        .output()
        .unwrap();
    assert_ok(&out);
    let yaml = String::from_utf8(out.stdout).unwrap();
    assert!(!yaml.contains(['\u{2028}', '\u{2029}', '\u{85}']), "{yaml}");
    // sops parses it back to the same strings.
    let y = write(dir.path(), "u.yaml", &yaml);
    let out = sops(dir.path(), "age-test.txt")
        .unwrap()
        .args(["encrypt", "--age", &demo_recipient()])
        .arg(&y)
        .output()
        .unwrap();
    assert_ok(&out);
    let y_enc = write(
        dir.path(),
        "u.enc.yaml",
        &String::from_utf8(out.stdout).unwrap(),
    );
    let out = sops(dir.path(), "age-test.txt")
        .unwrap()
        .args(["decrypt", "--output-type", "json"])
        .arg(&y_enc)
        .output()
        .unwrap();
    assert_ok(&out);
    let back: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(back, want);
    // An AES-mode YAML value decrypts to the escaped form too.
    let ours = cmd(dir.path(), Some("age-test.txt"))
        .arg("decrypt")
        .arg(&y_enc)
        .output()
        .unwrap();
    assert_ok(&ours);
    let text = String::from_utf8(ours.stdout).unwrap();
    assert!(text.contains("s: \"a\\Lb\""), "{text}");
}

/// A YAML document with `# cN` comments at varied columns, built from a
/// tape of choices (0 everywhere is the simplest document, so proptest
/// shrinks towards it): nested mappings, sequences at and under their key's
/// column, sequences of mappings, comments before keys, between items, at
/// the ends of nested blocks, after values, blank lines around them, at the
/// end of the file and documents after `---`.
struct CommentDoc<'a> {
    tape: &'a [u8],
    at: usize,
    names: usize,
    lines: Vec<String>,
}

impl CommentDoc<'_> {
    fn pick(&mut self, n: u8) -> u8 {
        let b = self.tape.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b % n.max(1)
    }

    /// One in `n` (0 on the tape: no).
    fn chance(&mut self, n: u8) -> bool {
        self.pick(n) == n - 1
    }

    fn comments(&mut self, max_col: u8) {
        if self.chance(3) {
            self.lines.push(String::new());
        }
        for _ in 0..=self.pick(3) {
            self.names += 1;
            let col = usize::from(self.pick(max_col + 1));
            self.lines
                .push(format!("{}# c{}", " ".repeat(col), self.names));
            if self.chance(6) {
                self.lines.push(String::new());
            }
        }
    }

    fn maybe_comments(&mut self, max_col: u8, one_in: u8) {
        if self.chance(one_in) {
            self.comments(max_col);
        }
    }

    fn inline(&mut self) -> String {
        if self.chance(6) {
            self.names += 1;
            format!(" # c{}", self.names)
        } else {
            String::new()
        }
    }

    fn scalar(&mut self) -> &'static str {
        ["1", "x", "true", "'q'", "2.5"][usize::from(self.pick(5))]
    }

    fn mapping(&mut self, indent: u8, depth: u8, first_prefix: Option<String>) {
        let keys = 1 + self.pick(3);
        for i in 0..keys {
            let prefix = match (&first_prefix, i) {
                (Some(p), 0) => p.clone(),
                _ => {
                    self.maybe_comments(indent + 4, 3);
                    " ".repeat(usize::from(indent))
                }
            };
            let kind = if depth < 3 { self.pick(10) } else { 0 };
            let key = format!("{prefix}k{i}:");
            if kind < 4 {
                let (v, c) = (self.scalar(), self.inline());
                self.lines.push(format!("{key} {v}{c}"));
            } else {
                let c = self.inline();
                self.lines.push(format!("{key}{c}"));
                self.maybe_comments(indent + 6, 5);
                let step = [2, 4, 0][usize::from(self.pick(3))];
                if kind < 7 {
                    self.mapping(indent + step.max(2), depth + 1, None);
                } else {
                    self.sequence(indent + step, depth + 1);
                }
            }
            self.maybe_comments(indent + 6, 4);
        }
    }

    fn sequence(&mut self, indent: u8, depth: u8) {
        for i in 0..=self.pick(3) {
            if i > 0 {
                self.maybe_comments(indent + 6, 3);
            }
            let dash = format!("{}- ", " ".repeat(usize::from(indent)));
            if depth < 3 && self.chance(3) {
                self.mapping(indent + 2, depth + 1, Some(dash));
            } else {
                let (v, c) = (self.scalar(), self.inline());
                self.lines.push(format!("{dash}{v}{c}"));
            }
        }
        self.maybe_comments(indent + 6, 3);
    }

    fn build(tape: &[u8]) -> String {
        let mut d = CommentDoc {
            tape,
            at: 0,
            names: 0,
            lines: Vec::new(),
        };
        for n in 0..=d.pick(4) / 3 {
            if n > 0 {
                d.lines.push("---".to_string());
            }
            d.maybe_comments(4, 3);
            d.mapping(0, 0, None);
        }
        d.maybe_comments(8, 2);
        d.lines.join("\n") + "\n"
    }
}

/// sops-like encrypts `text` in AES mode; the real sops decrypts every
/// comment it reads: it exits 0, leaves no `ENC[…]` and warns of no
/// "possibly unencrypted comment" (what it says when a comment's additional
/// authenticated data is not the path it attaches the comment to).
///
/// Comments missing from sops's output are not checked: go-yaml attaches
/// some comments to no node, and sops's emitter drops some more (a head
/// comment of a sequence that is a mapping value), whoever encrypted the
/// file: sops loses them on its own round trip of the plaintext too. A
/// comment sops reads with another path cannot go missing: sops keeps it
/// as `ENC[…]` and warns.
fn sops_reads_every_comment(dir: &Path, text: &str) -> Result<(), String> {
    let enc = ours_aes(dir, "c.yaml", text);
    let Some(mut c) = sops(dir, "age-test.txt") else {
        return Ok(());
    };
    let out = c
        .arg("decrypt")
        .arg(&enc)
        .output()
        .map_err(|e| e.to_string())?;
    let (theirs, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    if !out.status.success() || theirs.contains("ENC[") || err.contains("unencrypted comment") {
        return Err(format!("{text}\n--- sops decrypt:\n{theirs}{err}"));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(proptest_cases(16)))]

    /// Comments anywhere in a YAML document: sops reads every one sops-like
    /// encrypted (the comment's AAD is the path sops attaches it to, see
    /// `crates/format/src/syntax/yaml/goyaml.rs`).
    /// `scripts/comment-corpus.py` runs more cases and prints both AADs of
    /// any comment that differs.
    #[test]
    fn sops_reads_every_comment_we_encrypt(tape in prop::collection::vec(any::<u8>(), 0..160)) {
        let text = CommentDoc::build(&tape);
        let dir = tempdir();
        if let Err(e) = sops_reads_every_comment(dir.path(), &text) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// Single comment groups (found by `scripts/comment-corpus.py`, one group
/// per document) whose AAD the measured rules before the go-yaml rewrite
/// got wrong: (theirs, sops's).
const COMMENT_PLACEMENTS_FROM_GO_YAML: &[&str] = &[
    // ours `k0:`, sops top level: after an indentless sequence's last item.
    "k0:\n- true\n     # c1\nk1: x\n",
    // ours `k0:k0:`, sops `k0:`: dedented below an indentless sequence in a
    // sequence item's mapping.
    "k0:\n- k0:\n  - true\n# c1\n    # c2\n      # c3\n  k1: x\n",
    // ours `k0:`, sops `k0:k0:`: deeper than the last item, blank after.
    "k0:\n    k0:\n      - x\n         # c1\n\n           # c2\n\n  # c3\n    k1:\n    - x\n",
    // ours `k2:`, sops top level: dedented runs at the end of the file.
    "k0: x\nk2: # c10\n    k0: v17\n# c11\n     # c12\n    # c13\n\n",
];

#[test]
fn comment_placements_from_go_yaml_match_sops() {
    let dir = tempdir();
    let failed: Vec<String> = COMMENT_PLACEMENTS_FROM_GO_YAML
        .iter()
        .filter_map(|t| sops_reads_every_comment(dir.path(), t).err())
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// `AES256_GCM` .env files with `\r\n` lines from builds before sops-like
/// read them as sops does (their values sealed without the `\r`): they
/// still open, byte for byte.
#[test]
fn earlier_crlf_aes_dotenv_files_open() {
    let dir = tempdir();
    for (name, text) in [
        ("crlf-aes.enc.env", "A=1\r\n#c\r\nB=2\r\n"),
        ("crlf-aes-cr-at-eof.enc.env", "A=1\r\nB=x y\r"),
    ] {
        let earlier = root().join("testdata/earlier").join(name);
        assert_eq!(ours_decrypt(dir.path(), &earlier), text, "{name}");
    }
}

/// Comments inside a scalar's text (on a block scalar's header line, after
/// a tag with the value below) and after a collection's anchor or tag
/// (`e: &a # c`, the mapping below): each is encrypted like any comment,
/// whether its value is encrypted or not. In AES mode a comment inside an
/// encrypted value goes after its `ENC[…]` text (sops writes the value
/// alone), and sops reads every one of them at the path it gives them;
/// XChaCha files keep the text byte for byte.
#[test]
fn comments_inside_scalars_and_after_anchors_are_encrypted() {
    const TEXT: &str = "a: 1\nk: > # cmtone\n  Q\nz: |- # cmttwo\n  R\nk_unencrypted: > # cmtthree\n  Q\nt: !!str # cmtfour\n  x\nu: !!str # cmtfive\n  # cmtsix\n  y\nl: [!!str # cmtseven\n  x, y]\ne: &a # cmteight\n  k: x\nf: !!map # cmtnine\n  k: y\ng:\n  - &c # cmtten\n    k: x\n";
    let words: Vec<&str> = TEXT
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.starts_with("cmt"))
        .collect();
    assert_eq!(words.len(), 10);
    let dir = tempdir();
    let d = dir.path();
    let xchacha = encrypt_text(d, "x.yaml", TEXT, &[]);
    let aes = encrypt_text(d, "a.yaml", TEXT, &["--cipher", "aes256-gcm"]);
    for (name, enc) in [("xchacha", &xchacha), ("aes", &aes)] {
        for w in &words {
            assert!(!enc.contains(w), "{name}: comment {w} in clear:\n{enc}");
        }
    }
    let x = write(d, "x.enc.yaml", &xchacha);
    assert_eq!(ours_decrypt(d, &x), TEXT);
    let a = write(d, "a.enc.yaml", &aes);
    let ours = ours_decrypt(d, &a);
    for w in &words {
        assert!(ours.contains(w), "sops-like lost {w}:\n{ours}");
    }
    if let Some(theirs) = sops_decrypt(d, &a) {
        for w in &words {
            assert!(theirs.contains(w), "sops lost {w}:\n{theirs}");
        }
        sops_reads_every_comment(d, TEXT).unwrap();
    }
}

/// What sops's JSON store refuses to read, sops-like refuses in AES mode
/// (exit 2, as sops refuses the plaintext): a top-level array and a number
/// beyond the float64 range. Before, sops-like wrote files sops could not
/// open. The default cipher keeps them, and AES files with a top-level
/// array from earlier builds still open.
#[test]
fn json_sops_cannot_read_is_refused_in_aes_mode() {
    let dir = tempdir();
    let d = dir.path();
    for (name, text) in [
        ("arr.json", "[1, {\"a\": \"x\"}]\n"),
        ("inf.json", "{\"a\": \"x\", \"b_unencrypted\": 1e400}\n"),
    ] {
        let plain = write(d, name, text);
        let out = encrypt_aes(d).arg(&plain).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(out.stdout.is_empty());
        if let Some(mut s) = sops(d, "age-test.txt") {
            let theirs = s
                .args(["encrypt", "--age", &demo_recipient()])
                .arg(&plain)
                .output()
                .unwrap();
            assert_eq!(theirs.status.code(), Some(2), "{name}");
        }
        let x = write(d, &format!("x.{name}"), &encrypt_text(d, name, text, &[]));
        assert_eq!(ours_decrypt(d, &x), text);
    }
    let earlier = root().join("testdata/earlier/aes-array.enc.json");
    assert_eq!(
        ours_decrypt(d, &earlier),
        "[\n  {\"name\": \"a\", \"port\": 8080},\n  \"two\",\n  3\n]\n"
    );
}

/// Values kept in clear that hold a raw U+2028, U+2029 or U+0085 (the go-yaml
/// emitter writes them raw, in single-quoted scalars and literal blocks, the
/// next line's indentation after each): go-yaml reads each as a line break
/// and drops the blanks around it. Both ways, sops-like reads such values and
/// MACs them as sops does (before, a file either tool wrote failed the other's
/// MAC check).
#[test]
fn raw_unicode_line_breaks_in_clear_values_read_as_sops_reads_them() {
    let dir = tempdir();
    let Some(mut c) = sops(dir.path(), "age-test.txt") else {
        return;
    };
    let json = "{\"a_unencrypted\": \"x\\u2028y\", \"b_unencrypted\": \"p\\u2029\\u2029q\", \
        \"c_unencrypted\": \"a\\nb\\u2028c\", \"d\": \"s\\u2028t\", \
        \"n\": {\"i_unencrypted\": [\"x\\u2028y\", {\"j_unencrypted\": \"it's\\u2028x\"}]}}\n";
    let plain = write(dir.path(), "u.json", json);
    let out = c
        .args([
            "encrypt",
            "--age",
            &demo_recipient(),
            "--output-type",
            "yaml",
        ])
        .arg(&plain)
        .output()
        .unwrap();
    assert_ok(&out);
    let from_sops = String::from_utf8(out.stdout).unwrap();
    assert!(from_sops.contains("'x\u{2028}    y'"), "{from_sops}");
    let yaml = "a_unencrypted: 'x\u{2028}    y'\nb: 'x\u{2028}    y'\n\
        c_unencrypted: |-\n    a\n    b\u{2028}    c\nd_unencrypted: x\u{2028} y\n\
        e_unencrypted: 'n\u{85}  l'\n";
    let from_us = encrypt_text(dir.path(), "r.yaml", yaml, &["--cipher", "aes256-gcm"]);
    for text in [&from_sops, &from_us] {
        // The text decrypts with its MAC verified, and its data is sops's.
        assert_ok(&decrypt_text(dir.path(), "e.enc.yaml", text, &[]));
        let ours = decrypt_text(dir.path(), "e.enc.yaml", text, &["--output-type", "json"]);
        assert_ok(&ours);
        let theirs = sops(dir.path(), "age-test.txt")
            .unwrap()
            .args(["decrypt", "--output-type", "json"])
            .arg(dir.path().join("e.enc.yaml"))
            .output()
            .unwrap();
        assert_ok(&theirs);
        assert_eq!(ours.stdout, theirs.stdout, "{text}");
    }
}

/// Comments sops encrypts where sops-like once left them in clear (found
/// by the differential fuzzer): those of an empty document (on its `---`
/// line or below it), which sops reads as `{}` holding them. Neither
/// cipher leaves one in clear; XChaCha files decrypt byte for byte; sops
/// decrypts every comment of the AES files.
#[test]
fn comments_sops_encrypts_are_never_left_in_clear() {
    const TEXTS: &[&str] = &[
        "k: 1\n--- # c1\n",
        "k: 1\n---\n# c1\n",
        "--- # c1\n---\nk: 1\n",
        "k: 1\n--- # c1\n# c2\n...\n",
        "k: 1\n---\n# c1\n\n  # c2\n---\nj: 2\n",
        "---\n# c1\n---\n# c2\n",
        // Comments before the first `---` of an empty first document.
        "# c1\n---\n---\nk: 1\n",
        "# c1\n---\n",
        // Comments after an empty last document's `...`.
        "a: 1\n---\n...\n# c1\n",
        "a: 1\n---\n...\n\n# c1\n...\n",
        "---\n---\n...\n# c1\n",
        "\u{feff}a:\n  b: 1\n  # c1\n# c2\nc: 2\n",
        // After a BOM; and with an explicit first key below its `?` line
        // (in the same document or a later one).
        "\u{feff}--- # c1\n---\nk: 1\n",
        "\u{feff}---\n# c1\n",
        "? # c1\n a\n: v\nb_unencrypted:\n  c: x\n# c2\n",
        "a_unencrypted:\n- # c1\n---\n? # c2\n k\n",
    ];
    let dir = tempdir();
    for text in TEXTS {
        for cipher in ["xchacha20-poly1305", "aes256-gcm"] {
            let enc = encrypt_text(dir.path(), "c.yaml", text, &["--cipher", cipher]);
            assert!(
                !enc.contains("# c"),
                "{text:?} ({cipher}): a comment in clear:\n{enc}"
            );
            let out = decrypt_text(dir.path(), "c.enc.yaml", &enc, &[]);
            assert_ok(&out);
            let plain = String::from_utf8(out.stdout).unwrap();
            assert_eq!(
                comment_names(&plain),
                comment_names(text),
                "{text:?} ({cipher})"
            );
            // (A stream of only empty documents holds `{}`, as sops reads
            // it, whatever the cipher.)
            if cipher == "xchacha20-poly1305" && text.contains(':') {
                assert_eq!(plain, *text, "{text:?}");
            }
        }
        if let Err(e) = sops_reads_every_comment(dir.path(), text) {
            panic!("{e}");
        }
    }
}

/// A comment at the end of the text after an empty value, under a key
/// whose comments stay in clear (`a_unencrypted:\n  y:\n  # c`): sops
/// reads the plaintext with it at the top level and encrypts it; with the
/// metadata after it (the encrypted file) go-yaml reads it in the nested
/// mapping. sops-like encrypts it as sops does, in both ciphers, and
/// decrypts it; sops decrypts sops-like's AES file, showing that comment
/// as its `#ENC[…]` text (its reading of the file puts it where comments
/// are not decrypted). Where sops keeps a comment in clear, so does
/// sops-like.
#[test]
fn comments_sops_reads_higher_up_in_the_plaintext_are_encrypted_as_sops_does() {
    let dir = tempdir();
    for (text, clear) in [
        ("a_unencrypted:\n  y:\n  # c1\n", false),
        ("x:\n  a_unencrypted:\n    y:\n    # c1\n", false),
        ("a_unencrypted:\n  y:\n  z:\n    # c1\n", false),
        ("a_unencrypted:\n  y: 1\n  # c1\n", true),
        ("a_unencrypted:\n  y:\n  # c1\nb: 2\n", true),
        // After a BOM (go-yaml's columns start after it).
        ("\u{feff}a_unencrypted:\n  y:\n  # c1\n", false),
        ("\u{feff}k:\n  u_unencrypted:\n  - y\n # c1\n", false),
    ] {
        comment_c1_as_sops_keeps_it(dir.path(), text, &[], clear, true);
    }
}

/// `# c1` in `text` encrypted with `flags`: sops keeps it in clear exactly
/// when `clear` says; sops-like never keeps it in clear where sops
/// encrypts it (with `exact`, it keeps it where sops keeps it too), gives
/// the text back byte for byte in both ciphers, and sops decrypts its AES
/// file, showing `# c1` where sops keeps it in clear (elsewhere its
/// `#ENC[…]` text: sops's reading of that file puts it where the selector
/// does not decrypt comments).
fn comment_c1_as_sops_keeps_it(dir: &Path, text: &str, flags: &[&str], clear: bool, exact: bool) {
    let plain = write(dir, "p.yaml", text);
    if let Some(mut c) = sops(dir, "age-test.txt") {
        let out = c
            .args(["encrypt", "--age", &demo_recipient()])
            .args(flags)
            .arg(&plain)
            .output()
            .unwrap();
        assert_ok(&out);
        let theirs = String::from_utf8(out.stdout).unwrap();
        assert_eq!(theirs.contains("# c1"), clear, "{text:?}: sops:\n{theirs}");
    }
    for cipher in ["xchacha20-poly1305", "aes256-gcm"] {
        let mut args = vec!["--cipher", cipher];
        args.extend(flags);
        let enc = encrypt_text(dir, "c.yaml", text, &args);
        if exact || !clear {
            assert_eq!(
                enc.contains("# c1"),
                clear,
                "{text:?} {flags:?} ({cipher}):\n{enc}"
            );
        }
        let out = decrypt_text(dir, "c.enc.yaml", &enc, &[]);
        assert_ok(&out);
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            text,
            "{text:?} ({cipher})"
        );
        if cipher == "aes256-gcm" {
            let file = write(dir, "c.enc.yaml", &enc);
            if let Some(theirs) = sops_decrypt(dir, &file) {
                assert_eq!(theirs.contains("# c1"), clear, "{text:?}: {theirs}");
            }
        }
    }
}

/// A comment sops reads *deeper* in the plaintext than in the encrypted
/// file: after a sequence at its key's column (`k:\n- v\n# c1`), go-yaml
/// puts it in `k`'s sequence when it reads the plaintext, at the top level
/// when the `sops` key follows it. With a selector that encrypts `k` only,
/// sops encrypts it; sops-like left it in clear (fuzzer round 19, L5). It
/// is now encrypted with its place's AAD; sops decrypts sops-like's AES
/// file, showing that comment as its `#ENC[…]` text. With the mirror selector sops keeps it in clear
/// and sops-like encrypts it (never the other way round).
#[test]
fn comments_sops_reads_deeper_in_the_plaintext_follow_the_selector_there() {
    let dir = tempdir();
    for (text, flags, sops_clear) in [
        ("k:\n- v\n# c1\n", "--encrypted-regex=^k", false),
        ("a: 1\nk:\n- v\n# c1\n", "--encrypted-regex=^k", false),
        ("k_enc:\n- v\n# c1\n", "--encrypted-suffix=_enc", false),
        ("k:\n  - v\n# c1\nb: 2\n", "--encrypted-regex=^k", true),
        ("k:\n- v\n# c1\n", "--unencrypted-regex=^k", true),
    ] {
        comment_c1_as_sops_keeps_it(dir.path(), text, &[flags], sops_clear, false);
    }
}

/// An `unencrypted_comment_regex` that matches an encrypted comment's
/// `ENC[…]` text: sops refuses to write such a file (exit 23: reading it,
/// it would take the comment for one in clear and fail the MAC check), and
/// so does sops-like in AES mode, writing nothing (before: a file sops
/// could not decrypt, exit 51; fuzzer round 19, U2). The default cipher
/// writes it: sops-like opens every `ENC[…]` comment.
#[test]
fn an_unencrypted_comment_regex_matching_encrypted_comments_is_refused() {
    let dir = tempdir();
    for (name, text) in [
        ("c.yaml", "# top note\na: 1\n# other note\nb: 2\n"),
        ("c.env", "# note\nA=1\n"),
    ] {
        let plain = write(dir.path(), name, text);
        for regex in ["AES", "type:comment"] {
            let flag = format!("--unencrypted-comment-regex={regex}");
            if let Some(mut c) = sops(dir.path(), "age-test.txt") {
                let out = c
                    .args(["-e", "--age", &demo_recipient(), &flag])
                    .arg(&plain)
                    .output()
                    .unwrap();
                assert_eq!(out.status.code(), Some(23), "{name} {regex}");
            }
            let out = cmd(dir.path(), Some("age-test.txt"))
                .args(["encrypt", "--cipher", "aes256-gcm", "-i", "--age"])
                .args([&demo_recipient(), &flag])
                .arg(&plain)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(23), "{name} {regex}");
            assert_eq!(std::fs::read_to_string(&plain).unwrap(), text);
            let out = cmd(dir.path(), Some("age-test.txt"))
                .args(["encrypt", "--age", &demo_recipient(), &flag])
                .arg(&plain)
                .output()
                .unwrap();
            assert_ok(&out);
        }
        // A regex that cannot match one is used as before. (`~` is in no
        // `ENC[…]` text; a letter pair such as `zz` is in 2% of them.)
        let enc = encrypt_text(
            dir.path(),
            name,
            text,
            &["--cipher", "aes256-gcm", "--unencrypted-comment-regex=~"],
        );
        let file = write(dir.path(), &format!("enc.{name}"), &enc);
        if let Some(theirs) = sops_decrypt(dir.path(), &file) {
            assert!(theirs.contains("note"), "{theirs}");
        }
    }
}

/// `set` of a value beside an encrypted comment can move that comment, as
/// go-yaml reads the new text, into an unencrypted key's collection
/// (`k_unencrypted: v\n  # c` set to a mapping: the comment follows the
/// new mapping). The edit keeps it encrypted (before, it was written in
/// clear; fuzzer round 20, N2); sops decrypts the file, showing it as its
/// `#ENC[…]` text, and sops-like decrypts it.
#[test]
fn an_edit_never_writes_an_encrypted_comment_in_clear() {
    let dir = tempdir();
    let text = "a:\n  - k_unencrypted: v\n    # top-secret\n  - x\n";
    let path = r#"["a"][0]["k_unencrypted"]"#;
    let plain = write(dir.path(), "p.yaml", text);
    let mut files = Vec::new();
    if let Some(mut c) = sops(dir.path(), "age-test.txt") {
        let out = c
            .args(["encrypt", "--age", &demo_recipient()])
            .arg(&plain)
            .output()
            .unwrap();
        assert_ok(&out);
        files.push((
            write(
                dir.path(),
                "s.yaml",
                &String::from_utf8(out.stdout).unwrap(),
            ),
            true,
        ));
    }
    for (name, cipher) in [("x.yaml", "xchacha20-poly1305"), ("a.yaml", "aes256-gcm")] {
        let enc = encrypt_text(dir.path(), "c.yaml", text, &["--cipher", cipher]);
        files.push((write(dir.path(), name, &enc), cipher == "aes256-gcm"));
    }
    for (file, aes) in files {
        let out = cmd(dir.path(), Some("age-test.txt"))
            .arg("set")
            .arg(&file)
            .args([path, r#"{"n": "v2"}"#])
            .output()
            .unwrap();
        assert_ok(&out);
        let edited = std::fs::read_to_string(&file).unwrap();
        assert!(
            !edited.contains("top-secret"),
            "{}:\n{edited}",
            file.display()
        );
        let ours = ours_decrypt(dir.path(), &file);
        assert!(
            ours.contains("\"n\": v2\n") && ours.contains("# top-secret\n"),
            "{}: {ours}",
            file.display()
        );
        if aes {
            sops_decrypt(dir.path(), &file);
        }
    }
}
