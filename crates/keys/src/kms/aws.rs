//! AWS KMS, as sops uses it: `Encrypt(KeyId=arn, Plaintext, EncryptionContext)`
//! with `enc = base64(CiphertextBlob)`, and `Decrypt(CiphertextBlob,
//! EncryptionContext)`. The region comes from the ARN; a `role` is assumed
//! through STS first; `aws_profile` selects a named profile.
//!
//! The SDK does its own bounded retries (standard mode, with our attempt
//! count and backoff) and per-attempt timeouts; the whole call is also
//! bounded by [`ServiceOptions::budget`](super::ServiceOptions::budget).

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_sdk_kms::config::{Credentials, Region};
use aws_sdk_kms::primitives::Blob;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use zeroize::Zeroizing;

use super::config::ServiceConfig;
use super::error::{error_chain, ServiceError};
use super::keys::{AwsKmsKey, ServiceKey};
use super::runtime::Lazy;

/// Encrypts `secret` with the KMS key; returns base64 of the ciphertext blob.
pub(crate) fn wrap(
    rt: &Lazy,
    config: &ServiceConfig,
    key: &AwsKmsKey,
    secret: &[u8],
) -> Result<String, ServiceError> {
    let call = async {
        let client = client(config, key).await?;
        let out = client
            .encrypt()
            .key_id(&key.arn)
            .plaintext(Blob::new(secret))
            .set_encryption_context(context(key))
            .send()
            .await
            .map_err(|e| fail(config, key, &error_chain(&e)))?;
        let blob = out
            .ciphertext_blob()
            .ok_or_else(|| fail(config, key, "KMS returned no ciphertext"))?;
        Ok(STANDARD.encode(blob.as_ref()))
    };
    bounded(rt, config, key, call)
}

/// Decrypts a base64 ciphertext blob with KMS.
pub(crate) fn unwrap(
    rt: &Lazy,
    config: &ServiceConfig,
    key: &AwsKmsKey,
    enc: &str,
) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
    let blob = STANDARD
        .decode(enc.trim())
        .map_err(|_| fail(config, key, "enc is not base64"))?;
    let call = async {
        let client = client(config, key).await?;
        let out = client
            .decrypt()
            .ciphertext_blob(Blob::new(blob))
            .set_encryption_context(context(key))
            .send()
            .await
            .map_err(|e| fail(config, key, &error_chain(&e)))?;
        out.plaintext()
            .map(|p| Zeroizing::new(p.as_ref().to_vec()))
            .ok_or_else(|| fail(config, key, "KMS returned no plaintext"))
    };
    bounded(rt, config, key, call)
}

/// Runs `call` on the runtime, giving up after the whole retry budget.
fn bounded<T>(
    rt: &Lazy,
    config: &ServiceConfig,
    key: &AwsKmsKey,
    call: impl std::future::Future<Output = Result<T, ServiceError>>,
) -> Result<T, ServiceError> {
    let budget = config.options.budget();
    // The timer must be created inside the runtime.
    rt.block_on(async { tokio::time::timeout(budget, call).await })
        .map_err(|e| fail(config, key, &e))?
        .unwrap_or_else(|_| {
            Err(fail(
                config,
                key,
                &format!("no answer within {} ms", budget.as_millis()),
            ))
        })
}

fn context(key: &AwsKmsKey) -> Option<std::collections::HashMap<String, String>> {
    (!key.context.is_empty()).then(|| key.context.clone().into_iter().collect())
}

/// Where the call goes, for messages.
fn endpoint(config: &ServiceConfig, key: &AwsKmsKey) -> String {
    match &config.aws.endpoint_url {
        Some(url) => url.clone(),
        None => format!("kms.{}", key.region().unwrap_or("?")),
    }
}

fn fail(config: &ServiceConfig, key: &AwsKmsKey, cause: &str) -> ServiceError {
    ServiceError::new(&ServiceKey::Kms(key.clone()), &endpoint(config, key), cause)
}

/// A KMS client for the key's region, profile and role.
async fn client(
    config: &ServiceConfig,
    key: &AwsKmsKey,
) -> Result<aws_sdk_kms::Client, ServiceError> {
    let region = key
        .region()
        .ok_or_else(|| fail(config, key, "the ARN names no region"))?;
    let options = &config.options;
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(options.attempts.max(1))
                .with_initial_backoff(options.backoff),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(options.timeout)
                .operation_attempt_timeout(options.timeout)
                .build(),
        );
    if let Some(url) = &config.aws.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if !key.aws_profile.is_empty() {
        loader = loader.profile_name(&key.aws_profile);
    }
    if let Some(c) = &config.aws.credentials {
        loader = loader.credentials_provider(Credentials::new(
            &c.access_key_id,
            c.secret_access_key.as_str(),
            c.session_token.as_ref().map(|t| t.to_string()),
            None,
            "sops-like",
        ));
    }
    let shared = loader.load().await;
    let mut builder = aws_sdk_kms::config::Builder::from(&shared);
    if !key.role.is_empty() {
        let session = config
            .aws
            .role_session_name
            .clone()
            .unwrap_or_else(|| "sops-like".to_owned());
        let provider = aws_config::sts::AssumeRoleProvider::builder(&key.role)
            .session_name(session)
            .region(Region::new(region.to_owned()))
            .configure(&shared)
            .build()
            .await;
        builder = builder.credentials_provider(provider);
    }
    Ok(aws_sdk_kms::Client::from_conf(builder.build()))
}
