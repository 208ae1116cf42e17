//! Files changed without the key, read by sops-like as sops reads them:
//! what sops refuses, sops-like refuses, with sops's exit code and nothing
//! on stdout.

use crate::util::*;
use std::path::Path;

const REFUSED: i32 = 25;

/// The plaintexts: `pw` is encrypted under `encrypted_regex: ^pw`, `name`
/// stays in clear.
const PLAIN: [(&str, &str); 4] = [
    ("p.yaml", "pw: S3cretValue\nname: public\n"),
    (
        "p.json",
        "{\"pw\": \"S3cretValue\", \"name\": \"public\"}\n",
    ),
    ("p.env", "pw=S3cretValue\nname=public\n"),
    ("p.ini", "[s]\npw = S3cretValue\nname = public\n"),
];

/// `text` with a copy of its `name` line below it, for the key `key` and
/// the value `chosen`, in the file's own spelling (JSON: a member before
/// `name`'s).
fn add_line(text: &str, key: &str) -> String {
    if text.starts_with('{') {
        let added = format!("\"{key}\": \"chosen\", \"name\": \"public\"");
        return text.replacen("\"name\": \"public\"", &added, 1);
    }
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        out.push_str(line);
        if line.contains("name") && line.contains("public") {
            out.push_str(&line.replace("name", key).replace("public", "chosen"));
        }
    }
    assert_ne!(out, text);
    out
}

/// The encryptions of `plain` (named `name`) under `config`: by sops (when
/// it is installed) and by sops-like with each cipher. `(writer, text)`.
fn written(dir: &Path, name: &str, plain: &str, config: &Path) -> Vec<(&'static str, String)> {
    std::fs::write(dir.join(name), plain).unwrap();
    let mut out = Vec::new();
    if let Some(mut sops) = sops(dir, "age-test.txt") {
        let run = sops
            .current_dir(dir)
            .arg("--config")
            .arg(config)
            .args(["encrypt", name])
            .output()
            .unwrap();
        assert_ok(&run);
        out.push(("sops", String::from_utf8(run.stdout).unwrap()));
    }
    for (writer, cipher) in [("aes", "aes256-gcm"), ("xchacha", "xchacha20-poly1305")] {
        let run = cmd(dir, None)
            .arg("--config")
            .arg(config)
            .args(["encrypt", "--cipher", cipher, name])
            .output()
            .unwrap();
        assert_ok(&run);
        out.push((writer, String::from_utf8(run.stdout).unwrap()));
    }
    out
}

/// `sops-like ARGS FILE` (and sops's, for a file sops can read) refuse
/// `text` with exit 25, print nothing and never show `chosen`.
fn both_refuse(dir: &Path, file: &str, text: &str, sops_reads: bool, args: &[&str]) {
    std::fs::write(dir.join(file), text).unwrap();
    let ours = cmd(dir, Some("age-test.txt"))
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&ours.stderr);
    assert_eq!(
        ours.status.code(),
        Some(REFUSED),
        "{args:?} {file}: {err}\n{text}"
    );
    assert!(ours.stdout.is_empty(), "{args:?} {file}");
    assert!(!err.contains("chosen"), "{err}");
    if let (true, Some(mut sops)) = (sops_reads, sops(dir, "age-test.txt")) {
        let theirs = sops.current_dir(dir).args(args).arg(file).output().unwrap();
        assert_eq!(
            theirs.status.code(),
            Some(REFUSED),
            "sops {args:?} {file}\n{text}"
        );
    }
}

