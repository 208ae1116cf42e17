//! Property tests: generated INI documents with the hard cases (both
//! comment markers and separators, quotes, inline comments, `"""` and
//! backtick values, continuations, DEFAULT keys, repeated sections, CRLF,
//! no final newline, a BOM) hold the format-preservation contract, and
//! every string survives `value_lexeme` and `emit`.

use super::*;
use crate::syntax::conformance::{plain, roundtrip};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ._/@=:-]{0,12}",
        Just(String::new()),
        "\"[a-z ;#]{0,6}\"",
        "'[a-z ]{0,6}'",
        "[a-z]{1,4} ?[;#] ?[a-z ]{0,6}",
        "`[a-z ;#]{0,6}`",
        "\"\"\"[a-z ;]{0,4}\"\"\"( tail)?",
        "\"\"\"[a-z]{0,4}\n[a-z ]{0,4}\n?\"\"\"( ; c)?",
        "[a-z]{1,4} \\\\\n  [a-z]{1,4}",
        "[a-z]{1,3}\\\\\n",
        "héllo 🔐[ \u{a0}]?",
    ]
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => ("[a-z][a-z0-9_ ]{0,5}", " {0,2}", prop_oneof![Just("="), Just(":")], " {0,2}", value())
            .prop_map(|(k, s1, sep, s2, v)| format!("{}{s1}{sep}{s2}{v}", k.trim_end())),
        1 => ("[;#]{1,2}", " ?", "[a-z ;#]{0,8}").prop_map(|(m, s, t)| format!("{m}{s}{t}")),
        1 => Just(String::new()),
        1 => "[ \t]{1,3}".prop_map(|s| s),
        1 => ("[a-zA-Z][a-z0-9 ._]{0,5}", "( {0,2}[;#]{1,2} ?[a-z ]{0,4})?").prop_map(|(n, c)| {
            let n = if n == "sops" { "sops2".to_string() } else { n };
            format!("[{n}]{c}")
        }),
        1 => Just("[DEFAULT]".to_string()),
        1 => Just("- = auto".to_string()),
        1 => Just("\"quoted=key\" = v".to_string()),
    ]
}

fn document() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(line(), 0..14),
        prop::bool::ANY,
        prop::bool::ANY,
        prop::bool::weighted(0.1),
    )
        .prop_map(|(lines, crlf, final_newline, bom)| {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut out = if bom {
                BOM_TEXT.to_string()
            } else {
                String::new()
            };
            for (i, l) in lines.iter().enumerate() {
                out.push_str(&l.replace('\n', eol));
                if i + 1 < lines.len() || final_newline {
                    out.push_str(eol);
                }
            }
            out
        })
}

const BOM_TEXT: &str = "\u{feff}";

type Sections = Vec<(String, Vec<(String, String)>)>;

fn sections() -> impl Strategy<Value = Sections> {
    let pairs = prop::collection::vec(
        (
            "[a-z][a-z0-9_]{0,5}",
            "[ -~\n\r\té🔐\u{a0}]{0,12}".prop_filter("no triple quote", |v| !v.contains("\"\"\"")),
        ),
        0..5,
    );
    prop::collection::vec(("[a-z][a-z0-9_.]{0,5}", pairs), 0..4)
}

fn section_tree(sections: Sections) -> Tree {
    {
        let mut top = vec![("DEFAULT".to_string(), Node::map([]))];
        for (name, pairs) in sections {
            let name = if name == "sops" { "sops2".into() } else { name };
            top.push((
                name,
                Node::map(pairs.into_iter().map(|(k, v)| (k, Node::str(v)))),
            ));
        }
        Tree::new(vec![Node::map(top)])
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::testing::cases(256)))]

    #[test]
    fn generated_documents_hold_the_contract(src in document()) {
        if Ini.parse(&src).is_ok() {
            if let Err(e) = roundtrip(&Ini, &src) {
                prop_assert!(false, "{}", e);
            }
        }
    }

    #[test]
    fn generated_documents_mostly_parse(src in document()) {
        // Only an unterminated multi-line quote may fail.
        if let Err(e) = Ini.parse(&src) {
            prop_assert!(e.message.contains("missing closing"), "{}: {:?}", e, src);
        }
    }

    #[test]
    fn emit_then_parse_keeps_every_value(raw in sections()) {
        let tree = section_tree(raw);
        let text = Ini.emit(&tree).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = Ini.parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(plain(&back.tree.docs[0]), plain(&tree.docs[0]), "{}", text);
        prop_assert!(roundtrip(&Ini, &text).is_ok());
    }
}
