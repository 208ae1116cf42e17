//! Glue between the command line / environment and sops-like-keys: which
//! recipients a new file is for, where identities are looked for, and the
//! mapping between the metadata's master keys and the keys crate's model.

use crate::exit::{code, Failure, Result};
use sops_like_format::engine::KeyMaterial;
use sops_like_format::metadata::{MasterKey, Metadata};
use sops_like_keys::{
    decrypt_data_key, encrypt_data_key, DataKey, Identities, KeyGroup, Recipient,
};
use std::path::PathBuf;

/// Split a comma-separated list, trimming blanks.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// Parse age recipients.
pub fn parse_recipients(list: &[String]) -> Result<Vec<Recipient>> {
    list.iter()
        .map(|r| {
            Recipient::parse(r).map_err(|e| {
                Failure::new(code::GENERIC, format!("invalid age recipient {r:?}: {e}")).hint(
                    "age recipients look like age1…, or an ssh-ed25519 / ssh-rsa public key line",
                )
            })
        })
        .collect()
}

/// A new data key wrapped for `groups`.
pub fn new_data_key(
    groups: &[Vec<Recipient>],
    threshold: Option<usize>,
) -> Result<(DataKey, KeyMaterial)> {
    let key = DataKey::generate()
        .map_err(|e| Failure::new(code::GENERIC, format!("could not generate a data key: {e}")))?;
    let wrapped = encrypt_data_key(&key, groups, threshold).map_err(|e| {
        Failure::new(
            code::ERROR_ENCRYPTING_TREE,
            format!("could not wrap the data key: {e}"),
        )
    })?;
    let key_groups = wrapped
        .into_iter()
        .map(|g| g.0.iter().map(to_metadata_key).collect())
        .collect();
    let shamir_threshold = if groups.len() > 1 {
        Some(threshold.unwrap_or(groups.len()))
    } else {
        None
    };
    Ok((
        key,
        KeyMaterial {
            key_groups,
            shamir_threshold,
        },
    ))
}

/// An existing data key wrapped for `groups` (updatekeys, groups add/delete).
pub fn wrap_data_key(
    key: &DataKey,
    groups: &[Vec<Recipient>],
    threshold: Option<usize>,
) -> Result<KeyMaterial> {
    let wrapped = encrypt_data_key(key, groups, threshold).map_err(|e| {
        Failure::new(
            code::ERROR_ENCRYPTING_TREE,
            format!("could not wrap the data key: {e}"),
        )
    })?;
    let key_groups = wrapped
        .into_iter()
        .map(|g| g.0.iter().map(to_metadata_key).collect())
        .collect();
    let shamir_threshold = if groups.len() > 1 {
        Some(threshold.unwrap_or(groups.len()))
    } else {
        None
    };
    Ok(KeyMaterial {
        key_groups,
        shamir_threshold,
    })
}

fn to_metadata_key(k: &sops_like_keys::MasterKey) -> MasterKey {
    MasterKey::age(k.id(), k.enc())
}