/// A value added in clear under a key the selector encrypts is refused,
/// also under `mac_only_encrypted` (whose MAC leaves clear values out, so
/// only the selector can tell) and with `--ignore-mac`; and `rotate`
/// cannot seal it under a new MAC. A value added in clear where the
/// selector leaves values in clear is the file's, for both tools.
#[test]
fn a_value_added_in_clear_where_the_selector_encrypts_is_refused() {
    for mac_only in [true, false] {
        let dir = tempdir();
        let config = dir.path().join("rules.yaml");
        std::fs::write(
            &config,
            format!(
                "creation_rules:\n  - age: {}\n    encrypted_regex: ^pw\n    mac_only_encrypted: {mac_only}\n",
                demo_recipient()
            ),
        )
        .unwrap();
        for (name, plain) in PLAIN {
            for (writer, enc) in written(dir.path(), name, plain, &config) {
                let ext = name.rsplit('.').next().unwrap_or_default();
                let file = format!("t-{writer}.{ext}");
                let sops_reads = writer != "xchacha";
                let tampered = add_line(&enc, "pw_admin");
                for args in [
                    &["decrypt"][..],
                    &["decrypt", "--ignore-mac"],
                    &["decrypt", "--extract", "[\"pw_admin\"]"],
                ] {
                    both_refuse(dir.path(), &file, &tampered, sops_reads, args);
                }
                std::fs::write(dir.path().join(&file), &tampered).unwrap();
                let out = cmd(dir.path(), Some("age-test.txt"))
                    .args(["exec-env", &file, "echo ran"])
                    .output()
                    .unwrap();
                assert_eq!(out.status.code(), Some(REFUSED), "exec-env {file}");
                assert!(out.stdout.is_empty(), "{file}: the command ran");
                std::fs::write(dir.path().join(&file), &tampered).unwrap();
                let rotated = cmd(dir.path(), Some("age-test.txt"))
                    .args(["rotate", "-i", &file])
                    .output()
                    .unwrap();
                assert_eq!(rotated.status.code(), Some(REFUSED), "rotate {file}");
                let after = std::fs::read_to_string(dir.path().join(&file)).unwrap();
                assert_eq!(after, tampered, "rotate wrote {file}");
                // Where the selector leaves values in clear, an added value
                // is the file's (the MAC covers it unless mac_only).
                let elsewhere = add_line(&enc, "other");
                std::fs::write(dir.path().join(&file), &elsewhere).unwrap();
                let out = cmd(dir.path(), Some("age-test.txt"))
                    .args(["decrypt", &file])
                    .output()
                    .unwrap();
                let want = if mac_only { 0 } else { 51 };
                assert_eq!(out.status.code(), Some(want), "{file} mac_only={mac_only}");
                if let (true, Some(mut sops)) = (sops_reads, sops(dir.path(), "age-test.txt")) {
                    let theirs = sops
                        .current_dir(dir.path())
                        .args(["decrypt", &file])
                        .output();
                    assert_eq!(theirs.unwrap().status.code(), Some(want), "sops {file}");
                }
            }
        }
    }
}

/// An encrypted value replaced by text in clear: sops's exit code (25, not
/// the MAC's 51), also with `--ignore-mac`, also in a file long enough to
/// be decrypted a window at a time, and with a comment selector.
#[test]
fn an_encrypted_value_replaced_in_clear_is_refused() {
    let dir = tempdir();
    let long: String = (0..3000).map(|i| format!("KEY_{i}=value {i}\n")).collect();
    let mut cases = vec![("long.env", long, vec![])];
    cases.push((
        "c.yaml",
        "a: 1\n# keep\nb: 2\nc:\n  # keep\n  d: 3\n".to_string(),
        vec!["--unencrypted-comment-regex", "keep"],
    ));
    for (name, plain, extra) in cases {
        let enc = encrypt_text(dir.path(), name, &plain, &extra);
        let mut lines: Vec<String> = enc.lines().map(str::to_string).collect();
        // The last encrypted value before the metadata.
        let meta = lines.iter().position(|l| l.starts_with("sops")).unwrap();
        let at = lines[..meta]
            .iter()
            .rposition(|l| l.contains(": ENC[") || l.contains("=ENC["))
            .unwrap();
        let start = lines[at].find("ENC[").unwrap();
        lines[at].replace_range(start.., "chosen");
        let tampered: String = lines.iter().map(|l| format!("{l}\n")).collect();
        for args in [&["decrypt"][..], &["decrypt", "--ignore-mac"]] {
            both_refuse(dir.path(), name, &tampered, false, args);
        }
    }
}

