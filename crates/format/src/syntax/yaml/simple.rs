//! The value of a lexeme on its own, for lexemes so simple that their
//! value cannot depend on their surroundings (one line, printable ASCII, no
//! indicator that could start or end a structure). Lets decryption compute
//! the MAC without parsing the decrypted document again; anything else
//! returns `None` and the caller parses.

use super::resolve::resolve_plain;
use crate::tree::{Slot, Value};

/// The value the parser gives the scalar lexeme `lexeme` (the full span:
/// quotes included) at a position with `slot`, if the lexeme is simple.
pub(crate) fn simple_value(lexeme: &str, slot: Slot) -> Option<Value> {
    let b = lexeme.as_bytes();
    if b.is_empty() || !b.iter().all(|&c| (0x20..=0x7e).contains(&c)) {
        return None;
    }
    let first = *b.first()?;
    let last = *b.last()?;
    match first {
        b'"' => {
            let inner = lexeme.get(1..lexeme.len().checked_sub(1)?)?;
            (b.len() >= 2 && last == b'"' && !inner.contains(['"', '\\']))
                .then(|| Value::Str(inner.to_string()))
        }
        b'\'' => {
            let inner = lexeme.get(1..lexeme.len().checked_sub(1)?)?;
            (b.len() >= 2 && last == b'\'' && !inner.contains('\''))
                .then(|| Value::Str(inner.to_string()))
        }
        _ => plain_ok(lexeme, slot).then(|| resolve_plain(lexeme)),
    }
}

/// A one-line plain scalar that reads the same in block and flow context.
fn plain_ok(s: &str, slot: Slot) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    let leading_ok = match first {
        b'-' => matches!(b.get(1), Some(b'0'..=b'9' | b'.')),
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' | b' ' => false,
        _ => true,
    };
    leading_ok
        && last != b' '
        && last != b':'
        && !s.starts_with("...")
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains([',', '[', ']', '{', '}'])
        && (slot == Slot::Bare || !s.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::Syntax;
    use crate::tree::Node;

    /// Every simple lexeme gets the value a full parse gives it.
    #[test]
    fn agrees_with_the_parser() {
        let lexemes = [
            "abc",
            "123",
            "-1",
            "-.5",
            "1.5",
            "0x1F",
            "0o17",
            "true",
            "True",
            "yes",
            "null",
            "~",
            ".inf",
            "-.inf",
            ".nan",
            "2024-01-02",
            "2024-01-02T03:04:05Z",
            "1e3",
            "+1",
            "a b",
            "http://x:8080/p",
            "'q'",
            "'a b'",
            "\"d\"",
            "\"a # b\"",
            "''",
            "\"\"",
            "a#b",
            "12:30:00",
            "0777",
            "1_000",
            "NaN",
            "+.inf",
            ".",
            "-",
            "a:b",
        ];
        for lex in lexemes {
            for (slot, doc) in [
                (Slot::Bare, format!("k: {lex}\n")),
                (Slot::Quoted, format!("k: [{lex}]\n")),
            ] {
                let Some(v) = simple_value(lex, slot) else {
                    continue;
                };
                let parsed = super::super::Yaml.parse(&doc).unwrap();
                let node = parsed.tree.docs[0].get("k").unwrap();
                let got = match node {
                    Node::Seq(items) => match &items[0] {
                        crate::tree::Item::Node(n) => n.as_value().cloned(),
                        _ => None,
                    },
                    n => n.as_value().cloned(),
                };
                let same = match (&got, &v) {
                    (Some(Value::Float(a)), Value::Float(b)) => a.to_bits() == b.to_bits(),
                    (Some(a), b) => a == b,
                    _ => false,
                };
                assert!(same, "{lex:?} in {slot:?}");
            }
        }
        for not_simple in [
            "", "- a", "a: b", "a #b", "!!str 1", "&a b", "*a", "|", "\"a\\n\"", "'it''s'", "é",
            "a\tb", "[a]", "...", "? a",
        ] {
            assert!(
                simple_value(not_simple, Slot::Bare).is_none(),
                "{not_simple:?}"
            );
        }
    }
}
