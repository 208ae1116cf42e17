//! Azure Key Vault, as sops uses it: `wrapKey` with RSA-OAEP-256, `enc` =
//! the wrapped bytes in base64url **without padding**; `unwrapKey` with the
//! stored version. A key without a version is wrapped with the latest one,
//! and the version the vault used (from the answer's `kid`) is stored.
//!
//! Through Microsoft's `azure_security_keyvault_keys` 1.x client (HTTPS only,
//! challenge-based bearer authentication) with tokens from
//! [`AzureCredentials`]. The client's own retries are off: each attempt is
//! bounded by the timeout and transient failures are retried here.

use std::sync::Arc;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::error::ErrorKind;
use azure_core::http::{ClientOptions, RetryOptions, Transport};
use azure_security_keyvault_keys::models::{
    EncryptionAlgorithm, KeyClientUnwrapKeyOptions, KeyClientWrapKeyOptions, KeyOperationParameters,
};
use azure_security_keyvault_keys::{KeyClient, KeyClientOptions};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use zeroize::Zeroizing;

use super::config::{AzureConfig, AzureCredentials, ServiceOptions};
use super::error::{error_chain, ServiceError};
use super::keys::{AzureKvKey, ServiceKey};
use super::runtime::Lazy;

/// Wraps `secret`; returns the key with its version resolved, and the `enc`.
pub(crate) fn wrap(
    rt: &Lazy,
    options: &ServiceOptions,
    config: &AzureConfig,
    key: &AzureKvKey,
    secret: &[u8],
) -> Result<(AzureKvKey, String), ServiceError> {
    let call = Call::new(rt, options, config, key)?;
    let client = &call.client;
    let result = call.retried(|| {
        let params = KeyOperationParameters {
            algorithm: Some(EncryptionAlgorithm::RsaOaep256),
            value: Some(secret.to_vec()),
            ..KeyOperationParameters::default()
        };
        let options = KeyClientWrapKeyOptions {
            key_version: (!key.version.is_empty()).then(|| key.version.clone()),
            ..KeyClientWrapKeyOptions::default()
        };
        async move {
            let body = params.try_into()?;
            client
                .wrap_key(&key.name, body, Some(options))
                .await?
                .into_model()
        }
    })?;
    let wrapped = result
        .result
        .ok_or_else(|| call.fail("the answer has no wrapped key"))?;
    let version = match result.kid.as_deref().and_then(version_of) {
        Some(v) => v.to_owned(),
        None if !key.version.is_empty() => key.version.clone(),
        None => return Err(call.fail("the answer does not say which key version was used")),
    };
    let resolved = AzureKvKey {
        version,
        ..key.clone()
    };
    Ok((resolved, URL_SAFE_NO_PAD.encode(wrapped)))
}

/// Unwraps an `enc` made by [`wrap`] (or by sops) with the stored version.
pub(crate) fn unwrap(
    rt: &Lazy,
    options: &ServiceOptions,
    config: &AzureConfig,
    key: &AzureKvKey,
    enc: &str,
) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
    let call = Call::new(rt, options, config, key)?;
    let wrapped = URL_SAFE_NO_PAD
        .decode(enc.trim().trim_end_matches('='))
        .map_err(|_| call.fail("enc is not base64url"))?;
    let client = &call.client;
    let result = call.retried(|| {
        let params = KeyOperationParameters {
            algorithm: Some(EncryptionAlgorithm::RsaOaep256),
            value: Some(wrapped.clone()),
            ..KeyOperationParameters::default()
        };
        async move {
            let body = params.try_into()?;
            client
                .unwrap_key(
                    &key.name,
                    &key.version,
                    body,
                    None::<KeyClientUnwrapKeyOptions<'_>>,
                )
                .await?
                .into_model()
        }
    })?;
    result
        .result
        .map(Zeroizing::new)
        .ok_or_else(|| call.fail("the answer has no unwrapped key"))
}

/// The version in a key id `https://VAULT/keys/NAME/VERSION`.
fn version_of(kid: &str) -> Option<&str> {
    let (_, rest) = kid.split_once("/keys/")?;
    let mut parts = rest.trim_end_matches('/').split('/');
    let (_name, version) = (parts.next()?, parts.next()?);
    (!version.is_empty() && parts.next().is_none()).then_some(version)
}

/// One operation on one key: its client and how to report failures.
struct Call<'a> {
    rt: &'a Lazy,
    options: &'a ServiceOptions,
    key: ServiceKey,
    endpoint: String,
    client: KeyClient,
}

