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

use super::{encode_component, encode_path, fail, xml_tag, Http};
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
    let url = object_url(endpoint.as_deref(), &region, bucket, key)
        .map_err(|e| fail(format!("cannot upload to {what}: {e}")))?;
    if verbose {
        stderr!("publish: PUT {url}");
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
/// for bucket names that are not one DNS label of `a-z 0-9 -`, such as
/// names with dots, which do not fit AWS's certificate), virtual-hosted
/// on AWS. An error for a bucket or key that no URL can name as it is.
pub fn object_url(
    endpoint: Option<&str>,
    region: &str,
    bucket: &str,
    key: &str,
) -> std::result::Result<String, String> {
    if matches!(bucket, "" | "." | "..") {
        return Err(format!("{bucket:?} is not a bucket name"));
    }
    let key = key_path(key)?;
    let label = bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let path_bucket = encode_component(bucket);
    Ok(match endpoint {
        Some(e) => format!("{}/{path_bucket}/{key}", super::base_url(e)),
        None if !label => format!("https://s3.{region}.amazonaws.com/{path_bucket}/{key}"),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"),
    })
}

/// Whether a URL parser removes or resolves a path segment (`.`, `..`).
fn dot_segment(segment: &str) -> bool {
    matches!(segment, "." | "..")
}

/// Object `key` as a URL path that names exactly that key, as the Go SDK
/// sends it for sops (verbatim). Every byte but the unreserved ones and
/// `/` is percent-encoded; a `.` or `..` segment would be resolved by the
/// URL parser (which also resolves `%2E%2E`), changing the key or even the
/// bucket, so its dots are written `%2E` and the `/` on each side of it
/// `%2F` (S3 decodes both: the key is unchanged). A key that is only `.`
/// or `..` cannot be named at all.
fn key_path(key: &str) -> std::result::Result<String, String> {
    if dot_segment(key) {
        return Err(format!(
            "the object key {key:?} cannot be sent (a URL resolves it)"
        ));
    }
    let segments: Vec<&str> = key.split('/').collect();
    let mut out = String::with_capacity(key.len());
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            let joined = dot_segment(segments[i - 1]) || dot_segment(segment);
            out.push_str(if joined { "%2F" } else { "/" });
        }
        if dot_segment(segment) {
            out.push_str(&"%2E".repeat(segment.len()));
        } else {
            out.push_str(&encode_path(segment));
        }
    }
    Ok(out)
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
            )
            .unwrap(),
            "http://127.0.0.1:5000/b/pre/a%20b.yaml"
        );
        assert_eq!(
            object_url(None, "eu-west-1", "b", "k.yaml").unwrap(),
            "https://b.s3.eu-west-1.amazonaws.com/k.yaml"
        );
        assert_eq!(
            object_url(None, "eu-west-1", "my.bucket", "k").unwrap(),
            "https://s3.eu-west-1.amazonaws.com/my.bucket/k"
        );
        // Not a host label: path style, the name as one segment.
        assert_eq!(
            object_url(None, "eu-west-1", "evil:80/x", "k").unwrap(),
            "https://s3.eu-west-1.amazonaws.com/evil%3A80%2Fx/k"
        );
        assert!(object_url(None, "eu-west-1", "..", "k").is_err());
    }

    /// Dot segments keep their meaning as part of the key: the URL parser
    /// (which resolves `..`, `.` and their `%2E` forms) sees none.
    #[test]
    fn dot_segments_stay_in_the_key() {
        assert_eq!(key_path("../bkt2/x.yaml").unwrap(), "%2E%2E%2Fbkt2/x.yaml");
        assert_eq!(key_path("a/../b/x").unwrap(), "a%2F%2E%2E%2Fb/x");
        assert_eq!(key_path("x/./y/x").unwrap(), "x%2F%2E%2Fy/x");
        assert_eq!(key_path("a/..").unwrap(), "a%2F%2E%2E");
        assert_eq!(key_path("a//b/..x/%2e%2e").unwrap(), "a//b/..x/%252e%252e");
        assert!(key_path("..").is_err() && key_path(".").is_err());
        for key in ["../bkt2/x.yaml", "a/../b/x", "../../x", "./x", "a/./../.."] {
            let url = object_url(Some("http://127.0.0.1:1"), "r", "bkt", key).unwrap();
            let parsed = reqwest::Url::parse(&url).unwrap();
            assert_eq!(parsed.as_str(), url, "{key}");
            assert!(parsed.path().starts_with("/bkt/"), "{key}");
        }
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
