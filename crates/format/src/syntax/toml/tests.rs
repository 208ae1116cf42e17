//! Contract tests for the TOML syntax: fixtures in `testdata/toml/`, unit
//! tests of the tree (spans, typing, comment placement, errors, metadata,
//! emit) and property tests over generated documents.

#![allow(clippy::unwrap_used, clippy::panic)]

use super::Toml;
use crate::syntax::conformance::{plain, roundtrip, sample_metadata, shape};
use crate::syntax::Syntax;
use crate::tree::{Entry, Item, Node, Tree, Value};

fn fixtures() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/toml");
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn fixtures_roundtrip() {
    let all = fixtures();
    assert!(all.len() >= 10);
    for (name, src) in all {
        if let Err(e) = roundtrip(&Toml, &src) {
            panic!("{name}: {e}");
        }
    }
}

#[test]
fn fixtures_emit_reparses_to_same_values() {
    for (name, src) in fixtures() {
        let tree = Toml.parse(&src).unwrap().tree;
        let text = Toml.emit(&tree).unwrap();
        let again = Toml
            .parse(&text)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        assert_eq!(canon(&again.tree), canon(&tree), "{name}:\n{text}");
    }
}

/// Values in key order (emit reorders scalars before tables).
fn canon(tree: &Tree) -> String {
    fn node(n: &Node) -> String {
        match n {
            Node::Map(entries) => {
                let mut parts: Vec<String> = entries
                    .iter()
                    .filter_map(|e| match e {
                        Entry::Pair(p) => Some(format!("{:?}={}", p.key, node(&p.value))),
                        Entry::Comment(_) => None,
                    })
                    .collect();
                parts.sort();
                format!("{{{}}}", parts.join(","))
            }
            Node::Seq(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .filter_map(|i| match i {
                        Item::Node(n) => Some(node(n)),
                        Item::Comment(_) => None,
                    })
                    .collect();
                format!("[{}]", parts.join(","))
            }
            Node::Scalar(s) => format!("{}:{:?}", s.value.sops_type(), s.value.sops_text()),
            Node::Alias(inner) => node(inner),
        }
    }
    tree.docs.iter().map(node).collect()
}

fn root(src: &str) -> Node {
    let mut parsed = Toml.parse(src).unwrap();
    parsed.tree.docs.remove(0)
}

fn scalar<'a>(n: &'a Node, path: &[&str]) -> &'a crate::tree::Scalar {
    let mut cur = n;
    for k in path {
        cur = cur.get(k).unwrap_or_else(|| panic!("no {k}"));
    }
    match cur {
        Node::Scalar(s) => s,
        _ => panic!("not a scalar"),
    }
}

#[test]
fn spans_cover_the_whole_lexeme() {
    let src = "a = \"x\"\nb = '''\nmulti\n'''\n[t]\nc.d = 0x1F # c\n";
    let r = root(src);
    for (path, text) in [
        (&["a"][..], "\"x\""),
        (&["b"][..], "'''\nmulti\n'''"),
        (&["t", "c", "d"][..], "0x1F"),
    ] {
        let s = scalar(&r, path);
        assert_eq!(&src[s.span.clone().unwrap()], text);
        assert_eq!(s.slot, crate::tree::Slot::Quoted);
    }
}

#[test]
fn values_are_typed_like_sops() {
    let src = "s = 'x'\ni = 0o17\nbig = -99999999999999999999\nf = 1e3\nn = -nan\nb = false\n\
               odt = 1979-05-27 07:32:00.120+00:00\nld = 1979-05-27\nlt = 07:32:00\n";
    let r = root(src);
    let v = |k: &str| scalar(&r, &[k]).value.clone();
    assert!(v("s") == Value::Str("x".into()));
    assert!(v("i") == Value::Int(15));
    assert!(v("big") == Value::Float(-1e20));
    assert!(v("f") == Value::Float(1000.0));
    assert!(matches!(v("n"), Value::Float(x) if x.is_nan()));
    assert!(v("b") == Value::Bool(false));
    assert!(v("odt") == Value::Time("1979-05-27T07:32:00.12Z".into()));
    assert!(v("ld") == Value::Time("1979-05-27".into()));
    assert!(v("lt") == Value::Time("07:32:00".into()));
}

