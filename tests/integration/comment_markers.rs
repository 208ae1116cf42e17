//! `--encrypted-comment-regex` / `--unencrypted-comment-regex` (and the
//! `.sops.yaml` rule fields) with marker comments at the end of a line
//! (audit C, F7): sops (go-yaml v3) reads a line comment as a comment
//! before the key or item whose line it ends, so `password: x # sops:enc`
//! selects `password`, not the next value. Each document is encrypted by
//! the real sops and by sops-like (both ciphers), and the values each
//! leaves in clear compared; sops must decrypt sops-like's AES file (MAC
//! verified) to the same data.

use crate::sops_read::canonical_text;
use crate::util::*;
use sops_like_format::walk::{walk, Leaf};
use sops_like_format::{Format, Value};
use std::path::Path;

/// Documents with a `# sops:enc` marker at the placements of F7, and the
/// sops behaviours measured around them.
const DOCS: &[&str] = &[
    // A mapping value, in a nested mapping.
    "db:\n  password: hunter2 # sops:enc\n  host: example.org\nport: 1\n",
    // At the top level, then more values.
    "a: 1 # sops:enc\nb: 2\nc: 3\n",
    // On the last value of the document.
    "a: x\nb: 1 # sops:enc\n",
    "a: 1 # sops:enc\n",
    // On the last value of a nested mapping.
    "a:\n  b:\n    c: 1 # sops:enc\nd: 2\n",
    // A sequence item, and the last item.
    "l:\n- a # sops:enc\n- b\nz: 1\n",
    "l:\n  - a\n  - b # sops:enc\nz: 1\n",
    // `- # marker` before a mapping: its first key only.
    "l:\n- # sops:enc\n  a: 1\n  b: 2\n- 3\n",
    "l:\n  - 0\n  - # sops:enc\n    a:\n      x: 1\n      y: 2\n    b: 2\n  - 3\n",
    "l:\n- - # sops:enc\n    a: 1\n    b: 2\n- 3\n",
    // `- # marker` before a sequence, a scalar, an empty item.
    "l:\n- # sops:enc\n  - x\n  - w\n- 3\n",
    "l:\n- # sops:enc\n  x\n- 3\n",
    "l:\n  - # sops:enc\n  - 3\nz: 1\n",
    // On the first key of a mapping that is a sequence item.
    "l:\n- a: 1 # sops:enc\n  b: 2\n- 3\n",
    // On a key line whose value is below (the whole value).
    "db: # sops:enc\n  user: u\n  pass: p\nport: 1\n",
    // A marker before an entry with its own line comment (encrypted).
    "# sops:enc\na: 1 # note\nb: 2\n",
    "a: 1 # sops:enc\n# other\nb: 2\n",
    // Multi-line and typed values (sops panicked reading the old files).
    "k: multi\n  line # sops:enc\nz: 3\n",
    "data:\n  b: -.inf # sops:enc\n  c: {x: 1}\n",
    // Flow collections: an entry's line comment, and the collection's
    // (its first entry; for a sequence item the whole item).
    "f: {a: 1, # sops:enc\n  b: 2}\ng: 1\n",
    "k: {a: 1, b: 2} # sops:enc\nz: 3\n",
    "k: [1, 2] # sops:enc\nz: 3\n",
    "l:\n  - [1, 2] # sops:enc\n  - 3\n",
    // Right after a flow collection's opening bracket: go-yaml drops the
    // comment, so it selects nothing (fuzzer round 19, L4/U3); on a line
    // of its own below the bracket it is the first entry's.
    "{ # sops:enc\nk: secret}\n",
    "a: [ # sops:enc\n  secret, x]\nb: 1\n",
    "a: {k: [ # sops:enc\n secret]}\nb: 1\n",
    "a: {\n # sops:enc\n k: secret}\n",
];