/// A binary file whose `data` is replaced by text in clear: exit 25, as
/// sops, for both tools' files (the file is not the bytes written in it).
#[test]
fn a_binary_files_data_in_clear_is_refused() {
    let dir = tempdir();
    std::fs::write(dir.path().join("f.bin"), b"hello bytes").unwrap();
    let out = encrypt_aes(dir.path()).arg("f.bin").output().unwrap();
    assert_ok(&out);
    let enc = String::from_utf8(out.stdout).unwrap();
    let start = enc.find("\"data\": \"ENC[").unwrap() + "\"data\": \"".len();
    let end = start + enc[start..].find('"').unwrap();
    let mut tampered = enc.clone();
    tampered.replace_range(start..end, "chosen");
    for args in [&["decrypt"][..], &["decrypt", "--ignore-mac"]] {
        both_refuse(dir.path(), "t.bin", &tampered, true, args);
    }
}

/// Comment selectors in sops's INI files: a marker selects the key after
/// the one below it, as sops reads the file, so the values sops leaves in
/// clear are the file's own (a check by the text's own reading refused
/// them), and a value in clear where sops's reading encrypts is refused.
#[test]
fn sops_ini_comment_markers_decide_as_sops_reads_them() {
    let dir = tempdir();
    let plain = "[s]\n; sops:enc\na = S1\nb = S2\n";
    std::fs::write(dir.path().join("p.ini"), plain).unwrap();
    for flag in ["--encrypted-comment-regex", "--unencrypted-comment-regex"] {
        let Some(mut sops) = sops(dir.path(), "age-test.txt") else {
            return;
        };
        let out = sops
            .current_dir(dir.path())
            .args([
                "-e",
                &format!("{flag}=sops:enc"),
                "--age",
                &demo_recipient(),
                "p.ini",
            ])
            .output()
            .unwrap();
        assert_ok(&out);
        let enc = String::from_utf8(out.stdout).unwrap();
        let dec = decrypt_text(dir.path(), "s.ini", &enc, &[]);
        assert_ok(&dec);
        assert_eq!(String::from_utf8_lossy(&dec.stdout), plain, "{flag}");
        // The value sops encrypted, replaced by text in clear.
        let line = enc
            .lines()
            .find(|l| l.contains("= ENC[") && !l.starts_with("mac") && !l.starts_with("sops"))
            .unwrap();
        let key = line.split(" = ").next().unwrap();
        let tampered = enc.replace(line, &format!("{key} = chosen"));
        both_refuse(dir.path(), "t.ini", &tampered, true, &["decrypt"]);
    }
}

/// The selector's pattern emptied in the metadata: sops reads an empty
/// field as no selector and applies the default `_unencrypted` suffix, so
/// the values in clear are now selected and the file is refused. (Before,
/// sops-like read an empty `unencrypted_regex` or suffix as matching every
/// key: every value in clear was the file's, and every `ENC[…]` was shown
/// as it stands.)
#[test]
fn an_emptied_selector_is_the_default_one() {
    let dir = tempdir();
    let config = dir.path().join("rules.yaml");
    std::fs::write(
        &config,
        format!(
            "creation_rules:\n  - age: {}\n    unencrypted_regex: ^name\n    mac_only_encrypted: true\n",
            demo_recipient()
        ),
    )
    .unwrap();
    for (name, plain) in PLAIN {
        for (writer, enc) in written(dir.path(), name, plain, &config) {
            let ext = name.rsplit('.').next().unwrap_or_default();
            let file = format!("e-{writer}.{ext}");
            let emptied: String = enc
                .split_inclusive('\n')
                .map(|line| match (line.contains("unencrypted_regex"), ext) {
                    (false, _) => line.to_string(),
                    (true, "json") => line.replace("\"^name\"", "\"\""),
                    (true, "yaml") => line.replace("^name", "\"\""),
                    (true, _) => line.replace("^name", ""),
                })
                .collect();
            assert_ne!(emptied, enc, "{file}");
            let sops_reads = writer != "xchacha";
            both_refuse(dir.path(), &file, &emptied, sops_reads, &["decrypt"]);
        }
    }
}

