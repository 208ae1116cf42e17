//! age recipients: `age1…` X25519 keys and `ssh-ed25519` / `ssh-rsa` public
//! keys, and wrapping a secret to one of them.

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use age::armor::{ArmoredWriter, Format};

use crate::error::KeyError;

/// A parsed age recipient, remembering the text it was parsed from (which is
/// what sops stores in the `recipient` field).
#[derive(Clone)]
pub struct Recipient {
    text: String,
    key: RecipientKey,
}

#[derive(Clone)]
enum RecipientKey {
    X25519(age::x25519::Recipient),
    Ssh(age::ssh::Recipient),
    /// Served by the program `age-plugin-<name>`.
    #[cfg(feature = "age-plugins")]
    Plugin(age::plugin::Recipient),
}

impl Recipient {
    /// Parses a recipient; surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let invalid = |reason: &str| KeyError::InvalidRecipient {
            recipient: text.to_owned(),
            reason: reason.to_owned(),
        };
        let key = if text.starts_with("ssh-") {
            let ssh = age::ssh::Recipient::from_str(text).map_err(|e| {
                use age::ssh::ParseRecipientKeyError as E;
                invalid(&match e {
                    E::Unsupported(kind) => format!("unsupported SSH key type {kind}"),
                    E::RsaModulusTooLarge => "the RSA modulus is too large".to_owned(),
                    E::RsaModulusTooSmall => "the RSA modulus is smaller than 2048 bits".to_owned(),
                    _ => "not a valid ssh-ed25519 or ssh-rsa public key".to_owned(),
                })
            })?;
            RecipientKey::Ssh(ssh)
        } else if text.starts_with("age1pq1") {
            return Err(invalid("post-quantum age recipients are not supported yet"));
        } else if text.starts_with("age1") {
            match age::x25519::Recipient::from_str(text) {
                Ok(r) => RecipientKey::X25519(r),
                #[cfg(feature = "age-plugins")]
                Err(_) if is_plugin_recipient(text) => RecipientKey::Plugin(
                    super::plugin::parse_recipient(text).map_err(|e| invalid(&e))?,
                ),
                #[cfg(not(feature = "age-plugins"))]
                Err(_) if is_plugin_recipient(text) => {
                    return Err(invalid(
                        "age plugin recipients need the cargo feature `age-plugins`",
                    ))
                }
                Err(e) => return Err(invalid(e)),
            }
        } else {
            return Err(invalid(
                "expected an age1… X25519 key or an ssh-ed25519/ssh-rsa public key",
            ));
        };
        Ok(Self {
            text: text.to_owned(),
            key,
        })
    }

    /// The recipient as given (trimmed), e.g. `age1…` or `ssh-ed25519 AAAA… comment`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The key type: `"X25519"`, `"ssh-ed25519"`, `"ssh-rsa"` or `"plugin"`.
    pub fn key_type(&self) -> &'static str {
        match &self.key {
            RecipientKey::X25519(_) => "X25519",
            RecipientKey::Ssh(age::ssh::Recipient::SshEd25519(..)) => "ssh-ed25519",
            RecipientKey::Ssh(age::ssh::Recipient::SshRsa(..)) => "ssh-rsa",
            #[cfg(feature = "age-plugins")]
            RecipientKey::Plugin(_) => "plugin",
        }
    }

    /// Runs `f` with the recipient as age wraps to it (for a plugin: its
    /// program, which must be on `PATH`).
    fn with_age<T>(&self, f: impl FnOnce(&dyn age::Recipient) -> T) -> Result<T, String> {
        match &self.key {
            RecipientKey::X25519(r) => Ok(f(r)),
            RecipientKey::Ssh(r) => Ok(f(r)),
            #[cfg(feature = "age-plugins")]
            RecipientKey::Plugin(r) => Ok(f(&super::plugin::recipient_plugin(r)?)),
        }
    }

    /// The canonical public key without an SSH comment (used to match a
    /// recipient against a loaded identity).
    pub(crate) fn canonical(&self) -> String {
        match &self.key {
            RecipientKey::X25519(r) => r.to_string(),
            RecipientKey::Ssh(r) => r.to_string(),
            #[cfg(feature = "age-plugins")]
            RecipientKey::Plugin(r) => r.to_string(),
        }
    }
}

/// Plugin recipients are `age1<name>1<bech32>`: an extra `1` inside the HRP.
fn is_plugin_recipient(text: &str) -> bool {
    text.get(4..).is_some_and(|rest| rest.contains('1'))
}

impl FromStr for Recipient {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient({:?})", self.text)
    }
}

impl PartialEq for Recipient {
    fn eq(&self, other: &Self) -> bool {
        self.canonical() == other.canonical()
    }
}

impl Eq for Recipient {}

