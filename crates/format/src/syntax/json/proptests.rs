//! Property tests: random JSON documents with random whitespace, escapes,
//! numbers and layout hold the conformance contract, parse to the values
//! they were built from, and survive `emit`.
#![allow(clippy::unwrap_used, clippy::panic)]

use super::Json;
use crate::syntax::conformance::{plain, roundtrip};
use crate::syntax::Syntax;
use crate::tree::{Entry, Item, Node, Slot, Tree, Value};
use crate::walk::{walk, Leaf};
use proptest::prelude::*;

/// What a generated document means.
#[derive(Clone, Debug)]
pub(crate) enum Model {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Seq(Vec<Model>),
    Map(Vec<(String, Model)>),
}

/// Whether every number of `m` is finite (JSON can hold it).
fn finite(m: &Model) -> bool {
    match m {
        Model::Num(f) => f.is_finite(),
        Model::Seq(items) => items.iter().all(finite),
        Model::Map(pairs) => pairs.iter().all(|(_, v)| finite(v)),
        _ => true,
    }
}

/// A generated document: its text and its meaning.
pub(crate) type Gen = (String, Model);

fn ws() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof!["", " ", "\t", "\n", "\r\n", "    ", "\n\t\t"],
        0..3,
    )
    .prop_map(|parts| parts.concat())
}

/// A string lexeme (quotes included) and its decoded text, with each
/// character written raw, as a short escape or as a `\u` escape.
fn string() -> impl Strategy<Value = (String, String)> {
    let ch = prop_oneof![
        4 => prop::char::range('a', 'z'),
        1 => prop::sample::select(vec![
            '"', '\\', '/', '\u{0}', '\u{8}', '\u{c}', '\n', '\r', '\t', '\u{1f}', '\u{7f}', '<',
            '>', '&', ' ', 'é', '日', '🎉', '\u{2028}', '\u{2029}', '\u{ffff}', '\u{10ffff}',
        ]),
        1 => any::<char>(),
    ];
    prop::collection::vec((ch, 0..4u8), 0..12).prop_map(|chars| {
        let mut lexeme = String::from("\"");
        let mut text = String::new();
        for (c, style) in chars {
            text.push(c);
            let short = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '/' => Some("\\/"),
                '\u{8}' => Some("\\b"),
                '\u{c}' => Some("\\f"),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                _ => None,
            };
            let must_escape = matches!(c, '"' | '\\' | '\u{0}'..='\u{1f}');
            match (style, short) {
                (0, _) if !must_escape => lexeme.push(c),
                (1, Some(esc)) => lexeme.push_str(esc),
                _ => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        if style == 3 {
                            lexeme.push_str(&format!("\\u{unit:04X}"));
                        } else {
                            lexeme.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                }
            }
        }
        lexeme.push('"');
        (lexeme, text)
    })
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?(0|[1-9][0-9]{0,3})",
        "-?(0|[1-9][0-9]{0,40})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?",
    ]
}

fn scalar() -> impl Strategy<Value = Gen> {
    prop_oneof![
        Just(("null".to_string(), Model::Null)),
        any::<bool>().prop_map(|b| (b.to_string(), Model::Bool(b))),
        number().prop_map(|n| {
            let f = n.parse::<f64>().unwrap_or(f64::NAN);
            (n, Model::Num(f))
        }),
        string().prop_map(|(lexeme, text)| (lexeme, Model::Str(text))),
    ]
}

fn key() -> impl Strategy<Value = (String, String)> {
    string().prop_filter("sops is the metadata key", |(_, text)| text != "sops")
}

fn value() -> impl Strategy<Value = Gen> {
    scalar().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![array(inner.clone()), object(inner)]
    })
}

fn array(inner: impl Strategy<Value = Gen>) -> impl Strategy<Value = Gen> {
    (ws(), prop::collection::vec((ws(), inner, ws()), 0..6)).prop_map(|(empty_ws, items)| {
        let mut text = String::from("[");
        if items.is_empty() {
            text.push_str(&empty_ws);
        }
        let mut model = Vec::new();
        for (i, (before, (t, m), after)) in items.into_iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&before);
            text.push_str(&t);
            text.push_str(&after);
            model.push(m);
        }
        text.push(']');
        (text, Model::Seq(model))
    })
}

