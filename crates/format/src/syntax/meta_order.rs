//! The order of the `sops` metadata fields.
//!
//! Used by the TOML module (TOML puts a table's `key = value` lines before its sub-tables, so the
//! `[sops]` table cannot keep sops's field order (`age` lists come before
//! `lastmodified`). On reading, the metadata is put back into the order sops
//! serialises it (`stores.Metadata`); unknown keys keep their relative order
//! after the known ones.

use crate::tree::{Entry, Item, Node};

/// Top-level fields, in sops's order.
const TOP: &[&str] = &[
    "shamir_threshold",
    "key_groups",
    "kms",
    "gcp_kms",
    "hckms",
    "azure_kv",
    "hc_vault",
    "age",
    "lastmodified",
    "mac",
    "pgp",
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
    "mac_only_encrypted",
    "version",
];

/// Fields of a `key_groups` element.
const GROUP: &[&str] = &[
    "pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age",
];

/// Fields of one master key entry, by key type.
fn key_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "age" => &["recipient", "enc"],
        "pgp" => &["created_at", "enc", "fp"],
        "kms" => &["arn", "role", "context", "created_at", "enc", "aws_profile"],
        "gcp_kms" => &["resource_id", "created_at", "enc"],
        "azure_kv" => &["vault_url", "name", "version", "created_at", "enc"],
        "hc_vault" => &[
            "vault_address",
            "engine_path",
            "key_name",
            "created_at",
            "enc",
        ],
        "hckms" => &["key_id", "created_at", "enc"],
        _ => &[],
    }
}

/// Put the metadata tree's fields into sops's order, at every level.
pub(crate) fn canonical(meta: &mut Node) {
    let Node::Map(entries) = meta else { return };
    sort(entries, TOP);
    for entry in entries.iter_mut() {
        let Entry::Pair(pair) = entry else { continue };
        if pair.key == "key_groups" {
            for group in maps(&mut pair.value) {
                let Node::Map(fields) = group else { continue };
                sort(fields, GROUP);
                for field in fields.iter_mut() {
                    if let Entry::Pair(p) = field {
                        keys(&p.key, &mut p.value);
                    }
                }
            }
        } else {
            keys(&pair.key, &mut pair.value);
        }
    }
}

/// Order the entries of a list of master keys of type `kind`.
fn keys(kind: &str, list: &mut Node) {
    let order = key_fields(kind);
    for key in maps(list) {
        if let Node::Map(fields) = key {
            sort(fields, order);
        }
    }
}

/// The nodes of a sequence.
fn maps(node: &mut Node) -> impl Iterator<Item = &mut Node> {
    let items = match node {
        Node::Seq(items) => Some(items),
        _ => None,
    };
    items.into_iter().flatten().filter_map(|i| match i {
        Item::Node(n) => Some(n),
        Item::Comment(_) => None,
    })
}

/// Stable sort by rank in `order`; unknown keys and comments go last.
fn sort(entries: &mut [Entry], order: &[&str]) {
    entries.sort_by_key(|e| match e {
        Entry::Pair(p) => order
            .iter()
            .position(|k| *k == p.key)
            .unwrap_or(order.len()),
        Entry::Comment(_) => order.len(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::conformance::plain;

    #[test]
    fn sorts_every_level() {
        let age = Node::Seq(vec![Item::Node(Node::map([
            ("enc".to_string(), Node::str("e")),
            ("recipient".to_string(), Node::str("r")),
        ]))]);
        let group = Node::map([
            ("age".to_string(), age.clone()),
            ("pgp".to_string(), Node::Seq(vec![])),
        ]);
        let mut meta = Node::map([
            ("version".to_string(), Node::str("3")),
            ("x_unknown".to_string(), Node::str("u")),
            ("key_groups".to_string(), Node::Seq(vec![Item::Node(group)])),
            ("age".to_string(), age),
        ]);
        canonical(&mut meta);
        assert_eq!(
            plain(&meta),
            r#"{"key_groups":[{"pgp":[],"age":[{"recipient":Some("r"),"enc":Some("e")}]}],"age":[{"recipient":Some("r"),"enc":Some("e")}],"version":Some("3"),"x_unknown":Some("u")}"#
        );
    }
}
