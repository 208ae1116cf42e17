//! Writing JSON the way Go's `encoding/json` (and so sops) does: string
//! escaping, number formatting, and `json.MarshalIndent`-style layout.

use crate::tree::{Entry, Item, Node, Value};
use crate::wipe::SecretText;

/// How a tree is laid out.
#[derive(Clone, Copy)]
pub(super) enum Style<'a> {
    /// Everything on one line, no spaces (`json.Marshal`).
    Compact,
    /// One member per line (`json.MarshalIndent`): a line at depth `d` is
    /// indented with `base` followed by `d` times `unit`.
    Pretty {
        /// The line break (`"\n"` or `"\r\n"`).
        newline: &'a str,
        /// Indentation of depth 0.
        base: &'a str,
        /// One level of indentation.
        unit: &'a str,
    },
}

/// Append `s` as a JSON string with Go's escaping: `\"`, `\\`, `\n`, `\r`,
/// `\t`, `\b`, `\f` (Go ≥ 1.22), `\u00XX` for other control characters,
/// `\u003c \u003e \u0026` for `< > &`, `\u2028 \u2029`; everything else raw.
/// The characters between escapes go in a run at a time.
pub(super) fn quote(s: &str, out: &mut SecretText) {
    /// The bytes that may start an escaped character: ASCII ones, and the
    /// first byte of U+2028 and U+2029 (whose other characters are not
    /// escaped).
    const SPECIAL: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            table[b] = b < 0x20 || matches!(b as u8, b'"' | b'\\' | b'<' | b'>' | b'&' | 0xe2);
            b += 1;
        }
        table
    };
    out.push('"');
    crate::syntax::push_escaped(s, &SPECIAL, out, |c, out| {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\u{0}'..='\u{1f}' => "",
            _ => return false,
        };
        if escape.is_empty() {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push_str(escape);
        }
        true
    });
    out.push('"');
}

/// A JSON number for `f` as Go's `encoding/json` writes float64: shortest
/// round-trip digits, exponent form below 1e-6 and from 1e21 (`1e+21`,
/// `1.5e-7`). Infinities, which JSON cannot express, are written `1e999`
/// and `-1e999`, which read back as the same infinity. NaN has no JSON
/// number: it is written as the string `"NaN"` (its sops text).
pub(super) fn float(f: f64, out: &mut SecretText) {
    if f.is_nan() {
        out.push_str("\"NaN\"");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "1e999" } else { "-1e999" });
    } else {
        let abs = f.abs();
        if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
            let text = format!("{f:e}");
            match text.split_once('e') {
                Some((mantissa, exp)) if !exp.starts_with('-') => {
                    out.push_str(mantissa);
                    out.push_str("e+");
                    out.push_str(exp);
                }
                _ => out.push_str(&text),
            }
        } else {
            out.push_str(&format!("{f}"));
        }
    }
}

/// Append the lexeme of a scalar value.
pub(super) fn scalar(value: &Value, out: &mut SecretText) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Str(s) | Value::Time(s) => quote(s, out),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => float(*f, out),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}

/// Append `node` at nesting depth `depth` (the depth of the line it starts
/// on). Comments are dropped; aliases are written as their target.
pub(super) fn node(node: &Node, depth: usize, style: Style<'_>, out: &mut SecretText) {
    match node {
        Node::Scalar(s) => scalar(&s.value, out),
        Node::Alias(inner) => self::node(inner, depth, style, out),
        Node::Map(entries) => {
            let pairs = entries.iter().filter_map(|e| match e {
                Entry::Pair(p) => Some((Some(p.key.as_str()), &p.value)),
                Entry::Comment(_) => None,
            });
            container(('{', '}'), pairs, depth, style, out);
        }
        Node::Seq(items) => {
            let values = items.iter().filter_map(|i| match i {
                Item::Node(n) => Some((None, n)),
                Item::Comment(_) => None,
            });
            container(('[', ']'), values, depth, style, out);
        }
    }
}

