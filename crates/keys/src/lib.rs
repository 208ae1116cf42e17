//! sops-like-keys: the 32-byte data key and its wrapping for age recipients
//! (including age plugins) and key services ([`kms`]: AWS KMS, Vault/OpenBao
//! transit, PGP through gpg, GCP Cloud KMS, Azure Key Vault), key groups and
//! Shamir secret sharing.
//!
//! This crate never sees documents. It never prints, reads the environment
//! or exits: callers pass identity text, file paths and recipient strings in.
//!
//! ```
//! use sops_like_keys::{decrypt_data_key, encrypt_data_key, DataKey, Identities, Recipient};
//!
//! let (identity_text, recipient) = sops_like_keys::generate_identity();
//! let key = DataKey::generate()?;
//! let groups = encrypt_data_key(&key, &[vec![Recipient::parse(&recipient)?]], None)?;
//! let mut ids = Identities::new();
//! ids.add_text("example", &identity_text)?;
//! let back = decrypt_data_key(&groups, None, &ids)?;
//! assert!(back == key);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::print_stderr
    )
)]

pub mod age;
mod data_key;
mod error;
mod groups;
pub mod kms;
pub mod remote;
mod report;
mod secret;
pub mod shamir;
#[cfg(test)]
mod testing;

pub use crate::age::identity::{
    generate_identity, AgeUnwrapError, Identities, IdentitySource, PassphrasePrompt, SourceStatus,
};
pub use crate::age::recipient::{wrap, Recipient};
pub use data_key::{DataKey, DATA_KEY_LEN};
pub use error::KeyError;
pub use groups::{
    decrypt_data_key, decrypt_data_key_ordered, decrypt_data_key_via, decrypt_data_key_with,
    encrypt_data_key, encrypt_data_key_for, encrypt_data_key_via, KeyGroup, KeyRecipient,
    MasterKey, Remotes, DEFAULT_DECRYPTION_ORDER,
};
pub use kms::{
    FieldValue, KeyService, NoServices, ServiceConfig, ServiceError, ServiceKey, Services,
};
pub use remote::RemoteKeyService;
pub use report::{GroupReport, KeyAttempt, KeyFailure, UnwrapError, UnwrapReport};
