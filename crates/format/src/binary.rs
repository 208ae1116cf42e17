//! The binary store: a file of any other type is one string value under
//! the key `data`, written as a JSON document the way sops writes it:
//! `{"data": "ENC[…,type:str]", "sops": {…}}`, tab-indented.
//!
//! * The value's plaintext is the file's bytes, whatever they are (NUL,
//!   0xFF, invalid UTF-8): Go strings are bytes, so sops encrypts and MACs
//!   the raw bytes, and so do we. The AAD is `data:`.
//! * The MAC is SHA-512 over those bytes (nothing is fed for an empty
//!   file, whose value stays `""` unencrypted, as sops does).
//! * No selector is written (sops ignores selectors for binary files); a
//!   reader applies the default.
//! * sops reads a binary-store file with its JSON loader, so any other
//!   encrypted JSON document under a binary-store name (`x.json.enc`, or
//!   `sops encrypt --output-type binary`) is a document to it
//!   ([`open_stored`]): `--output-type json|yaml` shows it.

use crate::cipher::{is_encrypted, CipherError, CipherKind, EncValue};
use crate::engine::{self, mac_aad, EncryptOptions, EncryptedFile, EngineError, KeyMaterial};
use crate::mac::Mac;
use crate::metadata::{Metadata, FORMAT_VERSION};
use crate::syntax::{Format, ParseError};
use crate::tree::{Entry, Node, Scalar, Tree, Value};
use zeroize::Zeroizing;

/// The key holding the file's bytes.
const DATA_KEY: &str = "data";
/// The AAD of the data value.
const DATA_AAD: &[u8] = b"data:";

/// Encrypt the bytes `data` into a sops binary-store JSON document.
/// `opts.selector` is ignored (no selector is written, as in sops).
pub fn encrypt_binary(
    data: &[u8],
    key: &[u8; 32],
    opts: &EncryptOptions,
    keys: KeyMaterial,
    now: &str,
) -> Result<String, EngineError> {
    let value = if data.is_empty() {
        String::new()
    } else {
        seal(opts, key, data, DATA_AAD, DATA_KEY)?
    };
    let mut mac = Mac::new(opts.mac_only_encrypted);
    mac.update(data);
    let metadata = Metadata {
        key_groups: keys.key_groups,
        shamir_threshold: keys.shamir_threshold,
        lastmodified: now.to_string(),
        mac: seal(
            opts,
            key,
            mac.finish().as_bytes(),
            mac_aad(now).as_bytes(),
            "sops:mac",
        )?,
        selector: None,
        mac_only_encrypted: opts.mac_only_encrypted,
        version: FORMAT_VERSION.to_string(),
    };
    let tree = Tree::new(vec![Node::map([
        (DATA_KEY.to_string(), Node::str(value)),
        ("sops".to_string(), metadata.to_node()),
    ])]);
    Ok(Format::Json.syntax().emit(&tree)?)
}

fn seal(
    opts: &EncryptOptions,
    key: &[u8; 32],
    plaintext: &[u8],
    aad: &[u8],
    path: &str,
) -> Result<String, EngineError> {
    EncValue::seal(opts.cipher, key, plaintext, aad, "str")
        .map(|v| v.to_string())
        .map_err(|source| EngineError::Encrypt {
            path: path.to_string(),
            source,
        })
}

/// An encrypted binary-store document, read but not yet decrypted: the
/// caller unwraps the data key from [`BinaryFile::metadata`] first.
pub struct BinaryFile {
    /// The metadata.
    pub metadata: Metadata,
    /// The `data` value as written (`ENC[…]`, or a plain string).
    data: String,
}

/// Read an encrypted binary-store document (JSON).
pub fn open_binary(src: &str) -> Result<BinaryFile, EngineError> {
    let file = engine::open(Format::Json, src)?;
    let data = file
        .parsed
        .tree
        .docs
        .first()
        .and_then(|doc| doc.get(DATA_KEY));
    let data = match data {
        // The lean parse of `open` leaves an `ENC[…]` text in the source.
        Some(Node::Scalar(s)) if let Some(text) = engine::enc_text(src, s) => text.to_string(),
        Some(Node::Scalar(Scalar {
            value: Value::Str(s),
            ..
        })) => s.clone(),
        _ => {
            return Err(EngineError::Parse(ParseError::at(
                src,
                0,
                "a binary-store file needs a string \"data\" member",
            )))
        }
    };
    Ok(BinaryFile {
        metadata: file.metadata,
        data,
    })
}

