//! Scalar typing exactly as go-yaml v3 (and therefore sops) resolves it:
//! YAML 1.2 core schema plus go-yaml's extras (Go `ParseInt` base-0 integers
//! with underscores, 1.1-style `0777` octals, timestamps).

use super::timestamp::parse_timestamp;
use crate::syntax::SopsRefusal;
use crate::tree::{Span, Value};

/// The value of an untagged plain scalar.
pub(crate) fn resolve_plain(s: &str) -> Value {
    resolve_typed(s).unwrap_or_else(|| Value::Str(s.to_string()))
}

/// The value of an untagged plain scalar if it is not a string (so that a
/// caller holding an owned string can move it into [`Value::Str`]).
pub(crate) fn resolve_typed(s: &str) -> Option<Value> {
    let Some(&first) = s.as_bytes().first() else {
        return Some(Value::Null);
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => lookup(s),
        b'.' => lookup(s).or_else(|| go_float(s).map(Value::Float)),
        b'+' | b'-' | b'0'..=b'9' => lookup(s).or_else(|| number_or_time(s)),
        _ => None,
    }
}

/// The value of a scalar with a `tag:yaml.org,2002:` tag whose suffix is
/// `suffix`, or, if the text does not fit the tag (go-yaml, and so sops,
/// refuses the document: `!!bool yes`, `!!int abc`, `!!binary` that is not
/// base64), what is wrong with it. A `!!binary` value is its decoded bytes,
/// as go-yaml reads it, if they are UTF-8 text (the tree holds text only);
/// an unknown suffix (`!!map x`) gives the text, as go-yaml does.
pub(crate) fn resolve_core_tag(suffix: &str, s: &str) -> Result<Value, SopsRefusal> {
    let unreadable = SopsRefusal::Unreadable;
    let resolved = resolve_plain(s);
    Ok(match (suffix, resolved) {
        ("int", v @ Value::Int(_)) => v,
        ("float", Value::Int(i)) => Value::Float(i as f64),
        ("float", v @ Value::Float(_)) => v,
        ("bool", v @ Value::Bool(_)) => v,
        ("null", v @ Value::Null) => v,
        ("timestamp", v @ Value::Time(_)) => v,
        ("int", _) => return Err(unreadable("a value tagged `!!int` that is not an integer")),
        ("float", _) => return Err(unreadable("a value tagged `!!float` that is not a number")),
        ("bool", _) => {
            return Err(unreadable(
                "a value tagged `!!bool` that is not `true` or `false`",
            ))
        }
        ("null", _) => return Err(unreadable("a value tagged `!!null` that is not null")),
        ("timestamp", _) => {
            return Err(unreadable(
                "a value tagged `!!timestamp` that is not a timestamp",
            ))
        }
        ("binary", _) => {
            let bytes =
                go_base64(s).ok_or(unreadable("a value tagged `!!binary` that is not base64"))?;
            Value::Str(String::from_utf8(bytes).map_err(|_| SopsRefusal::BinaryNotText)?)
        }
        _ => Value::Str(s.to_string()),
    })
}

/// Go's `base64.StdEncoding.DecodeString`, which go-yaml uses for
/// `!!binary`: the standard alphabet with padding, line breaks ignored, a
/// final character's unused bits not checked.
fn go_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::{general_purpose, DecodePaddingMode, GeneralPurpose};
    use base64::Engine as _;
    const GO_STD: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        general_purpose::PAD
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    let text: String = s.chars().filter(|&c| c != '\r' && c != '\n').collect();
    GO_STD.decode(text).ok()
}

