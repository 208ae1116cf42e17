//! The messages of sops's `keyservice/keyservice.proto` (package-less, so
//! the service is `/KeyService/Encrypt` and `/KeyService/Decrypt`),
//! written out with prost's derives: no protoc at build time.

use prost::{Message, Oneof};

/// Which master key to use.
#[derive(Clone, PartialEq, Message)]
pub struct Key {
    /// The key, by type.
    #[prost(oneof = "KeyType", tags = "1, 2, 3, 4, 5, 6, 7")]
    pub key_type: Option<KeyType>,
}

/// The master key types of the protocol (named as in the proto).
#[derive(Clone, PartialEq, Oneof)]
#[allow(clippy::enum_variant_names)]
pub enum KeyType {
    /// AWS KMS.
    #[prost(message, tag = "1")]
    KmsKey(KmsKey),
    /// OpenPGP.
    #[prost(message, tag = "2")]
    PgpKey(PgpKey),
    /// GCP Cloud KMS.
    #[prost(message, tag = "3")]
    GcpKmsKey(GcpKmsKey),
    /// Azure Key Vault.
    #[prost(message, tag = "4")]
    AzureKeyvaultKey(AzureKeyVaultKey),
    /// HashiCorp Vault / OpenBao transit.
    #[prost(message, tag = "5")]
    VaultKey(VaultKey),
    /// age.
    #[prost(message, tag = "6")]
    AgeKey(AgeKey),
    /// Huawei Cloud KMS (not modelled by this crate).
    #[prost(message, tag = "7")]
    HckmsKey(HckmsKey),
}

/// An OpenPGP key.
#[derive(Clone, PartialEq, Message)]
pub struct PgpKey {
    /// Its fingerprint.
    #[prost(string, tag = "1")]
    pub fingerprint: String,
}

/// An AWS KMS key.
#[derive(Clone, PartialEq, Message)]
pub struct KmsKey {
    /// The key ARN.
    #[prost(string, tag = "1")]
    pub arn: String,
    /// A role to assume.
    #[prost(string, tag = "2")]
    pub role: String,
    /// The encryption context.
    #[prost(map = "string, string", tag = "3")]
    pub context: std::collections::HashMap<String, String>,
    /// The AWS profile.
    #[prost(string, tag = "4")]
    pub aws_profile: String,
}

/// A GCP Cloud KMS key.
#[derive(Clone, PartialEq, Message)]
pub struct GcpKmsKey {
    /// `projects/…/cryptoKeys/…`.
    #[prost(string, tag = "1")]
    pub resource_id: String,
}

/// A Vault / OpenBao transit key.
#[derive(Clone, PartialEq, Message)]
pub struct VaultKey {
    /// `https://vault:8200`.
    #[prost(string, tag = "1")]
    pub vault_address: String,
    /// The transit engine's path.
    #[prost(string, tag = "2")]
    pub engine_path: String,
    /// The key's name.
    #[prost(string, tag = "3")]
    pub key_name: String,
}

/// An Azure Key Vault key.
#[derive(Clone, PartialEq, Message)]
pub struct AzureKeyVaultKey {
    /// `https://NAME.vault.azure.net`.
    #[prost(string, tag = "1")]
    pub vault_url: String,
    /// The key's name.
    #[prost(string, tag = "2")]
    pub name: String,
    /// The key's version.
    #[prost(string, tag = "3")]
    pub version: String,
}

/// An age recipient.
#[derive(Clone, PartialEq, Message)]
pub struct AgeKey {
    /// `age1…` or an ssh public key line.
    #[prost(string, tag = "1")]
    pub recipient: String,
}

/// A Huawei Cloud KMS key.
#[derive(Clone, PartialEq, Message)]
pub struct HckmsKey {
    /// Its id.
    #[prost(string, tag = "1")]
    pub key_id: String,
}

/// Wrap `plaintext` for `key`.
#[derive(Clone, PartialEq, Message)]
pub struct EncryptRequest {
    /// The master key.
    #[prost(message, optional, tag = "1")]
    pub key: Option<Key>,
    /// The data key or Shamir share.
    #[prost(bytes = "vec", tag = "2")]
    pub plaintext: Vec<u8>,
}

/// The wrapped secret: the `enc` text as bytes.
#[derive(Clone, PartialEq, Message)]
pub struct EncryptResponse {
    /// The `enc` text.
    #[prost(bytes = "vec", tag = "1")]
    pub ciphertext: Vec<u8>,
}

/// Unwrap `ciphertext` (an `enc` text) with `key`.
#[derive(Clone, PartialEq, Message)]
pub struct DecryptRequest {
    /// The master key.
    #[prost(message, optional, tag = "1")]
    pub key: Option<Key>,
    /// The `enc` text.
    #[prost(bytes = "vec", tag = "2")]
    pub ciphertext: Vec<u8>,
}

/// The unwrapped secret.
#[derive(Clone, PartialEq, Message)]
pub struct DecryptResponse {
    /// The data key or Shamir share.
    #[prost(bytes = "vec", tag = "1")]
    pub plaintext: Vec<u8>,
}
