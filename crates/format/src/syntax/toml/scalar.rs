//! TOML scalars: reading `toml_edit` values as sops [`Value`]s, and writing
//! values, strings and keys as TOML lexemes.

use crate::tree::Value;
use crate::wipe::SecretText;
use toml_edit::{Datetime, Document, Item, Offset};

/// How a string holding line feeds is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lines {
    /// On one line, with `\n` escapes.
    Single,
    /// As a `"""` string with literal line feeds (LF files).
    Raw,
    /// As a `"""` string whose lines end with an escaped `\n` and a
    /// line-ending backslash before CRLF, so the text decodes without `\r`.
    Continued,
}

/// The sops value of a scalar `toml_edit` value (`None` for arrays and
/// tables). `raw` is the value's source text, kept for local times.
pub(super) fn scalar_value(v: &toml_edit::Value, raw: &str) -> Option<Value> {
    Some(match v {
        toml_edit::Value::String(s) => Value::Str(s.value().clone()),
        toml_edit::Value::Integer(i) => Value::Int(*i.value()),
        toml_edit::Value::Float(f) => Value::Float(*f.value()),
        toml_edit::Value::Boolean(b) => Value::Bool(*b.value()),
        toml_edit::Value::Datetime(d) => Value::Time(datetime_text(d.value(), raw)),
        toml_edit::Value::Array(_) | toml_edit::Value::InlineTable(_) => return None,
    })
}

/// An offset date-time as Go's RFC 3339 "nano" text (`Z` for a zero
/// offset, no trailing zeros in the fraction, seconds always written);
/// any other date or time as its original text.
pub(super) fn datetime_text(dt: &Datetime, raw: &str) -> String {
    let (Some(d), Some(t), Some(offset)) = (dt.date, dt.time, dt.offset) else {
        return raw.to_string();
    };
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        d.year,
        d.month,
        d.day,
        t.hour,
        t.minute,
        t.second.unwrap_or(0)
    );
    let nanos = t.nanosecond.unwrap_or(0);
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    match offset {
        Offset::Z | Offset::Custom { minutes: 0 } => s.push('Z'),
        Offset::Custom { minutes } => {
            let sign = if minutes < 0 { '-' } else { '+' };
            let m = minutes.unsigned_abs();
            s.push_str(&format!("{sign}{:02}:{:02}", m / 60, m % 60));
        }
    }
    s
}

/// The value of an integer lexeme too large for `i64` (sign, underscores,
/// `0x`/`0o`/`0b` prefixes), as a float.
pub(super) fn big_int(text: &str) -> Option<f64> {
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    let (radix, body) = match digits.get(..2) {
        Some("0x") => (16, digits.get(2..)?),
        Some("0o") => (8, digits.get(2..)?),
        Some("0b") => (2, digits.get(2..)?),
        _ => {
            let unsigned = digits.trim_start_matches(['+', '-']);
            if unsigned.is_empty() || !unsigned.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            return digits.parse().ok();
        }
    };
    if body.is_empty() {
        return None;
    }
    if let Ok(n) = u128::from_str_radix(body, radix) {
        return Some(n as f64);
    }
    body.chars().try_fold(0.0_f64, |acc, c| {
        c.to_digit(radix)
            .map(|d| acc * f64::from(radix) + f64::from(d))
    })
}

/// A TOML lexeme for `value` that parses back to the same value and type.
/// `Null` has no TOML form; it is written as the empty string `""`.
pub(super) fn value_lexeme(value: &Value, lines: Lines) -> String {
    match value {
        Value::Null => "\"\"".to_string(),
        Value::Str(s) => string_lexeme(s, lines),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => float_lexeme(*f),
        Value::Bool(b) => b.to_string(),
        Value::Time(t) if is_datetime_lexeme(t) => t.clone(),
        Value::Time(t) => basic_string(t),
    }
}

