//! Unit tests of the config module (discovery tests use temp dirs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::exit::code;
use sops_like_format::metadata::Selector;
use std::path::Path;

const ALICE: &str = "age1xksg0j7xz6au3772au4papt5wnqq2llx9adm2pmjsanknhc2neps05glmq";
const BOB: &str = "age1eqfdwqy0wt6mwsh5k66w2v9x974wd7cnt50agcmvntnlf3up5dps8w3mdg";
const CAROL: &str = "age1y8guxr6tvh82sa2z2gmgyhlsm3nde73c8maysy0rt0tyyuvcnp6sxrtmue";
const SSH: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJkor/qeLWy0GZmuuN/sqJlsortC8I6Mp/IWNJppO+5G sops-like-test";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cfg_kind(kind: ConfigKind, text: &str) -> Result<ConfigFile, Failure> {
    parse(
        Path::new("/repo/.sops-like.yaml"),
        PathBuf::from("/repo"),
        kind,
        text,
    )
}

fn cfg(text: &str) -> ConfigFile {
    match cfg_kind(ConfigKind::SopsLike, text) {
        Ok(c) => c,
        Err(f) => panic!("unexpected error: {}", f.message),
    }
}

fn err(text: &str) -> String {
    match cfg_kind(ConfigKind::SopsLike, text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(f) => {
            assert_eq!(f.code, code::GENERIC, "{}", f.message);
            f.message
        }
    }
}

fn rule_for<'c>(c: &'c ConfigFile, path: &str) -> Option<&'c Rule> {
    c.find_rule(Path::new(path)).unwrap()
}

fn ages(rule: &Rule) -> Vec<Vec<String>> {
    rule.age_groups()
}

// ---- rules and keys ----

#[test]
fn flat_age_as_string_comma_list_and_yaml_list() {
    let c = cfg(&format!(
        "creation_rules:\n  - path_regex: a\n    age: {ALICE}\n  - path_regex: b\n    age: '{ALICE}, {BOB}'\n  - path_regex: c\n    age:\n      - {ALICE}\n      - {BOB}\n"
    ));
    assert_eq!(c.rules.len(), 3);
    assert_eq!(ages(&c.rules[0]), vec![vec![ALICE.to_string()]]);
    assert_eq!(
        ages(&c.rules[1]),
        vec![vec![ALICE.to_string(), BOB.to_string()]]
    );
    assert_eq!(ages(&c.rules[2]), ages(&c.rules[1]));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.rules[1].line, 4);
}

#[test]
fn first_match_wins_and_paths_are_relative_to_the_config_dir() {
    let c = cfg(&format!(
        "creation_rules:\n  - path_regex: ^prod/.*\\.yaml$\n    age: {ALICE}\n  - path_regex: \\.yaml$\n    age: {BOB}\n  - age: {CAROL}\n"
    ));
    let r = rule_for(&c, "/repo/prod/db.yaml").unwrap();
    assert_eq!(r.index, 0);
    assert_eq!(rule_for(&c, "/repo/dev/db.yaml").unwrap().index, 1);
    // Unanchored: `\.yaml$` matches anywhere, `^prod/` only at the start of the relative path.
    assert_eq!(rule_for(&c, "/repo/x/prod/db.yaml").unwrap().index, 1);
    // No path_regex: matches everything.
    assert_eq!(rule_for(&c, "/repo/db.json").unwrap().index, 2);
    // Outside the config dir: matched against the absolute path.
    assert_eq!(
        c.match_path(Path::new("/elsewhere/prod/a.yaml")).unwrap(),
        "/elsewhere/prod/a.yaml"
    );
    assert_eq!(rule_for(&c, "/elsewhere/prod/a.yaml").unwrap().index, 1);
    // `..` is cleaned lexically like Go's filepath.Abs.
    assert_eq!(
        c.match_path(Path::new("/repo/dev/../prod/a.yaml")).unwrap(),
        "prod/a.yaml"
    );
    assert_eq!(rule_for(&c, "/repo/dev/../prod/a.yaml").unwrap().index, 0);
    // A directory that merely shares the prefix is not stripped.
    assert_eq!(
        c.match_path(Path::new("/repository/prod/a.yaml")).unwrap(),
        "/repository/prod/a.yaml"
    );
}

#[test]
fn relative_file_paths_are_resolved_against_the_current_dir() {
    let cwd = std::env::current_dir().unwrap();
    let c = parse(Path::new("x/.sops.yaml"), cwd.clone(), ConfigKind::Sops, "creation_rules:\n  - path_regex: ^sub/f\\.yaml$\n    age: age1xksg0j7xz6au3772au4papt5wnqq2llx9adm2pmjsanknhc2neps05glmq\n").unwrap();
    assert_eq!(c.match_path(Path::new("sub/f.yaml")).unwrap(), "sub/f.yaml");
    assert_eq!(
        c.match_path(Path::new("./sub/../sub/f.yaml")).unwrap(),
        "sub/f.yaml"
    );
    assert!(c.find_rule(Path::new("sub/f.yaml")).unwrap().is_some());
}

#[test]
fn no_match_is_none_and_described() {
    let c = cfg(&format!(
        "creation_rules:\n  - path_regex: ^prod/\n    age: {ALICE}\n  - path_regex: \\.env$\n    age: {BOB}\n"
    ));
    assert!(rule_for(&c, "/repo/dev/a.yaml").is_none());
    let msg = c.describe_no_match(Path::new("/repo/dev/a.yaml"));
    assert!(msg.contains("\"dev/a.yaml\""), "{msg}");
    assert!(
        msg.contains("rule 1 (line 2): path_regex `^prod/`"),
        "{msg}"
    );
    assert!(
        msg.contains("rule 2 (line 4): path_regex `\\.env$`"),
        "{msg}"
    );
    assert!(msg.contains("/repo/.sops-like.yaml"), "{msg}");
    let empty = cfg("stores:\n  yaml:\n    indent: 2\n");
    assert!(empty.rules.is_empty());
    assert!(rule_for(&empty, "/repo/a.yaml").is_none());
    assert!(empty
        .describe_no_match(Path::new("/repo/a.yaml"))
        .contains("no creation_rules"));
}

