//! Tests of the YAML syntax module: typing, spans, comments, metadata,
//! lexemes, emission, the conformance contract over `testdata/yaml`, and
//! property tests.

use super::*;
use crate::syntax::conformance::{roundtrip, sample_metadata, shape};
use crate::tree::{Item, Scalar};

fn parse(src: &str) -> Parsed {
    match Yaml.parse(src) {
        Ok(p) => p,
        Err(e) => panic!("parse failed: {e}\n{src}"),
    }
}

#[test]
fn smoke() {
    let src = "a: 1\nb: [x, y]\n";
    let p = parse(src);
    assert_eq!(p.tree.docs.len(), 1);
    roundtrip(&Yaml, src).unwrap();
}

fn fixtures() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/yaml");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            out.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    out.sort();
    assert!(out.len() >= 15, "fixtures missing");
    out
}

#[test]
fn fixtures_roundtrip() {
    let mut failures = Vec::new();
    for (name, src) in fixtures() {
        let result = roundtrip(&Yaml, &src);
        if name.starts_with("fail_") {
            if result.is_ok() {
                failures.push(format!("{name}: expected an error"));
            }
        } else if let Err(e) = result {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
