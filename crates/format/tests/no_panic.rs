//! Damaged input never panics. Every fixture of every format, as plaintext,
//! as encrypted by us with both ciphers, and every file the real sops wrote
//! (`testdata/sops/enc`), is mutated at random (bytes deleted, inserted
//! from the characters that matter to the formats, duplicated or flipped)
//! and given to each entry point that reads a file: the syntax's parse,
//! the plaintext read and encryption, the encrypted read, the whole
//! decryption (with and without the MAC) and the streamed decryption.
//! Errors are the expected outcome; a panic fails the test (proptest
//! catches it and shrinks the mutation).

mod common;

use common::{keys, KEY, NOW};
use proptest::prelude::*;
use sops_like_format::cipher::CipherKind;
use sops_like_format::engine::{self, EncryptOptions};
use sops_like_format::Format;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn format_of(path: &Path) -> Option<Format> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("yaml" | "yml") => Some(Format::Yaml),
        Some("json") => Some(Format::Json),
        Some("env") => Some(Format::Dotenv),
        Some("toml") => Some(Format::Toml),
        Some("ini") => Some(Format::Ini),
        _ => None,
    }
}

fn files(dir: &Path) -> Vec<(Format, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if let (Some(format), Ok(text)) = (format_of(&path), std::fs::read_to_string(&path)) {
            out.push((format, text));
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// The inputs to mutate: fixtures (valid or not), their encryptions, and
/// sops's files.
fn cases() -> &'static [(Format, String)] {
    static CASES: OnceLock<Vec<(Format, String)>> = OnceLock::new();
    CASES.get_or_init(|| {
        let root = testdata();
        let mut out = Vec::new();
        for dir in ["yaml", "json", "dotenv", "toml", "ini"] {
            for (format, text) in files(&root.join(dir)) {
                for cipher in [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm] {
                    let opts = EncryptOptions {
                        cipher,
                        ..EncryptOptions::default()
                    };
                    if let Ok(enc) = engine::encrypt(format, &text, &KEY, &opts, keys(), NOW) {
                        out.push((format, enc));
                    }
                }
                out.push((format, text));
            }
        }
        out.extend(files(&root.join("sops/enc")));
        out
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Duplicate(usize, usize, usize),
    Flip(usize, u8),
}

/// Bytes that mean something to one of the formats, and some that do not.
const ALPHABET: &[u8] = b"\n\r\t :=-#\"'\\[]{},.|>&*!%@`?ENC_sops0aZ\xc3\xa9\xff";

fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop::sample::select(ALPHABET);
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Delete(at, len)),
        (any::<usize>(), prop::collection::vec(byte, 1..6))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<usize>(), 1usize..80, any::<usize>())
            .prop_map(|(at, len, to)| Mutation::Duplicate(at, len, to)),
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip(at, bit)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let n = bytes.len().max(1);
    match m {
        Mutation::Delete(at, len) => {
            let at = at % n;
            let end = (at + len).min(bytes.len());
            if at < end {
                bytes.drain(at..end);
            }
        }
        Mutation::Insert(at, ins) => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, ins.iter().copied());
        }
        Mutation::Duplicate(at, len, to) => {
            let at = at % n;
            let end = (at + len).min(bytes.len());
            let piece: Vec<u8> = bytes.get(at..end).unwrap_or_default().to_vec();
            let to = to % (bytes.len() + 1);
            bytes.splice(to..to, piece);
        }
        Mutation::Flip(at, bit) => {
            if let Some(b) = bytes.get_mut(at % n) {
                *b ^= 1 << bit;
            }
        }
    }
}

/// Every reading entry point, on one damaged input.
fn exercise(format: Format, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let _ = format.syntax().parse(&text);
    if let Ok(false) = engine::is_encrypted_document(format, &text) {
        let opts = EncryptOptions::default();
        let _ = engine::encrypt(format, &text, &KEY, &opts, keys(), NOW);
    }
    if let Ok(file) = engine::open(format, &text) {
        let _ = engine::decrypt(&file, &KEY, false);
        let _ = engine::decrypt(&file, &KEY, true);
    }
    if let Ok(Some(streamed)) = engine::scan(format, &mut Cursor::new(bytes)) {
        let _ = streamed.decrypt(&mut Cursor::new(bytes), &KEY, false);
        let _ = streamed.decrypt(&mut Cursor::new(bytes), &KEY, true);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::cases(256)))]

    #[test]
    fn damaged_files_never_panic(
        pick in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let cases = cases();
        prop_assume!(!cases.is_empty());
        let (format, text) = &cases[pick.index(cases.len())];
        let mut bytes = text.as_bytes().to_vec();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        exercise(*format, &bytes);
    }
}

/// The corpus is what the test means it to be: every format, encrypted
/// files among them, sops's files included.
#[test]
fn the_corpus_covers_every_format() {
    let cases = cases();
    for format in [
        Format::Yaml,
        Format::Json,
        Format::Dotenv,
        Format::Toml,
        Format::Ini,
    ] {
        let of_format: Vec<_> = cases.iter().filter(|(f, _)| *f == format).collect();
        assert!(of_format.len() >= 4, "{format:?}: {}", of_format.len());
        assert!(
            of_format
                .iter()
                .any(|(_, t)| t.contains("ENC[XCHACHA20_POLY1305")),
            "{format:?}"
        );
        assert!(
            of_format.iter().any(|(_, t)| t.contains("ENC[AES256_GCM")),
            "{format:?}"
        );
    }
    assert!(cases.len() > 200, "{}", cases.len());
}