impl<'a> Call<'a> {
    fn new(
        rt: &'a Lazy,
        options: &'a ServiceOptions,
        config: &AzureConfig,
        key: &AzureKvKey,
    ) -> Result<Self, ServiceError> {
        let service_key = ServiceKey::AzureKv(key.clone());
        let endpoint = key.vault_url.trim_end_matches('/').to_owned();
        let fail = |cause: String| ServiceError::new(&service_key, &endpoint, cause);
        let mut http = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = &config.extra_root_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| fail(format!("bad extra root certificate: {}", error_chain(&e))))?
            {
                http = http.add_root_certificate(cert);
            }
        }
        let http = http.build().map_err(|e| {
            fail(format!(
                "could not build the HTTP client: {}",
                error_chain(&e)
            ))
        })?;
        let client_options = KeyClientOptions {
            client_options: ClientOptions {
                retry: RetryOptions::none(),
                transport: Some(Transport::new(Arc::new(http))),
                ..ClientOptions::default()
            },
            verify_challenge_resource: Some(!config.skip_challenge_resource_check),
            ..KeyClientOptions::default()
        };
        let credential = credential(&config.credentials).map_err(&fail)?;
        let client = KeyClient::new(&endpoint, credential, Some(client_options))
            .map_err(|e| fail(format!("could not create the client: {}", error_chain(&e))))?;
        Ok(Self {
            rt,
            options,
            key: service_key,
            endpoint,
            client,
        })
    }

    fn fail(&self, cause: &str) -> ServiceError {
        ServiceError::new(&self.key, &self.endpoint, cause)
    }

    /// Runs `request` with a timeout per attempt and bounded retries.
    fn retried<F, T>(&self, request: impl FnMut() -> F) -> Result<T, ServiceError>
    where
        F: std::future::Future<Output = azure_core::Result<T>>,
    {
        self.rt
            .retried(self.options, &self.key, &self.endpoint, request, |e| {
                self.classify(e)
            })
    }

    /// A client error as a [`ServiceError`], transient when retrying may help.
    fn classify(&self, e: &azure_core::Error) -> ServiceError {
        let (transient, cause) = match e.kind() {
            ErrorKind::HttpResponse {
                status, error_code, ..
            } => {
                let code = u16::from(*status);
                let mut cause = format!("HTTP {code}");
                if let Some(c) = error_code {
                    cause.push_str(": ");
                    cause.push_str(c);
                }
                (code == 429 || status.is_server_error(), cause)
            }
            ErrorKind::Connection | ErrorKind::Io => (true, error_chain(e)),
            _ => (false, error_chain(e)),
        };
        if transient {
            ServiceError::transient(&self.key, &self.endpoint, cause)
        } else {
            self.fail(&cause)
        }
    }
}

/// The token source, from the configuration.
fn credential(source: &AzureCredentials) -> Result<Arc<dyn TokenCredential>, String> {
    let built: azure_core::Result<Arc<dyn TokenCredential>> = match source {
        AzureCredentials::Token(token) => return Ok(Arc::new(StaticToken(token.clone()))),
        AzureCredentials::DeveloperTools => {
            azure_identity::DeveloperToolsCredential::new(None).map(|c| c as _)
        }
        AzureCredentials::ManagedIdentity { client_id } => {
            let options = azure_identity::ManagedIdentityCredentialOptions {
                user_assigned_id: client_id
                    .clone()
                    .map(azure_identity::UserAssignedId::ClientId),
                ..Default::default()
            };
            azure_identity::ManagedIdentityCredential::new(Some(options)).map(|c| c as _)
        }
        AzureCredentials::ClientSecret {
            tenant_id,
            client_id,
            secret,
        } => azure_identity::ClientSecretCredential::new(
            tenant_id,
            client_id.clone(),
            secret.as_str().to_owned().into(),
            None,
        )
        .map(|c| c as _),
    };
    built.map_err(|e| format!("no Azure credentials: {}", error_chain(&e)))
}

/// A fixed bearer token.
struct StaticToken(Zeroizing<String>);

impl std::fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticToken(<redacted>)")
    }
}

#[async_trait::async_trait]
impl TokenCredential for StaticToken {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let expires =
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1);
        Ok(AccessToken::new(self.0.as_str().to_owned(), expires))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn version_from_kid() {
        assert_eq!(
            version_of("https://v.vault.azure.net/keys/k/0123abc"),
            Some("0123abc")
        );
        assert_eq!(version_of("https://v.vault.azure.net/keys/k"), None);
        assert_eq!(version_of("https://v.vault.azure.net/keys/k/1/2"), None);
        assert_eq!(version_of("nonsense"), None);
    }

    #[test]
    fn plain_http_vaults_are_refused_before_any_call() {
        // AzureKvKey::parse only accepts https; a hand-made key with http
        // still fails cleanly (the client refuses tokens over plain HTTP).
        let key = AzureKvKey {
            vault_url: "http://127.0.0.1:1".into(),
            name: "k".into(),
            version: "v".into(),
        };
        let options = ServiceOptions {
            timeout: Duration::from_millis(300),
            attempts: 1,
            backoff: Duration::ZERO,
        };
        let config = AzureConfig {
            credentials: AzureCredentials::Token(Zeroizing::new("secret-token".into())),
            ..Default::default()
        };
        let e = wrap(&Lazy::default(), &options, &config, &key, &[1; 32]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("azure_kv key http://127.0.0.1:1/keys/k/v at http://127.0.0.1:1: "),
            "{text}"
        );
        assert!(!text.contains("secret-token"), "{text}");
    }
}
