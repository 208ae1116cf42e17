//! What a new file is encrypted with: keys, Shamir threshold, cipher,
//! selector and MAC mode, from the command line and the matching creation
//! rule of `.sops-like.yaml` / `.sops.yaml` (command line first).

use crate::args::{KeyArgs, SelectorArgs};
use crate::config::{self, ConfigFile};
use crate::exit::{code, Failure, Result};
use crate::keysource;
use sops_like_format::cipher::CipherKind;
use sops_like_format::engine::EncryptOptions;
use sops_like_keys::KeyRecipient;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static EXPLICIT_CONFIG: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Remember `--config` / `SOPS_CONFIG` (called once by main).
pub fn set_explicit_config(path: Option<PathBuf>) {
    let _ = EXPLICIT_CONFIG.set(path);
}

/// The config in force: `--config`, else the nearest `.sops-like.yaml` /
/// `.sops.yaml` from the current directory up. Warnings are printed here.
pub fn load_config() -> Result<Option<ConfigFile>> {
    let explicit = EXPLICIT_CONFIG.get().cloned().flatten();
    let cwd = crate::workdir::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let config = config::discover(&cwd, explicit.as_deref())?;
    match &config {
        Some(c) => {
            for w in &c.warnings {
                stderr!("warning: {w}");
            }
        }
        // sops warns about an ignored `.sops.yml` whether or not a config
        // is found further up.
        None if explicit.is_none() => {
            for w in ignored_configs() {
                stderr!("warning: {w}");
            }
        }
        None => {}
    }
    Ok(config)
}

/// Warnings for the `.sops.yml` / `.sops-like.yml` files that the search
/// from the current directory passes and ignores.
fn ignored_configs() -> Vec<String> {
    let cwd = crate::workdir::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    config::find_config_path(&cwd).1
}

/// Everything needed to encrypt a new file.
pub struct NewFile {
    /// Recipients by key group.
    pub groups: Vec<Vec<KeyRecipient>>,
    /// Shamir threshold (two or more groups).
    pub threshold: Option<usize>,
    /// Cipher, selector, MAC mode.
    pub opts: EncryptOptions,
}

/// Plan the encryption of the file at `path` (`None`: stdin without
/// `--filename-override`).
pub fn new_file(
    path: Option<&Path>,
    keys: &KeyArgs,
    selector: &SelectorArgs,
    cipher: Option<&str>,
) -> Result<NewFile> {
    let config = load_config()?;
    // The creation rules need a file name: sops refuses stdin without
    // --filename-override (exit 8) rather than guess one. Without a config
    // there are no rules to match, and sops-like goes on.
    if let (Some(c), None) = (&config, path) {
        return Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "must specify --filename-override when reading from stdin",
        )
        .hint(format!(
            "the creation rules of {} are matched against a file name: pass --filename-override NAME",
            c.path.display()
        )));
    }
    let rule = match (&config, path) {
        (Some(c), Some(p)) => c.find_rule(p)?,
        _ => None,
    };
    let cli_keys = keysource::cli_keys(keys)?;
    let (groups, threshold) = if !cli_keys.is_empty() {
        (
            vec![cli_keys],
            crate::args::shamir_threshold(keys.shamir_secret_sharing_threshold),
        )
    } else if let Some(rule) = rule {
        let groups = rule_groups(rule)?;
        if groups.is_empty() || groups.iter().any(Vec::is_empty) {
            let config = config
                .as_ref()
                .map_or_else(String::new, |c| format!(" of {}", c.path.display()));
            let file = path.map_or_else(String::new, |p| format!(" {}", p.display()));
            return Err(Failure::new(
                code::GENERIC,
                format!("no recipients: the creation rule{config} that matches{file} has an empty key group"),
            )
            .hint("add keys to that rule (age: age1…, kms: …), or pass --age age1…"));
        }
        (
            groups,
            crate::args::shamir_threshold(keys.shamir_secret_sharing_threshold)
                .or(rule.shamir_threshold),
        )
    } else {
        return Err(no_keys(config.as_ref(), path));
    };
    let cipher = match cipher {
        Some(c) => CipherKind::from_name(c).ok_or_else(|| {
            Failure::new(code::GENERIC, format!("unknown cipher {c:?}"))
                .hint("use --cipher xchacha20-poly1305 or --cipher aes256-gcm")
        })?,
        None => match (&config, rule) {
            (Some(c), Some(r)) => c.default_cipher(r),
            (Some(c), None) => c.fallback_cipher(),
            (None, _) => CipherKind::XChaCha20Poly1305,
        },
    };
    let selector_choice = match super::selector_from_args(selector)? {
        Some(s) => s,
        None => rule.and_then(|r| r.selector.clone()).unwrap_or_default(),
    };
    let mac_only = selector.mac_only_encrypted || rule.is_some_and(|r| r.mac_only_encrypted);
    Ok(NewFile {
        groups,
        threshold,
        opts: EncryptOptions {
            cipher,
            selector: selector_choice,
            mac_only_encrypted: mac_only,
        },
    })
}

/// The key groups a creation rule asks for.
pub fn rule_groups(rule: &crate::config::Rule) -> Result<Vec<Vec<KeyRecipient>>> {
    rule.key_groups
        .iter()
        .map(|g| {
            g.iter()
                .map(keysource::spec_recipient)
                .collect::<Result<Vec<_>>>()
        })
        .collect()
}

fn no_keys(config: Option<&ConfigFile>, path: Option<&Path>) -> Failure {
    match (config, path) {
        (Some(c), Some(p)) => Failure::new(
            code::GENERIC,
            format!("no recipients: {}", c.describe_no_match(p)),
        )
        .hint("add a creation rule for this path, or pass --age age1…"),
        _ => {
            let failure = Failure::new(code::GENERIC, "no recipients to encrypt for")
                .hint("pass --age age1…[,age1…], set SOPS_AGE_RECIPIENTS, or add a creation rule to .sops-like.yaml");
            if ignored_configs().is_empty() {
                failure
            } else {
                failure.hint("a .sops.yml / .sops-like.yml was ignored (see the warning above): config files must end in .yaml")
            }
        }
    }
}
