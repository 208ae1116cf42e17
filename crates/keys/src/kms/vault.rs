//! HashiCorp Vault / OpenBao transit, as sops uses it:
//! `POST {address}/v1/{engine}/encrypt/{key}` with `{"plaintext": base64}`
//! gives `data.ciphertext` (`vault:v1:…`, stored as `enc` unchanged), and
//! `POST …/decrypt/{key}` with `{"ciphertext": enc}` gives the base64
//! `data.plaintext` back.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use zeroize::Zeroizing;

use super::config::ServiceConfig;
use super::error::{error_chain, ServiceError};
use super::keys::{ServiceKey, VaultKey};
use super::retry::with_retries;
use super::runtime::Lazy;

/// The largest response read from the server.
const MAX_RESPONSE: usize = 1 << 20;

/// Encrypts `secret` with the transit key; returns the `vault:v1:…` text.
pub(crate) fn wrap(
    rt: &Lazy,
    config: &ServiceConfig,
    key: &VaultKey,
    secret: &[u8],
) -> Result<String, ServiceError> {
    let body = encrypt_body(secret);
    let call = Call::new(config, key, "encrypt")?;
    let data = call.run(rt, &body)?;
    data.get("ciphertext")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| call.fail("the answer has no data.ciphertext"))
}

/// The body of an encrypt call, `{"plaintext":"…"}` as serde_json writes
/// it (base64 needs no escaping), built by hand: a `serde_json::Value`
/// would keep the base64 of the secret in a string dropped without wiping.
fn encrypt_body(secret: &[u8]) -> Zeroizing<String> {
    let encoded = Zeroizing::new(STANDARD.encode(secret));
    let mut body = Zeroizing::new(String::with_capacity(encoded.len() + 16));
    body.push_str("{\"plaintext\":\"");
    body.push_str(&encoded);
    body.push_str("\"}");
    body
}

/// Decrypts a `vault:v1:…` text with the transit key.
pub(crate) fn unwrap(
    rt: &Lazy,
    config: &ServiceConfig,
    key: &VaultKey,
    enc: &str,
) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
    let body = Zeroizing::new(serde_json::json!({ "ciphertext": enc.trim() }).to_string());
    let call = Call::new(config, key, "decrypt")?;
    let mut data = call.run(rt, &body)?;
    // Taken out of the answer to be wiped: the base64 of the data key.
    let text = match data.get_mut("plaintext").map(serde_json::Value::take) {
        Some(serde_json::Value::String(text)) => Zeroizing::new(text),
        _ => return Err(call.fail("the answer has no data.plaintext")),
    };
    STANDARD
        .decode(text.as_str())
        .map(Zeroizing::new)
        .map_err(|_| call.fail("data.plaintext is not base64"))
}

/// One transit operation on one key.
struct Call<'a> {
    config: &'a ServiceConfig,
    key: ServiceKey,
    url: String,
    endpoint: String,
    token: Zeroizing<String>,
}

impl<'a> Call<'a> {
    fn new(config: &'a ServiceConfig, key: &VaultKey, op: &str) -> Result<Self, ServiceError> {
        let service_key = ServiceKey::HcVault(key.clone());
        let endpoint = base_address(&key.vault_address).to_owned();
        let token = config.vault.token.clone().ok_or_else(|| {
            ServiceError::new(
                &service_key,
                &endpoint,
                "no Vault token: set VAULT_TOKEN or write ~/.vault-token",
            )
        })?;
        Ok(Self {
            config,
            url: format!(
                "{endpoint}/v1/{}/{op}/{}",
                escape_path(key.engine_path.trim_matches('/')),
                escape_path(&key.key_name)
            ),
            key: service_key,
            endpoint,
            token,
        })
    }

    fn fail(&self, cause: &str) -> ServiceError {
        ServiceError::new(&self.key, &self.endpoint, cause)
    }

