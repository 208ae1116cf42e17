//! Key services: master keys other than age (AWS KMS, HashiCorp Vault /
//! OpenBao transit, OpenPGP through `gpg`, GCP Cloud KMS, Azure Key Vault).
//!
//! [`KeyService`] is the provider-neutral boundary: wrap a secret for a
//! [`ServiceKey`] (giving the `enc` text sops stores) and unwrap an `enc`.
//! [`Services`] is the real implementation, configured by the caller with
//! everything that would come from the environment ([`ServiceConfig`]): this
//! crate reads no environment variable itself. The only exception is AWS,
//! configured by aws-config as the Go SDK configures sops: the default
//! credential chain (env, profiles, SSO, instance and container roles; only
//! when no static credentials are given), a key's named profile, and the
//! per-service endpoints (`AWS_ENDPOINT_URL_KMS` / `_STS`, …) unless one is
//! given; likewise GCP application default credentials and Azure
//! managed identities are found by Google's and Microsoft's crates. GCP and
//! Azure settings are given with [`Services::with_gcp`] and
//! [`Services::with_azure`].
//!
//! Each provider is behind a cargo feature (`aws-kms`, `hc-vault`, `pgp`,
//! `gcp-kms`, `azure-kv`, all on by default). Without its feature a key type still loads and saves, but
//! wrapping or unwrapping it fails with a clear message.

mod config;
mod error;
mod fields;
pub mod keys;
#[cfg_attr(
    not(any(
        feature = "hc-vault",
        feature = "pgp",
        feature = "gcp-kms",
        feature = "azure-kv"
    )),
    allow(dead_code)
)]
mod retry;

#[cfg(feature = "aws-kms")]
mod aws;
#[cfg(feature = "azure-kv")]
mod azure;
#[cfg(feature = "gcp-kms")]
mod gcp;
#[cfg(feature = "pgp")]
mod pgp;
#[cfg(any(
    feature = "aws-kms",
    feature = "hc-vault",
    feature = "gcp-kms",
    feature = "azure-kv"
))]
mod runtime;
#[cfg(feature = "hc-vault")]
mod vault;

#[cfg(test)]
mod order_tests;

use zeroize::Zeroizing;

pub use config::{
    go_parse_bool, AwsConfig, AwsCredentials, AzureConfig, AzureCredentials, GcpConfig,
    GcpCredentials, PgpConfig, ServiceConfig, ServiceOptions, VaultConfig, VaultTls,
};
pub use error::ServiceError;
pub use fields::FieldValue;
pub use keys::{
    parse_encryption_context, AwsKmsKey, AzureKvKey, GcpKmsKey, PgpKey, ServiceKey, VaultKey,
};

/// Wraps and unwraps secrets (a data key or a Shamir share) with a key
/// service. Implementations bound every call in time and retry transient
/// failures a bounded number of times.
pub trait KeyService {
    /// Encrypts `secret` with `key`; returns the `enc` text as sops stores it
    /// (and, for Azure, the key with its resolved version).
    fn wrap(&self, key: &ServiceKey, secret: &[u8]) -> Result<Wrapped, ServiceError>;

    /// Decrypts an `enc` made by [`KeyService::wrap`] (or by sops).
    fn unwrap(&self, key: &ServiceKey, enc: &str) -> Result<Zeroizing<Vec<u8>>, ServiceError>;
}

/// The result of wrapping: the `enc` text, and the key as it must be stored
/// (the same key, except that Azure resolves an empty version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapped {
    /// The key to store in the metadata.
    pub key: ServiceKey,
    /// The wrapped secret, as stored in `enc`.
    pub enc: String,
}

/// A [`KeyService`] that has no provider: every call fails. What
/// [`crate::encrypt_data_key`] and [`crate::decrypt_data_key`] use, so that
/// they stay age-only and never touch the network.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoServices;

impl KeyService for NoServices {
    fn wrap(&self, key: &ServiceKey, _secret: &[u8]) -> Result<Wrapped, ServiceError> {
        Err(ServiceError::unsupported(
            key,
            "no key services are configured",
        ))
    }

    fn unwrap(&self, key: &ServiceKey, _enc: &str) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        Err(ServiceError::unsupported(
            key,
            "no key services are configured",
        ))
    }
}

/// The real key services, one per compiled-in provider.
pub struct Services {
    config: ServiceConfig,
    gcp: GcpConfig,
    azure: AzureConfig,
    #[cfg(any(
        feature = "aws-kms",
        feature = "hc-vault",
        feature = "gcp-kms",
        feature = "azure-kv"
    ))]
    runtime: runtime::Lazy,
}