#[test]
fn empty_documents_and_empty_rules() {
    assert!(cfg("").rules.is_empty());
    assert!(cfg("# just a comment\n").rules.is_empty());
    assert!(cfg("creation_rules:\n").rules.is_empty());
    assert!(cfg("creation_rules: []\n").rules.is_empty());
    // A rule without keys is allowed: the command line must give them.
    let c = cfg("creation_rules:\n  - path_regex: x\n    unencrypted_suffix: _u\n");
    assert!(c.rules[0].key_groups.is_empty());
}

#[test]
fn key_groups_merge_dedup_and_anchors() {
    let c = cfg(&format!(
        "x-keys:\n  a: &a {{age: [{ALICE}]}}\n  b: &b\n    age: [{BOB}]\ncreation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - merge: [*a, *b]\n        age: [{ALICE}]\n      - *b\n      - age: [{CAROL}]\n        pgp: [FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4]\n"
    ));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let r = &c.rules[0];
    assert_eq!(r.shamir_threshold, Some(2));
    assert_eq!(
        ages(r),
        vec![
            vec![ALICE.to_string(), BOB.to_string()],
            vec![BOB.to_string()],
            vec![CAROL.to_string()]
        ]
    );
    assert_eq!(
        r.key_groups[2][1],
        KeySpec::Pgp("FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4".into())
    );
    assert_eq!(r.non_age_keys().len(), 1);
}

#[test]
fn flat_keys_are_ignored_next_to_key_groups() {
    let c = cfg(&format!(
        "creation_rules:\n  - age: {ALICE}\n    key_groups:\n      - age: [{BOB}]\n"
    ));
    assert_eq!(ages(&c.rules[0]), vec![vec![BOB.to_string()]]);
    assert_eq!(c.warnings.len(), 1);
    assert!(
        c.warnings[0].starts_with("/repo/.sops-like.yaml:2: "),
        "{:?}",
        c.warnings
    );
    assert!(
        c.warnings[0].contains("`age` is ignored"),
        "{:?}",
        c.warnings
    );
}

#[test]
fn merge_keys_in_rules() {
    let c = cfg(&format!(
        "x-base: &base\n  age: {ALICE}\n  encrypted_regex: ^data$\ncreation_rules:\n  - <<: *base\n    path_regex: a\n  - <<: *base\n    age: {BOB}\n"
    ));
    assert_eq!(ages(&c.rules[0]), vec![vec![ALICE.to_string()]]);
    assert_eq!(
        c.rules[0].selector,
        Some(Selector::EncryptedRegex("^data$".into()))
    );
    // Explicit keys win over merged ones.
    assert_eq!(ages(&c.rules[1]), vec![vec![BOB.to_string()]]);
}

#[test]
fn other_key_kinds_are_parsed_and_carried() {
    let c = cfg(
        "creation_rules:\n  - kms: 'arn:aws:kms:us-east-1:111:key/abc+arn:aws:iam::111:role/r, arn:aws:kms:eu-west-1:111:key/def'\n    aws_profile: dev\n    gcp_kms: projects/p/locations/global/keyRings/r/cryptoKeys/k\n    azure_keyvault: https://v.vault.azure.net/keys/k/0123\n    hc_vault_transit_uri: https://vault.example.org:8200/v1/transit/keys/k\n    pgp: 85D77543B3D624B63CEA9E6DBC17301B491B3F21\n    hckms: tr-west-1:abc\n",
    );
    let g = &c.rules[0].key_groups[0];
    assert_eq!(
        g[0],
        KeySpec::Kms {
            arn: "arn:aws:kms:us-east-1:111:key/abc".into(),
            role: Some("arn:aws:iam::111:role/r".into()),
            context: vec![],
            aws_profile: Some("dev".into())
        }
    );
    assert!(matches!(&g[1], KeySpec::Kms { role: None, .. }));
    assert_eq!(
        g[2],
        KeySpec::GcpKms("projects/p/locations/global/keyRings/r/cryptoKeys/k".into())
    );
    assert_eq!(
        g[3],
        KeySpec::AzureKv {
            vault_url: "https://v.vault.azure.net".into(),
            key: "k".into(),
            version: "0123".into()
        }
    );
    assert_eq!(g[3].id(), "https://v.vault.azure.net/keys/k/0123");
    assert_eq!(g[4].kind(), "hc_vault");
    assert_eq!(g[5].kind(), "pgp");
    assert_eq!(g[6], KeySpec::Hckms("tr-west-1:abc".into()));
    let groups = cfg(
        "creation_rules:\n  - key_groups:\n      - kms:\n          - arn: arn:aws:kms:us-east-1:111:key/abc\n            role: arn:aws:iam::111:role/r\n            context: {app: web, env: prod}\n            aws_profile: p\n        gcp_kms:\n          - resource_id: projects/p/locations/global/keyRings/r/cryptoKeys/k\n        azure_keyvault:\n          - vaultUrl: https://v.vault.azure.net\n            key: k\n            version: v1\n        hc_vault: [https://vault:8200/v1/transit/keys/k]\n        hckms:\n          - key_id: tr-west-1:abc\n",
    );
    let g = &groups.rules[0].key_groups[0];
    assert_eq!(g.len(), 5);
    assert!(
        matches!(&g[0], KeySpec::Kms { context, .. } if context == &vec![("app".to_string(), "web".to_string()), ("env".to_string(), "prod".to_string())])
    );
    assert_eq!(g[2].id(), "https://v.vault.azure.net/keys/k/v1");
    assert_eq!(
        g[0].id(),
        "arn:aws:kms:us-east-1:111:key/abc+arn:aws:iam::111:role/r|app:web,env:prod|p"
    );
}

/// A Vault transit URI with one trailing `/` is accepted, as sops accepts
/// it (rejecting it failed every command reading the config).
#[test]
fn vault_transit_uri_with_a_trailing_slash() {
    let c = cfg("creation_rules:\n  - path_regex: only\n    hc_vault_transit_uri: http://127.0.0.1:8200/v1/transit/keys/k1/\n");
    assert_eq!(c.rules[0].key_groups[0].len(), 1);
    assert_eq!(c.rules[0].key_groups[0][0].kind(), "hc_vault");
    let m = err("creation_rules:\n  - hc_vault_transit_uri: http://h/v1/transit/keys/k1//\n");
    assert!(m.contains("is not a Vault transit URI"), "{m}");
}

