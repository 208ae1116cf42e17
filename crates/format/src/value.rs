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
            "time" => Some(Value::Time(text.to_string())),
            _ => None,
        }
    }
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
        // Legacy `bytes` (never written by sops 3.x) reads as a string.
        assert!(Value::from_sops("bytes", "raw") == Some(Value::Str("raw".into())));
        // Go's ParseBool spellings.
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert!(Value::from_sops("bool", t) == Some(Value::Bool(true)));
        }
        assert!(Value::from_sops("float", "+Inf") == Some(Value::Float(f64::INFINITY)));
    }
}
