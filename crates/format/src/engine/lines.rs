//! .env documents encrypted a window of lines at a time.
//!
//! A .env file's metadata goes at its end, and nothing in a line depends on
//! another line's (no nesting, no aliases; the comment-selector state ends
//! at every `KEY=value` line). So the document is parsed, MACed and
//! encrypted in windows of lines cut after `KEY=value` lines
//! ([`crate::syntax::dotenv::windows`]), and the metadata with the MAC of
//! all of them is written last: the whole tree of a large file is never in
//! memory. Windows are encrypted on every core ([`par::ordered`]) and
//! written, with their MAC input, in order. The output is what encrypting
//! the document whole gives (tested).

use super::{feed_mac, par, seal, seal_mac, EngineError};
use crate::cipher::CipherKind;
use crate::mac::Mac;
use crate::metadata::Metadata;
use crate::select::Decider;
use crate::splice::SpliceError;
use crate::syntax::{Format, Parsed};
use std::io::Write;

/// About how many lines a window holds: few enough that one thread
/// encrypts a window (see [`par`]), the windows going to every core. Small
/// in unit tests, so that every .env encryption test crosses windows.
pub(super) const WINDOW_LINES: usize = if cfg!(test) { 3 } else { 1000 };

/// Windows in flight (cut and not yet written), per worker.
const AHEAD: usize = 2;

/// Encrypt the .env text `src`, cut at `cuts` (see
/// [`crate::syntax::dotenv::windows`]), with the settings and keys of
/// `template`, into `sink`.
pub(super) fn encrypt_dotenv(
    src: &str,
    cuts: &[usize],
    key: &[u8; 32],
    cipher: CipherKind,
    template: Metadata,
    now: &str,
    sink: &mut dyn Write,
) -> Result<(), EngineError> {
    let syntax = Format::Dotenv.syntax();
    let decider = Decider::new(&template.effective_selector())?;
    // The metadata can be written (checked before anything is).
    syntax.insert_metadata(src, &Parsed::default(), &template.to_node())?;
    let mac_only = template.mac_only_encrypted;
    let mut mac = Mac::new(mac_only);
    let mut bounds = std::iter::once(0)
        .chain(cuts.iter().copied())
        .zip(cuts.iter().copied().chain([src.len()]));
    let workers = par::workers();
    par::ordered(
        workers,
        workers * AHEAD,
        || Ok(bounds.next()),
        |(start, end)| seal_window(src, start, end, key, cipher, &decider, mac_only),
        |window| {
            let (text, part) = window?;
            sink.write_all(&text).map_err(EngineError::Write)?;
            mac.absorb(part);
            Ok(())
        },
        || EngineError::Write(std::io::Error::other("a worker thread stopped")),
    )?;
    let metadata = Metadata {
        lastmodified: now.to_string(),
        mac: seal_mac(cipher, key, &mac.finish(), now)?,
        ..template
    };
    let end = src.len();
    for edit in syntax.insert_metadata(src, &Parsed::default(), &metadata.to_node())? {
        if edit.span != (end..end) {
            return Err(SpliceError::OutOfBounds(edit.span.start, edit.span.end).into());
        }
        sink.write_all(edit.text.as_bytes())
            .map_err(EngineError::Write)?;
    }
    sink.flush().map_err(EngineError::Write)
}