/// A value sealed at a path the (changed) selector leaves in clear:
/// `decrypt` shows it, but `rotate` and `set` refuse to write the file
/// again (exit 51, as sops's MAC check), since a re-encryption follows the
/// selector and would write the value in clear (fuzzer round 40).
#[test]
fn a_value_sealed_where_the_selector_leaves_clear_is_never_written_in_clear() {
    let dir = tempdir();
    for cipher in ["aes256-gcm", "xchacha20-poly1305"] {
        let enc = encrypt_text(
            dir.path(),
            "p.yaml",
            "a: 1\nx_unencrypted: secret42\n",
            &["--cipher", cipher, "--unencrypted-suffix", "_u"],
        );
        assert!(enc.contains("x_unencrypted: ENC["), "{enc}");
        let changed = enc.replace("unencrypted_suffix: _u", "unencrypted_suffix: _unencrypted");
        assert_ne!(changed, enc);
        let file = dir.path().join("c.yaml");
        for args in [&["rotate", "-i"][..], &["set", "c.yaml", "[\"a\"]", "2"]] {
            std::fs::write(&file, &changed).unwrap();
            let mut c = cmd(dir.path(), Some("age-test.txt"));
            c.args(args);
            if args[0] == "rotate" {
                c.arg(&file);
            }
            let out = c.output().unwrap();
            assert_eq!(out.status.code(), Some(51), "{cipher} {args:?}");
            let after = std::fs::read_to_string(&file).unwrap();
            assert!(!after.contains("secret42"), "{cipher} {args:?}: {after}");
            assert_eq!(after, changed, "{cipher} {args:?}");
        }
    }
}

