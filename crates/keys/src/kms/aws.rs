//! AWS KMS, as sops uses it: `Encrypt(KeyId=arn, Plaintext, EncryptionContext)`
//! with `enc = base64(CiphertextBlob)`, and `Decrypt(KeyId=arn,
//! CiphertextBlob, EncryptionContext)`: KMS refuses a blob that another key
//! wrapped, so an entry's `enc` only opens under the key its `arn` names. The region comes from the ARN; a `role` is assumed
//! through STS first; `aws_profile` selects a named profile, whose
//! credentials are then the only ones used (as the Go SDK does for an
//! explicit profile: environment credentials do not win over it), and which
//! must exist.
//!
//! Endpoints are the SDK's own resolution unless
//! [`AwsConfig::endpoint_url`](super::AwsConfig::endpoint_url) is given: KMS
//! calls go to `AWS_ENDPOINT_URL_KMS`, else `AWS_ENDPOINT_URL`, else the
//! profile's `services` / `endpoint_url`, else the regional endpoint; STS
//! (AssumeRole) to `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, … — never
//! to the KMS one. `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` /
//! `ignore_configured_endpoint_urls` turn the configured ones off.
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
        let (client, endpoint) = client(config, key).await?;
        let fail = |cause: &str| ServiceError::new(&ServiceKey::Kms(key.clone()), &endpoint, cause);
        let out = client
            .encrypt()
            .key_id(&key.arn)
            .plaintext(Blob::new(secret))
            .set_encryption_context(context(key))
            .send()
            .await
            .map_err(|e| call_failure(key, &endpoint, &e))?;
        let blob = out
            .ciphertext_blob()
            .ok_or_else(|| fail("KMS returned no ciphertext"))?;
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
        let (client, endpoint) = client(config, key).await?;
        let fail = |cause: &str| ServiceError::new(&ServiceKey::Kms(key.clone()), &endpoint, cause);
        // KeyId, as sops sends it: without it KMS would open a blob of
        // any key the caller may use, whatever `arn` the metadata names.
        let out = client
            .decrypt()
            .key_id(&key.arn)
            .ciphertext_blob(Blob::new(blob))
            .set_encryption_context(context(key))
            .send()
            .await
            .map_err(|e| call_failure(key, &endpoint, &e))?;
        // The blob's own buffer, moved (a copy would leave the SDK's
        // dropped without wiping).
        out.plaintext
            .map(|p| Zeroizing::new(p.into_inner()))
            .ok_or_else(|| fail("KMS returned no plaintext"))
    };
    bounded(rt, config, key, call)
}

/// A failed KMS call. With a role, a failure to get credentials is the
/// role assumption's (STS AssumeRole, at its own endpoint): named so, with
/// the key as `ARN+ROLE`, as sops names both, not as the KMS endpoint's.
fn call_failure(key: &AwsKmsKey, endpoint: &str, e: &dyn std::error::Error) -> ServiceError {
    let chain = error_chain(e);
    let service_key = ServiceKey::Kms(key.clone());
    if key.role.is_empty() || !chain.contains("loading credentials") {
        return ServiceError::new(&service_key, endpoint, chain);
    }
    let mut err = ServiceError::new(
        &service_key,
        "-",
        format!(
            "failed to assume role '{}' (STS AssumeRole, before calling KMS at {endpoint}): {chain}",
            key.role
        ),
    );
    err.key = format!("{}+{}", key.arn, key.role);
    err
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

/// Where the call goes, for messages before a client exists.
fn endpoint(config: &ServiceConfig, key: &AwsKmsKey) -> String {
    match &config.aws.endpoint_url {
        Some(url) => url.clone(),
        None => format!("kms.{}", key.region().unwrap_or("?")),
    }
}

fn fail(config: &ServiceConfig, key: &AwsKmsKey, cause: &str) -> ServiceError {
    ServiceError::new(&ServiceKey::Kms(key.clone()), &endpoint(config, key), cause)
}

/// Whether the named profile is in the shared config or credentials file
/// (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`, `~/.aws/…`).
async fn check_profile(name: &str) -> Result<(), String> {
    use aws_types::os_shim_internal::{Env, Fs};
    let missing = || format!("failed to get shared config profile, {name}");
    // The default files (the type's name is deprecated, not the type).
    match aws_config::profile::load(&Fs::real(), &Env::real(), &Default::default(), None).await {
        Ok(set) if set.get_profile(name).is_some() => Ok(()),
        Ok(_) => Err(missing()),
        Err(e) => Err(format!("{}: {e}", missing())),
    }
}

/// The CA bundle to trust instead of the system's roots, as the Go SDK
/// finds it for sops: the given one (`AWS_CA_BUNDLE`), else the
/// `ca_bundle` of the key's profile, or of the selected one.
async fn ca_bundle(config: &ServiceConfig, key: &AwsKmsKey) -> Option<std::path::PathBuf> {
    use aws_types::os_shim_internal::{Env, Fs};
    if let Some(path) = &config.aws.ca_bundle {
        return Some(path.clone());
    }
    let selected =
        (!key.aws_profile.is_empty()).then(|| std::borrow::Cow::Owned(key.aws_profile.clone()));
    let set = aws_config::profile::load(&Fs::real(), &Env::real(), &Default::default(), selected)
        .await
        .ok()?;
    set.get("ca_bundle")
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
}

/// An HTTPS client (the SDK's own rustls one) whose only roots are the
/// certificates of the PEM file `path`. As the Go SDK reads a bundle,
/// certificates that cannot be read are skipped, and a file without any
/// readable one is an error.
fn https_client_trusting(
    path: &std::path::Path,
) -> Result<aws_sdk_kms::config::SharedHttpClient, String> {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let pem = std::fs::read(path)
        .map_err(|e| format!("could not read the CA bundle {}: {e}", path.display()))?;
    let mut store = tls::TrustStore::empty();
    let mut count = 0;
    for der in CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok) {
        // The client adds each certificate with `expect`: only those that
        // rustls takes are given to it, each as a PEM of its own.
        if rustls::RootCertStore::empty().add(der.clone()).is_err() {
            continue;
        }
        store.add_pem_certificate(pem_of(&der));
        count += 1;
    }
    if count == 0 {
        return Err(format!(
            "the CA bundle {} holds no certificate that can be read",
            path.display()
        ));
    }
    let context = tls::TlsContext::builder()
        .with_trust_store(store)
        .build()
        .map_err(|e| format!("could not use the CA bundle {}: {e}", path.display()))?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https())
}

