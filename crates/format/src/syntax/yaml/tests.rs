//! Tests of the YAML syntax module: typing, spans, comments, metadata,
//! lexemes, emission, the conformance contract over `testdata/yaml`, and
//! property tests.

use super::*;
use crate::syntax::conformance::{roundtrip, sample_metadata, shape};
use crate::tree::{Comment, Item, Scalar};

fn parse(src: &str) -> Parsed {
    match Yaml.parse(src) {
        Ok(p) => p,
        Err(e) => panic!("parse failed: {e}\n{src}"),
    }
}

#[test]
fn smoke() {
    let src = "a: 1\nb: [x, y]\n";
    let p = parse(src);
    assert_eq!(p.tree.docs.len(), 1);
    roundtrip(&Yaml, src).unwrap();
}

fn fixtures() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/yaml");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            out.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    out.sort();
    assert!(out.len() >= 15, "fixtures missing");
    out
}

#[test]
fn fixtures_roundtrip() {
    let mut failures = Vec::new();
    for (name, src) in fixtures() {
        let result = roundtrip(&Yaml, &src);
        if name.starts_with("fail_") {
            if result.is_ok() {
                failures.push(format!("{name}: expected an error"));
            }
        } else if let Err(e) = result {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
#[ignore]
fn show_encrypted() {
    use crate::splice::splice;
    let name = std::env::var("FIXTURE").unwrap();
    let (_, src) = fixtures().into_iter().find(|(n, _)| *n == name).unwrap();
    let p = parse(&src);
    let edits = Yaml.insert_metadata(&src, &p, &sample_metadata()).unwrap();
    let out = splice(&src, edits).unwrap();
    println!("{out:?}\n{out}");
    println!("{}", shape(&p.tree));
}

/// Every scalar leaf (outside aliases) as (lexeme, value debug).
fn leaves(src: &str) -> Vec<(String, String)> {
    let p = parse(src);
    let mut out = Vec::new();
    crate::walk::walk(&p.tree, |place, leaf| {
        if place.in_alias {
            return;
        }
        if let crate::walk::Leaf::Value(Scalar {
            value,
            span: Some(span),
            ..
        }) = leaf
        {
            out.push((src[span.clone()].to_string(), describe(value)));
        }
    });
    out
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Str(s) => format!("str:{s}"),
        Value::Int(i) => format!("int:{i}"),
        Value::Float(f) => format!("float:{f:?}"),
        Value::Bool(b) => format!("bool:{b}"),
        Value::Time(t) => format!("time:{t}"),
    }
}

fn val(node: Option<&Node>) -> Option<String> {
    node.and_then(Node::as_value).map(describe)
}

fn comments(src: &str) -> Vec<String> {
    let p = parse(src);
    let mut out = Vec::new();
    crate::walk::walk(&p.tree, |place, leaf| {
        if let crate::walk::Leaf::Comment(Comment {
            text,
            span: Some(span),
            ..
        }) = leaf
        {
            assert_eq!(&src[span.clone()], text);
            out.push(format!("{}:{text}", place.path.join(".")));
        }
    });
    out
}

#[test]
fn spans_cover_whole_lexemes() {
    let src = "a: plain\nb: 'single'\nc: \"double\"\nd: !!str 12\ne: &x anchored\n\
               f: &y !!str both\ng: !!str &z tag_first\nh: |-\n  block\n  two\n\n\
               i: >+ # hdr\n  folded\n\nj: multi\n  line\nk:\nl: [x, \"y\"]\n\
               m: |2\n    indented\n";
    let got = leaves(src);
    let lexemes: Vec<&str> = got.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        lexemes,
        [
            "plain",
            "'single'",
            "\"double\"",
            "!!str 12",
            "anchored",
            "!!str both",
            "tag_first",
            "|-\n  block\n  two",
            ">+ # hdr\n  folded",
            "multi\n  line",
            "",
            "x",
            "\"y\"",
            "|2\n    indented",
        ]
    );
    assert_eq!(got[3].1, "str:12");
    assert_eq!(got[7].1, "str:block\ntwo");
    assert_eq!(got[8].1, "str:folded\n\n");
    assert_eq!(got[9].1, "str:multi line");
    assert_eq!(got[10].1, "null");
    assert_eq!(got[13].1, "str:  indented\n");
}

#[test]
fn spans_with_bom_crlf_and_unicode() {
    let src = "\u{feff}k: \"héllo 🎉\"\r\nl: |\r\n  x\r\n  y\r\n";
    let got = leaves(src);
    assert_eq!(got[0].0, "\"héllo 🎉\"");
    assert_eq!(got[1].0, "|\r\n  x\r\n  y");
    assert_eq!(got[1].1, "str:x\ny\n");
}

/// A block scalar whose last line ends the text without a line break:
/// clip and keep chomping add no break (YAML 1.2 §8.1.1.2); the values are
/// what go-yaml v3 (sops) reads, measured with sops 3.11.
#[test]
fn block_scalars_at_the_end_of_the_text() {
    for (src, want) in [
        ("k: |\n  a\n  b", "a\nb"),
        ("k: |+\n  a\n  b", "a\nb"),
        ("k: >\n  a\n  b", "a b"),
        ("k: >+\n  a\n  b", "a b"),
        ("k: |2\n   a\n  b", " a\nb"),
        ("k: |-\n  a\n  b", "a\nb"),
        ("k: |\n  a\n  b  ", "a\nb  "),
        ("k: |\r\n  a\r\n  b", "a\nb"),
        ("k: |\n  a\n     ", "a\n   "),
        ("k: |+\n  a\n     ", "a\n   "),
        ("k: >\n  a\n\n     ", "a\n\n   "),
        ("k: |\n  a\n  #x", "a\n#x"),
        ("k: >\n  a\n   b", "a\n b"),
        ("k: |\n  a\n\n   x", "a\n\n x"),
        ("a:\n  k: |\n    a\n    b", "a\nb"),
        ("k: |\n  |x", "|x"),
        ("k: |\n  >", ">"),
        // The last line is only indentation, or there is no content line.
        ("k: |+\n  a\n\n  ", "a\n\n"),
        ("k: |+\n  a\n\n", "a\n\n"),
        ("k: |\n  a\n\n  ", "a\n"),
        ("k: |+\n  a\n  ", "a\n"),
        ("k: |", ""),
        ("k: |+\n", ""),
        ("k: |+\n     ", ""),
        ("k: |+\n\n     ", "\n"),
        ("k: |\n\n     ", ""),
        ("k: |+\n  a\n  \n  ", "a\n\n"),
        ("k: >+\n  a\n\n ", "a\n\n"),
        ("k: |+", ""),
        ("k: >", ""),
        ("k: |\n  a\n# c", "a\n"),
    ] {
        let k = |src: &str| {
            let p = parse(src);
            let doc = &p.tree.docs[0];
            val(doc
                .get("k")
                .or_else(|| doc.get("a").and_then(|a| a.get("k"))))
        };
        assert_eq!(k(src), Some(format!("str:{want}")), "{src:?}");
        if src.ends_with('\n') {
            continue;
        }
        // The same in the encrypted file, where a line break is inserted
        // before the metadata (the value left in clear).
        let lb = if src.contains('\r') { "\r\n" } else { "\n" };
        let enc = format!("{src}{lb}sops:{lb}    version: 3.11.0");
        assert_eq!(k(&enc), Some(format!("str:{want}")), "{enc:?}");
        assert!(parse(&enc).metadata.is_some());
    }
    let p = parse("l:\n  - >+\n     a\n     b");
    let Some(Node::Seq(items)) = p.tree.docs[0].get("l") else {
        panic!("not a list")
    };
    assert!(matches!(&items[0], Item::Node(n) if val(Some(n)).as_deref() == Some("str:a b")));
}

#[test]
fn typing_follows_go_yaml() {
    let src = "a: 1\nb: 1.0\nc: true\nd: yes\ne: ~\nf: '1'\ng: 2024-01-02\n\
               h: 0x10\ni: !!float 2\nj: !!int \"3\"\nk: !x 4\nl: .inf\nm: \"true\"\n\
               n: 2001-12-14 21:59:43.10 -5\n";
    let types: Vec<String> = leaves(src).into_iter().map(|(_, v)| v).collect();
    assert_eq!(
        types,
        [
            "int:1",
            "float:1.0",
            "bool:true",
            "str:yes",
            "null",
            "str:1",
            "time:2024-01-02T00:00:00Z",
            "int:16",
            "float:2.0",
            "int:3",
            "str:4",
            "float:inf",
            "str:true",
            "str:2001-12-14 21:59:43.10 -5",
        ]
    );
}

#[test]
fn slots_follow_context() {
    let p = parse("a: x\nb: [y]\nc: {d: z}\n");
    let mut slots = Vec::new();
    crate::walk::walk(&p.tree, |_, leaf| {
        if let crate::walk::Leaf::Value(s) = leaf {
            slots.push(s.slot);
        }
    });
    assert_eq!(slots, [Slot::Bare, Slot::Quoted, Slot::Quoted]);
}

#[test]
fn keys_are_decoded() {
    let p = parse("'q''k': 1\n\"d\\tk\": 2\n? [a, b]\n: 3\n&k anch: 4\n*k : 5\ndup: 6\ndup: 7\n");
    let Node::Map(entries) = &p.tree.docs[0] else {
        panic!("not a map")
    };
    let keys: Vec<&str> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Pair(p) => Some(p.key.as_str()),
            Entry::Comment(_) => None,
        })
        .collect();
    assert_eq!(
        keys,
        ["q'k", "d\tk", "[a, b]", "anch", "anch", "dup", "dup"]
    );
}