/// Where go-yaml puts a comment elsewhere than where it stands (fuzzer
/// round 19, L1-L3): sops's stack follows go-yaml's reading
/// (`Tree::sops_stacks`). Each comment is named (`cN`) so that the one
/// comparison of comments can tell them apart.
const MOVED: &[&str] = &[
    // A comment right after a later document's `---`, then a blank line:
    // go-yaml makes it the previous document's foot comment (L2).
    "a: 1\n---\n# sops:enc\n\nk: secret\n",
    "a: 1\n---\n# sops:enc\n\n# c1\nk: secret\n",
    "a: 1\n---\n# sops:enc\nk: secret\n",
    "---\n# sops:enc\n\nk: secret\n",
    // An explicit key with a comment line before its `:` (L3, L3b).
    "? k\n# c1\n: secret # sops:enc\n",
    "? k\n# sops:enc\n: 0\nd: secret\n",
    // Fuzzer round 22's shapes: after an empty first document; a blank
    // line between an explicit key's marker and its `:`; a line comment
    // on an explicit key's value; a column-0 comment after a compact
    // sequence; a marker between `-` and its item, then a blank line; a
    // comment-only later document.
    "\n---\n# sops:enc\n\nk: secret\n",
    "? k\n# sops:enc\n\n: [secret]\n",
    "? k\n# c1\n: 5 # sops:enc\n",
    "k: # sops:enc\n- v\n# c1\n",
    "# sops:enc\nk:\n- v\n# c1\n",
    "d:\n-\n# sops:enc\n\n secret\n",
    "a: 1\n---\n# sops:enc\n\n# c1\n",
    // A comment after a nested sequence under a marker (L1).
    "k:\n-\n# sops:enc\n  - v1\n # c2\n",
    "k:\n-\n# sops:enc\n  - v1\n # c2\nz: v3\n",
];

/// Each scalar of an encrypted YAML document, in order, as its path and
/// whether it is encrypted. Comments sops writes as sequence items
/// (`- ENC[…,type:comment]`) are left out.
fn selection(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    walk(&parse(text).tree, |place, leaf| {
        if let Leaf::Value(s) = leaf {
            let enc = matches!(&s.value, Value::Str(t) if t.starts_with("ENC["));
            if !matches!(&s.value, Value::Str(t) if enc && t.contains(",type:comment]")) {
                out.push((place.path.join("."), enc));
            }
        }
    });
    out
}

fn parse(text: &str) -> sops_like_format::syntax::Parsed {
    match Format::Yaml.syntax().parse(text) {
        Ok(p) => p,
        Err(e) => panic!("{e}\n{text}"),
    }
}

/// The texts of the comments of a YAML document that are not `ENC[…]`,
/// sorted.
fn clear_comments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    walk(&parse(text).tree, |_, leaf| {
        if let Leaf::Comment(c) = leaf {
            if !c.text.starts_with("ENC[") {
                out.push(c.text.trim().to_string());
            }
        }
    });
    out.sort();
    out
}

fn run(c: &mut assert_cmd::Command, what: &str) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What [`compare`] expects beyond the same selection as sops.
#[derive(Clone, Copy)]
struct Expect {
    /// The marker selects something (it is not dropped by go-yaml or
    /// moved to where it selects nothing).
    selects: bool,
    /// sops's reading of sops-like's file puts a comment in another
    /// collection than its reading of the plaintext (the comment stays
    /// where it stands; sops itself moves it): it is encrypted if either
    /// reading encrypts it, and `sops decrypt` may show it as its
    /// `#ENC[…]` text.
    readings_differ: bool,
}