/// Two `kms` entries for one ARN with different contexts are two keys (sops
/// deduplicates on `ARN+ROLE|context|profile`); an exact repeat is one.
#[test]
fn kms_entries_differ_by_context_and_profile() {
    let c = cfg("creation_rules:\n  - key_groups:\n      - kms:\n          - arn: arn:aws:kms:us-east-1:111:key/abc\n          - arn: arn:aws:kms:us-east-1:111:key/abc\n            context: {x: y}\n          - arn: arn:aws:kms:us-east-1:111:key/abc\n            context: {x: y}\n          - arn: arn:aws:kms:us-east-1:111:key/abc\n            aws_profile: p\n");
    assert_eq!(c.rules[0].key_groups[0].len(), 3);
}

#[test]
fn selectors_cipher_and_mac_only() {
    let c = cfg(&format!(
        "creation_rules:\n  - age: {ALICE}\n    unencrypted_comment_regex: 'sops:clear'\n    mac_only_encrypted: true\n    cipher: aes256_gcm\n  - age: {ALICE}\n    encrypted_suffix: _secret\n    unencrypted_suffix: ''\n    cipher: XCHACHA20-POLY1305\n"
    ));
    let (a, b) = (&c.rules[0], &c.rules[1]);
    assert_eq!(
        a.selector,
        Some(Selector::UnencryptedCommentRegex("sops:clear".into()))
    );
    assert!(a.mac_only_encrypted);
    assert_eq!(a.cipher, Some(CipherKind::Aes256Gcm));
    assert_eq!(
        b.selector,
        Some(Selector::EncryptedSuffix("_secret".into()))
    );
    assert!(!b.mac_only_encrypted);
    assert_eq!(b.cipher, Some(CipherKind::XChaCha20Poly1305));
}

#[test]
fn default_cipher_precedence() {
    let text = format!("creation_rules:\n  - path_regex: a\n    age: {ALICE}\n  - path_regex: b\n    age: {ALICE}\n    cipher: xchacha20_poly1305\n  - age: {ALICE}\n    cipher: aes256_gcm\n");
    let ours = cfg_kind(ConfigKind::SopsLike, &text).unwrap();
    let sops = cfg_kind(ConfigKind::Sops, &text).unwrap();
    assert_eq!(
        ours.default_cipher(&ours.rules[0]),
        CipherKind::XChaCha20Poly1305
    );
    assert_eq!(sops.default_cipher(&sops.rules[0]), CipherKind::Aes256Gcm);
    assert_eq!(
        sops.default_cipher(&sops.rules[1]),
        CipherKind::XChaCha20Poly1305
    );
    assert_eq!(ours.default_cipher(&ours.rules[2]), CipherKind::Aes256Gcm);
    assert_eq!(ours.fallback_cipher(), CipherKind::XChaCha20Poly1305);
    assert_eq!(sops.fallback_cipher(), CipherKind::Aes256Gcm);
}

#[test]
fn config_kind_from_the_file_name() {
    assert_eq!(
        ConfigKind::from_path(Path::new("/r/.sops.yaml")),
        ConfigKind::Sops
    );
    assert_eq!(
        ConfigKind::from_path(Path::new("/r/.sops-like.yaml")),
        ConfigKind::SopsLike
    );
    assert_eq!(
        ConfigKind::from_path(Path::new("ci/sops-like.yaml")),
        ConfigKind::SopsLike
    );
    assert_eq!(
        ConfigKind::from_path(Path::new("ci/other.yaml")),
        ConfigKind::Sops
    );
}

#[test]
fn shamir_threshold_rules() {
    let groups = format!(
        "    key_groups:\n      - age: [{ALICE}]\n      - age: [{BOB}]\n      - age: [{CAROL}]\n"
    );
    let ok = cfg(&format!(
        "creation_rules:\n  - shamir_threshold: 3\n{groups}"
    ));
    assert_eq!(ok.rules[0].shamir_threshold, Some(3));
    // 0 means "unset" (all groups), as in sops.
    let zero = cfg(&format!(
        "creation_rules:\n  - shamir_threshold: 0\n{groups}"
    ));
    assert_eq!(zero.rules[0].shamir_threshold, None);
    let m = err(&format!(
        "creation_rules:\n  - shamir_threshold: 1\n{groups}"
    ));
    assert!(m.contains(":2:23: ") && m.contains("at least 2"), "{m}");
    let m = err(&format!(
        "creation_rules:\n  - shamir_threshold: 4\n{groups}"
    ));
    assert!(
        m.contains(":2:23: ") && m.contains("only 3 key groups"),
        "{m}"
    );
    // One group: no Shamir split; sops ignores the threshold, we warn.
    let one = cfg(&format!(
        "creation_rules:\n  - shamir_threshold: 2\n    age: {ALICE}\n"
    ));
    assert_eq!(one.rules[0].shamir_threshold, None);
    assert_eq!(one.warnings.len(), 1, "{:?}", one.warnings);
    assert!(
        one.warnings[0]
            .starts_with("/repo/.sops-like.yaml:2: creation rule 1: shamir_threshold is ignored"),
        "{:?}",
        one.warnings
    );
    let m = err(&format!(
        "creation_rules:\n  - shamir_threshold: '2'\n{groups}"
    ));
    assert!(m.contains("must be an integer, not a string"), "{m}");
    // An empty key_groups is no key_groups (sops: `len(KeyGroups) > 0`):
    // the flat keys apply, with a warning.
    let empty = cfg(&format!(
        "creation_rules:\n  - key_groups: []\n    age: {ALICE}\n"
    ));
    assert_eq!(ages(&empty.rules[0]), vec![vec![ALICE.to_string()]]);
    assert_eq!(empty.warnings.len(), 1, "{:?}", empty.warnings);
    assert!(empty.warnings[0].contains("key_groups is empty; the rule's flat keys are used"));
    let none = cfg("creation_rules:\n  - key_groups: []\n");
    assert!(none.rules[0].key_groups.is_empty());
    let m = err(&format!(
        "creation_rules:\n  - key_groups:\n      - age: [{ALICE}]\n      - {{}}\n"
    ));
    assert!(m.contains("key group 2 has no keys"), "{m}");
}

// ---- named recipients ----