/// A certificate as PEM text.
fn pem_of(der: &[u8]) -> Vec<u8> {
    let b64 = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out.into_bytes()
}

/// The KMS endpoint the SDK will use, for messages: the given one, else the
/// configured KMS one, else the configured shared one, else the regional.
fn resolved_endpoint(
    config: &ServiceConfig,
    shared: &aws_config::SdkConfig,
    region: &str,
) -> String {
    use aws_types::service_config::ServiceConfigKey;
    let kms = ServiceConfigKey::builder()
        .service_id("KMS")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok();
    config
        .aws
        .endpoint_url
        .clone()
        .or_else(|| shared.service_config()?.load_config(kms?))
        .or_else(|| shared.endpoint_url().map(str::to_owned))
        .unwrap_or_else(|| format!("kms.{region}"))
}

/// A KMS client for the key's region, profile and role, and the endpoint
/// it calls (for messages).
async fn client(
    config: &ServiceConfig,
    key: &AwsKmsKey,
) -> Result<(aws_sdk_kms::Client, String), ServiceError> {
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
    if let Some(bundle) = ca_bundle(config, key).await {
        let http = https_client_trusting(&bundle).map_err(|cause| fail(config, key, &cause))?;
        loader = loader.http_client(http);
    }
    if !key.aws_profile.is_empty() {
        check_profile(&key.aws_profile)
            .await
            .map_err(|cause| fail(config, key, &cause))?;
        // The profile's credentials only: the default chain would take
        // AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY first.
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(&key.aws_profile)
            .build();
        loader = loader
            .profile_name(&key.aws_profile)
            .credentials_provider(provider);
    } else if let Some(c) = &config.aws.credentials {
        loader = loader.credentials_provider(Credentials::new(
            &c.access_key_id,
            c.secret_access_key.as_str(),
            c.session_token.as_ref().map(|t| t.to_string()),
            None,
            "sops-like",
        ));
    }
    let shared = loader.load().await;
    let endpoint = resolved_endpoint(config, &shared, region);
    let mut builder = aws_sdk_kms::config::Builder::from(&shared);
    if !key.role.is_empty() {
        let session = config
            .aws
            .role_session_name
            .clone()
            .unwrap_or_else(|| "sops-like".to_owned());
        // STS is configured from the shared config: its own endpoint
        // (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, …), not the KMS one.
        let provider = aws_config::sts::AssumeRoleProvider::builder(&key.role)
            .session_name(session)
            .region(Region::new(region.to_owned()))
            .configure(&shared)
            .build()
            .await;
        builder = builder.credentials_provider(provider);
    }
    Ok((aws_sdk_kms::Client::from_conf(builder.build()), endpoint))
}