/// Encrypt `text` with both tools (`flags` added) and compare.
fn compare(home: &Path, name: &str, text: &str, flags: &[&str], expect: Expect) -> Option<()> {
    let selects = expect.selects;
    let plain = home.join(format!("{name}.yaml"));
    std::fs::write(&plain, text).unwrap();
    let mut c = sops(home, "age-test.txt")?;
    // sops 3.11's `encrypt` subcommand has no comment selector flags.
    c.current_dir(home)
        .args(["-e", "--age", &demo_recipient()])
        .args(flags)
        .arg(&plain);
    let theirs = run(&mut c, "sops encrypt");
    let want = selection(&theirs);
    // Every marker selects something (but one go-yaml drops, right after
    // a flow collection's opening bracket).
    let marked = flags.contains(&"--encrypted-comment-regex");
    assert!(
        !selects || want.iter().any(|(_, e)| *e == marked),
        "{text:?} {flags:?}: {theirs}"
    );
    // The comments sops keeps in clear, of those it keeps at all (go-yaml
    // drops some): with a regex every comment matches, sops keeps every
    // comment it reads in clear.
    let mut c = sops(home, "age-test.txt")?;
    c.current_dir(home)
        .args(["-e", "--age", &demo_recipient()])
        .args(["--unencrypted-comment-regex", "."])
        .arg(&plain);
    let kept = clear_comments(&run(&mut c, "sops encrypt"));
    let clear_in = |enc: &str| -> Vec<String> {
        let clear = clear_comments(enc);
        clear.into_iter().filter(|t| kept.contains(t)).collect()
    };
    let want_clear = clear_in(&theirs);
    for cipher in ["aes256-gcm", "xchacha20-poly1305"] {
        let mut c = cmd(home, None);
        c.args(["encrypt", "--cipher", cipher, "--age", &demo_recipient()])
            .args(flags)
            .arg(&plain);
        let ours = run(&mut c, "sops-like encrypt");
        assert_eq!(
            selection(&ours),
            want,
            "{text:?} {flags:?} {cipher}: sops-like encrypted other values than sops\n{ours}\n--- sops:\n{theirs}"
        );
        // Where sops's readings differ, a comment either one encrypts is
        // encrypted: never one in clear that sops encrypts.
        let clear = clear_in(&ours);
        let same = match expect.readings_differ {
            true => clear.iter().all(|c| want_clear.contains(c)),
            false => clear == want_clear,
        };
        assert!(
            same,
            "{text:?} {flags:?} {cipher}: sops-like encrypted other comments than sops\n{ours}\n--- sops:\n{theirs}"
        );
        let enc = home.join(format!("{name}.{cipher}.enc.yaml"));
        std::fs::write(&enc, &ours).unwrap();
        let mut c = cmd(home, Some("age-test.txt"));
        c.arg("decrypt").arg(&enc);
        let back = run(&mut c, "sops-like decrypt");
        if cipher == "aes256-gcm" {
            let canonical = |t: &str| canonical_text(Format::Yaml, t);
            assert_eq!(canonical(&back), canonical(text), "{flags:?} {cipher}");
        } else {
            assert_eq!(back, text, "{flags:?} {cipher}");
        }
        if cipher == "aes256-gcm" {
            // sops reads it: MAC verified, every value and comment opened.
            let out = sops(home, "age-test.txt")?
                .arg("decrypt")
                .arg(&enc)
                .output()
                .unwrap();
            let (data, err) = (
                String::from_utf8(out.stdout).unwrap(),
                String::from_utf8_lossy(&out.stderr),
            );
            assert!(
                out.status.success(),
                "{text:?} {flags:?}: sops decrypt: {err}"
            );
            let enc_values = data
                .lines()
                .any(|l| l.contains("ENC[") && !l.trim_start().starts_with("#ENC["));
            // sops shows a comment its reading of the file keeps in clear
            // as its `#ENC[…]` text; it never warns of one in clear.
            let shows_enc = data.contains("#ENC[");
            assert!(
                !enc_values
                    && (expect.readings_differ || !shows_enc)
                    && !err.contains("unencrypted comment"),
                "{text:?} {flags:?}: sops left something encrypted:\n{data}{err}"
            );
            assert_eq!(
                canonical_text(Format::Yaml, &data),
                canonical_text(Format::Yaml, text),
                "{text:?} {flags:?}"
            );
        }
    }
    Some(())
}

