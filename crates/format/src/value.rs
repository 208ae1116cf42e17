//! The plaintext encoding of values, exactly as SOPS encrypts and MACs them.

use crate::tree::Value;

impl Value {
    /// Whether sops leaves this value as it is whatever the selector says:
    /// `null` and the empty string are never encrypted.
    pub fn is_never_encrypted(&self) -> bool {
        matches!(self, Value::Null) || matches!(self, Value::Str(s) if s.is_empty())
    }

    /// The `type:` name sops writes for this value (`str`, `int`, `float`,
    /// `bool`, `time`). `Null` is never encrypted; it reports `str`.
    pub fn sops_type(&self) -> &'static str {
        match self {
            Value::Null | Value::Str(_) => "str",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Bool(_) => "bool",
            Value::Time(_) => "time",
        }
    }

    /// The bytes sops encrypts and feeds to the MAC for this value:
    /// `True`/`False`, Go `'f'` float formatting (never an exponent),
    /// decimal integers, RFC 3339 times, strings as they are. `None` for null.
    pub fn sops_text(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(go_float(*f)),
            Value::Bool(true) => Some("True".to_string()),
            Value::Bool(false) => Some("False".to_string()),
            Value::Time(t) => Some(t.clone()),
        }
    }

    /// [`Value::from_sops`] for a value of a file in `format`: a TOML file's
    /// times are TOML's (local dates and times, `07:32`), which sops-like
    /// writes there (sops has no TOML).
    pub fn from_sops_in(format: crate::syntax::Format, ty: &str, text: &str) -> Option<Value> {
        match (format, ty) {
            (crate::syntax::Format::Toml, "time")
                if crate::syntax::toml::is_datetime_lexeme(text) =>
            {
                Some(Value::Time(text.to_string()))
            }
            _ => Value::from_sops(ty, text),
        }
    }

    /// Decode the plaintext of an `ENC[…,type:T]` value as sops does.
    /// `comment` is not a value type; `bytes` (legacy) reads as a string.
    pub fn from_sops(ty: &str, text: &str) -> Option<Value> {
        match ty {
            "str" | "bytes" => Some(Value::Str(text.to_string())),
            "int" => text.parse().ok().map(Value::Int),
            "float" => parse_go_float(text).map(Value::Float),
            "bool" => match text {
                "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(Value::Bool(true)),
                "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(Value::Bool(false)),
                _ => None,
            },
            "time" => is_rfc3339(text).then(|| Value::Time(text.to_string())),
            _ => None,
        }
    }
}

/// Whether `t` is an RFC 3339 time as Go's `time.Parse(time.RFC3339, …)`
/// reads one for sops (`2024-01-02T03:04:05Z`, a fraction, `+01:00`; a
/// day the month has, a second below 60): sops refuses a `type:time` value
/// that is not one (exit 25).
pub(crate) fn is_rfc3339(t: &str) -> bool {
    let (Some(date), Some(b'T'), Some(time)) = (t.get(..10), t.as_bytes().get(10), t.get(11..))
    else {
        return false;
    };
    let Some(mut zone) = time
        .get(8..)
        .filter(|_| is_date(date) && is_clock(time.get(..8).unwrap_or_default()))
    else {
        return false;
    };
    if let Some(frac) = zone.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        zone = frac.get(n..).unwrap_or_default();
    }
    let zb = zone.as_bytes();
    zone == "Z"
        || (zb.len() == 6
            && matches!(zb.first(), Some(b'+' | b'-'))
            && is_clock_part(zone.get(1..3))
            && zb.get(3) == Some(&b':')
            && is_clock_part(zone.get(4..6)))
}

/// `YYYY-MM-DD`.
fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    let num = |r: std::ops::Range<usize>| d.get(r).and_then(|x| x.parse::<u32>().ok());
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
        && match (num(0..4), num(5..7), num(8..10)) {
            (Some(y), Some(m), Some(d)) => {
                (1..=12).contains(&m) && (1..=crate::syntax::yaml::days_in(m, y)).contains(&d)
            }
            _ => false,
        }
}

