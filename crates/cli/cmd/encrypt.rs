//! `encrypt FILE…`: encrypt plaintext files for the recipients given on the
//! command line or by the matching creation rule.

use crate::args::EncryptArgs;
use crate::exit::{code, Failure, Result};
use crate::io::{self, Sensitivity};
use crate::multi::{self, Outcome};
use crate::{clock, keysource};
use sops_like_format::binary;
use sops_like_format::cipher::CipherKind;
use sops_like_format::engine::{EncryptOptions, EngineError};
use sops_like_format::syntax::parse_plain_as;
use sops_like_format::syntax::yaml::{self, NoDocument};
use sops_like_format::{engine, Format, Node, Tree, Value};
use std::path::Path;

pub fn run(args: EncryptArgs) -> Result<()> {
    let files = multi::expand(&args.files, args.recursive)?;
    if files.len() <= 1 && !args.recursive {
        return one(&args, files.first().map(String::as_str));
    }
    if !args.io.in_place {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "encrypting several files needs -i/--in-place",
        ));
    }
    multi::each(&files, "encrypted", |f| match one(&args, Some(f)) {
        Err(e) if e.code == code::FILE_ALREADY_ENCRYPTED && args.recursive => {
            Ok(Outcome::Skipped("already encrypted".into()))
        }
        r => r.map(|_| Outcome::Done),
    })
}

fn one(args: &EncryptArgs, file: Option<&str>) -> Result<()> {
    let override_path = args.io.filename_override.as_deref().map(Path::new);
    let plan_for = |path: Option<&Path>| {
        super::plan::new_file(path, &args.keys, &args.selector, args.cipher.as_deref())
    };
    // From stdin, the plan comes first: without --filename-override and
    // with a config, it is refused before stdin is read (as in sops). A
    // file is read first: a missing one is exit 100 whatever the keys.
    let (input, mut plan) = if matches!(file, None | Some("-")) {
        let plan = plan_for(override_path)?;
        (io::read_input(file)?, plan)
    } else {
        let input = io::read_input(file)?;
        let plan = plan_for(override_path.or(input.path.as_deref()))?;
        (input, plan)
    };
    // The text to encrypt and its format: the input's, or converted.
    let converted;
    // The document converted from, for its types.
    let mut source = None;
    let (text, out_format): (&str, Format) = if io::is_binary(&args.io, &input) {
        ignore_selector_for_binary(&mut plan.opts, &input.name);
        // As JSON: the binary store's document, which is sops's form of it
        // (AES256_GCM). The default cipher seals a JSON value's lexeme
        // (`"x"`, quotes and all), so UTF-8 bytes are written as the
        // document `{"data": "…"}`, which every command reads as JSON; other
        // bytes keep the binary store's form (`decrypt` reads it back).
        let to = binary_output(&args.io, &input)?.filter(|&to| {
            to != Format::Json
                || (plan.opts.cipher != CipherKind::Aes256Gcm
                    && std::str::from_utf8(&input.bytes).is_ok())
        });
        match to {
            None => {
                let (data_key, keys) = keysource::new_data_key(&plan.groups, plan.threshold)?;
                let out = binary::encrypt_binary(
                    &input.bytes,
                    data_key.as_bytes(),
                    &plan.opts,
                    keys,
                    &clock::now_rfc3339(),
                )
                .map_err(|e| Failure::engine(&input.name, e))?;
                return io::write_output(&args.io, &input, out.as_bytes(), Sensitivity::Encrypted);
            }
            // As sops: the document `{data: <the bytes>}` in that format.
            Some(to) => {
                let tree = super::decrypt::binary_as_tree(&input.bytes).map_err(|e| {
                    e.hint(format!(
                        "{} is not text: encrypt it with --output-type binary (or json)",
                        input.name
                    ))
                })?;
                converted = super::decrypt::emit_to_encrypt(None, to, plan.opts.cipher, &tree)?;
                // (A string with `\n` in it keeps its exact bytes: see `typed_as`.)
                source = Some(tree);
                (&converted, to)
            }
        }
    } else {
        let format = io::input_format(&args.io, &input)?;
        // `--output-type binary`: sops's binary store writes a document as
        // JSON (`decrypt` then writes its `data` string).
        let out_format = if args.io.output_type.as_deref().is_some_and(is_binary_type) {
            Format::Json
        } else {
            io::output_format_by_name(&args.io, &input, format)?
        };
        let text = input.text()?;
        if out_format == format {
            (text, format)
        } else {
            if format == Format::Yaml {
                no_yaml_document(&input.name, text)?;
            }
            // The input is checked as sops unmarshals it, before it is
            // converted (`--input-type yaml x.env` of a list: 2, not 4).
            let parsed = parse_plain_as(format, text, plan.opts.cipher)
                .map_err(|e| Failure::engine(&input.name, EngineError::Parse(e)))?;
            if parsed.metadata.is_some() {
                return Err(Failure::engine(&input.name, EngineError::AlreadyEncrypted));
            }
            top_level(&input.name, format, &parsed.tree)?;
            converted = super::decrypt::emit_to_encrypt(
                Some(format),
                out_format,
                plan.opts.cipher,
                &parsed.tree,
            )?;
            source = Some(parsed.tree);
            (&converted, out_format)
        }
    };
    if out_format == Format::Yaml {
        no_yaml_document(&input.name, text)?;
    }
    // (A YAML document that is empty or `null` holds `{}` from here on, as
    // sops reads it.)
    let mut doc = engine::plaintext_for(out_format, text, plan.opts.cipher)
        .map_err(|e| Failure::engine(&input.name, e))?;
    if let Some(source) = &source {
        // Converted: the values keep their types, as sops keeps them.
        doc = doc
            .typed_as(source)
            .map_err(|e| Failure::engine(&input.name, e))?;
    }
    if let Some(tree) = doc.tree() {
        top_level(&input.name, out_format, tree)?;
    }
    if out_format == Format::Ini && plan.opts.cipher == CipherKind::Aes256Gcm {
        warn_markers_sops_skips(&input.name, text, &plan.opts.selector);
    }
    // Parsed once: an already-encrypted file is refused before any key is wrapped.
    let (data_key, keys) = keysource::new_data_key(&plan.groups, plan.threshold)?;
    // Streamed: the encrypted document is written as it is produced.
    io::stream_output(&args.io, &input, Sensitivity::Encrypted, |sink| {
        engine::encrypt_plaintext_to(
            doc,
            data_key.as_bytes(),
            &plan.opts,
            keys,
            &clock::now_rfc3339(),
            sink,
        )
    })
}

