//! The `sops` metadata block: wrapped data keys, `lastmodified`, `mac`, the
//! selector in use and `version`, read from and written to a [`Node`] in
//! the exact field order sops 3.11 uses (sops-format.md §4).

use crate::tree::{Entry, Item, Node, Pair, Value};

/// The version string written into new files: the sops file-format
/// version these files follow.
pub const FORMAT_VERSION: &str = "3.11.0";

/// The master-key kinds, in the order sops writes flat lists.
pub const FLAT_KINDS: [&str; 6] = ["kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age"];
/// The master-key kinds in the order sops writes them inside `key_groups`.
const GROUP_KINDS: [&str; 7] = [
    "pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age",
];

/// One wrapped copy of the data key (or of a Shamir share).
#[derive(Clone, PartialEq)]
pub struct MasterKey {
    /// `age`, `pgp`, `kms`, `gcp_kms`, `hckms`, `azure_kv` or `hc_vault`.
    pub kind: String,
    /// The entry's fields in file order (`recipient`, `enc`, …); values are
    /// strings except `context` (a map) for KMS.
    pub fields: Vec<(String, Node)>,
}

impl MasterKey {
    /// An age entry.
    pub fn age(recipient: &str, enc: &str) -> MasterKey {
        MasterKey {
            kind: "age".into(),
            fields: vec![
                ("recipient".into(), Node::str(recipient)),
                ("enc".into(), Node::str(enc)),
            ],
        }
    }

    /// A string field.
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| scalar_string(v))
    }

    /// The wrapped key text.
    pub fn enc(&self) -> Option<String> {
        self.field("enc")
    }

    /// Who or what holds the key: the age recipient, PGP fingerprint, KMS
    /// ARN, and so on.
    pub fn id(&self) -> String {
        let name = match self.kind.as_str() {
            "age" => "recipient",
            "pgp" => "fp",
            "kms" => "arn",
            "gcp_kms" => "resource_id",
            "hckms" => "key_id",
            "azure_kv" => {
                let url = self.field("vault_url").unwrap_or_default();
                let key = self.field("name").unwrap_or_default();
                let version = self.field("version").unwrap_or_default();
                return format!("{url}/keys/{key}/{version}");
            }
            "hc_vault" => {
                let addr = self.field("vault_address").unwrap_or_default();
                let path = self.field("engine_path").unwrap_or_default();
                let key = self.field("key_name").unwrap_or_default();
                return format!("{addr}/v1/{path}/keys/{key}");
            }
            _ => "",
        };
        self.field(name).unwrap_or_default()
    }

    fn to_node(&self) -> Node {
        Node::map(self.fields.iter().cloned())
    }
}

/// Which leaves are encrypted (at most one selector per file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// Leaves under a key ending with this suffix stay clear.
    UnencryptedSuffix(String),
    /// Only leaves under a key ending with this suffix are encrypted.
    EncryptedSuffix(String),
    /// Leaves under a key matching this regex stay clear.
    UnencryptedRegex(String),
    /// Only leaves under a key matching this regex are encrypted.
    EncryptedRegex(String),
    /// Leaves after a comment matching this regex stay clear.
    UnencryptedCommentRegex(String),
    /// Only leaves after a comment matching this regex are encrypted.
    EncryptedCommentRegex(String),
}

impl Default for Selector {
    fn default() -> Self {
        Selector::UnencryptedSuffix("_unencrypted".into())
    }
}

