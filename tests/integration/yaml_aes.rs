//! YAML in AES256_GCM mode against the real sops, value by value: block
//! scalars at the end of the text, `!!binary` and other core tags,
//! duplicate keys, directives, and aliases of encrypted anchors. For each
//! plaintext, either sops decrypts what sops-like writes to the same data
//! as its own encryption of it, or both refuse it (sops-like with exit 23).
//! The default cipher keeps every one of them byte for byte.

use crate::util::*;
use std::path::Path;

/// What encrypting `text` gave.
enum Outcome {
    /// Both encrypted it, and sops decrypts sops-like's file (`--output-type
    /// json`) to what it decrypts its own to.
    Same,
    /// Both refused it.
    BothRefused,
    /// sops encrypted it and sops-like refused it (exit 23); its message.
    OnlyOursRefused(String),
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `sops decrypt` as JSON, or as YAML for a stream of several documents
/// (sops's JSON holds the first one only).
fn sops_json(dir: &Path, file: &Path, stream: bool) -> String {
    let out = sops(dir, "age-test.txt")
        .unwrap()
        .args([
            "decrypt",
            "--output-type",
            if stream { "yaml" } else { "json" },
        ])
        .arg(file)
        .output()
        .unwrap();
    assert_ok(&out);
    String::from_utf8(out.stdout).unwrap()
}

/// Encrypt `text` with both tools (sops-like in AES mode, with `extra`
/// flags for both); `None` without the real sops.
fn differential(dir: &Path, text: &str, extra: &[&str]) -> Option<Outcome> {
    let plain = write(dir, "p.yaml", text);
    let theirs = sops(dir, "age-test.txt")?
        .args(["encrypt", "--age", &demo_recipient()])
        .args(extra)
        .arg(&plain)
        .output()
        .unwrap();
    let ours = encrypt_aes(dir).args(extra).arg(&plain).output().unwrap();
    let err = String::from_utf8_lossy(&ours.stderr).to_string();
    if !ours.status.success() {
        return Some(if theirs.status.success() {
            assert_eq!(ours.status.code(), Some(23), "{text:?}: {err}");
            Outcome::OnlyOursRefused(err)
        } else {
            // sops's code: 2 for what go-yaml refuses, 23 for a key that
            // is not a string.
            assert_eq!(ours.status.code(), theirs.status.code(), "{text:?}: {err}");
            Outcome::BothRefused
        });
    }
    assert!(
        theirs.status.success(),
        "{text:?}: sops refuses it, sops-like does not: {}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    let ours_file = write(
        dir,
        "ours.enc.yaml",
        &String::from_utf8(ours.stdout).unwrap(),
    );
    let theirs_file = write(
        dir,
        "theirs.enc.yaml",
        &String::from_utf8(theirs.stdout).unwrap(),
    );
    let stream = text.contains("\n---");
    let want = sops_json(dir, &theirs_file, stream);
    assert_eq!(sops_json(dir, &ours_file, stream), want, "{text:?}");
    if stream {
        return Some(Outcome::Same);
    }
    // sops-like reads its own file to the same data.
    let out = cmd(dir, Some("age-test.txt"))
        .args(["decrypt", "--output-type", "json"])
        .arg(&ours_file)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(),
        serde_json::from_str::<serde_json::Value>(&want).unwrap(),
        "{text:?}"
    );
    Some(Outcome::Same)
}

/// The default cipher encrypts `text` and gives it back byte for byte.
fn xchacha_keeps(dir: &Path, text: &str) {
    let enc = encrypt_text(dir, "x.yaml", text, &[]);
    let out = decrypt_text(dir, "x.enc.yaml", &enc, &[]);
    assert_ok(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), text);
}

/// Each text: the default cipher keeps it byte for byte, and `want`
/// accepts the outcome of the AES encryption (nothing without the real
/// sops).
fn outcomes(dir: &Path, texts: &[&str], want: impl Fn(&Outcome) -> bool, not: &str) {
    for text in texts {
        xchacha_keeps(dir, text);
        match differential(dir, text, &[]) {
            None => return,
            Some(outcome) => assert!(want(&outcome), "{text:?} {not}"),
        }
    }
}

/// Each text: the default cipher keeps it byte for byte, and sops reads
/// sops-like's AES file as it reads its own.
fn read_alike(dir: &Path, texts: &[&str]) {
    outcomes(dir, texts, |o| matches!(o, Outcome::Same), "refused");
}

