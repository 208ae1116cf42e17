//! The key service's server side: `Encrypt` and `Decrypt` answered by a
//! [`Handler`] (the caller's identities and key service clients), over TCP
//! or a Unix socket, as `sops keyservice` serves them.

use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Request, Response, Status};
use zeroize::Zeroizing;

use super::proto;
use crate::age::identity::Identities;
use crate::age::recipient::Recipient;
use crate::groups::{unwrap_key, wrap_for, KeyRecipient, MasterKey};
use crate::kms::{AwsKmsKey, AzureKvKey, GcpKmsKey, KeyService, PgpKey, ServiceKey, VaultKey};

/// What answers the calls: wraps and unwraps with this process's keys.
/// Errors are sent to the client as the call's status message.
pub trait Handler: Send + Sync + 'static {
    /// Wraps `secret` for `recipient`; returns the `enc` text.
    fn encrypt(&self, recipient: &KeyRecipient, secret: &[u8]) -> Result<String, String>;
    /// Unwraps `key`'s `enc`.
    fn decrypt(&self, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, String>;
}

/// This process's keys as a [`Handler`]: its age identities and key
/// service clients, as `sops keyservice` uses its own.
pub struct LocalKeys {
    ids: Identities,
    services: Box<dyn KeyService + Send + Sync>,
}

impl LocalKeys {
    /// Answer with `ids` (age) and `services` (KMS, PGP, …).
    pub fn new(ids: Identities, services: impl KeyService + Send + Sync + 'static) -> LocalKeys {
        LocalKeys {
            ids,
            services: Box::new(services),
        }
    }
}

impl Handler for LocalKeys {
    fn encrypt(&self, recipient: &KeyRecipient, secret: &[u8]) -> Result<String, String> {
        wrap_for(recipient, secret, self.services.as_ref(), "")
            .map(|key| key.enc().to_owned())
            .map_err(|e| e.to_string())
    }

    fn decrypt(&self, key: &MasterKey) -> Result<Zeroizing<Vec<u8>>, String> {
        unwrap_key(key, &self.ids, self.services.as_ref()).map_err(|e| e.to_string())
    }
}

/// Where to listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// `host:port`.
    Tcp(String),
    /// A Unix socket's path (created; removed when the server stops).
    Unix(PathBuf),
}

impl Listen {
    /// sops's `--network` (`tcp`, `tcp4`, `tcp6`, `unix`) and `--address`.
    pub fn new(network: &str, address: &str) -> Result<Listen, String> {
        match network {
            "tcp" | "tcp4" | "tcp6" => Ok(Listen::Tcp(address.to_owned())),
            "unix" => Ok(Listen::Unix(PathBuf::from(address))),
            other => Err(format!("unknown network {other:?}: expected tcp or unix")),
        }
    }
}

/// Serves until `stop` completes (or the listener fails); `ready` is called
/// with the address once it listens (the bound port for `host:0`).
pub fn serve(
    listen: &Listen,
    handler: Arc<dyn Handler>,
    stop: impl Future<Output = ()> + Send,
    ready: impl FnOnce(&str),
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    let service = KeyServiceServer { handler };
    runtime.block_on(async move {
        let server = tonic::transport::Server::builder();
        match listen {
            Listen::Tcp(address) => {
                let listener = tokio::net::TcpListener::bind(address)
                    .await
                    .map_err(|e| format!("could not listen on {address}: {e}"))?;
                let bound = listener
                    .local_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_else(|_| address.clone());
                ready(&bound);
                let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
                server
                    .serve_with_incoming_shutdown(service, incoming, stop)
                    .await
                    .map_err(|e| format!("the key service stopped: {e}"))
            }
            Listen::Unix(path) => {
                let listener = tokio::net::UnixListener::bind(path)
                    .map_err(|e| format!("could not listen on {}: {e}", path.display()))?;
                // Only this user may connect (the umask would let the group
                // or everyone have data keys unwrapped; sops leaves it so).
                {
                    use std::os::unix::fs::PermissionsExt;
                    if let Err(e) =
                        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    {
                        let _ = std::fs::remove_file(path);
                        return Err(format!("could not restrict {}: {e}", path.display()));
                    }
                }
                ready(&path.display().to_string());
                let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
                let result = server
                    .serve_with_incoming_shutdown(service, incoming, stop)
                    .await
                    .map_err(|e| format!("the key service stopped: {e}"));
                let _ = std::fs::remove_file(path);
                result
            }
        }
    })
}

/// The gRPC service: routes the two paths to the handler.
#[derive(Clone)]
struct KeyServiceServer {
    handler: Arc<dyn Handler>,
}

impl NamedService for KeyServiceServer {
    const NAME: &'static str = "KeyService";
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl tower::Service<http::Request<Body>> for KeyServiceServer {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let handler = Arc::clone(&self.handler);
        match req.uri().path() {
            super::ENCRYPT => Box::pin(async move {
                let mut grpc = Grpc::new(tonic_prost::ProstCodec::default());
                Ok(grpc.unary(EncryptCall(handler), req).await)
            }),
            super::DECRYPT => Box::pin(async move {
                let mut grpc = Grpc::new(tonic_prost::ProstCodec::default());
                Ok(grpc.unary(DecryptCall(handler), req).await)
            }),
            _ => Box::pin(async move { Ok(Status::unimplemented("no such method").into_http()) }),
        }
    }
}

