//! Tests of `set`/`unset` on INI files.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::syntax::edit::check::{leaf_paths, path, remove, remove_leaf, set, set_leaf, NewVal};
use crate::syntax::ini::Ini;
use crate::syntax::Syntax;
use crate::tree::{Node, Value};

const DOC: &str = "top = 1\n\n[a]\n; about x\nx = 1 ; inline\ny = two\n\n[b]\nz=3\n";

#[test]
fn replaces_adds_and_removes_lines() {
    let s = Node::str;
    assert_eq!(
        set(&Ini, DOC, &path(&["a", "x"]), &s("9")),
        DOC.replace("x = 1", "x = 9")
    );
    assert_eq!(
        set(&Ini, DOC, &path(&["a", "y"]), &s("has # hash")),
        DOC.replace("y = two", "y = `has # hash`")
    );
    assert_eq!(
        set(
            &Ini,
            DOC,
            &path(&["a", "n"]),
            &Node::value(Value::Bool(true))
        ),
        DOC.replace("y = two\n", "y = two\nn = true\n")
    );
    assert_eq!(
        set(&Ini, DOC, &path(&["DEFAULT", "t2"]), &s("v")),
        DOC.replace("top = 1\n", "top = 1\nt2 = v\n")
    );
    assert_eq!(
        set(&Ini, DOC, &path(&["c", "k"]), &s("v")),
        format!("{DOC}\n[c]\nk = v\n")
    );
    assert_eq!(
        set(&Ini, "[a]\r\nk=1", &path(&["a", "j"]), &s("v")),
        "[a]\r\nk=1\r\nj=v"
    );
    assert_eq!(
        set(
            &Ini,
            DOC,
            &path(&["d"]),
            &Node::map([("p".to_string(), s("q"))])
        ),
        format!("{DOC}\n[d]\np = q\n")
    );
    assert_eq!(set(&Ini, DOC, &path(&["a", "y"]), &s("two")), DOC);
    assert_eq!(
        remove(&Ini, DOC, &path(&["a", "x"])).unwrap(),
        DOC.replace("x = 1 ; inline\n", "")
    );
    assert_eq!(
        remove(&Ini, DOC, &path(&["b"])).unwrap(),
        DOC.replace("[b]\nz=3\n", "")
    );
    assert_eq!(
        remove(&Ini, "[a]\nk=1\nj=2", &path(&["a", "j"])).unwrap(),
        "[a]\nk=1"
    );
    assert_eq!(
        remove(&Ini, "[a]\nk=1\n", &path(&["a", "k"])).unwrap(),
        "[a]\n"
    );
    assert!(remove(&Ini, DOC, &path(&["a", "nope"])).is_none());
    assert!(remove(&Ini, DOC, &path(&["nope"])).is_none());
}

#[test]
fn refuses_what_ini_cannot_hold() {
    let p = Ini.parse(DOC).unwrap();
    let s = Node::str;
    assert!(Ini
        .set_value(DOC, &p, &path(&["a", "x", "deep"]), &s("v"))
        .is_err());
    assert!(Ini.set_value(DOC, &p, &path(&["a"]), &s("v")).is_err());
    assert!(Ini
        .set_value(DOC, &p, &path(&["sops", "k"]), &s("v"))
        .is_err());
    assert!(Ini
        .set_value(
            DOC,
            &p,
            &path(&["a", "x"]),
            &Node::map([("k".to_string(), s("v"))])
        )
        .is_err());
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn set_and_remove_change_only_their_line(
            sections in prop::collection::vec(
                prop::collection::btree_map("[a-z]{1,4}", "[a-z0-9 ]{0,6}", 1..4), 1..4),
            pick in any::<prop::sample::Index>(),
            new in prop_oneof![
                "[a-z #;=\"'`]{0,8}".prop_map(NewVal::Str),
                any::<i64>().prop_map(|i| NewVal::Str(i.to_string())),
            ],
            crlf in any::<bool>(),
        ) {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut src = String::new();
            for (i, keys) in sections.iter().enumerate() {
                src.push_str(&format!("[s{i}]{eol}; comment{eol}"));
                for (k, v) in keys {
                    src.push_str(&format!("{k} = {v}{eol}"));
                }
                src.push_str(eol);
            }
            let parsed = Ini.parse(&src).unwrap();
            let paths = leaf_paths(&parsed.tree.docs[0]);
            let p = &paths[pick.index(paths.len())];
            set_leaf(&Ini, &src, p, &new.node());
            remove_leaf(&Ini, &src, p);
        }
    }
}