/// Each text: the default cipher keeps it byte for byte, and both tools
/// refuse it in AES mode.
fn refused_alike(dir: &Path, texts: &[&str]) {
    outcomes(
        dir,
        texts,
        |o| matches!(o, Outcome::BothRefused),
        "not refused by both",
    );
}

/// A top-level flow mapping whose last comment ends in blanks.
#[test]
fn flow_mappings_with_comments_that_end_in_blanks() {
    let dir = tempdir();
    // The metadata goes in as `sops: {…},` after the trailing comma: the
    // comment's blanks are walked over like the comment (before, a second
    // comma made a file neither tool read).
    read_alike(
        dir.path(),
        &["{a: 1,\n # c \n}\n", "{ # c \n}\n", "{a: 1, # c\t\n}\n"],
    );
}

/// A top-level mapping whose first key is an explicit key on a line of its
/// own (`?\n a\n: 1`): the metadata is indented like the `?`, not like
/// the key's text (before, ` sops:`, a file neither tool read).
#[test]
fn explicit_first_keys_on_lines_of_their_own() {
    let dir = tempdir();
    read_alike(
        dir.path(),
        &[
            "?\n a\n: x\n",
            "?\r a\n: 1\n",
            "  ?\n   a\n  : 1\n",
            "? a\n: 1\n",
            "? # c\n a\n: x\n",
            "?\n# c\n\n a\n: x\n",
            "\u{feff}?\n a\n: x\n",
        ],
    );
}

