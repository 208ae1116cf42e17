//! Key groups: which master keys wrap the data key (or its Shamir shares),
//! in a model the CLI maps the `sops` metadata to and from.

use std::fmt;

use zeroize::Zeroizing;

use crate::age::identity::Identities;
use crate::age::recipient::{wrap, Recipient};
use crate::data_key::{DataKey, DATA_KEY_LEN};
use crate::error::KeyError;
use crate::report::{GroupReport, KeyAttempt, KeyFailure, UnwrapError, UnwrapReport};
use crate::shamir;

/// One master key of a key group, with its wrapped data key (`enc`).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MasterKey {
    /// An age recipient; `enc` is the armored age file.
    Age {
        /// The recipient as stored (`age1…`, `ssh-ed25519 …`).
        recipient: String,
        /// The armored age file holding the data key or share.
        enc: String,
    },
    /// A master key this crate cannot unwrap yet (KMS, PGP, Vault, …).
    Other {
        /// The metadata list it came from: `kms`, `pgp`, `gcp_kms`, ….
        kind: String,
        /// Its identifier: ARN, fingerprint, resource id, ….
        id: String,
        /// The wrapped key as stored.
        enc: String,
    },
}

impl MasterKey {
    /// The key type: `age` or the `kind` of an [`MasterKey::Other`].
    pub fn kind(&self) -> &str {
        match self {
            Self::Age { .. } => "age",
            Self::Other { kind, .. } => kind,
        }
    }

    /// Who holds this key: the age recipient, ARN, fingerprint….
    pub fn id(&self) -> &str {
        match self {
            Self::Age { recipient, .. } => recipient,
            Self::Other { id, .. } => id,
        }
    }

    /// The wrapped data key (ciphertext; not secret).
    pub fn enc(&self) -> &str {
        match self {
            Self::Age { enc, .. } | Self::Other { enc, .. } => enc,
        }
    }
}

impl fmt::Display for MasterKey {
    /// The holder of the key, e.g. `age1…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("kind", &self.kind())
            .field("id", &self.id())
            .field("enc_len", &self.enc().len())
            .finish()
    }
}

/// A key group: any one of its keys recovers the group's secret (the data key
/// itself with one group, else the group's Shamir share).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyGroup(pub Vec<MasterKey>);

/// Wraps `key` for the recipients of each group. One group: every recipient
/// wraps the raw 32 bytes. Several groups: the key is split into one Shamir
/// share per group (any `threshold` groups recover it; `None` or `Some(0)`
/// means all groups) and share `i` is wrapped by every recipient of group `i`.
/// With one group the threshold is ignored.
pub fn encrypt_data_key(
    key: &DataKey,
    groups: &[Vec<Recipient>],
    threshold: Option<usize>,
) -> Result<Vec<KeyGroup>, KeyError> {
    if groups.is_empty() {
        return Err(KeyError::NoRecipients(
            "no key groups were given".to_owned(),
        ));
    }
    if let Some(index) = groups.iter().position(Vec::is_empty) {
        return Err(KeyError::NoRecipients(format!(
            "key group {index} has no keys"
        )));
    }
    let secrets: Vec<Zeroizing<Vec<u8>>> = if groups.len() == 1 {
        vec![Zeroizing::new(key.as_bytes().to_vec())]
    } else {
        let threshold = effective_threshold(threshold, groups.len());
        if threshold < 2 || threshold > groups.len() {
            return Err(KeyError::InvalidThreshold {
                threshold,
                groups: groups.len(),
            });
        }
        shamir::split(key.as_bytes(), groups.len(), threshold)?
    };
    groups
        .iter()
        .zip(&secrets)
        .map(|(recipients, secret)| {
            recipients
                .iter()
                .map(|recipient| {
                    Ok(MasterKey::Age {
                        recipient: recipient.as_str().to_owned(),
                        enc: wrap(secret, recipient)?,
                    })
                })
                .collect::<Result<Vec<_>, KeyError>>()
                .map(KeyGroup)
        })
        .collect()
}

