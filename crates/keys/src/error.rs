//! The crate's error type for everything except data-key recovery (see
//! [`crate::UnwrapError`]). No variant ever carries secret material: only
//! recipients (public), labels given by the caller and library messages.

use crate::shamir::ShamirError;

/// Errors from building recipients and identities, wrapping keys and Shamir.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The operating system's random source failed.
    #[error("random number generator failed: {0}")]
    Random(String),
    /// A data key of the wrong length was given or decrypted.
    #[error("a data key must be 32 bytes, got {len}")]
    DataKeyLength {
        /// The length that was found.
        len: usize,
    },
    /// A recipient string could not be parsed.
    #[error("invalid age recipient {recipient:?}: {reason}")]
    InvalidRecipient {
        /// The recipient as given (public information).
        recipient: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A key of another kind (PGP, AWS KMS, GCP KMS, Azure Key Vault, Vault
    /// transit) could not be parsed.
    #[error("invalid {kind} key {key:?}: {reason}")]
    InvalidKey {
        /// The kind of key, as people name it (`PGP`, `GCP KMS`, …).
        kind: &'static str,
        /// The key as given (public information).
        key: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An encryption context (`k:v,k2:v2`) could not be parsed.
    #[error("invalid encryption context: {0}")]
    InvalidEncryptionContext(String),
    /// age failed to encrypt to a recipient.
    #[error("could not encrypt the data key to {recipient}: {reason}")]
    Wrap {
        /// The recipient.
        recipient: String,
        /// The underlying message.
        reason: String,
    },
    /// A required identity source does not exist.
    #[error("{label}: identity file not found")]
    IdentityNotFound {
        /// The source label (a path or an environment variable name).
        label: String,
    },
    /// An identity source could not be read or parsed.
    #[error("{label}: {reason}")]
    InvalidIdentity {
        /// The source label (a path or an environment variable name).
        label: String,
        /// What is wrong (never the offending text itself).
        reason: String,
    },
    /// No key groups, or an empty key group, were given for encryption.
    #[error("{0}")]
    NoRecipients(String),
    /// The Shamir threshold does not fit the number of key groups.
    #[error("invalid shamir threshold {threshold} for {groups} key groups: it must be between 2 and the number of groups")]
    InvalidThreshold {
        /// The requested threshold.
        threshold: usize,
        /// The number of key groups.
        groups: usize,
    },
    /// Shamir splitting or combining failed.
    #[error(transparent)]
    Shamir(#[from] ShamirError),
}
