//! Remote sops key services: the gRPC `KeyService` that `sops keyservice`
//! (and `sops-like keyservice`) serve, so that a data key is wrapped or
//! unwrapped by another process, often on another machine (`ssh -R` to a
//! developer's key service is the usual setup).
//!
//! [`RemoteKeyService`] is the client: `tcp://host:port` or
//! `unix:///path/to.sock`, plain HTTP/2 as sops speaks it (the transport is
//! expected to be a forwarded port or a local socket). [`server`] answers
//! the same two calls with this process's identities and key services.
//! The `ciphertext` of both calls is the `enc` text sops stores, as bytes.

mod proto;
pub mod server;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::runtime::{Builder, Runtime};
use tonic::transport::{Channel, Endpoint};
use zeroize::Zeroizing;

use crate::groups::{KeyRecipient, MasterKey};
use crate::kms::ServiceKey;

/// The gRPC paths of the two calls (the proto has no package).
const ENCRYPT: &str = "/KeyService/Encrypt";
const DECRYPT: &str = "/KeyService/Decrypt";

/// Where a key service listens.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// `host:port`.
    Tcp(String),
    /// A Unix socket's path.
    Unix(PathBuf),
}

/// A remote key service, connected on first use.
pub struct RemoteKeyService {
    uri: String,
    target: Target,
    /// Bounds each call, connection included.
    timeout: Duration,
    runtime: OnceLock<Result<Runtime, String>>,
    channel: OnceLock<Result<Channel, String>>,
}

impl RemoteKeyService {
    /// A key service at `uri`: `tcp://host:port` (also `tcp4`, `tcp6`) or
    /// `unix:///path/to.sock`, as sops's `--keyservice` takes them. Each
    /// call gives up after `timeout`.
    pub fn new(uri: &str, timeout: Duration) -> Result<Self, String> {
        let bad = |why: &str| format!("key service {uri:?}: {why}");
        let (scheme, rest) = uri
            .split_once("://")
            .ok_or_else(|| bad("expected tcp://host:port or unix:///path"))?;
        // As Go's url.Parse reads it for sops: the scheme in any case, and
        // for tcp only the host (no user, path, query or fragment); for
        // unix the path (no query or fragment).
        let target = match scheme.to_ascii_lowercase().as_str() {
            "tcp" | "tcp4" | "tcp6" => {
                let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
                let host = authority
                    .rsplit_once('@')
                    .map_or(authority, |(_, host)| host);
                let port = host.rsplit_once(':').map(|(_, p)| p);
                if host.is_empty() || port.is_none_or(|p| p.parse::<u16>().is_err()) {
                    return Err(bad("expected tcp://host:port"));
                }
                Target::Tcp(host.to_owned())
            }
            "unix" if rest.starts_with('/') => {
                Target::Unix(PathBuf::from(rest.split(['?', '#']).next().unwrap_or(rest)))
            }
            "unix" => return Err(bad("expected unix:///absolute/path")),
            _ => return Err(bad("the scheme must be tcp or unix")),
        };
        Ok(Self {
            uri: uri.to_owned(),
            target,
            timeout,
            runtime: OnceLock::new(),
            channel: OnceLock::new(),
        })
    }