/// The MAC covers the values of every document of a YAML stream in order,
/// not where one document ends: a `---` removed (two `sops` blocks in one
/// document), added before the data, or a document prepended whose values
/// add nothing to the MAC (`EVIL: ""`, which exec-env would have read
/// instead of the real document), and a later document's block changed,
/// are refused by every command (exit 1, as sops refuses the first three),
/// and `rotate` cannot seal them. Streams as the tools write them still
/// open, also with an empty first document (sops-like's own cipher keeps
/// it as it is).
#[test]
fn yaml_stream_documents_joined_split_or_prepended_are_refused() {
    let dir = tempdir();
    let plain = "A: SECRET_A\n---\nB: SECRET_B\n";
    let one = "A: SECRET_A\nB: SECRET_B\n";
    let mut files = Vec::new();
    for cipher in ["aes256-gcm", "xchacha20-poly1305"] {
        let stream = encrypt_text(dir.path(), "p.yaml", plain, &["--cipher", cipher]);
        let single = encrypt_text(dir.path(), "q.yaml", one, &["--cipher", cipher]);
        files.push((cipher, stream, single));
    }
    if let Some(sops_stream) = sops_encrypt_file(dir.path(), &{
        std::fs::write(dir.path().join("p.yaml"), plain).unwrap();
        dir.path().join("p.yaml")
    }) {
        std::fs::write(dir.path().join("q.yaml"), one).unwrap();
        let single = sops_encrypt_file(dir.path(), &dir.path().join("q.yaml")).unwrap();
        files.push(("sops", sops_stream, single));
    }
    for (writer, stream, single) in &files {
        assert_eq!(stream.matches("\n---\n").count(), 1, "{writer}");
        // The second document's block with one line of its wrapped key gone.
        let second = stream.find("\n---\n").unwrap();
        let damaged_at = stream[second..].find("-----BEGIN AGE").unwrap() + second;
        let line_end = stream[damaged_at..].find('\n').unwrap() + damaged_at + 1;
        let next_end = stream[line_end..].find('\n').unwrap() + line_end + 1;
        let damaged = format!("{}{}", &stream[..line_end], &stream[next_end..]);
        let cases = [
            ("joined", stream.replacen("\n---\n", "\n", 1)),
            ("split", single.replacen("\nB:", "\n---\nB:", 1)),
            ("prepended", format!("EVIL: \"\"\n---\n{single}")),
            ("other block", damaged),
        ];
        for (what, text) in &cases {
            assert_ne!(text, stream);
            for args in [
                &["decrypt"][..],
                &["decrypt", "--ignore-mac"],
                &["decrypt", "--extract", "[\"A\"]"],
                &["exec-env", "t.yaml", "echo ran $A"],
                &["rotate", "-i"],
            ] {
                let file = dir.path().join("t.yaml");
                std::fs::write(&file, text).unwrap();
                let mut c = cmd(dir.path(), Some("age-test.txt"));
                c.args(args);
                if args[0] != "exec-env" {
                    c.arg("t.yaml");
                }
                let out = c.output().unwrap();
                let err = String::from_utf8_lossy(&out.stderr);
                assert_eq!(
                    out.status.code(),
                    Some(1),
                    "{writer} {what} {args:?}: {err}"
                );
                assert!(out.stdout.is_empty(), "{writer} {what} {args:?}");
                assert!(!err.contains("SECRET"), "{err}");
                assert_eq!(&std::fs::read_to_string(&file).unwrap(), text);
            }
        }
        for text in [stream, single] {
            let out = decrypt_text(dir.path(), "ok.yaml", text, &[]);
            assert_ok(&out);
        }
        // The same block with its keys in another order says the same.
        let version = stream.rfind("\n    version:").unwrap() + 1;
        let version_end = version + stream[version..].find('\n').unwrap() + 1;
        let block = stream.rfind("\nsops:\n").unwrap() + "\nsops:\n".len();
        let reordered = format!(
            "{}{}{}{}",
            &stream[..block],
            &stream[version..version_end],
            &stream[block..version],
            &stream[version_end..]
        );
        assert_ne!(&reordered, stream);
        let out = decrypt_text(dir.path(), "ok.yaml", &reordered, &[]);
        assert_ok(&out);
    }
    let empty_first = encrypt_text(
        dir.path(),
        "e.yaml",
        "---\n---\nA: SECRET_A\n",
        &["--cipher", "xchacha20-poly1305"],
    );
    let out = decrypt_text(dir.path(), "e.yaml", &empty_first, &[]);
    assert_ok(&out);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "---\n---\nA: SECRET_A\n"
    );
}

