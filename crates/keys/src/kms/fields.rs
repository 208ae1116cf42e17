//! The mapping between [`MasterKey`] and the fields of a `sops` metadata
//! key entry, in the order and with the omissions sops 3.11 writes.

use std::collections::BTreeMap;

use super::keys::{AwsKmsKey, AzureKvKey, GcpKmsKey, PgpKey, VaultKey};
use crate::groups::MasterKey;

/// The value of one field of a metadata key entry: a string, or (only for
/// `kms` `context`) a map of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// A string field.
    Str(String),
    /// The KMS encryption context.
    Map(BTreeMap<String, String>),
}

impl FieldValue {
    fn str(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}

impl MasterKey {
    /// The entry's fields as sops writes them, in its order: `age`:
    /// recipient, enc. `kms`: arn, role (if any), context (if any),
    /// created_at, enc, aws_profile (always). `pgp`: created_at, enc, fp.
    /// `gcp_kms`: resource_id, created_at, enc. `azure_kv`: vault_url, name,
    /// version, created_at, enc. `hc_vault`: vault_address, engine_path,
    /// key_name, created_at, enc. An [`MasterKey::Other`] only has its `enc`
    /// (keep the original entry for those).
    pub fn to_fields(&self) -> Vec<(&'static str, FieldValue)> {
        use FieldValue as V;
        match self {
            Self::Age { recipient, enc } => {
                vec![("recipient", V::str(recipient)), ("enc", V::str(enc))]
            }
            Self::Kms {
                key,
                created_at,
                enc,
            } => {
                let mut f = vec![("arn", V::str(&key.arn))];
                if !key.role.is_empty() {
                    f.push(("role", V::str(&key.role)));
                }
                if !key.context.is_empty() {
                    f.push(("context", V::Map(key.context.clone())));
                }
                f.extend([
                    ("created_at", V::str(created_at)),
                    ("enc", V::str(enc)),
                    ("aws_profile", V::str(&key.aws_profile)),
                ]);
                f
            }
            Self::Pgp {
                key,
                created_at,
                enc,
            } => vec![
                ("created_at", V::str(created_at)),
                ("enc", V::str(enc)),
                ("fp", V::str(&key.fingerprint)),
            ],
            Self::GcpKms {
                key,
                created_at,
                enc,
            } => vec![
                ("resource_id", V::str(&key.resource_id)),
                ("created_at", V::str(created_at)),
                ("enc", V::str(enc)),
            ],
            Self::AzureKv {
                key,
                created_at,
                enc,
            } => vec![
                ("vault_url", V::str(&key.vault_url)),
                ("name", V::str(&key.name)),
                ("version", V::str(&key.version)),
                ("created_at", V::str(created_at)),
                ("enc", V::str(enc)),
            ],
            Self::HcVault {
                key,
                created_at,
                enc,
            } => vec![
                ("vault_address", V::str(&key.vault_address)),
                ("engine_path", V::str(&key.engine_path)),
                ("key_name", V::str(&key.key_name)),
                ("created_at", V::str(created_at)),
                ("enc", V::str(enc)),
            ],
            Self::Other { enc, .. } => vec![("enc", V::str(enc))],
        }
    }