/// Encrypt the window `start..end` of `src`: its text and its MAC input.
fn seal_window(
    src: &str,
    start: usize,
    end: usize,
    key: &[u8; 32],
    cipher: CipherKind,
    decider: &Decider,
    mac_only: bool,
) -> Result<(Vec<u8>, Mac), EngineError> {
    let syntax = Format::Dotenv.syntax();
    let text = src
        .get(start..end)
        .ok_or(SpliceError::OutOfBounds(start, end))?;
    // The whole text was checked line by line already; an error here is
    // reported at its place in the whole text.
    let parsed = match syntax.parse(text) {
        Ok(p) => p,
        Err(e) => return Err(syntax.parse(src).err().unwrap_or(e).into()),
    };
    let mut part = Mac::recording();
    feed_mac(&mut part, &parsed.tree, decider, mac_only);
    // Sealed values are about four times as long as their plaintexts.
    let mut out = Vec::with_capacity(text.len() * 4);
    seal::seal_document(
        syntax,
        text,
        &parsed.tree,
        key,
        cipher,
        decider,
        None,
        &[],
        &mut out,
    )?;
    Ok((out, part))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::engine::{
        encrypt_with, new_metadata, open, plaintext, Checked, EncryptOptions, KeyMaterial,
    };
    use crate::metadata::Selector;

    const KEY: [u8; 32] = [3u8; 32];
    const NOW: &str = "2026-11-22T00:00:00Z";

    /// Every `ENC[…]` text replaced by `E`.
    fn masked(s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("ENC[") {
            out.push_str(&rest[..i]);
            out.push('E');
            rest = &rest[i..];
            rest = &rest[rest.find(']').map_or(rest.len(), |j| j + 1)..];
        }
        out.push_str(rest);
        out
    }

    /// Encrypting in windows gives what encrypting whole gives (the same
    /// text but for the random nonces, the same MAC), and decrypts back.
    #[test]
    fn windows_equal_the_whole() {
        let docs = [
            "A=1\nB=two\nC=3\nD=4\nE=5\nF=6\nG=7\n",
            "# head\nA=1\n\n# about B\nB=x # inline\nexport C='q'\nD=\"multi\nline\"\nE=5\nF_unencrypted=open\nG=7",
            "A=1\r\nB=2\r\n# c\r\nC=3\r\nD=4\r\nE=5\r\n",
            "\u{feff}A=1\nB=2\nC=3\nD=4\n\u{feff}E=5\nF=6\nG=7\n",
            "",
            "# only a comment\n",
            "A=1\nB=2\nC=3\nD=\"open\n\nquote\"\nE=\\\\n\nF=6\r",
        ];
        let selectors = [
            Selector::default(),
            Selector::EncryptedCommentRegex("^ about".into()),
        ];
        for doc in docs {
            for selector in &selectors {
                for mac_only in [false, true] {
                    let opts = EncryptOptions {
                        selector: selector.clone(),
                        mac_only_encrypted: mac_only,
                        ..EncryptOptions::default()
                    };
                    let checked = plaintext(Format::Dotenv, doc).unwrap();
                    let Checked::Lines(cuts) = &checked.checked else {
                        panic!("not windowed");
                    };
                    let mut windowed = Vec::new();
                    let template = new_metadata(&opts, KeyMaterial::default());
                    encrypt_dotenv(
                        doc,
                        cuts,
                        &KEY,
                        opts.cipher,
                        template.clone(),
                        NOW,
                        &mut windowed,
                    )
                    .unwrap();
                    let mut whole = Vec::new();
                    encrypt_with(
                        Format::Dotenv,
                        doc,
                        None,
                        &KEY,
                        opts.cipher,
                        template,
                        NOW,
                        None,
                        &mut whole,
                    )
                    .unwrap();
                    let (windowed, whole) = (
                        String::from_utf8(windowed).unwrap(),
                        String::from_utf8(whole).unwrap(),
                    );
                    assert_eq!(masked(&windowed), masked(&whole), "{doc:?}");
                    for out in [&windowed, &whole] {
                        let file = open(Format::Dotenv, out).unwrap();
                        let plain = crate::engine::decrypt(&file, &KEY, false).unwrap();
                        assert_eq!(plain.as_str(), doc);
                    }
                    // The same MAC: the one of the whole document.
                    let mac = |out: &str| {
                        let m = open(Format::Dotenv, out).unwrap().metadata.mac;
                        crate::cipher::EncValue::parse(&m)
                            .unwrap()
                            .open(&KEY, crate::engine::mac_aad(NOW).as_bytes())
                            .unwrap()
                            .to_vec()
                    };
                    assert_eq!(mac(&windowed), mac(&whole));
                    if doc.len() > 40 {
                        assert!(!cuts.is_empty(), "{doc:?}");
                    }
                }
            }
        }
    }

    /// Metadata lines and syntax errors are found before anything is
    /// written, at their place in the whole text.
    #[test]
    fn checks_come_first() {
        assert!(matches!(
            plaintext(Format::Dotenv, "A=1\nB=2\nC=3\nD=4\nsops_version=3\n"),
            Err(EngineError::AlreadyEncrypted)
        ));
        match plaintext(Format::Dotenv, "A=1\nB=2\nC=3\nD=4\nE=5\nno equals\n") {
            Err(EngineError::Parse(e)) => assert_eq!((e.line, e.column), (6, 1)),
            _ => panic!("no error"),
        }
    }
}
