//! What the key services need from the caller's environment: tokens,
//! endpoints, the gpg home, timeouts. Plain data, available whatever
//! features are built, so the CLI fills it without `cfg`s.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroizing;

/// Everything the key services take from outside.
#[derive(Debug, Clone, Default)]
pub struct ServiceConfig {
    /// Timeouts and retries, for every provider.
    pub options: ServiceOptions,
    /// HashiCorp Vault / OpenBao.
    pub vault: VaultConfig,
    /// AWS KMS.
    pub aws: AwsConfig,
    /// OpenPGP through gpg.
    pub pgp: PgpConfig,
}

/// How long one call may take and how often it is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceOptions {
    /// The limit for one attempt (connecting, sending and reading the answer,
    /// or one run of gpg).
    pub timeout: Duration,
    /// Attempts in all (at least 1); only transient failures (cannot
    /// connect, timeout, 5xx, throttling) are retried.
    pub attempts: u32,
    /// The wait before the first retry; it doubles after each retry.
    pub backoff: Duration,
}

impl Default for ServiceOptions {
    /// 10 s per attempt, 3 attempts, 200 ms then 400 ms between them.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            attempts: 3,
            backoff: Duration::from_millis(200),
        }
    }
}

impl ServiceOptions {
    /// The longest a whole call with its retries can take.
    pub fn budget(&self) -> Duration {
        let attempts = self.attempts.max(1);
        let waits = (0..attempts.saturating_sub(1))
            .map(|i| self.backoff.saturating_mul(1u32 << i.min(16)))
            .fold(Duration::ZERO, Duration::saturating_add);
        self.timeout.saturating_mul(attempts).saturating_add(waits)
    }
}

/// Vault / OpenBao settings (sops: `VAULT_TOKEN`, `~/.vault-token`,
/// `VAULT_NAMESPACE`). The address comes from each key.
#[derive(Clone, Default)]
pub struct VaultConfig {
    /// The token sent as `X-Vault-Token`.
    pub token: Option<Zeroizing<String>>,
    /// An enterprise namespace, sent as `X-Vault-Namespace`.
    pub namespace: Option<String>,
    /// How to trust the server and who to be to it (sops: the Vault
    /// client's `VAULT_CACERT`, `VAULT_CAPATH`, `VAULT_SKIP_VERIFY`,
    /// `VAULT_CLIENT_CERT`, `VAULT_CLIENT_KEY`).
    pub tls: VaultTls,
}

/// TLS settings of the Vault client, as the Vault API client sops uses
/// reads them from its environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VaultTls {
    /// A PEM file of CA certificates to trust instead of the system's
    /// (`VAULT_CACERT`). Wins over `ca_path`.
    pub ca_cert: Option<PathBuf>,
    /// A directory whose files are PEM CA certificates to trust instead of
    /// the system's (`VAULT_CAPATH`).
    pub ca_path: Option<PathBuf>,
    /// Accept any server certificate (`VAULT_SKIP_VERIFY`).
    pub skip_verify: bool,
    /// A PEM client certificate (`VAULT_CLIENT_CERT`); needs `client_key`.
    pub client_cert: Option<PathBuf>,
    /// The PEM private key of `client_cert` (`VAULT_CLIENT_KEY`).
    pub client_key: Option<PathBuf>,
    /// The name the server's certificate must hold, sent in TLS too
    /// (`VAULT_TLS_SERVER_NAME`); the connection still goes to the
    /// address's host.
    pub server_name: Option<String>,
}

/// Go's `strconv.ParseBool`, with which the Vault and AWS clients read
/// boolean variables (`VAULT_SKIP_VERIFY`): `1 t T TRUE true True` and
/// `0 f F FALSE false False`; anything else is `None`.
pub fn go_parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

impl VaultConfig {
    /// The token as sops finds it: `env_token` (the caller's `VAULT_TOKEN`)
    /// if set and non-empty, else the contents of `HOME/.vault-token`.
    pub fn token_from(env_token: Option<&str>, home: Option<&Path>) -> Option<Zeroizing<String>> {
        if let Some(t) = env_token.map(str::trim).filter(|t| !t.is_empty()) {
            return Some(Zeroizing::new(t.to_owned()));
        }
        let text = Zeroizing::new(std::fs::read_to_string(home?.join(".vault-token")).ok()?);
        let token = text.trim();
        (!token.is_empty()).then(|| Zeroizing::new(token.to_owned()))
    }
}

impl fmt::Debug for VaultConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultConfig")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("namespace", &self.namespace)
            .field("tls", &self.tls)
            .finish()
    }
}

/// AWS settings.
#[derive(Debug, Clone, Default)]
pub struct AwsConfig {
    /// An endpoint for every AWS call (KMS, and STS for a key's role)
    /// instead of the resolved ones (tests: moto). `None`: aws-config's
    /// resolution, per service (`AWS_ENDPOINT_URL_KMS` / `_STS`, then
    /// `AWS_ENDPOINT_URL`, then the profile's `services` / `endpoint_url`,
    /// all turned off by `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`), else the
    /// regional endpoint.
    pub endpoint_url: Option<String>,
    /// Fixed credentials; `None` uses aws-config's default chain (env,
    /// profiles, SSO, instance and container roles). A key with an
    /// `aws_profile` uses that profile's credentials in either case.
    pub credentials: Option<AwsCredentials>,
    /// The STS session name when a key has a role (sops: `sops@HOSTNAME`);
    /// `None` gives `sops-like`.
    pub role_session_name: Option<String>,
    /// A PEM file of CA certificates to trust instead of the system's, for
    /// KMS and STS (sops: the AWS SDK's `AWS_CA_BUNDLE`). `None`: the
    /// `ca_bundle` of the key's profile (or of the selected one), if any.
    pub ca_bundle: Option<PathBuf>,
}

