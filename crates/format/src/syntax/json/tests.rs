//! Tests of the whole JSON syntax: parsing, typing, errors, metadata,
//! emission and the conformance contract over fixtures and random input.
#![allow(clippy::unwrap_used, clippy::panic)]

use super::Json;
use crate::splice::splice;
use crate::syntax::conformance::{plain, roundtrip, sample_metadata, shape};
use crate::syntax::Syntax;
use crate::tree::{Entry, Item, Node, Slot, Tree, Value};
use crate::walk::{walk, Leaf};

/// Every scalar as (value, source text of its span), in walk order.
fn leaves(src: &str) -> Vec<(Value, String)> {
    let parsed = Json.parse(src).unwrap();
    let mut out = Vec::new();
    walk(&parsed.tree, |_, leaf| {
        if let Leaf::Value(s) = leaf {
            let span = s.span.clone().unwrap();
            assert_eq!(s.slot, Slot::Quoted);
            out.push((s.value.clone(), src[span].to_string()));
        }
    });
    out
}

fn s(x: &str) -> Value {
    Value::Str(x.to_string())
}

#[test]
fn spans_are_exact_tokens() {
    let src =
        "\u{feff}{ \"a\" : \"x\\\"y\" , \"b\":[1.5e3,-0,true ,false,null],\"c\":{\"d\":\"é🎉\"}}";
    assert!(
        leaves(src)
            == vec![
                (s("x\"y"), "\"x\\\"y\"".into()),
                (Value::Float(1500.0), "1.5e3".into()),
                (Value::Float(-0.0), "-0".into()),
                (Value::Bool(true), "true".into()),
                (Value::Bool(false), "false".into()),
                (Value::Null, "null".into()),
                (s("é🎉"), "\"é🎉\"".into()),
            ]
    );
}

#[test]
fn integers_stay_integers_other_numbers_are_floats_keeping_their_digits() {
    let src =
        "[1, 12345678901234567890123, 1e400, -1e400, 1e-400, 9007199254740993, 1.0, -0, -42, 1e3]";
    let got = leaves(src);
    assert!(got[0] == (Value::Int(1), "1".into()));
    assert!(got[5].0 == Value::Int(9007199254740993));
    assert!(got[6].0 == Value::Float(1.0));
    assert!(got[7].0 == Value::Float(-0.0));
    assert!(got[8].0 == Value::Int(-42));
    assert!(got[9].0 == Value::Float(1000.0));
    assert!(
        got[1]
            == (
                Value::Float(1.2345678901234568e22),
                "12345678901234567890123".into()
            )
    );
    assert!(got[2].0 == Value::Float(f64::INFINITY));
    assert!(got[3].0 == Value::Float(f64::NEG_INFINITY));
    assert!(got[4].0 == Value::Float(0.0));
    assert_eq!(got[5].1, "9007199254740993");
}

#[test]
fn escapes_and_surrogates_decode() {
    let src = r#"["\"\\\/\b\f\n\r\t", "\u00e9\u65E5", "\ud83c\udf89", "\ud800x", "\udc00", "\ud800\n", "\ud800\ud800\udc00", "\uDBFF\uDFFF"]"#;
    let got: Vec<Value> = leaves(src).into_iter().map(|(v, _)| v).collect();
    assert!(
        got == vec![
            s("\"\\/\u{8}\u{c}\n\r\t"),
            s("é日"),
            s("🎉"),
            s("\u{FFFD}x"),
            s("\u{FFFD}"),
            s("\u{FFFD}\n"),
            s("\u{FFFD}\u{10000}"),
            s("\u{10FFFF}"),
        ]
    );
}

