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
/// Under a comment selector, the comments that decide a .env value stand
/// right above it (the value before clears them, as sops's `walkBranch`
/// does), in its window, so a .env window decides as its document does.
/// Elsewhere a comment above a mapping decides for everything in it, and
/// may stand in an earlier window (`# marker` above `[a]`, then a window
/// from `[a.b]`; sops also reads YAML comments with its own stacks, from
/// the whole document): such a window reports any value in clear, and the
/// whole document decides.
pub(super) fn check(file: &EncryptedFile<'_>, window: bool) -> Result<(), EngineError> {
    let decider = Decider::new(&file.metadata.effective_selector())?;
    if !decider.reads_comments() {
        return first_in_clear(file, &file.parsed.tree, Some(&decider));
    }
    // Comments decide as sops reads them, as they did when the file was
    // encrypted.
    match file.format {
        Format::Dotenv => first_in_clear(file, &file.parsed.tree, Some(&decider)),
        _ if window => first_in_clear(file, &file.parsed.tree, None),
        // sops's own comment stacks, and the text's: encryption seals a
        // value any reading selects, so only a value every reading
        // selects must be sealed (go-yaml may read the plaintext's
        // structure otherwise than the encrypted text's, `[ ?c ]`).
        Format::Yaml => {
            let mut parsed = file.parsed.clone();
            with_sops_stacks(file.format.syntax(), file.src, &mut parsed, &decider);
            let theirs = all_in_clear(file, &parsed.tree, Some(&decider));
            let ours = all_in_clear(file, &file.parsed.tree, Some(&decider));
            refuse(theirs.into_iter().find(|v| ours.contains(v)))
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

/// The values in clear that `decider` encrypts in `tree` (a reading of
/// `file`; without a decider, every value in clear): their span starts
/// and paths, in document order.
fn all_in_clear(
    file: &EncryptedFile<'_>,
    tree: &Tree,
    decider: Option<&Decider>,
) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    walk(tree, |place, leaf| {
        let Leaf::Value(s) = leaf else {
            return;
        };
        if in_clear(file.src, place, s)
            && decider.is_none_or(|d| d.value(place.path, place.comments))
        {
            let at = s.span.as_ref().map_or(usize::MAX, |sp| sp.start);
            found.push((at, crate::cipher::aad(place.path)));
        }
    });
    found
}

/// [`all_in_clear`], refused at the first.
fn first_in_clear(
    file: &EncryptedFile<'_>,
    tree: &Tree,
    decider: Option<&Decider>,
) -> Result<(), EngineError> {
    refuse(all_in_clear(file, tree, decider).into_iter().next())
}

fn refuse(found: Option<(usize, String)>) -> Result<(), EngineError> {
    match found {
        Some((_, path)) => Err(EngineError::Unsealed { path }),
        None => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use crate::engine::{self, EncryptOptions, EngineError, KeyMaterial};
    use crate::metadata::{MasterKey, Selector};
    use crate::syntax::Format;

    const KEY: [u8; 32] = [9; 32];

    fn sealed(format: Format, doc: &str, selector: Selector) -> String {
        let opts = EncryptOptions {
            selector,
            ..EncryptOptions::default()
        };
        let keys = KeyMaterial {
            key_groups: vec![vec![MasterKey::age("age1test", "x")]],
            shamir_threshold: None,
        };
        engine::encrypt(format, doc, &KEY, &opts, keys, "2026-11-24T00:00:00Z").unwrap()
    }

    fn decrypt(format: Format, enc: &str) -> Result<String, EngineError> {
        let file = engine::open(format, enc).unwrap();
        engine::decrypt(&file, &KEY, true).map(|p| p.to_string())
    }

    /// YAML comment selectors: a value is refused only where every reading
    /// of the comments selects it. go-yaml reads `[ ?c ]` as a mapping in
    /// the plaintext and as a string once sealed, which moves the marker
    /// in sops's stacks of the encrypted text.
    #[test]
    fn yaml_comment_markers_refuse_what_every_reading_selects() {
        let marker = || Selector::UnencryptedCommentRegex("sops:enc".into());
        let doc = "? k\n# sops:enc\n: v\nb:\n  - n\nc: [ ?c ]\n";
        let enc = sealed(Format::Yaml, doc, marker());
        assert_eq!(decrypt(Format::Yaml, &enc).unwrap(), doc);
        let doc = "a: secret\n# sops:enc\nb: open\n";
        let enc = sealed(Format::Yaml, doc, marker());
        assert_eq!(decrypt(Format::Yaml, &enc).unwrap(), doc);
        let start = enc.find("a: ENC[").unwrap() + 3;
        let end = start + enc[start..].find('\n').unwrap();
        let mut tampered = enc.clone();
        tampered.replace_range(start..end, "chosen");
        match decrypt(Format::Yaml, &tampered) {
            Err(EngineError::Unsealed { path }) => assert_eq!(path, "a:"),
            other => panic!("{:?}", other.map(|_| ())),
        }
    }

    /// A text whose comments select a value only once it is sealed (go-yaml
    /// reads `[ ?c ]` as a mapping, `[ "ENC[…]" ]` as a string) is refused
    /// rather than written with that value in clear (sops encrypts it).
    #[test]
    fn a_yaml_text_that_selects_otherwise_once_sealed_is_refused() {
        let doc = "a: [ ?c ] # enc\nb:\n  - !!null\n  # enc\nn: v\n";
        let opts = EncryptOptions {
            selector: Selector::EncryptedCommentRegex("enc".into()),
            ..EncryptOptions::default()
        };
        let keys = KeyMaterial {
            key_groups: vec![vec![MasterKey::age("age1test", "x")]],
            shamir_threshold: None,
        };
        match engine::encrypt(Format::Yaml, doc, &KEY, &opts, keys, "2026-11-24T00:00:00Z") {
            Err(EngineError::SopsIncompatible(m)) => assert!(m.contains("[\"n\"]"), "{m}"),
            other => panic!("{:?}", other.map(|_| ())),
        }
    }
}
