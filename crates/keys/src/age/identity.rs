//! age identities gathered from several sources (identity text, identity
//! files, SSH private keys), and unwrapping an armored `enc` with them.

use std::fmt;
use std::io::{self, Read};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use age::armor::ArmoredReader;
use age::secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::age::recipient::Recipient;
use crate::age::time::now_rfc3339;
use crate::error::KeyError;

/// Largest age payload we accept when unwrapping (a data key is 32 bytes, a
/// Shamir share 33; anything much larger is not an `enc`).
const MAX_PAYLOAD: u64 = 64 * 1024;

/// Largest identity file or SSH key we read.
const MAX_IDENTITY_FILE: u64 = 16 * 1024 * 1024;

const ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";

/// Asks the user for a passphrase. Implemented by the CLI (the library never
/// prompts by itself).
pub trait PassphrasePrompt: Send + Sync {
    /// Returns the passphrase for the key described by `description` (it
    /// names the source label), or `None` to skip that key.
    fn passphrase(&self, description: &str) -> Option<Zeroizing<String>>;
}

/// Where identities were looked for and what was found there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySource {
    /// The caller's label: a path or an environment variable name.
    pub label: String,
    /// What happened.
    pub status: SourceStatus,
}

/// The outcome of loading one identity source.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceStatus {
    /// Identities were loaded; their public keys (recipients) are listed.
    Loaded {
        /// The recipient of each loaded identity (public information).
        recipients: Vec<String>,
        /// Entries that were present but skipped, with the reason.
        skipped: Vec<String>,
    },
    /// An optional source did not exist.
    NotFound,
    /// The source was present but nothing usable was taken from it.
    Skipped {
        /// Why.
        reason: String,
    },
}

impl fmt::Display for IdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.status {
            SourceStatus::Loaded {
                recipients,
                skipped,
            } => {
                write!(f, "{}: ", self.label)?;
                match recipients.len() {
                    0 => write!(f, "no identities")?,
                    1 => write!(f, "1 identity")?,
                    n => write!(f, "{n} identities")?,
                }
                if !recipients.is_empty() {
                    write!(f, " ({})", recipients.join(", "))?;
                }
                for note in skipped {
                    write!(f, "; skipped {note}")?;
                }
                Ok(())
            }
            SourceStatus::NotFound => write!(f, "{}: not found", self.label),
            SourceStatus::Skipped { reason } => write!(f, "{}: skipped: {reason}", self.label),
        }
    }
}

/// Why an `enc` could not be unwrapped by [`Identities::unwrap`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgeUnwrapError {
    /// No identity was loaded at all.
    #[error("no age identities were loaded")]
    NoIdentities,
    /// None of the loaded identities can open this `enc`.
    #[error("no identity matches")]
    NoMatch,
    /// The `enc` is not a well-formed (armored) age file.
    #[error("malformed age data: {0}")]
    Malformed(String),
    /// An identity matched but decryption failed (corrupted or tampered `enc`).
    #[error("decryption failed: {0}")]
    Failed(String),
    /// The decrypted payload is larger than any data key or share.
    #[error("decrypted payload is too large")]
    TooLarge,
}

/// A set of age identities, with the record of where they came from.
#[derive(Default)]
pub struct Identities {
    entries: Vec<Entry>,
    sources: Vec<IdentitySource>,
    prompt: Option<Arc<dyn PassphrasePrompt>>,
}

struct Entry {
    /// Canonical recipient of this identity (without SSH comment), when known.
    public: Option<String>,
    identity: Box<dyn age::Identity + Send + Sync>,
}

impl Identities {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `prompt` to ask for passphrases of protected SSH keys and
    /// passphrase-encrypted identity files added afterwards. Without it such
    /// sources are skipped (and listed as skipped in [`Identities::sources`]).
    pub fn with_passphrase_prompt(mut self, prompt: Arc<dyn PassphrasePrompt>) -> Self {
        self.prompt = Some(prompt);
        self
    }

