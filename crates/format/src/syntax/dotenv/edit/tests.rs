//! Tests of `set`/`unset` on .env files.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::syntax::dotenv::{Dotenv, SopsDotenv};
use crate::syntax::edit::check::{path, remove, remove_leaf, set, set_leaf, NewVal};
use crate::syntax::Syntax;
use crate::tree::{Node, Value};

const DOC: &str = "# c\nA=1\nexport B=\"two words\"\n\nC=x # not a comment\n";

#[test]
fn replaces_adds_and_removes_lines() {
    let s = Node::str;
    assert_eq!(
        set(&Dotenv, DOC, &path(&["A"]), &s("9")),
        DOC.replace("A=1", "A=9")
    );
    assert_eq!(
        set(&Dotenv, DOC, &path(&["export B"]), &s("a\nb")),
        DOC.replace("\"two words\"", "a\\nb")
    );
    assert_eq!(
        set(&Dotenv, DOC, &path(&["D"]), &s("new")),
        format!("{DOC}D=new\n")
    );
    assert_eq!(
        set(&Dotenv, "A=1", &path(&["D"]), &Node::value(Value::Int(4))),
        "A=1\nD=4"
    );
    assert_eq!(
        set(&Dotenv, "A=1\r\n", &path(&["D"]), &s("v")),
        "A=1\r\nD=v\r\n"
    );
    assert_eq!(set(&Dotenv, "", &path(&["D"]), &s("v")), "D=v\n");
    assert_eq!(set(&Dotenv, DOC, &path(&["A"]), &s("1")), DOC);
    assert_eq!(
        remove(&Dotenv, DOC, &path(&["A"])).unwrap(),
        DOC.replace("A=1\n", "")
    );
    assert_eq!(remove(&Dotenv, "A=1\nB=2", &path(&["B"])).unwrap(), "A=1");
    assert_eq!(remove(&Dotenv, "A=1\n", &path(&["A"])).unwrap(), "");
    // Of duplicate keys, the first (as sops): one `unset` a line.
    assert_eq!(
        remove(&Dotenv, "A=1\nA=2\n", &path(&["A"])).unwrap(),
        "A=2\n"
    );
    assert_eq!(
        set(&Dotenv, "A=1\nA=2\n", &path(&["A"]), &s("9")),
        "A=9\nA=2\n"
    );
    assert!(remove(&Dotenv, DOC, &path(&["Z"])).is_none());
}

#[test]
fn refuses_what_a_env_file_cannot_hold() {
    let p = Dotenv.parse(DOC).unwrap();
    let map = Node::map([("k".to_string(), Node::str("v"))]);
    assert!(Dotenv.set_value(DOC, &p, &path(&["M"]), &map).is_err());
    // A path below a key (existing or not) is refused as what a .env
    // file cannot hold, not as a missing mapping.
    for nested in [["A", "b"], ["X", "y"]] {
        let err = Dotenv
            .set_value(DOC, &p, &path(&nested), &Node::str("v"))
            .unwrap_err();
        assert!(err.0.contains("holds only string values"), "{err}");
    }
    assert!(Dotenv
        .set_value(DOC, &p, &path(&["K=V"]), &Node::str("v"))
        .is_err());
    assert!(Dotenv
        .set_value(DOC, &p, &path(&["sops_mac"]), &Node::str("v"))
        .is_err());
    // A value that would read back differently is refused: here its open
    // quote would run to the quote of the comment after it.
    let doc = "A=1\n# a \"quote\"\nB=2\n";
    let p = Dotenv.parse(doc).unwrap();
    let err = Dotenv
        .set_value(doc, &p, &path(&["A"]), &Node::str("\"open secret"))
        .unwrap_err();
    assert!(!err.0.contains("secret"));
    // Read line by line as sops reads it, the same value is one line.
    let p = SopsDotenv.parse(doc).unwrap();
    assert_eq!(
        set(&SopsDotenv, doc, &path(&["A"]), &Node::str("\"open secret")),
        doc.replace("A=1", "A=\"open secret")
    );
    assert_eq!(p.tree.docs.len(), 1);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn set_and_remove_change_only_their_line(
            keys in prop::collection::btree_set("[A-Z_]{1,6}", 1..6),
            values in prop::collection::vec("[a-z =#'\"]{0,8}", 6),
            pick in any::<prop::sample::Index>(),
            new in "[a-z =#']{0,8}",
            final_newline in any::<bool>(),
        ) {
            let keys: Vec<String> = keys.into_iter().collect();
            let mut src = String::new();
            for (k, v) in keys.iter().zip(&values) {
                let v = if v.matches('"').count() % 2 == 1 { v.replace('"', "") } else { v.clone() };
                src.push_str(&format!("# about {k}\n{k}={v}\n"));
            }
            if !final_newline {
                src.pop();
            }
            prop_assume!(Dotenv.parse(&src).is_ok());
            let p = path(&[keys[pick.index(keys.len())].as_str()]);
            let parsed = Dotenv.parse(&src).unwrap();
            let target = NewVal::Str(new);
            if Dotenv.set_value(&src, &parsed, &p, &target.node()).is_ok() {
                set_leaf(&Dotenv, &src, &p, &target.node());
            }
            remove_leaf(&Dotenv, &src, &p);
        }
    }
}
