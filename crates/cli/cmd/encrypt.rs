//! `encrypt FILE…`: encrypt plaintext files for the recipients given on the
//! command line or by the matching creation rule.

use crate::args::EncryptArgs;
use crate::exit::{code, Failure, Result};
use crate::io::{self, Sensitivity};
use crate::multi::{self, Outcome};
use crate::{clock, keysource};
use sops_like_format::binary;
use sops_like_format::{engine, Format};
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
    let (input, plan) = if matches!(file, None | Some("-")) {
        let plan = plan_for(override_path)?;
        (io::read_input(file)?, plan)
    } else {
        let input = io::read_input(file)?;
        let plan = plan_for(override_path.or(input.path.as_deref()))?;
        (input, plan)
    };
    if io::is_binary(&args.io, &input) {
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
    let format = io::input_format(&args.io, &input)?;
    let out_format = io::output_format_by_name(&args.io, &input, format)?;
    // The input is used as it is (no copy) unless it is converted first.
    let converted;
    let text: &str = if out_format != format {
        converted = super::decrypt::convert(format, out_format, input.text()?, plan.opts.cipher)?;
        &converted
    } else {
        input.text()?
    };
    if out_format == Format::Yaml {
        no_yaml_document(&input.name, text)?;
    }
    // Parsed once: an already-encrypted file is refused before any key is wrapped.
    let doc = engine::plaintext(out_format, text).map_err(|e| Failure::engine(&input.name, e))?;
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

/// A YAML text with no document to encrypt (and to hold the metadata) is
/// refused with sops's exit codes: 92 when it is empty, 2 when it has only
/// comments (sops: "Error unmarshalling file: EOF").
fn no_yaml_document(name: &str, text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Failure::new(
            code::NEED_AT_LEAST_ONE_DOCUMENT,
            format!("{name}: the file is empty: it must contain at least one document"),
        ));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let only_comments = text
        .lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with('#'));
    if only_comments {
        return Err(Failure::new(
            code::COULD_NOT_READ_INPUT_FILE,
            format!("{name}: the file has no YAML document, only comments"),
        ));
    }
    Ok(())
}
