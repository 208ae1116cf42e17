//! The identities of non-age master keys, as the command line names them
//! (`--kms`, `--hc-vault-transit`, `--pgp`, `--gcp-kms`, `--azure-kv`) and
//! as the `sops` metadata stores them (minus `created_at` and `enc`).

use std::collections::BTreeMap;
use std::fmt;

use crate::error::KeyError;

/// A key of a key service: what a master key other than age is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServiceKey {
    /// An AWS KMS key (metadata list `kms`).
    Kms(AwsKmsKey),
    /// A HashiCorp Vault / OpenBao transit key (metadata list `hc_vault`).
    HcVault(VaultKey),
    /// An OpenPGP key (metadata list `pgp`).
    Pgp(PgpKey),
    /// A GCP Cloud KMS key (metadata list `gcp_kms`).
    GcpKms(GcpKmsKey),
    /// An Azure Key Vault key (metadata list `azure_kv`).
    AzureKv(AzureKvKey),
}

impl ServiceKey {
    /// The metadata list this key belongs to: `kms`, `hc_vault`, `pgp`,
    /// `gcp_kms` or `azure_kv`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Kms(_) => "kms",
            Self::HcVault(_) => "hc_vault",
            Self::Pgp(_) => "pgp",
            Self::GcpKms(_) => "gcp_kms",
            Self::AzureKv(_) => "azure_kv",
        }
    }

    /// Who the key is, for messages: the ARN, the transit URI, the
    /// fingerprint, the resource id or the key URL.
    pub fn id(&self) -> String {
        match self {
            Self::Kms(k) => k.arn.clone(),
            Self::HcVault(k) => k.uri(),
            Self::Pgp(k) => k.fingerprint.clone(),
            Self::GcpKms(k) => k.resource_id.clone(),
            Self::AzureKv(k) => k.url(),
        }
    }
}

impl ServiceKey {
    /// Everything that tells two keys apart, as sops compares them (its
    /// `ToString`): for AWS KMS `ARN[+ROLE][|k:v,…][|PROFILE]` (a key with a
    /// new role, context or profile is another key), for the others
    /// [`ServiceKey::id`].
    pub fn identity(&self) -> String {
        match self {
            Self::Kms(k) => k.identity(),
            other => other.id(),
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} key {}", self.kind(), self.id())
    }
}

fn invalid(kind: &'static str, text: &str, reason: &str) -> KeyError {
    KeyError::InvalidKey {
        kind,
        key: text.to_owned(),
        reason: reason.to_owned(),
    }
}

/// An AWS KMS key: `arn`, `role`, `context` and `aws_profile` of a `kms`
/// metadata entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AwsKmsKey {
    /// The key ARN (or alias ARN); its region is where KMS is called.
    pub arn: String,
    /// An IAM role ARN to assume through STS first (empty: none).
    pub role: String,
    /// The encryption context, bound to the ciphertext by KMS.
    pub context: BTreeMap<String, String>,
    /// A named AWS profile for credentials (empty: the default chain).
    pub aws_profile: String,
}