/// What go-yaml refuses and YAML 1.2 reads (found by the differential
/// fuzzer): both refuse it in AES mode with exit 2; the default cipher
/// keeps it byte for byte. A merge key whose value is not a mapping or a
/// sequence of mappings, an empty value with a number, boolean or time
/// tag, an anchor name followed by `[`, a tag holding `#`, a `...` marker
/// before the first document. And a JSON text after a BOM.
#[test]
fn what_go_yaml_refuses_is_refused_for_sops() {
    let dir = tempdir();
    refused_alike(
        dir.path(),
        &[
            "a: 1\n<<: x\n",
            "<<: [{a: 1}, 2]\n",
            "<<:\n",
            "k: !!int\n",
            "k: [!!bool ]\n",
            "k: !!timestamp\n",
            "k: &a[]\n",
            "k: !a#b x\n",
            "...\na: 1\n",
            "# c\n...\n---\na: 1\n",
        ],
    );
    // Still read: merges of mappings, other empty tagged values. (A quoted
    // `"<<": x` is an ordinary key for both; sops writes it back unquoted
    // and then refuses its own file.)
    read_alike(
        dir.path(),
        &["<<: [{a: 1}, {b: 2}]\n", "k: !!str\n", "k: !!binary\n"],
    );
    let json = write(dir.path(), "b.json", "\u{feff}{\"a\": 1}\n");
    let ours = encrypt_aes(dir.path()).arg(&json).output().unwrap();
    assert_eq!(
        ours.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    if let Some(mut c) = sops(dir.path(), "age-test.txt") {
        let theirs = c
            .args(["encrypt", "--age", &demo_recipient()])
            .arg(&json)
            .output()
            .unwrap();
        assert_eq!(theirs.status.code(), Some(2));
    }
}

/// F4: a block scalar whose last line ends the text without a line break
/// has no final line break in its value (clip and keep chomping).
#[test]
fn block_scalars_at_the_end_of_the_text() {
    let dir = tempdir();
    read_alike(
        dir.path(),
        &[
            "k: |\n  a\n  b",
            "k: |+\n  a\n  b",
            "k: >\n  a\n  b",
            "k: >+\n  a\n  b",
            "k: |2\n   a\n  b",
            "k: |-\n  a\n  b",
            "k: |\n  a\n     ",
            "k: |+\n  a\n\n  ",
            "k: |+\n     ",
            "k: |\n  a\r\n  b",
            "l:\n- |\n  a",
            "a:\n  k: >\n    a\n     b",
            // Left in clear: the line break inserted before the metadata is
            // not the value's.
            "k_unencrypted: |\n  a\n  b",
            "k_unencrypted: >+\n  a\n  b",
            "k_unencrypted: |+\n  a\n\n  ",
            "k: |+\n     ",
            "x: 1\nk_unencrypted: !!binary |\n  aGk=",
            "k_unencrypted: |+\n  a\n  b # c",
            "x: 1\n---\nk_unencrypted: |\n  a\n  b",
            // No content, only blank lines (granit's span starts at the
            // header): the line breaks stay outside the value's span, so the
            // metadata starts a line of its own.
            "k: |+\n\n",
            "k: |\n\n",
            "a: x\nk: |+\n\n\n",
            "e: |+\n\r",
            "k: >-\n\n",
            // A comment on the header line, and blanks that end the value's
            // last line: the comment goes after them (AES).
            "k: | # c\n  x \n",
            // A comment on the header line of a value left in clear (or
            // empty) at the end of the text: the canonical spelling goes
            // before it (before, exit 1 "overlapping edits").
            "d: | # c",
            "a: 1\nd: > # c",
            "d_unencrypted: | # c\n  x",
            "d_unencrypted: !!str | # c\n  x",
            "d_unencrypted: |+ # c\n  x\n  ",
            // Comments after a tag, with the header below: each keeps its
            // line (before, the value was not rewritten, and sops's MAC
            // check failed).
            "k_unencrypted: !!str # c1\n  | # c2\n  x",
            "k_unencrypted: !!str # c1\n  |\n  x",
            "k_unencrypted: !!str # c1\n  # c2\n  |\n  x",
        ],
    );
}

/// F5: `!!binary` is its decoded bytes (as sops stores them, `type:str`)
/// when they are UTF-8 text; a core tag the value does not fit is refused
/// as sops refuses it; other tags are as sops reads them.
#[test]
fn tags_as_sops_reads_them() {
    let dir = tempdir();
    read_alike(
        dir.path(),
        &[
            "k: !!binary aGVsbG8=\nm: !!binary \"AAEC\"\n",
            "k: !!binary |\n  aGVs\n  bG8=\n",
            "k: !!binary aGVsbG9=\n",
            "k: !!binary \"aGVs\\rbG8=\"\n",
            "k: !!binary \"\"\n",
            "k: !!binary\n",
            "l: [!!binary aGk=, x]\n",
            "k: !!str 12\nl: !!int \"7\"\nm: !!float 1\nn: !!bool \"true\"\n",
            "k: !!map x\nl: !!seq y\nm: !foo z\n",
            "k: !!timestamp 2024-01-02\nl: !!null ''\n",
        ],
    );
    refused_alike(
        dir.path(),
        &[
            "k: !!bool yes\n",
            "k: !!int abc\n",
            "k: !!int 1.5\n",
            "k: !!float x\n",
            "k: !!null x\n",
            "k: !!timestamp x\n",
            "k: !!binary aGVsbG8\n",
            "k: !!binary \"aGVs bG8=\"\n",
            "k: !!binary\n  aGVs\n  bG8=\n",
            "k: !!binary aGk=aGk=\n",
            "a: 1\nl:\n  - !!bool off\n",
        ],
    );
    // Bytes that are not UTF-8: sops stores them, sops-like holds text
    // values only and refuses (the default cipher keeps the lexeme).
    let text = "k: !!binary /w==\n";
    xchacha_keeps(dir.path(), text);
    match differential(dir.path(), text, &[]) {
        None => {}
        Some(Outcome::OnlyOursRefused(err)) => assert!(err.contains("UTF-8"), "{err}"),
        Some(_) => panic!("{text:?} not refused"),
    }
}

/// A plain value with the non-specific tag `!` kept in clear: go-yaml
/// types it as if it had no tag (`! 0xf` is 15, `! true` a boolean), YAML
/// 1.2 makes it a string; the MAC of a file for sops is over go-yaml's
/// reading (before, sops failed the MAC check, exit 51).
#[test]
fn non_specific_tags_kept_in_clear_as_sops_reads_them() {
    let dir = tempdir();
    read_alike(
        dir.path(),
        &[
            "a_unencrypted: ! 0xf\nb: 1\n",
            "a_unencrypted: [! true, ! 1.5, ! ~, ! x, ! \"1\", ! '2']\nb: 1\n",
            "a_unencrypted: ! &x 12\nb: 1\nc_unencrypted: ! 2024-01-02\n",
            "a_unencrypted: !\n  7\nb: ! x\n",
            "a_unencrypted: !\nb: 1\n",
            "a_unencrypted:\n  - ! 0o17 # c\n  - ! |\n    8\n",
            "a_unencrypted: [&y ! 0x1_0, ! &z -0b11, !!str 5, !x 6]\nb: 1\n",
        ],
    );
}

/// `?` and `:` in flow collections: go-yaml ends a plain scalar at any `?`
/// (an explicit key's indicator), reads a `:` at a token's start as a value
/// indicator, and takes a `:` before `,`, `]` or `}` into the text. Where
/// that reads other data than YAML 1.2 (`[?x: y]`, `[x:]`), AES mode refuses
/// (exit 23: before, a file sops failed to decrypt or read otherwise);
/// where go-yaml refuses (`[a?b]`, `[:b]`), it refuses as sops does (2).
#[test]
fn question_marks_and_colons_in_flow_collections_as_go_yaml_reads_them() {
    let dir = tempdir();
    read_alike(
        dir.path(),
        &[
            "c: [? x: y]\n",
            "c: {? a: b}\n",
            "c: {a:b, \"d\":e, 'f':g}\n",
            "c: [x:\n  y]\n",
            "c: {a :b}\n",
            "c: [x, y]\nd: a?b\ne: ?f\n",
            // A quoted key before `:` (round 20: wrongly refused).
            "k: [\"x\":]\nl: {\"x\":}\nm: ['x':, y]\nn: {\"a\":, b: 1}\n",
        ],
    );
    refused_alike(
        dir.path(),
        &[
            "c: [a?b]\n",
            "c: [:b]\n",
            "c: {a: :b}\n",
            "c: {k: a?}\n",
            "c: [x, y?]\n",
        ],
    );
    outcomes(
        dir.path(),
        &[
            "c: [?x: y]\n",
            "c: [x, ?y]\n",
            "c: {?a}\n",
            "c: [x:, y]\n",
            "c: [a:b:]\n",
            "c: [x :]\n",
            "c: {x:}\n",
        ],
        |o| matches!(o, Outcome::OnlyOursRefused(err) if err.contains("sops would read other data")),
        "not refused as read otherwise by sops",
    );
}

/// Text written into a flow collection (a top-level flow mapping's
/// metadata, a value `set` writes there) is quoted when it holds a `?`,
/// which ends a plain scalar in flow context for go-yaml (before, sops
/// could not read the file: "did not find expected ',' or '}'").
#[test]
fn question_marks_written_into_flow_collections_are_quoted() {
    let dir = tempdir();
    let text = "{a: 1, k1: secret}\n";
    for regex in ["--encrypted-regex=^ ?k", "--encrypted-regex=k ?"] {
        match differential(dir.path(), text, &[regex]) {
            None => return,
            Some(Outcome::Same) => {}
            Some(_) => panic!("{text:?} {regex} refused"),
        }
    }
    let plain = write(dir.path(), "f.yaml", "{a_unencrypted: 1}\n");
    let out = encrypt_aes(dir.path()).arg(&plain).output().unwrap();
    assert_ok(&out);
    let file = write(
        dir.path(),
        "f.enc.yaml",
        &String::from_utf8(out.stdout).unwrap(),
    );
    let out = cmd(dir.path(), Some("age-test.txt"))
        .arg("set")
        .arg(&file)
        .args(["[\"a_unencrypted\"]", "\"x ?y\""])
        .output()
        .unwrap();
    assert_ok(&out);
    if sops(dir.path(), "age-test.txt").is_some() {
        let json: serde_json::Value =
            serde_json::from_str(&sops_json(dir.path(), &file, false)).unwrap();
        assert_eq!(json["a_unencrypted"], "x ?y");
    }
}

/// F9: duplicate keys and directives go-yaml refuses are refused as sops
/// refuses them (sops could not read the file); the default cipher keeps
/// them.
#[test]
fn duplicate_keys_and_directives_as_sops_reads_them() {
    let dir = tempdir();
    refused_alike(
        dir.path(),
        &[
            "a: 1\nb: x\na: 2\n",
            "a: 1\n\"a\": 2\n",
            "x:\n  a: 1\n  a: 2\n",
            "l:\n- a: 1\n  a: 2\n",
            "x: {a: 1, a: 2}\n",
            "b1: &b {x: 1}\nb2: &c {y: 1}\nsvc:\n  <<: *b\n  <<: *c\n",
            "%YAML 1.2\n---\na: 1\n",
            "%YAML 1.0\n---\na: 1\n",
            "\u{feff}%YAML 1.2\n---\na: 1\n",
            "%FOO bar\n---\na: 1\n",
            "# c\n%TAG ! tag:x,2000:\n%YAML 1.1\n---\na: 1\n...\n%YAML 1.2\n---\nb: 2\n",
            // go-yaml reads anchor names of letters, digits, `_` and `-` only,
            // no `\/` or surrogate escapes, and no tab after a `-`, `?` or
            // `:` indicator (before: written, and sops could not read the file).
            "a_unencrypted: &a.b x\n",
            "\"k\\/\": 1\n",
            "a_unencrypted: \"\\ud83d\\ude00\"\n",
            "a:\n-\tb\n",
            "a:\n  - \tb\n",
            "? \ta\n: b\n",
            "? a\n:\tb\n",
            // go-yaml reads an integer above int64 as a uint64, which sops
            // cannot encrypt (23; before, sops could not decrypt the file);
            // what go-yaml cannot read at all comes first (2).
            "a: 12345678901234567890\n",
            "l:\n- 0xFFFFFFFFFFFFFFFF\n",
            "a: 1_2345678901234567890\n",
            "a: 12345678901234567890\nb: !!int x\n",
        ],
    );
    for text in [
        "%YAML 1.1\n---\na: 1\n",
        "%YAML   1.1 # c\n---\na: 1\n",
        "%TAG !e! tag:example.com,2000:\n---\na: !e!foo 1\n",
        "a: 1\nx:\n  a: 2\nl:\n- a: 3\n- a: 4\n",
        "b_unencrypted: &b {x: 1}\nsvc_unencrypted:\n  <<: *b\n  x: 2\n",
        // sops checks the first document only.
        "x: 1\n---\na: 1\na: 2\n",
    ] {
        match differential(dir.path(), text, &[]) {
            None => return,
            Some(Outcome::Same) => {}
            Some(_) => panic!("{text:?} refused"),
        }
    }
    let plain = write(dir.path(), "d.yaml", "a: 1\na: 2\n");
    let out = encrypt_aes(dir.path()).arg(&plain).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("key a appears twice"), "{err}");
}