#[test]
fn tables_are_ordered_by_first_appearance() {
    let r = root("[a.b]\nx = 1\n[c]\n[a]\ny = 2\n");
    assert_eq!(
        shape(&Tree::new(vec![r])),
        r#"{"a":{"b":{"x":s,},"y":s,},"c":{},}---"#
    );
}

#[test]
fn logical_structure_merges_dotted_keys_and_headers() {
    let r = root("a.x = 1\n[a.y]\nz = 2\n[[p]]\nq = 1\n[p.s]\nt = 1\n[[p]]\n");
    assert_eq!(
        shape(&Tree::new(vec![r])),
        r#"{"a":{"x":s,"y":{"z":s,},},"p":[{"q":s,"s":{"t":s,},},{},],}---"#
    );
}

/// The comments of a map, in order.
fn comments_of(n: &Node) -> Vec<String> {
    match n {
        Node::Map(entries) => entries
            .iter()
            .filter_map(|e| match e {
                Entry::Comment(c) => Some(c.text.clone()),
                Entry::Pair(_) => None,
            })
            .collect(),
        Node::Seq(items) => items
            .iter()
            .filter_map(|i| match i {
                Item::Comment(c) => Some(c.text.clone()),
                Item::Node(_) => None,
            })
            .collect(),
        _ => vec![],
    }
}

#[test]
fn comments_are_placed_in_their_container() {
    let src = "# top\nk = 1 # k\nd.e = 2 # d\narr = [ # a\n 1, # one\n {x = 1}, [2, # two\n ]]\n\
               # before t\n[t] # header\nv = 1\n# end t\n# before l\n[[l]]\n# in l\n";
    let r = root(src);
    assert_eq!(comments_of(&r), [" top", " k", " d"]);
    assert_eq!(comments_of(r.get("arr").unwrap()), [" a", " one"]);
    let Some(Node::Seq(items)) = r.get("arr") else {
        panic!()
    };
    assert!(matches!(items.last(), Some(Item::Node(inner)) if comments_of(inner) == [" two"]));
    assert_eq!(comments_of(r.get("t").unwrap()), [" before t", " header"]);
    let Some(Node::Seq(list)) = r.get("l") else {
        panic!()
    };
    let Some(Item::Node(first)) = list.first() else {
        panic!()
    };
    // Whole-line comments just above a header belong to that header's table.
    assert_eq!(comments_of(first), [" end t", " before l", " in l"]);
    // Comments sit among the entries in document order.
    let Node::Map(entries) = r.get("t").unwrap() else {
        panic!()
    };
    assert!(matches!(entries.get(2), Some(Entry::Pair(p)) if p.key == "v"));
}

#[test]
fn errors_have_position_and_no_values() {
    for (src, line, column) in [
        ("a = 1\nb = secretvalue\n", 2, 5),
        ("a = \"secret\nb = 1", 1, 12),
        ("a = 1\na = 2\n", 2, 1),
        ("[t]\nx = 1\n[t]\n", 3, 2),
    ] {
        let Err(e) = Toml.parse(src) else {
            panic!("{src:?} parsed")
        };
        assert_eq!((e.line, e.column), (line, column), "{src:?}: {e}");
        assert!(!e.message.contains("secret"), "{e}");
        assert!(!e.message.contains('\n'), "{e}");
    }
}

#[test]
fn misplaced_or_inline_sops_is_an_error() {
    for src in [
        "[sops]\nversion = \"1\"\n[data]\nx = 1\n",
        "sops = { version = \"1\" }\n",
        "sops.version = \"1\"\n",
        "[[sops]]\n",
    ] {
        assert!(Toml.parse(src).is_err(), "{src}");
    }
}

