//! `rotate FILE…`: a new data key, every value re-encrypted with fresh
//! nonces, the key re-wrapped for every recipient (`--add-age`/`--rm-age`
//! change who those are).

use crate::args::{IoArgs, RotateArgs};
use crate::exit::{code, Failure, Result};
use crate::io::{self, Input, Sensitivity};
use crate::multi::{self, Outcome};
use crate::sopsfile::SopsFile;
use crate::{clock, keysource};
use sops_like_format::{engine, Format};

pub fn run(args: RotateArgs) -> Result<()> {
    let files = multi::expand(&args.files, args.recursive)?;
    if files.len() == 1 && !args.recursive {
        return one(&args, &files[0]);
    }
    if !args.io.in_place {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "rotating several files needs -i/--in-place",
        ));
    }
    multi::each(&files, "rotated", |f| one(&args, f).map(|_| Outcome::Done))
}

fn one(args: &RotateArgs, file: &str) -> Result<()> {
    let input = io::read_encrypted(file, code::COULD_NOT_READ_INPUT_FILE)?;
    let enc = SopsFile::open(&args.io, &input)?;
    let add_args = crate::args::KeyArgs {
        age: args.add_age.clone(),
        kms: args.add_kms.clone(),
        aws_profile: None,
        encryption_context: args.encryption_context.clone(),
        pgp: args.add_pgp.clone(),
        hc_vault_transit: args.add_hc_vault_transit.clone(),
        gcp_kms: args.add_gcp_kms.clone(),
        azure_kv: args.add_azure_kv.clone(),
        hckms: args.add_hckms.clone(),
        shamir_secret_sharing_threshold: None,
    };
    let add = keysource::cli_keys(&add_args)?;
    // A removed age recipient must still be one (sops refuses a typo
    // rather than warn that it is absent).
    if let Some(rm_age) = &args.rm_age {
        keysource::parse_recipients(&keysource::split_list(rm_age))?;
    }
    let rm: Vec<String> = [
        &args.rm_age,
        &args.rm_kms,
        &args.rm_pgp,
        &args.rm_hc_vault_transit,
        &args.rm_gcp_kms,
        &args.rm_azure_kv,
        &args.rm_hckms,
    ]
    .into_iter()
    .flatten()
    .flat_map(|s| keysource::split_list(s))
    .collect();
    // Unwrapped once the keys to add and remove are known to be keys, as
    // sops parses them first (a bad recipient: exit 1, not 128), and
    // before the groups are changed, as sops (a group left empty without
    // an identity: 128).
    let old_key = keysource::data_key(
        enc.metadata(),
        &input.name,
        args.decryption_order.as_deref(),
    )?;
    // sops: 1 when the change would leave a key group empty ("empty key
    // group provided"), as for the other refusals here.
    let groups = keysource::recipients_of(enc.metadata(), add, &rm)
        .map_err(|f| f.with_code(code::GENERIC))?;
    let (new_key, keys) = keysource::new_data_key(&groups, enc.metadata().shamir_threshold)?;
    let now = clock::now_rfc3339();
    let fail = |e| Failure::engine(&input.name, e);
    let out = match converted_to(&args.io, &input, &enc)? {
        Some(to) => {
            // A binary-store file is a JSON document (`data` and `sops`).
            let reopened;
            let file = match &enc {
                SopsFile::Text(f) => f,
                SopsFile::Binary { src, .. } => {
                    reopened = engine::open(Format::Json, src).map_err(fail)?;
                    &reopened
                }
            };
            let plain = engine::decrypt(file, old_key.as_bytes(), args.ignore_mac).map_err(fail)?;
            let opts = engine::EncryptOptions::of(&file.metadata);
            crate::sopsfile::encrypt_as(
                &input.name,
                file.format,
                to,
                &plain,
                new_key.as_bytes(),
                &opts,
                keys,
                &now,
            )?
        }
        None => enc
            .rotate(
                old_key.as_bytes(),
                new_key.as_bytes(),
                keys,
                args.ignore_mac,
                &now,
            )
            .map_err(fail)?,
    };
    io::write_output(&args.io, &input, out.as_bytes(), Sensitivity::Encrypted)
}

/// The format to write the rotated file in when it is not the input's:
/// `--output-type`, else the format of the name (`--filename-override`,
/// else the file's), as sops chooses it. A binary-store file changes only
/// with `--output-type`; `binary` is refused as an output type.
fn converted_to(io_args: &IoArgs, input: &Input, enc: &SopsFile<'_>) -> Result<Option<Format>> {
    let (from, to) = match enc {
        SopsFile::Text(f) => (
            f.format,
            io::output_format_by_name(io_args, input, f.format)?,
        ),
        SopsFile::Binary { .. } => match &io_args.output_type {
            Some(t) if t.eq_ignore_ascii_case("binary") => return Ok(None),
            _ => (Format::Json, io::output_format(io_args, Format::Json)?),
        },
    };
    Ok((to != from).then_some(to))
}