impl Selector {
    /// The metadata field name.
    pub fn field(&self) -> &'static str {
        match self {
            Selector::UnencryptedSuffix(_) => "unencrypted_suffix",
            Selector::EncryptedSuffix(_) => "encrypted_suffix",
            Selector::UnencryptedRegex(_) => "unencrypted_regex",
            Selector::EncryptedRegex(_) => "encrypted_regex",
            Selector::UnencryptedCommentRegex(_) => "unencrypted_comment_regex",
            Selector::EncryptedCommentRegex(_) => "encrypted_comment_regex",
        }
    }

    /// The suffix or regex.
    pub fn pattern(&self) -> &str {
        match self {
            Selector::UnencryptedSuffix(s)
            | Selector::EncryptedSuffix(s)
            | Selector::UnencryptedRegex(s)
            | Selector::EncryptedRegex(s)
            | Selector::UnencryptedCommentRegex(s)
            | Selector::EncryptedCommentRegex(s) => s,
        }
    }

    /// Build from a metadata field name.
    pub fn from_field(field: &str, pattern: String) -> Option<Selector> {
        Some(match field {
            "unencrypted_suffix" => Selector::UnencryptedSuffix(pattern),
            "encrypted_suffix" => Selector::EncryptedSuffix(pattern),
            "unencrypted_regex" => Selector::UnencryptedRegex(pattern),
            "encrypted_regex" => Selector::EncryptedRegex(pattern),
            "unencrypted_comment_regex" => Selector::UnencryptedCommentRegex(pattern),
            "encrypted_comment_regex" => Selector::EncryptedCommentRegex(pattern),
            _ => return None,
        })
    }
}

const SELECTOR_FIELDS: [&str; 6] = [
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
];

/// The metadata of an encrypted file.
#[derive(Clone, PartialEq)]
pub struct Metadata {
    /// Key groups; one group is written as flat lists.
    pub key_groups: Vec<Vec<MasterKey>>,
    /// Shamir threshold (only meaningful with two or more groups).
    pub shamir_threshold: Option<usize>,
    /// RFC 3339 UTC time of the last value change.
    pub lastmodified: String,
    /// The encrypted MAC (`ENC[…]`).
    pub mac: String,
    /// The selector. `None` when the file names none (binary files); sops
    /// then uses the default `_unencrypted` suffix.
    pub selector: Option<Selector>,
    /// Only encrypted values are MACed.
    pub mac_only_encrypted: bool,
    /// The `version` field.
    pub version: String,
}

/// Metadata that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid sops metadata: {0}")]
pub struct MetadataError(pub String);

fn bad(msg: impl Into<String>) -> MetadataError {
    MetadataError(msg.into())
}