fn to_keys_group(group: &[MasterKey]) -> KeyGroup {
    KeyGroup(
        group
            .iter()
            .map(|k| match k.kind.as_str() {
                "age" => sops_like_keys::MasterKey::Age {
                    recipient: k.field("recipient").unwrap_or_default(),
                    enc: k.enc().unwrap_or_default(),
                },
                other => sops_like_keys::MasterKey::Other {
                    kind: other.to_string(),
                    id: k.id(),
                    enc: k.enc().unwrap_or_default(),
                },
            })
            .collect(),
    )
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Identities from everywhere sops looks: `SOPS_AGE_KEY`,
/// `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD`, `SOPS_AGE_SSH_PRIVATE_KEY_FILE`,
/// `$XDG_CONFIG_HOME/sops/age/keys.txt` (default `~/.config/…`),
/// `~/.ssh/id_ed25519` and `~/.ssh/id_rsa`.
pub fn identities() -> Result<Identities> {
    let mut ids = Identities::new();
    let fail = |what: String| Failure::new(code::COULD_NOT_RETRIEVE_KEY, what);
    if let Ok(text) = std::env::var("SOPS_AGE_KEY") {
        ids.add_text("SOPS_AGE_KEY", &text)
            .map_err(|e| fail(format!("SOPS_AGE_KEY: {e}")))?;
    }
    if let Some(path) = std::env::var_os("SOPS_AGE_KEY_FILE").filter(|p| !p.is_empty()) {
        ids.add_file(&PathBuf::from(&path), true)
            .map_err(|e| fail(format!("SOPS_AGE_KEY_FILE: {e}")))?;
    }
    if let Ok(cmd) = std::env::var("SOPS_AGE_KEY_CMD") {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| fail(format!("SOPS_AGE_KEY_CMD could not run: {e}")))?;
        if !out.status.success() {
            return Err(fail(format!("SOPS_AGE_KEY_CMD failed with {}", out.status)));
        }
        let text = zeroize::Zeroizing::new(String::from_utf8_lossy(&out.stdout).into_owned());
        ids.add_text("SOPS_AGE_KEY_CMD", &text)
            .map_err(|e| fail(format!("SOPS_AGE_KEY_CMD: {e}")))?;
    }
    if let Some(path) = std::env::var_os("SOPS_AGE_SSH_PRIVATE_KEY_FILE").filter(|p| !p.is_empty())
    {
        ids.add_ssh_key_file(&PathBuf::from(&path), true)
            .map_err(|e| fail(format!("SOPS_AGE_SSH_PRIVATE_KEY_FILE: {e}")))?;
    }
    let config_dir = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".config")));
    if let Some(dir) = config_dir {
        // An unreadable default file is reported in the sources list, not fatal.
        let _ = ids.add_file(&dir.join("sops/age/keys.txt"), false);
    }
    if let Some(h) = home() {
        let _ = ids.add_ssh_key_file(&h.join(".ssh/id_ed25519"), false);
        let _ = ids.add_ssh_key_file(&h.join(".ssh/id_rsa"), false);
    }
    Ok(ids)
}

/// Recover the data key of a file.
pub fn data_key(meta: &Metadata, name: &str, _order: Option<&str>) -> Result<DataKey> {
    let ids = identities()?;
    let groups: Vec<KeyGroup> = meta.key_groups.iter().map(|g| to_keys_group(g)).collect();
    decrypt_data_key(&groups, meta.shamir_threshold, &ids).map_err(|e| {
        Failure::new(code::COULD_NOT_RETRIEVE_KEY, format!("{name}: could not retrieve the data key:\n{e}"))
            .hint("set SOPS_AGE_KEY_FILE to an identity file for one of the recipients above, or put it in ~/.config/sops/age/keys.txt")
    })
}

/// The recipients of an existing file, as groups, with `add` appended to
/// the first group and `rm` removed from every group. Only age keys can be
/// re-wrapped by this build; a file with other key types is refused.
pub fn recipients_of(
    meta: &Metadata,
    add: &[String],
    rm: &[String],
) -> Result<Vec<Vec<Recipient>>> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    for g in &meta.key_groups {
        let mut ids = Vec::new();
        for k in g {
            if k.kind != "age" {
                return Err(Failure::new(
                    code::GENERIC,
                    format!("this file has a {} key ({}); this build of sops-like can only re-wrap age keys", k.kind, k.id()),
                ));
            }
            ids.push(k.id());
        }
        groups.push(ids);
    }
    if groups.is_empty() {
        groups.push(Vec::new());
    }
    for r in rm {
        let before: usize = groups.iter().map(Vec::len).sum();
        for g in &mut groups {
            g.retain(|id| id != r);
        }
        if groups.iter().map(Vec::len).sum::<usize>() == before {
            return Err(Failure::new(
                code::GENERIC,
                format!("{r} is not a recipient of this file"),
            ));
        }
    }
    for a in add {
        if !groups.iter().flatten().any(|id| id == a) {
            groups[0].push(a.clone());
        }
    }
    if groups.iter().any(Vec::is_empty) {
        return Err(Failure::new(
            code::NO_ENCRYPTION_KEY_FOUND,
            "that would leave a key group without recipients",
        )
        .hint(
            "add another recipient first (--add-age), or remove the group with `groups delete`",
        ));
    }
    groups.iter().map(|g| parse_recipients(g)).collect()
}
