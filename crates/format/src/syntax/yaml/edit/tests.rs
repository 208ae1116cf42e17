//! Tests of `set`/`unset` on YAML: exact results for each kind of edit,
//! and a property test over random documents.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::syntax::edit::check::{leaf_paths, path, remove, remove_leaf, set, set_leaf, NewVal};
use crate::syntax::yaml::Yaml;
use crate::syntax::Syntax;
use crate::tree::{Item, Node, Value};

fn s(x: &str) -> Node {
    Node::str(x)
}

fn map(pairs: &[(&str, Node)]) -> Node {
    Node::map(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
}

fn seq(items: &[Node]) -> Node {
    Node::Seq(items.iter().cloned().map(Item::Node).collect())
}

const DOC: &str = "\
# head
a: 1 # one
b:
    c: 'x'
    d: |
        text
l:
  - x
  - y: 1
    z: 2
f: {p: 1, q: [1, 2]}
";

#[test]
fn replaces_in_place() {
    assert_eq!(
        set(&Yaml, DOC, &path(&["a"]), &s("new")),
        DOC.replace("a: 1 # one", "a: new # one")
    );
    assert_eq!(
        set(&Yaml, DOC, &path(&["b", "d"]), &Node::value(Value::Int(5))),
        DOC.replace("d: |\n        text", "d: 5")
    );
    assert_eq!(
        set(&Yaml, DOC, &path(&["b", "c"]), &s("yes")),
        DOC.replace("'x'", "\"yes\"")
    );
    assert_eq!(
        set(&Yaml, DOC, &path(&["f", "q", "1"]), &s("a,b")),
        DOC.replace("[1, 2]", "[1, \"a,b\"]")
    );
    assert_eq!(
        set(
            &Yaml,
            DOC,
            &path(&["a"]),
            &map(&[("k", s("v")), ("m", seq(&[s("1x")]))])
        ),
        DOC.replace("a: 1 # one", "a:\n    k: v\n    m:\n        - 1x # one")
    );
    assert_eq!(
        set(&Yaml, DOC, &path(&["b"]), &s("flat")),
        DOC.replace("b:\n    c: 'x'\n    d: |\n        text", "b: flat")
    );
    assert_eq!(
        set(
            &Yaml,
            DOC,
            &path(&["l", "0"]),
            &map(&[("k", s("v")), ("j", s("w"))])
        ),
        DOC.replace("  - x\n", "  - k: v\n    j: w\n")
    );
    assert_eq!(
        set(&Yaml, DOC, &path(&["f", "p"]), &map(&[("k", s("v"))])),
        DOC.replace("{p: 1,", "{p: {k: v},")
    );
    assert_eq!(
        set(&Yaml, "a:\nb: 2\n", &path(&["a"]), &s("v")),
        "a: v\nb: 2\n"
    );
}

#[test]
fn adds_keys_in_the_layout() {
    assert_eq!(
        set(&Yaml, DOC, &path(&["b", "e"]), &s("nn")),
        DOC.replace("        text\n", "        text\n    e: nn\n")
    );
    assert_eq!(
        set(
            &Yaml,
            DOC,
            &path(&["new", "deep", "er"]),
            &Node::value(Value::Bool(true))
        ),
        format!("{DOC}new:\n    deep:\n        er: true\n")
    );
    assert_eq!(
        set(&Yaml, DOC, &path(&["l", "1", "w"]), &s("3")),
        DOC.replace("    z: 2\n", "    z: 2\n    w: \"3\"\n")
    );
    assert_eq!(
        set(&Yaml, DOC, &path(&["f", "r"]), &s("x")),
        DOC.replace("[1, 2]}", "[1, 2], r: x}")
    );
    assert_eq!(set(&Yaml, "a: 1", &path(&["b"]), &s("2")), "a: 1\nb: \"2\"");
    assert_eq!(
        set(&Yaml, "a: 1\r\nb: 2\r\n", &path(&["c"]), &s("x")),
        "a: 1\r\nb: 2\r\nc: x\r\n"
    );
    assert_eq!(
        set(
            &Yaml,
            "a: |+\n  keep\n\nb: 1\n---\nc: 1\n",
            &path(&["z"]),
            &s("x")
        ),
        "a: |+\n  keep\n\nb: 1\nz: x\n---\nc: 1\n"
    );
    assert_eq!(
        set(&Yaml, "x: 1\nk: |+\n  keep\n\n", &path(&["z"]), &s("x")),
        "x: 1\nk: |+\n  keep\n\nz: x\n"
    );
    assert_eq!(set(&Yaml, "", &path(&["a", "b"]), &s("x")), "a:\n  b: x\n");
    assert_eq!(set(&Yaml, "{}\n", &path(&["a"]), &s("x")), "{a: x}\n");
}

#[test]
fn appends_to_sequences() {
    assert_eq!(
        set(&Yaml, DOC, &path(&["l", "2"]), &s("z")),
        DOC.replace("    z: 2\n", "    z: 2\n  - z\n")
    );
    // Past the end appends too, as sops's `set` does.
    assert_eq!(
        set(&Yaml, DOC, &path(&["l", "7"]), &s("z")),
        DOC.replace("    z: 2\n", "    z: 2\n  - z\n")
    );
    assert_eq!(
        set(&Yaml, DOC, &path(&["f", "q", "2"]), &s("z")),
        DOC.replace("[1, 2]", "[1, 2, z]")
    );
    assert_eq!(
        set(
            &Yaml,
            "x:\n- 1\ny: 2\n",
            &path(&["x", "1"]),
            &map(&[("a", s("b")), ("c", s("d"))])
        ),
        "x:\n- 1\n- a: b\n  c: d\ny: 2\n"
    );
    assert_eq!(
        set(&Yaml, "x: []\n", &path(&["x", "0"]), &s("v")),
        "x: [v]\n"
    );
}

#[test]
fn errors_for_impossible_paths() {
    let p = Yaml.parse(DOC).unwrap();
    for bad in [path(&["a", "x"]), path(&["b", "0"])] {
        let err = Yaml.set_value(DOC, &p, &bad, &s("secret")).unwrap_err();
        assert!(!err.0.contains("secret"), "{}", err.0);
    }
}

#[test]
fn removes_whole_lines() {
    assert_eq!(
        remove(&Yaml, DOC, &path(&["a"])).unwrap(),
        DOC.replace("a: 1 # one\n", "")
    );
    assert_eq!(
        remove(&Yaml, DOC, &path(&["b", "d"])).unwrap(),
        DOC.replace("    d: |\n        text\n", "")
    );
    assert_eq!(
        remove(&Yaml, DOC, &path(&["l", "0"])).unwrap(),
        DOC.replace("  - x\n", "")
    );
    assert_eq!(
        remove(&Yaml, DOC, &path(&["l", "1", "y"])).unwrap(),
        DOC.replace("  - y: 1\n    z: 2", "  - z: 2")
    );
    assert_eq!(
        remove(&Yaml, DOC, &path(&["f", "p"])).unwrap(),
        DOC.replace("{p: 1, ", "{")
    );
    assert_eq!(
        remove(&Yaml, DOC, &path(&["f", "q", "1"])).unwrap(),
        DOC.replace("[1, 2]", "[1]")
    );
    assert_eq!(
        remove(&Yaml, DOC, &path(&["f"])).unwrap(),
        DOC.replace("f: {p: 1, q: [1, 2]}\n", "")
    );
    assert_eq!(remove(&Yaml, "a: 1\nb: 2", &path(&["b"])).unwrap(), "a: 1");
    assert!(remove(&Yaml, DOC, &path(&["zz"])).is_none());
    assert!(remove(&Yaml, DOC, &path(&["l", "7"])).is_none());
    assert!(remove(&Yaml, DOC, &path(&["a", "x"])).is_none());
}

#[test]
fn removing_the_only_entry_leaves_an_empty_collection() {
    assert_eq!(
        remove(&Yaml, "a:\n  b: 1\nc: 2\n", &path(&["a", "b"])).unwrap(),
        "a: {}\nc: 2\n"
    );
    assert_eq!(
        remove(&Yaml, "a:\n- 1\nc: 2\n", &path(&["a", "0"])).unwrap(),
        "a: []\nc: 2\n"
    );
    assert_eq!(remove(&Yaml, "a: 1\n", &path(&["a"])).unwrap(), "{}\n");
    assert_eq!(
        remove(&Yaml, "a: {b: 1}\n", &path(&["a", "b"])).unwrap(),
        "a: {}\n"
    );
}

#[test]
fn idempotent() {
    assert_eq!(set(&Yaml, DOC, &path(&["b", "c"]), &s("x")), DOC);
    assert_eq!(
        set(&Yaml, DOC, &path(&["a"]), &Node::value(Value::Int(1))),
        DOC
    );
    let once = set(&Yaml, DOC, &path(&["n", "m"]), &s("v"));
    assert_eq!(set(&Yaml, &once, &path(&["n", "m"]), &s("v")), once);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Gen {
        Scalar(String),
        Flow(String),
        Map(Vec<(String, Gen)>),
        Seq(Vec<Gen>),
    }

    fn scalar() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z][a-z0-9 ]{0,6}[a-z0-9]".prop_map(|s| s),
            Just("42".to_string()),
            Just("-1.5e3".to_string()),
            Just("~".to_string()),
            Just("".to_string()),
            Just("'single ''q'''".to_string()),
            Just("\"dq \\n é\"".to_string()),
            Just("!!str 12".to_string()),
            Just("|\n{i}  line one\n{i}  line two".to_string()),
            Just(">-\n{i}  folded\n".to_string()),
            Just("|+\n{i}  keep\n".to_string()),
            Just("&anc anchored".to_string()),
        ]
    }

    fn flow() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof!["[a-z]{1,4}", Just("\"q, x\"".to_string())],
            0..3,
        )
        .prop_flat_map(|items| {
            let m: Vec<String> = items
                .iter()
                .enumerate()
                .map(|(i, v)| format!("f{i}: {v}"))
                .collect();
            prop_oneof![
                Just(format!("[{}]", items.join(", "))),
                Just(format!("{{{}}}", m.join(", "))),
            ]
        })
    }

    fn tree() -> impl Strategy<Value = Gen> {
        let leaf =
            prop_oneof![4 => scalar().prop_map(Gen::Scalar), 1 => flow().prop_map(Gen::Flow)];
        leaf.prop_recursive(3, 20, 4, |inner| {
            prop_oneof![
                prop::collection::vec(("[a-z]{1,4}", inner.clone()), 1..4).prop_map(Gen::Map),
                prop::collection::vec(inner, 1..4).prop_map(Gen::Seq),
            ]
        })
    }

    fn render(t: &Gen, indent: usize, width: usize, n: &mut usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match t {
            Gen::Map(entries) => {
                for (k, v) in entries {
                    *n += 1;
                    if (*n).is_multiple_of(3) {
                        out.push_str(&format!("{pad}# c{n}\n"));
                    }
                    out.push_str(&format!("{pad}{k}{n}:"));
                    value(v, indent, width, n, out);
                }
            }
            Gen::Seq(items) => {
                for v in items {
                    *n += 1;
                    out.push_str(&format!("{pad}-"));
                    value(v, indent, width, n, out);
                }
            }
            _ => value(t, indent, width, n, out),
        }
    }

    fn value(v: &Gen, indent: usize, width: usize, n: &mut usize, out: &mut String) {
        match v {
            Gen::Scalar(s) => {
                let s = s.replace("{i}", &" ".repeat(indent));
                if !s.is_empty() {
                    out.push(' ');
                    out.push_str(&s);
                    if (*n).is_multiple_of(2) && !s.contains('\n') {
                        out.push_str(" # in");
                    }
                }
                out.push('\n');
            }
            Gen::Flow(f) => {
                out.push(' ');
                out.push_str(f);
                out.push('\n');
            }
            Gen::Map(_) | Gen::Seq(_) => {
                out.push('\n');
                render(v, indent + width, width, n, out);
            }
        }
    }

    fn new_value() -> impl Strategy<Value = NewVal> {
        prop_oneof![
            "[a-z :#\"\\-]{0,6}".prop_map(NewVal::Str),
            Just(NewVal::Str("line\nbreak".into())),
            any::<i64>().prop_map(NewVal::Int),
            Just(NewVal::Float(0.5)),
            any::<bool>().prop_map(NewVal::Bool),
        ]
    }

    proptest! {
        #[test]
        fn set_and_remove_change_only_their_leaf(
            t in prop::collection::vec(("[a-z]{1,4}", tree()), 1..4),
            width in 1usize..5,
            pick in any::<prop::sample::Index>(),
            new in new_value(),
            crlf in any::<bool>(),
        ) {
            let mut src = String::new();
            render(&Gen::Map(t), 0, width, &mut 0, &mut src);
            if crlf {
                src = src.replace('\n', "\r\n");
            }
            let parsed = Yaml.parse(&src).unwrap();
            let paths = leaf_paths(&parsed.tree.docs[0]);
            prop_assume!(!paths.is_empty());
            let p = &paths[pick.index(paths.len())];
            set_leaf(&Yaml, &src, p, &new.node());
            remove_leaf(&Yaml, &src, p);
        }
    }
}

