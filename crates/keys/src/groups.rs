//! Key groups: which master keys wrap the data key (or its Shamir shares),
//! in a model the CLI maps the `sops` metadata to and from.

use std::fmt;

use zeroize::Zeroizing;

use crate::age::identity::Identities;
use crate::age::recipient::{wrap, Recipient};
use crate::data_key::{DataKey, DATA_KEY_LEN};
use crate::error::KeyError;
use crate::kms::{
    AwsKmsKey, AzureKvKey, GcpKmsKey, KeyService, NoServices, PgpKey, ServiceError, ServiceKey,
    VaultKey,
};
use crate::remote::RemoteKeyService;
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
    /// An AWS KMS key (`kms`); `enc` is base64 of the ciphertext blob.
    Kms {
        /// ARN, role, encryption context and profile.
        key: AwsKmsKey,
        /// When the key was wrapped (RFC 3339, UTC).
        created_at: String,
        /// The wrapped data key or share.
        enc: String,
    },
    /// A Vault / OpenBao transit key (`hc_vault`); `enc` is `vault:v1:…`.
    HcVault {
        /// Address, engine path and key name.
        key: VaultKey,
        /// When the key was wrapped (RFC 3339, UTC).
        created_at: String,
        /// The wrapped data key or share.
        enc: String,
    },
    /// An OpenPGP key (`pgp`); `enc` is an armored PGP message.
    Pgp {
        /// The fingerprint.
        key: PgpKey,
        /// When the key was wrapped (RFC 3339, UTC).
        created_at: String,
        /// The wrapped data key or share.
        enc: String,
    },
    /// A GCP Cloud KMS key (`gcp_kms`); `enc` is base64 of the ciphertext.
    GcpKms {
        /// The resource id.
        key: GcpKmsKey,
        /// When the key was wrapped (RFC 3339, UTC).
        created_at: String,
        /// The wrapped data key or share.
        enc: String,
    },
    /// An Azure Key Vault key (`azure_kv`); `enc` is unpadded base64url.
    AzureKv {
        /// Vault URL, key name and version.
        key: AzureKvKey,
        /// When the key was wrapped (RFC 3339, UTC).
        created_at: String,
        /// The wrapped data key or share.
        enc: String,
    },
    /// A master key type this crate does not model (e.g. `hckms`).
    Other {
        /// The metadata list it came from: `hckms`, ….
        kind: String,
        /// Its identifier.
        id: String,
        /// The wrapped key as stored.
        enc: String,
    },
}

impl MasterKey {
    /// A service key with its `created_at` and `enc`.
    pub fn from_service(key: ServiceKey, created_at: String, enc: String) -> Self {
        match key {
            ServiceKey::Kms(key) => Self::Kms {
                key,
                created_at,
                enc,
            },
            ServiceKey::HcVault(key) => Self::HcVault {
                key,
                created_at,
                enc,
            },
            ServiceKey::Pgp(key) => Self::Pgp {
                key,
                created_at,
                enc,
            },
            ServiceKey::GcpKms(key) => Self::GcpKms {
                key,
                created_at,
                enc,
            },
            ServiceKey::AzureKv(key) => Self::AzureKv {
                key,
                created_at,
                enc,
            },
        }
    }

    /// The key type: the metadata list name (`age`, `kms`, `hc_vault`,
    /// `pgp`, `gcp_kms`, `azure_kv`, or the `kind` of an
    /// [`MasterKey::Other`]).
    pub fn kind(&self) -> &str {
        match self {
            Self::Age { .. } => "age",
            Self::Kms { .. } => "kms",
            Self::HcVault { .. } => "hc_vault",
            Self::Pgp { .. } => "pgp",
            Self::GcpKms { .. } => "gcp_kms",
            Self::AzureKv { .. } => "azure_kv",
            Self::Other { kind, .. } => kind,
        }
    }

    /// The key's main identifying field: the age recipient, ARN,
    /// fingerprint, GCP resource id; for Vault the key name and for Azure
    /// the key name. [`MasterKey::label`] gives the full identity.
    pub fn id(&self) -> &str {
        match self {
            Self::Age { recipient, .. } => recipient,
            Self::Kms { key, .. } => &key.arn,
            Self::HcVault { key, .. } => &key.key_name,
            Self::Pgp { key, .. } => &key.fingerprint,
            Self::GcpKms { key, .. } => &key.resource_id,
            Self::AzureKv { key, .. } => &key.name,
            Self::Other { id, .. } => id,
        }
    }

    /// Who holds the key, in full: the recipient, ARN, fingerprint,
    /// resource id, transit URI (`ADDR/v1/ENGINE/keys/NAME`) or Azure key URL.
    pub fn label(&self) -> String {
        match self.service_key() {
            Some(key) => key.id(),
            None => self.id().to_owned(),
        }
    }

