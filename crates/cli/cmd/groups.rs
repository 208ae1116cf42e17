//! `groups add` / `groups delete`: change the key groups of a file (same
//! data key, re-split into Shamir shares for the new set of groups).

use crate::args::{GroupsAddArgs, GroupsCommand, GroupsDeleteArgs, IoArgs};
use crate::exit::{code, Failure, Result};
use crate::io::{self, Sensitivity};
use crate::keysource;
use crate::sopsfile::SopsFile;
use sops_like_keys::KeyRecipient;

/// As sops: `groups add` / `groups delete` stop with exit 1 on any error
/// but a file that cannot be read (2).
pub fn run(cmd: GroupsCommand) -> Result<()> {
    match cmd {
        GroupsCommand::Add(a) => add(*a),
        GroupsCommand::Delete(a) => delete(a),
    }
    .map_err(|f| match f.code {
        code::COULD_NOT_READ_INPUT_FILE => f,
        _ => f.with_code(code::GENERIC),
    })
}

fn change(
    file: &str,
    in_place: bool,
    threshold: Option<usize>,
    edit: impl FnOnce(&mut Vec<Vec<KeyRecipient>>) -> Result<()>,
) -> Result<()> {
    let threshold = crate::args::shamir_threshold(threshold);
    let io_args = IoArgs::file(in_place, None);
    let input = io::read_encrypted(file, code::COULD_NOT_READ_INPUT_FILE)?;
    // Any encrypted file, a binary-store one included (a name with no
    // known extension), as the other commands read it.
    let enc = SopsFile::open(&io_args, &input)?;
    let meta = enc.metadata();
    let mut groups = keysource::recipients_of(meta, Vec::new(), &[])?;
    // A threshold stored with one group means nothing: a second group gets
    // the default, every group.
    let stored = meta.split_threshold();
    edit(&mut groups)?;
    // A threshold that the groups left cannot meet is refused, as sops
    // does: lowering it silently would let fewer key holders decrypt.
    if let Some(t) = threshold.or(stored).filter(|t| *t > groups.len()) {
        return Err(Failure::new(
            code::GENERIC,
            format!(
                "the Shamir threshold is {t}, but there would be only {} key group(s): it could never be met",
                groups.len()
            ),
        )
        .hint("lower it first with --shamir-secret-sharing-threshold (or add a group)"));
    }
    let threshold = if groups.len() > 1 {
        let t = threshold.or(stored).unwrap_or(groups.len());
        if t < 2 {
            return Err(Failure::new(
                code::GENERIC,
                "the Shamir threshold must be at least 2 with several key groups",
            ));
        }
        Some(t)
    } else {
        None
    };
    let key = keysource::data_key(meta, &input.name, None)?;
    let keys = keysource::wrap_data_key(&key, &groups, threshold)?;
    let out = enc
        .replace_keys(keys)
        .map_err(|e| Failure::engine(&input.name, e))?;
    io::write_output(&io_args, &input, out.as_bytes(), Sensitivity::Encrypted)
}

fn add(a: GroupsAddArgs) -> Result<()> {
    // Each flag may be repeated and hold a comma-separated list.
    let list = |v: &[String]| (!v.is_empty()).then(|| v.join(","));
    let keys = crate::args::KeyArgs {
        age: list(&a.age),
        kms: list(&a.kms),
        aws_profile: a.aws_profile.clone(),
        encryption_context: a.encryption_context.clone(),
        pgp: list(&a.pgp),
        hc_vault_transit: list(&a.hc_vault_transit),
        gcp_kms: list(&a.gcp_kms),
        azure_kv: list(&a.azure_kv),
        hckms: list(&a.hckms),
        shamir_secret_sharing_threshold: None,
    };
    let new: Vec<KeyRecipient> = keysource::cli_keys(&keys)?;
    if new.is_empty() {
        return Err(
            Failure::new(code::NO_ENCRYPTION_KEY_FOUND, "the new group has no keys")
                .hint("pass --age age1… (or --pgp, --kms, …; repeatable)"),
        );
    }
    change(
        &a.file,
        a.in_place,
        a.shamir_secret_sharing_threshold,
        |groups| {
            groups.push(new);
            Ok(())
        },
    )
}

fn delete(a: GroupsDeleteArgs) -> Result<()> {
    change(
        &a.file,
        a.in_place,
        a.shamir_secret_sharing_threshold,
        |groups| {
            if a.index >= groups.len() {
                return Err(Failure::new(
                    code::GENERIC,
                    format!(
                        "the file has {} key groups; there is no group {}",
                        groups.len(),
                        a.index
                    ),
                ));
            }
            if groups.len() == 1 {
                return Err(Failure::new(
                    code::GENERIC,
                    "cannot delete the only key group",
                ));
            }
            groups.remove(a.index);
            Ok(())
        },
    )
}