/// `HH:MM:SS`.
fn is_clock(c: &str) -> bool {
    let b = c.as_bytes();
    let num = |r: std::ops::Range<usize>| c.get(r).and_then(|x| x.parse::<u32>().ok());
    b.len() == 8
        && b.get(2) == Some(&b':')
        && b.get(5) == Some(&b':')
        && [0..2, 3..5, 6..8]
            .into_iter()
            .all(|r| is_clock_part(c.get(r)))
        && num(0..2).is_some_and(|h| h < 24)
        && num(3..5).is_some_and(|m| m < 60)
        && num(6..8).is_some_and(|s| s < 60)
}

fn is_clock_part(p: Option<&str>) -> bool {
    p.is_some_and(|p| p.len() == 2 && p.bytes().all(|c| c.is_ascii_digit()))
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits,
/// no exponent; `+Inf`, `-Inf`, `NaN`.
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        // Rust's Display is the shortest round-trip form without exponent.
        format!("{f}")
    }
}

fn parse_go_float(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_format_like_go() {
        assert_eq!(go_float(1.0), "1");
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(1e3), "1000");
        assert_eq!(go_float(1e20), "100000000000000000000");
        assert_eq!(go_float(-0.0), "-0");
        assert_eq!(go_float(12345678901234567890.0), "12345678901234567000");
        assert_eq!(go_float(f64::INFINITY), "+Inf");
        assert_eq!(go_float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(go_float(f64::NAN), "NaN");
        assert_eq!(go_float(0.1), "0.1");
    }

    #[test]
    fn sops_text_and_back() {
        for v in [
            Value::Str("x".into()),
            Value::Int(-3),
            Value::Float(2.5),
            Value::Bool(true),
            Value::Bool(false),
        ] {
            let text = v.sops_text().unwrap_or_default();
            assert!(Value::from_sops(v.sops_type(), &text) == Some(v.clone()));
        }
        assert_eq!(Value::Bool(true).sops_text().as_deref(), Some("True"));
        assert!(Value::Null.sops_text().is_none());
        assert!(Value::from_sops("nope", "x").is_none());
        for t in [
            "2024-01-02T03:04:05Z",
            "2024-01-02T03:04:05.123456789Z",
            "2024-12-31T23:59:59+01:00",
            "2024-01-02T00:00:00-07:30",
            "2024-02-29T00:00:00Z",
        ] {
            assert!(
                Value::from_sops("time", t) == Some(Value::Time(t.into())),
                "{t}"
            );
        }
        for t in [
            "True",
            "5432",
            "2024-01-02",
            "2024-01-02T03:04:05",
            "2023-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-01-01T10:00:60Z",
            "",
            "2024-13-02T03:04:05Z",
            "03:04:05Z",
            "2024-01-02X03:04:05",
            "2024-01-02T24:04:05Z",
            "2024-01-02T03:04:05.Z",
            "2024-01-02T03:04:05+0100",
            "2024-01-02T03:04:05Zjunk",
        ] {
            assert!(Value::from_sops("time", t).is_none(), "{t}");
        }
        // A TOML file's times are TOML's.
        use crate::syntax::Format;
        for t in ["2024-01-02", "07:32", "2024-01-02T03:04:05", "03:04:05.5"] {
            let v = Some(Value::Time(t.into()));
            assert!(Value::from_sops_in(Format::Toml, "time", t) == v, "{t}");
            assert!(
                Value::from_sops_in(Format::Json, "time", t).is_none(),
                "{t}"
            );
        }
        // Legacy `bytes` (never written by sops 3.x) reads as a string.
        assert!(Value::from_sops("bytes", "raw") == Some(Value::Str("raw".into())));
        // Go's ParseBool spellings.
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert!(Value::from_sops("bool", t) == Some(Value::Bool(true)));
        }
        assert!(Value::from_sops("float", "+Inf") == Some(Value::Float(f64::INFINITY)));
    }
}
