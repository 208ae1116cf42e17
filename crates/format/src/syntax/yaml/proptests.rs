//! Property test: random YAML documents built from the hard pieces
//! (nesting, scalar styles, comments, blank lines, indentation widths,
//! flow collections, anchors, multi-document streams, CRLF, BOM, missing
//! final newline) satisfy the conformance contract.

use proptest::prelude::*;

use super::Yaml;
use crate::syntax::conformance::roundtrip;

/// A scalar in block context (one line, or a block scalar body).
fn block_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9 ]{0,8}[a-z0-9]".prop_map(|s| s),
        Just("42".to_string()),
        Just("-1.5e3".to_string()),
        Just("true".to_string()),
        Just("~".to_string()),
        Just("2024-01-02".to_string()),
        Just("".to_string()),
        Just("'single ''quoted'''".to_string()),
        Just("\"double \\\"q\\\" \\n é🎉\"".to_string()),
        Just("!!str 12".to_string()),
        Just("|\n{i}  line one\n{i}  line two".to_string()),
        Just(">-\n{i}  folded\n{i}  text\n".to_string()),
        Just("|+ # header comment\n{i}  keep\n".to_string()),
        Just("plain\n{i}  continued".to_string()),
        Just("\"multi\n{i}  line\"".to_string()),
    ]
}

fn flow_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,6}".prop_map(|s| s),
        Just("7".to_string()),
        Just("\"q, x\"".to_string()),
        Just("'s'".to_string()),
        Just("null".to_string()),
    ]
}

fn flow() -> impl Strategy<Value = String> {
    prop::collection::vec(flow_scalar(), 0..4).prop_flat_map(|items| {
        prop_oneof![
            Just(format!("[{}]", items.join(", "))),
            Just(format!(
                "{{{}}}",
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| format!("k{i}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        ]
    })
}

#[derive(Clone, Debug)]
enum Tree {
    Scalar(String),
    Flow(String),
    Map(Vec<(String, Tree)>),
    Seq(Vec<Tree>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        4 => block_scalar().prop_map(Tree::Scalar),
        1 => flow().prop_map(Tree::Flow),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(("[a-z]{1,5}", inner.clone()), 1..4).prop_map(Tree::Map),
            prop::collection::vec(inner, 1..4).prop_map(Tree::Seq),
        ]
    })
}

#[derive(Clone, Debug)]
struct Style {
    width: usize,
    comments: bool,
    blank: bool,
}

fn render(t: &Tree, indent: usize, st: &Style, n: &mut usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match t {
        Tree::Map(entries) => {
            for (k, v) in entries {
                *n += 1;
                if st.comments && (*n).is_multiple_of(3) {
                    out.push_str(&format!("{pad}# head {n}\n"));
                }
                if st.blank && (*n).is_multiple_of(4) {
                    out.push('\n');
                }
                out.push_str(&format!("{pad}{k}{n}:"));
                value(v, indent, st, n, out);
            }
        }
        Tree::Seq(items) => {
            for v in items {
                *n += 1;
                if st.comments && *n % 3 == 1 {
                    out.push_str(&format!("{pad}# item {n}\n"));
                }
                out.push_str(&format!("{pad}-"));
                value(v, indent, st, n, out);
            }
        }
        Tree::Scalar(_) | Tree::Flow(_) => value(t, indent, st, n, out),
    }
}

fn value(v: &Tree, indent: usize, st: &Style, n: &mut usize, out: &mut String) {
    let child = indent + st.width;
    match v {
        Tree::Scalar(s) => {
            let s = s.replace("{i}", &" ".repeat(indent));
            if s.is_empty() {
                out.push('\n');
            } else {
                out.push(' ');
                out.push_str(&s);
                if st.comments && (*n).is_multiple_of(2) && !s.contains('\n') {
                    out.push_str(&format!("  # inline {n}"));
                }
                out.push('\n');
            }
        }
        Tree::Flow(f) => {
            *n += 1;
            if (*n).is_multiple_of(5) {
                out.push_str(&format!(" &a{n}"));
            }
            out.push_str(&format!(" {f}\n"));
        }
        Tree::Map(_) | Tree::Seq(_) => {
            out.push('\n');
            render(v, child, st, n, out);
        }
    }
}

pub(crate) fn document() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(("[a-z]{1,5}", tree()), 1..4),
        1usize..5,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(entries, width, comments, blank)| {
            let st = Style {
                width,
                comments,
                blank,
            };
            let mut out = String::new();
            let mut n = 0;
            render(&Tree::Map(entries), 0, &st, &mut n, &mut out);
            if comments {
                out.push_str("# trailing\n");
            }
            out
        })
}

fn stream() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(document(), 1..3),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(docs, crlf, bom, no_final_newline, end_markers)| {
            let mut out = String::new();
            for (i, d) in docs.iter().enumerate() {
                if i > 0 || end_markers {
                    out.push_str("---\n");
                }
                out.push_str(d);
                if end_markers {
                    out.push_str("...\n");
                }
            }
            if no_final_newline {
                while out.ends_with('\n') {
                    out.pop();
                }
            }
            if crlf {
                out = out.replace('\n', "\r\n");
            }
            if bom {
                out.insert(0, '\u{feff}');
            }
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::testing::cases(256)))]

    /// A document parsed in two halves is the document parsed whole, at
    /// every cut (see `split`).
    #[test]
    fn split_parse_equals_whole_parse(src in document(), crlf in any::<bool>(), bom in any::<bool>()) {
        let mut src = if crlf { src.replace('\n', "\r\n") } else { src };
        if bom {
            src.insert(0, '\u{feff}');
        }
        super::split::check_every_cut(&src);
    }

    #[test]
    fn generated_streams_roundtrip(src in stream()) {
        // Only valid YAML is in scope: the generator can produce a few
        // invalid combinations (e.g. an anchor before a block scalar).
        if let Ok(_parsed) = crate::syntax::Syntax::parse(&Yaml, &src) {
            if let Err(e) = roundtrip(&Yaml, &src) {
                prop_assert!(false, "{}\n--- source ---\n{:?}", e, src);
            }
        }
    }
}

#[test]
fn most_generated_streams_are_valid() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = stream();
    let mut valid = 0;
    for _ in 0..200 {
        let src = strategy.new_tree(&mut runner).unwrap().current();
        if crate::syntax::Syntax::parse(&Yaml, &src).is_ok() {
            valid += 1;
            if std::env::var("SHOW_VALID").is_ok() && valid < 3 {
                println!("{src}\n=====");
            }
        } else if std::env::var("SHOW_INVALID").is_ok() {
            println!("{src:?}");
        }
    }
    assert!(
        valid > 120,
        "only {valid}/200 generated streams are valid YAML"
    );
}
