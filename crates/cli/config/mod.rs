//! The `.sops-like.yaml` / `.sops.yaml` configuration: where it is, which
//! creation rule covers a file, and what that rule asks for (key groups,
//! Shamir threshold, selector, MAC mode, cipher).
//!
//! Nothing here prints: problems are [`Failure`]s naming `FILE:LINE:COL`
//! (exit code 5, 61 for a missing `--config` file), and harmless oddities
//! (unknown keys, ignored files) are returned in [`ConfigFile::warnings`].

// Not all of the API is used until the commands are wired to it.
#![allow(dead_code, unused_imports)]

mod destinations;
mod discover;
mod keys;
mod node;
mod parse;
mod rules;
mod source;
#[cfg(test)]
mod tests;

pub use destinations::{Destination, DestinationRule, VaultDestination};
pub use discover::{discover, find_config_path, load};
pub use keys::{KeySpec, NamedRecipient};
pub use parse::parse;
pub use rules::Rule;

use crate::exit::{code, Failure};
use sops_like_format::cipher::CipherKind;
use sops_like_format::goregex::GoRegex;
use std::path::{Component, Path, PathBuf};

/// Which program's config file this is; it decides the default cipher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigKind {
    /// `.sops.yaml`: a sops repository, so new files default to AES256_GCM
    /// (readable by sops).
    Sops,
    /// `.sops-like.yaml`: new files default to XCHACHA20_POLY1305.
    SopsLike,
}

impl ConfigKind {
    /// The kind of a config file judged by its name: names containing
    /// `sops-like` are ours, anything else (`.sops.yaml`, a `--config`
    /// file with another name) is taken as a sops config.
    pub fn from_path(path: &Path) -> ConfigKind {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.contains("sops-like") {
            ConfigKind::SopsLike
        } else {
            ConfigKind::Sops
        }
    }
}

/// A loaded config file.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    /// The file, as found or given.
    pub path: PathBuf,
    /// The absolute directory holding it: `path_regex` sees file paths
    /// relative to it.
    pub dir: PathBuf,
    /// sops's or ours.
    pub kind: ConfigKind,
    /// `creation_rules`, in order (first match wins). Empty when the file
    /// has none.
    pub rules: Vec<Rule>,
    /// The top-level `recipients:` map, in file order.
    pub recipients: Vec<NamedRecipient>,
    /// `destination_rules`, in order (first match wins), for `publish`.
    pub destination_rules: Vec<DestinationRule>,
    /// Warnings to show (unknown keys, ignored `.sops.yml` files…), each
    /// starting with `FILE:LINE:`.
    pub warnings: Vec<String>,
}

impl ConfigFile {
    /// The first rule whose `path_regex` matches `file_path` (a rule
    /// without one matches every file). The path is made absolute
    /// (against the current directory) and cleaned, then `<config dir>/`
    /// is stripped, as sops does; the regex is unanchored.
    pub fn find_rule(&self, file_path: &Path) -> Result<Option<&Rule>, Failure> {
        let path = self.match_path(file_path)?;
        self.first_match(&self.rules, |r| r.path_regex.as_ref(), &path)
    }

    /// The first destination rule whose `path_regex` matches `file_path`
    /// as given on the command line (sops does not make it relative to the
    /// config's directory for destination rules); a rule without one
    /// matches every file.
    pub fn find_destination_rule(
        &self,
        file_path: &str,
    ) -> Result<Option<&DestinationRule>, Failure> {
        self.first_match(
            &self.destination_rules,
            |r| r.path_regex.as_ref(),
            file_path,
        )
    }

    /// The first of `rules` whose `path_regex` matches `path` (one without
    /// matches every path). Each pattern is compiled here, when a path
    /// first reaches it, as sops compiles each rule's in turn: a pattern
    /// too large to compile is an error.
    fn first_match<'r, R>(
        &self,
        rules: &'r [R],
        path_regex: impl Fn(&R) -> Option<&GoRegex>,
        path: &str,
    ) -> Result<Option<&'r R>, Failure> {
        for rule in rules {
            let Some(re) = path_regex(rule) else {
                return Ok(Some(rule));
            };
            let matched = re.try_match(path).map_err(|e| {
                Failure::new(
                    code::GENERIC,
                    format!(
                        "{}: path_regex `{}` cannot be compiled: {e}",
                        self.path.display(),
                        re.as_str()
                    ),
                )
            })?;
            if matched {
                return Ok(Some(rule));
            }
        }
        Ok(None)
    }

    /// The string that `path_regex` is matched against for `file_path`.
    pub fn match_path(&self, file_path: &Path) -> Result<String, Failure> {
        let abs = absolute(file_path).map_err(|e| {
            Failure::new(
                code::GENERIC,
                format!(
                    "cannot resolve {} to an absolute path: {e}",
                    file_path.display()
                ),
            )
        })?;
        Ok(relative_to(&abs, &self.dir))
    }

    /// A message for "no rule matched and no keys were given": the rules
    /// and the path they were matched against.
    pub fn describe_no_match(&self, file_path: &Path) -> String {
        let path = self
            .match_path(file_path)
            .unwrap_or_else(|_| file_path.display().to_string());
        if self.rules.is_empty() {
            return format!(
                "{} has no creation_rules, and no keys were given for {path}",
                self.path.display()
            );
        }
        let mut out = format!(
            "no creation rule in {} matches {path:?} (the path relative to {}, which path_regex is matched against), and no keys were given; the rules are:",
            self.path.display(),
            self.dir.display()
        );
        for rule in &self.rules {
            out.push_str("\n  ");
            out.push_str(&rule.summary());
        }
        out
    }

    /// The cipher for a new file made by `rule` when `--cipher` is not
    /// given: the rule's `cipher`, else AES256_GCM for a `.sops.yaml`, else
    /// XCHACHA20_POLY1305.
    pub fn default_cipher(&self, rule: &Rule) -> CipherKind {
        rule.cipher.unwrap_or_else(|| self.fallback_cipher())
    }

    /// The cipher when no rule applies (keys from the command line).
    pub fn fallback_cipher(&self) -> CipherKind {
        match self.kind {
            ConfigKind::Sops => CipherKind::Aes256Gcm,
            ConfigKind::SopsLike => CipherKind::XChaCha20Poly1305,
        }
    }

    /// The recipients a name stands for.
    pub fn recipient(&self, name: &str) -> Option<&NamedRecipient> {
        self.recipients.iter().find(|r| r.name == name)
    }
}

/// `path` made absolute against the current directory (as Go's
/// `os.Getwd` gives it: see [`crate::workdir`]), with `.` and `..` removed
/// lexically (Go's `filepath.Abs`).
pub(crate) fn absolute(path: &Path) -> std::io::Result<PathBuf> {
    if path.is_absolute() {
        return Ok(clean(path));
    }
    Ok(clean(&crate::workdir::current_dir()?.join(path)))
}

/// Remove `.` and `..` components without touching the file system.
pub(crate) fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

/// `path` with the prefix `dir/` removed (if it is there), `/`-separated.
fn relative_to(path: &Path, dir: &Path) -> String {
    let path = path.to_string_lossy().replace('\\', "/");
    let mut dir = dir.to_string_lossy().replace('\\', "/");
    if !dir.ends_with('/') {
        dir.push('/');
    }
    match path.strip_prefix(&dir) {
        Some(rest) => rest.to_string(),
        None => path,
    }
}