/// F12: an alias (or merge key) that reaches an encrypted anchor is
/// refused whatever the selector says about the alias's own path: sops
/// would read the anchor's `ENC[…]` text there and fail its MAC check.
/// (sops itself writes the secret in clear at such an alias.) An alias
/// whose anchor and own path are both in clear is fine.
#[test]
fn aliases_of_encrypted_anchors_are_refused() {
    let dir = tempdir();
    for (text, extra) in [
        ("secret: &s hunter2\nref_unencrypted: *s\n", &[][..]),
        ("base: &b {k: x}\ncopy_unencrypted:\n  <<: *b\n", &[]),
        ("l: [&s x]\nref_unencrypted: [*s]\n", &[]),
        (
            "password: &p x\nother: *p\n",
            &["--encrypted-regex", "^password$"][..],
        ),
        (
            "db: &d\n  password: x\n  host: h\nsvc:\n  <<: *d\n",
            &["--encrypted-regex", "^password$"][..],
        ),
    ] {
        xchacha_keeps(dir.path(), text);
        match differential(dir.path(), text, extra) {
            None => return,
            Some(Outcome::OnlyOursRefused(err)) => assert!(err.contains("aliases"), "{err}"),
            Some(_) => panic!("{text:?} not refused"),
        }
    }
    for (text, extra) in [
        ("a_unencrypted: &x 1\nb_unencrypted: *x\n", &[][..]),
        (
            "a: &x \"\"\nb_unencrypted: *x\nc: &n\nd_unencrypted: *n\n",
            &[],
        ),
        (
            "h: &h z\ndb:\n  password: x\nsvc:\n  host: *h\n",
            &["--encrypted-regex", "^password$"][..],
        ),
    ] {
        match differential(dir.path(), text, extra) {
            None => return,
            Some(Outcome::Same) => {}
            Some(_) => panic!("{text:?} refused"),
        }
    }
}

