//! `destination_rules`: where `publish` sends a file (an S3 or GCS bucket,
//! or a Vault KV secret), and the `recreation_rule` whose keys the file is
//! re-encrypted for first.
//!
//! Like sops, a rule naming two destinations is only an error when
//! `publish` picks it (other commands read the config too and must not
//! fail over a rule they do not use), and `path_regex` is matched against
//! the path as given on the command line, not relative to the config.

use super::keys::NamedRecipient;
use super::node::{boolean, fields, integer, items, string};
use super::rules::{parse_rule_as, path_regex, Rule};
use super::source::Source;
use crate::exit::Failure;
use sops_like_format::goregex::GoRegex;
use sops_like_format::Node;

/// One rule of `destination_rules`, as written.
#[derive(Clone, Debug)]
pub struct DestinationRule {
    /// 0-based position in `destination_rules`.
    pub index: usize,
    /// 1-based line where the rule starts.
    pub line: usize,
    /// The path filter (unanchored); `None` matches every file.
    pub path_regex: Option<GoRegex>,
    /// `s3_bucket` (empty: not set).
    pub s3_bucket: String,
    /// `s3_prefix`, put before the file name as it is.
    pub s3_prefix: String,
    /// `gcs_bucket` (empty: not set).
    pub gcs_bucket: String,
    /// `gcs_prefix`.
    pub gcs_prefix: String,
    /// `vault_path` (empty: not set).
    pub vault_path: String,
    /// `vault_address` (empty: `VAULT_ADDR`, then Vault's default).
    pub vault_address: String,
    /// `vault_kv_mount_name` (empty: `secret/`).
    pub vault_kv_mount_name: String,
    /// `vault_kv_version` (anything but 1 or 2 means 2, as in sops).
    pub vault_kv_version: i64,
    /// The keys (and selector) to re-encrypt for before an S3 or GCS
    /// upload; `None` or a rule without keys uploads the file as it is.
    pub recreation_rule: Option<Rule>,
    /// Drop the file's extension from the destination name.
    pub omit_extensions: bool,
}

/// Where a file is published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// An S3 object `prefix + name` in `bucket`.
    S3 { bucket: String, prefix: String },
    /// A GCS object `prefix + name` in `bucket`.
    Gcs { bucket: String, prefix: String },
    /// A Vault KV secret.
    Vault(VaultDestination),
}

/// A Vault KV destination, normalised as sops does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultDestination {
    /// The server (`None`: `VAULT_ADDR`, then `https://127.0.0.1:8200`).
    pub address: Option<String>,
    /// `vault_path`, ending in `/`.
    pub path: String,
    /// The KV mount, ending in `/` (default `secret/`).
    pub mount: String,
    /// KV version: 1 or 2.
    pub version: u8,
}

impl VaultDestination {
    /// The API path of the secret for `name` (after `/v1/`): `mount +
    /// path + name`, with `data/` after the mount for KV version 2.
    pub fn secret_path(&self, name: &str) -> String {
        match self.version {
            1 => format!("{}{}{name}", self.mount, self.path),
            _ => format!("{}data/{}{name}", self.mount, self.path),
        }
    }
}

impl Destination {
    /// The destination of `name` as sops shows it: `s3://bucket/prefixname`,
    /// `gcs://bucket/prefixname`, or `ADDRESS/v1/SECRET_PATH` (`address`
    /// is the Vault server in use).
    pub fn describe(&self, name: &str, vault_address: &str) -> String {
        match self {
            Destination::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}{name}"),
            Destination::Gcs { bucket, prefix } => format!("gcs://{bucket}/{prefix}{name}"),
            Destination::Vault(v) => format!("{vault_address}/v1/{}", v.secret_path(name)),
        }
    }
}

impl DestinationRule {
    /// The one destination this rule names: `Ok(None)` if it names none,
    /// an error (sops's wording) if it names more than one.
    pub fn destination(&self) -> Result<Option<Destination>, String> {
        let set = [&self.s3_bucket, &self.gcs_bucket, &self.vault_path]
            .iter()
            .filter(|s| !s.is_empty())
            .count();
        if set > 1 {
            return Err(format!(
                "destination rule {} (line {}) names more than one destination (s3_bucket, gcs_bucket, vault_path): use one per rule",
                self.index + 1,
                self.line
            ));
        }
        Ok(if !self.s3_bucket.is_empty() {
            Some(Destination::S3 {
                bucket: self.s3_bucket.clone(),
                prefix: self.s3_prefix.clone(),
            })
        } else if !self.gcs_bucket.is_empty() {
            Some(Destination::Gcs {
                bucket: self.gcs_bucket.clone(),
                prefix: self.gcs_prefix.clone(),
            })
        } else if !self.vault_path.is_empty() {
            Some(Destination::Vault(self.vault()))
        } else {
            None
        })
    }

