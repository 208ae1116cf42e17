//! Tests of `set`/`unset` on JSON: exact results for each kind of edit,
//! and a property test over random documents.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::syntax::edit::check::{leaf_paths, path, remove, remove_leaf, set, set_leaf, NewVal};
use crate::syntax::json::Json;
use crate::syntax::{PathStep, Syntax};
use crate::tree::{Node, Value};

fn s(x: &str) -> Node {
    Node::str(x)
}

fn map(pairs: &[(&str, Node)]) -> Node {
    Node::map(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
}

const DOC: &str = "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"x\"\n  },\n  \"l\": [1, 2]\n}\n";

#[test]
fn replaces_in_place() {
    assert_eq!(
        set(&Json, DOC, &path(&["b", "c"]), &s("y")),
        "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"y\"\n  },\n  \"l\": [1, 2]\n}\n"
    );
    assert_eq!(
        set(&Json, DOC, &path(&["a"]), &map(&[("k", Node::value(Value::Bool(true)))])),
        "{\n  \"a\": {\n    \"k\": true\n  },\n  \"b\": {\n    \"c\": \"x\"\n  },\n  \"l\": [1, 2]\n}\n"
    );
    assert_eq!(
        set(&Json, DOC, &path(&["l", "1"]), &s("z")),
        "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"x\"\n  },\n  \"l\": [1, \"z\"]\n}\n"
    );
}

#[test]
fn adds_keys_in_the_layout() {
    assert_eq!(
        set(&Json, DOC, &path(&["b", "d"]), &s("n")),
        "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"x\",\n    \"d\": \"n\"\n  },\n  \"l\": [1, 2]\n}\n"
    );
    assert_eq!(
        set(&Json, DOC, &path(&["n", "m"]), &s("v")),
        "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"x\"\n  },\n  \"l\": [1, 2],\n  \"n\": {\n    \"m\": \"v\"\n  }\n}\n"
    );
    assert_eq!(
        set(&Json, "{\"a\": 1}", &path(&["b"]), &s("v")),
        "{\"a\": 1, \"b\": \"v\"}"
    );
    assert_eq!(
        set(&Json, "{\"a\":{}}", &path(&["a", "b"]), &s("v")),
        "{\"a\":{\"b\":\"v\"}}"
    );
    assert_eq!(
        set(&Json, "{\r\n\t\"a\": {}\r\n}", &path(&["a", "b"]), &s("v")),
        "{\r\n\t\"a\": {\r\n\t\t\"b\": \"v\"\r\n\t}\r\n}"
    );
    assert_eq!(set(&Json, "{}", &path(&["a"]), &s("v")), "{\"a\": \"v\"}");
}

#[test]
fn appends_to_arrays() {
    assert_eq!(
        set(&Json, DOC, &path(&["l", "2"]), &s("z")),
        "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"x\"\n  },\n  \"l\": [1, 2, \"z\"]\n}\n"
    );
    assert_eq!(
        set(&Json, "[\n  1\n]\n", &path(&["1"]), &s("z")),
        "[\n  1,\n  \"z\"\n]\n"
    );
    assert_eq!(
        set(&Json, "{\"l\": []}", &path(&["l", "0"]), &s("z")),
        "{\"l\": [\"z\"]}"
    );
    // Past the end appends, and an index into a missing key makes a
    // one-element array, as sops's `set` does.
    assert_eq!(
        set(&Json, DOC, &path(&["l", "5"]), &s("z")),
        "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"x\"\n  },\n  \"l\": [1, 2, \"z\"]\n}\n"
    );
    let added = set(&Json, DOC, &path(&["n", "1"]), &s("z"));
    let v: serde_json::Value = serde_json::from_str(&added).unwrap();
    assert_eq!(v["n"], serde_json::json!(["z"]));
}

#[test]
fn errors_for_impossible_paths() {
    let p = Json.parse(DOC).unwrap();
    for bad in [path(&["a", "x"]), path(&["b", "0"])] {
        let err = Json.set_value(DOC, &p, &bad, &s("secret")).unwrap_err();
        assert!(!err.0.contains("secret"));
    }
    assert!(Json.set_value(DOC, &p, &[], &s("v")).is_err());
}

#[test]
fn removes_with_commas() {
    assert_eq!(
        remove(&Json, DOC, &path(&["a"])).unwrap(),
        "{\n  \"b\": {\n    \"c\": \"x\"\n  },\n  \"l\": [1, 2]\n}\n"
    );
    assert_eq!(
        remove(&Json, DOC, &path(&["l"])).unwrap(),
        "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"x\"\n  }\n}\n"
    );
    assert_eq!(
        remove(&Json, DOC, &path(&["b", "c"])).unwrap(),
        "{\n  \"a\": 1,\n  \"b\": {},\n  \"l\": [1, 2]\n}\n"
    );
    assert_eq!(
        remove(&Json, DOC, &path(&["l", "0"])).unwrap(),
        "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"x\"\n  },\n  \"l\": [2]\n}\n"
    );
    assert_eq!(
        remove(&Json, "{\"a\": 1}\n", &path(&["a"])).unwrap(),
        "{}\n"
    );
    assert_eq!(
        remove(&Json, "{\"a\": 1, \"b\": 2, \"a\": 3}", &path(&["a"])).unwrap(),
        "{\"b\": 2, \"a\": 3}"
    );
    // Of duplicate keys, the first (as sops).
    assert_eq!(
        set(
            &Json,
            "{\"a\": 1, \"a\": 3}",
            &path(&["a"]),
            &Node::value(Value::Int(9))
        ),
        "{\"a\": 9, \"a\": 3}"
    );
    assert!(remove(&Json, DOC, &path(&["zz"])).is_none());
    assert!(remove(&Json, DOC, &path(&["l", "9"])).is_none());
    assert!(remove(&Json, DOC, &path(&["a", "x"])).is_none());
}

#[test]
fn idempotent() {
    assert_eq!(set(&Json, DOC, &path(&["b", "c"]), &s("x")), DOC);
    let once = set(&Json, DOC, &path(&["n", "m"]), &s("v"));
    assert_eq!(set(&Json, &once, &path(&["n", "m"]), &s("v")), once);
}

#[test]
fn metadata_is_not_data() {
    let src = "{\"a\": 1, \"sops\": {\"version\": \"3.11.0\"}}";
    let p = Json.parse(src).unwrap();
    assert!(Json
        .set_value(src, &p, &[PathStep::Key("sops".into())], &s("x"))
        .is_err());
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn scalar() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("1".to_string()),
            Just("-2.5e3".to_string()),
            Just("true".to_string()),
            Just("null".to_string()),
            Just("\"s \\\"q\\\" \\u00e9\"".to_string()),
            "\"[a-z]{0,5}\"".prop_map(|s| s),
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        scalar().prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                (prop::collection::vec(inner.clone(), 0..4), any::<bool>()).prop_map(
                    |(items, pretty)| {
                        let sep = if pretty { ",\n  " } else { ", " };
                        format!("[{}]", items.join(sep))
                    }
                ),
                (prop::collection::vec(inner, 0..4), any::<bool>()).prop_map(|(vals, pretty)| {
                    let members: Vec<String> = vals
                        .iter()
                        .enumerate()
                        .map(|(i, v)| format!("\"k{i}\": {v}"))
                        .collect();
                    if pretty && !members.is_empty() {
                        format!("{{\n\t{}\n}}", members.join(",\n\t"))
                    } else {
                        format!("{{{}}}", members.join(","))
                    }
                }),
            ]
        })
    }

    fn new_value() -> impl Strategy<Value = NewVal> {
        prop_oneof![
            "[a-z \"\\\\<]{0,6}".prop_map(NewVal::Str),
            any::<i32>().prop_map(|i| NewVal::Float(f64::from(i))),
            any::<bool>().prop_map(NewVal::Bool),
        ]
    }

    proptest! {
        #[test]
        fn set_and_remove_change_only_their_leaf(
            doc in prop::collection::vec(value(), 1..5),
            pick in any::<prop::sample::Index>(),
            new in new_value(),
        ) {
            let members: Vec<String> =
                doc.iter().enumerate().map(|(i, v)| format!("\"t{i}\": {v}")).collect();
            let src = format!("{{\n    {}\n}}\n", members.join(",\n    "));
            let parsed = Json.parse(&src).unwrap();
            let paths = leaf_paths(&parsed.tree.docs[0]);
            prop_assume!(!paths.is_empty());
            let p = &paths[pick.index(paths.len())];
            set_leaf(&Json, &src, p, &new.node());
            remove_leaf(&Json, &src, p);
        }
    }
}