fn lookup(s: &str) -> Option<Value> {
    Some(match s {
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        "~" | "null" | "Null" | "NULL" => Value::Null,
        ".nan" | ".NaN" | ".NAN" => Value::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Value::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

fn number_or_time(s: &str) -> Option<Value> {
    if let Some(t) = parse_timestamp(s) {
        return Some(Value::Time(t));
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    match go_parse_int(&plain) {
        Some(Parsed::Int(i)) => return Some(Value::Int(i)),
        // An unsigned value beyond i64 (go-yaml: uint64) is kept as a float.
        Some(Parsed::Big(u)) => return Some(Value::Float(u as f64)),
        None => {}
    }
    if yaml_style_float(&plain) {
        if let Some(f) = go_float(&plain) {
            return Some(Value::Float(f));
        }
    }
    None
}

/// Whether go-yaml reads the plain scalar `s` as a `uint64` (an integer
/// above the int64 range): sops cannot encrypt such a value ("Cannot walk
/// value, unknown type: uint64"), and cannot decrypt a file holding one.
pub(crate) fn is_go_uint64(s: &str) -> bool {
    // (A timestamp never reads as an integer: its `-` and `:` stop it.)
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    matches!(go_parse_int(&plain), Some(Parsed::Big(_)))
}

enum Parsed {
    Int(i64),
    Big(u64),
}

/// Go's `strconv.ParseInt(s, 0, 64)`, falling back to `ParseUint` on overflow.
fn go_parse_int(s: &str) -> Option<Parsed> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &body[2..]),
        Some("0o") => (8, &body[2..]),
        Some("0b") => (2, &body[2..]),
        _ if body.len() > 1 && body.starts_with('0') => (8, &body[1..]),
        _ => (10, body),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u128 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        v = v
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(d))?;
        if v > u128::from(u64::MAX) + 1 {
            return None;
        }
    }
    if neg {
        if v <= u128::from(i64::MAX as u64) + 1 {
            // -(2^63) fits.
            let v = u64::try_from(v).ok()?;
            return Some(Parsed::Int(0i64.wrapping_sub_unsigned(v)));
        }
        return None;
    }
    if let Ok(i) = i64::try_from(v) {
        return Some(Parsed::Int(i));
    }
    // ParseUint does not accept a sign.
    if s.starts_with('+') {
        return None;
    }
    u64::try_from(v).ok().map(Parsed::Big)
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `ParseFloat` for decimal text: an error (None) on overflow.
fn go_float(s: &str) -> Option<f64> {
    let ok = s
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !ok {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Whether `text` may hold a node with the non-specific tag `!` (a `!`
/// followed by a blank or a line break); a quick test before values kept
/// in clear are read again (see [`non_specific_as_go_yaml`]).
pub(super) fn has_non_specific_tag(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'!', bytes).any(|i| {
        bytes
            .get(i + 1)
            .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    })
}

/// go-yaml's value of the scalar `src[span]` that YAML 1.2 reads as the
/// string `value` because of its non-specific tag `!`: YAML 1.2 makes such
/// a node a string, go-yaml types a plain one as if it had no tag (`! 0xf`
/// is the integer 15, `! true` a boolean, `!` alone null). The span holds
/// the tag, or (`! &a 0xf`) the tag and an anchor come before it. `None`
/// where the two agree (another tag, a quoted or block scalar, or a value
/// go-yaml also reads as a string).
pub(super) fn non_specific_as_go_yaml(src: &str, span: Span, value: &str) -> Option<Value> {
    let blanks = [' ', '\t', '\r', '\n'];
    let lexeme = src.get(span.clone())?;
    let body = match lexeme.strip_prefix('!') {
        Some(rest) if rest.is_empty() || rest.starts_with(blanks) => {
            let rest = rest.trim_start_matches(blanks);
            // An anchor after the tag (`! &a 0xf`).
            match rest.strip_prefix('&') {
                Some(anchored) => {
                    let name_end = anchored.find(blanks).unwrap_or(anchored.len());
                    anchored.get(name_end..)?.trim_start_matches(blanks)
                }
                None => rest,
            }
        }
        Some(_) => return None,
        None if non_specific_anchor_before(src.get(..span.start)?) => lexeme,
        None => return None,
    };
    if body.starts_with(['\'', '"', '|', '>', '#']) {
        return None;
    }
    match resolve_typed(value) {
        Some(Value::Str(_)) | None => None,
        typed => typed,
    }
}

/// Whether `before` (the text up to a scalar) ends in the non-specific tag
/// and an anchor (`! &a `), which a parse leaves out of the scalar's span.
fn non_specific_anchor_before(before: &str) -> bool {
    let is_blank = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let t = before.trim_end_matches(is_blank);
    let Some(i) = t.rfind(is_blank) else {
        return false;
    };
    let (head, anchor) = t.split_at(i + 1);
    if !anchor.starts_with('&') {
        return false;
    }
    let head = head.trim_end_matches(is_blank);
    let Some(tagless) = head.strip_suffix('!') else {
        return false;
    };
    tagless.is_empty() || tagless.ends_with(|c: char| is_blank(c) || "[{,:-?".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        match &resolve_plain(s) {
            Value::Null => "null".into(),
            Value::Str(s) => format!("str:{s}"),
            Value::Int(i) => format!("int:{i}"),
            Value::Float(f) => format!("float:{f:?}"),
            Value::Bool(b) => format!("bool:{b}"),
            Value::Time(t) => format!("time:{t}"),
        }
    }

    #[test]
    fn nulls_and_bools() {
        for s in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(r(s), "null", "{s}");
        }
        for s in ["true", "True", "TRUE"] {
            assert_eq!(r(s), "bool:true");
        }
        for s in ["false", "False", "FALSE"] {
            assert_eq!(r(s), "bool:false");
        }
        for s in ["yes", "no", "on", "off", "y", "n", "nULL", "tRUE", "<<"] {
            assert_eq!(r(s), format!("str:{s}"));
        }
    }

    #[test]
    fn integers() {
        assert_eq!(r("0"), "int:0");
        assert_eq!(r("-3"), "int:-3");
        assert_eq!(r("+7"), "int:7");
        assert_eq!(r("1_000"), "int:1000");
        assert_eq!(r("0x1F"), "int:31");
        assert_eq!(r("-0x1f"), "int:-31");
        assert_eq!(r("0o17"), "int:15");
        assert_eq!(r("0b101"), "int:5");
        assert_eq!(r("0777"), "int:511");
        assert_eq!(r("9223372036854775807"), "int:9223372036854775807");
        assert_eq!(r("-9223372036854775808"), "int:-9223372036854775808");
        assert_eq!(r("9223372036854775808"), "float:9.223372036854776e18");
        assert_eq!(r("99999999999999999999"), "float:1e20");
        assert_eq!(r("08"), "float:8.0");
        assert_eq!(r("_1"), "str:_1");
        assert_eq!(r("0x"), "str:0x");
        assert_eq!(r("0xFFFFFFFFFFFFFFFFFFFF"), "str:0xFFFFFFFFFFFFFFFFFFFF");
    }

    #[test]
    fn floats() {
        assert_eq!(r("1.5"), "float:1.5");
        assert_eq!(r("1e3"), "float:1000.0");
        assert_eq!(r("-.5"), "float:-0.5");
        assert_eq!(r(".5"), "float:0.5");
        assert_eq!(r("1."), "float:1.0");
        assert_eq!(r("1_0.5"), "float:10.5");
        assert_eq!(r(".inf"), "float:inf");
        assert_eq!(r("-.Inf"), "float:-inf");
        assert_eq!(r("+.INF"), "float:inf");
        assert_eq!(r(".nan"), "float:NaN");
        assert_eq!(r("1e400"), "str:1e400");
        assert_eq!(r("."), "str:.");
        assert_eq!(r("1.2.3"), "str:1.2.3");
        assert_eq!(r("3.11.0"), "str:3.11.0");
        assert_eq!(r("0x1p-2"), "str:0x1p-2");
        assert_eq!(r("inf"), "str:inf");
    }

    #[test]
    fn times_and_tags() {
        assert_eq!(r("2024-01-02"), "time:2024-01-02T00:00:00Z");
        assert_eq!(r("2024-01-02 x"), "str:2024-01-02 x");
        assert!(matches!(resolve_core_tag("int", "5"), Ok(Value::Int(5))));
        assert!(matches!(resolve_core_tag("float", "5"), Ok(Value::Float(f)) if f == 5.0));
        assert!(resolve_core_tag("int", "x").is_err());
        assert!(resolve_core_tag("int", "1.5").is_err());
        assert!(resolve_core_tag("bool", "yes").is_err());
        assert!(resolve_core_tag("null", "x").is_err());
        assert!(resolve_core_tag("float", "x").is_err());
        assert!(resolve_core_tag("timestamp", "x").is_err());
        assert!(matches!(
            resolve_core_tag("bool", "true"),
            Ok(Value::Bool(true))
        ));
        assert!(matches!(resolve_core_tag("null", ""), Ok(Value::Null)));
        assert!(matches!(
            resolve_core_tag("timestamp", "2024-01-02"),
            Ok(Value::Time(_))
        ));
        assert!(matches!(&resolve_core_tag("map", "x"), Ok(Value::Str(s)) if s == "x"));
    }

    /// `!!binary` as go-yaml reads it (Go's `base64.StdEncoding`), measured
    /// with sops 3.11.
    #[test]
    fn binary() {
        let text = |s: &str| match &resolve_core_tag("binary", s) {
            Ok(Value::Str(t)) => Ok(t.clone()),
            Ok(_) => Err("not a string"),
            Err(e) => Err(e.what()),
        };
        assert_eq!(text("aGVsbG8="), Ok("hello".into()));
        assert_eq!(text("aGVs\nbG8=\n"), Ok("hello".into()));
        assert_eq!(text("aGVs\rbG8="), Ok("hello".into()));
        assert_eq!(text("aGVsbG9="), Ok("hello".into()));
        assert_eq!(text("AAEC"), Ok("\0\x01\x02".into()));
        assert_eq!(text(""), Ok(String::new()));
        for bad in ["aGVsbG8", "aGVs bG8=", "aGVs\tbG8=", "aGk=aGk=", "*"] {
            assert!(text(bad).unwrap_err().contains("not base64"), "{bad:?}");
        }
        assert!(text("/w==").unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn uint64_as_go_yaml_reads_it() {
        for s in [
            "9223372036854775808",
            "18446744073709551615",
            "0xFFFFFFFFFFFFFFFF",
            "0o1777777777777777777777",
            "1_2345678901234567890",
        ] {
            assert!(is_go_uint64(s), "{s}");
        }
        for s in [
            "9223372036854775807",
            "18446744073709551616",
            "+12345678901234567890",
            "-9223372036854775809",
            "1.5",
            "x",
        ] {
            assert!(!is_go_uint64(s), "{s}");
        }
    }

    #[test]
    fn non_specific_tags_as_go_yaml_types_them() {
        // (the text, the scalar's span in it, YAML 1.2's value, go-yaml's)
        let cases: &[(&str, &str, &str, Option<&str>)] = &[
            ("k: ! 0xf", "! 0xf", "0xf", Some("int:15")),
            ("k: ! true", "! true", "true", Some("bool:true")),
            ("k: !", "!", "", Some("null")),
            ("k: !\n  7", "!\n  7", "7", Some("int:7")),
            ("k: ! &a 12", "! &a 12", "12", Some("int:12")),
            ("k: ! &a 12", "12", "12", Some("int:12")),
            ("[! &a 1]", "1", "1", Some("int:1")),
            ("k: ! x", "! x", "x", None),
            ("k: ! '1'", "! '1'", "1", None),
            ("k: ! |\n  1", "! |\n  1", "1", None),
            ("k: !!str 1", "!!str 1", "1", None),
            ("k: !x 1", "!x 1", "1", None),
            ("k: &a 1", "1", "1", None),
            ("k: !! &a 1", "1", "1", None),
            ("k: x! &a 1", "1", "1", None),
        ];
        for (src, lexeme, value, want) in cases {
            let start = src.rfind(lexeme).unwrap_or(0);
            let got = non_specific_as_go_yaml(src, start..start + lexeme.len(), value);
            let got = got.map(|v| match v {
                Value::Null => "null".to_string(),
                Value::Int(i) => format!("int:{i}"),
                Value::Bool(b) => format!("bool:{b}"),
                other => format!("{:?}", matches!(other, Value::Str(_))),
            });
            assert_eq!(got.as_deref(), *want, "{src:?} {lexeme:?}");
        }
        assert!(has_non_specific_tag("k: ! 1"));
        assert!(has_non_specific_tag("k: !"));
        assert!(!has_non_specific_tag("k: !!str 1\nl: !x y\n"));
    }
}