/// A file read by the binary store.
pub enum Stored<'s> {
    /// The binary store's own document: `{"data": <string>, "sops": …}`
    /// and nothing else.
    Binary(BinaryFile),
    /// Any other encrypted JSON document.
    Document(Box<EncryptedFile<'s>>),
}

/// Read a file as sops's binary store reads it: an encrypted JSON
/// document, which is a binary file when its only key is a string `data`
/// (plain, or `ENC[…]` of type `str` or `bytes`). An `XCHACHA20_POLY1305`
/// document that names a selector is a document even of that shape: the
/// engine wrote it (sealing each value's JSON lexeme, quotes and all),
/// not the binary store (which seals the raw bytes and names no selector).
pub fn open_stored(src: &str) -> Result<Stored<'_>, EngineError> {
    let file = engine::open(Format::Json, src)?;
    let lexemes = file.metadata.cipher() == Some(CipherKind::XChaCha20Poly1305)
        && file.metadata.selector.is_some();
    Ok(match data_value(&file).filter(|_| !lexemes) {
        Some(data) => Stored::Binary(BinaryFile {
            metadata: file.metadata,
            data,
        }),
        None => Stored::Document(Box::new(file)),
    })
}

/// The `data` value (`ENC[…]` text or plain string) of a file that is
/// the binary store's shape, `{"data": <string>}` and nothing else.
fn data_value(file: &EncryptedFile<'_>) -> Option<String> {
    let src = file.src;
    let [Node::Map(entries)] = file.parsed.tree.docs.as_slice() else {
        return None;
    };
    let [Entry::Pair(pair)] = entries.as_slice() else {
        return None;
    };
    if pair.key != DATA_KEY {
        return None;
    }
    match &pair.value {
        Node::Scalar(s) if let Some(text) = engine::enc_text(src, s) => EncValue::parse(text)
            .is_ok_and(|v| v.ty == "str" || v.ty == "bytes")
            .then(|| text.to_string()),
        Node::Scalar(Scalar {
            value: Value::Str(s),
            ..
        }) => Some(s.clone()),
        _ => None,
    }
}

/// A file opened as a text document (a `.json` name, `--input-type
/// json|yaml`) that is the binary store's own document: `{"data":
/// <string>}` whose metadata names no selector (the binary store writes
/// none; the engine always writes one). Its value is the file's raw bytes,
/// which the engine cannot read when they are not a value's lexeme
/// (`XCHACHA20_POLY1305`: always) or not UTF-8 text (any cipher): the
/// caller reads such a file as the binary store does.
pub fn as_binary_store(file: &EncryptedFile<'_>) -> Option<BinaryFile> {
    if file.metadata.selector.is_some() {
        return None;
    }
    data_value(file).map(|data| BinaryFile {
        metadata: file.metadata.clone(),
        data,
    })
}

/// [`as_binary_store`] for a file the engine cannot read at all: one
/// sealed with `XCHACHA20_POLY1305` (the binary store seals the raw bytes
/// where the engine expects a JSON or YAML lexeme: `x` for `"x"`).
pub fn unreadable_as_document(file: &EncryptedFile<'_>) -> Option<BinaryFile> {
    if file.metadata.cipher() != Some(CipherKind::XChaCha20Poly1305) {
        return None;
    }
    as_binary_store(file)
}

impl BinaryFile {
    /// The file's bytes. Verifies the MAC unless `ignore_mac`.
    pub fn decrypt(
        &self,
        key: &[u8; 32],
        ignore_mac: bool,
    ) -> Result<Zeroizing<Vec<u8>>, EngineError> {
        let fail = |source: CipherError| EngineError::Decrypt {
            path: "data:".into(),
            source,
        };
        let encrypted = is_encrypted(&self.data);
        let plain = if encrypted {
            let enc = EncValue::parse(&self.data).map_err(fail)?;
            if enc.ty != "str" && enc.ty != "bytes" {
                return Err(EngineError::BadType {
                    path: "data:".into(),
                    ty: enc.ty,
                });
            }
            enc.open(key, DATA_AAD).map_err(fail)?
        } else {
            // In clear where the selector encrypts: refused, as sops
            // refuses it (see `engine::audit`).
            let decider = crate::select::Decider::new(&self.metadata.effective_selector())?;
            if !self.data.is_empty() && decider.value(&[DATA_KEY], &[]) {
                return Err(EngineError::Unsealed {
                    path: format!("{DATA_KEY}:"),
                });
            }
            Zeroizing::new(self.data.as_bytes().to_vec())
        };
        if !ignore_mac {
            self.verify_mac(key, &plain, encrypted)?;
        }
        Ok(plain)
    }