struct EncryptCall(Arc<dyn Handler>);

impl UnaryService<proto::EncryptRequest> for EncryptCall {
    type Response = proto::EncryptResponse;
    type Future = BoxFuture<Result<Response<proto::EncryptResponse>, Status>>;

    fn call(&mut self, request: Request<proto::EncryptRequest>) -> Self::Future {
        let handler = Arc::clone(&self.0);
        Box::pin(async move {
            let request = request.into_inner();
            let secret = Zeroizing::new(request.plaintext);
            let recipient = recipient_of(request.key)?;
            // The handler may call a KMS: off the runtime's thread.
            let enc = tokio::task::spawn_blocking(move || handler.encrypt(&recipient, &secret))
                .await
                .map_err(|e| Status::internal(e.to_string()))?
                .map_err(Status::failed_precondition)?;
            Ok(Response::new(proto::EncryptResponse {
                ciphertext: enc.into_bytes(),
            }))
        })
    }
}

struct DecryptCall(Arc<dyn Handler>);

impl UnaryService<proto::DecryptRequest> for DecryptCall {
    type Response = proto::DecryptResponse;
    type Future = BoxFuture<Result<Response<proto::DecryptResponse>, Status>>;

    fn call(&mut self, request: Request<proto::DecryptRequest>) -> Self::Future {
        let handler = Arc::clone(&self.0);
        Box::pin(async move {
            let request = request.into_inner();
            let enc = String::from_utf8(request.ciphertext)
                .map_err(|_| Status::invalid_argument("the ciphertext is not an enc text"))?;
            let key = master_key_of(request.key, enc)?;
            let plaintext = tokio::task::spawn_blocking(move || handler.decrypt(&key))
                .await
                .map_err(|e| Status::internal(e.to_string()))?
                .map_err(Status::failed_precondition)?;
            Ok(Response::new(proto::DecryptResponse {
                plaintext: plaintext.to_vec(),
            }))
        })
    }
}

fn service_key_of(key_type: proto::KeyType) -> Result<ServiceKey, Status> {
    use proto::KeyType as T;
    Ok(match key_type {
        T::KmsKey(k) => ServiceKey::Kms(AwsKmsKey {
            arn: k.arn,
            role: k.role,
            context: k.context.into_iter().collect(),
            aws_profile: k.aws_profile,
        }),
        T::PgpKey(k) => ServiceKey::Pgp(PgpKey {
            fingerprint: k.fingerprint,
        }),
        T::GcpKmsKey(k) => ServiceKey::GcpKms(GcpKmsKey {
            resource_id: k.resource_id,
        }),
        T::AzureKeyvaultKey(k) => ServiceKey::AzureKv(AzureKvKey {
            vault_url: k.vault_url,
            name: k.name,
            version: k.version,
        }),
        T::VaultKey(k) => ServiceKey::HcVault(VaultKey {
            vault_address: k.vault_address,
            engine_path: k.engine_path,
            key_name: k.key_name,
        }),
        T::AgeKey(_) | T::HckmsKey(_) => {
            return Err(Status::invalid_argument("not a key service key"))
        }
    })
}

fn key_type(key: Option<proto::Key>) -> Result<proto::KeyType, Status> {
    key.and_then(|k| k.key_type)
        .ok_or_else(|| Status::invalid_argument("the request names no key"))
}

fn recipient_of(key: Option<proto::Key>) -> Result<KeyRecipient, Status> {
    match key_type(key)? {
        proto::KeyType::AgeKey(k) => Recipient::parse(&k.recipient)
            .map(KeyRecipient::Age)
            .map_err(|e| Status::invalid_argument(e.to_string())),
        proto::KeyType::HckmsKey(_) => Err(Status::unimplemented(
            "Huawei Cloud KMS keys are not supported by sops-like",
        )),
        other => service_key_of(other).map(KeyRecipient::Service),
    }
}

fn master_key_of(key: Option<proto::Key>, enc: String) -> Result<MasterKey, Status> {
    match key_type(key)? {
        proto::KeyType::AgeKey(k) => Ok(MasterKey::Age {
            recipient: k.recipient,
            enc,
        }),
        proto::KeyType::HckmsKey(_) => Err(Status::unimplemented(
            "Huawei Cloud KMS keys are not supported by sops-like",
        )),
        other => Ok(MasterKey::from_service(
            service_key_of(other)?,
            String::new(),
            enc,
        )),
    }
}

/// [`master_key_of`], for the protocol tests.
#[cfg(test)]
pub(super) fn master_key_for_tests(
    key: Option<proto::Key>,
    enc: String,
) -> Result<MasterKey, Status> {
    master_key_of(key, enc)
}
