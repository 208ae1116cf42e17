//! The uploads of `publish`, one file per destination: an S3 object
//! ([`s3`], SigV4-signed PUT), a GCS object ([`gcs`], JSON API media
//! upload) and a Vault KV secret ([`vault`]). Each reads its credentials
//! and endpoint from the environment as sops's clients do; nothing here
//! prints secrets (bodies, tokens) or puts them in errors.

pub mod gcs;
pub mod s3;
pub mod vault;

use crate::exit::{code, Failure, Result};
use std::future::Future;
use std::time::Duration;
use zeroize::Zeroizing;

/// How long one request may take, and connecting.
const TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read (errors and Vault reads are small).
const MAX_RESPONSE: usize = 4 << 20;

/// An HTTP client and the runtime it runs on, for one `publish` run.
pub struct Http {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
}

/// An answer: its status and body.
pub struct Answer {
    /// The HTTP status.
    pub status: reqwest::StatusCode,
    /// The body (zeroized when dropped: a Vault read holds plaintext).
    pub body: Zeroizing<Vec<u8>>,
}

impl Http {
    /// A client with bounded timeouts, following no redirects.
    pub fn new() -> Result<Http> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(format!("could not start the async runtime: {e}")))?;
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| fail(format!("could not build the HTTP client: {e}")))?;
        Ok(Http { rt, client })
    }

    /// The client, to build requests with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Run `future` to completion.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }

    /// Send `request` and read the answer (at most [`MAX_RESPONSE`]
    /// bytes). `what` names the destination in errors.
    pub fn send(&self, request: reqwest::RequestBuilder, what: &str) -> Result<Answer> {
        self.block_on(async {
            let mut response = request.send().await.map_err(|e| {
                fail(format!("could not reach {what}: {}", error_chain(&e)))
                    .hint("check the address, the network, and --verbose for the URL")
            })?;
            let status = response.status();
            // Grown by hand: a Vault read is plaintext (see
            // `sops_like_format::wipe::SecretBytes`).
            let mut body = sops_like_format::wipe::SecretBytes::default();
            while let Some(chunk) = response.chunk().await.map_err(|e| {
                fail(format!(
                    "could not read the answer of {what}: {}",
                    error_chain(&e)
                ))
            })? {
                if body.len() + chunk.len() > MAX_RESPONSE {
                    return Err(fail(format!("the answer of {what} is too large")));
                }
                body.extend(&chunk);
            }
            Ok(Answer {
                status,
                body: Zeroizing::new(body.into_vec()),
            })
        })
    }
}

/// A publishing failure: sops exits with 1 for all of them.
pub fn fail(message: impl Into<String>) -> Failure {
    Failure::new(code::GENERIC, message)
}

/// An error and its sources on one line (reqwest's own message alone is
/// often just "error sending request").
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// `s` percent-encoded for a URL path: every byte but the unreserved
/// characters (`A-Z a-z 0-9 - _ . ~`) and `/` (as S3 and Vault expect
/// object keys and secret paths).
pub fn encode_path(s: &str) -> String {
    encode(s, true)
}

/// `s` percent-encoded as one query value or path segment (`/` too).
pub fn encode_component(s: &str) -> String {
    encode(s, false)
}

fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else if b == b'/' && keep_slash {
            out.push('/');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An endpoint from the environment as a base URL: trailing `/` removed,
/// `http://` added when no scheme is given (as the GCS emulator variable
/// is usually written).
pub fn base_url(endpoint: &str) -> String {
    let e = endpoint.trim().trim_end_matches('/');
    if e.contains("://") {
        e.to_string()
    } else {
        format!("http://{e}")
    }
}

/// The text of the first `<tag>…</tag>` in an XML error body (S3, GCS).
pub fn xml_tag<'a>(body: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let len = body[start..].find(&format!("</{tag}>"))?;
    Some(&body[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_slashes_and_unreserved_characters() {
        assert_eq!(encode_path("pre/a b+c.yaml"), "pre/a%20b%2Bc.yaml");
        assert_eq!(encode_path("é~_-"), "%C3%A9~_-");
        assert_eq!(encode_component("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn endpoints_get_a_scheme_and_lose_the_trailing_slash() {
        assert_eq!(base_url("127.0.0.1:4443"), "http://127.0.0.1:4443");
        assert_eq!(base_url("https://s3.example/"), "https://s3.example");
    }

    #[test]
    fn xml_error_fields() {
        let body = "<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>";
        assert_eq!(xml_tag(body, "Code"), Some("NoSuchBucket"));
        assert_eq!(xml_tag(body, "Message"), Some("gone"));
        assert_eq!(xml_tag(body, "Other"), None);
    }
}