    /// New content `data` under the same data key and wrapped keys, with
    /// the file's cipher and MAC setting (`edit`).
    pub fn reencrypt(&self, key: &[u8; 32], data: &[u8], now: &str) -> Result<String, EngineError> {
        let keys = KeyMaterial::of(&self.metadata);
        encrypt_binary(data, key, &EncryptOptions::of(&self.metadata), keys, now)
    }

    /// The content under a new data key `new_key`, wrapped as `keys`
    /// (`rotate`): decrypted with `old_key` (MAC checked unless
    /// `ignore_mac`), encrypted afresh with the file's cipher.
    pub fn rotate(
        &self,
        old_key: &[u8; 32],
        new_key: &[u8; 32],
        keys: KeyMaterial,
        ignore_mac: bool,
        now: &str,
    ) -> Result<String, EngineError> {
        let data = self.decrypt(old_key, ignore_mac)?;
        encrypt_binary(
            &data,
            new_key,
            &EncryptOptions::of(&self.metadata),
            keys,
            now,
        )
    }

    fn verify_mac(&self, key: &[u8; 32], plain: &[u8], encrypted: bool) -> Result<(), EngineError> {
        let meta = &self.metadata;
        if meta.mac.is_empty() {
            return Err(EngineError::MacMissing);
        }
        let stored = EncValue::parse(&meta.mac)
            .and_then(|v| v.open(key, mac_aad(&meta.lastmodified).as_bytes()))
            .map_err(|source| EngineError::Decrypt {
                path: "sops:mac".into(),
                source,
            })?;
        let mut mac = Mac::new(meta.mac_only_encrypted);
        if encrypted || !meta.mac_only_encrypted {
            mac.update(plain);
        }
        if stored.as_slice() != mac.finish().as_bytes() {
            return Err(EngineError::MacMismatch);
        }
        Ok(())
    }
}

