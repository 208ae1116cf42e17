//! An S3 destination: `PUT` of the file's bytes to `bucket/prefix+name`,
//! signed with SigV4, as sops's `PutObject` does.
//!
//! Region and credentials come from the AWS default chain (environment,
//! profiles, SSO, process credentials, IMDS: `aws-config`). The endpoint
//! is `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL` (or a profile's
//! `endpoint_url`; none when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true), with
//! path-style addressing (`ENDPOINT/bucket/key`, as
//! S3-compatible servers expect); without one, AWS's virtual-hosted
//! `https://bucket.s3.REGION.amazonaws.com/key`.

use super::{encode_path, fail, xml_tag, Http};
use crate::exit::Result;
use aws_config::BehaviorVersion;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use std::time::SystemTime;

/// Upload `body` as object `key` of `bucket`. `verbose` logs the URL.
pub fn upload(http: &Http, bucket: &str, key: &str, body: &[u8], verbose: bool) -> Result<()> {
    let what = format!("s3://{bucket}/{key}");
    let sdk = http.block_on(aws_config::defaults(BehaviorVersion::latest()).load());
    let region = sdk.region().map(|r| r.to_string()).ok_or_else(|| {
        fail(format!(
            "cannot upload to {what}: no AWS region is configured"
        ))
        .hint("set AWS_REGION (or AWS_DEFAULT_REGION, or `region` in the AWS profile)")
    })?;
    // As the SDK resolves it: AWS_ENDPOINT_URL_S3 (or the profile's
    // `services`), else the shared one; none of them when
    // AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
    let s3_key = aws_types::service_config::ServiceConfigKey::builder()
        .service_id("S3")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok();
    let endpoint = sdk
        .service_config()
        .zip(s3_key)
        .and_then(|(c, k)| c.load_config(k))
        .filter(|e| !e.trim().is_empty())
        .or_else(|| sdk.endpoint_url().map(str::to_string));
    let url = object_url(endpoint.as_deref(), &region, bucket, key);
    if verbose {
        eprintln!("publish: PUT {url}");
    }
    let provider = sdk.credentials_provider().ok_or_else(|| {
        fail(format!(
            "cannot upload to {what}: no AWS credentials provider"
        ))
        .hint("set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE")
    })?;
    let credentials = http
        .block_on(provider.provide_credentials())
        .map_err(|e| {
            fail(format!(
                "cannot upload to {what}: no AWS credentials: {}",
                super::error_chain(&e)
            ))
            .hint("set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or log in with `aws sso login`")
        })?;
    let identity: Identity = credentials.into();
    let headers = signed_headers(&identity, &region, &url, body, SystemTime::now())
        .map_err(|e| fail(format!("cannot sign the upload to {what}: {e}")))?;
    let mut request = http.client().put(&url).body(body.to_vec());
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let answer = http.send(request, &what)?;
    if answer.status.is_success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&answer.body);
    let detail = match (xml_tag(&text, "Code"), xml_tag(&text, "Message")) {
        (Some(c), Some(m)) => format!(": {c}: {m}"),
        (Some(c), None) => format!(": {c}"),
        _ => String::new(),
    };
    let mut failure = fail(format!(
        "could not upload to {what}: HTTP {}{detail}",
        answer.status
    ));
    if matches!(answer.status.as_u16(), 401 | 403) {
        failure = failure.hint("check the AWS credentials and that they may s3:PutObject here");
    } else if answer.status.as_u16() == 404 {
        failure = failure.hint("check that the bucket exists (s3_bucket in destination_rules)");
    }
    Err(failure)
}

/// Where object `key` of `bucket` is: path style on a custom endpoint (and
/// for bucket names with dots, which do not fit AWS's certificate),
/// virtual-hosted on AWS.
pub fn object_url(endpoint: Option<&str>, region: &str, bucket: &str, key: &str) -> String {
    let key = encode_path(key);
    match endpoint {
        Some(e) => format!("{}/{bucket}/{key}", super::base_url(e)),
        None if bucket.contains('.') => format!("https://s3.{region}.amazonaws.com/{bucket}/{key}"),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"),
    }
}

/// The SigV4 headers (`authorization`, `x-amz-date`,
/// `x-amz-content-sha256`, `x-amz-security-token`) of a `PUT` of `body`
/// to `url`, as S3 wants them: the path used as it is (single encoding,
/// no normalisation) and the payload hash in a header.
fn signed_headers(
    identity: &Identity,
    region: &str,
    url: &str,
    body: &[u8],
    time: SystemTime,
) -> std::result::Result<Vec<(String, String)>, String> {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable = SignableRequest::new("PUT", url, std::iter::empty(), SignableBody::Bytes(body))
        .map_err(|e| e.to_string())?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use aws_credential_types::Credentials;

    #[test]
    fn urls_are_path_style_on_custom_endpoints_and_virtual_hosted_on_aws() {
        assert_eq!(
            object_url(
                Some("http://127.0.0.1:5000/"),
                "us-east-1",
                "b",
                "pre/a b.yaml"
            ),
            "http://127.0.0.1:5000/b/pre/a%20b.yaml"
        );
        assert_eq!(
            object_url(None, "eu-west-1", "b", "k.yaml"),
            "https://b.s3.eu-west-1.amazonaws.com/k.yaml"
        );
        assert_eq!(
            object_url(None, "eu-west-1", "my.bucket", "k"),
            "https://s3.eu-west-1.amazonaws.com/my.bucket/k"
        );
    }

    #[test]
    fn the_signature_covers_the_payload_hash_and_host() {
        let identity: Identity =
            Credentials::new("AKIDEXAMPLE", "secret", Some("tok".into()), None, "test").into();
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let headers = signed_headers(
            &identity,
            "us-east-1",
            "http://127.0.0.1:5000/b/k.yaml",
            b"body",
            time,
        )
        .unwrap();
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        // sha256("body")
        assert_eq!(
            get("x-amz-content-sha256"),
            "230d8358dc8e8890b4c58deeb62912ee2f20357ae92a5cc861b98e68fe31acb5"
        );
        assert_eq!(get("x-amz-date"), "20231114T221320Z");
        assert_eq!(get("x-amz-security-token"), "tok");
        let auth = get("authorization");
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="
            ),
            "{auth}"
        );
        assert!(!auth.contains("secret"));
    }
}