impl AwsKmsKey {
    /// Parses one `--kms` / `SOPS_KMS_ARN` entry: `ARN` or `ARN+ROLE_ARN`.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let (arn, role) = match text.split_once('+') {
            Some((arn, role)) => (arn.trim(), role.trim()),
            None => (text, ""),
        };
        let key = Self {
            arn: arn.to_owned(),
            role: role.to_owned(),
            ..Self::default()
        };
        key.region()
            .ok_or_else(|| invalid("AWS KMS", text, "not a KMS key ARN (arn:aws:kms:REGION:…)"))?;
        if !role.is_empty() && !role.starts_with("arn:") {
            return Err(invalid(
                "AWS KMS",
                text,
                "the role after '+' must be an IAM role ARN",
            ));
        }
        Ok(key)
    }

    /// Parses a comma-separated `--kms` list.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, KeyError> {
        split_list(text).map(Self::parse).collect()
    }

    /// The region named by the ARN (`arn:PARTITION:kms:REGION:…`).
    pub fn region(&self) -> Option<&str> {
        let mut parts = self.arn.split(':');
        let (arn, _partition, service, region) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        (arn == "arn" && service == "kms" && !region.is_empty()).then_some(region)
    }

    /// Returns the key with `context` parsed from `--encryption-context`
    /// (`k:v,k2:v2`).
    pub fn with_context(mut self, context: BTreeMap<String, String>) -> Self {
        self.context = context;
        self
    }

    /// The key as sops names it (`ToString`): `ARN`, then `+ROLE` if it
    /// has a role, `|k:v,k2:v2` if it has an encryption context (sorted by
    /// key) and `|PROFILE` if it has a profile.
    pub fn identity(&self) -> String {
        let mut s = self.arn.clone();
        if !self.role.is_empty() {
            s.push('+');
            s.push_str(&self.role);
        }
        if !self.context.is_empty() {
            let pairs: Vec<String> = self
                .context
                .iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect();
            s.push('|');
            s.push_str(&pairs.join(","));
        }
        if !self.aws_profile.is_empty() {
            s.push('|');
            s.push_str(&self.aws_profile);
        }
        s
    }

    /// Returns the key with an AWS profile name.
    pub fn with_profile(mut self, profile: &str) -> Self {
        profile.clone_into(&mut self.aws_profile);
        self
    }
}

/// Parses `--encryption-context k:v,k2:v2` exactly as sops does
/// (`kms.ParseKMSContext`): an empty text is no context; otherwise the text
/// is split at every `,`, and each part at every `:` into exactly two
/// pieces, key and value, kept as written (blanks included: `a: b` is the
/// key `a` with the value ` b`). A key given twice takes its last value.
/// Anything else (`a`, `a:b:c`, an empty part as in `a:b,,`) is refused,
/// where sops exits with "Invalid KMS encryption context format".
pub fn parse_encryption_context(text: &str) -> Result<BTreeMap<String, String>, KeyError> {
    let mut map = BTreeMap::new();
    if text.is_empty() {
        return Ok(map);
    }
    for pair in text.split(',') {
        let mut pieces = pair.split(':');
        match (pieces.next(), pieces.next(), pieces.next()) {
            (Some(k), Some(v), None) => {
                map.insert(k.to_owned(), v.to_owned());
            }
            _ => {
                return Err(KeyError::InvalidEncryptionContext(format!(
                    "{pair:?} is not one key:value pair (pairs are separated by ',', and \
                     neither a key nor a value may hold ':' or ',')"
                )))
            }
        }
    }
    Ok(map)
}

/// A transit key of HashiCorp Vault or OpenBao: `vault_address`,
/// `engine_path` and `key_name` of an `hc_vault` metadata entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VaultKey {
    /// Scheme, host and port: `https://vault.example:8200`.
    pub vault_address: String,
    /// The transit mount path, e.g. `transit` or `team/transit`.
    pub engine_path: String,
    /// The key's name in the engine.
    pub key_name: String,
}

