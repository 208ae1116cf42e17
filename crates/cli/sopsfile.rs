//! An encrypted file of any kind, as the commands that change its keys
//! read it: a text format (YAML, JSON, .env, TOML, INI) or, for a name with
//! no known extension or `--input-type binary`, the binary store (sops's
//! `{"data": …, "sops": …}` JSON document of a file's bytes).

use crate::args::IoArgs;
use crate::exit::{Failure, Result};
use crate::io::{self, Input};
use sops_like_format::binary::{self, BinaryFile, Stored};
use sops_like_format::engine::{self, EncryptedFile, EngineError, KeyMaterial};
use sops_like_format::metadata::Metadata;
use sops_like_format::Format;

/// An opened encrypted file. (One per file a command opens: the size of
/// the larger variant is not worth a box.)
#[allow(clippy::large_enum_variant)]
pub enum SopsFile<'s> {
    /// A document of a text format.
    Text(EncryptedFile<'s>),
    /// The binary store.
    Binary {
        /// Its metadata and data value.
        file: BinaryFile,
        /// Its text (a JSON document).
        src: &'s str,
    },
}

impl<'s> SopsFile<'s> {
    /// Read `input`, as the binary store when [`io::is_binary`] says so.
    pub fn open(io_args: &IoArgs, input: &'s Input) -> Result<SopsFile<'s>> {
        let fail = |e| Failure::load(&input.name, e);
        let src = input.encrypted_text()?;
        if io::is_binary(io_args, input) {
            // Any other JSON document is one to sops's binary store too.
            return match binary::open_stored(src).map_err(fail)? {
                Stored::Binary(file) => Ok(SopsFile::Binary { file, src }),
                Stored::Document(file) => Ok(SopsFile::Text(*file)),
            };
        }
        let format = io::input_format(io_args, input)?;
        let file = engine::open(format, src).map_err(fail)?;
        // The binary store's own document of the default cipher under a
        // document's name or type: its value is raw bytes, not a lexeme.
        Ok(match binary::unreadable_as_document(&file) {
            Some(file) => SopsFile::Binary { file, src },
            None => SopsFile::Text(file),
        })
    }

    /// The sops metadata.
    pub fn metadata(&self) -> &Metadata {
        match self {
            SopsFile::Text(f) => &f.metadata,
            SopsFile::Binary { file, .. } => &file.metadata,
        }
    }

    /// Every value re-encrypted under `new_key`, wrapped as `keys`.
    pub fn rotate(
        &self,
        old_key: &[u8; 32],
        new_key: &[u8; 32],
        keys: KeyMaterial,
        ignore_mac: bool,
        now: &str,
    ) -> std::result::Result<String, EngineError> {
        match self {
            SopsFile::Text(f) => engine::rotate(f, old_key, new_key, keys, ignore_mac, now),
            SopsFile::Binary { file, .. } => file.rotate(old_key, new_key, keys, ignore_mac, now),
        }
    }

    /// The same data key wrapped as `keys`; values untouched.
    pub fn replace_keys(&self, keys: KeyMaterial) -> std::result::Result<String, EngineError> {
        match self {
            SopsFile::Text(f) => engine::replace_keys(f, keys),
            SopsFile::Binary { src, .. } => {
                engine::replace_keys(&engine::open(Format::Json, src)?, keys)
            }
        }
    }
}

/// A binary-store file opened and decrypted: for the commands that change
/// its bytes (`edit`, `set`) or hand them out (`exec-*`).
pub struct OpenedBinary {
    /// The file (metadata and data value).
    pub file: BinaryFile,
    /// Its data key.
    pub key: sops_like_keys::DataKey,
    /// Its bytes.
    pub plain: zeroize::Zeroizing<Vec<u8>>,
}

/// Open `input` (known to be a binary-store file), recover its data key (keys tried
/// in `order`) and decrypt it (MAC checked unless `ignore_mac`).
pub fn open_binary(input: &Input, order: Option<&str>, ignore_mac: bool) -> Result<OpenedBinary> {
    let src = input.encrypted_text()?;
    let file = binary::open_binary(src).map_err(|e| Failure::load(&input.name, e))?;
    let key = crate::keysource::data_key(&file.metadata, &input.name, order)?;
    let plain = file
        .decrypt(key.as_bytes(), ignore_mac)
        .map_err(|e| Failure::engine(&input.name, e))?;
    Ok(OpenedBinary { file, key, plain })
}

/// The data of `file` as sops reads it, from its decrypted text `plain`
/// (see [`engine::decrypted_tree`]).
pub fn decrypted_tree(
    name: &str,
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    plain: &str,
) -> Result<sops_like_format::Tree> {
    engine::decrypted_tree(file, key, plain).map_err(|e| match e {
        EngineError::DecryptedParse(p) => Failure::decrypted_parse(p),
        e => Failure::engine(name, e),
    })
}

/// `--output-type` of `set`, `unset` and `edit`, as in sops: the changed
/// plaintext `plain` of `file` written as a new document of format `to`,
/// encrypted with the same data key, recipients, cipher and selector
/// (every value gets a fresh nonce: the document is a new one).
pub fn reencrypt_as(
    name: &str,
    file: &EncryptedFile<'_>,
    key: &[u8; 32],
    plain: &str,
    to: Format,
    now: &str,
) -> Result<String> {
    let opts = engine::EncryptOptions::of(&file.metadata);
    let keys = KeyMaterial::of(&file.metadata);
    encrypt_as(name, file.format, to, plain, key, &opts, keys, now)
}

/// The plaintext `plain` of format `from` written as a document of format
/// `to` and encrypted: its values keep their types (a .env or INI file for
/// sops records them in each value's `type:`, as sops does).
#[allow(clippy::too_many_arguments)]
pub fn encrypt_as(
    name: &str,
    from: Format,
    to: Format,
    plain: &str,
    key: &[u8; 32],
    opts: &engine::EncryptOptions,
    keys: KeyMaterial,
    now: &str,
) -> Result<String> {
    let source = sops_like_format::syntax::parse_plain_as(from, plain, opts.cipher)
        .map_err(Failure::decrypted_parse)?
        .tree;
    let converted = crate::cmd::decrypt::emit_to_encrypt(Some(from), to, opts.cipher, &source)?;
    let doc = engine::plaintext_for(to, &converted, opts.cipher)
        .and_then(|doc| doc.typed_as(&source))
        .map_err(|e| Failure::engine(name, e))?;
    engine::encrypt_plaintext(doc, key, opts, keys, now).map_err(|e| Failure::engine(name, e))
}
