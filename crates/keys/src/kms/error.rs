//! [`ServiceError`]: a key service call that failed, naming the key, the
//! endpoint and the cause. It never carries key material or a token.

use std::fmt;

use super::keys::ServiceKey;

/// A failed wrap or unwrap with a key service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// The key type (`kms`, `hc_vault`, `pgp`, …).
    pub kind: &'static str,
    /// The key: ARN, transit URI, fingerprint, ….
    pub key: String,
    /// Where the call went: a URL, or the gpg program.
    pub endpoint: String,
    /// What went wrong.
    pub cause: String,
    /// Whether trying again may help (cannot connect, timeout, 5xx,
    /// throttling). Only such failures are retried.
    pub transient: bool,
}

impl ServiceError {
    /// A permanent failure of `key` at `endpoint`.
    pub fn new(key: &ServiceKey, endpoint: &str, cause: impl Into<String>) -> Self {
        Self {
            kind: key.kind(),
            key: key.id(),
            endpoint: endpoint.to_owned(),
            cause: cause.into(),
            transient: false,
        }
    }

    /// A failure worth retrying.
    pub fn transient(key: &ServiceKey, endpoint: &str, cause: impl Into<String>) -> Self {
        Self {
            transient: true,
            ..Self::new(key, endpoint, cause)
        }
    }

    /// This build or configuration cannot handle the key at all.
    pub fn unsupported(key: &ServiceKey, cause: &str) -> Self {
        Self::new(key, "-", cause)
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} key {}", self.kind, self.key)?;
        if self.endpoint != "-" {
            write!(f, " at {}", self.endpoint)?;
        }
        write!(f, ": {}", self.cause)
    }
}

impl std::error::Error for ServiceError {}

/// An error and its sources, joined with `: ` (reqwest's own message alone
/// hides "connection refused").
#[cfg_attr(
    not(any(
        feature = "aws-kms",
        feature = "hc-vault",
        feature = "gcp-kms",
        feature = "azure-kv"
    )),
    allow(dead_code)
)]
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kms::keys::VaultKey;

    #[test]
    fn names_key_endpoint_and_cause() {
        let key =
            ServiceKey::HcVault(VaultKey::parse("http://127.0.0.1:1/v1/transit/keys/k").unwrap());
        let e = ServiceError::transient(&key, "http://127.0.0.1:1", "connection refused");
        assert_eq!(
            e.to_string(),
            "hc_vault key http://127.0.0.1:1/v1/transit/keys/k at http://127.0.0.1:1: connection refused"
        );
        assert!(e.transient);
        let u = ServiceError::unsupported(&key, "not built");
        assert_eq!(
            u.to_string(),
            "hc_vault key http://127.0.0.1:1/v1/transit/keys/k: not built"
        );
    }
}
