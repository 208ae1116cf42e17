//! Engine-level properties with real cryptography, for every format:
//! `decrypt(encrypt(x)) == x` byte for byte, and no plaintext value appears
//! in the encrypted text. Inputs: the fixture corpus under `testdata/<fmt>/`
//! and generated trees written by each format's emitter.

mod common;

use common::{keys, KEY, NOW};
use proptest::prelude::*;
use sops_like_format::cipher::CipherKind;
use sops_like_format::engine::{self, EncryptOptions};
use sops_like_format::{Format, Item, Node, Tree, Value};
use std::path::PathBuf;

fn roundtrip(format: Format, src: &str, cipher: CipherKind) -> Result<String, String> {
    let opts = EncryptOptions {
        cipher,
        ..EncryptOptions::default()
    };
    let enc = engine::encrypt(format, src, &KEY, &opts, keys(), NOW)
        .map_err(|e| format!("encrypt: {e}"))?;
    let file = engine::open(format, &enc).map_err(|e| format!("open: {e}\n{enc}"))?;
    let dec = engine::decrypt(&file, &KEY, false).map_err(|e| format!("decrypt: {e}\n{enc}"))?;
    if cipher == CipherKind::XChaCha20Poly1305 && dec.as_str() != src {
        return Err(format!(
            "not byte-exact\n--- in ---\n{src:?}\n--- enc ---\n{enc}\n--- out ---\n{:?}",
            dec.as_str()
        ));
    }
    Ok(enc)
}

fn corpus(dir: &str) -> Vec<(PathBuf, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(dir);
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&root) {
        for e in entries.flatten() {
            let p = e.path();
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            if name.starts_with("fail_") || name.starts_with("invalid") || name.ends_with(".md") {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(&p) {
                out.push((p, text));
            }
        }
    }
    out.sort();
    out
}

/// Every valid fixture of each format round-trips with real crypto.
#[test]
fn fixture_corpus_round_trips() {
    let mut checked = 0;
    for (format, dir) in [
        (Format::Yaml, "yaml"),
        (Format::Json, "json"),
        (Format::Dotenv, "dotenv"),
        (Format::Toml, "toml"),
    ] {
        for (path, text) in corpus(dir) {
            // Only inputs the syntax accepts as documents that can hold metadata.
            let Ok(parsed) = format.syntax().parse(&text) else {
                continue;
            };
            if parsed.metadata.is_some() {
                continue;
            }
            match roundtrip(format, &text, CipherKind::XChaCha20Poly1305) {
                Ok(_) => checked += 1,
                Err(e) if e.starts_with("encrypt: ") && e.contains("top-level") => {}
                Err(e) => panic!("{}: {e}", path.display()),
            }
            if let Err(e) = roundtrip(format, &text, CipherKind::Aes256Gcm) {
                // A .env line sops refuses (it reads .env files line by
                // line: the lines after a value's first, a line of blanks,
                // an indented comment, a `\r` alone), refused here too.
                let multi_line = format == Format::Dotenv
                    && e.contains("for sops, which reads AES256_GCM .env files");
                if !(e.starts_with("encrypt: ")
                    && (e.contains("top-level")
                        || e.contains("aliases")
                        || e.contains("not a string")
                        || e.contains("appears twice")
                        || e.contains("sops cannot read")
                        || multi_line))
                {
                    panic!("{} (AES): {e}", path.display());
                }
            }
        }
    }
    assert!(checked > 0, "no fixtures found");
}

/// A generated tree (Node has no Debug on purpose: values may be secrets).
#[derive(Clone)]
struct G(Node);

impl std::fmt::Debug for G {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tree = Tree::new(vec![self.0.clone()]);
        match Format::Json.syntax().emit(&tree) {
            Ok(s) => f.write_str(&s),
            Err(_) => f.write_str("<tree>"),
        }
    }
}

fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{12,20}".prop_map(|s| format!("v{s}"))
}

fn leaf() -> impl Strategy<Value = G> {
    prop_oneof![
        4 => secret().prop_map(|s| G(Node::str(s))),
        1 => (1_000_000i64..i64::MAX / 2).prop_map(|i| G(Node::value(Value::Int(i)))),
        1 => any::<bool>().prop_map(|b| G(Node::value(Value::Bool(b)))),
    ]
}

fn gmap(pairs: Vec<(String, G)>) -> G {
    G(Node::map(pairs.into_iter().map(|(k, g)| (k, g.0))))
}

fn tree(nested: bool) -> impl Strategy<Value = G> {
    let key = "k[a-z]{3,8}";
    if nested {
        leaf()
            .prop_recursive(3, 24, 5, move |inner| {
                prop_oneof![
                    prop::collection::vec((key, inner.clone()), 1..5).prop_map(gmap),
                    prop::collection::vec(inner, 1..4).prop_map(|v| G(Node::Seq(
                        v.into_iter().map(|g| Item::Node(g.0)).collect()
                    ))),
                ]
            })
            .prop_flat_map(move |n| prop::collection::vec((key, Just(n)), 1..3).prop_map(gmap))
            .boxed()
    } else {
        prop::collection::vec(
            (
                key.prop_map(|k| k.to_uppercase()),
                secret().prop_map(|s| G(Node::str(s))),
            ),
            1..8,
        )
        .prop_map(gmap)
        .boxed()
    }
}

fn leaf_texts(n: &Node, out: &mut Vec<String>) {
    match n {
        Node::Scalar(s) => {
            if let Value::Str(t) = &s.value {
                out.push(t.clone());
            }
        }
        Node::Map(entries) => entries.iter().for_each(|e| {
            if let sops_like_format::Entry::Pair(p) = e {
                leaf_texts(&p.value, out)
            }
        }),
        Node::Seq(items) => items.iter().for_each(|i| {
            if let Item::Node(n) = i {
                leaf_texts(n, out)
            }
        }),
        Node::Alias(_) => {}
    }
}

fn check_generated(format: Format, node: G) -> Result<(), TestCaseError> {
    let node = node.0;
    let tree = Tree::new(vec![node.clone()]);
    let Ok(src) = format.syntax().emit(&tree) else {
        return Ok(());
    };
    for cipher in [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm] {
        let enc = roundtrip(format, &src, cipher).map_err(TestCaseError::fail)?;
        let mut secrets = Vec::new();
        leaf_texts(&node, &mut secrets);
        for s in secrets {
            prop_assert!(!enc.contains(&s), "{} leaked in\n{}", s, enc);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::cases(48)))]

    #[test]
    fn generated_yaml(node in tree(true)) { check_generated(Format::Yaml, node)?; }

    #[test]
    fn generated_json(node in tree(true)) { check_generated(Format::Json, node)?; }

    #[test]
    fn generated_toml(node in tree(true)) { check_generated(Format::Toml, node)?; }

    #[test]
    fn generated_dotenv(node in tree(false)) { check_generated(Format::Dotenv, node)?; }
}