/// A float that stays a float: `1.0`, `1e20`, `-0.0`, `inf`, `-inf`, `nan`.
pub(super) fn float_lexeme(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    // Debug is the shortest round-trip form and always has `.` or `e`.
    let s = format!("{f:?}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// Whether `text` is, on its own, a TOML date-time lexeme that reads back
/// as the same [`Value::Time`].
pub(crate) fn is_datetime_lexeme(text: &str) -> bool {
    let doc = format!("v = {text}");
    let Ok(parsed) = Document::parse(doc.as_str()) else {
        return false;
    };
    let table = parsed.as_table();
    if table.len() != 1 {
        return false;
    }
    match table.get("v") {
        Some(Item::Value(v @ toml_edit::Value::Datetime(d))) => {
            v.span() == Some(4..doc.len()) && datetime_text(d.value(), text) == text
        }
        _ => false,
    }
}

/// A string in the form `lines` asks for: `"""` only if it has a line feed.
pub(super) fn string_lexeme(s: &str, lines: Lines) -> String {
    if lines == Lines::Single || !s.contains('\n') {
        return basic_string(s);
    }
    let mut out = SecretText::with_capacity(s.len() + 8);
    out.push_str("\"\"\"");
    // The line break right after the opening delimiter is not content.
    out.push_str(if lines == Lines::Continued {
        "\r\n"
    } else {
        "\n"
    });
    let mut after_break = false;
    for c in s.chars() {
        match c {
            '\n' if lines == Lines::Raw => out.push('\n'),
            '\n' => {
                // `\n` is the content; the backslash at the end of the line
                // swallows the CRLF and the next line's leading whitespace.
                out.push_str("\\n\\\r\n");
                after_break = true;
                continue;
            }
            ' ' if after_break => out.push_str("\\u0020"),
            _ => escape_into(&mut out, c),
        }
        after_break = false;
    }
    out.push_str("\"\"\"");
    out.into_string()
}

/// A single-line TOML basic string (`"…"`) holding exactly `s`. (It may
/// be a decrypted value: see [`SecretText`].)
pub(super) fn basic_string(s: &str) -> String {
    let mut out = SecretText::with_capacity(s.len() + 2);
    out.push('"');
    // Every escaped character is ASCII.
    crate::syntax::push_escaped(s, &ESCAPED, &mut out, |c, out| {
        escape_into(out, c);
        true
    });
    out.push('"');
    out.into_string()
}

/// [`escaped`] of each byte (only ASCII characters are escaped; tested).
const ESCAPED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = b < 0x20 || b == 0x7f || b == b'"' as usize || b == b'\\' as usize;
        b += 1;
    }
    table
};

/// Whether [`escape_into`] writes `c` escaped.
#[cfg(test)]
fn escaped(c: char) -> bool {
    matches!(c, '"' | '\\') || (c.is_control() && (c as u32) < 0x80)
}

/// A key: bare when it only has `A-Za-z0-9_-`, else a basic string.
pub(super) fn key_lexeme(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    if bare {
        key.to_string()
    } else {
        basic_string(key)
    }
}