#[test]
fn named_recipients_resolve_to_real_recipients() {
    let c = cfg(&format!(
        "recipients:\n  alice: {ALICE}\n  bob: {BOB}\n  deploy: {SSH}\n  team: [alice, bob]\n  all: [team, deploy, {CAROL}]\ncreation_rules:\n  - path_regex: a\n    age: [alice, bob]\n  - path_regex: b\n    age: team,deploy\n  - path_regex: c\n    key_groups:\n      - age: [all]\n  - age: {ALICE}\n"
    ));
    assert_eq!(c.recipients.len(), 5);
    assert_eq!(
        c.recipient("team").unwrap().recipients,
        vec![ALICE.to_string(), BOB.to_string()]
    );
    assert_eq!(c.recipient("deploy").unwrap().line, 4);
    assert_eq!(
        ages(&c.rules[0]),
        vec![vec![ALICE.to_string(), BOB.to_string()]]
    );
    assert_eq!(
        ages(&c.rules[1]),
        vec![vec![ALICE.to_string(), BOB.to_string(), SSH.to_string()]]
    );
    assert_eq!(
        ages(&c.rules[2]),
        vec![vec![
            ALICE.to_string(),
            BOB.to_string(),
            SSH.to_string(),
            CAROL.to_string()
        ]]
    );
    assert!(c.rules[0].uses_named_recipients);
    assert!(!c.rules[3].uses_named_recipients);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn named_recipients_in_a_sops_config_warn() {
    let text = format!(
        "recipients:\n  alice: {ALICE}\ncreation_rules:\n  - path_regex: x\n    age: [alice]\n"
    );
    let c = cfg_kind(ConfigKind::Sops, &text).unwrap();
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(
        c.warnings[0].starts_with("/repo/.sops-like.yaml:4: creation rule 1 names recipients"),
        "{:?}",
        c.warnings
    );
}

#[test]
fn named_recipient_errors() {
    let m = err(&format!(
        "recipients:\n  alice: {ALICE}\ncreation_rules:\n  - age: [alice, mallory]\n"
    ));
    assert!(m.starts_with("/repo/.sops-like.yaml:4:"), "{m}");
    assert!(m.contains("`mallory` is neither a named recipient"), "{m}");
    let m = err("recipients:\n  a: [b]\n  b: [a]\n");
    assert!(m.contains("refers to itself"), "{m}");
    let m = err(&format!("recipients:\n  {ALICE}: {ALICE}\n"));
    assert!(m.contains("cannot be a name"), "{m}");
    let m = err("recipients:\n  alice: bob\n");
    assert!(
        m.contains(":2:10: ") && m.contains("`bob` is neither"),
        "{m}"
    );
    let m = err("recipients:\n  alice:\n");
    assert!(m.contains("has no recipient"), "{m}");
    // A recipient-shaped string with a bad checksum.
    let m = err("creation_rules:\n  - age: age1xksg0j7xz6au3772au4papt5wnqq2llx9adm2pmjsanknhc2neps05glmz\n");
    assert!(
        m.contains(":2:10: creation rule 1: age: invalid age recipient"),
        "{m}"
    );
    let m = err("recipients: [a, b]\n");
    assert!(
        m.contains("recipients must be a mapping, not a list"),
        "{m}"
    );
    // Plugin recipients are carried unchecked.
    let c = cfg("creation_rules:\n  - age: age1yubikey1qgqqqqqqqqqqqqqqqqqqqq\n");
    assert_eq!(
        ages(&c.rules[0]),
        vec![vec!["age1yubikey1qgqqqqqqqqqqqqqqqqqqqq".to_string()]]
    );
}

// ---- errors and warnings ----

#[test]
fn structural_errors_name_file_line_and_column() {
    let m = err("creation_rules:\n  path_regex: x\n");
    assert!(
        m.starts_with("/repo/.sops-like.yaml:2:15: creation_rules must be a list"),
        "{m}"
    );
    let m = err(&format!("creation_rules:\n  - {ALICE}\n"));
    assert!(
        m.starts_with("/repo/.sops-like.yaml:2:5: creation rule 1 must be a mapping"),
        "{m}"
    );
    let m = err(&format!(
        "creation_rules:\n  - age: {ALICE}\n  - path_regex: ^a(\n"
    ));
    assert!(m.starts_with("/repo/.sops-like.yaml:3:17: creation rule 2: path_regex is not a valid regular expression"), "{m}");
    assert!(!m.contains('\n'), "{m}");
    let m = err(&format!(
        "creation_rules:\n  - age: {ALICE}\n    encrypted_regex: '[z-a]'\n"
    ));
    assert!(
        m.contains(":3:22: ") && m.contains("encrypted_regex is not a valid regular expression"),
        "{m}"
    );
    let m = err(&format!(
        "creation_rules:\n  - age: {ALICE}\n    unencrypted_suffix: _u\n    encrypted_regex: ^a$\n"
    ));
    assert!(
        m.contains(":4:5: ")
            && m.contains("only one of")
            && m.contains("`unencrypted_suffix` is set too"),
        "{m}"
    );
    let m = err(&format!(
        "creation_rules:\n  - age: {ALICE}\n    cipher: rot13\n"
    ));
    assert!(
        m.contains(":3:13: ") && m.contains("unknown cipher `rot13`"),
        "{m}"
    );
    let m = err(&format!(
        "creation_rules:\n  - age: {ALICE}\n    mac_only_encrypted: enabled\n"
    ));
    assert!(
        m.contains(":3:25: ") && m.contains("must be true or false, not a string"),
        "{m}"
    );
    let m = err("creation_rules:\n  - age: {a: b}\n");
    assert!(
        m.contains("must be a comma-separated string or a list, not a mapping"),
        "{m}"
    );
    let m = err("creation_rules:\n  - age: [[x]]\n");
    assert!(
        m.contains("each element must be a string, not a list"),
        "{m}"
    );
    let m = err(&format!(
        "creation_rules:\n  - age: {ALICE}\n    age: {BOB}\n"
    ));
    assert!(
        m.contains(":3:5: ") && m.contains("the key `age` appears twice"),
        "{m}"
    );
    let m = err("creation_rules:\n  - key_groups: {age: x}\n");
    assert!(
        m.contains("key_groups must be a list, not a mapping"),
        "{m}"
    );
    let m = err("creation_rules:\n  - key_groups:\n      - kms:\n          - role: r\n");
    assert!(m.contains("`arn` is missing"), "{m}");
    let m = err("creation_rules:\n  - azure_keyvault: http://v/keys/k\n");
    assert!(m.contains("is not a key URL"), "{m}");
    let m = err("creation_rules:\n  - hc_vault_transit_uri: vault/transit\n");
    assert!(m.contains("is not a Vault transit URI"), "{m}");
    let m = err("- a\n- b\n");
    assert!(
        m.contains(":1:3: the config must be a mapping, not a list"),
        "{m}"
    );
}

#[test]
fn yaml_syntax_errors_name_the_file() {
    let m = err("creation_rules:\n  - path_regex: \"open\n    age: x\n");
    assert!(m.starts_with("/repo/.sops-like.yaml:"), "{m}");
    let pos: Vec<&str> = m.splitn(4, ':').collect();
    assert!(
        pos[1].parse::<usize>().is_ok() && pos[2].parse::<usize>().is_ok(),
        "{m}"
    );
}

#[test]
fn unknown_keys_warn_with_file_and_line() {
    let c = cfg(&format!(
        "creation_rules:\n  - age: {ALICE}\n    path_regexp: typo\n    key_groups:\n      - age: [{ALICE}]\n        agee: [x]\nreencryption_rule: x\nx-anchors: 1\ndestination_rules: []\nstores: {{yaml: {{indent: 2}}}}\n"
    ));
    assert_eq!(c.warnings.len(), 4, "{:#?}", c.warnings);
    assert!(
        c.warnings.iter().any(|w| w
            == "/repo/.sops-like.yaml:3: unknown key `path_regexp` in creation rule 1 (ignored)"),
        "{:#?}",
        c.warnings
    );
    assert!(
        c.warnings
            .iter()
            .any(|w| w.starts_with("/repo/.sops-like.yaml:6: unknown key `agee`")),
        "{:#?}",
        c.warnings
    );
    assert!(
        c.warnings
            .iter()
            .any(|w| w
                == "/repo/.sops-like.yaml:7: unknown top-level key `reencryption_rule` (ignored)"),
        "{:#?}",
        c.warnings
    );
}

// ---- files: the repo's own config, sops configs, fixtures ----

#[test]
fn the_repo_config_loads_cleanly_and_covers_testdata() {
    let path = repo_root().join(".sops-like.yaml");
    let c = load(&path).unwrap();
    assert!(c.warnings.is_empty(), "{:#?}", c.warnings);
    assert_eq!(c.kind, ConfigKind::SopsLike);
    let root = repo_root();
    let rule = |p: &str| c.find_rule(&root.join(p)).unwrap().map(|r| r.index);
    let groups = c
        .find_rule(&root.join("testdata/groups/db.yaml"))
        .unwrap()
        .unwrap();
    assert_eq!(groups.key_groups.len(), 3);
    assert_eq!(groups.shamir_threshold, Some(2));
    assert_eq!(ages(groups)[2], vec![CAROL.to_string(), SSH.to_string()]);
    let sops = c
        .find_rule(&root.join("testdata/sops/plain/a.yaml"))
        .unwrap()
        .unwrap();
    assert_eq!(c.default_cipher(sops), CipherKind::Aes256Gcm);
    assert!(!sops.uses_named_recipients);
    let env = c
        .find_rule(&root.join("testdata/dotenv/quoting.env"))
        .unwrap()
        .unwrap();
    assert_eq!(ages(env), vec![vec![ALICE.to_string(), BOB.to_string()]]);
    assert!(matches!(env.selector, Some(Selector::EncryptedRegex(_))));
    let toml = c
        .find_rule(&root.join("testdata/toml/x.toml"))
        .unwrap()
        .unwrap();
    assert!(toml.mac_only_encrypted);
    assert_eq!(rule("testdata/json/tabs.json"), Some(4));
    assert_eq!(c.default_cipher(&c.rules[4]), CipherKind::XChaCha20Poly1305);
    assert_eq!(rule("src/main.rs"), None);
}

#[test]
fn the_sops_test_configs_load() {
    let dir = repo_root().join("testdata/sops/config");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let c = load(&path).unwrap_or_else(|f| panic!("{}: {}", path.display(), f.message));
        assert_eq!(c.kind, ConfigKind::Sops);
        assert!(c.warnings.is_empty(), "{:#?}", c.warnings);
        assert_eq!(c.rules.len(), 1);
        n += 1;
    }
    assert!(n >= 5);
    let c = load(&dir.join("groups-shamir.yaml")).unwrap();
    assert_eq!(
        ages(&c.rules[0]),
        vec![
            vec![ALICE.to_string()],
            vec![BOB.to_string()],
            vec![CAROL.to_string()]
        ]
    );
}

