//! Writing one scalar: when a string may stay plain, double-quoted escapes,
//! and the spelling of numbers, booleans, times and null that re-parses to
//! the same value and type.

use super::resolve::resolve_plain;
use crate::tree::{Slot, Value};
use crate::wipe::SecretText;

/// A lexeme for `value` that parses back to the same value and type.
/// `flow` is true inside a flow collection (`Slot::Quoted`).
pub(crate) fn value_lexeme(value: &Value, flow: bool) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => float_lexeme(*f),
        Value::Time(t) => {
            if matches!(resolve_plain(t), Value::Time(ref u) if u == t) {
                t.clone()
            } else {
                double_quoted(t)
            }
        }
        Value::Str(s) => string_lexeme(s, flow),
    }
}

/// A string on one line: plain when that is unambiguous, else double-quoted.
pub(crate) fn string_lexeme(s: &str, flow: bool) -> String {
    if plain_ok(s, flow) {
        s.to_string()
    } else {
        double_quoted(s)
    }
}

/// [`string_lexeme`] of an `ENC[…]` text, without looking at each
/// character several times when it has the shape sops-like writes (only
/// letters, digits, `+/=,:_[]`, no space): such a text is plain in block
/// context and double-quoted as it is in flow context (its commas and
/// brackets), as `string_lexeme` decides (tested). Deciding it the long way
/// was 6% of a 100,000-leaf YAML encryption's samples.
pub(crate) fn enc_lexeme(enc: &str, flow: bool) -> String {
    /// The bytes of that shape (a table: a test per byte measured 10% of
    /// the same encryption).
    const SHAPE: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            table[b] = c.is_ascii_alphanumeric()
                || matches!(c, b'+' | b'/' | b'=' | b',' | b':' | b'_' | b'[' | b']');
            b += 1;
        }
        table
    };
    let shaped =
        enc.starts_with("ENC[") && enc.ends_with(']') && enc.bytes().all(|b| SHAPE[usize::from(b)]);
    match (shaped, flow) {
        (true, false) => enc.to_string(),
        (true, true) => {
            let mut quoted = String::with_capacity(enc.len() + 2);
            quoted.push('"');
            quoted.push_str(enc);
            quoted.push('"');
            quoted
        }
        (false, _) => string_lexeme(enc, flow),
    }
}

/// `Slot::Quoted` means flow context.
pub(crate) fn is_flow(slot: Slot) -> bool {
    slot == Slot::Quoted
}

/// A float that re-parses as a float: go-yaml's spelling ([`go_yaml_float`]:
/// `1.5`, `1e+21`, `1e-07`, `.inf`, `.nan`), except that an integral value
/// keeps a `.0` (`1.0`, where go-yaml writes `1`, which reads as an int).
pub(crate) fn float_lexeme(f: f64) -> String {
    let mut text = go_yaml_float(f);
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        text.push_str(".0");
    }
    text
}

/// A float64 as go-yaml v3 writes it (so as sops does):
/// `strconv.FormatFloat(f, 'g', -1, 64)`, i.e. the shortest round-trip
/// digits, in exponent form (`1e+21`, `1.234567e+06`, `1e-07`: sign and at
/// least two exponent digits) when the decimal exponent is below -4 or
/// from 6 on; then `.inf`, `-.inf`, `.nan`.
pub(crate) fn go_yaml_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.to_string();
    }
    // `{:e}` is the shortest round-trip mantissa and the exponent (`0e0`
    // for zero).
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        // Display is the shortest round-trip form without an exponent.
        format!("{f}")
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    }
}

/// Whether `s` can be written as a plain scalar and read back as this
/// string. Conservative: go-yaml's rules plus no leading indicator at all.
pub(crate) fn plain_ok(s: &str, flow: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !matches!(resolve_plain(s), Value::Str(_)) || old_yaml_special(s) {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) || first == ' ' {
        return false;
    }
    if s.ends_with(' ') || s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    // go-yaml ends a plain scalar in flow context at any `?` too (`{k: x
    // ?y}` is refused there).
    if flow && s.contains([',', '[', ']', '{', '}', ':', '#', '?']) {
        return false;
    }
    s.chars().all(printable)
}

/// Strings go-yaml quotes for YAML 1.1 readers: old booleans, base-60
/// numbers, and the merge key.
fn old_yaml_special(s: &str) -> bool {
    const OLD_BOOLS: [&str; 16] = [
        "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off",
        "OFF",
    ];
    OLD_BOOLS.contains(&s) || s == "<<" || base60(s)
}

/// go-yaml's `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn base60(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (head, frac) = s.split_once('.').unwrap_or((s, ""));
    if !frac.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return false;
    }
    let mut parts = head.split(':');
    let first_ok = parts.next().is_some_and(|p| {
        p.starts_with(|c: char| c.is_ascii_digit())
            && p.chars().all(|c| c.is_ascii_digit() || c == '_')
    });
    let mut n = 0;
    for p in parts {
        n += 1;
        let b = p.as_bytes();
        let ok = match b {
            [d] => d.is_ascii_digit(),
            [a, d] => (b'0'..=b'5').contains(a) && d.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    first_ok && n > 0
}

/// YAML 1.2 printable characters that may appear raw in any scalar (no
/// tab, no line break, no NEL, no byte order mark, no U+2028/U+2029: go-yaml
/// reads those two as line breaks, so a plain scalar holding one does not
/// parse).
pub(crate) fn printable(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && !matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}')
}