/// Append `c` as it must appear inside a basic string (TOML 1.0 escapes).
fn escape_into(out: &mut SecretText, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        c if c.is_control() && (c as u32) < 0x80 => {
            out.push_str(&format!("\\u{:04X}", c as u32));
        }
        c => out.push(c),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A basic string writes as they are exactly the characters
    /// `escape_into` leaves as they are (it writes runs of them at once).
    #[test]
    fn runs_hold_only_unescaped_characters() {
        for c in (0..0x3000u32)
            .filter_map(char::from_u32)
            .chain(['\u{10ffff}', '🎉'])
        {
            let mut one = SecretText::default();
            escape_into(&mut one, c);
            assert_eq!(escaped(c), &*one != c.to_string(), "{c:?}");
            let byte = u8::try_from(u32::from(c)).ok().filter(u8::is_ascii);
            assert_eq!(
                escaped(c),
                byte.is_some_and(|b| ESCAPED[usize::from(b)]),
                "{c:?}"
            );
            let text = format!("a{c}b");
            assert_eq!(basic_string(&text), format!("\"a{}b\"", &*one));
        }
    }

    /// The value of `v = <lexeme>`.
    fn reparse(lexeme: &str) -> Value {
        let src = format!("v = {lexeme}");
        let doc = Document::parse(src.as_str()).unwrap();
        let v = doc.as_table().get("v").unwrap().as_value().unwrap();
        scalar_value(v, &src[v.span().unwrap()]).unwrap()
    }

    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float(x), Value::Float(y)) => {
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
            }
            _ => a == b,
        }
    }

    #[test]
    fn value_lexemes_keep_value_and_type() {
        let values = [
            Value::Str("plain".into()),
            Value::Str("q\"uo\\te\ttab\r\u{1}\u{7f}é".into()),
            Value::Str("line one\n  line two\n".into()),
            Value::Str("\n\n\"\"\"".into()),
            Value::Str(String::new()),
            Value::Int(i64::MIN),
            Value::Int(8080),
            Value::Float(1.0),
            Value::Float(-0.0),
            Value::Float(1e20),
            Value::Float(1.5e-7),
            Value::Float(0.1),
            Value::Float(f64::INFINITY),
            Value::Float(f64::NEG_INFINITY),
            Value::Float(f64::NAN),
            Value::Bool(true),
            Value::Bool(false),
            Value::Time("2024-01-02T00:00:00Z".into()),
            Value::Time("2024-01-02T03:04:05.123+02:00".into()),
            Value::Time("1979-05-27".into()),
            Value::Time("07:32:00".into()),
            Value::Time("1979-05-27T07:32:00".into()),
        ];
        for v in &values {
            for lines in [Lines::Single, Lines::Raw, Lines::Continued] {
                let lexeme = value_lexeme(v, lines);
                assert!(same(&reparse(&lexeme), v), "{lexeme}");
            }
        }
        // Not TOML date-times: written as strings.
        assert_eq!(
            value_lexeme(&Value::Time("2024-01-02 03:04:05Z".into()), Lines::Raw),
            "\"2024-01-02 03:04:05Z\""
        );
        assert_eq!(
            value_lexeme(&Value::Time("1979-05-27\nx = 1".into()), Lines::Raw),
            "\"1979-05-27\\nx = 1\""
        );
        assert_eq!(float_lexeme(1.0), "1.0");
        assert_eq!(float_lexeme(1e20), "1e20");
    }

    #[test]
    fn continued_strings_decode_without_cr() {
        let text = "-----BEGIN-----\n  indented\n\nlast\n";
        let lexeme = string_lexeme(text, Lines::Continued);
        assert!(!lexeme.contains("\r\n ") && lexeme.contains("\r\n"));
        assert!(same(&reparse(&lexeme), &Value::Str(text.into())));
    }

    #[test]
    fn offset_datetimes_normalise_to_rfc3339_nano() {
        for (raw, want) in [
            ("1979-05-27T07:32:00Z", "1979-05-27T07:32:00Z"),
            ("1979-05-27 07:32:00z", "1979-05-27T07:32:00Z"),
            ("1979-05-27t07:32:00+00:00", "1979-05-27T07:32:00Z"),
            (
                "1979-05-27T00:32:00.999999-07:00",
                "1979-05-27T00:32:00.999999-07:00",
            ),
            (
                "1979-05-27T00:32:00.500000000+05:30",
                "1979-05-27T00:32:00.5+05:30",
            ),
            ("1979-05-27T07:32Z", "1979-05-27T07:32:00Z"),
            ("1979-05-27T07:32:00", "1979-05-27T07:32:00"),
            ("1979-05-27 07:32:00", "1979-05-27 07:32:00"),
            ("1979-05-27", "1979-05-27"),
            ("07:32:00.5", "07:32:00.5"),
        ] {
            assert!(same(&reparse(raw), &Value::Time(want.into())), "{raw}");
        }
    }

    #[test]
    fn big_integers_become_floats() {
        assert_eq!(big_int("99999999999999999999"), Some(1e20 - 1.0));
        assert_eq!(big_int("-1_000_000_000_000_000_000_000"), Some(-1e21));
        assert_eq!(
            big_int("0xFFFFFFFFFFFFFFFFFF"),
            Some(4_722_366_482_869_645_213_695.0)
        );
        assert_eq!(big_int("0b11"), Some(3.0));
        assert_eq!(big_int("abc"), None);
    }

    #[test]
    fn keys_are_bare_or_quoted() {
        assert_eq!(key_lexeme("a-b_9"), "a-b_9");
        assert_eq!(key_lexeme("a.b"), "\"a.b\"");
        assert_eq!(key_lexeme(""), "\"\"");
        assert_eq!(key_lexeme("é"), "\"é\"");
    }
}