#[test]
fn keys_are_decoded_and_duplicates_kept() {
    let parsed = Json.parse(r#"{"a\u0062": 1, "ab": 2, "": 3}"#).unwrap();
    let Node::Map(entries) = &parsed.tree.docs[0] else {
        panic!("not a map")
    };
    let keys: Vec<&str> = entries
        .iter()
        .map(|e| match e {
            Entry::Pair(p) => p.key.as_str(),
            Entry::Comment(_) => "#",
        })
        .collect();
    assert_eq!(keys, ["ab", "ab", ""]);
}

#[test]
fn top_level_scalars_parse() {
    assert!(leaves(" \"x\" ") == vec![(s("x"), "\"x\"".into())]);
    assert!(leaves("-1.5\n") == vec![(Value::Float(-1.5), "-1.5".into())]);
    assert!(leaves("null") == vec![(Value::Null, "null".into())]);
    let parsed = Json.parse("true").unwrap();
    assert!(Json
        .insert_metadata("true", &parsed, &sample_metadata())
        .is_err());
}

#[test]
fn invalid_json_is_rejected_with_position_and_no_values() {
    let cases: &[(&str, (usize, usize))] = &[
        ("", (1, 1)),
        ("  \n ", (2, 2)),
        ("{\"secret\": sekrit}", (1, 12)),
        ("{\"a\": 1,}", (1, 9)),
        ("[1, 2,]", (1, 7)),
        ("{'a': 1}", (1, 2)),
        ("{a: 1}", (1, 2)),
        ("[01]", (1, 3)),
        ("[1.]", (1, 4)),
        ("[.5]", (1, 2)),
        ("[1e]", (1, 4)),
        ("[-]", (1, 3)),
        ("[+1]", (1, 2)),
        ("{\"a\" 1}", (1, 6)),
        ("{\"a\": 1 \"b\": 2}", (1, 9)),
        ("[1 2]", (1, 4)),
        ("{\"a\": \"secretvalue", (1, 7)),
        ("[\"tab\tS3CR3T\"]", (1, 6)),
        ("[\"bad \\x Z9Z9\"]", (1, 7)),
        ("[\"\\u12G4\"]", (1, 3)),
        ("[\"\\u12", (1, 3)),
        ("{} {}", (1, 4)),
        ("[1] // comment", (1, 5)),
        ("/* c */ []", (1, 1)),
        ("[tru]", (1, 2)),
        ("[nul", (1, 2)),
        ("[NaN]", (1, 2)),
        ("{\n  \"a\": [\n    1,\n  }", (4, 3)),
        ("{\"a\":", (1, 6)),
        ("[", (1, 2)),
        ("{", (1, 2)),
        ("x\u{feff}", (1, 1)),
        ("[1]\u{feff}", (1, 4)),
        ("\u{feff}\u{feff}[]", (1, 2)),
        ("[\"é\", é]", (1, 7)),
    ];
    for (src, (line, column)) in cases {
        let err = match Json.parse(src) {
            Ok(_) => panic!("accepted {src:?}"),
            Err(e) => e,
        };
        assert_eq!((err.line, err.column), (*line, *column), "{src:?}: {err}");
        let text = err.to_string();
        for secret in ["sekrit", "secretvalue", "S3CR3T", "Z9Z9", "é"] {
            assert!(!text.contains(secret), "{src:?}: {text}");
        }
        let no_bom = src.strip_prefix('\u{feff}').unwrap_or(src);
        assert!(
            serde_json::from_str::<serde_json::Value>(no_bom).is_err() || src.contains('\u{feff}')
        );
    }
}

#[test]
fn nesting_limit() {
    let ok = format!(
        "{}{}",
        "[".repeat(super::MAX_DEPTH),
        "]".repeat(super::MAX_DEPTH)
    );
    assert!(Json.parse(&ok).is_ok());
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = Json.parse(&deep).err().unwrap();
    assert_eq!((err.line, err.column), (1, super::MAX_DEPTH + 1));
    let deep = "{\"a\":".repeat(100_000);
    assert!(Json.parse(&deep).is_err());
}

#[test]
fn lexemes() {
    let lex = |v: Value| Json.value_lexeme(Slot::Quoted, &v);
    assert_eq!(lex(s("a<b>&\"\n")), r#""a\u003cb\u003e\u0026\"\n""#);
    assert_eq!(lex(Value::Int(-42)), "-42");
    assert_eq!(lex(Value::Float(1.0)), "1");
    assert_eq!(lex(Value::Float(1e21)), "1e+21");
    assert_eq!(lex(Value::Bool(true)), "true");
    assert_eq!(lex(Value::Null), "null");
    assert_eq!(
        lex(Value::Time("2024-01-02T00:00:00Z".into())),
        "\"2024-01-02T00:00:00Z\""
    );
    assert_eq!(
        Json.enc_lexeme(Slot::Bare, "ENC[AES256_GCM,data:a+/=]"),
        "\"ENC[AES256_GCM,data:a+/=]\""
    );
    // Every value reads back with the same value and type.
    for v in [
        s("x\u{0}\u{1f}\u{7f}\u{2028}é🎉\\"),
        Value::Float(-0.0),
        Value::Float(0.1),
        Value::Float(1e-7),
        Value::Float(1e300),
        Value::Float(f64::INFINITY),
        Value::Float(f64::NEG_INFINITY),
        Value::Float(f64::MIN_POSITIVE),
        Value::Bool(false),
        Value::Null,
    ] {
        let text = lex(v.clone());
        let got = leaves(&text);
        assert!(got[0].0 == v, "{text}");
        if let Value::Float(f) = v {
            let Value::Float(g) = got[0].0 else { panic!() };
            assert_eq!(f.is_sign_negative(), g.is_sign_negative());
        }
    }
}

#[test]
fn metadata_is_inserted_like_sops() {
    let src = "{\n\t\"a\": \"b\"\n}\n";
    let parsed = Json.parse(src).unwrap();
    let meta = Node::map([
        (
            "age".to_string(),
            Node::Seq(vec![Item::Node(Node::map([
                ("recipient".to_string(), Node::str("age1x")),
                ("enc".to_string(), Node::str("-----BEGIN-----\nabc\n")),
            ]))]),
        ),
        ("shamir_threshold".to_string(), Node::value(Value::Int(2))),
        (
            "mac_only_encrypted".to_string(),
            Node::value(Value::Bool(true)),
        ),
        ("unencrypted_regex".to_string(), Node::str("^(a|<b>)$")),
        ("hc_vault".to_string(), Node::value(Value::Null)),
        ("empty".to_string(), Node::Seq(vec![])),
    ]);
    let edits = Json.insert_metadata(src, &parsed, &meta).unwrap();
    let out = splice(src, edits).unwrap();
    let expected = "{\n\t\"a\": \"b\",\n\t\"sops\": {\n\t\t\"age\": [\n\t\t\t{\n\t\t\t\t\"recipient\": \"age1x\",\n\t\t\t\t\"enc\": \"-----BEGIN-----\\nabc\\n\"\n\t\t\t}\n\t\t],\n\t\t\"shamir_threshold\": 2,\n\t\t\"mac_only_encrypted\": true,\n\t\t\"unencrypted_regex\": \"^(a|\\u003cb\\u003e)$\",\n\t\t\"hc_vault\": null,\n\t\t\"empty\": []\n\t}\n}\n";
    assert_eq!(out, expected);
    let again = Json.parse(&out).unwrap();
    let got = again.metadata.unwrap();
    assert!(got.get("shamir_threshold").and_then(Node::as_value) == Some(&Value::Int(2)));
    assert!(got.get("mac_only_encrypted").and_then(Node::as_value) == Some(&Value::Bool(true)));
    assert_eq!(plain(&got), plain(&meta));
    assert_eq!(again.metadata_spans, vec![11..out.len() - 3]);
}

/// Insert the sample metadata, check the text, parse back, remove it.
fn insert_and_remove(src: &str, expected: &str) {
    let parsed = Json.parse(src).unwrap();
    let meta = Node::map([("v".to_string(), Node::str("1"))]);
    let out = splice(src, Json.insert_metadata(src, &parsed, &meta).unwrap()).unwrap();
    assert_eq!(out, expected, "from {src:?}");
    let again = Json.parse(&out).unwrap();
    assert_eq!(plain(&again.metadata.unwrap()), plain(&meta));
    assert_eq!(shape(&again.tree), shape(&parsed.tree));
    let removed = again
        .metadata_spans
        .iter()
        .map(|span| crate::splice::Edit {
            span: span.clone(),
            text: String::new(),
        })
        .collect();
    assert_eq!(splice(&out, removed).unwrap(), src);
}

#[test]
fn metadata_follows_the_file_layout() {
    insert_and_remove("{}", "{\n\t\"sops\": {\n\t\t\"v\": \"1\"\n\t}\n}");
    insert_and_remove("{ }\n", "{\n\t\"sops\": {\n\t\t\"v\": \"1\"\n\t}\n }\n");
    insert_and_remove(
        "{\r\n}\r\n",
        "{\r\n\t\"sops\": {\r\n\t\t\"v\": \"1\"\r\n\t}\r\n\r\n}\r\n",
    );
    insert_and_remove(
        "[]",
        "[\n\t{\n\t\t\"sops\": {\n\t\t\t\"v\": \"1\"\n\t\t}\n\t}\n]",
    );
    insert_and_remove("{\"a\":1}", "{\"a\":1,\"sops\":{\"v\":\"1\"}}");
    insert_and_remove("[1, 2]\n", "[1, 2,{\"sops\":{\"v\":\"1\"}}]\n");
    insert_and_remove(
        "{\r\n  \"a\": 1\r\n}",
        "{\r\n  \"a\": 1,\r\n  \"sops\": {\r\n    \"v\": \"1\"\r\n  }\r\n}",
    );
    insert_and_remove(
        "\u{feff}  {\n    \"a\": [\n      1\n    ]\n  }\n",
        "\u{feff}  {\n    \"a\": [\n      1\n    ],\n    \"sops\": {\n      \"v\": \"1\"\n    }\n  }\n",
    );
    insert_and_remove(
        "[\n    \"x\"\n]",
        "[\n    \"x\",\n    {\n        \"sops\": {\n            \"v\": \"1\"\n        }\n    }\n]",
    );
    insert_and_remove(
        "{\"a\": 1,\n\t\"b\": 2}",
        "{\"a\": 1,\n\t\"b\": 2,\n\t\"sops\": {\n\t\t\"v\": \"1\"\n\t}}",
    );
}

#[test]
fn metadata_is_found_anywhere_in_the_top_object() {
    let src = "{\n\t\"sops\": {\"version\": \"3.11.0\"},\n\t\"a\": 1\n}\n";
    let parsed = Json.parse(src).unwrap();
    assert!(parsed.metadata.is_some());
    let span = parsed.metadata_spans[0].clone();
    assert_eq!(
        splice(
            src,
            vec![crate::splice::Edit {
                span,
                text: String::new()
            }]
        )
        .unwrap(),
        "{\n\t\"a\": 1\n}\n"
    );
    // Written by sops with only metadata.
    let src = "{\n\t\"sops\": {\n\t\t\"version\": \"3.11.0\"\n\t}\n}\n";
    let parsed = Json.parse(src).unwrap();
    assert_eq!(parsed.metadata_spans, vec![1..src.len() - 2]);
    assert_eq!(shape(&parsed.tree), "{}---");
    // Two metadata keys are an error; nested "sops" keys are data.
    let err = Json.parse("{\"sops\": {}, \"sops\": {}}").err().unwrap();
    assert_eq!((err.line, err.column), (1, 14));
    assert!(Json
        .parse("{\"a\": {\"sops\": 1}}")
        .unwrap()
        .metadata
        .is_none());
    // In arrays only a last `{"sops": …}` element counts.
    assert!(Json.parse("[{\"sops\": 1}, 2]").unwrap().metadata.is_none());
    assert!(Json
        .parse("[{\"sops\": 1, \"b\": 2}]")
        .unwrap()
        .metadata
        .is_none());
    let src = "[2, {\"sops\": {\"shamir_threshold\": 3, \"x\": 3.0}}]";
    let parsed = Json.parse(src).unwrap();
    let meta = parsed.metadata.unwrap();
    assert!(meta.get("shamir_threshold").and_then(Node::as_value) == Some(&Value::Int(3)));
    assert!(meta.get("x").and_then(Node::as_value) == Some(&Value::Float(3.0)));
    assert_eq!(parsed.metadata_spans, vec![2..src.len() - 1]);
    // Adding metadata twice is refused.
    let src = "{\"sops\": {}}";
    assert!(Json
        .insert_metadata(src, &Json.parse(src).unwrap(), &sample_metadata())
        .is_err());
}

#[test]
fn emit_writes_like_sops() {
    let tree = Tree::new(vec![Node::Map(vec![
        Entry::Pair(crate::tree::Pair {
            key: "k<".into(),
            value: Node::str("v\t"),
        }),
        Entry::Comment(crate::tree::Comment::new(" dropped", None)),
        Entry::Pair(crate::tree::Pair {
            key: "n".into(),
            value: Node::Seq(vec![
                Item::Node(Node::value(Value::Int(i64::MAX))),
                Item::Node(Node::value(Value::Float(2.5))),
                Item::Comment(crate::tree::Comment::new("x", None)),
                Item::Node(Node::value(Value::Time("2024-01-02T00:00:00Z".into()))),
                Item::Node(Node::Alias(Box::new(Node::value(Value::Bool(false))))),
            ]),
        }),
        Entry::Pair(crate::tree::Pair {
            key: "e".into(),
            value: Node::map([]),
        }),
    ])]);
    let out = Json.emit(&tree).unwrap();
    assert_eq!(
        out,
        "{\n\t\"k\\u003c\": \"v\\t\",\n\t\"n\": [\n\t\t9223372036854775807,\n\t\t2.5,\n\t\t\"2024-01-02T00:00:00Z\",\n\t\tfalse\n\t],\n\t\"e\": {}\n}\n"
    );
    assert!(Json.emit(&Tree::new(vec![])).is_err());
    assert!(Json
        .emit(&Tree::new(vec![Node::map([]), Node::map([])]))
        .is_err());
    assert_eq!(
        Json.emit(&Tree::new(vec![Node::str("x")])).unwrap(),
        "\"x\"\n"
    );
}

/// Fixture variants: as written, CRLF, with a BOM, without the final
/// newline, minified.
fn variants(src: &str) -> Vec<String> {
    let mut out = vec![src.to_string()];
    if !src.contains("\r\n") {
        out.push(src.replace('\n', "\r\n"));
    }
    if !src.starts_with('\u{feff}') {
        out.push(format!("\u{feff}{src}"));
    }
    out.push(src.trim_end_matches(['\n', '\r']).to_string());
    out.push(minify(src));
    out
}

/// Drop all whitespace outside strings (and the BOM).
fn minify(src: &str) -> String {
    let mut out = String::new();
    let (mut in_str, mut escaped) = (false, false);
    for c in src.trim_start_matches('\u{feff}').chars() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if !c.is_ascii_whitespace() {
            in_str = c == '"';
            out.push(c);
        }
    }
    out
}

#[test]
fn fixtures_roundtrip() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/json");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let src = std::fs::read_to_string(&path).unwrap();
        let oracle = serde_json::from_str::<serde_json::Value>(src.trim_start_matches('\u{feff}'));
        // serde_json rejects lone surrogates; we read them as U+FFFD like Go.
        let lone = path.ends_with("lone_surrogates.json");
        assert!(oracle.is_ok() != lone, "{path:?}: serde_json disagrees");
        for v in variants(&src) {
            if let Err(e) = roundtrip(&Json, &v) {
                panic!("{path:?} variant {v:?}: {e}");
            }
            count += 1;
        }
    }
    assert!(count >= 80, "only {count} fixture variants");
}