#[test]
fn metadata_layout_and_exact_removal() {
    let meta = sample_metadata();
    for (src, sep) in [
        ("a = 1\n", "\n"),
        ("a = 1", "\n"),
        ("", "\n"),
        ("a = 1\r\n", "\r\n"),
        ("[[x]]\ny = [1,\n 2]\n", "\n"),
    ] {
        let parsed = Toml.parse(src).unwrap();
        let edits = Toml.insert_metadata(src, &parsed, &meta).unwrap();
        let out = crate::splice::splice(src, edits).unwrap();
        assert!(out.starts_with(src));
        let added = &out[src.len()..];
        assert!(added.starts_with(&format!("{sep}[sops]{sep}")), "{added:?}");
        if sep == "\r\n" {
            assert!(!added.replace("\r\n", "").contains('\n'), "{added:?}");
        }
        let again = Toml.parse(&out).unwrap();
        assert_eq!(plain(again.metadata.as_ref().unwrap()), plain(&meta));
        assert_eq!(again.metadata_spans, vec![src.len()..out.len()]);
        // Adding metadata twice is refused.
        assert!(Toml.insert_metadata(&out, &again, &meta).is_err());
    }
    let out = {
        let parsed = Toml.parse("a = 1\n").unwrap();
        let edits = Toml.insert_metadata("a = 1\n", &parsed, &meta).unwrap();
        crate::splice::splice("a = 1\n", edits).unwrap()
    };
    assert_eq!(
        out,
        "a = 1\n\n[sops]\nlastmodified = \"2026-11-22T03:51:54Z\"\n\
         mac = \"ENC[AES256_GCM,data:Br5H,iv:qIis,tag:31kI3NDPioUNCf1SxIpkDQ==,type:str]\"\n\
         unencrypted_suffix = \"_unencrypted\"\nversion = \"3.11.0\"\n\n[[sops.age]]\n\
         recipient = \"age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\"\n\
         enc = \"\"\"\n-----BEGIN AGE ENCRYPTED FILE-----\n\
         YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSB1QnZ0V1pWWEJuY1d0V01p\nZz09\n\
         -----END AGE ENCRYPTED FILE-----\n\"\"\"\n"
    );
}

#[test]
fn comments_before_the_sops_table_stay_data() {
    let src = "a = 1\n# trailing comment\n";
    let parsed = Toml.parse(src).unwrap();
    let edits = Toml
        .insert_metadata(src, &parsed, &sample_metadata())
        .unwrap();
    let out = crate::splice::splice(src, edits).unwrap();
    let again = Toml.parse(&out).unwrap();
    assert_eq!(comments_of(&again.tree.docs[0]), [" trailing comment"]);
}

#[test]
fn nested_metadata_shapes() {
    // In sops's order (key groups: kms before hc_vault).
    let group = Node::map([
        (
            "kms".to_string(),
            Node::Seq(vec![Item::Node(Node::map([
                ("arn".to_string(), Node::str("arn:aws:kms:x")),
                (
                    "context".to_string(),
                    Node::map([("Key".to_string(), Node::str("v"))]),
                ),
            ]))]),
        ),
        ("hc_vault".to_string(), Node::Seq(vec![])),
    ]);
    let meta = Node::map([
        ("shamir_threshold".to_string(), Node::value(Value::Int(2))),
        (
            "key_groups".to_string(),
            Node::Seq(vec![Item::Node(group.clone()), Item::Node(group)]),
        ),
        (
            "mac_only_encrypted".to_string(),
            Node::value(Value::Bool(true)),
        ),
    ]);
    let src = "[[x]]\n";
    let parsed = Toml.parse(src).unwrap();
    let out =
        crate::splice::splice(src, Toml.insert_metadata(src, &parsed, &meta).unwrap()).unwrap();
    let again = Toml.parse(&out).unwrap();
    assert_eq!(
        plain(again.metadata.as_ref().unwrap()),
        plain(&meta),
        "{out}"
    );
}