fn scalar_string(n: &Node) -> Option<String> {
    match n.as_value()? {
        Value::Str(s) | Value::Time(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(crate::value::go_float(*f)),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => None,
    }
}

fn pairs(n: &Node) -> Vec<&Pair> {
    match n {
        Node::Map(entries) => entries
            .iter()
            .filter_map(|e| match e {
                Entry::Pair(p) => Some(p),
                Entry::Comment(_) => None,
            })
            .collect(),
        Node::Alias(inner) => pairs(inner),
        _ => Vec::new(),
    }
}

fn items(n: &Node) -> Vec<&Node> {
    match n {
        Node::Seq(items) => items
            .iter()
            .filter_map(|i| match i {
                Item::Node(n) => Some(n),
                Item::Comment(_) => None,
            })
            .collect(),
        Node::Alias(inner) => items(inner),
        _ => Vec::new(),
    }
}

fn read_keys(kind: &str, list: &Node, out: &mut Vec<MasterKey>) {
    for entry in items(list) {
        let fields = pairs(entry)
            .into_iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect();
        out.push(MasterKey {
            kind: kind.to_string(),
            fields,
        });
    }
}

/// Gives the fields of a YAML file's master keys (and the values of a KMS
/// `context`) the text go-yaml gives sops: sops decodes them into Go
/// strings, which take a scalar's source text whatever it resolves to, so a
/// plain `key_name: 0x1F` names the key `0x1F` (not `31`), `f: 1.50` is the
/// context value `1.50` (not `1.5`), `b: true` is `true` and `d:
/// 2024-01-01` is `2024-01-01`. `meta` is the `sops` node of a parse of
/// `src` (its spans are offsets in `src`); strings and nulls are kept, and
/// so is every other field of the block (`lastmodified`, `version`, …).
pub(crate) fn keep_key_text(meta: &mut Node, src: &str) {
    let Node::Map(entries) = meta else { return };
    for e in entries {
        let Entry::Pair(p) = e else { continue };
        if p.key == "key_groups" {
            for group in items_mut(&mut p.value) {
                if let Node::Map(lists) = group {
                    for l in lists {
                        if let Entry::Pair(l) = l {
                            if GROUP_KINDS.contains(&l.key.as_str()) {
                                key_list_text(&mut l.value, src);
                            }
                        }
                    }
                }
            }
        } else if FLAT_KINDS.contains(&p.key.as_str()) || p.key == "pgp" {
            key_list_text(&mut p.value, src);
        }
    }
}

fn unalias_node(n: &Node) -> &Node {
    match n {
        Node::Alias(inner) => unalias_node(inner),
        n => n,
    }
}

fn items_mut(n: &mut Node) -> impl Iterator<Item = &mut Node> {
    let items = match n {
        Node::Seq(items) => Some(items),
        _ => None,
    };
    items.into_iter().flatten().filter_map(|i| match i {
        Item::Node(n) => Some(n),
        Item::Comment(_) => None,
    })
}

/// Each entry of one list of master keys: its scalar fields, and the
/// values of a mapping field (`context`).
fn key_list_text(list: &mut Node, src: &str) {
    for entry in items_mut(list) {
        let Node::Map(fields) = entry else { continue };
        for f in fields {
            let Entry::Pair(f) = f else { continue };
            match &mut f.value {
                Node::Map(values) => {
                    for v in values {
                        if let Entry::Pair(v) = v {
                            scalar_text(&mut v.value, src);
                        }
                    }
                }
                value => scalar_text(value, src),
            }
        }
    }
}

/// A scalar that YAML resolved to a number, boolean or time becomes the
/// string of its source text (after its tag, if it has one); one written
/// in quotes after a tag (`!!int "12"`), or without a span, is kept.
fn scalar_text(node: &mut Node, src: &str) {
    let scalar = match node {
        Node::Scalar(s) => s,
        Node::Alias(inner) => return scalar_text(inner, src),
        _ => return,
    };
    if matches!(scalar.value, Value::Str(_) | Value::Null) {
        return;
    }
    let Some(lexeme) = scalar.span.clone().and_then(|span| src.get(span)) else {
        return;
    };
    let text = match lexeme.strip_prefix('!') {
        Some(tagged) => tagged
            .split_once(|c: char| c.is_ascii_whitespace())
            .map_or("", |(_, rest)| rest),
        None => lexeme,
    }
    .trim();
    if text.is_empty() || text.starts_with(['"', '\'', '|', '>']) {
        return;
    }
    scalar.value = Value::Str(text.to_owned());
}

impl Metadata {
    /// The stored Shamir threshold, if it means something: with one key
    /// group there is no split (sops's `updatekeys` writes 1 there when it
    /// takes a file to one group, its `encrypt` a rule's threshold).
    pub fn split_threshold(&self) -> Option<usize> {
        self.shamir_threshold.filter(|_| self.key_groups.len() > 1)
    }

    /// The cipher the file's values use, judged by its MAC.
    pub fn cipher(&self) -> Option<crate::cipher::CipherKind> {
        crate::cipher::EncValue::parse(&self.mac)
            .ok()
            .map(|v| v.cipher)
    }

    /// The cipher to seal the file's values with: [`Metadata::cipher`],
    /// or sops's AES256_GCM when the MAC does not tell.
    pub fn cipher_or_sops(&self) -> crate::cipher::CipherKind {
        self.cipher()
            .unwrap_or(crate::cipher::CipherKind::Aes256Gcm)
    }

    /// The selector in force (sops's default when none is written).
    pub fn effective_selector(&self) -> Selector {
        self.selector.clone().unwrap_or_default()
    }

    /// Every master key of every group.
    pub fn all_keys(&self) -> impl Iterator<Item = &MasterKey> {
        self.key_groups.iter().flatten()
    }

    /// Read metadata from the `sops` node of a file.
    pub fn from_node(node: &Node) -> Result<Metadata, MetadataError> {
        let get = |k: &str| node.get(k);
        let string = |k: &str| get(k).and_then(scalar_string);
        // Flat lists win if any is non-empty (as sops loads them).
        let mut flat = Vec::new();
        for kind in FLAT_KINDS.iter().chain(["pgp"].iter()) {
            if let Some(list) = get(kind) {
                read_keys(kind, list, &mut flat);
            }
        }
        let mut key_groups = Vec::new();
        if !flat.is_empty() {
            key_groups.push(flat);
        } else if let Some(groups) = get("key_groups") {
            for g in items(groups) {
                let mut keys = Vec::new();
                for kind in GROUP_KINDS {
                    if let Some(list) = g.get(kind) {
                        read_keys(kind, list, &mut keys);
                    }
                }
                key_groups.push(keys);
            }
        }
        // A list or a mapping is no number (go-yaml refuses it, and so
        // does sops); a null is none.
        if matches!(
            get("shamir_threshold").map(unalias_node),
            Some(Node::Seq(_) | Node::Map(_))
        ) {
            return Err(bad("shamir_threshold is not a number"));
        }
        let shamir_threshold = match string("shamir_threshold") {
            None => None,
            Some(t) => {
                let t = t.strip_suffix(".0").unwrap_or(&t);
                // sops reads any integer; below 2 it combines the shares
                // it recovers (a negative one is read as 1).
                let n = t
                    .parse::<i64>()
                    .map_err(|_| bad("shamir_threshold is not a number"))?;
                Some(usize::try_from(n).unwrap_or(1))
            }
        };
        // An empty pattern is no selector, as sops reads it (an empty
        // suffix would otherwise match every key and leave all in clear).
        let mut selector = None;
        for field in SELECTOR_FIELDS {
            if let Some(p) = string(field).filter(|p| !p.is_empty()) {
                if selector.is_some() {
                    return Err(bad(
                        "more than one of the encrypted/unencrypted suffix/regex options is set",
                    ));
                }
                selector = Selector::from_field(field, p);
            }
        }
        let mac_only_encrypted = match get("mac_only_encrypted").and_then(|n| n.as_value()) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::Str(s)) => s == "true",
            Some(_) => return Err(bad("mac_only_encrypted is not a boolean")),
        };
        if matches!(
            get("version").and_then(|n| n.as_value()),
            Some(Value::Int(_) | Value::Float(_))
        ) {
            return Err(bad("the version is a number: this file was written by sops 1.x, which is not supported"));
        }
        Ok(Metadata {
            key_groups,
            shamir_threshold,
            lastmodified: string("lastmodified").ok_or_else(|| bad("lastmodified is missing"))?,
            mac: string("mac").unwrap_or_default(),
            selector,
            mac_only_encrypted,
            version: string("version").unwrap_or_default(),
        })
    }

    /// The `sops` node, fields in sops's order.
    pub fn to_node(&self) -> Node {
        let mut out: Vec<(String, Node)> = Vec::new();
        let list = |keys: Vec<&MasterKey>| {
            Node::Seq(keys.into_iter().map(|k| Item::Node(k.to_node())).collect())
        };
        if self.key_groups.len() > 1 {
            let threshold = self.shamir_threshold.unwrap_or(self.key_groups.len());
            out.push((
                "shamir_threshold".into(),
                Node::value(Value::Int(threshold as i64)),
            ));
            let groups = self
                .key_groups
                .iter()
                .map(|g| {
                    let mut fields = Vec::new();
                    for kind in GROUP_KINDS {
                        let keys: Vec<&MasterKey> = g.iter().filter(|k| k.kind == kind).collect();
                        // sops always writes hc_vault and age inside groups.
                        if !keys.is_empty() || kind == "hc_vault" || kind == "age" {
                            fields.push((kind.to_string(), list(keys)));
                        }
                    }
                    Item::Node(Node::map(fields))
                })
                .collect();
            out.push(("key_groups".into(), Node::Seq(groups)));
        } else if let Some(g) = self.key_groups.first() {
            for kind in FLAT_KINDS {
                let keys: Vec<&MasterKey> = g.iter().filter(|k| k.kind == kind).collect();
                if !keys.is_empty() {
                    out.push((kind.to_string(), list(keys)));
                }
            }
        }
        out.push(("lastmodified".into(), Node::str(self.lastmodified.clone())));
        out.push(("mac".into(), Node::str(self.mac.clone())));
        if self.key_groups.len() == 1 {
            let pgp: Vec<&MasterKey> = self.key_groups[0]
                .iter()
                .filter(|k| k.kind == "pgp")
                .collect();
            if !pgp.is_empty() {
                out.push(("pgp".into(), list(pgp)));
            }
        }
        if let Some(sel) = &self.selector {
            out.push((sel.field().to_string(), Node::str(sel.pattern())));
        }
        if self.mac_only_encrypted {
            out.push(("mac_only_encrypted".into(), Node::value(Value::Bool(true))));
        }
        out.push(("version".into(), Node::str(self.version.clone())));
        Node::map(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(groups: usize) -> Metadata {
        Metadata {
            key_groups: (0..groups)
                .map(|i| vec![MasterKey::age(&format!("age1r{i}"), "-----BEGIN\nx\n")])
                .collect(),
            shamir_threshold: if groups > 1 { Some(2) } else { None },
            lastmodified: "2026-11-22T03:51:54Z".into(),
            mac: "ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]".into(),
            selector: Some(Selector::default()),
            mac_only_encrypted: false,
            version: FORMAT_VERSION.into(),
        }
    }

    fn keys_of(n: &Node) -> Vec<String> {
        pairs(n).iter().map(|p| p.key.clone()).collect()
    }

    #[test]
    fn flat_round_trip_in_sops_order() {
        let m = sample(1);
        let node = m.to_node();
        assert_eq!(
            keys_of(&node),
            [
                "age",
                "lastmodified",
                "mac",
                "unencrypted_suffix",
                "version"
            ]
        );
        assert!(Metadata::from_node(&node).unwrap() == m);
    }

    #[test]
    fn groups_round_trip() {
        let m = sample(3);
        let node = m.to_node();
        assert_eq!(keys_of(&node)[..2], ["shamir_threshold", "key_groups"]);
        let back = Metadata::from_node(&node).unwrap();
        assert_eq!(back.key_groups.len(), 3);
        assert_eq!(back.shamir_threshold, Some(2));
        assert_eq!(back.key_groups[1][0].id(), "age1r1");
    }

    #[test]
    fn two_selectors_rejected_and_default_applies() {
        let mut node = sample(1).to_node();
        if let Node::Map(e) = &mut node {
            e.push(Entry::Pair(Pair {
                key: "encrypted_regex".into(),
                value: Node::str("x"),
            }));
        }
        assert!(Metadata::from_node(&node).is_err());
        let mut m = sample(1);
        m.selector = None;
        let back = Metadata::from_node(&m.to_node()).unwrap();
        assert_eq!(
            back.effective_selector(),
            Selector::UnencryptedSuffix("_unencrypted".into())
        );
    }

    /// sops counts an empty selector field as absent: the default suffix
    /// applies, and an empty field beside another is no conflict.
    #[test]
    fn empty_selector_fields_are_absent() {
        let mut node = sample(1).to_node();
        if let Node::Map(e) = &mut node {
            for entry in e.iter_mut() {
                if let Entry::Pair(p) = entry {
                    if p.key == "unencrypted_suffix" {
                        p.value = Node::str("");
                    }
                }
            }
            e.push(Entry::Pair(Pair {
                key: "encrypted_regex".into(),
                value: Node::str(""),
            }));
        }
        let m = Metadata::from_node(&node).unwrap();
        assert_eq!(m.selector, None);
        assert_eq!(m.effective_selector(), Selector::default());
        if let Node::Map(e) = &mut node {
            e.push(Entry::Pair(Pair {
                key: "unencrypted_regex".into(),
                value: Node::str("^x"),
            }));
        }
        let m = Metadata::from_node(&node).unwrap();
        assert_eq!(m.selector, Some(Selector::UnencryptedRegex("^x".into())));
    }

    /// Plain scalars in master keys' fields read as their source text, as
    /// go-yaml decodes them into sops's Go strings; other fields of the
    /// block keep their meaning.
    #[test]
    fn key_fields_keep_plain_scalar_text() {
        let src = "a: ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]\n\
sops:\n    shamir_threshold: 2\n    key_groups:\n        - kms:\n              - arn: arn:aws:kms:us-east-1:1:key/a\n                context:\n                    f: 1.50\n                    n: 0x1F\n                    b: true\n                    d: 2024-01-01\n                    s: \"x\"\n                    t: !!int 0x10\n                    z: 1e3 # c\n                enc: AQ==\n                aws_profile: \"\"\n          hc_vault:\n              - vault_address: http://127.0.0.1:8200\n                engine_path: 0o17\n                key_name: 0x1F\n                enc: vault:v1:x\n        - pgp:\n              - fp: 0x1234ABCD\n                enc: x\n    lastmodified: \"2026-11-22T03:51:54Z\"\n    mac: ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]\n    unencrypted_suffix: _unencrypted\n    version: 3.11.0\n";
        let parsed = crate::syntax::parse_encrypted(crate::Format::Yaml, src).unwrap();
        let m = Metadata::from_node(parsed.metadata.as_ref().unwrap()).unwrap();
        assert_eq!(m.shamir_threshold, Some(2));
        let kms = &m.key_groups[0][0];
        assert_eq!(kms.kind, "kms");
        let context = kms.fields.iter().find(|(k, _)| k == "context").unwrap();
        let values: Vec<(String, Option<String>)> = pairs(&context.1)
            .iter()
            .map(|p| (p.key.clone(), scalar_string(&p.value)))
            .collect();
        let expected = [
            ("f", "1.50"),
            ("n", "0x1F"),
            ("b", "true"),
            ("d", "2024-01-01"),
            ("s", "x"),
            ("t", "0x10"),
            ("z", "1e3"),
        ];
        assert_eq!(
            values,
            expected
                .iter()
                .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                .collect::<Vec<_>>()
        );
        let vault = &m.key_groups[0][1];
        assert_eq!(vault.field("key_name").as_deref(), Some("0x1F"));
        assert_eq!(vault.field("engine_path").as_deref(), Some("0o17"));
        assert_eq!(vault.id(), "http://127.0.0.1:8200/v1/0o17/keys/0x1F");
        assert_eq!(m.key_groups[1][0].id(), "0x1234ABCD");
        // Written back, they stay strings.
        let again = Metadata::from_node(&m.to_node()).unwrap();
        assert_eq!(
            again.key_groups[0][1].field("key_name").as_deref(),
            Some("0x1F")
        );
    }

    #[test]
    fn a_threshold_that_is_a_list_or_a_mapping_is_refused() {
        for value in [Node::Seq(vec![]), Node::Map(vec![])] {
            let mut node = sample(2).to_node();
            if let Node::Map(e) = &mut node {
                e[0] = Entry::Pair(Pair {
                    key: "shamir_threshold".into(),
                    value,
                });
            }
            assert!(Metadata::from_node(&node).is_err());
        }
    }

    #[test]
    fn string_threshold_from_flattened_files() {
        let mut node = sample(2).to_node();
        if let Node::Map(e) = &mut node {
            e[0] = Entry::Pair(Pair {
                key: "shamir_threshold".into(),
                value: Node::str("2.0"),
            });
        }
        assert_eq!(
            Metadata::from_node(&node).unwrap().shamir_threshold,
            Some(2)
        );
        // sops writes -1 (`groups add --shamir-secret-sharing-threshold
        // -1`) and reads any integer: below 2 it combines what it recovers.
        if let Node::Map(e) = &mut node {
            e[0] = Entry::Pair(Pair {
                key: "shamir_threshold".into(),
                value: Node::value(Value::Int(-1)),
            });
        }
        assert_eq!(
            Metadata::from_node(&node).unwrap().shamir_threshold,
            Some(1)
        );
    }
}