/// Stream edges go-yaml reads otherwise than YAML 1.2 (fuzzer rounds 18
/// and 20, N1b): a `...` before the first document after a byte order
/// mark, and a document after `...` without `---`, which go-yaml refuses
/// (before, sops-like wrote AES files sops could not read); a byte order
/// mark starting a later line, which YAML reads as a document prefix and
/// go-yaml as part of the key (before: sops failed to decrypt the file).
#[test]
fn stream_edges_go_yaml_reads_otherwise() {
    let dir = tempdir();
    refused_alike(
        dir.path(),
        &[
            "\u{feff}...\n---\nk: secret\n",
            "---\nk: v\n...\nj: secret\n",
            "k: v\n...\nj: secret\n",
        ],
    );
    outcomes(
        dir.path(),
        &["\u{feff}\n\u{feff}k: secret\n", "# c\n\u{feff}k: secret\n"],
        |o| matches!(o, Outcome::OnlyOursRefused(err) if err.contains("byte order mark")),
        "not refused as read otherwise by sops",
    );
    read_alike(
        dir.path(),
        &[
            "k: v\n...\n# c\n",
            "a: x\u{feff}y\n",
            "\u{feff}k: v\n...\n---\nj: w\n",
        ],
    );
}

/// Blanks with a tab and then a comment after a `?` or `:` indicator are
/// read by go-yaml (after `-` they are not, nor is a tab ending the line):
/// sops encrypts these and reads sops-like's files as its own. Before, AES
/// mode refused them as if go-yaml did (exit 2).
#[test]
fn tabs_before_a_comment_after_explicit_key_indicators() {
    let dir = tempdir();
    read_alike(
        dir.path(),
        &[
            "a:\n ?\t# c\n  k\n : v\n",
            "a:\n ? k\n :\t# c\n  v\n",
            "? \t# c\n k\n: v\n",
        ],
    );
    refused_alike(
        dir.path(),
        &["a:\n-\t# c\n  - b\n", "? k\n:\t\n", "?\t\n k\n: v\n"],
    );
}