impl VaultKey {
    /// Parses one `--hc-vault-transit` / `SOPS_VAULT_URIS` entry:
    /// `https://host:8200/v1/ENGINE/PATH/keys/NAME`, with an optional
    /// trailing `/` (as sops).
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let bad = |reason: &str| invalid("Vault transit", text, reason);
        // sops takes a `?query` into the key's name (a key that does not
        // exist) and a `#fragment` into the stored address: neither names
        // a transit key.
        if text.contains(['?', '#']) {
            return Err(bad(
                "the URI must not have a ?query or #fragment: expected https://HOST:PORT/v1/ENGINE_PATH/keys/KEY_NAME",
            ));
        }
        let rest = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))
            .ok_or_else(|| bad("the URI must start with http:// or https://"))?;
        let host_end = rest.find('/').ok_or_else(|| bad("the URI has no path"))?;
        let (host, path) = rest.split_at(host_end);
        if host.is_empty() {
            return Err(bad("the URI has no host"));
        }
        let path = path
            .strip_prefix("/v1/")
            .ok_or_else(|| bad("the path must start with /v1/"))?;
        // One trailing `/` is allowed, as sops trims it.
        let path = path.strip_suffix('/').unwrap_or(path);
        let (engine, name) = path
            .rsplit_once("/keys/")
            .ok_or_else(|| bad("the path must end with /keys/NAME"))?;
        let engine = engine.trim_matches('/');
        if engine.is_empty() || name.is_empty() || name.contains('/') {
            return Err(bad("expected /v1/ENGINE_PATH/keys/KEY_NAME"));
        }
        Ok(Self {
            vault_address: text
                .get(..text.len() - rest.len() + host.len())
                .unwrap_or_default()
                .to_owned(),
            engine_path: engine.to_owned(),
            key_name: name.to_owned(),
        })
    }

    /// Parses a comma-separated `--hc-vault-transit` list.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, KeyError> {
        split_list(text).map(Self::parse).collect()
    }

    /// The key's URI, in the form [`VaultKey::parse`] reads.
    pub fn uri(&self) -> String {
        format!(
            "{}/v1/{}/keys/{}",
            self.vault_address.trim_end_matches('/'),
            self.engine_path,
            self.key_name
        )
    }
}

/// An OpenPGP key: the `fp` of a `pgp` metadata entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PgpKey {
    /// The fingerprint (hex, without spaces).
    pub fingerprint: String,
}

impl PgpKey {
    /// Parses one `--pgp` / `SOPS_PGP_FP` fingerprint or key id; spaces
    /// are removed (as sops does) and it must be hexadecimal, with an
    /// optional `0x` / `0X` prefix (gpg accepts it). The prefix is kept, as
    /// sops writes the key as given in `fp`.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let fingerprint: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let hex = fingerprint
            .strip_prefix("0x")
            .or_else(|| fingerprint.strip_prefix("0X"))
            .unwrap_or(&fingerprint);
        if hex.len() < 8 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid(
                "PGP",
                text,
                "not a hexadecimal key fingerprint or key id",
            ));
        }
        Ok(Self { fingerprint })
    }

    /// Parses a comma-separated `--pgp` list.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, KeyError> {
        split_list(text).map(Self::parse).collect()
    }
}

/// A GCP Cloud KMS key: the `resource_id` of a `gcp_kms` metadata entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GcpKmsKey {
    /// `projects/P/locations/L/keyRings/R/cryptoKeys/K`.
    pub resource_id: String,
}

impl GcpKmsKey {
    /// Parses one `--gcp-kms` / `SOPS_GCP_KMS_IDS` resource id.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let parts: Vec<&str> = text.split('/').collect();
        let shape_ok = matches!(
            parts.as_slice(),
            ["projects", p, "locations", l, "keyRings", r, "cryptoKeys", k]
                if [p, l, r, k].iter().all(|s| !s.is_empty())
        );
        if !shape_ok {
            return Err(invalid(
                "GCP KMS",
                text,
                "expected projects/P/locations/L/keyRings/R/cryptoKeys/K",
            ));
        }
        Ok(Self {
            resource_id: text.to_owned(),
        })
    }
}

/// An Azure Key Vault key: `vault_url`, `name` and `version` of an
/// `azure_kv` metadata entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AzureKvKey {
    /// `https://NAME.vault.azure.net`.
    pub vault_url: String,
    /// The key name.
    pub name: String,
    /// The key version (empty before encryption: the latest is used).
    pub version: String,
}