    /// Adds identities from text: `AGE-SECRET-KEY-1…` lines, `#` comments and
    /// blank lines (what `age-keygen` writes, or `SOPS_AGE_KEY`). Text that is
    /// a passphrase-encrypted age file is decrypted through the prompt.
    /// Returns how many identities were added. A line that is not an identity
    /// is an error naming the label and line number (never the line).
    pub fn add_text(&mut self, label: &str, text: &str) -> Result<usize, KeyError> {
        if text.trim_start().starts_with(ARMOR_BEGIN) {
            return self.add_encrypted_text(label, text);
        }
        let mut recipients = Vec::new();
        let mut skipped = Vec::new();
        let mut entries = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with("AGE-PLUGIN-") {
                #[cfg(feature = "age-plugins")]
                match super::plugin::parse_identity(line) {
                    Ok(super::plugin::PluginIdentity::Ready(plugin)) => entries.push(Entry {
                        public: None,
                        identity: plugin,
                    }),
                    Ok(super::plugin::PluginIdentity::Unavailable(why)) => {
                        skipped.push(format!("line {}: {why}", number + 1));
                    }
                    Err(why) => {
                        return Err(KeyError::InvalidIdentity {
                            label: label.to_owned(),
                            reason: format!("line {}: {why}", number + 1),
                        })
                    }
                }
                #[cfg(not(feature = "age-plugins"))]
                skipped.push(format!(
                    "line {}: age plugin identity (cargo feature `age-plugins` is off)",
                    number + 1
                ));
                continue;
            }
            if line.starts_with("AGE-SECRET-KEY-PQ-") {
                skipped.push(format!(
                    "line {}: post-quantum identity (unsupported)",
                    number + 1
                ));
                continue;
            }
            let identity =
                line.parse::<age::x25519::Identity>()
                    .map_err(|_| KeyError::InvalidIdentity {
                        label: label.to_owned(),
                        reason: format!("line {} is not a valid age identity", number + 1),
                    })?;
            let public = identity.to_public().to_string();
            recipients.push(public.clone());
            entries.push(Entry {
                public: Some(public),
                identity: Box::new(identity),
            });
        }
        let added = entries.len();
        self.entries.extend(entries);
        self.sources.push(IdentitySource {
            label: label.to_owned(),
            status: SourceStatus::Loaded {
                recipients,
                skipped,
            },
        });
        Ok(added)
    }

    /// Adds identities from an identity file. A missing file is an error if
    /// `required`, otherwise it is recorded as not found.
    pub fn add_file(&mut self, path: &Path, required: bool) -> Result<usize, KeyError> {
        let label = path.display().to_string();
        match read_limited(path, &label)? {
            Some(text) => self.add_text(&label, &text),
            None => self.not_found(label, required),
        }
    }

    /// Adds an OpenSSH private key (ssh-ed25519 or ssh-rsa). A missing file
    /// is an error if `required`; an unsupported key is an error if
    /// `required` and skipped otherwise. Passphrase-protected keys are asked
    /// for lazily (on the first ssh stanza) through the prompt, or skipped.
    pub fn add_ssh_key_file(&mut self, path: &Path, required: bool) -> Result<usize, KeyError> {
        let label = path.display().to_string();
        let Some(text) = read_limited(path, &label)? else {
            return self.not_found(label, required);
        };
        let parsed = age::ssh::Identity::from_buffer(io::Cursor::new(text.as_bytes()), None);
        let identity = match parsed {
            Ok(identity) => identity,
            Err(_) => return self.skip(label, required, "not an OpenSSH private key".to_owned()),
        };
        let public = age::ssh::Recipient::try_from(identity.clone())
            .ok()
            .map(|r| r.to_string());
        match identity {
            age::ssh::Identity::Unencrypted(_) => {
                self.entries.push(Entry {
                    public: public.clone(),
                    identity: Box::new(identity),
                });
                self.loaded(label, public);
                Ok(1)
            }
            age::ssh::Identity::Encrypted(key) => match &self.prompt {
                Some(prompt) => {
                    self.entries.push(Entry {
                        public: public.clone(),
                        identity: Box::new(LazySshKey {
                            label: label.clone(),
                            key,
                            prompt: Arc::clone(prompt),
                            decrypted: OnceLock::new(),
                        }),
                    });
                    self.loaded(label, public);
                    Ok(1)
                }
                None => self.skip(
                    label,
                    false,
                    "passphrase-protected SSH key (no passphrase prompt)".to_owned(),
                ),
            },
            age::ssh::Identity::Unsupported(kind) => {
                let reason = match kind {
                    age::ssh::UnsupportedKey::Type(t) => format!("unsupported SSH key type {t}"),
                    age::ssh::UnsupportedKey::Hardware(t) => {
                        format!("hardware SSH key {t} (unsupported)")
                    }
                    age::ssh::UnsupportedKey::EncryptedSsh(c) => {
                        format!("SSH key encrypted with unsupported cipher {c}")
                    }
                    age::ssh::UnsupportedKey::EncryptedPem => {
                        "encrypted PEM SSH key (unsupported; convert with ssh-keygen -p)".to_owned()
                    }
                };
                self.skip(label, required, reason)
            }
        }
    }

    /// Records a source that could not be used (a missing identity file,
    /// a failing key command) without failing: the other key types of a
    /// file are still tried, as sops tries them, and the source shows in
    /// [`Identities::sources`] with `reason`.
    pub fn note_unusable(&mut self, label: &str, reason: String) {
        self.sources.push(IdentitySource {
            label: label.to_owned(),
            status: SourceStatus::Skipped { reason },
        });
    }

    /// Every source that was looked at, in order, with what was found.
    pub fn sources(&self) -> &[IdentitySource] {
        &self.sources
    }

    /// The number of loaded identities.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no identity is loaded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The recipients (public keys) of the loaded identities.
    pub fn recipients(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|e| e.public.clone())
            .collect()
    }

    /// Whether an identity for this recipient is loaded.
    pub fn has_identity_for(&self, recipient: &Recipient) -> bool {
        let wanted = recipient.canonical();
        self.entries
            .iter()
            .any(|e| e.public.as_deref() == Some(wanted.as_str()))
    }

    /// Decrypts an armored (or binary) age file with any loaded identity.
    pub fn unwrap(&self, enc: &str) -> Result<Zeroizing<Vec<u8>>, AgeUnwrapError> {
        if self.entries.is_empty() {
            return Err(AgeUnwrapError::NoIdentities);
        }
        let normalized = normalize_armor(enc);
        let decryptor = age::Decryptor::new(ArmoredReader::new(normalized.as_bytes()))
            .map_err(|e| AgeUnwrapError::Malformed(e.to_string()))?;
        let identities = self
            .entries
            .iter()
            .map(|e| e.identity.as_ref() as &dyn age::Identity);
        let reader = decryptor.decrypt(identities).map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => AgeUnwrapError::NoMatch,
            age::DecryptError::InvalidHeader
            | age::DecryptError::UnknownFormat
            | age::DecryptError::Io(_) => AgeUnwrapError::Malformed(e.to_string()),
            other => AgeUnwrapError::Failed(other.to_string()),
        })?;
        // Read into a buffer that grows by hand (see `crate::secret`): the
        // payload is the data key.
        let mut payload = Zeroizing::new(Vec::new());
        crate::secret::read_to_end(&mut reader.take(MAX_PAYLOAD + 1), &mut payload)
            .map_err(|e| AgeUnwrapError::Failed(e.to_string()))?;
        if payload.len() as u64 > MAX_PAYLOAD {
            return Err(AgeUnwrapError::TooLarge);
        }
        Ok(payload)
    }

    fn add_encrypted_text(&mut self, label: &str, text: &str) -> Result<usize, KeyError> {
        let Some(prompt) = self.prompt.clone() else {
            return self.skip(
                label.to_owned(),
                false,
                "passphrase-encrypted identity file (no passphrase prompt)".to_owned(),
            );
        };
        let invalid = |reason: String| KeyError::InvalidIdentity {
            label: label.to_owned(),
            reason,
        };
        let Some(passphrase) = prompt.passphrase(&format!("passphrase for {label}")) else {
            return self.skip(label.to_owned(), false, "no passphrase given".to_owned());
        };
        let identity =
            age::scrypt::Identity::new(SecretString::from(passphrase.as_str().to_owned()));
        let decryptor = age::Decryptor::new(ArmoredReader::new(text.as_bytes()))
            .map_err(|e| invalid(format!("not a valid encrypted identity file: {e}")))?;
        let mut reader = decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .map_err(|e| invalid(format!("cannot decrypt the identity file: {e}")))?;
        let mut plain = Zeroizing::new(Vec::new());
        crate::secret::read_to_end(&mut (&mut reader).take(MAX_IDENTITY_FILE), &mut plain)
            .map_err(|e| invalid(format!("cannot decrypt the identity file: {e}")))?;
        let plain = Zeroizing::new(
            String::from_utf8(std::mem::take(&mut *plain))
                .map_err(|_| invalid("the decrypted identity file is not UTF-8".to_owned()))?,
        );
        if plain.trim_start().starts_with(ARMOR_BEGIN) {
            return Err(invalid("nested encrypted identity file".to_owned()));
        }
        self.add_text(label, &plain)
    }

    fn not_found(&mut self, label: String, required: bool) -> Result<usize, KeyError> {
        if required {
            return Err(KeyError::IdentityNotFound { label });
        }
        self.sources.push(IdentitySource {
            label,
            status: SourceStatus::NotFound,
        });
        Ok(0)
    }

    fn skip(&mut self, label: String, required: bool, reason: String) -> Result<usize, KeyError> {
        if required {
            return Err(KeyError::InvalidIdentity { label, reason });
        }
        self.sources.push(IdentitySource {
            label,
            status: SourceStatus::Skipped { reason },
        });
        Ok(0)
    }

    fn loaded(&mut self, label: String, public: Option<String>) {
        self.sources.push(IdentitySource {
            label,
            status: SourceStatus::Loaded {
                recipients: public.into_iter().collect(),
                skipped: Vec::new(),
            },
        });
    }
}

