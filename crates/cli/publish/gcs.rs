//! A Google Cloud Storage destination: the file's bytes uploaded as object
//! `prefix+name` of the bucket (JSON API, `uploadType=media`), as sops's
//! storage client writes it.
//!
//! `STORAGE_EMULATOR_HOST` (the standard variable of Google's clients: a
//! `host:port` or a URL) sends the upload there without credentials;
//! otherwise it goes to `https://storage.googleapis.com` with a bearer token
//! from application default credentials (`GOOGLE_APPLICATION_CREDENTIALS`,
//! gcloud's file, the metadata server).

use super::{encode_component, fail, Http};
use crate::exit::Result;
use google_cloud_auth::credentials::{Builder, CacheableResource};

const PUBLIC_BASE: &str = "https://storage.googleapis.com";
const SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_write";

/// Upload `body` as object `name` of `bucket`. `verbose` logs the URL.
pub fn upload(http: &Http, bucket: &str, name: &str, body: &[u8], verbose: bool) -> Result<()> {
    let what = format!("gcs://{bucket}/{name}");
    let emulator = std::env::var("STORAGE_EMULATOR_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty());
    let base = emulator
        .as_deref()
        .map_or_else(|| PUBLIC_BASE.to_string(), super::base_url);
    let url = upload_url(&base, bucket, name);
    if verbose {
        stderr!("publish: POST {url}");
    }
    let mut request = http
        .client()
        .post(&url)
        .header("Content-Type", "application/octet-stream")
        .body(body.to_vec());
    if emulator.is_none() {
        for (header, value) in auth_headers(http, &what)? {
            if let Some(header) = header {
                request = request.header(header, value);
            }
        }
    }
    let answer = http.send(request, &what)?;
    if answer.status.is_success() {
        return Ok(());
    }
    let detail = serde_json::from_slice::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|j| j["error"]["message"].as_str().map(|m| format!(": {m}")))
        .unwrap_or_default();
    let mut failure = fail(format!(
        "could not upload to {what}: HTTP {}{detail}",
        answer.status
    ));
    if matches!(answer.status.as_u16(), 401 | 403) {
        failure = failure.hint(
            "check the application default credentials (gcloud auth application-default login) and that they may create objects in the bucket",
        );
    } else if answer.status.as_u16() == 404 {
        failure = failure.hint("check that the bucket exists (gcs_bucket in destination_rules)");
    }
    Err(failure)
}

/// The media upload URL of object `name` in `bucket`.
pub fn upload_url(base: &str, bucket: &str, name: &str) -> String {
    format!(
        "{base}/upload/storage/v1/b/{}/o?uploadType=media&name={}",
        encode_component(bucket),
        encode_component(name)
    )
}

/// The `Authorization` header(s) of application default credentials.
fn auth_headers(http: &Http, what: &str) -> Result<http::HeaderMap> {
    let no_credentials = |e: String| {
        fail(format!("cannot upload to {what}: {e}")).hint(
            "run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS",
        )
    };
    let credentials = Builder::default()
        .with_scopes([SCOPE])
        .build()
        .map_err(|e| {
            no_credentials(format!(
                "no application default credentials: {}",
                super::error_chain(&e)
            ))
        })?;
    match http.block_on(credentials.headers(http::Extensions::new())) {
        Ok(CacheableResource::New { data, .. }) => Ok(data),
        Ok(CacheableResource::NotModified) => {
            Err(no_credentials("the credentials gave no token".into()))
        }
        Err(e) => Err(no_credentials(format!(
            "could not get a token: {}",
            super::error_chain(&e)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_object_name_is_one_query_value() {
        assert_eq!(
            upload_url("http://127.0.0.1:1", "bkt", "pre/a b.yaml"),
            "http://127.0.0.1:1/upload/storage/v1/b/bkt/o?uploadType=media&name=pre%2Fa%20b.yaml"
        );
    }
}