    /// The wrapped data key (ciphertext; not secret).
    pub fn enc(&self) -> &str {
        match self {
            Self::Age { enc, .. }
            | Self::Kms { enc, .. }
            | Self::HcVault { enc, .. }
            | Self::Pgp { enc, .. }
            | Self::GcpKms { enc, .. }
            | Self::AzureKv { enc, .. }
            | Self::Other { enc, .. } => enc,
        }
    }

    /// `created_at` of a service key; `None` for age and unknown keys.
    pub fn created_at(&self) -> Option<&str> {
        match self {
            Self::Kms { created_at, .. }
            | Self::HcVault { created_at, .. }
            | Self::Pgp { created_at, .. }
            | Self::GcpKms { created_at, .. }
            | Self::AzureKv { created_at, .. } => Some(created_at),
            Self::Age { .. } | Self::Other { .. } => None,
        }
    }

    /// The key service key this master key is, if it is one.
    pub fn service_key(&self) -> Option<ServiceKey> {
        Some(match self {
            Self::Kms { key, .. } => ServiceKey::Kms(key.clone()),
            Self::HcVault { key, .. } => ServiceKey::HcVault(key.clone()),
            Self::Pgp { key, .. } => ServiceKey::Pgp(key.clone()),
            Self::GcpKms { key, .. } => ServiceKey::GcpKms(key.clone()),
            Self::AzureKv { key, .. } => ServiceKey::AzureKv(key.clone()),
            Self::Age { .. } | Self::Other { .. } => return None,
        })
    }
}

impl fmt::Display for MasterKey {
    /// The holder of the key, e.g. `age1…` or a KMS ARN.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("kind", &self.kind())
            .field("id", &self.label())
            .field("enc_len", &self.enc().len())
            .finish()
    }
}

/// A master key to wrap a new data key for: an age recipient or a key
/// service key.
#[derive(Clone)]
#[non_exhaustive]
pub enum KeyRecipient {
    /// An age recipient.
    Age(Recipient),
    /// A KMS, Vault, PGP, … key.
    Service(ServiceKey),
}

impl From<Recipient> for KeyRecipient {
    fn from(r: Recipient) -> Self {
        Self::Age(r)
    }
}

impl From<ServiceKey> for KeyRecipient {
    fn from(k: ServiceKey) -> Self {
        Self::Service(k)
    }
}

/// A key group: any one of its keys recovers the group's secret (the data key
/// itself with one group, else the group's Shamir share).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyGroup(pub Vec<MasterKey>);

/// Wraps `key` for the age recipients of each group. One group: every
/// recipient wraps the raw 32 bytes. Several groups: the key is split into
/// one Shamir share per group (any `threshold` groups recover it; `None` or
/// `Some(0)` means all groups) and share `i` is wrapped by every recipient of
/// group `i`. With one group the threshold is ignored.
pub fn encrypt_data_key(
    key: &DataKey,
    groups: &[Vec<Recipient>],
    threshold: Option<usize>,
) -> Result<Vec<KeyGroup>, KeyError> {
    let groups: Vec<Vec<KeyRecipient>> = groups
        .iter()
        .map(|g| g.iter().cloned().map(KeyRecipient::Age).collect())
        .collect();
    encrypt_data_key_for(key, &groups, threshold, &NoServices, "")
}

/// Like [`encrypt_data_key`], for age recipients and key service keys
/// (KMS, Vault, PGP, …), wrapped through `services`. Service keys get
/// `created_at` (RFC 3339 UTC, e.g. the file's `lastmodified`). The first
/// failure stops encryption, naming the key, endpoint and cause.
pub fn encrypt_data_key_for(
    key: &DataKey,
    groups: &[Vec<KeyRecipient>],
    threshold: Option<usize>,
    services: &dyn KeyService,
    created_at: &str,
) -> Result<Vec<KeyGroup>, KeyError> {
    encrypt_data_key_via(
        key,
        groups,
        threshold,
        services,
        created_at,
        &Remotes::default(),
    )
}

/// Where master keys are wrapped and unwrapped: this process (its age
/// identities and key service clients) unless `local` is off, then each
/// remote sops key service in turn (sops's `--enable-local-keyservice`
/// and `--keyservice`).
pub struct Remotes {
    /// Use this process's identities and clients (tried first).
    pub local: bool,
    /// Remote key services, tried in order after the local one.
    pub services: Vec<RemoteKeyService>,
}

impl Default for Remotes {
    /// The local key service only.
    fn default() -> Self {
        Remotes {
            local: true,
            services: Vec::new(),
        }
    }
}

