//! [`UnwrapError`]: why the data key could not be recovered, with a report
//! per key group and key that the CLI can print. It holds recipients, key ids
//! and reasons only, never key material.

use std::fmt;

use crate::age::identity::{AgeUnwrapError, IdentitySource};
use crate::shamir::ShamirError;

/// Failure to recover the data key from the key groups.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum UnwrapError {
    /// The file has no key groups (or only empty ones).
    #[error("the file has no master keys")]
    NoKeyGroups,
    /// The Shamir threshold cannot work with the key groups present.
    #[error("invalid shamir threshold {threshold} for {groups} key groups")]
    InvalidThreshold {
        /// The threshold from the metadata.
        threshold: usize,
        /// The number of key groups.
        groups: usize,
    },
    /// Not enough master keys could be decrypted.
    #[error("{0}")]
    NotEnoughKeys(Box<UnwrapReport>),
    /// Enough shares were recovered but they do not combine into a data key.
    #[error("could not combine the key shares: {0}")]
    Combine(String),
}

impl From<ShamirError> for UnwrapError {
    fn from(e: ShamirError) -> Self {
        Self::Combine(e.to_string())
    }
}

/// What happened to each key of each group, and the identity sources tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnwrapReport {
    /// Groups in file order.
    pub groups: Vec<GroupReport>,
    /// How many groups had to succeed (1 without Shamir).
    pub threshold: usize,
    /// How many groups did succeed.
    pub recovered: usize,
    /// Where age identities were looked for and what was found.
    pub sources: Vec<IdentitySource>,
}

/// The attempts made on one key group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupReport {
    /// 0-based group index.
    pub index: usize,
    /// Whether some key of the group was decrypted.
    pub recovered: bool,
    /// The keys tried, in order.
    pub keys: Vec<KeyAttempt>,
}

/// One master key that was tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAttempt {
    /// The key type (`age`, `kms`, `pgp`, …).
    pub kind: String,
    /// Who the key is: the age recipient, KMS ARN, PGP fingerprint, ….
    pub id: String,
    /// `None` if this key worked, otherwise why not.
    pub failure: Option<KeyFailure>,
}

/// Why a master key could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFailure {
    /// No loaded identity opens this key's `enc`.
    NoIdentityMatches,
    /// An identity for this recipient is loaded, yet it cannot open `enc`
    /// (the `enc` was not made for it, or was tampered with).
    WrongIdentity(String),
    /// The `enc` is not valid age data.
    Malformed(String),
    /// The key decrypted, but not to a data key or share of the right size.
    BadPayload {
        /// Bytes found.
        len: usize,
        /// Bytes expected.
        expected: usize,
    },
    /// This crate cannot decrypt this kind of master key.
    Unsupported {
        /// The key type.
        kind: String,
    },
    /// Any other failure.
    Other(String),
}

impl KeyFailure {
    pub(crate) fn from_age(err: AgeUnwrapError, have_identity_for_recipient: bool) -> Self {
        match err {
            AgeUnwrapError::NoIdentities => Self::NoIdentityMatches,
            AgeUnwrapError::NoMatch if have_identity_for_recipient => Self::WrongIdentity(
                "the identity for this recipient does not open its enc".to_owned(),
            ),
            AgeUnwrapError::NoMatch => Self::NoIdentityMatches,
            AgeUnwrapError::Malformed(m) => Self::Malformed(m),
            AgeUnwrapError::Failed(m) if have_identity_for_recipient => Self::WrongIdentity(m),
            AgeUnwrapError::Failed(m) => Self::Other(m),
            e @ AgeUnwrapError::TooLarge => Self::Other(e.to_string()),
        }
    }
}

impl fmt::Display for KeyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoIdentityMatches => write!(f, "no identity matches"),
            Self::WrongIdentity(m) => write!(f, "wrong identity: {m}"),
            Self::Malformed(m) => write!(f, "malformed enc: {m}"),
            Self::BadPayload { len, expected } => {
                write!(f, "decrypted {len} bytes where {expected} were expected")
            }
            Self::Unsupported { kind } => write!(f, "unsupported key type {kind}"),
            Self::Other(m) => write!(f, "{m}"),
        }
    }
}

impl UnwrapReport {
    /// The key types (`age`, `kms`, `hc_vault`, …) with a key that failed
    /// in a group that was not recovered, each once, in file order.
    pub fn failed_kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = Vec::new();
        for key in self
            .groups
            .iter()
            .filter(|g| !g.recovered)
            .flat_map(|g| &g.keys)
            .filter(|k| k.failure.is_some())
        {
            if !kinds.contains(&key.kind.as_str()) {
                kinds.push(&key.kind);
            }
        }
        kinds
    }

    /// Whether an age key of a group that was not recovered was opened by
    /// none of the identities.
    pub fn age_unopened(&self) -> bool {
        self.failed_kinds().contains(&"age")
    }
}

impl fmt::Display for UnwrapReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "could not decrypt the data key: {} of {} required key groups recovered",
            self.recovered, self.threshold
        )?;
        for group in &self.groups {
            let status = if group.recovered { "ok" } else { "FAILED" };
            writeln!(f, "group {}: {status}", group.index)?;
            for key in &group.keys {
                match &key.failure {
                    None => writeln!(f, "  {} {}: ok", key.kind, key.id)?,
                    Some(why) => writeln!(f, "  {} {}: {why}", key.kind, key.id)?,
                }
            }
        }
        // Where identities were looked for matters only for an age key
        // that none opened (not for a Vault- or KMS-only file, nor for an
        // age group that was recovered).
        if !self.age_unopened() {
            return Ok(());
        }
        if self.sources.is_empty() {
            write!(f, "no age identity sources were given")
        } else {
            write!(f, "age identities tried:")?;
            for source in &self.sources {
                write!(f, "\n  {source}")?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(groups: Vec<(bool, Vec<(&str, bool)>)>) -> UnwrapReport {
        UnwrapReport {
            threshold: groups.len(),
            recovered: groups.iter().filter(|g| g.0).count(),
            groups: groups
                .into_iter()
                .enumerate()
                .map(|(index, (recovered, keys))| GroupReport {
                    index,
                    recovered,
                    keys: keys
                        .into_iter()
                        .map(|(kind, ok)| KeyAttempt {
                            kind: kind.to_owned(),
                            id: format!("{kind}-id"),
                            failure: (!ok).then(|| KeyFailure::Other("HTTP 403".into())),
                        })
                        .collect(),
                })
                .collect(),
            sources: Vec::new(),
        }
    }

    /// The age part of the report only when an age key of a failed group
    /// was opened by no identity: not for a Vault-only file, nor for a
    /// Shamir file whose age group worked.
    #[test]
    fn age_section_only_for_unopened_age_keys() {
        let vault_only = report(vec![(false, vec![("hc_vault", false)])]);
        assert_eq!(vault_only.failed_kinds(), ["hc_vault"]);
        let text = vault_only.to_string();
        assert!(text.contains("hc_vault hc_vault-id: HTTP 403"), "{text}");
        assert!(!text.contains("age identit"), "{text}");
        let age_ok = report(vec![
            (true, vec![("age", true)]),
            (false, vec![("kms", false)]),
        ]);
        assert_eq!(age_ok.failed_kinds(), ["kms"]);
        assert!(!age_ok.to_string().contains("age identit"));
        let age_failed = report(vec![(false, vec![("kms", false), ("age", false)])]);
        assert_eq!(age_failed.failed_kinds(), ["kms", "age"]);
        assert!(age_failed
            .to_string()
            .ends_with("no age identity sources were given"));
    }
}