impl fmt::Debug for Identities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identities")
            .field("recipients", &self.recipients())
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

/// Canonical armor from an `enc` as it may come out of a document: CRLF
/// line ends, indentation, surrounding blank lines or a missing final newline
/// are tolerated (the armor has no meaningful whitespace).
fn normalize_armor(enc: &str) -> String {
    let trimmed = enc.trim();
    if !trimmed.starts_with(ARMOR_BEGIN) {
        return enc.to_owned();
    }
    let mut out = String::with_capacity(trimmed.len() + 1);
    for line in trimmed.lines() {
        out.push_str(line.trim());
        out.push('\n');
    }
    out
}

/// Reads a file as UTF-8 text; `Ok(None)` if it does not exist.
fn read_limited(path: &Path, label: &str) -> Result<Option<Zeroizing<String>>, KeyError> {
    let invalid = |reason: String| KeyError::InvalidIdentity {
        label: label.to_owned(),
        reason,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(invalid(format!("cannot read: {e}"))),
    };
    // `Take` gives `read_to_end` no size to start from: it would grow the
    // buffer, leaving copies of the private keys behind (see
    // `crate::secret`).
    let mut bytes = Zeroizing::new(Vec::new());
    crate::secret::read_to_end(&mut file.take(MAX_IDENTITY_FILE + 1), &mut bytes)
        .map_err(|e| invalid(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_IDENTITY_FILE {
        return Err(invalid(
            "file is too large to be an identity file".to_owned(),
        ));
    }
    let text = String::from_utf8(std::mem::take(&mut *bytes))
        .map_err(|_| invalid("not valid UTF-8 text".to_owned()))?;
    Ok(Some(Zeroizing::new(text)))
}

/// A passphrase-protected SSH key, decrypted on first use and cached.
struct LazySshKey {
    label: String,
    key: age::ssh::EncryptedKey,
    prompt: Arc<dyn PassphrasePrompt>,
    /// `None` once the user declined or gave a wrong passphrase.
    decrypted: OnceLock<Option<age::ssh::Identity>>,
}

impl age::Identity for LazySshKey {
    fn unwrap_stanza(
        &self,
        stanza: &age_core::format::Stanza,
    ) -> Option<Result<age_core::format::FileKey, age::DecryptError>> {
        if stanza.tag != "ssh-ed25519" && stanza.tag != "ssh-rsa" {
            return None;
        }
        let identity = self.decrypted.get_or_init(|| {
            let passphrase = self
                .prompt
                .passphrase(&format!("passphrase for SSH key {}", self.label))?;
            let secret = SecretString::from(passphrase.as_str().to_owned());
            self.key
                .decrypt(secret)
                .ok()
                .map(age::ssh::Identity::Unencrypted)
        });
        identity.as_ref()?.unwrap_stanza(stanza)
    }
}

/// Generates a new X25519 identity. Returns the identity text exactly as
/// `age-keygen` writes it (`# created: …`, `# public key: age1…`, the
/// `AGE-SECRET-KEY-1…` line and a newline) and the recipient.
pub fn generate_identity() -> (Zeroizing<String>, String) {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let secret = identity.to_string();
    let created = now_rfc3339();
    let lines = [
        "# created: ",
        &created,
        "\n# public key: ",
        &recipient,
        "\n",
        secret.expose_secret(),
        "\n",
    ];
    // Sized before the key goes in: a `format!` buffer grows as it is
    // written, and one that grew after the key would leave a copy behind.
    let mut text = Zeroizing::new(String::with_capacity(lines.iter().map(|l| l.len()).sum()));
    for line in lines {
        text.push_str(line);
    }
    (text, recipient)
}

#[cfg(test)]
pub(crate) mod tests;