/// Recovers the data key. One group: the first key that unwraps. Several
/// groups: shares are taken from groups in order (first working key of each)
/// until `threshold` (`None`/`Some(0)`: all groups) are recovered, then
/// combined. On failure the error carries a per-group, per-key report.
pub fn decrypt_data_key(
    groups: &[KeyGroup],
    threshold: Option<usize>,
    ids: &Identities,
) -> Result<DataKey, UnwrapError> {
    if groups.is_empty() || groups.iter().all(|g| g.0.is_empty()) {
        return Err(UnwrapError::NoKeyGroups);
    }
    let shamir = groups.len() > 1;
    let (needed, expected_len) = if shamir {
        let t = effective_threshold(threshold, groups.len());
        if t < 2 || t > groups.len() {
            return Err(UnwrapError::InvalidThreshold {
                threshold: t,
                groups: groups.len(),
            });
        }
        (t, DATA_KEY_LEN + 1)
    } else {
        (1, DATA_KEY_LEN)
    };

    let mut secrets: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    let mut reports = Vec::new();
    for (index, group) in groups.iter().enumerate() {
        if secrets.len() >= needed {
            break;
        }
        let (secret, keys) = unwrap_group(group, ids, expected_len);
        reports.push(GroupReport {
            index,
            recovered: secret.is_some(),
            keys,
        });
        secrets.extend(secret);
    }
    if secrets.len() < needed {
        return Err(UnwrapError::NotEnoughKeys(Box::new(UnwrapReport {
            groups: reports,
            threshold: needed,
            recovered: secrets.len(),
            sources: ids.sources().to_vec(),
        })));
    }
    let bytes = if shamir {
        shamir::combine(&secrets)?
    } else {
        secrets.into_iter().next().ok_or(UnwrapError::NoKeyGroups)?
    };
    DataKey::from_bytes(&bytes)
        .map_err(|_| UnwrapError::Combine("the combined key is not 32 bytes".to_owned()))
}

/// `None` or 0 mean "every group", as in sops.
fn effective_threshold(threshold: Option<usize>, groups: usize) -> usize {
    match threshold {
        None | Some(0) => groups,
        Some(t) => t,
    }
}

/// Tries the keys of one group in order; returns the first secret of the
/// expected length, and the attempts made.
fn unwrap_group(
    group: &KeyGroup,
    ids: &Identities,
    expected_len: usize,
) -> (Option<Zeroizing<Vec<u8>>>, Vec<KeyAttempt>) {
    let mut attempts = Vec::new();
    for key in &group.0 {
        let result = unwrap_key(key, ids, expected_len);
        let failure = result.as_ref().err().cloned();
        attempts.push(KeyAttempt {
            kind: key.kind().to_owned(),
            id: key.id().to_owned(),
            failure,
        });
        if let Ok(secret) = result {
            return (Some(secret), attempts);
        }
    }
    (None, attempts)
}

fn unwrap_key(
    key: &MasterKey,
    ids: &Identities,
    expected_len: usize,
) -> Result<Zeroizing<Vec<u8>>, KeyFailure> {
    match key {
        MasterKey::Age { recipient, enc } => {
            let matching = Recipient::parse(recipient)
                .map(|r| ids.has_identity_for(&r))
                .unwrap_or(false);
            let secret = ids
                .unwrap(enc)
                .map_err(|e| KeyFailure::from_age(e, matching))?;
            if secret.len() != expected_len {
                return Err(KeyFailure::BadPayload {
                    len: secret.len(),
                    expected: expected_len,
                });
            }
            Ok(secret)
        }
        MasterKey::Other { kind, .. } => Err(KeyFailure::Unsupported { kind: kind.clone() }),
    }
}

#[cfg(test)]
mod tests;