/// Binary input is one value, `data`, always encrypted: as sops does, a
/// selector (from the command line or a creation rule) is ignored with a
/// warning, and so is `mac_only_encrypted` (it cannot change anything).
/// Before, written as a YAML or .env document (`--output-type yaml`), the
/// bytes stayed in clear under a selector that did not select `data`.
fn ignore_selector_for_binary(opts: &mut EncryptOptions, name: &str) {
    use sops_like_format::metadata::Selector;
    let what = match &opts.selector {
        s if *s == Selector::default() => None,
        Selector::UnencryptedSuffix(_) => Some("an unencrypted suffix"),
        Selector::EncryptedSuffix(_) => Some("an encrypted suffix"),
        Selector::EncryptedRegex(_) => Some("an encrypted regex"),
        Selector::UnencryptedRegex(_) => Some("an unencrypted regex"),
        Selector::EncryptedCommentRegex(_) => Some("an encrypted comment regex"),
        // (sops does not warn about it: it cannot have any effect.)
        Selector::UnencryptedCommentRegex(_) => None,
    };
    if let Some(what) = what {
        stderr!(
            "warning: {name}: using {what} does not make sense with binary input (its one value, `data`, is always encrypted); it is ignored"
        );
    }
    opts.selector = Selector::default();
    opts.mac_only_encrypted = false;
}