fn container<'n>(
    (open, close): (char, char),
    members: impl Iterator<Item = (Option<&'n str>, &'n Node)>,
    depth: usize,
    style: Style<'_>,
    out: &mut SecretText,
) {
    out.push(open);
    let mut empty = true;
    for (key, value) in members {
        if !empty {
            out.push(',');
        }
        empty = false;
        line(depth + 1, style, out);
        if let Some(key) = key {
            quote(key, out);
            out.push_str(match style {
                Style::Compact => ":",
                Style::Pretty { .. } => ": ",
            });
        }
        node(value, depth + 1, style, out);
    }
    if !empty {
        line(depth, style, out);
    }
    out.push(close);
}

/// Start a new line at `depth` (nothing in compact style).
pub(super) fn line(depth: usize, style: Style<'_>, out: &mut SecretText) {
    if let Style::Pretty {
        newline,
        base,
        unit,
    } = style
    {
        out.push_str(newline);
        out.push_str(base);
        for _ in 0..depth {
            out.push_str(unit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Node;

    /// `quote` as it was written first: a test on every character.
    fn quote_per_character(s: &str) -> String {
        let mut out = String::from('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\u{0}'..='\u{1f}' => {
                    out.push_str(&format!("\\u{:04x}", u32::from(c)))
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    /// Every character up to U+3000 (U+2028 and U+2029 with the other
    /// characters of their first byte), alone, between others and twice.
    #[test]
    fn quotes_every_character_as_a_test_per_character_does() {
        for c in (0..0x3000u32)
            .filter_map(char::from_u32)
            .chain(['\u{10ffff}', '🎉'])
        {
            for text in [c.to_string(), format!("a{c}b"), format!("{c}{c}x{c}")] {
                assert_eq!(q(&text), quote_per_character(&text), "{c:?}");
            }
        }
    }

    fn q(s: &str) -> String {
        let mut out = SecretText::default();
        quote(s, &mut out);
        out.into_string()
    }

    fn f(x: f64) -> String {
        let mut out = SecretText::default();
        float(x, &mut out);
        out.into_string()
    }

    #[test]
    fn escapes_like_go() {
        assert_eq!(q("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(q("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(
            q("\u{0}\u{1b}\u{1f}\u{7f}"),
            "\"\\u0000\\u001b\\u001f\u{7f}\""
        );
        assert_eq!(q("<a>&"), r#""\u003ca\u003e\u0026""#);
        assert_eq!(q("\u{2028}\u{2029}"), r#""\u2028\u2029""#);
        assert_eq!(q("é日本🎉/"), "\"é日本🎉/\"");
    }

    #[test]
    fn floats_like_go() {
        assert_eq!(f(1.0), "1");
        assert_eq!(f(2.5), "2.5");
        assert_eq!(f(-0.0), "-0");
        assert_eq!(f(0.0), "0");
        assert_eq!(f(1e20), "100000000000000000000");
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(1.5e300), "1.5e+300");
        assert_eq!(f(0.000001), "0.000001");
        assert_eq!(f(1.5e-7), "1.5e-7");
        assert_eq!(f(-2e-10), "-2e-10");
        assert_eq!(f(12345678901234567890.0), "12345678901234567000");
        assert_eq!(f(f64::INFINITY), "1e999");
        assert_eq!(f(f64::NEG_INFINITY), "-1e999");
        assert_eq!(f(f64::NAN), "\"NaN\"");
        for x in [0.1, 1e-300, 5e-324, f64::MAX, -f64::MIN_POSITIVE, 123.456e7] {
            assert_eq!(f(x).parse::<f64>().ok(), Some(x));
        }
    }

    #[test]
    fn layouts() {
        let tree = Node::map([
            ("a".to_string(), Node::Seq(vec![])),
            ("b".to_string(), Node::map([])),
            (
                "c".to_string(),
                Node::Seq(vec![
                    Item::Node(Node::value(Value::Int(1))),
                    Item::Node(Node::str("x")),
                ]),
            ),
        ]);
        let mut out = SecretText::default();
        node(&tree, 0, Style::Compact, &mut out);
        assert_eq!(&*out, r#"{"a":[],"b":{},"c":[1,"x"]}"#);
        let mut out = SecretText::default();
        let style = Style::Pretty {
            newline: "\n",
            base: "",
            unit: "\t",
        };
        node(&tree, 0, style, &mut out);
        assert_eq!(
            &*out,
            "{\n\t\"a\": [],\n\t\"b\": {},\n\t\"c\": [\n\t\t1,\n\t\t\"x\"\n\t]\n}"
        );
    }
}