/// The MAC does not cover an empty value, so a second `PASSWORD` with an
/// empty value can be added after the real one without the key, and a
/// reader that takes the last would get it. exec-env refuses a name
/// written twice with two values, in every format and cipher (sops takes
/// the last); an `AES256_GCM` file is refused where sops refuses it: a
/// YAML key twice at the top level (exit 1, also when the two are far
/// apart in a large file, which is decrypted a window at a time), an INI
/// key twice in a section (exit 51: sops MACs the last only).
#[test]
fn an_empty_duplicate_added_after_a_secret_is_refused() {
    let dir = tempdir();
    let cases = [
        (
            "p.yaml",
            "PASSWORD: SECRET_PW\nUSER: admin\n",
            "PASSWORD:",
            "PASSWORD: \"\"\n",
        ),
        (
            "p.env",
            "PASSWORD=SECRET_PW\nUSER=admin\n",
            "PASSWORD=",
            "PASSWORD=\n",
        ),
        (
            "p.ini",
            "[db]\nPASSWORD = SECRET_PW\nUSER = admin\n",
            "PASSWORD =",
            "PASSWORD =\n",
        ),
        (
            "p.json",
            "{\n\"PASSWORD\": \"SECRET_PW\",\n\"USER\": \"admin\"}\n",
            "\"PASSWORD\":",
            "\"PASSWORD\": null,\n",
        ),
    ];
    for (name, plain, line_start, added) in cases {
        let ext = name.rsplit('.').next().unwrap();
        for cipher in ["aes256-gcm", "xchacha20-poly1305"] {
            let enc = encrypt_text(dir.path(), name, plain, &["--cipher", cipher]);
            let mut tampered = String::new();
            for line in enc.split_inclusive('\n') {
                tampered.push_str(line);
                if line.trim_start().starts_with(line_start) {
                    tampered.push_str(added);
                }
            }
            assert_ne!(tampered, enc, "{name}");
            let file = format!("t.{ext}");
            std::fs::write(dir.path().join(&file), &tampered).unwrap();
            let out = cmd(dir.path(), Some("age-test.txt"))
                .args(["exec-env", &file, "echo ran"])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            let want = match (ext, cipher) {
                ("yaml", "aes256-gcm") => Some(1),
                ("ini", "aes256-gcm") => Some(51),
                _ => None,
            };
            assert_eq!(
                out.status.code(),
                Some(want.unwrap_or(1)),
                "{name} {cipher}: {err}"
            );
            assert!(out.stdout.is_empty(), "{name} {cipher}: the command ran");
            assert!(
                err.contains("written twice") || err.contains("appears twice"),
                "{err}"
            );
            assert!(!err.contains("SECRET"), "{err}");
            if let Some(code) = want {
                let out = decrypt_text(dir.path(), &file, &tampered, &[]);
                assert_eq!(out.status.code(), Some(code), "{name}");
                assert!(out.stdout.is_empty());
                if let Some(mut sops) = sops(dir.path(), "age-test.txt") {
                    let theirs = sops
                        .current_dir(dir.path())
                        .args(["decrypt", &file])
                        .output()
                        .unwrap();
                    assert_eq!(theirs.status.code(), Some(code), "sops {name}");
                }
            }
        }
    }
    // One value written twice is one variable.
    let enc = encrypt_text(dir.path(), "d.env", "USER=admin\nUSER=admin\n", &[]);
    std::fs::write(dir.path().join("d.env"), &enc).unwrap();
    let out = cmd(dir.path(), Some("age-test.txt"))
        .args(["exec-env", "d.env", "echo $USER"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "admin\n");
    // A large file, decrypted a window at a time: the two keys are far apart.
    let mut plain = String::from("PASSWORD: SECRET_PW\n");
    for i in 0..20_000 {
        plain.push_str(&format!("k{i}: value {i}\n"));
    }
    let enc = encrypt_text(dir.path(), "big.yaml", &plain, &["--cipher", "aes256-gcm"]);
    let at = enc.find("\nsops:").unwrap();
    let tampered = format!("{}\nPASSWORD:{}", &enc[..at], &enc[at..]);
    let out = decrypt_text(dir.path(), "big.yaml", &tampered, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty());
    assert!(err.contains("appears twice at the top level"), "{err}");
    let out = decrypt_text(dir.path(), "big.yaml", &enc, &[]);
    assert_ok(&out);
}

/// A value's `type:` changed to `time` (not in the AAD, and the MAC hashes
/// the text) where its text is not an RFC 3339 time: sops refuses it
/// (exit 25, "parsing time"); sops-like read `true` as the string "True".
#[test]
fn a_type_changed_to_time_is_refused() {
    let dir = tempdir();
    let plain = "{\"port\": 5432, \"flag\": true, \"at\": \"x\"}\n";
    let mut writers = vec![encrypt_text(
        dir.path(),
        "p.json",
        plain,
        &["--cipher", "aes256-gcm"],
    )];
    if let Some(enc) = sops_encrypt_file(dir.path(), &dir.path().join("p.json")) {
        writers.push(enc);
    }
    for enc in writers {
        for (from, to) in [
            ("type:float", "type:time"),
            ("type:bool", "type:time"),
            ("type:str", "type:time"),
            ("type:int", "type:time"),
        ] {
            if !enc.contains(from) {
                continue;
            }
            let tampered = enc.replacen(from, to, 1);
            assert_ne!(tampered, enc);
            let out = decrypt_text(dir.path(), "t.json", &tampered, &[]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(25), "{from}: {err}");
            assert!(out.stdout.is_empty());
            if let Some(mut sops) = sops(dir.path(), "age-test.txt") {
                let theirs = sops
                    .current_dir(dir.path())
                    .args(["decrypt", "t.json"])
                    .output()
                    .unwrap();
                assert_eq!(theirs.status.code(), Some(25), "sops {from}");
            }
        }
    }
}

/// An empty document put before the real one needs no key either (round
/// 44): a file sops reads (AES256_GCM) must carry its metadata in the
/// first document, as sops reads it (exit 1 for every command, so `rotate`
/// cannot write a block into the empty one); exec-env refuses an empty
/// first document before documents with data in every cipher (it would
/// run the command with none of the values). A key twice in the `sops`
/// block of an AES file is refused as sops refuses it, and a `type:time`
/// whose text is a date alone is not a time for sops.
#[test]
fn an_empty_document_or_a_metadata_key_twice_is_refused() {
    let dir = tempdir();
    let d = dir.path();
    let plain = "A: SECRET_A\nnote: hello\n";
    let mut files = Vec::new();
    for cipher in ["aes256-gcm", "xchacha20-poly1305"] {
        files.push((
            cipher,
            encrypt_text(d, "p.yaml", plain, &["--cipher", cipher]),
        ));
    }
    if let Some(enc) = sops_encrypt_file(d, &d.join("p.yaml")) {
        files.push(("sops", enc));
    }
    let run = |text: &str, args: &[&str]| {
        std::fs::write(d.join("t.yaml"), text).unwrap();
        let mut c = cmd(d, Some("age-test.txt"));
        c.args(args);
        if args[0] != "exec-env" {
            c.arg("t.yaml");
        }
        c.output().unwrap()
    };
    for (writer, enc) in &files {
        let aes = *writer != "xchacha20-poly1305";
        for empty in ["{}", "[]", "null"] {
            let text = format!("{empty}\n---\n{enc}");
            for args in [
                &["decrypt"][..],
                &["decrypt", "--extract", "[\"A\"]"],
                &["exec-env", "t.yaml", "echo ran"],
                &["rotate", "-i"],
            ] {
                let out = run(&text, args);
                let err = String::from_utf8_lossy(&out.stderr);
                if aes || args[0] == "exec-env" {
                    assert_eq!(
                        out.status.code(),
                        Some(1),
                        "{writer} {empty} {args:?}: {err}"
                    );
                    assert!(out.stdout.is_empty(), "{writer} {empty} {args:?}");
                    assert_eq!(std::fs::read_to_string(d.join("t.yaml")).unwrap(), text);
                }
            }
        }
        if aes {
            let at = enc.find("    lastmodified:").unwrap();
            let line_end = at + enc[at..].find('\n').unwrap() + 1;
            let twice = format!(
                "{}    lastmodified: \"2030-01-01T00:00:00Z\"\n{}",
                &enc[..line_end],
                &enc[line_end..]
            );
            let out = run(&twice, &["decrypt"]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{writer}: {err}");
            assert!(err.contains("appears twice in the sops metadata"), "{err}");
        }
    }
    let enc = encrypt_text(
        d,
        "p.json",
        "{\"v\": \"2024-01-01\"}",
        &["--cipher", "aes256-gcm"],
    );
    let out = decrypt_text(d, "t.json", &enc.replacen("type:str", "type:time", 1), &[]);
    assert_eq!(out.status.code(), Some(25));
}