/// Decrypt a binary-store document with the data key.
pub fn decrypt_binary(
    src: &str,
    key: &[u8; 32],
    ignore_mac: bool,
) -> Result<Zeroizing<Vec<u8>>, EngineError> {
    open_binary(src)?.decrypt(key, ignore_mac)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::cipher::CipherKind;
    use crate::metadata::MasterKey;

    const KEY: [u8; 32] = [7u8; 32];
    const NOW: &str = "2026-11-22T03:51:54Z";

    fn keys() -> KeyMaterial {
        crate::testing::placeholder_keys()
    }

    fn opts(cipher: CipherKind) -> EncryptOptions {
        EncryptOptions {
            cipher,
            ..EncryptOptions::default()
        }
    }

    fn all_bytes() -> Vec<u8> {
        let mut v: Vec<u8> = (0..=255u8).collect();
        v.extend_from_slice(b"\x00\xff\xfe\xc3( invalid \xed\xa0\x80\r\n");
        v
    }

    #[test]
    fn round_trips_arbitrary_bytes_with_both_ciphers() {
        for cipher in [CipherKind::Aes256Gcm, CipherKind::XChaCha20Poly1305] {
            for data in [all_bytes(), Vec::new(), b"x".to_vec()] {
                let enc = encrypt_binary(&data, &KEY, &opts(cipher), keys(), NOW).unwrap();
                assert!(enc.starts_with("{\n\t\"data\": "), "{enc}");
                assert!(!enc.contains("unencrypted_suffix"));
                let back = decrypt_binary(&enc, &KEY, false).unwrap();
                assert_eq!(back.as_slice(), data.as_slice());
            }
        }
    }

    /// `rotate` and `reencrypt` keep the cipher, `reencrypt` keeps the
    /// data key and wrapped keys, `rotate` takes the new ones.
    #[test]
    fn rotate_and_reencrypt_keep_the_cipher() {
        for cipher in [CipherKind::Aes256Gcm, CipherKind::XChaCha20Poly1305] {
            let enc = encrypt_binary(&all_bytes(), &KEY, &opts(cipher), keys(), NOW).unwrap();
            let file = open_binary(&enc).unwrap();
            let edited = file.reencrypt(&KEY, b"new \x00 bytes", NOW).unwrap();
            let again = open_binary(&edited).unwrap();
            assert_eq!(again.metadata.cipher(), Some(cipher));
            let wrapped = |f: &BinaryFile| {
                let k = &f.metadata.key_groups[0][0];
                (k.id(), k.enc())
            };
            assert_eq!(wrapped(&again), wrapped(&file));
            assert_eq!(
                again.decrypt(&KEY, false).unwrap().as_slice(),
                b"new \x00 bytes"
            );
            let new_key = [9u8; 32];
            let mut other = keys();
            other.key_groups[0][0] = MasterKey::age("age1other", "x\n");
            let rotated = file.rotate(&KEY, &new_key, other, false, NOW).unwrap();
            let rotated = open_binary(&rotated).unwrap();
            assert_eq!(rotated.metadata.cipher(), Some(cipher));
            assert_eq!(rotated.metadata.key_groups[0][0].id(), "age1other");
            assert!(rotated.decrypt(&KEY, false).is_err());
            assert_eq!(
                rotated.decrypt(&new_key, false).unwrap().as_slice(),
                all_bytes().as_slice()
            );
            // A wrong old key is an error, nothing is produced.
            assert!(file.rotate(&new_key, &KEY, keys(), false, NOW).is_err());
        }
    }

    /// Only `{"data": <string>}` is a binary file; any other encrypted
    /// JSON document is read as a document, as sops's binary store does.
    #[test]
    fn open_stored_tells_binary_files_from_documents() {
        let enc =
            encrypt_binary(b"bytes", &KEY, &opts(CipherKind::Aes256Gcm), keys(), NOW).unwrap();
        match open_stored(&enc).unwrap() {
            Stored::Binary(file) => {
                assert_eq!(file.decrypt(&KEY, false).unwrap().as_slice(), b"bytes")
            }
            Stored::Document(_) => panic!("a binary file read as a document"),
        }
        let opts = opts(CipherKind::Aes256Gcm);
        for doc in [
            "{\"name\": \"app\", \"port\": 8080}\n",
            "{\"data\": 5}\n",
            "{\"data\": \"x\", \"more\": \"y\"}\n",
            "{\"data\": {\"x\": \"y\"}}\n",
        ] {
            let enc = engine::encrypt(Format::Json, doc, &KEY, &opts, keys(), NOW).unwrap();
            assert!(
                matches!(open_stored(&enc).unwrap(), Stored::Document(_)),
                "{doc}"
            );
        }
        assert!(matches!(
            open_stored("{\"data\": \"x\"}"),
            Err(EngineError::NoMetadata)
        ));
    }

    #[test]
    fn metadata_and_errors() {
        let enc =
            encrypt_binary(b"secret", &KEY, &opts(CipherKind::Aes256Gcm), keys(), NOW).unwrap();
        let file = open_binary(&enc).unwrap();
        assert_eq!(file.metadata.lastmodified, NOW);
        assert!(file.metadata.selector.is_none());
        assert!(matches!(
            file.decrypt(&[8u8; 32], false),
            Err(EngineError::Decrypt { .. })
        ));
        // A changed MAC is detected; ignore_mac skips the check.
        let mut m = file.metadata.clone();
        m.mac = EncValue::seal(
            CipherKind::Aes256Gcm,
            &KEY,
            b"00",
            mac_aad(NOW).as_bytes(),
            "str",
        )
        .unwrap()
        .to_string();
        let tampered = BinaryFile {
            metadata: m,
            data: file.data.clone(),
        };
        assert!(matches!(
            tampered.decrypt(&KEY, false),
            Err(EngineError::MacMismatch)
        ));
        assert_eq!(tampered.decrypt(&KEY, true).unwrap().as_slice(), b"secret");
        assert!(matches!(
            open_binary("{\"data\": 1, \"sops\": {\"lastmodified\": \"t\"}}"),
            Err(EngineError::Parse(_))
        ));
        assert!(matches!(
            open_binary("{\"data\": \"x\"}"),
            Err(EngineError::NoMetadata)
        ));
    }
}