#[test]
fn anchors_fixture() {
    let c = load(&repo_root().join("testdata/config/anchors.sops.yaml")).unwrap();
    assert!(c.warnings.is_empty(), "{:#?}", c.warnings);
    let r = &c.rules[0];
    assert_eq!(
        ages(r),
        vec![
            vec![ALICE.to_string(), BOB.to_string()],
            vec![CAROL.to_string()]
        ]
    );
    assert_eq!(
        r.selector,
        Some(Selector::UnencryptedSuffix("_plain".into()))
    );
    assert_eq!(
        c.find_rule(&repo_root().join("testdata/config/prod/x.yaml"))
            .unwrap()
            .map(|r| r.index),
        Some(0)
    );
    assert_eq!(
        c.find_rule(&repo_root().join("testdata/config/dev/x.yaml"))
            .unwrap()
            .map(|r| r.index),
        Some(1)
    );
}

#[test]
fn failing_fixtures() {
    let dir = repo_root().join("testdata/config");
    let cases = [
        ("fail_yaml_syntax.yaml", ""),
        (
            "fail_not_a_list.yaml",
            ":2:15: creation_rules must be a list",
        ),
        (
            "fail_rule_not_map.yaml",
            ":2:5: creation rule 1 must be a mapping",
        ),
        (
            "fail_bad_regex.yaml",
            ":2:17: creation rule 1: path_regex is not a valid regular expression",
        ),
        (
            "fail_two_selectors.yaml",
            ":4:5: creation rule 1: only one of",
        ),
        ("fail_cipher.yaml", ":3:13: creation rule 1: unknown cipher"),
        (
            "fail_threshold.yaml",
            ":2:23: creation rule 1: shamir_threshold is 3 but the rule has only 2 key groups",
        ),
        (
            "fail_unknown_name.yaml",
            ":4:18: creation rule 1: age: `mallory` is neither",
        ),
        (
            "fail_mac_only_type.yaml",
            ":3:25: creation rule 1: mac_only_encrypted must be true or false",
        ),
    ];
    for (name, expected) in cases {
        let path = dir.join(name);
        let f = load(&path).err().unwrap_or_else(|| panic!("{name} loaded"));
        assert_eq!(f.code, code::GENERIC, "{name}");
        let prefix = format!("{}{expected}", path.display());
        assert!(f.message.starts_with(&prefix), "{name}: {}", f.message);
    }
}