#[test]
fn aliases_copy_the_anchored_node() {
    let p = parse("base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\nlist: [*b]\n");
    let doc = &p.tree.docs[0];
    let merged = doc.get("use").and_then(|u| u.get("<<"));
    assert!(matches!(merged, Some(Node::Alias(inner)) if matches!(**inner, Node::Map(_))));
    assert_eq!(
        val(merged.and_then(|m| m.get("x"))).as_deref(),
        Some("int:1")
    );
    // Leaves reached through aliases are not rewritten: only 3 own leaves.
    assert_eq!(
        leaves("base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\nlist: [*b]\n").len(),
        2
    );
}

#[test]
fn alias_bombs_are_refused() {
    let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = i - 1;
        src.push_str(&format!(
            "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    let err = Yaml.parse(&src).err().map(|e| e.message);
    assert_eq!(err.as_deref(), Some("too many alias expansions"));
    // Six levels (531,441 copies) in 300 bytes, refused before they are made.
    let six: String = src.lines().take(7).map(|l| format!("{l}\n")).collect();
    let err = Yaml.parse(&six).err().map(|e| e.message);
    assert_eq!(err.as_deref(), Some("too many alias expansions"));
    // A long string repeated by aliases counts by its length.
    let long = format!(
        "a: &a {}\nb: [{}]\n",
        "x".repeat(30_000),
        vec!["*a"; 10_000].join(", ")
    );
    let err = Yaml.parse(&long).err().map(|e| e.message);
    assert_eq!(err.as_deref(), Some("too many alias expansions"));
    // What real files do stays: many aliases of a small anchor.
    let many = format!(
        "base: &b {{host: db, port: 5432, user: app}}\nuses: [{}]\n",
        vec!["*b"; 20_000].join(", ")
    );
    assert!(Yaml.parse(&many).is_ok());
}

#[test]
fn comments_attach_to_the_next_entry() {
    let src = "# top\na: 1 # inline a\nb:\n  # head c\n  c: 2\n  d: [x, # in flow\n    y]\n\
               # before e\ne:\n- p # inline p\n# before q\n- q\n# trailing\n";
    assert_eq!(
        comments(src),
        [
            ": top",
            ": inline a",
            "b: head c",
            "b.d: in flow",
            ": before e",
            "e: inline p",
            "e: before q",
            ": trailing",
        ]
    );
}

/// The lexemes of the values `selector` encrypts, and of the comments.
fn selected(src: &str, selector: &crate::metadata::Selector) -> (Vec<String>, Vec<String>) {
    let p = parse(src);
    let d = crate::select::Decider::new(selector).unwrap();
    let (mut values, mut comments) = (Vec::new(), Vec::new());
    crate::walk::walk(&p.tree, |place, leaf| match leaf {
        crate::walk::Leaf::Value(s) if d.value(place.path, place.comments) => {
            values.push(src[s.span.clone().unwrap()].to_string());
        }
        crate::walk::Leaf::Comment(c) if d.comment(place.path, place.comments) => {
            comments.push(c.text.trim().to_string());
        }
        _ => {}
    });
    (values, comments)
}

/// A marker at the end of a line selects the value on that line, as sops
/// reads it (go-yaml's line comment comes before its key or item); after a
/// lone `- ` it selects the item's first key or item (measured against
/// sops 3.11, tests/integration/comment_markers.rs).
#[test]
fn line_comment_markers_select_their_own_line() {
    use crate::metadata::Selector;
    let enc = Selector::EncryptedCommentRegex("sops:enc".into());
    let clear = Selector::UnencryptedCommentRegex("sops:enc".into());
    let cases: &[(&str, &[&str], &[&str])] = &[
        // (document, encrypted with `enc`, left clear with `clear`)
        (
            "db:\n  password: hunter2 # sops:enc\n  host: example.org\nport: 1\n",
            &["hunter2"],
            &["hunter2"],
        ),
        ("a: 1 # sops:enc\n", &["1"], &["1"]),
        ("a: x\nb: 1 # sops:enc\n", &["1"], &["1"]),
        ("l:\n- a # sops:enc\n- b\n", &["a"], &["a"]),
        ("l:\n- # sops:enc\n  a: 1\n  b: 2\n- 3\n", &["1"], &["1"]),
        (
            "l:\n- 0\n- # sops:enc\n  a: 1\n  b: 2\n- 3\n",
            &["1"],
            &["1"],
        ),
        ("l:\n- # sops:enc\n  - x\n  - y\n", &["x"], &["x"]),
        ("l:\n  - # sops:enc\n  - 3\n", &["3"], &["3"]),
        (
            "db: # sops:enc\n  u: 1\n  p: 2\nz: 3\n",
            &["1", "2"],
            &["1", "2"],
        ),
        ("f: {a: 1, # sops:enc\n  b: 2}\n", &["1"], &["1"]),
        ("k: [1, 2] # sops:enc\nz: 3\n", &["1"], &["1"]),
        ("l:\n- [1, 2] # sops:enc\n- 3\n", &["1", "2"], &["1", "2"]),
    ];
    for (src, encrypted, kept) in cases {
        assert_eq!(selected(src, &enc).0, *encrypted, "{src:?}");
        let (values, _) = selected(src, &clear);
        let all: Vec<String> = leaves(src).into_iter().map(|(l, _)| l).collect();
        let want: Vec<&String> = all
            .iter()
            .filter(|l| !kept.contains(&l.as_str()) && !l.is_empty())
            .collect();
        let got: Vec<&String> = values.iter().filter(|l| !l.is_empty()).collect();
        assert_eq!(got, want, "{src:?}");
    }
    // A line comment after the marker is encrypted; the marker is not.
    let src = "# sops:enc\na: 1 # note\nb: 2 # sops:enc\n";
    assert_eq!(
        selected(src, &enc),
        (vec!["1".into(), "2".into()], vec!["note".into()])
    );
}

#[test]
fn comments_in_scalar_documents_are_dropped() {
    assert!(comments("# c\n--- text # d\n").is_empty());
    assert_eq!(parse("").tree.docs.len(), 0);
    assert_eq!(parse("# only a comment\n").tree.docs.len(), 0);
}

#[test]
fn parse_errors_have_positions_and_no_values() {
    let e = Yaml.parse("a: 1\nb: [secret\n").err();
    let e = e.expect("must fail");
    assert!(e.line >= 2, "{e}");
    assert!(!e.message.contains("secret"));
    let e = Yaml
        .parse("a: 1\n  b: sec`ret\n  - x\n")
        .err()
        .expect("must fail");
    assert!(!e.to_string().contains("sec"));
    assert!(Yaml.parse("a: *nope\n").is_err());
    // A tab before the top-level keys (the appended `sops:` key could not
    // match their indentation): refused, as go-yaml refuses it.
    for src in ["\tu: x\n", " \tu: x\n  v: y\n", "a: 1\n---\n\tb: 2\n"] {
        let e = Yaml.parse(src).err().expect("must fail");
        assert!(e.message.contains("tab"), "{src:?}: {e}");
    }
    // Spaces are fine, and a tab elsewhere on the line too.
    for src in ["  u: x\n  v: y\n", "a:\tb\n", "a: 1\t# c\n"] {
        assert!(Yaml.parse(src).is_ok(), "{src:?}");
    }
}

const SOPS_FILE: &str = concat!(
    "app:\n",
    "    port: ENC[AES256_GCM,data:+XDBBg==,iv:8s97,tag:g6XL,type:int]\n",
    "sops:\n",
    "    age:\n",
    "        - recipient: age174vmm9gf0re\n",
    "          enc: |\n",
    "            -----BEGIN AGE ENCRYPTED FILE-----\n",
    "            YWdl\n",
    "            -----END AGE ENCRYPTED FILE-----\n",
    "    lastmodified: \"2026-11-22T03:51:54Z\"\n",
    "    mac: ENC[AES256_GCM,data:Br5H,iv:qIis,tag:31kI,type:str]\n",
    "    unencrypted_suffix: _unencrypted\n",
    "    version: 3.11.0\n",
);

#[test]
fn reads_sops_metadata() {
    let p = parse(SOPS_FILE);
    let meta = p.metadata.as_ref().expect("metadata");
    assert_eq!(
        val(meta.get("lastmodified")).as_deref(),
        Some("str:2026-11-22T03:51:54Z")
    );
    assert_eq!(val(meta.get("version")).as_deref(), Some("str:3.11.0"));
    let Some(Node::Seq(age)) = meta.get("age") else {
        panic!("age")
    };
    let Some(Item::Node(first)) = age.first() else {
        panic!("age[0]")
    };
    assert_eq!(
        val(first.get("enc")).as_deref(),
        Some("str:-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n")
    );
    assert_eq!(p.metadata_spans.len(), 1);
    let span = p.metadata_spans[0].clone();
    assert!(SOPS_FILE[span.clone()].starts_with("sops:\n"));
    assert_eq!(span.end, SOPS_FILE.len());
    assert_eq!(shape(&p.tree), "{\"app\":{\"port\":s,},}---");
}

#[test]
fn metadata_layout_is_sops_layout() {
    let src = "a: 1\n";
    let p = parse(src);
    let edits = Yaml.insert_metadata(src, &p, &sample_metadata()).unwrap();
    let out = crate::splice::splice(src, edits).unwrap();
    let expected = concat!(
        "a: 1\n",
        "sops:\n",
        "    age:\n",
        "        - recipient: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\n",
        "          enc: |\n",
        "            -----BEGIN AGE ENCRYPTED FILE-----\n",
        "            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSB1QnZ0V1pWWEJuY1d0V01p\n",
        "            Zz09\n",
        "            -----END AGE ENCRYPTED FILE-----\n",
        "    lastmodified: \"2026-11-22T03:51:54Z\"\n",
        "    mac: ENC[AES256_GCM,data:Br5H,iv:qIis,tag:31kI3NDPioUNCf1SxIpkDQ==,type:str]\n",
        "    unencrypted_suffix: _unencrypted\n",
        "    version: 3.11.0\n",
    );
    assert_eq!(out, expected);
}

#[test]
fn metadata_needs_mappings() {
    let meta = sample_metadata();
    for src in ["- a\n", "text\n", "a: 1\n---\n- x\n", "", "# c\n"] {
        let p = parse(src);
        assert!(Yaml.insert_metadata(src, &p, &meta).is_err(), "{src:?}");
    }
    let err = Yaml
        .insert_metadata("- a\n", &parse("- a\n"), &meta)
        .unwrap_err();
    assert!(err.0.contains("top-level must be a mapping"));
    assert!(Yaml
        .insert_metadata(SOPS_FILE, &parse(SOPS_FILE), &meta)
        .is_err());
}

#[test]
fn value_lexemes_reparse_to_the_same_value() {
    let values = [
        Value::Str("plain".into()),
        Value::Str("yes".into()),
        Value::Str("12".into()),
        Value::Str("a: b # c".into()),
        Value::Str("multi\nline\n".into()),
        Value::Str(" lead".into()),
        Value::Str("x,y]".into()),
        Value::Str("tab\there \u{1}".into()),
        Value::Str("".into()),
        Value::Str("héllo 🎉".into()),
        Value::Int(-42),
        Value::Float(1.0),
        Value::Float(0.1),
        Value::Float(f64::INFINITY),
        Value::Bool(false),
        Value::Null,
        Value::Time("2001-12-14T21:59:43.1-05:00".into()),
    ];
    for v in &values {
        for slot in [Slot::Bare, Slot::Quoted] {
            let lex = Yaml.value_lexeme(slot, v);
            let src = match slot {
                Slot::Bare => format!("k: {lex}\n"),
                Slot::Quoted => format!("k: [{lex}]\n"),
            };
            let got = leaves(&src);
            assert_eq!(got.len(), 1, "{src}");
            assert_eq!(got[0].1, describe(v), "{src}");
            assert_eq!(got[0].0, lex);
        }
    }
    let nan = Yaml.value_lexeme(Slot::Bare, &Value::Float(f64::NAN));
    assert!(matches!(
        &leaves(&format!("k: {nan}"))[0].1[..],
        "float:NaN"
    ));
}

#[test]
fn enc_lexemes() {
    let enc = "ENC[AES256_GCM,data:ab+/=,iv:x,tag:y,type:str]";
    assert_eq!(Yaml.enc_lexeme(Slot::Bare, enc), enc);
    assert_eq!(Yaml.enc_lexeme(Slot::Quoted, enc), format!("\"{enc}\""));
}

/// A key longer than 128 bytes is written as go-yaml writes it, as an
/// explicit key (an implicit one may not pass 1024 characters at all),
/// its block value starting on the `:` line; what is written reads back.
#[test]
fn emits_long_keys_as_explicit_keys() {
    let long = |c: &str| c.repeat(129);
    let k128 = "k".repeat(128);
    let tree = Tree::new(vec![Node::map([
        (k128.clone(), Node::str("x")),
        (long("a"), Node::str("x")),
        (
            long("b"),
            Node::Seq(vec![
                Item::Node(Node::value(Value::Int(1))),
                Item::Node(Node::map([
                    ("c".to_string(), Node::value(Value::Int(1))),
                    ("d".to_string(), Node::value(Value::Int(2))),
                ])),
            ]),
        ),
        (
            long("e"),
            Node::map([("f".to_string(), Node::map([(long("g"), Node::str("v"))]))]),
        ),
        (long("h"), Node::Map(vec![])),
        (long("i"), Node::str("l1\nl2\n")),
        ("z".repeat(2000), Node::value(Value::Null)),
    ])]);
    let out = Yaml.emit(&tree).unwrap();
    let expected = [
        format!("{k128}: x\n"),
        format!("? {}\n: x\n", long("a")),
        format!("? {}\n:   - 1\n    - c: 1\n      d: 2\n", long("b")),
        format!(
            "? {}\n:   f:\n        ? {}\n        : v\n",
            long("e"),
            long("g")
        ),
        format!("? {}\n: {{}}\n", long("h")),
        format!("? {}\n: |\n    l1\n    l2\n", long("i")),
        format!("? {}\n: null\n", "z".repeat(2000)),
    ]
    .concat();
    assert_eq!(out, expected);
    let back = parse(&out);
    assert_eq!(Yaml.emit(&back.tree).unwrap(), out, "reads back as written");
}

#[test]
fn emits_go_yaml_style() {
    let tree = Tree::new(vec![
        Node::Map(vec![
            Entry::Comment(Comment::new(" top", None)),
            Entry::Pair(Pair {
                key: "a".into(),
                value: Node::map([
                    ("b".to_string(), Node::value(Value::Int(1))),
                    ("c".to_string(), Node::str("two lines\nhere\n")),
                    ("d".to_string(), Node::str("no newline\nend")),
                    ("e".to_string(), Node::str("yes")),
                    ("f".to_string(), Node::value(Value::Float(1.0))),
                    ("g".to_string(), Node::Map(vec![])),
                ]),
            }),
            Entry::Pair(Pair {
                key: "list".into(),
                value: Node::Seq(vec![
                    Item::Node(Node::str("x")),
                    Item::Node(Node::map([
                        ("k".to_string(), Node::str("v")),
                        ("m".to_string(), Node::str("l1\nl2\n")),
                    ])),
                    Item::Node(Node::Seq(vec![
                        Item::Node(Node::value(Value::Null)),
                        Item::Node(Node::value(Value::Bool(true))),
                    ])),
                ]),
            }),
        ]),
        Node::map([("z".to_string(), Node::str(" lead\nx\n"))]),
    ]);
    let out = Yaml.emit(&tree).unwrap();
    let expected = concat!(
        "# top\n",
        "a:\n",
        "    b: 1\n",
        "    c: |\n",
        "        two lines\n",
        "        here\n",
        "    d: |-\n",
        "        no newline\n",
        "        end\n",
        "    e: \"yes\"\n",
        "    f: 1.0\n",
        "    g: {}\n",
        "list:\n",
        "    - x\n",
        "    - k: v\n",
        "      m: |\n",
        "        l1\n",
        "        l2\n",
        "    - - null\n",
        "      - true\n",
        "---\n",
        "z: |4\n",
        "     lead\n",
        "    x\n",
    );
    assert_eq!(out, expected);
    let back = parse(&out);
    assert_eq!(
        crate::syntax::conformance::plain(&back.tree.docs[0]),
        crate::syntax::conformance::plain(&tree.docs[0])
    );
    assert_eq!(
        crate::syntax::conformance::plain(&back.tree.docs[1]),
        crate::syntax::conformance::plain(&tree.docs[1])
    );
}

/// Run with `cargo test --release -p sops-like-format perf_3mb -- --ignored --nocapture`.
#[test]
#[ignore]
fn perf_3mb() {
    let mut src = String::new();
    let mut i = 0;
    while src.len() < 3_000_000 {
        src.push_str(&format!(
            "section{i}:\n  # comment {i}\n  name: \"value number {i}\"\n  port: {i}\n  list:\n    - alpha{i}\n    - beta {i}\n  block: |\n    line {i}\n    more text here\n"
        ));
        i += 1;
    }
    let start = std::time::Instant::now();
    let events = granit_parser::Parser::new_from_str(&src).count();
    println!("granit alone: {events} events in {:?}", start.elapsed());
    let start = std::time::Instant::now();
    let p = parse(&src);
    let elapsed = start.elapsed();
    let mut n = 0;
    crate::walk::walk(&p.tree, |_, _| n += 1);
    println!("{} bytes, {n} leaves, parsed in {elapsed:?}", src.len());
}

/// A comment that ends a nested block belongs where sops (go-yaml v3)
/// puts it: its path is the comment's AAD. Measured with sops 3.11; the
/// encrypted file has the `sops:` key after the document, so the end of
/// the document reads like a top-level key.
#[test]
fn comments_ending_nested_blocks_go_where_sops_puts_them() {
    for (src, want) in [
        ("a:\n  b:\n    c: 1\n    # x\n  d: 2\n", vec!["a.b: x"]),
        ("a:\n  b:\n    c: 1\n  # x\n  d: 2\n", vec!["a: x"]),
        ("a:\n  b:\n    c: 1\n# x\nd: 2\n", vec![": x"]),
        ("a:\n  b:\n    c: 1\n\n    # x\n  d: 2\n", vec!["a.b: x"]),
        ("a:\n  b:\n    c: 1\n      # x\n  d: 2\n", vec!["a.b: x"]),
        (
            "a:\n  b:\n    c: 1\n    # x\n  # y\n# z\nd: 2\n",
            vec!["a.b: x", "a: y", ": z"],
        ),
        (
            "a:\n  b:\n    c:\n      e: 1\n    # x\nd: 2\n",
            vec!["a.b.c: x"],
        ),
        (
            "a:\n  b:\n    c:\n      e: 1\n    # x\n\nd: 2\n",
            vec!["a.b: x"],
        ),
        ("a:\n  b:\n    c: 1\n# x\n  d: 2\n", vec!["a.b: x"]),
        // At the end: `sops:` follows in the encrypted file.
        ("a:\n  b:\n    c: 1\n  # x\n", vec!["a.b: x"]),
        ("a:\n  b:\n    c: 1\n  # x\n\n", vec!["a: x"]),
        ("l:\n  - 1\n  # x\n  - 2\n", vec!["l: x"]),
        ("a:\n  l:\n    - 1\n    # x\nd: 2\n", vec!["a.l: x"]),
        ("f: {a: 1, b: 2} # x\ng: 1\n", vec!["f: x"]),
        ("a: # x\n  b: 1\n", vec![": x"]),
        ("a:\n  b: 1 # x\n", vec!["a: x"]),
    ] {
        assert_eq!(comments(src), want, "{src:?}");
    }
}

/// A document whose only key is `sops` reads as `{}` (sops writes it so
/// when every key is unset, and reads it so); `{}` alone on a document's
/// last line gets block metadata in its place, and reads back the same.
#[test]
fn empty_mapping_document_has_block_metadata() {
    for src in [
        "{}\n",
        "# c\n{}\n",
        "{}\r\n",
        "a: 1\n---\n{}\n",
        "{}\n...\n",
    ] {
        let p = parse(src);
        let edits = Yaml.insert_metadata(src, &p, &sample_metadata()).unwrap();
        let out = crate::splice::splice(src, edits).unwrap();
        assert!(!out.contains("{sops"), "{out}");
        roundtrip(&Yaml, src).unwrap();
        let again = parse(&out);
        let back: Vec<Edit> = again
            .metadata_spans
            .iter()
            .map(|s| Edit {
                span: s.clone(),
                text: again.metadata_text(s).to_string(),
            })
            .collect();
        assert_eq!(crate::splice::splice(&out, back).unwrap(), src);
    }
    // Not alone on its line, or no final line break: the flow form.
    for src in ["{}", "{ }\n", "{}  # c\n"] {
        let p = parse(src);
        let edits = Yaml.insert_metadata(src, &p, &sample_metadata()).unwrap();
        let out = crate::splice::splice(src, edits).unwrap();
        assert!(out.contains("sops: {"), "{out}");
        roundtrip(&Yaml, src).unwrap();
    }
    // As sops writes it: the metadata block alone, after a comment.
    let p = parse("# c\nsops:\n    version: 3.11.0\n");
    assert_eq!(p.metadata_fill.len(), 1);
    assert_eq!(p.metadata_text(&p.metadata_spans[0]), "{}\n");
    assert_eq!(shape(&p.tree), "{#,}---");
}

/// Stream edges go-yaml reads otherwise: refused for sops's cipher, kept
/// by the default one (YAML 1.2 reads them).
#[test]
fn stream_edges_go_yaml_reads_otherwise() {
    use crate::syntax::SopsRefusal;
    let refusal = |src: &str| Yaml.parse(src).unwrap().sops_unreadable;
    for src in ["\u{feff}...\n---\nk: v\n", "---\nk: v\n...\nj: w\n"] {
        assert!(
            matches!(refusal(src), Some((_, SopsRefusal::Unreadable(_)))),
            "{src:?}"
        );
    }
    for (src, at) in [("\u{feff}\n\u{feff}k: v\n", 4), ("# c\n\u{feff}k: v\n", 4)] {
        assert!(
            matches!(refusal(src), Some((a, SopsRefusal::ReadOtherwise(_))) if a == at),
            "{src:?}"
        );
    }
    for src in [
        "\u{feff}k: v\n",
        "a: x\u{feff}y\n",
        "k: v\n...\n# c\n",
        "k: v\n...\n---\nj: w\n",
    ] {
        assert_eq!(refusal(src), None, "{src:?}");
        roundtrip(&Yaml, src).unwrap();
    }
}

/// A block scalar's last lines that hold only blanks past its indentation
/// are content, and in its span: a replaced value leaves none behind.
#[test]
fn block_scalar_spans_take_blank_content_lines() {
    for (src, lexeme) in [
        ("k: |-\n    x\n    \t\nj: 1\n", "|-\n    x\n    \t"),
        ("k: |\n  x\n  \t \n\n", "|\n  x\n  \t "),
        ("k: |-\n  x\n     \n  \nj: 1\n", "|-\n  x\n     "),
        ("k: >-\n  a\n  b\n  \t\n", ">-\n  a\n  b\n  \t"),
        // Only the indentation: not content.
        ("k: |\n  x\n  \n", "|\n  x"),
        ("k: |2-\n    x\n   \t\n", "|2-\n    x"),
    ] {
        let p = Yaml.parse(src).unwrap();
        let mut spans = Vec::new();
        p.tree.docs[0].value_spans(&mut spans);
        assert_eq!(&src[spans[0].clone()], lexeme, "{src:?}");
        roundtrip(&Yaml, src).unwrap();
    }
}