/// `!!merge <<`, the merge key as sops writes it: a plaintext spelling it
/// so is read as the plain `<<` is (before, refused in AES mode as a key
/// that is not a string), and a file sops wrote from a merge key can be
/// rotated, set and unset, and sops reads the results (fuzzer round 38).
#[test]
fn merge_keys_as_sops_writes_them() {
    let dir = tempdir();
    read_alike(
        dir.path(),
        &[
            "b_unencrypted: &b {t: 1}\nsvc_unencrypted:\n  !!merge <<: *b\n",
            "b_unencrypted: &b {t: 1}\nc_unencrypted: &c {u: 2}\nsvc_unencrypted:\n  !!merge <<: [*b, *c]\n  v: 3\n",
        ],
    );
    refused_alike(
        dir.path(),
        &["b_unencrypted: &b x\nsvc_unencrypted:\n  !!merge <<: *b\n"],
    );
    let plain = write(
        dir.path(),
        "o.yaml",
        "base_unencrypted: &b\n  t: 30\nsvc_unencrypted:\n  <<: *b\n  v: 1\nsecret: s1\n",
    );
    let Some(theirs) = sops_encrypt_file(dir.path(), &plain) else {
        return;
    };
    assert!(theirs.contains("!!merge <<:"), "{theirs}");
    for (args, want) in [
        (&["rotate", "-i"][..], "s1"),
        (&["set", "s.yaml", "[\"secret\"]", "\"s2\""], "s2"),
        (&["unset", "s.yaml", "[\"secret\"]"], ""),
    ] {
        let file = write(dir.path(), "s.yaml", &theirs);
        let mut c = cmd(dir.path(), Some("age-test.txt"));
        c.args(args);
        if args[0] == "rotate" {
            c.arg(&file);
        }
        assert_ok(&c.output().unwrap());
        let back = sops_json(dir.path(), &file, false);
        let v: serde_json::Value = serde_json::from_str(&back).unwrap();
        assert_eq!(v["svc_unencrypted"]["<<"]["t"], 30, "{args:?}: {back}");
        assert_eq!(v["secret"].as_str().unwrap_or(""), want, "{args:?}: {back}");
    }
}

/// A tag written before an anchor (`!!int &a 12`): the default cipher
/// keeps it byte for byte and reads its own file (before, its MAC check
/// failed: the tag, outside the value's text, was left out of the value),
/// and for sops the anchor goes first, so the `ENC[…]` replaces the tag
/// as sops writes it (before, sops failed the MAC check of `!!int &a
/// ENC[…]`). Across a line break sops-like refuses it for sops.
#[test]
fn tags_before_anchors() {
    let dir = tempdir();
    read_alike(
        dir.path(),
        &[
            "k: !!str &a true\n",
            "k: !!int &a 12\nm: !!str &b true\nf: !!float &c 1.5\nn: !!bool\t&d  true\nz: x\n",
            "k: !custom &a x\nl: [!!str &b null, x]\n",
            "k_unencrypted: !!str &a true\nj_unencrypted: *a\n",
        ],
    );
    xchacha_keeps(dir.path(), "k: [!!str &a true, *a]\nm: !!str &b 0x1F\n");
    let text = "k: !!int\n  &a 12\n";
    xchacha_keeps(dir.path(), text);
    if let Some(outcome) = differential(dir.path(), text, &[]) {
        assert!(matches!(outcome, Outcome::OnlyOursRefused(_)), "{text:?}");
    }
}