#[test]
fn emit_orders_and_rejects_null() {
    let tree = Tree::new(vec![Node::map([
        (
            "t".to_string(),
            Node::map([("k".to_string(), Node::str("v"))]),
        ),
        ("s".to_string(), Node::str("line\nbreak")),
        (
            "list".to_string(),
            Node::Seq(vec![
                Item::Node(Node::value(Value::Int(1))),
                Item::Node(Node::map([(
                    "a".to_string(),
                    Node::value(Value::Bool(true)),
                )])),
            ]),
        ),
        (
            "aot".to_string(),
            Node::Seq(vec![Item::Node(Node::map([(
                "when".to_string(),
                Node::value(Value::Time("2024-01-02T00:00:00Z".into())),
            )]))]),
        ),
        (
            "deep".to_string(),
            Node::map([(
                "er".to_string(),
                Node::map([("f".to_string(), Node::value(Value::Float(2.0)))]),
            )]),
        ),
    ])]);
    let text = Toml.emit(&tree).unwrap();
    assert_eq!(
        text,
        "s = \"\"\"\nline\nbreak\"\"\"\nlist = [1, { a = true }]\n\n[t]\nk = \"v\"\n\n\
         [[aot]]\nwhen = 2024-01-02T00:00:00Z\n\n[deep.er]\nf = 2.0\n"
    );
    assert_eq!(canon(&Toml.parse(&text).unwrap().tree), canon(&tree));

    let null = Tree::new(vec![Node::map([(
        "a".to_string(),
        Node::map([("b".to_string(), Node::value(Value::Null))]),
    )])]);
    let err = Toml.emit(&null).unwrap_err();
    assert_eq!(err.0, "null value at a.b cannot be written as TOML");
    assert!(Toml.emit(&Tree::new(vec![Node::str("x")])).is_err());
    assert_eq!(Toml.emit(&Tree::new(vec![Node::Map(vec![])])).unwrap(), "");
}

#[test]
fn enc_and_value_lexemes() {
    assert_eq!(
        Toml.enc_lexeme(crate::tree::Slot::Quoted, "ENC[x]"),
        "\"ENC[x]\""
    );
    let src = format!(
        "v = {}",
        Toml.value_lexeme(crate::tree::Slot::Quoted, &Value::Float(3.0))
    );
    assert!(scalar(&root(&src), &["v"]).value == Value::Float(3.0));
}

/// Generated documents: every kind of value, comments in every place,
/// tables, arrays of tables, dotted keys, CRLF, BOM, no final newline.
pub(crate) mod generated {
    use super::super::scalar::basic_string;
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum V {
        Scalar(String),
        /// Items; laid out over several lines with comments when `true`.
        Array(Vec<V>, bool),
        Inline(Vec<V>),
    }

    #[derive(Debug, Clone)]
    enum Line {
        Kv(V, Option<String>),
        Dotted(V, V),
        Comment(String),
        Blank,
    }

    #[derive(Debug, Clone)]
    struct Section {
        array: bool,
        repeat: usize,
        before: Option<String>,
        on_header: Option<String>,
        lines: Vec<Line>,
    }

    #[derive(Debug, Clone)]
    struct Doc {
        root: Vec<Line>,
        sections: Vec<Section>,
        crlf: bool,
        bom: bool,
        final_newline: bool,
    }

    fn comment() -> impl Strategy<Value = String> {
        "[ a-zA-Z#\"'=\\[]{0,10}"
    }