fn object(inner: impl Strategy<Value = Gen>) -> impl Strategy<Value = Gen> {
    let member = (ws(), key(), ws(), ws(), inner, ws());
    (ws(), prop::collection::vec(member, 0..6)).prop_map(|(empty_ws, members)| {
        let mut text = String::from("{");
        if members.is_empty() {
            text.push_str(&empty_ws);
        }
        let mut model = Vec::new();
        for (i, (w1, (k, kt), w2, w3, (t, m), w4)) in members.into_iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&format!("{w1}{k}{w2}:{w3}{t}{w4}"));
            model.push((kt, m));
        }
        text.push('}');
        (text, Model::Map(model))
    })
}

/// A whole file: a top-level object or array, surrounding whitespace, an
/// optional BOM.
pub(crate) fn document() -> impl Strategy<Value = Gen> {
    let top = prop_oneof![3 => object(value()), 1 => array(value())];
    (any::<bool>(), ws(), top, ws()).prop_map(|(bom, before, (text, model), after)| {
        let bom = if bom { "\u{feff}" } else { "" };
        (format!("{bom}{before}{text}{after}"), model)
    })
}

fn matches(node: &Node, model: &Model) -> bool {
    match (node, model) {
        (Node::Scalar(s), m) => match (&s.value, m) {
            (Value::Null, Model::Null) => true,
            (Value::Bool(a), Model::Bool(b)) => a == b,
            (Value::Float(a), Model::Num(b)) => a.to_bits() == b.to_bits(),
            // An integer lexeme reads as an `Int` (JSON writes an integral
            // float as one).
            (Value::Int(a), Model::Num(b)) => (*a as f64).to_bits() == b.to_bits(),
            (Value::Str(a), Model::Str(b)) => a == b,
            _ => false,
        },
        (Node::Seq(items), Model::Seq(models)) => {
            items.len() == models.len()
                && items.iter().zip(models).all(|(i, m)| match i {
                    Item::Node(n) => matches(n, m),
                    Item::Comment(_) => false,
                })
        }
        (Node::Map(entries), Model::Map(models)) => {
            entries.len() == models.len()
                && entries.iter().zip(models).all(|(e, (k, m))| match e {
                    Entry::Pair(p) => &p.key == k && matches(&p.value, m),
                    Entry::Comment(_) => false,
                })
        }
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::testing::cases(300)))]

    #[test]
    fn random_documents_hold_the_contract((text, model) in document()) {
        let serde = serde_json::from_str::<serde_json::Value>(text.trim_start_matches('\u{feff}'));
        prop_assert!(serde.is_ok(), "serde_json rejects {:?}", text);
        let parsed = Json.parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(parsed.metadata.is_none());
        prop_assert!(matches(&parsed.tree.docs[0], &model), "{:?} vs {:?}", text, model);
        if let Err(e) = roundtrip(&Json, &text) {
            return Err(TestCaseError::fail(e));
        }
        // Every scalar's lexeme is its exact token; `value_lexeme` reads back.
        let mut bad = None;
        walk(&parsed.tree, |_, leaf| {
            if let Leaf::Value(s) = leaf {
                let lexeme = Json.value_lexeme(Slot::Quoted, &s.value);
                let back = Json.parse(&lexeme).ok().and_then(|p| p.tree.docs.into_iter().next());
                // An integral float is written as an integer (as sops
                // writes it), which reads back as an `Int`.
                let num = |v: &Value| match v {
                    Value::Int(i) => Value::Float(*i as f64),
                    v => v.clone(),
                };
                let same = matches!(back, Some(Node::Scalar(b)) if num(&b.value) == num(&s.value));
                let token = s.span.clone().and_then(|sp| text.get(sp));
                if !same || token.is_none_or(|t| t.trim() != t || t.is_empty()) {
                    bad = Some(lexeme);
                }
            }
        });
        prop_assert!(bad.is_none(), "bad lexeme {:?}", bad);
        // emit output re-parses to the same values; a number beyond the
        // f64 range (read as an infinity) is refused, as sops's JSON
        // encoder refuses infinities.
        if !finite(&model) {
            prop_assert!(Json.emit(&parsed.tree).is_err());
            return Ok(());
        }
        let emitted = Json.emit(&parsed.tree).map_err(|e| TestCaseError::fail(e.0))?;
        let again = Json.parse(&emitted).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(matches(&again.tree.docs[0], &model), "emit: {}", emitted);
        prop_assert_eq!(
            plain(&crate::syntax::edit::check::floats(again.tree.docs[0].clone())),
            plain(&crate::syntax::edit::check::floats(parsed.tree.docs[0].clone()))
        );
        let closed = emitted.ends_with("}\n") || emitted.ends_with("]\n");
        prop_assert!(closed, "no final newline");
    }

    #[test]
    fn accepts_exactly_what_serde_json_accepts(
        text in prop::collection::vec(
            prop::sample::select(vec![
                "{", "}", "[", "]", ",", ":", "\"", "\\", "0", "1", "-", ".", "e", "+",
                "true", "false", "null", "a", " ", "\n", "\t", "\\u00", "é",
            ]),
            0..24,
        ).prop_map(|parts| parts.concat())
    ) {
        let ours = Json.parse(&text);
        let theirs = serde_json::from_str::<serde_json::Value>(&text);
        prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?}", text);
        if let Err(e) = ours {
            let lines = text.split('\n').count();
            prop_assert!(e.line >= 1 && e.line <= lines && e.column >= 1);
        }
    }

    #[test]
    fn mutated_documents_agree_with_serde_json(
        (text, _) in document(),
        at in any::<prop::sample::Index>(),
        len in 0..3usize,
        insert in prop::sample::select(vec!["", ",", "}", "]", "\"", ":", "0", "-", "[", "{", "\\", "e", "\t"]),
    ) {
        let text = text.trim_start_matches('\u{feff}');
        let mut start = at.index(text.len() + 1);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + len).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let mutated = format!("{}{insert}{}", &text[..start], &text[end..]);
        let theirs = serde_json::from_str::<serde_json::Value>(&mutated);
        // serde_json rejects lone surrogates (also as "end of hex escape");
        // we read them as U+FFFD like Go.
        let lone = matches!(&theirs, Err(e) if e.to_string().contains("surrogate")
            || e.to_string().contains("hex escape"));
        if !lone {
            prop_assert_eq!(Json.parse(&mutated).is_ok(), theirs.is_ok(), "{:?}", mutated);
        }
    }

    #[test]
    fn emit_of_generated_trees_reparses((_, model) in document()) {
        fn build(m: &Model) -> Node {
            match m {
                Model::Null => Node::value(Value::Null),
                Model::Bool(b) => Node::value(Value::Bool(*b)),
                Model::Num(f) => Node::value(Value::Float(*f)),
                Model::Str(s) => Node::str(s.clone()),
                Model::Seq(items) => Node::Seq(items.iter().map(|i| Item::Node(build(i))).collect()),
                Model::Map(pairs) => Node::map(pairs.iter().map(|(k, v)| (k.clone(), build(v)))),
            }
        }
        let tree = Tree::new(vec![build(&model)]);
        if !finite(&model) {
            prop_assert!(Json.emit(&tree).is_err());
            return Ok(());
        }
        let emitted = Json.emit(&tree).map_err(|e| TestCaseError::fail(e.0))?;
        prop_assert!(serde_json::from_str::<serde_json::Value>(&emitted).is_ok());
        let again = Json.parse(&emitted).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(matches(&again.tree.docs[0], &model), "{}", emitted);
        prop_assert!(roundtrip(&Json, &emitted).is_ok());
    }
}