#[test]
fn line_comment_markers_select_what_sops_selects() {
    let dir = tempdir();
    for (i, text) in DOCS.iter().enumerate() {
        let dropped = text.contains("{ #") || text.contains("[ #");
        for flag in ["--encrypted-comment-regex", "--unencrypted-comment-regex"] {
            let flags = [flag, "sops:enc"];
            let expect = Expect {
                selects: !dropped,
                readings_differ: false,
            };
            if compare(dir.path(), &format!("d{i}"), text, &flags, expect).is_none() {
                return;
            }
        }
    }
}

#[test]
fn markers_go_yaml_moves_select_where_sops_reads_them() {
    let dir = tempdir();
    for (i, text) in MOVED.iter().enumerate() {
        for flag in ["--encrypted-comment-regex", "--unencrypted-comment-regex"] {
            let flags = [flag, "sops:enc"];
            // A column-0 comment after a compact sequence at the end of
            // the text: sops's plaintext reading puts it in the sequence,
            // its reading of the file at the top level.
            let expect = Expect {
                selects: false,
                readings_differ: text.ends_with("- v\n# c1\n"),
            };
            if compare(dir.path(), &format!("m{i}"), text, &flags, expect).is_none() {
                return;
            }
        }
    }
}

/// A marker before the `---` of an empty first document (L6): go-yaml
/// drops it, but keeps it once the document holds the `{}` sops-like
/// writes there (the file sops decrypts). A comment either reading
/// encrypts is encrypted: `# c1` under `encrypted_comment_regex` (sops
/// keeps it in clear; the file's reading encrypts it), `# c1` under
/// `unencrypted_comment_regex` (sops encrypts it; the file's reading
/// keeps it in clear). sops decrypts both files.
#[test]
fn a_marker_go_yaml_drops_before_an_empty_document() {
    let dir = tempdir();
    let text = "# sops:enc\n---\n# c1\n";
    let plain = dir.path().join("e.yaml");
    std::fs::write(&plain, text).unwrap();
    for flag in ["--encrypted-comment-regex", "--unencrypted-comment-regex"] {
        let mut c = encrypt_aes(dir.path());
        c.args([flag, "sops:enc"]).arg(&plain);
        let ours = run(&mut c, "sops-like encrypt");
        assert_eq!(clear_comments(&ours), ["sops:enc"], "{flag}: {ours}");
        let enc = dir.path().join("e.enc.yaml");
        std::fs::write(&enc, &ours).unwrap();
        let Some(mut c) = sops(dir.path(), "age-test.txt") else {
            return;
        };
        let out = c.arg("decrypt").arg(&enc).output().unwrap();
        assert_ok(&out);
    }
}

/// The same rules from `.sops.yaml` creation rules.
#[test]
fn line_comment_markers_from_config_rules() {
    let dir = tempdir();
    for (i, field) in ["encrypted_comment_regex", "unencrypted_comment_regex"]
        .iter()
        .enumerate()
    {
        let home = dir.path().join(format!("r{i}"));
        std::fs::create_dir(&home).unwrap();
        std::fs::write(
            home.join(".sops.yaml"),
            format!(
                "creation_rules:\n  - {field}: 'sops:enc'\n    age: {}\n",
                demo_recipient()
            ),
        )
        .unwrap();
        let text = "db:\n  password: hunter2 # sops:enc\n  host: example.org\nl:\n- # sops:enc\n  a: 1\n  b: 2\n- x # sops:enc\n- w\nport: 1 # sops:enc\n";
        let plain = home.join("c.yaml");
        std::fs::write(&plain, text).unwrap();
        let Some(mut c) = sops(&home, "age-test.txt") else {
            return;
        };
        c.current_dir(&home).arg("encrypt").arg(&plain);
        let want = selection(&run(&mut c, "sops encrypt"));
        for cipher in ["aes256-gcm", "xchacha20-poly1305"] {
            let mut c = cmd(&home, None);
            c.args(["encrypt", "--cipher", cipher]).arg(&plain);
            assert_eq!(
                selection(&run(&mut c, "sops-like encrypt")),
                want,
                "{field} {cipher}"
            );
        }
    }
}