/// [`encrypt_data_key_for`], each key wrapped by the first of `remotes`
/// (the local key service, then the remote ones) that can.
pub fn encrypt_data_key_via(
    key: &DataKey,
    groups: &[Vec<KeyRecipient>],
    threshold: Option<usize>,
    services: &dyn KeyService,
    created_at: &str,
    remotes: &Remotes,
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
                .map(|recipient| wrap_via(recipient, secret, services, created_at, remotes))
                .collect::<Result<Vec<_>, KeyError>>()
                .map(KeyGroup)
        })
        .collect()
}

fn wrap_via(
    recipient: &KeyRecipient,
    secret: &[u8],
    services: &dyn KeyService,
    created_at: &str,
    remotes: &Remotes,
) -> Result<MasterKey, KeyError> {
    let mut result = if remotes.local {
        wrap_for(recipient, secret, services, created_at)
    } else {
        Err(KeyError::Wrap {
            recipient: recipient_label(recipient),
            reason: "the local key service is off".to_owned(),
        })
    };
    for remote in &remotes.services {
        let Err(KeyError::Wrap {
            recipient: label,
            reason,
        }) = result
        else {
            break;
        };
        result = remote
            .encrypt(recipient, secret, created_at)
            .map_err(|e| KeyError::Wrap {
                recipient: label,
                reason: format!("{reason}; key service {}: {e}", remote.uri()),
            });
    }
    result
}

fn recipient_label(recipient: &KeyRecipient) -> String {
    match recipient {
        KeyRecipient::Age(r) => r.as_str().to_owned(),
        KeyRecipient::Service(k) => format!("{} key {}", k.kind(), k.id()),
    }
}

pub(crate) fn wrap_for(
    recipient: &KeyRecipient,
    secret: &[u8],
    services: &dyn KeyService,
    created_at: &str,
) -> Result<MasterKey, KeyError> {
    match recipient {
        KeyRecipient::Age(r) => Ok(MasterKey::Age {
            recipient: r.as_str().to_owned(),
            enc: wrap(secret, r)?,
        }),
        KeyRecipient::Service(k) => {
            let wrapped = services.wrap(k, secret).map_err(|e| KeyError::Wrap {
                recipient: recipient_label(recipient),
                reason: format!("{}{}", endpoint_part(&e), e.cause),
            })?;
            Ok(MasterKey::from_service(
                wrapped.key,
                created_at.to_owned(),
                wrapped.enc,
            ))
        }
    }
}

fn endpoint_part(e: &ServiceError) -> String {
    if e.endpoint == "-" {
        String::new()
    } else {
        format!("{}: ", e.endpoint)
    }
}

/// Recovers the data key with age identities only (other keys fail as
/// unsupported, and nothing is contacted). See [`decrypt_data_key_with`].
pub fn decrypt_data_key(
    groups: &[KeyGroup],
    threshold: Option<usize>,
    ids: &Identities,
) -> Result<DataKey, UnwrapError> {
    decrypt_data_key_with(groups, threshold, ids, &NoServices)
}

/// Recovers the data key. One group: the first key that unwraps. Several
/// groups: shares are taken from groups in order (first working key of each)
/// until `threshold` (`None`/`Some(0)`: all groups) are recovered, then
/// combined. Within a group, age keys are tried first (no network call is
/// made when one of them works), then PGP, then the other keys in stored
/// order through `services`; a failing key or group is skipped. On failure
/// the error carries a per-group, per-key report.
pub fn decrypt_data_key_with(
    groups: &[KeyGroup],
    threshold: Option<usize>,
    ids: &Identities,
    services: &dyn KeyService,
) -> Result<DataKey, UnwrapError> {
    decrypt_data_key_ordered(groups, threshold, ids, services, DEFAULT_DECRYPTION_ORDER)
}

/// sops's default decryption order: age keys, then PGP keys, then the
/// others in stored order.
pub const DEFAULT_DECRYPTION_ORDER: &[&str] = &["age", "pgp"];

/// [`decrypt_data_key_with`], trying the keys of each group in `order`:
/// key types (`age`, `pgp`, `kms`, `gcp_kms`, `azure_kv`, `hc_vault`, as in
/// the metadata) in the listed order first, every other key after them in
/// stored order (sops's `--decryption-order`).
pub fn decrypt_data_key_ordered<S: AsRef<str>>(
    groups: &[KeyGroup],
    threshold: Option<usize>,
    ids: &Identities,
    services: &dyn KeyService,
    order: &[S],
) -> Result<DataKey, UnwrapError> {
    decrypt_data_key_via(groups, threshold, ids, services, order, &Remotes::default())
}