impl AzureKvKey {
    /// Parses one `--azure-kv` / `SOPS_AZURE_KEYVAULT_URLS` entry:
    /// `https://VAULT/keys/NAME[/VERSION]`.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let bad = || {
            invalid(
                "Azure Key Vault",
                text,
                "expected https://VAULT/keys/NAME[/VERSION]",
            )
        };
        let rest = text.strip_prefix("https://").ok_or_else(bad)?;
        let (host, path) = rest.split_once("/keys/").ok_or_else(bad)?;
        let mut segments = path.trim_end_matches('/').split('/');
        let name = segments.next().filter(|s| !s.is_empty()).ok_or_else(bad)?;
        let version = segments.next().unwrap_or_default();
        if host.is_empty() || segments.next().is_some() {
            return Err(bad());
        }
        Ok(Self {
            vault_url: format!("https://{host}"),
            name: name.to_owned(),
            version: version.to_owned(),
        })
    }

    /// The key URL, with its version when known.
    pub fn url(&self) -> String {
        let base = format!(
            "{}/keys/{}",
            self.vault_url.trim_end_matches('/'),
            self.name
        );
        if self.version.is_empty() {
            base
        } else {
            format!("{base}/{}", self.version)
        }
    }
}

fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kms_arn_with_role_and_region() {
        let k = AwsKmsKey::parse(
            "arn:aws:kms:eu-west-1:111122223333:key/abc+arn:aws:iam::111122223333:role/ops",
        )
        .unwrap();
        assert_eq!(k.arn, "arn:aws:kms:eu-west-1:111122223333:key/abc");
        assert_eq!(k.role, "arn:aws:iam::111122223333:role/ops");
        assert_eq!(k.region(), Some("eu-west-1"));
        let list = AwsKmsKey::parse_list(
            "arn:aws:kms:us-east-1:1:key/a, arn:aws-cn:kms:cn-north-1:1:alias/b",
        )
        .unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].region(), Some("cn-north-1"));
        for bad in [
            "",
            "key/abc",
            "arn:aws:s3:::bucket",
            "arn:aws:kms::1:key/a",
            "arn:aws:kms:us-east-1:1:key/a+role",
        ] {
            assert!(AwsKmsKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kms_identity_as_sops_names_it() {
        let arn = "arn:aws:kms:us-east-1:1:key/a";
        let plain = AwsKmsKey::parse(arn).unwrap();
        assert_eq!(plain.identity(), arn);
        let full = AwsKmsKey::parse(&format!("{arn}+arn:aws:iam::1:role/r"))
            .unwrap()
            .with_context(parse_encryption_context("b:2,a:1").unwrap())
            .with_profile("p");
        assert_eq!(
            ServiceKey::Kms(full).identity(),
            format!("{arn}+arn:aws:iam::1:role/r|a:1,b:2|p")
        );
        let ctx = plain
            .clone()
            .with_context(parse_encryption_context("x:y").unwrap());
        assert_eq!(ctx.identity(), format!("{arn}|x:y"));
        assert_eq!(plain.with_profile("p").identity(), format!("{arn}|p"));
    }

    /// sops's `ParseKMSContext`: split at every ',' and every ':', exactly
    /// two pieces, blanks kept, the last of a key given twice.
    #[test]
    fn encryption_context_pairs() {
        let pairs = |text: &str| -> Vec<(String, String)> {
            parse_encryption_context(text)
                .unwrap()
                .into_iter()
                .collect()
        };
        let own = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(pairs("b:2,a:1"), own(&[("a", "1"), ("b", "2")]));
        assert_eq!(pairs("app: web"), own(&[("app", " web")]));
        assert_eq!(pairs(" env:prod"), own(&[(" env", "prod")]));
        assert_eq!(pairs("b:2, a:1"), own(&[(" a", "1"), ("b", "2")]));
        assert_eq!(pairs("a:1,a:2"), own(&[("a", "2")]));
        assert_eq!(pairs(":"), own(&[("", "")]));
        assert!(pairs("").is_empty());
        for bad in [
            "novalue",
            "url:http://x",
            "a:x:y",
            "a:b,,",
            "a:b,",
            ",a:b",
            " ",
        ] {
            assert!(parse_encryption_context(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn vault_uri_round_trip() {
        let k = VaultKey::parse("https://vault.example:8200/v1/team/transit/keys/sops").unwrap();
        assert_eq!(k.vault_address, "https://vault.example:8200");
        assert_eq!(k.engine_path, "team/transit");
        assert_eq!(k.key_name, "sops");
        assert_eq!(
            k.uri(),
            "https://vault.example:8200/v1/team/transit/keys/sops"
        );
        let plain = VaultKey::parse("http://127.0.0.1:8205/v1/transit/keys/k1").unwrap();
        assert_eq!(plain.vault_address, "http://127.0.0.1:8205");
        let slash = VaultKey::parse("http://127.0.0.1:8205/v1/transit/keys/k1/").unwrap();
        assert_eq!(slash, plain);
        for bad in [
            "vault:8200/v1/transit/keys/a",
            "https://h/transit/keys/a",
            "https://h/v1/transit/keys/",
            "https://h/v1/transit/keys//",
            "https://h/v1/transit/keys/a//",
            "https://h/v1/keys/a",
            "https://h/v1/transit/a",
            "https:///v1/transit/keys/a",
            "http://127.0.0.1:8200/v1/transit/keys/k?x=1",
            "http://127.0.0.1:8200/v1/transit/keys/k#frag",
            "http://127.0.0.1:8200/v1/transit/keys/k/?x=1",
            "http://127.0.0.1:8200?x=1/v1/transit/keys/k",
        ] {
            assert!(VaultKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pgp_gcp_azure_parse() {
        let p = PgpKey::parse("FBC7 B9E2 A4F9 289A C0C1  D4FA 4F49 0A1C 2B4A D8E1").unwrap();
        assert_eq!(p.fingerprint, "FBC7B9E2A4F9289AC0C1D4FA4F490A1C2B4AD8E1");
        assert!(PgpKey::parse("not-hex!").is_err());
        for prefixed in ["0xFBC7B9E2A4F9289A", "0XFBC7B9E2A4F9289A"] {
            assert_eq!(PgpKey::parse(prefixed).unwrap().fingerprint, prefixed);
        }
        for bad in ["0x", "0x1234567", "0xx1234567890", "x0FBC7B9E2A4F9289A"] {
            assert!(PgpKey::parse(bad).is_err(), "{bad}");
        }
        let e = PgpKey::parse("bogus").unwrap_err().to_string();
        assert!(e.starts_with("invalid PGP key \"bogus\""), "{e}");
        let e = GcpKmsKey::parse("bogus").unwrap_err().to_string();
        assert!(
            e.starts_with("invalid GCP KMS key \"bogus\": expected projects/"),
            "{e}"
        );
        let g = GcpKmsKey::parse("projects/p/locations/global/keyRings/r/cryptoKeys/k").unwrap();
        assert_eq!(
            g.resource_id,
            "projects/p/locations/global/keyRings/r/cryptoKeys/k"
        );
        assert!(GcpKmsKey::parse("projects/p/keyRings/r").is_err());
        let a = AzureKvKey::parse("https://v.vault.azure.net/keys/k/0123abc").unwrap();
        assert_eq!(
            (a.vault_url.as_str(), a.name.as_str(), a.version.as_str()),
            ("https://v.vault.azure.net", "k", "0123abc")
        );
        assert_eq!(a.url(), "https://v.vault.azure.net/keys/k/0123abc");
        let latest = AzureKvKey::parse("https://v.vault.azure.net/keys/k").unwrap();
        assert!(latest.version.is_empty());
        assert!(AzureKvKey::parse("http://v/keys/k").is_err());
        assert!(AzureKvKey::parse("https://v/keys/k/1/2").is_err());
    }

    #[test]
    fn display_names_kind_and_id() {
        let k = ServiceKey::Pgp(PgpKey::parse("ABCDEF0123456789").unwrap());
        assert_eq!(k.to_string(), "pgp key ABCDEF0123456789");
    }
}