    fn scalar() -> impl Strategy<Value = String> {
        let fixed = prop::sample::select(vec![
            "1",
            "0x1F",
            "+99",
            "-17",
            "1_000",
            "0o17",
            "0b101",
            "99999999999999999999",
            "-9223372036854775808",
            "3.14",
            "-0.0",
            "5e+22",
            "inf",
            "-nan",
            "true",
            "false",
            "1979-05-27T07:32:00Z",
            "1979-05-27 00:32:00.5-07:00",
            "1979-05-27",
            "07:32:00",
            "1979-05-27T07:32:00",
            "\"\"",
            "''",
            "\"a\\tb\\u00E9\\\"\"",
        ])
        .prop_map(str::to_string);
        prop_oneof![
            fixed,
            any::<String>().prop_map(|s| basic_string(&s)),
            "[a-z #\"]{0,8}".prop_map(|s| format!("'{s}'")),
            "[a-z #'\n]{0,12}".prop_map(|s| format!("\"\"\"{s}\"\"\"")),
            "[a-z #\"\n]{0,12}".prop_map(|s| format!("'''{s}'''")),
        ]
    }

    fn value() -> impl Strategy<Value = V> {
        scalar()
            .prop_map(V::Scalar)
            .prop_recursive(3, 16, 4, |inner| {
                prop_oneof![
                    (prop::collection::vec(inner.clone(), 0..4), any::<bool>())
                        .prop_map(|(items, multi)| V::Array(items, multi)),
                    prop::collection::vec(inner, 0..3).prop_map(V::Inline),
                ]
            })
    }

    fn line() -> impl Strategy<Value = Line> {
        prop_oneof![
            4 => (value(), prop::option::of(comment())).prop_map(|(v, c)| Line::Kv(v, c)),
            1 => (value(), value()).prop_map(|(a, b)| Line::Dotted(a, b)),
            1 => comment().prop_map(Line::Comment),
            1 => Just(Line::Blank),
        ]
    }

    fn section() -> impl Strategy<Value = Section> {
        (
            any::<bool>(),
            1..3usize,
            prop::option::of(comment()),
            prop::option::of(comment()),
            prop::collection::vec(line(), 0..4),
        )
            .prop_map(|(array, repeat, before, on_header, lines)| Section {
                array,
                repeat,
                before,
                on_header,
                lines,
            })
    }

    fn doc() -> impl Strategy<Value = Doc> {
        (
            prop::collection::vec(line(), 0..5),
            prop::collection::vec(section(), 0..4),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(root, sections, crlf, bom, final_newline)| Doc {
                root,
                sections,
                crlf,
                bom,
                final_newline,
            })
    }

    struct Render {
        out: String,
        next: usize,
    }

    impl Render {
        fn key(&mut self) -> String {
            self.next += 1;
            format!("k{}", self.next)
        }