    /// The address as given.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Unwraps `key`'s `enc`.
    pub fn decrypt(&self, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, String> {
        let request = proto::DecryptRequest {
            key: Some(key_of_master(key)?),
            ciphertext: key.enc().as_bytes().to_vec(),
        };
        let response: proto::DecryptResponse = self.call(DECRYPT, request)?;
        Ok(Zeroizing::new(response.plaintext))
    }

    /// Wraps `secret` for `recipient`; service keys get `created_at`.
    pub fn encrypt(
        &self,
        recipient: &KeyRecipient,
        secret: &[u8],
        created_at: &str,
    ) -> Result<MasterKey, String> {
        let request = proto::EncryptRequest {
            key: Some(key_of_recipient(recipient)),
            plaintext: secret.to_vec(),
        };
        let response: proto::EncryptResponse = self.call(ENCRYPT, request)?;
        let enc = String::from_utf8(response.ciphertext)
            .map_err(|_| "the key service answered with an enc that is not text".to_owned())?;
        Ok(match recipient {
            KeyRecipient::Age(r) => MasterKey::Age {
                recipient: r.as_str().to_owned(),
                enc,
            },
            KeyRecipient::Service(k) => {
                MasterKey::from_service(k.clone(), created_at.to_owned(), enc)
            }
        })
    }

    fn runtime(&self) -> Result<&Runtime, String> {
        self.runtime
            .get_or_init(|| {
                Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("could not start the async runtime: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// One unary call, connecting first if needed; bounded by the timeout.
    fn call<Req, Resp>(&self, path: &'static str, request: Req) -> Result<Resp, String>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let runtime = self.runtime()?;
        let timeout = self.timeout;
        let target = self.target.clone();
        let channel = self.channel.get_or_init(|| {
            runtime.block_on(async move {
                match tokio::time::timeout(timeout, connect(target)).await {
                    Ok(result) => result,
                    Err(_) => Err(format!("no connection within {}s", timeout.as_secs())),
                }
            })
        });
        let channel = channel.clone()?;
        runtime.block_on(async move {
            let mut grpc = tonic::client::Grpc::new(channel);
            let call = async {
                grpc.ready().await.map_err(|e| format!("not ready: {e}"))?;
                let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
                let path = http::uri::PathAndQuery::from_static(path);
                grpc.unary(tonic::Request::new(request), path, codec)
                    .await
                    .map(tonic::Response::into_inner)
                    .map_err(|status| match status.message() {
                        "" => format!("{:?}", status.code()),
                        m => m.to_owned(),
                    })
            };
            match tokio::time::timeout(timeout, call).await {
                Ok(result) => result,
                Err(_) => Err(format!("no answer within {}s", timeout.as_secs())),
            }
        })
    }
}

async fn connect(target: Target) -> Result<Channel, String> {
    match target {
        Target::Tcp(host) => Endpoint::from_shared(format!("http://{host}"))
            .map_err(|e| e.to_string())?
            .connect()
            .await
            .map_err(|e| format!("could not connect: {}", source_chain(&e))),
        Target::Unix(path) => {
            // The URI is not used: every connection goes to the socket.
            Endpoint::from_static("http://localhost")
                .connect_with_connector(tower::service_fn(move |_: http::Uri| {
                    let path = path.clone();
                    async move {
                        tokio::net::UnixStream::connect(path)
                            .await
                            .map(hyper_util::rt::TokioIo::new)
                    }
                }))
                .await
                .map_err(|e| format!("could not connect: {}", source_chain(&e)))
        }
    }
}

/// An error and its causes, `: `-joined (tonic's own message is terse).
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn key_of_service(key: &ServiceKey) -> proto::Key {
    use proto::KeyType as T;
    let key_type = match key {
        ServiceKey::Kms(k) => T::KmsKey(proto::KmsKey {
            arn: k.arn.clone(),
            role: k.role.clone(),
            context: k.context.clone().into_iter().collect(),
            aws_profile: k.aws_profile.clone(),
        }),
        ServiceKey::HcVault(k) => T::VaultKey(proto::VaultKey {
            vault_address: k.vault_address.clone(),
            engine_path: k.engine_path.clone(),
            key_name: k.key_name.clone(),
        }),
        ServiceKey::Pgp(k) => T::PgpKey(proto::PgpKey {
            fingerprint: k.fingerprint.clone(),
        }),
        ServiceKey::GcpKms(k) => T::GcpKmsKey(proto::GcpKmsKey {
            resource_id: k.resource_id.clone(),
        }),
        ServiceKey::AzureKv(k) => T::AzureKeyvaultKey(proto::AzureKeyVaultKey {
            vault_url: k.vault_url.clone(),
            name: k.name.clone(),
            version: k.version.clone(),
        }),
    };
    proto::Key {
        key_type: Some(key_type),
    }
}

fn age_key(recipient: &str) -> proto::Key {
    proto::Key {
        key_type: Some(proto::KeyType::AgeKey(proto::AgeKey {
            recipient: recipient.to_owned(),
        })),
    }
}

fn key_of_recipient(recipient: &KeyRecipient) -> proto::Key {
    match recipient {
        KeyRecipient::Age(r) => age_key(r.as_str()),
        KeyRecipient::Service(k) => key_of_service(k),
    }
}

fn key_of_master(key: &MasterKey) -> Result<proto::Key, String> {
    match key {
        MasterKey::Age { recipient, .. } => Ok(age_key(recipient)),
        MasterKey::Other { kind, .. } if kind == "hckms" => Ok(proto::Key {
            key_type: Some(proto::KeyType::HckmsKey(proto::HckmsKey {
                key_id: key.id().to_owned(),
            })),
        }),
        other => other
            .service_key()
            .map(|k| key_of_service(&k))
            .ok_or_else(|| format!("a {} key cannot go to a key service", other.kind())),
    }
}

#[cfg(test)]
mod tests;