// ---- discovery ----

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn discovery_walks_up_and_prefers_sops_like() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let deep = root.join("a/b/c");
    std::fs::create_dir_all(&deep).unwrap();
    assert!(discover(&deep, None).unwrap().is_none());

    write(&root.join(".sops.yaml"), "creation_rules: []\n");
    let c = discover(&deep, None).unwrap().unwrap();
    assert_eq!(c.path, root.join(".sops.yaml"));
    assert_eq!(c.kind, ConfigKind::Sops);
    assert_eq!(c.dir, absolute(root).unwrap());

    write(&root.join(".sops-like.yaml"), "creation_rules: []\n");
    assert_eq!(
        discover(&deep, None).unwrap().unwrap().path,
        root.join(".sops-like.yaml")
    );

    // A nearer .sops.yaml wins over a farther .sops-like.yaml.
    write(&root.join("a/.sops.yaml"), "creation_rules: []\n");
    let c = discover(&deep, None).unwrap().unwrap();
    assert_eq!(c.path, root.join("a/.sops.yaml"));

    // .sops.yml is ignored, with a warning.
    write(&root.join("a/b/.sops.yml"), "creation_rules: []\n");
    let c = discover(&deep, None).unwrap().unwrap();
    assert_eq!(c.path, root.join("a/.sops.yaml"));
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(
        c.warnings[0].contains(".sops.yml: ignored"),
        "{:?}",
        c.warnings
    );
    let (found, warnings) = find_config_path(&deep);
    assert_eq!(found, Some(root.join("a/.sops.yaml")));
    assert_eq!(warnings.len(), 1);
}

#[test]
fn explicit_config_skips_the_search() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(&root.join(".sops-like.yaml"), "creation_rules: []\n");
    write(
        &root.join("conf/team.yaml"),
        "creation_rules:\n  - path_regex: x\n",
    );
    let c = discover(root, Some(&root.join("conf/team.yaml")))
        .unwrap()
        .unwrap();
    assert_eq!(c.path, root.join("conf/team.yaml"));
    assert_eq!(c.dir, absolute(&root.join("conf")).unwrap());
    assert_eq!(c.rules.len(), 1);
    let f = discover(root, Some(&root.join("missing.yaml"))).unwrap_err();
    assert_eq!(f.code, code::GENERIC);
    assert!(f.message.contains("missing.yaml"));
    // A directory, or invalid UTF-8: unreadable config (5).
    assert_eq!(load(&root.join("conf")).unwrap_err().code, code::GENERIC);
    std::fs::write(root.join("bad.yaml"), b"creation_rules: \xff\n").unwrap();
    assert_eq!(
        load(&root.join("bad.yaml")).unwrap_err().code,
        code::GENERIC
    );
}

#[test]
fn an_invalid_discovered_config_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join(".sops.yaml"), "creation_rules: 3\n");
    let f = discover(tmp.path(), None).unwrap_err();
    assert_eq!(f.code, code::GENERIC);
    assert!(
        f.message
            .contains(".sops.yaml:1:17: creation_rules must be a list"),
        "{}",
        f.message
    );
}