    /// The Vault fields with sops's defaults: a `/` after the path and the
    /// mount, mount `secret/`, version 2 unless 1.
    fn vault(&self) -> VaultDestination {
        let slash = |s: &str| {
            if s.ends_with('/') {
                s.to_string()
            } else {
                format!("{s}/")
            }
        };
        let mount = if self.vault_kv_mount_name.is_empty() {
            "secret/".to_string()
        } else {
            slash(&self.vault_kv_mount_name)
        };
        VaultDestination {
            address: Some(self.vault_address.clone()).filter(|a| !a.is_empty()),
            path: slash(&self.vault_path),
            mount,
            version: if self.vault_kv_version == 1 { 1 } else { 2 },
        }
    }

    /// The keys to re-encrypt for, if the rule has a `recreation_rule`
    /// naming any (sops: the first key group is not empty).
    pub fn recreation(&self) -> Option<&Rule> {
        self.recreation_rule
            .as_ref()
            .filter(|r| r.key_groups.first().is_some_and(|g| !g.is_empty()))
    }

    /// One line describing the rule (for "no rule matched" errors).
    pub fn summary(&self) -> String {
        let filter = match &self.path_regex {
            Some(r) => format!("path_regex `{}`", r.as_str()),
            None => "no path_regex (matches every file)".to_string(),
        };
        format!(
            "destination rule {} (line {}): {filter}",
            self.index + 1,
            self.line
        )
    }
}

const STRING_KEYS: [&str; 8] = [
    "s3_bucket",
    "s3_prefix",
    "gcs_bucket",
    "gcs_prefix",
    "vault_path",
    "vault_address",
    "vault_kv_mount_name",
    "path_regex",
];

/// Parse `destination_rules` (a list of rules; `null` is none).
pub(super) fn parse_destination_rules(
    src: &mut Source,
    names: &[NamedRecipient],
    node: &Node,
    at: usize,
) -> Result<Vec<DestinationRule>, Failure> {
    let list = items(src, node, at, "destination_rules")?;
    let mut out = Vec::new();
    for (index, (rule, rule_at)) in list.into_iter().enumerate() {
        out.push(parse_destination_rule(src, names, rule, rule_at, index)?);
    }
    Ok(out)
}

fn parse_destination_rule(
    src: &mut Source,
    names: &[NamedRecipient],
    node: &Node,
    at: usize,
    index: usize,
) -> Result<DestinationRule, Failure> {
    let what = format!("destination rule {}", index + 1);
    if !matches!(super::node::unalias(node), Node::Map(_)) {
        return Err(src.error(
            at,
            format!(
                "{what} must be a mapping (path_regex, s3_bucket, …), not {}",
                super::node::describe(node)
            ),
        ));
    }
    let mut rule = DestinationRule {
        index,
        line: src.line(at),
        path_regex: None,
        s3_bucket: String::new(),
        s3_prefix: String::new(),
        gcs_bucket: String::new(),
        gcs_prefix: String::new(),
        vault_path: String::new(),
        vault_address: String::new(),
        vault_kv_mount_name: String::new(),
        vault_kv_version: 0,
        recreation_rule: None,
        omit_extensions: false,
    };
    for f in fields(src, node, at, &what)? {
        let key_what = format!("{what}: {}", f.key);
        match f.key {
            k if STRING_KEYS.contains(&k) => {
                let value = string(src, f.value, f.value_at, &key_what)?.unwrap_or_default();
                let slot = match k {
                    "s3_bucket" => &mut rule.s3_bucket,
                    "s3_prefix" => &mut rule.s3_prefix,
                    "gcs_bucket" => &mut rule.gcs_bucket,
                    "gcs_prefix" => &mut rule.gcs_prefix,
                    "vault_path" => &mut rule.vault_path,
                    "vault_address" => &mut rule.vault_address,
                    "vault_kv_mount_name" => &mut rule.vault_kv_mount_name,
                    _ => {
                        rule.path_regex = path_regex(src, &value, f.value_at, &what)?;
                        continue;
                    }
                };
                *slot = value;
            }
            "vault_kv_version" => {
                rule.vault_kv_version = integer(src, f.value, f.value_at, &key_what)?.unwrap_or(0);
            }
            "omit_extensions" => {
                rule.omit_extensions =
                    boolean(src, f.value, f.value_at, &key_what)?.unwrap_or(false);
            }
            "recreation_rule" => {
                if super::node::is_null(f.value) {
                    continue;
                }
                let inner = format!("{what}: recreation_rule");
                rule.recreation_rule = Some(parse_rule_as(
                    src, names, f.value, f.value_at, index, inner,
                )?);
            }
            other => src.warn(f.at, format!("unknown key `{other}` in {what} (ignored)")),
        }
    }
    Ok(rule)
}