/// A YAML text with no document to encrypt (and to hold the metadata) is
/// refused with sops's exit codes: 92 when it is empty (no byte at all), 2
/// when it has only blanks, comments or `...` markers (sops: "Error
/// unmarshalling file: EOF", or go-yaml's "did not find expected node
/// content" for a `...` before any document).
fn no_yaml_document(name: &str, text: &str) -> Result<()> {
    let what = match yaml::no_document(text) {
        None => return Ok(()),
        Some(NoDocument::Empty) => {
            return Err(Failure::new(
                code::NEED_AT_LEAST_ONE_DOCUMENT,
                format!("{name}: the file is empty: it must contain at least one document"),
            ))
        }
        Some(NoDocument::EndMarkerFirst) => "a `...` document end marker and no document before it",
        Some(NoDocument::OnlyComments) => "only comments",
        Some(NoDocument::OnlyBlanks) => "only blanks",
    };
    Err(Failure::new(
        code::COULD_NOT_READ_INPUT_FILE,
        format!("{name}: the file has no YAML document, {what}"),
    ))
}

/// Whether an `--output-type` names the binary store.
fn is_binary_type(t: &str) -> bool {
    t.eq_ignore_ascii_case("binary")
}

/// The output of a file read as bytes (the binary store): `--output-type`,
/// else the format sops gives its name (`--input-type binary x.yaml`: YAML, as
/// sops), else (`None`) the binary store's JSON document (for `json`, the
/// caller picks that document or `{"data": …}` as a JSON text). INI has no place for a top-level value: refused
/// with exit 4, as sops refuses it.
fn binary_output(io_args: &crate::args::IoArgs, input: &io::Input) -> Result<Option<Format>> {
    let to = match io_args.output_type.as_deref() {
        Some(t) if is_binary_type(t) => None,
        Some(_) => Some(io::output_format(io_args, Format::Json)?),
        None => {
            let name = io_args
                .filename_override
                .as_deref()
                .or(input.path.as_ref().and_then(|p| p.to_str()));
            name.and_then(Format::from_path_as_sops)
        }
    };
    match to {
        None => Ok(None),
        Some(Format::Ini) => Err(Failure::new(
            code::ERROR_DUMPING_TREE,
            "cannot write a binary file as ini: an INI file has no place for its one top-level value `data`",
        )
        .hint("use --output-type binary, json, yaml or dotenv")),
        Some(to) => Ok(Some(to)),
    }
}

/// A plaintext whose top level cannot hold the `sops` metadata is refused
/// with exit 2, as sops refuses it when it unmarshals the file: a YAML
/// document that is a sequence or a scalar (an empty or `null` document
/// holds `{}`), a JSON scalar (a top-level JSON array is sops-like's own
/// extension).
fn top_level(name: &str, format: Format, tree: &Tree) -> Result<()> {
    let what = |doc: &Node| match doc {
        Node::Map(_) => None,
        Node::Seq(_) if format == Format::Json => None,
        Node::Seq(_) => Some("a sequence"),
        Node::Scalar(s) if s.value == Value::Null && format == Format::Yaml => None,
        _ => Some("a scalar"),
    };
    match tree.docs.iter().find_map(what) {
        None => Ok(()),
        Some(kind) => Err(Failure::new(
            code::COULD_NOT_READ_INPUT_FILE,
            format!(
                "{name}: the top level of the {} document is {kind}: it must be a mapping to hold the sops metadata",
                format.name()
            ),
        )),
    }
}

/// In AES256_GCM mode an INI comment marker selects the key *after* the
/// one below it, as sops reads INI comments: warn about each value a
/// marker seems to select that is left in clear (never its value).
fn warn_markers_sops_skips(
    name: &str,
    text: &str,
    selector: &sops_like_format::metadata::Selector,
) {
    use sops_like_format::metadata::Selector;
    // Only comment markers can select differently (the text is parsed
    // twice more to tell).
    if !matches!(
        selector,
        Selector::EncryptedCommentRegex(_) | Selector::UnencryptedCommentRegex(_)
    ) {
        return;
    }
    let Ok(decider) = sops_like_format::select::Decider::new(selector) else {
        return;
    };
    for path in sops_like_format::syntax::ini::values_sops_markers_skip(text, &decider) {
        stderr!(
            "warning: {name}: {path} stays in clear: in AES256_GCM mode a comment marker selects the key after the one below it, as sops reads INI comments (put the marker above the key before it, or use --encrypted-regex)"
        );
    }
}