impl Services {
    /// Services configured by the caller (tokens, endpoints, `GNUPGHOME`,
    /// timeouts). Nothing is contacted until a key is wrapped or unwrapped.
    pub fn new(config: ServiceConfig) -> Self {
        Self {
            config,
            gcp: GcpConfig::default(),
            azure: AzureConfig::default(),
            #[cfg(any(
                feature = "aws-kms",
                feature = "hc-vault",
                feature = "gcp-kms",
                feature = "azure-kv"
            ))]
            runtime: runtime::Lazy::default(),
        }
    }

    /// Sets the GCP Cloud KMS settings (endpoint, credentials); by default
    /// the public endpoint with application default credentials.
    pub fn with_gcp(mut self, gcp: GcpConfig) -> Self {
        self.gcp = gcp;
        self
    }

    /// Sets the Azure Key Vault settings (credentials, extra trusted roots);
    /// by default tokens come from the Azure CLI / Azure Developer CLI.
    pub fn with_azure(mut self, azure: AzureConfig) -> Self {
        self.azure = azure;
        self
    }

    /// The configuration in use.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// The GCP Cloud KMS settings in use.
    pub fn gcp(&self) -> &GcpConfig {
        &self.gcp
    }

    /// The Azure Key Vault settings in use.
    pub fn azure(&self) -> &AzureConfig {
        &self.azure
    }
}

// Without every provider feature, some arguments go unused.
#[cfg_attr(
    not(all(
        feature = "aws-kms",
        feature = "hc-vault",
        feature = "pgp",
        feature = "gcp-kms",
        feature = "azure-kv"
    )),
    allow(unused_variables, unreachable_code)
)]
impl KeyService for Services {
    fn wrap(&self, key: &ServiceKey, secret: &[u8]) -> Result<Wrapped, ServiceError> {
        let enc = match key {
            #[cfg(feature = "aws-kms")]
            ServiceKey::Kms(k) => aws::wrap(&self.runtime, &self.config, k, secret)?,
            #[cfg(feature = "hc-vault")]
            ServiceKey::HcVault(k) => vault::wrap(&self.runtime, &self.config, k, secret)?,
            #[cfg(feature = "pgp")]
            ServiceKey::Pgp(k) => pgp::wrap(&self.config, k, secret)?,
            #[cfg(feature = "gcp-kms")]
            ServiceKey::GcpKms(k) => {
                gcp::wrap(&self.runtime, &self.config.options, &self.gcp, k, secret)?
            }
            #[cfg(feature = "azure-kv")]
            ServiceKey::AzureKv(k) => {
                let (key, enc) =
                    azure::wrap(&self.runtime, &self.config.options, &self.azure, k, secret)?;
                return Ok(Wrapped {
                    key: ServiceKey::AzureKv(key),
                    enc,
                });
            }
            #[allow(unreachable_patterns)]
            other => return Err(not_built(other)),
        };
        Ok(Wrapped {
            key: key.clone(),
            enc,
        })
    }

    fn unwrap(&self, key: &ServiceKey, enc: &str) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        match key {
            #[cfg(feature = "aws-kms")]
            ServiceKey::Kms(k) => aws::unwrap(&self.runtime, &self.config, k, enc),
            #[cfg(feature = "hc-vault")]
            ServiceKey::HcVault(k) => vault::unwrap(&self.runtime, &self.config, k, enc),
            #[cfg(feature = "pgp")]
            ServiceKey::Pgp(k) => pgp::unwrap(&self.config, k, enc),
            #[cfg(feature = "gcp-kms")]
            ServiceKey::GcpKms(k) => {
                gcp::unwrap(&self.runtime, &self.config.options, &self.gcp, k, enc)
            }
            #[cfg(feature = "azure-kv")]
            ServiceKey::AzureKv(k) => {
                azure::unwrap(&self.runtime, &self.config.options, &self.azure, k, enc)
            }
            #[allow(unreachable_patterns)]
            other => Err(not_built(other)),
        }
    }
}

fn not_built(key: &ServiceKey) -> ServiceError {
    let why = match key {
        ServiceKey::Kms(_) => "this build has no AWS KMS support (cargo feature `aws-kms`)",
        ServiceKey::HcVault(_) => "this build has no Vault support (cargo feature `hc-vault`)",
        ServiceKey::Pgp(_) => "this build has no PGP support (cargo feature `pgp`)",
        ServiceKey::GcpKms(_) => {
            "this build has no GCP Cloud KMS support (cargo feature `gcp-kms`)"
        }
        ServiceKey::AzureKv(_) => {
            "this build has no Azure Key Vault support (cargo feature `azure-kv`)"
        }
    };
    ServiceError::unsupported(key, why)
}