        fn value(&mut self, v: &V) {
            match v {
                V::Scalar(s) => self.out.push_str(s),
                V::Array(items, multi) => {
                    self.out.push('[');
                    for item in items {
                        if *multi {
                            self.out.push_str(" # in array\n  ");
                        }
                        self.value(item);
                        self.out.push_str(", ");
                    }
                    if *multi {
                        self.out.push_str("# last\n");
                    }
                    self.out.push(']');
                }
                V::Inline(items) => {
                    self.out.push('{');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            self.out.push(',');
                        }
                        let k = self.key();
                        self.out.push_str(&format!(" {k} = "));
                        self.value(item);
                    }
                    self.out.push_str(" }");
                }
            }
        }

        fn lines(&mut self, lines: &[Line]) {
            for l in lines {
                match l {
                    Line::Kv(v, c) => {
                        let k = self.key();
                        self.out.push_str(&format!("{k} = "));
                        self.value(v);
                        if let Some(c) = c {
                            self.out.push_str(&format!(" #{c}"));
                        }
                    }
                    Line::Dotted(a, b) => {
                        let k = self.key();
                        self.out.push_str(&format!("{k}.x = "));
                        self.value(a);
                        self.out.push_str(&format!("\n{k}.\"y.z\" = "));
                        self.value(b);
                    }
                    Line::Comment(c) => self.out.push_str(&format!("  #{c}")),
                    Line::Blank => {}
                }
                self.out.push('\n');
            }
        }
    }

    fn render(d: &Doc) -> String {
        let mut r = Render {
            out: String::new(),
            next: 0,
        };
        r.lines(&d.root);
        for s in &d.sections {
            let name = r.key();
            for _ in 0..s.repeat {
                if let Some(c) = &s.before {
                    r.out.push_str(&format!("#{c}\n"));
                }
                let (open, close) = if s.array { ("[[", "]]") } else { ("[", "]") };
                r.out.push_str(&format!("{open}{name}.sub{close}"));
                if let Some(c) = &s.on_header {
                    r.out.push_str(&format!(" #{c}"));
                }
                r.out.push('\n');
                r.lines(&s.lines);
                if !s.array {
                    break;
                }
            }
        }
        let mut text = r.out;
        if d.crlf {
            text = text.replace('\n', "\r\n");
        }
        if !d.final_newline {
            while text.ends_with('\n') {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
        }
        if d.bom {
            text.insert(0, '\u{feff}');
        }
        text
    }

    /// Generated TOML documents, as text.
    pub(crate) fn document() -> impl Strategy<Value = String> {
        doc().prop_map(|d| render(&d))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::testing::cases(256)))]

        #[test]
        fn generated_documents_roundtrip(d in doc()) {
            let src = render(&d);
            prop_assert!(Toml.parse(&src).is_ok(), "invalid generated TOML:\n{src}");
            if let Err(e) = roundtrip(&Toml, &src) {
                prop_assert!(false, "{e}");
            }
        }

        #[test]
        fn emit_reparses_to_the_same_values(d in doc()) {
            let src = render(&d);
            let tree = Toml.parse(&src).map_err(|e| TestCaseError::fail(e.to_string()))?.tree;
            let text = Toml.emit(&tree).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let again = Toml.parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(canon(&again.tree), canon(&tree), "{}", text);
        }

        #[test]
        fn parse_never_panics(src in "[a-z0-9 =\\[\\]{}.,#\"'\n\r\t-]{0,40}") {
            let _ = Toml.parse(&src);
        }
    }
}

/// A marker comment at the end of a value's line selects that value (as
/// in YAML, where sops reads it so), not the next one.
#[test]
fn line_comment_markers_select_their_own_line() {
    use crate::metadata::Selector;
    let src =
        "a = 1 # sops:enc\nb = 2\n[t]\nc = \"x\" # sops:enc\nd = \"y\"\ne = [1, # sops:enc\n  2]\n";
    let p = Toml.parse(src).unwrap();
    for (selector, want) in [
        (
            Selector::EncryptedCommentRegex("sops:enc".into()),
            vec!["1", "\"x\"", "1"],
        ),
        (
            Selector::UnencryptedCommentRegex("sops:enc".into()),
            vec!["2", "\"y\"", "2"],
        ),
    ] {
        let d = crate::select::Decider::new(&selector).unwrap();
        let mut got = Vec::new();
        crate::walk::walk(&p.tree, |place, leaf| {
            if let crate::walk::Leaf::Value(s) = leaf {
                if d.value(place.path, place.comments) {
                    got.push(&src[s.span.clone().unwrap()]);
                }
            }
        });
        assert_eq!(got, want);
    }
}

/// A comment at the end of a multi-line string's last line is on the
/// entry's line, as it is once the value is sealed on one line: a comment
/// selector picks the same value in both texts.
#[test]
fn a_comment_after_a_multi_line_string_is_the_entrys() {
    use super::parse::breaks_outside_strings as breaks;
    assert!(!breaks("k = \"\"\"a\nb\"\"\" "));
    assert!(!breaks("k = ['''a\n''', ] "));
    assert!(!breaks("k = \"\"\"a\\\"\"\"\nb\"\"\" "));
    assert!(breaks("k = 1\n"));
    assert!(breaks("k = '\"\"\"'\n"));
    assert!(breaks("k = \"\"\"a\"\"\"\n"));
}
