//! GCP Cloud KMS, as sops uses it: `Encrypt(name = resource_id, plaintext)`
//! with `enc = base64(ciphertext)` (standard alphabet, padded), and
//! `Decrypt(name, ciphertext)`.
//!
//! Through the official `google-cloud-kms-v1` client (HTTP/JSON over rustls)
//! with credentials from [`GcpCredentials`]: application default
//! credentials, a credentials JSON document, a fixed access token, or none
//! (emulators). Each attempt is bounded by the timeout and transient
//! failures are retried a bounded number of times.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use google_cloud_auth::credentials::{
    anonymous, service_account, user_account, CacheableResource, Credentials, CredentialsProvider,
    EntityTag,
};
use google_cloud_kms_v1::client::KeyManagementService;
use zeroize::Zeroizing;

use super::config::{GcpConfig, GcpCredentials, ServiceOptions};
use super::error::{error_chain, ServiceError};
use super::keys::{GcpKmsKey, ServiceKey};
use super::runtime::Lazy;

/// The public endpoint, for messages when none is configured.
const DEFAULT_ENDPOINT: &str = "https://cloudkms.googleapis.com";

/// Encrypts `secret` with the Cloud KMS key; returns base64 of the ciphertext.
pub(crate) fn wrap(
    rt: &Lazy,
    options: &ServiceOptions,
    config: &GcpConfig,
    key: &GcpKmsKey,
    secret: &[u8],
) -> Result<String, ServiceError> {
    let call = Call::new(rt, options, config, key)?;
    let out = call.retried(|client| {
        let request = client
            .encrypt()
            .set_name(&key.resource_id)
            .set_plaintext(secret.to_vec());
        async move { request.send().await.map(|r| r.ciphertext) }
    })?;
    Ok(STANDARD.encode(&out))
}

/// Decrypts a base64 ciphertext with Cloud KMS.
pub(crate) fn unwrap(
    rt: &Lazy,
    options: &ServiceOptions,
    config: &GcpConfig,
    key: &GcpKmsKey,
    enc: &str,
) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
    let call = Call::new(rt, options, config, key)?;
    let ciphertext = STANDARD
        .decode(enc.trim())
        .map_err(|_| call.fail("enc is not base64"))?;
    let out = call.retried(|client| {
        let request = client
            .decrypt()
            .set_name(&key.resource_id)
            .set_ciphertext(ciphertext.clone());
        async move { request.send().await.map(|r| r.plaintext) }
    })?;
    let plain = Zeroizing::new(out.to_vec());
    // The client's buffer is wiped too, when it is the only reference to
    // it (it is read-only while shared).
    if let Ok(mut own) = out.try_into_mut() {
        zeroize::Zeroize::zeroize(&mut own[..]);
    }
    Ok(plain)
}

/// One operation on one key: its client and how to report failures.
struct Call<'a> {
    rt: &'a Lazy,
    options: &'a ServiceOptions,
    key: ServiceKey,
    endpoint: String,
    client: KeyManagementService,
}