    /// Posts `body` with bounded retries; returns the answer's `data`.
    fn run(&self, rt: &Lazy, body: &str) -> Result<serde_json::Value, ServiceError> {
        let options = &self.config.options;
        let builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none());
        let (builder, url) = match self.config.vault.tls.server_name.as_deref() {
            Some(name) if !name.is_empty() => {
                with_server_name(builder, &self.url, name).map_err(|cause| self.fail(&cause))?
            }
            _ => (builder, self.url.clone()),
        };
        let client = with_tls(builder, &self.config.vault.tls)
            .map_err(|cause| self.fail(&cause))?
            .build()
            .map_err(|e| self.fail(&format!("could not build the HTTP client: {e}")))?;
        with_retries(options, std::thread::sleep, || {
            // The timer must be created inside the runtime.
            let attempt = async {
                tokio::time::timeout(options.timeout, self.post(&client, &url, body)).await
            };
            rt.block_on(attempt)
                .map_err(|e| self.fail(&e))?
                .unwrap_or_else(|_| Err(self.timed_out(options.timeout)))
        })
    }

    fn timed_out(&self, after: Duration) -> ServiceError {
        ServiceError::transient(
            &self.key,
            &self.endpoint,
            format!("no answer within {} ms", after.as_millis()),
        )
    }

    async fn post(
        &self,
        client: &reqwest::Client,
        url: &str,
        body: &str,
    ) -> Result<serde_json::Value, ServiceError> {
        let mut request = client
            .post(url)
            .header("X-Vault-Token", self.token.as_str())
            .header("X-Vault-Request", "true")
            .header("Content-Type", "application/json")
            .body(body.to_owned());
        if let Some(ns) = self
            .config
            .vault
            .namespace
            .as_deref()
            .filter(|n| !n.is_empty())
        {
            request = request.header("X-Vault-Namespace", ns);
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| ServiceError::transient(&self.key, &self.endpoint, error_chain(&e)))?;
        let status = response.status();
        let mut bytes = Zeroizing::new(Vec::new());
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| ServiceError::transient(&self.key, &self.endpoint, error_chain(&e)))?
        {
            if bytes.len() + chunk.len() > MAX_RESPONSE {
                return Err(self.fail("the answer is too large"));
            }
            // Grown by hand (see `crate::secret`): the answer to a decrypt
            // holds the data key.
            crate::secret::extend(&mut bytes, &chunk);
        }
        let json: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
        if !status.is_success() {
            let cause = format!("HTTP {status}{}", vault_errors(json.as_ref()));
            return Err(if status.is_server_error() || status.as_u16() == 429 {
                ServiceError::transient(&self.key, &self.endpoint, cause)
            } else {
                self.fail(&cause)
            });
        }
        json.and_then(|mut j| j.get_mut("data").map(serde_json::Value::take))
            .ok_or_else(|| self.fail("the answer is not JSON with a data object"))
    }
}

/// `VAULT_TLS_SERVER_NAME` as the Vault client sops uses reads it (Go's
/// `tls.Config.ServerName`): the certificate is checked for `name` and
/// `name` is sent in TLS, while the connection goes to the address's host.
/// The request is made to `name`, resolved to that host's addresses. An
/// `http` address has no TLS: it is left as it is.
fn with_server_name(
    builder: reqwest::ClientBuilder,
    url: &str,
    name: &str,
) -> Result<(reqwest::ClientBuilder, String), String> {
    use std::net::{SocketAddr, ToSocketAddrs};
    let mut parsed =
        reqwest::Url::parse(url).map_err(|e| format!("the Vault address is not a URL: {e}"))?;
    if parsed.scheme() != "https" {
        return Ok((builder, url.to_owned()));
    }
    if name.parse::<std::net::IpAddr>().is_ok() || name.contains(['/', ':', '@', '[']) {
        return Err(format!(
            "VAULT_TLS_SERVER_NAME {name:?} is not a host name (an IP address cannot be told apart from the address to connect to)"
        ));
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let host = parsed
        .host_str()
        .ok_or("the Vault address has no host")?
        .trim_start_matches('[')
        .trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => (host, port)
            .to_socket_addrs()
            .map_err(|e| format!("could not resolve {host}: {e}"))?
            .collect(),
    };
    parsed
        .set_host(Some(name))
        .map_err(|e| format!("VAULT_TLS_SERVER_NAME {name:?}: {e}"))?;
    Ok((builder.resolve_to_addrs(name, &addrs), parsed.to_string()))
}