#[test]
fn clean_paths() {
    assert_eq!(clean(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    assert_eq!(clean(Path::new("/../a")), PathBuf::from("/a"));
    assert_eq!(clean(Path::new("a/../../b")), PathBuf::from("../b"));
}

// ---- key groups end to end (with the keys crate) ----

fn group_recipients(rule: &Rule) -> Vec<Vec<sops_like_keys::Recipient>> {
    rule.age_groups()
        .iter()
        .map(|g| {
            g.iter()
                .map(|r| sops_like_keys::Recipient::parse(r).unwrap())
                .collect()
        })
        .collect()
}

fn identities(files: &[&str]) -> sops_like_keys::Identities {
    let mut ids = sops_like_keys::Identities::new();
    for f in files {
        let path = repo_root().join("testdata/keys").join(f);
        if f.starts_with("id_") {
            ids.add_ssh_key_file(&path, true).unwrap();
        } else {
            ids.add_file(&path, true).unwrap();
        }
    }
    ids
}

#[test]
fn repo_key_groups_open_with_two_of_three() {
    let c = load(&repo_root().join(".sops-like.yaml")).unwrap();
    let rule = c
        .find_rule(&repo_root().join("testdata/groups/app.yaml"))
        .unwrap()
        .unwrap();
    let key = sops_like_keys::DataKey::generate().unwrap();
    let wrapped =
        sops_like_keys::encrypt_data_key(&key, &group_recipients(rule), rule.shamir_threshold)
            .unwrap();
    assert_eq!(wrapped.len(), 3);
    for pair in [
        &["age-test.txt", "age-test-2.txt"][..],
        &["age-test-2.txt", "age-test-3.txt"],
        &["age-test.txt", "id_ed25519"],
    ] {
        let got =
            sops_like_keys::decrypt_data_key(&wrapped, rule.shamir_threshold, &identities(pair))
                .unwrap_or_else(|e| panic!("{pair:?}: {e}"));
        assert_eq!(got.as_bytes(), key.as_bytes(), "{pair:?}");
    }
    for one in ["age-test.txt", "age-test-3.txt", "id_ed25519"] {
        let ids = identities(&[one]);
        assert!(
            sops_like_keys::decrypt_data_key(&wrapped, rule.shamir_threshold, &ids).is_err(),
            "{one} alone opened a 2-of-3 file"
        );
    }
}

// ---- properties ----

mod props {
    use super::*;
    use proptest::prelude::*;

    fn segment() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_.+()\\[\\]$^ -]{1,8}".prop_filter("not . or ..", |s| s != "." && s != "..")
    }

    proptest! {
        /// A rule whose path_regex is the escaped relative path matches
        /// exactly that file, wherever the file is below the config dir.
        #[test]
        fn escaped_relative_path_matches(segs in proptest::collection::vec(segment(), 1..5), other in segment()) {
            let rel = segs.join("/");
            let text = format!(
                "creation_rules:\n  - path_regex: '^{}$'\n    age: {ALICE}\n",
                regex::escape(&rel).replace('\'', "''")
            );
            let c = cfg(&text);
            let file = PathBuf::from("/repo").join(&rel);
            prop_assert_eq!(c.match_path(&file).unwrap(), rel.clone());
            prop_assert!(c.find_rule(&file).unwrap().is_some());
            let moved = PathBuf::from("/repo").join(&other).join(&rel);
            prop_assert!(c.find_rule(&moved).unwrap().is_none());
        }

        /// Arbitrary config-like text never panics; errors always name the
        /// file and a line:column, with exit code 5.
        #[test]
        fn arbitrary_text_never_panics(
            parts in proptest::collection::vec(prop_oneof![
                Just("creation_rules:\n".to_string()),
                Just("recipients:\n".to_string()),
                Just("  - ".to_string()),
                Just("    ".to_string()),
                Just("age: ".to_string()),
                Just("key_groups:\n".to_string()),
                Just("shamir_threshold: ".to_string()),
                Just("path_regex: ".to_string()),
                Just("merge: ".to_string()),
                Just("cipher: ".to_string()),
                Just("encrypted_regex: ".to_string()),
                Just(ALICE.to_string()),
                Just("alice".to_string()),
                Just("alice: ".to_string()),
                Just("&a ".to_string()),
                Just("*a".to_string()),
                Just("[".to_string()),
                Just("]".to_string()),
                Just("{".to_string()),
                Just("}".to_string()),
                Just(", ".to_string()),
                Just("2".to_string()),
                Just("(".to_string()),
                Just("\n".to_string()),
                Just("# c\n".to_string()),
                "[ -~]{0,6}",
            ], 0..40)
        ) {
            let text: String = parts.concat();
            if let Err(f) = cfg_kind(ConfigKind::SopsLike, &text) {
                prop_assert_eq!(f.code, code::GENERIC);
                let rest = f.message.strip_prefix("/repo/.sops-like.yaml:").unwrap_or("");
                let mut it = rest.splitn(3, ':');
                let line = it.next().and_then(|l| l.parse::<usize>().ok());
                let col = it.next().and_then(|l| l.parse::<usize>().ok());
                prop_assert!(line.is_some() && col.is_some(), "{}", f.message);
            }
        }
    }
}

#[test]
fn crlf_bom_and_recipients_after_rules() {
    let text = format!(
        "\u{feff}creation_rules:\r\n  - path_regex: a\r\n    age: [alice]\r\n  - cipher: nope\r\nrecipients:\r\n  alice: {ALICE}\r\n"
    );
    let m = err(&text);
    assert!(
        m.starts_with("/repo/.sops-like.yaml:4:13: creation rule 2: unknown cipher"),
        "{m}"
    );
    let ok = cfg(&text.replace("nope", "aes256_gcm"));
    assert_eq!(ages(&ok.rules[0]), vec![vec![ALICE.to_string()]]);
}

// ---- destination_rules (publish) ----

#[test]
fn destination_rules_parse_with_sops_defaults() {
    let c = cfg(&format!(
        "recipients:\n  bob: {BOB}\ndestination_rules:\n  - path_regex: ^s3/\n    s3_bucket: bkt\n    s3_prefix: pre/\n    recreation_rule:\n      age: [bob]\n  - path_regex: gcs\n    gcs_bucket: g\n    gcs_prefix: p/\n    omit_extensions: true\n  - vault_path: app\n    vault_kv_mount_name: kv\n    vault_kv_version: 1\n    vault_address: http://127.0.0.1:8200\n  - vault_path: other/\n"
    ));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.destination_rules.len(), 4);
    let s3 = &c.destination_rules[0];
    assert_eq!(
        s3.destination().unwrap(),
        Some(Destination::S3 {
            bucket: "bkt".into(),
            prefix: "pre/".into()
        })
    );
    let recreation = s3.recreation().unwrap();
    assert_eq!(ages(recreation), vec![vec![BOB.to_string()]]);
    assert!(!s3.omit_extensions);
    let gcs = &c.destination_rules[1];
    assert!(gcs.omit_extensions && gcs.recreation().is_none());
    assert_eq!(
        gcs.destination().unwrap().unwrap().describe("a.yaml", ""),
        "gcs://g/p/a.yaml"
    );
    // vault_path and the mount get a trailing slash; version 1 has no data/.
    let Some(Destination::Vault(v1)) = c.destination_rules[2].destination().unwrap() else {
        panic!("not a Vault destination")
    };
    assert_eq!(v1.address.as_deref(), Some("http://127.0.0.1:8200"));
    assert_eq!(v1.secret_path("f.yaml"), "kv/app/f.yaml");
    // Defaults: mount secret/, KV version 2, address from the environment.
    let Some(Destination::Vault(v2)) = c.destination_rules[3].destination().unwrap() else {
        panic!("not a Vault destination")
    };
    assert_eq!(v2.address, None);
    assert_eq!(v2.secret_path("f.yaml"), "secret/data/other/f.yaml");
    assert_eq!(
        Destination::Vault(v2).describe("f.yaml", "http://v:8200"),
        "http://v:8200/v1/secret/data/other/f.yaml"
    );
}

#[test]
fn destination_rules_match_the_path_as_given_first_match_wins() {
    let c = cfg("destination_rules:\n  - path_regex: ^prod/\n    s3_bucket: a\n  - path_regex: \\.json$\n    s3_bucket: b\n  - s3_bucket: c\n");
    let bucket = |p: &str| match c
        .find_destination_rule(p)
        .unwrap()
        .unwrap()
        .destination()
        .unwrap()
    {
        Some(Destination::S3 { bucket, .. }) => bucket,
        other => panic!("{other:?}"),
    };
    assert_eq!(bucket("prod/x.json"), "a");
    // Not made relative to the config's directory (as sops).
    assert_eq!(bucket("/repo/prod/x.json"), "b");
    assert_eq!(bucket("dev/x.yaml"), "c");
    let none = cfg("destination_rules:\n  - path_regex: ^prod/\n    s3_bucket: a\n");
    assert!(none.find_destination_rule("dev/x.yaml").unwrap().is_none());
    assert!(cfg("creation_rules: []\n")
        .find_destination_rule("x")
        .unwrap()
        .is_none());
}