impl<'a> Call<'a> {
    fn new(
        rt: &'a Lazy,
        options: &'a ServiceOptions,
        config: &GcpConfig,
        key: &GcpKmsKey,
    ) -> Result<Self, ServiceError> {
        let service_key = ServiceKey::GcpKms(key.clone());
        let endpoint = config
            .endpoint
            .clone()
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        let fail = |cause: String| ServiceError::new(&service_key, &endpoint, cause);
        // One attempt per call: our own loop retries, bounded by the options.
        let builder = KeyManagementService::builder()
            .with_endpoint(endpoint.clone())
            .with_retry_policy(google_cloud_gax::retry_policy::NeverRetry)
            .with_attempt_timeout(options.timeout);
        // Credentials start background token refreshes: inside the runtime.
        let client = rt
            .block_on(async {
                let credentials = credentials(&config.credentials)?;
                builder
                    .with_credentials(credentials)
                    .build()
                    .await
                    .map_err(|e| format!("could not create the client: {}", error_chain(&e)))
            })
            .map_err(&fail)?
            .map_err(&fail)?;
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
    fn retried<F, T>(
        &self,
        mut request: impl FnMut(&KeyManagementService) -> F,
    ) -> Result<T, ServiceError>
    where
        F: std::future::Future<Output = google_cloud_kms_v1::Result<T>>,
    {
        let client = &self.client;
        self.rt.retried(
            self.options,
            &self.key,
            &self.endpoint,
            || request(client),
            |e| self.classify(e),
        )
    }

    /// A client error as a [`ServiceError`], transient when retrying may help.
    fn classify(&self, e: &google_cloud_kms_v1::Error) -> ServiceError {
        let transient = e.is_connect()
            || e.is_io()
            || e.is_timeout()
            || e.is_transport()
            || matches!(e.http_status_code(), Some(429 | 500..=599));
        let mut cause = error_chain(e);
        if let Some(status) = e.status() {
            if !status.message.is_empty() && !cause.contains(&status.message) {
                cause = format!("{cause}: {}", status.message);
            }
        }
        if transient {
            ServiceError::transient(&self.key, &self.endpoint, cause)
        } else {
            self.fail(&cause)
        }
    }
}

/// The credentials to use, from the configuration.
fn credentials(source: &GcpCredentials) -> Result<Credentials, String> {
    match source {
        GcpCredentials::Default => google_cloud_auth::credentials::Builder::default()
            .build()
            .map_err(|e| format!("no application default credentials: {}", error_chain(&e))),
        GcpCredentials::Anonymous => Ok(anonymous::Builder::new().build()),
        GcpCredentials::AccessToken(token) => Ok(Credentials::from(StaticToken::new(token)?)),
        GcpCredentials::Json(text) => {
            let json: serde_json::Value = serde_json::from_str(text)
                .map_err(|_| "the GCP credentials are not a JSON document".to_owned())?;
            let kind = json
                .get("type")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let built = match kind.as_str() {
                "service_account" => service_account::Builder::new(json).build(),
                "authorized_user" => user_account::Builder::new(json).build(),
                _ => {
                    return Err(format!(
                        "GCP credentials of type {kind:?} are not supported \
                         (use service_account or authorized_user, or application default credentials)"
                    ))
                }
            };
            built.map_err(|e| format!("bad GCP credentials: {}", error_chain(&e)))
        }
    }
}

/// A fixed OAuth access token, sent as `Authorization: Bearer …`.
#[derive(Debug)]
struct StaticToken {
    header: http::HeaderValue,
    tag: EntityTag,
}

impl StaticToken {
    fn new(token: &str) -> Result<Self, String> {
        let mut header =
            http::HeaderValue::from_str(&format!("Bearer {}", token.trim())).map_err(|_| {
                "the GCP access token has characters not allowed in a header".to_owned()
            })?;
        header.set_sensitive(true);
        Ok(Self {
            header,
            tag: EntityTag::new(),
        })
    }
}

impl CredentialsProvider for StaticToken {
    async fn headers(
        &self,
        extensions: http::Extensions,
    ) -> Result<CacheableResource<http::HeaderMap>, google_cloud_auth::errors::CredentialsError>
    {
        if extensions.get::<EntityTag>() == Some(&self.tag) {
            return Ok(CacheableResource::NotModified);
        }
        let mut data = http::HeaderMap::new();
        data.insert(http::header::AUTHORIZATION, self.header.clone());
        Ok(CacheableResource::New {
            entity_tag: self.tag.clone(),
            data,
        })
    }

    async fn universe_domain(&self) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bad_credentials_json_is_a_clear_error_without_its_contents() {
        let e = credentials(&GcpCredentials::Json(Zeroizing::new(
            "{\"type\":\"external_account\",\"secret\":\"s3cr3t\"}".into(),
        )))
        .unwrap_err();
        assert!(e.contains("external_account"), "{e}");
        assert!(!e.contains("s3cr3t"), "{e}");
        let e = credentials(&GcpCredentials::Json(Zeroizing::new("s3cr3t".into()))).unwrap_err();
        assert!(!e.contains("s3cr3t"), "{e}");
        assert!(credentials(&GcpCredentials::AccessToken(Zeroizing::new("a\nb".into()))).is_err());
    }

    #[test]
    fn access_token_becomes_a_bearer_header() {
        let creds =
            credentials(&GcpCredentials::AccessToken(Zeroizing::new("tok".into()))).unwrap();
        let rt = Lazy::default();
        let headers = rt
            .block_on(creds.headers(http::Extensions::new()))
            .unwrap()
            .unwrap();
        let CacheableResource::New { data, .. } = headers else {
            panic!("expected headers")
        };
        assert_eq!(data.get("authorization").unwrap(), "Bearer tok");
    }

    #[test]
    fn a_server_that_is_down_fails_clearly_within_the_budget() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let options = ServiceOptions {
            timeout: Duration::from_millis(500),
            attempts: 2,
            backoff: Duration::from_millis(20),
        };
        let config = GcpConfig {
            endpoint: Some(format!("http://127.0.0.1:{port}")),
            credentials: GcpCredentials::Anonymous,
        };
        let key = GcpKmsKey::parse("projects/p/locations/global/keyRings/r/cryptoKeys/k").unwrap();
        let start = std::time::Instant::now();
        let e = wrap(&Lazy::default(), &options, &config, &key, &[1; 32]).unwrap_err();
        assert!(start.elapsed() < options.budget() + Duration::from_secs(1));
        let text = e.to_string();
        assert!(
            text.starts_with(&format!(
                "gcp_kms key projects/p/locations/global/keyRings/r/cryptoKeys/k at http://127.0.0.1:{port}: "
            )),
            "{text}"
        );
        assert!(e.transient, "{text}");
    }
}
