//! sops decrypts what a file's selector encrypts, and a value there that is
//! not `ENC[…]` is an error (`Could not decrypt value`), MAC or no MAC.
//! Decrypting by shape alone would take such a value as clear text: with
//! `mac_only_encrypted`, whose MAC leaves clear values out, a value added
//! in clear under a key the selector encrypts (`pw_admin: chosen`) would
//! be read as the file's own, and `rotate` or `edit` would then seal it
//! under a new, valid MAC.
//!
//! Opening counts the values in clear that the selector could encrypt
//! ([`in_clear`], while it sizes the work up); only a file that has some
//! asks the selector ([`check`]).

use super::{enc_text, with_sops_stacks, EncryptedFile, EngineError};
use crate::cipher::CipherKind;
use crate::select::Decider;
use crate::syntax::{plain_syntax, Format};
use crate::tree::{Scalar, Tree};
use crate::walk::{walk, Leaf, Place};

/// Whether the value `s` of an encrypted file (text `src`) is in clear
/// where a selector could have encrypted it: not `ENC[…]`, not a value
/// that is never encrypted (null, the empty string), not an alias's copy
/// (an alias stays an alias of its anchor's value; sops-like files keep
/// it so).
pub(super) fn in_clear(src: &str, place: &Place<'_, '_>, s: &Scalar) -> bool {
    !place.in_alias && !s.value.is_never_encrypted() && enc_text(src, s).is_none()
}

/// Refuse `file` if a value is in clear at a path its selector encrypts:
/// [`EngineError::Unsealed`] with the first such path.
///
/// `window`: `file` is one window of a document (see [`super::stream`]).
/// The comments that decide a value under a comment selector stand above
/// it, since the value before clears them (sops's `walkBranch`), and a
/// window starts with the comments above its first key, so a window
/// decides as its document does; but sops reads YAML comments with its
/// own stacks, from the whole document, so a YAML window under a comment
/// selector reports any value in clear, and the whole document decides.
pub(super) fn check(file: &EncryptedFile<'_>, window: bool) -> Result<(), EngineError> {
    let decider = Decider::new(&file.metadata.effective_selector())?;
    if !decider.reads_comments() {
        return first_in_clear(file, &file.parsed.tree, Some(&decider));
    }
    // Comments decide as sops reads them, as they did when the file was
    // encrypted.
    match file.format {
        Format::Yaml if window => first_in_clear(file, &file.parsed.tree, None),
        // sops's own comment stacks.
        Format::Yaml => {
            let mut parsed = file.parsed.clone();
            with_sops_stacks(file.format.syntax(), file.src, &mut parsed, &decider);
            first_in_clear(file, &parsed.tree, Some(&decider))
        }
        // A sops INI file: a marker selects the key after the one below
        // it (see `syntax::ini::SopsIni`).
        Format::Ini if file.metadata.cipher() == Some(CipherKind::Aes256Gcm) => {
            match plain_syntax(Format::Ini, CipherKind::Aes256Gcm).parse(file.src) {
                Ok(parsed) => first_in_clear(file, &parsed.tree, Some(&decider)),
                Err(_) => first_in_clear(file, &file.parsed.tree, Some(&decider)),
            }
        }
        _ => first_in_clear(file, &file.parsed.tree, Some(&decider)),
    }
}

/// The walk of [`check`]: the first value in clear that `decider`
/// encrypts (without one, the first value in clear).
fn first_in_clear(
    file: &EncryptedFile<'_>,
    tree: &Tree,
    decider: Option<&Decider>,
) -> Result<(), EngineError> {
    let mut found = None;
    walk(tree, |place, leaf| {
        let Leaf::Value(s) = leaf else {
            return;
        };
        if found.is_none()
            && in_clear(file.src, place, s)
            && decider.is_none_or(|d| d.value(place.path, place.comments))
        {
            found = Some(crate::cipher::aad(place.path));
        }
    });
    match found {
        Some(path) => Err(EngineError::Unsealed { path }),
        None => Ok(()),
    }
}