/// Static AWS credentials.
#[derive(Clone)]
pub struct AwsCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Zeroizing<String>,
    /// A session token, for temporary credentials.
    pub session_token: Option<Zeroizing<String>>,
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// GCP Cloud KMS settings, given with
/// [`Services::with_gcp`](super::Services::with_gcp).
#[derive(Debug, Clone, Default)]
pub struct GcpConfig {
    /// An endpoint to use instead of `https://cloudkms.googleapis.com` (the
    /// caller's `SOPS_GCP_KMS_ENDPOINT`; tests: drongo over `http://`).
    pub endpoint: Option<String>,
    /// How to authenticate.
    pub credentials: GcpCredentials,
}

/// Where GCP credentials come from.
#[derive(Clone, Default)]
pub enum GcpCredentials {
    /// Application default credentials (`GOOGLE_APPLICATION_CREDENTIALS`,
    /// gcloud's file, the metadata server), as google-cloud-auth finds them.
    #[default]
    Default,
    /// No credentials at all (emulators).
    Anonymous,
    /// A credentials JSON document (`service_account` or
    /// `authorized_user`): the caller's `GOOGLE_CREDENTIALS`, as text or as
    /// the contents of the file it names.
    Json(Zeroizing<String>),
    /// A ready OAuth access token, sent as a bearer token (the caller's
    /// `GOOGLE_OAUTH_ACCESS_TOKEN`).
    AccessToken(Zeroizing<String>),
}

impl fmt::Debug for GcpCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Default => "Default",
            Self::Anonymous => "Anonymous",
            Self::Json(_) => "Json(<redacted>)",
            Self::AccessToken(_) => "AccessToken(<redacted>)",
        })
    }
}

/// Azure Key Vault settings, given with
/// [`Services::with_azure`](super::Services::with_azure). Keys name their
/// vault, so there is no endpoint here.
#[derive(Debug, Clone, Default)]
pub struct AzureConfig {
    /// How to get a token for the vault.
    pub credentials: AzureCredentials,
    /// Extra PEM root certificates to trust besides the system's (tests: a
    /// self-signed fake).
    pub extra_root_pem: Option<Vec<u8>>,
    /// Accept an authentication challenge whose resource is not the vault's
    /// own domain (tests: a loopback fake). Leave `false` otherwise.
    pub skip_challenge_resource_check: bool,
}

/// Where Azure tokens come from. sops uses the default chain of the Go SDK;
/// azure_identity 1.x has no such chain, so the caller picks one from its
/// environment (`AZURE_CLIENT_ID`/`AZURE_TENANT_ID`/`AZURE_CLIENT_SECRET` →
/// [`AzureCredentials::ClientSecret`], …).
#[derive(Clone, Default)]
pub enum AzureCredentials {
    /// The developer tools: Azure CLI (`az login`), then Azure Developer CLI.
    #[default]
    DeveloperTools,
    /// The managed identity of the machine (App Service, VM, …), optionally
    /// a user-assigned one by client id.
    ManagedIdentity {
        /// The client id of a user-assigned identity.
        client_id: Option<String>,
    },
    /// A service principal with a client secret.
    ClientSecret {
        /// The Entra tenant id.
        tenant_id: String,
        /// The application (client) id.
        client_id: String,
        /// The client secret.
        secret: Zeroizing<String>,
    },
    /// A ready bearer token for `https://vault.azure.net` (tests, or a token
    /// obtained elsewhere).
    Token(Zeroizing<String>),
}

impl fmt::Debug for AzureCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DeveloperTools => f.write_str("DeveloperTools"),
            Self::ManagedIdentity { client_id } => f
                .debug_struct("ManagedIdentity")
                .field("client_id", client_id)
                .finish(),
            Self::ClientSecret {
                tenant_id,
                client_id,
                ..
            } => f
                .debug_struct("ClientSecret")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            Self::Token(_) => f.write_str("Token(<redacted>)"),
        }
    }
}

/// gpg settings (sops: `SOPS_GPG_EXEC`, `GNUPGHOME`).
#[derive(Debug, Clone, Default)]
pub struct PgpConfig {
    /// The gpg program; `None` runs `gpg` from `PATH`.
    pub gpg: Option<PathBuf>,
    /// The gpg home directory; `None` leaves gpg's own default.
    pub gnupghome: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_counts_attempts_and_backoff() {
        let o = ServiceOptions {
            timeout: Duration::from_secs(1),
            attempts: 3,
            backoff: Duration::from_millis(100),
        };
        assert_eq!(o.budget(), Duration::from_millis(3300));
        let once = ServiceOptions { attempts: 0, ..o };
        assert_eq!(once.budget(), Duration::from_secs(1));
    }

    #[test]
    fn go_booleans() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(go_parse_bool(t), Some(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(go_parse_bool(f), Some(false), "{f}");
        }
        for bad in ["", "yes", "tRue", " true", "2"] {
            assert_eq!(go_parse_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn vault_token_from_env_then_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(VaultConfig::token_from(None, Some(dir.path())).is_none());
        std::fs::write(dir.path().join(".vault-token"), "s.file\n").unwrap();
        let t = VaultConfig::token_from(Some(""), Some(dir.path())).unwrap();
        assert_eq!(t.as_str(), "s.file");
        let t = VaultConfig::token_from(Some("s.env"), Some(dir.path())).unwrap();
        assert_eq!(t.as_str(), "s.env");
        let cfg = VaultConfig {
            token: Some(t),
            ..VaultConfig::default()
        };
        assert!(!format!("{cfg:?}").contains("s.env"));
    }
}