/// [`decrypt_data_key_ordered`], each key tried with the local key service
/// (unless it is off) and then with each remote one.
pub fn decrypt_data_key_via<S: AsRef<str>>(
    groups: &[KeyGroup],
    threshold: Option<usize>,
    ids: &Identities,
    services: &dyn KeyService,
    order: &[S],
    remotes: &Remotes,
) -> Result<DataKey, UnwrapError> {
    if groups.is_empty() || groups.iter().all(|g| g.0.is_empty()) {
        return Err(UnwrapError::NoKeyGroups);
    }
    let shamir = groups.len() > 1;
    // A threshold of 1 (`sops groups add --shamir-secret-sharing-threshold
    // 1` writes one, keeping the shares of the split it had, which may
    // need them all): every group is tried and every share recovered is
    // combined, as sops does; Shamir needs two.
    let every_share = shamir && effective_threshold(threshold, groups.len()) < 2;
    let (needed, expected_len) = if shamir {
        let t = effective_threshold(threshold, groups.len()).max(2);
        if t > groups.len() {
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
        if secrets.len() >= needed && !every_share {
            break;
        }
        let (secret, keys) = unwrap_group(group, ids, services, expected_len, order, remotes);
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

/// Where a key of `key`'s type comes in `order` (a type not listed comes
/// after every listed one).
fn priority<S: AsRef<str>>(key: &MasterKey, order: &[S]) -> usize {
    let kind = key.kind();
    order
        .iter()
        .position(|t| t.as_ref() == kind)
        .unwrap_or(order.len())
}

/// Tries the keys of one group in `order` (see [`priority`]; a stable sort,
/// so keys of one type keep their stored order); returns the first secret
/// of the expected length, and the attempts made.
fn unwrap_group<S: AsRef<str>>(
    group: &KeyGroup,
    ids: &Identities,
    services: &dyn KeyService,
    expected_len: usize,
    order: &[S],
    remotes: &Remotes,
) -> (Option<Zeroizing<Vec<u8>>>, Vec<KeyAttempt>) {
    let types = order;
    let mut order: Vec<&MasterKey> = group.0.iter().collect();
    order.sort_by_key(|k| priority(k, types));
    let mut attempts = Vec::new();
    for key in order {
        let result = unwrap_via(key, ids, services, remotes).and_then(|secret| {
            if secret.len() == expected_len {
                Ok(secret)
            } else {
                Err(KeyFailure::BadPayload {
                    len: secret.len(),
                    expected: expected_len,
                })
            }
        });
        let failure = result.as_ref().err().cloned();
        attempts.push(KeyAttempt {
            kind: key.kind().to_owned(),
            id: key.label(),
            failure,
        });
        if let Ok(secret) = result {
            return (Some(secret), attempts);
        }
    }
    (None, attempts)
}

/// `key` unwrapped by the local key service (unless it is off), else by
/// the first remote one that can; every failure is reported.
fn unwrap_via(
    key: &MasterKey,
    ids: &Identities,
    services: &dyn KeyService,
    remotes: &Remotes,
) -> Result<Zeroizing<Vec<u8>>, KeyFailure> {
    let mut result = if remotes.local {
        unwrap_key(key, ids, services)
    } else {
        Err(KeyFailure::Other("the local key service is off".to_owned()))
    };
    for remote in &remotes.services {
        let Err(failure) = result else {
            break;
        };
        result = remote.decrypt(key).map_err(|e| {
            let remote = format!("key service {}: {e}", remote.uri());
            match failure {
                KeyFailure::Other(m) if m == "the local key service is off" => {
                    KeyFailure::Other(remote)
                }
                local => KeyFailure::Other(format!("{local}; {remote}")),
            }
        });
    }
    result
}

pub(crate) fn unwrap_key(
    key: &MasterKey,
    ids: &Identities,
    services: &dyn KeyService,
) -> Result<Zeroizing<Vec<u8>>, KeyFailure> {
    match key {
        MasterKey::Age { recipient, enc } => {
            let matching = Recipient::parse(recipient)
                .map(|r| ids.has_identity_for(&r))
                .unwrap_or(false);
            ids.unwrap(enc)
                .map_err(|e| KeyFailure::from_age(e, matching))
        }
        MasterKey::Other { kind, .. } => Err(KeyFailure::Unsupported { kind: kind.clone() }),
        other => match other.service_key() {
            Some(service_key) => services
                .unwrap(&service_key, other.enc())
                .map_err(|e| KeyFailure::Other(format!("{}{}", endpoint_part(&e), e.cause))),
            None => Err(KeyFailure::Unsupported {
                kind: other.kind().to_owned(),
            }),
        },
    }
}

#[cfg(test)]
mod tests;