/// `builder` with the TLS settings of the Vault client sops uses: the CA
/// certificates of `ca_cert` (else of every file below `ca_path`) as the
/// only roots, no verification at all with `skip_verify`, and a client
/// certificate. Files that cannot be read, or hold no certificate, are an
/// error, as in sops.
fn with_tls(
    mut builder: reqwest::ClientBuilder,
    tls: &super::config::VaultTls,
) -> Result<reqwest::ClientBuilder, String> {
    let files = match (&tls.ca_cert, &tls.ca_path) {
        (Some(file), _) => vec![file.clone()],
        (None, Some(dir)) => {
            let mut files = Vec::new();
            files_below(dir, &mut files)
                .map_err(|e| format!("could not read the CA directory {}: {e}", dir.display()))?;
            files
        }
        (None, None) => Vec::new(),
    };
    if !files.is_empty() {
        let mut roots = Vec::new();
        for file in &files {
            let pem = std::fs::read(file).map_err(|e| {
                format!(
                    "could not read the CA certificate file {}: {e}",
                    file.display()
                )
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .ok()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| format!("no PEM certificate could be read in {}", file.display()))?;
            roots.extend(certs);
        }
        builder = builder.tls_certs_only(roots);
    }
    if tls.skip_verify {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => {
            let read = |path: &std::path::Path, what: &str| {
                std::fs::read(path).map(Zeroizing::new).map_err(|e| {
                    format!("could not read the client {what} {}: {e}", path.display())
                })
            };
            let pem = read(cert, "certificate")?;
            let key_pem = read(key, "key")?;
            // Sized before the key goes in: no copy of it left behind.
            let mut both = Zeroizing::new(Vec::with_capacity(pem.len() + 1 + key_pem.len()));
            both.extend_from_slice(&pem);
            both.push(b'\n');
            both.extend_from_slice(&key_pem);
            let identity = reqwest::Identity::from_pem(&both).map_err(|_| {
                format!(
                    "the client certificate {} and key {} could not be read as PEM",
                    cert.display(),
                    key.display()
                )
            })?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        _ => return Err("both a client certificate and its key must be given".to_owned()),
    }
    Ok(builder)
}

/// The files below `dir`, recursively, in name order (the Vault client
/// walks `VAULT_CAPATH` the same way).
fn files_below(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_below(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// The part of a stored `vault_address` that requests go to: without a
/// `?query` or `#fragment` and a trailing `/`. The Vault client sops uses
/// keeps only the scheme, host and path of its address, so a file sops
/// wrote from `https://vault:8200/v1/transit/keys/k#x` (address
/// `https://vault:8200#x`) opens here too.
fn base_address(address: &str) -> &str {
    let host = address.find("://").map_or(0, |i| i + 3);
    let end = address
        .get(host..)
        .and_then(|rest| rest.find(['?', '#']))
        .map_or(address.len(), |i| host + i);
    address.get(..end).unwrap_or(address).trim_end_matches('/')
}

/// A path as Go's `url.URL` writes it (what sops's Vault client sends):
/// letters, digits, `-._~` and `$&+,/:;=@` as they are, every other byte
/// as `%XX`. A stored key name holding `?` or `#` is then that name, as in
/// sops (the server says it does not exist), not a shorter name and a
/// query.
fn escape_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~$&+,/:;=@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `: msg; msg` from Vault's `{"errors": [...]}`, or nothing.
fn vault_errors(json: Option<&serde_json::Value>) -> String {
    let messages: Vec<&str> = json
        .and_then(|j| j.get("errors"))
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    if messages.is_empty() {
        String::new()
    } else {
        format!(": {}", messages.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_error_list_is_joined() {
        let j = serde_json::json!({"errors": ["permission denied", "x"]});
        assert_eq!(vault_errors(Some(&j)), ": permission denied; x");
        assert_eq!(vault_errors(None), "");
    }

    /// The encrypt body built by hand is the one serde_json writes, in a
    /// buffer sized before the secret goes in.
    #[test]
    fn encrypt_body_is_serde_jsons() {
        for secret in [&[0xfbu8; 32][..], &[7u8; 33], &[]] {
            let expected = serde_json::json!({ "plaintext": STANDARD.encode(secret) }).to_string();
            let body = encrypt_body(secret);
            assert_eq!(body.as_str(), expected);
            assert!(body.capacity() <= STANDARD.encode(secret).len() + 16);
        }
    }

    /// What the requests go to, as sops's Vault client sends them: the
    /// address without its query or fragment (sops stores
    /// `http://h:8200#frag` for a URI with a fragment), names escaped as Go
    /// escapes a URL path.
    #[test]
    fn request_urls_as_sops_sends_them() {
        for (address, base) in [
            ("http://127.0.0.1:8200", "http://127.0.0.1:8200"),
            ("http://127.0.0.1:8200/", "http://127.0.0.1:8200"),
            ("http://127.0.0.1:8200#frag", "http://127.0.0.1:8200"),
            ("http://127.0.0.1:8200/#frag", "http://127.0.0.1:8200"),
            ("https://v:8200/prefix?x=1#f", "https://v:8200/prefix"),
            ("https://v:8200/a#b/c", "https://v:8200/a"),
        ] {
            assert_eq!(base_address(address), base, "{address}");
        }
        assert_eq!(escape_path("team/transit"), "team/transit");
        assert_eq!(escape_path("k?x=1"), "k%3Fx=1");
        assert_eq!(escape_path("k#f"), "k%23f");
        assert_eq!(escape_path("a b%é"), "a%20b%25%C3%A9");
        assert_eq!(escape_path("a-b_c.d~e$&+,:;=@"), "a-b_c.d~e$&+,:;=@");
        let key = VaultKey {
            vault_address: "http://127.0.0.1:8200#frag".into(),
            engine_path: "transit".into(),
            key_name: "k?x=1".into(),
        };
        let config = ServiceConfig {
            vault: crate::kms::VaultConfig {
                token: Some(Zeroizing::new("t".into())),
                ..crate::kms::VaultConfig::default()
            },
            ..ServiceConfig::default()
        };
        let call = Call::new(&config, &key, "decrypt").unwrap();
        assert_eq!(call.url, "http://127.0.0.1:8200/v1/transit/decrypt/k%3Fx=1");
        assert_eq!(call.endpoint, "http://127.0.0.1:8200");
    }

    #[test]
    fn missing_token_is_a_clear_error() {
        let key = VaultKey::parse("http://127.0.0.1:1/v1/transit/keys/k").unwrap();
        let e = wrap(&Lazy::default(), &ServiceConfig::default(), &key, &[1; 32]).unwrap_err();
        assert!(e.to_string().contains("no Vault token"), "{e}");
    }
}