/// A double-quoted scalar with YAML escapes for everything unprintable.
/// (The value may be a decrypted one: see [`SecretText`].)
pub(crate) fn double_quoted(s: &str) -> String {
    let mut out = SecretText::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{feff}' => out.push_str("\\uFEFF"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c) => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c if printable(c) => out.push(c),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(crate::testing::cases(256)))]

        /// `enc_lexeme` is `string_lexeme` for texts of the shape it
        /// shortcuts (real `ENC[…]` texts and near misses) and any other.
        #[test]
        fn enc_lexemes_are_string_lexemes(
            body in "[A-Za-z0-9+/=,:_\\[\\]]{0,40}",
            other in "[A-Za-z0-9+/=,:_ #\"\\[\\]-]{0,40}",
            flow in proptest::bool::ANY,
        ) {
            for enc in [
                format!("ENC[{body}]"),
                format!("ENC[XCHACHA20_POLY1305,data:{body},iv:abc+/==,tag:x,type:str]"),
                format!("ENC[{other}]"),
                other.clone(),
                format!("ENC[{body}"),
            ] {
                proptest::prop_assert_eq!(enc_lexeme(&enc, flow), string_lexeme(&enc, flow), "{:?}", enc);
            }
        }
    }

    #[test]
    fn plain_when_safe() {
        assert!(plain_ok("hello world", false));
        assert!(plain_ok(
            "ENC[AES256_GCM,data:a+/=,iv:x,tag:y,type:str]",
            false
        ));
        assert!(!plain_ok(
            "ENC[AES256_GCM,data:a+/=,iv:x,tag:y,type:str]",
            true
        ));
        assert!(plain_ok("^(password|secret)$", false));
        assert!(plain_ok("héllo 🎉", false));
        assert!(plain_ok("3.11.0", false));
        for s in [
            "",
            "yes",
            "No",
            "true",
            "null",
            "~",
            "12",
            "1.5",
            "2024-01-02",
            "1:20",
            "<<",
            "- x",
            "-x",
            "a: b",
            "a #b",
            " lead",
            "trail ",
            "a\nb",
            "a\tb",
            "#x",
            "'q",
            "\"q",
            "&a",
            "*a",
            "!t",
            "|",
            ">",
            "%x",
            "@x",
            "`x",
            "---",
            "...",
            "key:",
            "{a}",
            "[a]",
        ] {
            assert!(!plain_ok(s, false), "{s:?}");
        }
        assert!(!plain_ok("a,b", true));
        assert!(!plain_ok("x ?y", true));
        assert!(!plain_ok("a?", true));
        assert!(plain_ok("x ?y", false));
        assert!(plain_ok("a,b", false));
    }

    #[test]
    fn quoting_escapes() {
        assert_eq!(double_quoted("a\"b\\c\n\t"), r#""a\"b\\c\n\t""#);
        assert_eq!(double_quoted("\u{1}\u{7f}\u{85}"), r#""\x01\x7F\N""#);
        // go-yaml reads U+2028/U+2029 as line breaks: never raw.
        assert_eq!(double_quoted("a\u{2028}b\u{2029}"), r#""a\Lb\P""#);
        for s in ["a\u{2028}b", "a\u{2029}", "\u{85}x"] {
            assert!(!plain_ok(s, false), "{s:?}");
            assert_eq!(value_lexeme(&Value::Str(s.into()), false), double_quoted(s));
        }
        assert_eq!(double_quoted("é🎉"), "\"é🎉\"");
        assert_eq!(double_quoted("\u{feff}\u{fffe}"), r#""\uFEFF\uFFFE""#);
    }

    #[test]
    fn values_reparse_with_their_type() {
        assert_eq!(value_lexeme(&Value::Float(1.0), false), "1.0");
        assert_eq!(value_lexeme(&Value::Float(1e20), false), "1e+20");
        assert_eq!(value_lexeme(&Value::Float(100000.0), false), "100000.0");
        assert_eq!(value_lexeme(&Value::Float(-0.0), false), "-0.0");
        assert_eq!(
            value_lexeme(&Value::Float(f64::NEG_INFINITY), false),
            "-.inf"
        );
        assert_eq!(value_lexeme(&Value::Float(f64::NAN), true), ".nan");
        assert_eq!(value_lexeme(&Value::Int(-3), false), "-3");
        assert_eq!(value_lexeme(&Value::Bool(true), false), "true");
        assert_eq!(value_lexeme(&Value::Null, false), "null");
        assert_eq!(value_lexeme(&Value::Str("8080".into()), false), "\"8080\"");
        assert_eq!(
            value_lexeme(&Value::Time("2024-01-02T00:00:00Z".into()), false),
            "2024-01-02T00:00:00Z"
        );
        for f in [
            0.1,
            1.5,
            1e-7,
            123456789.0,
            1e300,
            -2.5e-300,
            1e6,
            1e21,
            5e-324,
            0.0001,
            8080.0,
        ] {
            let lex = float_lexeme(f);
            assert!(
                matches!(resolve_plain(&lex), Value::Float(g) if g == f),
                "{lex}"
            );
        }
    }

    #[test]
    fn floats_like_go_yaml() {
        let cases = [
            (1.0, "1"),
            (-0.0, "-0"),
            (1.5, "1.5"),
            (100000.0, "100000"),
            (1234567.0, "1.234567e+06"),
            (1e10, "1e+10"),
            (1e21, "1e+21"),
            (1e-7, "1e-07"),
            (0.000001, "1e-06"),
            (0.0001, "0.0001"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (123456789012.5, "1.234567890125e+11"),
            (-2.5e-300, "-2.5e-300"),
            (f64::INFINITY, ".inf"),
            (f64::NEG_INFINITY, "-.inf"),
            (f64::NAN, ".nan"),
        ];
        for (f, text) in cases {
            assert_eq!(go_yaml_float(f), text, "{f:?}");
        }
    }
}