#[test]
fn two_destinations_in_a_rule_fail_only_when_the_rule_is_used() {
    let c = cfg("destination_rules:\n  - path_regex: both\n    s3_bucket: a\n    vault_path: v\n  - path_regex: none\n    s3_prefix: p/\n  - gcs_bucket: g\n");
    let e = c
        .find_destination_rule("both.yaml")
        .unwrap()
        .unwrap()
        .destination()
        .unwrap_err();
    assert!(e.contains("more than one destination"), "{e}");
    assert_eq!(
        c.find_destination_rule("none.yaml")
            .unwrap()
            .unwrap()
            .destination()
            .unwrap(),
        None
    );
    assert!(c
        .find_destination_rule("x.yaml")
        .unwrap()
        .unwrap()
        .destination()
        .unwrap()
        .is_some());
}

#[test]
fn destination_rule_errors_name_the_line() {
    let m = err("destination_rules:\n  - s3_bucket: a\n    path_regex: '('\n");
    assert!(
        m.starts_with("/repo/.sops-like.yaml:3:17: destination rule 1: path_regex is not a valid regular expression"),
        "{m}"
    );
    let m = err("destination_rules:\n  - s3_bucket: [a]\n");
    assert!(
        m.contains("destination rule 1: s3_bucket must be a string"),
        "{m}"
    );
    let m = err("destination_rules:\n  - vault_path: a\n    vault_kv_version: two\n");
    assert!(m.contains("vault_kv_version must be an integer"), "{m}");
    let m = err("destination_rules:\n  - s3_bucket: a\n    recreation_rule:\n      cipher: nope\n");
    assert!(
        m.contains("destination rule 1: recreation_rule: unknown cipher"),
        "{m}"
    );
    let m = err("destination_rules: x\n");
    assert!(m.contains("destination_rules must be a list"), "{m}");
    let c = cfg("destination_rules:\n  - s3_bucket: a\n    s3_region: x\n");
    assert!(
        c.warnings[0].contains("unknown key `s3_region` in destination rule 1"),
        "{:?}",
        c.warnings
    );
}

#[test]
fn a_recreation_rule_without_keys_uploads_the_file_as_it_is() {
    let c = cfg("destination_rules:\n  - s3_bucket: a\n    recreation_rule:\n      unencrypted_suffix: _plain\n");
    let r = &c.destination_rules[0];
    assert!(r.recreation_rule.is_some());
    assert!(r.recreation().is_none());
}

/// yaml.v3 (sops's YAML library) reads the YAML 1.1 booleans into a Go
/// `bool`, quoted or not: so do `mac_only_encrypted` and `omit_extensions`.
#[test]
fn yaml_1_1_booleans_in_bool_fields() {
    for (text, want) in [
        ("yes", true),
        ("Yes", true),
        ("YES", true),
        ("y", true),
        ("Y", true),
        ("on", true),
        ("On", true),
        ("ON", true),
        ("'yes'", true),
        ("\"on\"", true),
        ("no", false),
        ("N", false),
        ("Off", false),
        ("OFF", false),
        ("'n'", false),
        ("true", true),
        ("false", false),
    ] {
        let c = cfg(&format!(
            "creation_rules:\n  - mac_only_encrypted: {text}\n    age: {ALICE}\ndestination_rules:\n  - s3_bucket: b\n    omit_extensions: {text}\n"
        ));
        assert_eq!(c.rules[0].mac_only_encrypted, want, "{text}");
        assert_eq!(c.destination_rules[0].omit_extensions, want, "{text}");
    }
    for text in ["'true'", "1", "yess", "oN", "enabled"] {
        let m = err(&format!(
            "creation_rules:\n  - mac_only_encrypted: {text}\n    age: {ALICE}\n"
        ));
        assert!(m.contains("must be true or false"), "{text}: {m}");
    }
}

#[test]
fn empty_rule_and_group_entries_are_skipped_as_in_sops() {
    let c = cfg(&format!(
        "creation_rules:\n  -\n  - path_regex: a\n    key_groups:\n      -\n      - age: [{ALICE}]\n  - age: {BOB}\n"
    ));
    assert_eq!(c.rules.len(), 2);
    assert_eq!(ages(&c.rules[0]), vec![vec![ALICE.to_string()]]);
    assert_eq!(ages(&c.rules[1]), vec![vec![BOB.to_string()]]);
    assert_eq!(
        rule_for(&c, "a.yaml").map(ages),
        Some(vec![vec![ALICE.to_string()]])
    );
    assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
    assert!(
        c.warnings[0].contains("creation rule 1 is empty"),
        "{:?}",
        c.warnings
    );
    assert!(
        c.warnings[1].contains("key group 1 is empty"),
        "{:?}",
        c.warnings
    );
}

/// A float with no fractional part is the integer, as go-yaml decodes it
/// into sops's `int` fields; any other float is refused.
#[test]
fn whole_floats_are_integers() {
    let c = cfg("destination_rules:\n  - vault_path: a\n    vault_kv_version: 1.0\n");
    assert_eq!(c.destination_rules[0].vault_kv_version, 1);
    let Some(Destination::Vault(v)) = c.destination_rules[0].destination().unwrap() else {
        panic!("not a Vault destination")
    };
    assert_eq!(v.version, 1);
    let groups = format!("    key_groups:\n      - age: [{ALICE}]\n      - age: [{BOB}]\n");
    let two = cfg(&format!(
        "creation_rules:\n  - shamir_threshold: 2.0\n{groups}"
    ));
    assert_eq!(two.rules[0].shamir_threshold, Some(2));
    let m = err("destination_rules:\n  - vault_path: a\n    vault_kv_version: 1.5\n");
    assert!(m.contains("must be an integer"), "{m}");
    let m = err(&format!(
        "creation_rules:\n  - shamir_threshold: .inf\n{groups}"
    ));
    assert!(m.contains("must be an integer"), "{m}");
}