#[test]
fn every_leaf_of_every_fixture() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/yaml");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().path();
        if file.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let src = std::fs::read_to_string(&file).unwrap();
        if file.ends_with("anchors.yaml") {
            // Setting an anchored value changes its aliases too: see below.
            continue;
        }
        let Ok(parsed) = Yaml.parse(&src) else {
            continue;
        };
        for p in leaf_paths(&parsed.tree.docs[0]) {
            set_leaf(&Yaml, &src, &p, &s("new value"));
            set_leaf(&Yaml, &src, &p, &map(&[("k", s("v"))]));
            remove_leaf(&Yaml, &src, &p);
            n += 1;
        }
    }
    assert!(n > 20, "{n}");
}

#[test]
fn anchors_and_aliases() {
    let src = "d: &d\n  t: 30\ns:\n  <<: *d\n  t: 60\nc: *d\n";
    assert_eq!(
        set(&Yaml, src, &path(&["d", "t"]), &s("1m")),
        "d: &d\n  t: 1m\ns:\n  <<: *d\n  t: 60\nc: *d\n"
    );
    assert_eq!(
        set(&Yaml, src, &path(&["c"]), &s("x")),
        "d: &d\n  t: 30\ns:\n  <<: *d\n  t: 60\nc: x\n"
    );
    assert_eq!(
        remove(&Yaml, src, &path(&["s", "t"])).unwrap(),
        "d: &d\n  t: 30\ns:\n  <<: *d\nc: *d\n"
    );
}