/// Encrypts `secret` to the one `recipient` as an ASCII-armored age file,
/// exactly the `enc` text sops writes: `-----BEGIN AGE ENCRYPTED FILE-----`,
/// 64-column base64 lines, `-----END AGE ENCRYPTED FILE-----` and a newline.
pub fn wrap(secret: &[u8], recipient: &Recipient) -> Result<String, KeyError> {
    let fail = |reason: String| KeyError::Wrap {
        recipient: recipient.text.clone(),
        reason,
    };
    let encryptor = recipient
        .with_age(|r| age::Encryptor::with_recipients(std::iter::once(r)))
        .map_err(fail)?
        .map_err(|e| fail(e.to_string()))?;
    let mut out = Vec::new();
    let armored = ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor)
        .map_err(|e| fail(e.to_string()))?;
    let mut writer = encryptor
        .wrap_output(armored)
        .map_err(|e| fail(e.to_string()))?;
    writer.write_all(secret).map_err(|e| fail(e.to_string()))?;
    writer
        .finish()
        .and_then(|armor| armor.finish())
        .map_err(|e| fail(e.to_string()))?;
    let mut text = String::from_utf8(out).map_err(|_| fail("armor is not UTF-8".to_owned()))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const AGE1: &str = "age1eqfdwqy0wt6mwsh5k66w2v9x974wd7cnt50agcmvntnlf3up5dps8w3mdg";

    #[test]
    fn parses_x25519_and_ssh() {
        let r = Recipient::parse(&format!("  {AGE1}\n")).unwrap();
        assert_eq!(r.as_str(), AGE1);
        assert_eq!(r.to_string(), AGE1);
        assert_eq!(r.key_type(), "X25519");
        let ed = include_str!("../../../../testdata/keys/id_ed25519.pub");
        let r = Recipient::parse(ed).unwrap();
        assert_eq!(r.key_type(), "ssh-ed25519");
        assert_eq!(r.as_str(), ed.trim());
        let rsa = include_str!("../../../../testdata/keys/id_rsa.pub");
        assert_eq!(Recipient::parse(rsa).unwrap().key_type(), "ssh-rsa");
    }

    #[test]
    fn rejects_bad_recipients_naming_them() {
        for bad in [
            "",
            "age1",
            "age1notakey",
            "bob@example.com",
            "ssh-ed25519 AAAAnope",
            "ecdsa-sha2-nistp256 AAAAE2VjZHNh",
            "AGE-SECRET-KEY-1Y7NH9KADN73HWDD5C7XRGXW8FWPDGEM6GMEFG0V8A7PJ0VQNPHNSQN4NXS",
        ] {
            let err = Recipient::parse(bad).unwrap_err();
            assert!(matches!(err, KeyError::InvalidRecipient { .. }), "{bad}");
            assert!(
                err.to_string().contains(&format!("{:?}", bad.trim())),
                "{err}"
            );
        }
        let err = Recipient::parse("age1yubikey1qwertyuiop").unwrap_err();
        assert!(err.to_string().contains("plugin"), "{err}");
    }

    #[cfg(feature = "age-plugins")]
    #[test]
    fn plugin_recipients_parse_and_name_a_missing_program() {
        let text = "age1missing1wdhhquedd35kkefqw3jhxapqwfjkx6tsd9jkuaqcg3cgy";
        let r = Recipient::parse(text).unwrap();
        assert_eq!(r.key_type(), "plugin");
        assert_eq!(r.as_str(), text);
        let err = wrap(&[1; 32], &r).unwrap_err().to_string();
        assert!(err.contains("age-plugin-missing"), "{err}");
        // A name outside [a-z0-9-._] is refused at parse time.
        let err = Recipient::parse("age1a/b1qqqqqq").unwrap_err().to_string();
        assert!(err.contains("plugin name"), "{err}");
    }

    #[test]
    fn wrap_is_armored_like_sops() {
        let r = Recipient::parse(AGE1).unwrap();
        let enc = wrap(&[42; 32], &r).unwrap();
        assert!(enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert!(enc.ends_with("\n-----END AGE ENCRYPTED FILE-----\n"));
        let lines: Vec<&str> = enc.lines().collect();
        let body = &lines[1..lines.len() - 1];
        assert!(body.iter().all(|l| l.len() <= 64));
        assert!(body[..body.len() - 1].iter().all(|l| l.len() == 64));
        assert!(!enc.contains('\r'));
    }

    #[test]
    fn equality_ignores_ssh_comment() {
        let ed = include_str!("../../../../testdata/keys/id_ed25519.pub").trim();
        let without: String = ed.split(' ').take(2).collect::<Vec<_>>().join(" ");
        assert_eq!(
            Recipient::parse(ed).unwrap(),
            Recipient::parse(&without).unwrap()
        );
    }
}
