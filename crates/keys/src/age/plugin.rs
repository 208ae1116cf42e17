//! age plugins: recipients `age1<name>1…` and identities
//! `AGE-PLUGIN-<NAME>-1…`, served by an `age-plugin-<name>` program found on
//! `PATH` (by the `age` crate, when a key is used).
//!
//! Plugin names are restricted to `[a-z0-9-._]` before any program is
//! looked up, so a crafted recipient cannot name a path
//! (GHSA-4fg7-vxc8-qx5w). Plugins never talk to the user through us: every
//! request for a message, a confirmation or a PIN is answered "no".

use std::str::FromStr;

use age::plugin::{IdentityPluginV1, RecipientPluginV1};
use age::secrecy::SecretString;

/// Checks a plugin name: non-empty, only `[a-z0-9-._]`.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b));
    if ok {
        Ok(())
    } else {
        Err("the age plugin name may only contain a-z, 0-9, '-', '.' and '_'".to_owned())
    }
}

/// The plugin name inside `age1<name>1…` (the part of the Bech32 prefix
/// after `age1`, up to the last `1`), if the text has that shape.
pub(crate) fn recipient_name(text: &str) -> Option<&str> {
    let hrp = text.get(..text.rfind('1')?)?;
    hrp.strip_prefix("age1").filter(|n| !n.is_empty())
}

/// The plugin name inside `AGE-PLUGIN-<NAME>-1…`, lowercased.
pub(crate) fn identity_name(line: &str) -> Option<String> {
    let rest = line.strip_prefix("AGE-PLUGIN-")?;
    let name = rest.get(..rest.rfind("-1")?)?;
    (!name.is_empty()).then(|| name.to_ascii_lowercase())
}

/// Parses a plugin recipient, checking its name first.
pub(crate) fn parse_recipient(text: &str) -> Result<age::plugin::Recipient, String> {
    let name = recipient_name(text).ok_or("not an age plugin recipient")?;
    check_name(name)?;
    age::plugin::Recipient::from_str(text).map_err(|e| format!("not a valid plugin recipient: {e}"))
}

/// The wrapping side of the recipient's plugin; fails when the program
/// `age-plugin-<name>` is not on `PATH`.
pub(crate) fn recipient_plugin(
    recipient: &age::plugin::Recipient,
) -> Result<RecipientPluginV1<NoCallbacks>, String> {
    let name = recipient.plugin();
    check_name(name)?;
    RecipientPluginV1::new(name, std::slice::from_ref(recipient), &[], NoCallbacks)
        .map_err(|_| format!("the program age-plugin-{name} was not found on PATH"))
}

/// What an `AGE-PLUGIN-…` identity line gives.
pub(crate) enum PluginIdentity {
    /// Ready to unwrap through its plugin.
    Ready(Box<IdentityPluginV1<NoCallbacks>>),
    /// Valid, but unusable here (its program is missing): why.
    Unavailable(String),
}

/// Parses an identity line; `Err` when it is malformed or its plugin name
/// is not allowed.
pub(crate) fn parse_identity(line: &str) -> Result<PluginIdentity, String> {
    let name = identity_name(line).ok_or("not an age plugin identity")?;
    check_name(&name)?;
    let identity = age::plugin::Identity::from_str(line)
        .map_err(|_| "not a valid age plugin identity".to_owned())?;
    Ok(
        match IdentityPluginV1::new(&name, std::slice::from_ref(&identity), NoCallbacks) {
            Ok(plugin) => PluginIdentity::Ready(Box::new(plugin)),
            Err(_) => PluginIdentity::Unavailable(format!(
                "the program age-plugin-{name} was not found on PATH"
            )),
        },
    )
}

/// Answers every plugin request with "no": this library never prompts.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NoCallbacks;

impl age::Callbacks for NoCallbacks {
    fn display_message(&self, _message: &str) {}

    fn confirm(&self, _message: &str, _yes: &str, _no: Option<&str>) -> Option<bool> {
        None
    }

    fn request_public_string(&self, _description: &str) -> Option<String> {
        None
    }

    fn request_passphrase(&self, _description: &str) -> Option<SecretString> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_restricted() {
        for ok in ["yubikey", "tpm", "se", "a-b.c_d", "x9"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Yubikey", "a/b", "..%2f", "a+b", "a b", "ü", "a\\b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_are_found_in_recipients_and_identities() {
        assert_eq!(recipient_name("age1yubikey1qqq"), Some("yubikey"));
        assert_eq!(recipient_name("age1a.b1qqq"), Some("a.b"));
        assert_eq!(recipient_name("age1qqq"), None);
        assert_eq!(
            identity_name("AGE-PLUGIN-YUBIKEY-1QQQ").as_deref(),
            Some("yubikey")
        );
        assert_eq!(identity_name("AGE-PLUGIN--1QQQ"), None);
        assert_eq!(identity_name("AGE-SECRET-KEY-1QQQ"), None);
    }

    #[test]
    fn bad_plugin_names_are_refused_before_any_lookup() {
        // A bech32-valid recipient whose name holds a path separator: the
        // name check fires first, with a clear message.
        let e = parse_recipient("age1../x1qqqqqq").err().unwrap();
        assert!(e.contains("plugin name"), "{e}");
        let e = parse_identity("AGE-PLUGIN-../../BIN/SH-1QQQQQQ")
            .err()
            .unwrap();
        assert!(e.contains("plugin name"), "{e}");
        let e = parse_identity("AGE-PLUGIN-A+B-1QQQQQQ").err().unwrap();
        assert!(e.contains("plugin name"), "{e}");
    }
}
