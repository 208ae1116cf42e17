//! Wiping the strings of `serde_json` values that hold plaintext (a
//! document published to Vault, the value `set` is given): a
//! `serde_json::Value` keeps them in `String`s of its own, which it drops
//! without wiping.

use serde_json::{Map, Value};
use sops_like_format::wipe;

/// Wipe the strings of `data` (see [`wipe_json`]).
pub fn wipe_data(data: &mut Map<String, Value>) {
    data.values_mut().for_each(wipe_json);
}

/// Wipe every string of `value` (keys are names, not wiped). A number
/// keeps its text (serde_json gives no way to change it in place).
pub fn wipe_json(value: &mut Value) {
    match value {
        Value::String(s) => wipe::wipe_string(s),
        Value::Array(items) => items.iter_mut().for_each(wipe_json),
        Value::Object(m) => wipe_data(m),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// A parsed JSON value whose strings are wiped when it is dropped.
pub struct Wiped(pub Value);

impl Drop for Wiped {
    fn drop(&mut self) {
        wipe_json(&mut self.0);
    }
}
