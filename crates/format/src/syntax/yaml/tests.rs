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
