//! Tests of `set`/`unset` on TOML files.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::syntax::edit::check::{leaf_paths, path, remove, remove_leaf, set, set_leaf, NewVal};
use crate::syntax::toml::Toml;
use crate::syntax::Syntax;
use crate::tree::{Item, Node, Value};

const DOC: &str = "\
# top
title = \"x\" # c
list = [1, 2]
inl = { a = 1, b = \"q\" }

[server]
host = 'h'
port = 80

[[users]]
name = \"a\"
";

fn s(x: &str) -> Node {
    Node::str(x)
}

#[test]
fn replaces_in_place() {
    assert_eq!(
        set(&Toml, DOC, &path(&["title"]), &s("y")),
        DOC.replace("\"x\"", "\"y\"")
    );
    assert_eq!(
        set(
            &Toml,
            DOC,
            &path(&["server", "port"]),
            &Node::value(Value::Int(8080))
        ),
        DOC.replace("port = 80", "port = 8080")
    );
    assert_eq!(
        set(&Toml, DOC, &path(&["inl", "b"]), &s("a\nb")),
        DOC.replace("b = \"q\"", "b = \"a\\nb\"")
    );
    assert_eq!(
        set(&Toml, DOC, &path(&["users", "0", "name"]), &s("b")),
        DOC.replace("name = \"a\"", "name = \"b\"")
    );
    assert_eq!(
        set(
            &Toml,
            DOC,
            &path(&["list"]),
            &Node::map([("k".to_string(), s("v"))])
        ),
        DOC.replace("list = [1, 2]", "list = { k = \"v\" }")
    );
    assert_eq!(set(&Toml, DOC, &path(&["server", "host"]), &s("h")), DOC);
}

#[test]
fn adds_keys_and_items() {
    assert_eq!(
        set(
            &Toml,
            DOC,
            &path(&["server", "tls"]),
            &Node::value(Value::Bool(true))
        ),
        DOC.replace("port = 80\n", "port = 80\ntls = true\n")
    );
    assert_eq!(
        set(&Toml, DOC, &path(&["new", "deep"]), &s("v")),
        DOC.replace(
            "inl = { a = 1, b = \"q\" }\n",
            "inl = { a = 1, b = \"q\" }\nnew = { deep = \"v\" }\n"
        )
    );
    assert_eq!(
        set(&Toml, DOC, &path(&["inl", "c"]), &s("v")),
        DOC.replace("b = \"q\" }", "b = \"q\", c = \"v\" }")
    );
    assert_eq!(
        set(
            &Toml,
            DOC,
            &path(&["list", "2"]),
            &Node::value(Value::Int(3))
        ),
        DOC.replace("[1, 2]", "[1, 2, 3]")
    );
    assert_eq!(
        set(
            &Toml,
            "a = []",
            &path(&["a", "0"]),
            &Node::Seq(vec![Item::Node(s("x"))])
        ),
        "a = [[\"x\"]]"
    );
    assert_eq!(
        set(&Toml, "[t]\r\na = 1", &path(&["t", "b"]), &s("x")),
        "[t]\r\na = 1\r\nb = \"x\""
    );
    assert_eq!(set(&Toml, "", &path(&["a"]), &s("x")), "a = \"x\"\n");
    assert_eq!(
        set(&Toml, "[t]\n", &path(&["a"]), &s("x")),
        "a = \"x\"\n[t]\n"
    );
}

#[test]
fn errors() {
    let p = Toml.parse(DOC).unwrap();
    for bad in [
        path(&["list", "5"]),
        path(&["title", "x"]),
        path(&["server"]),
        path(&["users", "1"]),
    ] {
        let err = Toml.set_value(DOC, &p, &bad, &s("secret")).unwrap_err();
        assert!(!err.0.contains("secret"), "{}", err.0);
    }
    assert!(Toml
        .set_value(DOC, &p, &path(&["x"]), &Node::value(Value::Null))
        .is_err());
    assert!(Toml.remove_value(DOC, &p, &path(&["server"])).is_err());
}

#[test]
fn removes() {
    assert_eq!(
        remove(&Toml, DOC, &path(&["title"])).unwrap(),
        DOC.replace("title = \"x\" # c\n", "")
    );
    assert_eq!(
        remove(&Toml, DOC, &path(&["server", "port"])).unwrap(),
        DOC.replace("port = 80\n", "")
    );
    assert_eq!(
        remove(&Toml, DOC, &path(&["list", "0"])).unwrap(),
        DOC.replace("[1, 2]", "[2]")
    );
    assert_eq!(
        remove(&Toml, DOC, &path(&["list", "1"])).unwrap(),
        DOC.replace("[1, 2]", "[1]")
    );
    assert_eq!(
        remove(&Toml, DOC, &path(&["inl", "a"])).unwrap(),
        DOC.replace("a = 1, ", "")
    );
    assert_eq!(
        remove(&Toml, "a = [1]\n", &path(&["a", "0"])).unwrap(),
        "a = []\n"
    );
    assert_eq!(
        remove(&Toml, "a = 1\nb = 2", &path(&["b"])).unwrap(),
        "a = 1"
    );
    assert!(remove(&Toml, DOC, &path(&["nope"])).is_none());
    assert!(remove(&Toml, DOC, &path(&["list", "4"])).is_none());
}

/// Dotted keys inside an inline table (`{ s.t = 2 }`): an entry ends at
/// its last value; a key alone under a dotted key cannot be removed in
/// place and is refused, never a changed file (it renamed the key and
/// kept the value).
#[test]
fn removes_through_dotted_keys_in_inline_tables() {
    assert_eq!(
        remove(
            &Toml,
            "a = { x = 1, s.t = 2 }
",
            &path(&["a", "s"])
        )
        .unwrap(),
        "a = { x = 1 }\n"
    );
    assert_eq!(
        remove(
            &Toml,
            "a = { n.k = true, p = \"v\", q = \"\" }\n",
            &path(&["a", "p"])
        )
        .unwrap(),
        "a = { n.k = true, q = \"\" }\n"
    );
    assert_eq!(
        remove(&Toml, "a = { b.c = 1, b.d = 2 }\n", &path(&["a", "b", "c"])).unwrap(),
        "a = { b.d = 2 }\n"
    );
    for (src, at) in [
        ("a = { bbbb.c = 1 }\n", &["a", "bbbb", "c"][..]),
        ("a = { x.'y' = 1 }\n", &["a", "x", "y"]),
    ] {
        let parsed = Toml.parse(src).unwrap();
        let err = Toml.remove_value(src, &parsed, &path(at)).unwrap_err();
        assert!(err.0.contains("dotted key"), "{}", err.0);
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn scalar() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("1".to_string()),
            Just("-2.5".to_string()),
            Just("true".to_string()),
            Just("'lit'".to_string()),
            Just("\"b\\\"s\"".to_string()),
            Just("1979-05-27T07:32:00Z".to_string()),
            "\"[a-z ]{0,5}\"".prop_map(|s| s),
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        scalar().prop_recursive(2, 10, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3)
                    .prop_map(|v| format!("[{}]", v.join(", "))),
                prop::collection::vec(inner, 0..3).prop_map(|v| {
                    let m: Vec<String> = v
                        .iter()
                        .enumerate()
                        .map(|(i, x)| format!("i{i} = {x}"))
                        .collect();
                    format!("{{ {} }}", m.join(", "))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn set_and_remove_change_only_their_leaf(
            root in prop::collection::vec(value(), 0..3),
            tables in prop::collection::vec(prop::collection::vec(value(), 1..3), 0..3),
            pick in any::<prop::sample::Index>(),
            new in prop_oneof![
                "[a-z \"\\\\]{0,6}".prop_map(NewVal::Str),
                any::<i64>().prop_map(NewVal::Int),
                any::<bool>().prop_map(NewVal::Bool),
            ],
        ) {
            let mut src = String::new();
            for (i, v) in root.iter().enumerate() {
                src.push_str(&format!("r{i} = {v} # c\n"));
            }
            for (t, vals) in tables.iter().enumerate() {
                src.push_str(&format!("\n[t{t}]\n"));
                for (i, v) in vals.iter().enumerate() {
                    src.push_str(&format!("k{i} = {v}\n"));
                }
            }
            let parsed = Toml.parse(&src).unwrap();
            let paths = leaf_paths(&parsed.tree.docs[0]);
            prop_assume!(!paths.is_empty());
            let p = &paths[pick.index(paths.len())];
            set_leaf(&Toml, &src, p, &new.node());
            remove_leaf(&Toml, &src, p);
        }
    }
}