/// A comment text both in clear and encrypted in a sops file (`# sops:enc`
/// as a marker, and after one): `set` kept every copy encrypted once one
/// was, so the marker was sealed and sops no longer selected the value
/// after it (MAC mismatch, exit 51). A text stays in clear as often as it
/// was, and never more.
#[test]
fn set_keeps_a_clear_copy_of_a_comment_text_that_is_also_encrypted() {
    let dir = tempdir();
    let home = dir.path();
    let path = home.join("f.env");
    std::fs::write(&path, "# sops:enc\n# sops:enc\nA=secret\nB=x\n").unwrap();
    let Some(mut c) = sops(home, "age-test.txt") else {
        return;
    };
    c.current_dir(home)
        .args([
            "-e",
            "-i",
            "--encrypted-comment-regex",
            "sops:enc",
            "--age",
            &demo_recipient(),
        ])
        .arg(&path);
    run(&mut c, "sops encrypt");
    let before = std::fs::read_to_string(&path).unwrap();
    assert_eq!(before.matches("# sops:enc").count(), 1, "{before}");
    let mut c = cmd(home, Some("age-test.txt"));
    c.arg("set").arg(&path).args([r#"["B"]"#, r#""new""#]);
    run(&mut c, "sops-like set");
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(after.matches("# sops:enc").count(), 1, "{after}");
    assert_eq!(after.matches("type:comment]").count(), 1, "{after}");
    let mut c = sops(home, "age-test.txt").unwrap();
    c.arg("decrypt").arg(&path);
    assert_eq!(
        run(&mut c, "sops decrypt"),
        "# sops:enc\n# sops:enc\nA=secret\nB=new\n"
    );
}

/// An edit that makes an encrypted comment the marker of what follows it
/// (the marker above it moved away): the comment is written in clear, as
/// sops writes it, so that sops sees it and reads the file (before, it
/// stayed sealed and sops failed the MAC check; fuzzer round 37).
#[test]
fn an_edit_that_makes_a_sealed_comment_a_marker_writes_it_in_clear() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    for (before, after) in [
        (
            "# m enc\na: v1 # i enc\nb: v2\n",
            "a: v1 # i enc\n# m enc\nb: v2\n",
        ),
        (
            "# m enc\nk:\n  # i enc\n  a: v1\n",
            "k:\n  # i enc\n  a: v1\n# m enc\n",
        ),
    ] {
        let file = dir.path().join("s.yaml");
        std::fs::write(&file, before).unwrap();
        let out = encrypt_aes(dir.path())
            .args(["--encrypted-comment-regex", "enc", "-i"])
            .arg(&file)
            .output()
            .unwrap();
        assert_ok(&out);
        let sealed = std::fs::read_to_string(&file).unwrap();
        assert!(!sealed.contains("i enc"), "{sealed}");
        let wanted = dir.path().join("after.yaml");
        std::fs::write(&wanted, after).unwrap();
        let editor = dir.path().join("ed.sh");
        std::fs::write(
            &editor,
            format!("#!/bin/sh\ncp '{}' \"$1\"\n", wanted.display()),
        )
        .unwrap();
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = cmd(dir.path(), Some("age-test.txt"))
            .env("SOPS_EDITOR", &editor)
            .arg("edit")
            .arg(&file)
            .output()
            .unwrap();
        assert_ok(&out);
        let edited = std::fs::read_to_string(&file).unwrap();
        assert!(edited.contains("# i enc"), "{edited}");
        let out = cmd(dir.path(), Some("age-test.txt"))
            .arg("decrypt")
            .arg(&file)
            .output()
            .unwrap();
        assert_ok(&out);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), after);
        if let Some(mut sops) = sops(dir.path(), "age-test.txt") {
            let out = sops.arg("decrypt").arg(&file).output().unwrap();
            assert_ok(&out);
        }
    }
}