    /// A master key from a metadata entry of list `kind` (`age`, `kms`,
    /// `pgp`, …). Missing fields read as empty, as in sops; unknown kinds
    /// become [`MasterKey::Other`] (with `key_id` as the id for `hckms`).
    pub fn from_fields(kind: &str, fields: &[(String, FieldValue)]) -> Self {
        let get = |name: &str| -> String {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| match v {
                    FieldValue::Str(s) => Some(s.clone()),
                    FieldValue::Map(_) => None,
                })
                .unwrap_or_default()
        };
        let created_at = get("created_at");
        let enc = get("enc");
        match kind {
            "age" => Self::Age {
                recipient: get("recipient"),
                enc,
            },
            "kms" => Self::Kms {
                key: AwsKmsKey {
                    arn: get("arn"),
                    role: get("role"),
                    context: fields
                        .iter()
                        .find_map(|(k, v)| match v {
                            FieldValue::Map(m) if k == "context" => Some(m.clone()),
                            _ => None,
                        })
                        .unwrap_or_default(),
                    aws_profile: get("aws_profile"),
                },
                created_at,
                enc,
            },
            "pgp" => Self::Pgp {
                key: PgpKey {
                    fingerprint: get("fp"),
                },
                created_at,
                enc,
            },
            "gcp_kms" => Self::GcpKms {
                key: GcpKmsKey {
                    resource_id: get("resource_id"),
                },
                created_at,
                enc,
            },
            "azure_kv" => Self::AzureKv {
                key: AzureKvKey {
                    vault_url: get("vault_url"),
                    name: get("name"),
                    version: get("version"),
                },
                created_at,
                enc,
            },
            "hc_vault" => Self::HcVault {
                key: VaultKey {
                    vault_address: get("vault_address"),
                    engine_path: get("engine_path"),
                    key_name: get("key_name"),
                },
                created_at,
                enc,
            },
            other => Self::Other {
                kind: other.to_owned(),
                id: get(if other == "hckms" { "key_id" } else { "id" }),
                enc,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kms::keys::ServiceKey;

    fn owned(fields: Vec<(&'static str, FieldValue)>) -> Vec<(String, FieldValue)> {
        fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    fn names(key: &MasterKey) -> Vec<&'static str> {
        key.to_fields().into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn sops_field_order_and_round_trip() {
        let t = "2026-01-02T03:04:05Z".to_owned();
        let kms = AwsKmsKey::parse("arn:aws:kms:us-east-1:1:key/a+arn:aws:iam::1:role/r")
            .unwrap()
            .with_context([("b".to_owned(), "2".to_owned())].into());
        let cases = [
            (
                MasterKey::from_service(ServiceKey::Kms(kms), t.clone(), "Y2lw".into()),
                vec!["arn", "role", "context", "created_at", "enc", "aws_profile"],
            ),
            (
                MasterKey::from_service(
                    ServiceKey::Kms(AwsKmsKey::parse("arn:aws:kms:us-east-1:1:key/a").unwrap()),
                    t.clone(),
                    "x".into(),
                ),
                vec!["arn", "created_at", "enc", "aws_profile"],
            ),
            (
                MasterKey::from_service(
                    ServiceKey::Pgp(PgpKey::parse("ABCDEF0123456789").unwrap()),
                    t.clone(),
                    "-----BEGIN PGP MESSAGE-----\n".into(),
                ),
                vec!["created_at", "enc", "fp"],
            ),
            (
                MasterKey::from_service(
                    ServiceKey::HcVault(
                        VaultKey::parse("https://v:8200/v1/a/transit/keys/k").unwrap(),
                    ),
                    t.clone(),
                    "vault:v1:abc".into(),
                ),
                vec![
                    "vault_address",
                    "engine_path",
                    "key_name",
                    "created_at",
                    "enc",
                ],
            ),
            (
                MasterKey::from_service(
                    ServiceKey::GcpKms(
                        GcpKmsKey::parse("projects/p/locations/l/keyRings/r/cryptoKeys/k").unwrap(),
                    ),
                    t.clone(),
                    "x".into(),
                ),
                vec!["resource_id", "created_at", "enc"],
            ),
            (
                MasterKey::from_service(
                    ServiceKey::AzureKv(
                        AzureKvKey::parse("https://v.vault.azure.net/keys/k/1").unwrap(),
                    ),
                    t.clone(),
                    "x".into(),
                ),
                vec!["vault_url", "name", "version", "created_at", "enc"],
            ),
            (
                MasterKey::Age {
                    recipient: "age1x".into(),
                    enc: "e".into(),
                },
                vec!["recipient", "enc"],
            ),
        ];
        for (key, expected) in cases {
            assert_eq!(names(&key), expected, "{key:?}");
            let back = MasterKey::from_fields(key.kind(), &owned(key.to_fields()));
            assert_eq!(back, key);
            if key.kind() != "age" {
                assert_eq!(key.created_at(), Some(t.as_str()));
            }
        }
    }

    #[test]
    fn unknown_kinds_become_other() {
        let k = MasterKey::from_fields(
            "hckms",
            &[
                ("key_id".into(), FieldValue::Str("r:uuid".into())),
                ("enc".into(), FieldValue::Str("c".into())),
            ],
        );
        assert_eq!((k.kind(), k.id(), k.enc()), ("hckms", "r:uuid", "c"));
        assert!(k.service_key().is_none());
    }

    #[test]
    fn labels_are_full_identities() {
        let k = MasterKey::from_service(
            ServiceKey::HcVault(
                VaultKey::parse("http://127.0.0.1:8200/v1/transit/keys/k").unwrap(),
            ),
            String::new(),
            String::new(),
        );
        assert_eq!(k.id(), "k");
        assert_eq!(k.label(), "http://127.0.0.1:8200/v1/transit/keys/k");
        assert_eq!(k.to_string(), k.label());
    }
}
