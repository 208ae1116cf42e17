//! `publish FILE` / `publish --recursive DIR`: send an encrypted file to the
//! destination of the first matching `destination_rules` entry, as sops
//! does:
//!
//! - S3 and GCS get the encrypted file: as it is, or, if the rule has a
//!   `recreation_rule` with keys, re-encrypted under a **new data key**
//!   wrapped for those keys (the file on disk is not changed);
//! - Vault KV gets the **decrypted** document as a secret.
//!
//! Unless `--yes`, each upload is confirmed on the terminal (sops's
//! `uploading FILE to DEST ? (y/n)` on stdout, asked again until `y` or
//! `n`). With `--recursive` every file below the directory is published,
//! named by its path relative to it; a failure is reported and the walk
//! goes on (the exit code is the first failure's).

use crate::args::{IoArgs, PublishArgs};
use crate::config::{self, ConfigFile, Destination, DestinationRule};
use crate::exit::{code, Failure, Result};
use crate::io;
use crate::multi::{self, Outcome};
use crate::publish::{self, Http};
use crate::sopsfile::SopsFile;
use crate::{clock, keysource};
use sops_like_format::engine::{self, EncryptOptions};
use std::io::BufRead;
use std::path::{Path, PathBuf};

pub fn run(args: PublishArgs, verbose: bool) -> Result<()> {
    // sops reports every failure of `publish` with exit code 1 (the config
    // first, then the file argument).
    let generic = |mut f: Failure| {
        f.code = code::GENERIC;
        f
    };
    let config = super::plan::load_config().map_err(generic)?.ok_or_else(|| {
        Failure::new(code::GENERIC, "config file not found: publish needs the destination_rules of a .sops.yaml (or .sops-like.yaml)")
            .hint("add destination_rules to the config, or pass --config FILE")
    })?;
    let Some(target) = args.files.first().cloned() else {
        return Err(Failure::new(code::NO_FILE_SPECIFIED, "no file specified")
            .hint("name the encrypted file (or a directory with --recursive) to publish"));
    };
    if args.files.len() > 1 {
        stderr!("warning: more than one file given; only the first one ({target}) is published");
    }
    let meta = std::fs::metadata(&target).map_err(|e| {
        Failure::new(code::GENERIC, format!("cannot read {target}: {e}")).hint("check the path")
    })?;
    let mut session = Session {
        args: &args,
        config: &config,
        verbose,
        http: None,
    };
    if !meta.is_dir() {
        // With --recursive, "n" skips even a single file (as sops).
        let name = file_name(Path::new(&target));
        return session.one(&target, name, args.recursive).map(|_| ());
    }
    if !args.recursive {
        return Err(Failure::new(
            code::GENERIC,
            format!(
                "{target} is a directory: can't operate on a directory without --recursive flag"
            ),
        )
        .hint("pass --recursive to publish every file below it"));
    }
    let files = walk(Path::new(&target))?;
    let names: Vec<String> = files.iter().map(|(path, _)| path.clone()).collect();
    let mut rel = files.into_iter().map(|(_, rel)| rel);
    multi::each(&names, "published", |f| {
        let name = rel.next().unwrap_or_else(|| file_name(Path::new(f)));
        session.one(f, name, true)
    })
}

/// What one run shares between files.
struct Session<'a> {
    args: &'a PublishArgs,
    config: &'a ConfigFile,
    verbose: bool,
    /// Made on the first upload.
    http: Option<Http>,
}

/// What is sent.
enum Payload {
    /// Encrypted bytes, to S3 or GCS.
    Bytes(Vec<u8>),
    /// A decrypted document, to Vault.
    Secret(serde_json::Map<String, serde_json::Value>),
}

/// A decrypted document's strings are wiped when it is dropped.
impl Drop for Payload {
    fn drop(&mut self) {
        if let Payload::Secret(data) = self {
            crate::json::wipe_data(data);
        }
    }
}

impl Session<'_> {
    /// Publish `file` under destination name `name` (before
    /// `--omit-extensions`). `in_walk`: part of a `--recursive` run (a
    /// "no" skips the file instead of failing).
    fn one(&mut self, file: &str, name: String, in_walk: bool) -> Result<Outcome> {
        // sops: a file that does not load as a sops file is exit code 1.
        let generic = |mut f: Failure| {
            f.code = code::GENERIC;
            f
        };
        let rule = self.config.find_destination_rule(file)?.ok_or_else(|| {
            Failure::new(code::GENERIC, no_rule(self.config, file))
                .hint("add a destination rule whose path_regex matches this path (as given on the command line)")
        })?;
        let dest = rule
            .destination()
            .map_err(|e| {
                Failure::new(
                    code::GENERIC,
                    format!("{}: {e}", self.config.path.display()),
                )
            })?
            .ok_or_else(|| {
                Failure::new(
                    code::GENERIC,
                    format!("no destination configured for {file} ({})", rule.summary()),
                )
                .hint("set one of s3_bucket, gcs_bucket or vault_path in the rule")
            })?;
        let name = if self.args.omit_extensions || rule.omit_extensions {
            omit_extension(&name)
        } else {
            name
        };
        let abs = config::absolute(Path::new(file)).unwrap_or_else(|_| PathBuf::from(file));
        // sops: a file that cannot be read (a symlink to a directory or a
        // dangling one, met in a walk) is exit code 2, even when missing.
        let input = io::read_input(Some(file)).map_err(|mut f| {
            if f.code == code::NO_FILE_SPECIFIED {
                f.code = code::COULD_NOT_READ_INPUT_FILE;
            }
            f
        })?;
        let io_args = IoArgs::file(false, None);
        let enc = SopsFile::open(&io_args, &input).map_err(generic)?;
        // sops's LoadEncryptedFile refuses these before anything is sent:
        // without it a file with no keys (plaintext values) would be
        // uploaded as it is.
        check_metadata(enc.metadata()).map_err(|why| {
            Failure::new(
                code::GENERIC,
                format!("{}: cannot publish: {why}", input.name),
            )
            .hint("publish only files encrypted by sops or sops-like (check the `sops` metadata block)")
        })?;
        let order = self.args.decryption_order.as_deref();
        let payload = match &dest {
            Destination::S3 { .. } | Destination::Gcs { .. } => match rule.recreation() {
                None => Payload::Bytes(input.bytes.to_vec()),
                Some(recreation) => {
                    let key = keysource::data_key(enc.metadata(), &input.name, order)?;
                    // The MAC is checked before anything is re-encrypted.
                    verify(&enc, &input.name, key.as_bytes())?;
                    let groups = super::plan::rule_groups(recreation).map_err(generic)?;
                    show_key_changes(&enc, &groups);
                    if !self.confirm(&abs, &dest, &name, in_walk)? {
                        return Ok(Outcome::Skipped("not published".into()));
                    }
                    let out = reencrypt(&enc, &input.name, &key, recreation, &groups)?;
                    Payload::Bytes(out.into_bytes())
                }
            },
            Destination::Vault(_) => {
                let key = keysource::data_key(enc.metadata(), &input.name, order)?;
                Payload::Secret(secret(&enc, &input, key.as_bytes())?)
            }
        };
        let asked = matches!(&dest, Destination::S3 { .. } | Destination::Gcs { .. })
            && rule.recreation().is_some();
        if !asked && !self.confirm(&abs, &dest, &name, in_walk)? {
            return Ok(Outcome::Skipped("not published".into()));
        }
        if self.http.is_none() {
            self.http = Some(Http::new()?);
        }
        let Some(http) = self.http.as_ref() else {
            return Err(publish::fail("no HTTP client"));
        };
        match (&dest, &payload) {
            (Destination::S3 { bucket, prefix }, Payload::Bytes(b)) => {
                publish::s3::upload(http, bucket, &format!("{prefix}{name}"), b, self.verbose)?
            }
            (Destination::Gcs { bucket, prefix }, Payload::Bytes(b)) => {
                publish::gcs::upload(http, bucket, &format!("{prefix}{name}"), b, self.verbose)?
            }
            (Destination::Vault(v), Payload::Secret(data)) => {
                publish::vault::upload(http, v, &name, data, self.verbose)?
            }
            _ => {
                return Err(publish::fail(
                    "internal error: payload and destination differ",
                ))
            }
        }
        Ok(Outcome::Done)
    }

    /// sops's question, unless `--yes`: `true` to go on. "n" fails a single
    /// file and skips one of a walk; end of input is an error.
    fn confirm(&self, abs: &Path, dest: &Destination, name: &str, in_walk: bool) -> Result<bool> {
        if self.args.yes {
            return Ok(true);
        }
        let vault_address = match dest {
            Destination::Vault(v) => publish::vault::address(v),
            _ => String::new(),
        };
        let target = dest.describe(name, &vault_address);
        let stdin = std::io::stdin();
        let mut lines = stdin.lock();
        loop {
            io::write_stdout(
                format!("uploading {} to {target} ? (y/n): ", abs.display()).as_bytes(),
            )?;
            let mut line = String::new();
            let n = lines.read_line(&mut line).map_err(|e| {
                Failure::new(code::GENERIC, format!("could not read the answer: {e}"))
            })?;
            if n == 0 {
                io::write_stdout(b"\n")?;
                return Err(Failure::new(
                    code::GENERIC,
                    format!(
                        "no answer (end of input): {} was not published",
                        abs.display()
                    ),
                )
                .hint("answer y or n, or pass --yes to publish without asking"));
            }
            match line.trim() {
                "y" => return Ok(true),
                "n" => {
                    let msg = format!("Publication of {} canceled", abs.display());
                    if in_walk {
                        io::write_stdout(format!("{msg}\n").as_bytes())?;
                        return Ok(false);
                    }
                    return Err(Failure::new(code::GENERIC, msg));
                }
                _ => {}
            }
        }
    }
}

/// The checks of sops's `Metadata.ToInternal` (run by `LoadEncryptedFile`
/// before `publish` does anything): at least one key, `lastmodified` and
/// the `created_at` of every key but age's RFC 3339 times as Go's
/// `time.Parse` reads them. Stricter than sops in one way: key groups
/// that are all empty (`key_groups: [{}]`) count as no keys too (sops
/// loads such a file, though nothing can decrypt it). Errors name the
/// field, never its value.
fn check_metadata(meta: &sops_like_format::metadata::Metadata) -> std::result::Result<(), String> {
    if meta.key_groups.iter().all(|g| g.is_empty()) {
        return Err("no keys found in file (the sops metadata names no master key)".into());
    }
    if !go_rfc3339(&meta.lastmodified) {
        return Err("the sops metadata's lastmodified is not an RFC 3339 time".into());
    }
    for key in meta.key_groups.iter().flatten() {
        if key.kind == "age" {
            continue;
        }
        if !key.field("created_at").is_some_and(|t| go_rfc3339(&t)) {
            return Err(format!(
                "the created_at of a {} key in the sops metadata is not an RFC 3339 time",
                key.kind
            ));
        }
    }
    Ok(())
}

/// Whether Go's `time.Parse(time.RFC3339, s)` accepts `s`:
/// `YYYY-MM-DDTHH:MM:SS`, an optional fraction (`.` or `,` and digits),
/// then `Z` or `±HH:MM`; the hour may have one digit, and every field is
/// range-checked (the day against the month).
pub fn go_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let (Some(year), Some(month), Some(day)) = (num(0, 4), num(5, 2), num(8, 2)) else {
        return false;
    };
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && (1..=12).contains(&month)) {
        return false;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > days {
        return false;
    }
    // The hour: two digits, or one (Go's general parser).
    let (hour, mut i) = match (num(11, 2), num(11, 1)) {
        (Some(h), _) => (h, 13),
        (None, Some(h)) => (h, 12),
        _ => return false,
    };
    let (Some(min), Some(sec)) = (num(i + 1, 2), num(i + 4, 2)) else {
        return false;
    };
    if !(at(i, b':') && at(i + 3, b':')) || hour > 23 || min > 59 || sec > 59 {
        return false;
    }
    i += 6;
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    match b.get(i..) {
        Some(b"Z") => true,
        Some(zone) if zone.len() == 6 && matches!(zone[0], b'+' | b'-') && zone[3] == b':' => {
            matches!((num(i + 1, 2), num(i + 4, 2)), (Some(h), Some(m)) if h <= 23 && m <= 59)
        }
        _ => false,
    }
}

/// The MAC check of a decryption, without keeping the plaintext.
fn verify(enc: &SopsFile<'_>, name: &str, key: &[u8; 32]) -> Result<()> {
    match enc {
        SopsFile::Text(f) => engine::decrypt(f, key, false).map(drop),
        SopsFile::Binary { file, .. } => file.decrypt(key, false).map(drop),
    }
    .map_err(|e| Failure::engine(name, e))
}

/// The file re-encrypted for the recreation rule, as sops does it: a new
/// data key wrapped for the rule's key groups (and threshold), every value
/// encrypted afresh. The rule's selector, MAC mode and cipher apply when
/// it sets them; otherwise the file's own are kept.
fn reencrypt(
    enc: &SopsFile<'_>,
    name: &str,
    old_key: &sops_like_keys::DataKey,
    rule: &config::Rule,
    groups: &[Vec<sops_like_keys::KeyRecipient>],
) -> Result<String> {
    let threshold = if groups.len() > 1 {
        Some(rule.shamir_threshold.unwrap_or(groups.len()))
    } else {
        None
    };
    let (new_key, keys) = keysource::new_data_key(groups, threshold)?;
    let now = clock::now_rfc3339();
    let overrides = rule.selector.is_some() || rule.mac_only_encrypted || rule.cipher.is_some();
    match enc {
        SopsFile::Text(f) if overrides => {
            let plain = engine::decrypt(f, old_key.as_bytes(), false)
                .map_err(|e| Failure::engine(name, e))?;
            let own = EncryptOptions::of(&f.metadata);
            let opts = EncryptOptions {
                cipher: rule.cipher.unwrap_or(own.cipher),
                selector: rule.selector.clone().unwrap_or(own.selector),
                mac_only_encrypted: rule.mac_only_encrypted || own.mac_only_encrypted,
            };
            engine::encrypt(f.format, &plain, new_key.as_bytes(), &opts, keys, &now)
        }
        _ => enc.rotate(old_key.as_bytes(), new_key.as_bytes(), keys, false, &now),
    }
    .map_err(|e| {
        let mut f = Failure::engine(name, e);
        if f.code != code::ERROR_DUMPING_TREE {
            f.code = code::GENERIC;
        }
        f
    })
}

/// The decrypted document as a KV secret's data.
fn secret(
    enc: &SopsFile<'_>,
    input: &io::Input,
    key: &[u8; 32],
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let fail = |e| Failure::engine(&input.name, e);
    match enc {
        SopsFile::Text(f) => {
            let plain = engine::decrypt(f, key, false).map_err(fail)?;
            // The data as sops reads it (see `engine::decrypted_tree`).
            let tree = engine::decrypted_tree(f, key, &plain).map_err(|e| match e {
                engine::EngineError::DecryptedParse(e) => Failure::new(
                    code::GENERIC,
                    format!("{}: the decrypted document does not parse: {e}", input.name),
                ),
                e => fail(e),
            })?;
            publish::vault::secret_data(&tree)
        }
        SopsFile::Binary { file, .. } => {
            let plain = file.decrypt(key, false).map_err(fail)?;
            match std::str::from_utf8(&plain) {
                Ok(text) => {
                    let mut m = serde_json::Map::new();
                    m.insert("data".into(), serde_json::Value::String(text.to_string()));
                    Ok(m)
                }
                Err(_) => Err("the file is not UTF-8 text".to_string()),
            }
        }
    }
    .map_err(|e| {
        Failure::new(
            code::GENERIC,
            format!("{}: cannot publish to Vault: {e}", input.name),
        )
    })
}

/// sops's key group diff (on stdout, before the question), when the
/// recreation rule changes who can read the file.
fn show_key_changes(enc: &SopsFile<'_>, groups: &[Vec<sops_like_keys::KeyRecipient>]) {
    let have: Vec<Vec<(String, String)>> = enc
        .metadata()
        .key_groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|k| (keysource::stored_id(k), k.id()))
                .collect()
        })
        .collect();
    let want: Vec<Vec<(String, String)>> = groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|r| (keysource::recipient_id(r), display(r)))
                .collect()
        })
        .collect();
    let mut lines = Vec::new();
    let mut changed = false;
    for i in 0..have.len().max(want.len()) {
        let ours = have.get(i).map(Vec::as_slice).unwrap_or_default();
        let theirs = want.get(i).map(Vec::as_slice).unwrap_or_default();
        lines.push(format!("Group {}", i + 1));
        let has = |list: &[(String, String)], id: &str| list.iter().any(|(k, _)| k == id);
        for (_, shown) in theirs.iter().filter(|(id, _)| has(ours, id)) {
            lines.push(format!("    {shown}"));
        }
        for (_, shown) in theirs.iter().filter(|(id, _)| !has(ours, id)) {
            changed = true;
            lines.push(format!("+++ {shown}"));
        }
        for (_, shown) in ours.iter().filter(|(id, _)| !has(theirs, id)) {
            changed = true;
            lines.push(format!("--- {shown}"));
        }
    }
    if changed {
        let mut text =
            String::from("The following changes will be made to the file's key groups:\n");
        for l in lines {
            text.push_str(&l);
            text.push('\n');
        }
        // As sops prints it; a stdout that is gone does not stop the publish.
        let _ = io::write_stdout(text.as_bytes());
    }
}

/// A key of a rule as sops prints it: the recipient, ARN, fingerprint, URL…
fn display(r: &sops_like_keys::KeyRecipient) -> String {
    let id = keysource::recipient_id(r);
    match r {
        sops_like_keys::KeyRecipient::Service(s) => s.id().to_string(),
        _ => id,
    }
}

/// The message for "no destination rule matches".
fn no_rule(config: &ConfigFile, file: &str) -> String {
    if config.destination_rules.is_empty() {
        return format!(
            "{} has no destination_rules: no destination for {file}",
            config.path.display()
        );
    }
    let mut out = format!(
        "no destination rule in {} matches {file:?} (path_regex is matched against the path as given); the rules are:",
        config.path.display()
    );
    for r in &config.destination_rules {
        out.push_str("\n  ");
        out.push_str(&DestinationRule::summary(r));
    }
    out
}

/// The last component of `path` (sops: the base name of the absolute path).
fn file_name(path: &Path) -> String {
    config::absolute(path)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| path.to_string_lossy().into_owned())
}

/// `name` without the extension of its last component (`a/b.enc.yaml` →
/// `a/b.enc`, as Go's `filepath.Ext` sees it). A name that would become
/// empty (`.env`) is kept.
pub fn omit_extension(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.rfind('.') {
        Some(0) | None => name.to_string(),
        Some(i) => name[..name.len() - (last.len() - i)].to_string(),
    }
}

/// Every file below `root`, as sops's `filepath.Walk` visits them (each
/// directory's entries in name order), with its path as sops names it
/// (`root` joined and cleaned: the string `path_regex` sees) and its
/// destination name (relative to `root`, `/`-separated). `.git`
/// directories and the config files are left out; symlinks are entries
/// (never walked into), as `filepath.Walk` reports them.
fn walk(root: &Path) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let base = config::clean(root);
    walk_into(root, &base, "", &mut out)?;
    Ok(out)
}

fn walk_into(dir: &Path, base: &Path, rel: &str, out: &mut Vec<(String, String)>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Failure::new(
            code::GENERIC,
            format!("cannot read the directory {}: {e}", dir.display()),
        )
    })?;
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let rel_name = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let kind = e.file_type().map_err(|err| {
            Failure::new(
                code::GENERIC,
                format!("cannot read {}: {err}", e.path().display()),
            )
        })?;
        if kind.is_dir() {
            if name == ".git" {
                continue;
            }
            walk_into(&e.path(), base, &rel_name, out)?;
        } else if !matches!(name.as_str(), ".sops.yaml" | ".sops-like.yaml") {
            // As `filepath.Walk` for sops: every entry that is not a
            // directory, symlinks included (not followed into a
            // directory). A symlink to a file is published through it;
            // one to a directory (or a dangling one) fails to read and is
            // reported.
            let shown = base.join(&rel_name).to_string_lossy().into_owned();
            out.push((shown, rel_name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_extension_is_omitted() {
        assert_eq!(omit_extension("a.yaml"), "a");
        assert_eq!(omit_extension("sub/x.enc.yaml"), "sub/x.enc");
        assert_eq!(omit_extension("dir.d/noext"), "dir.d/noext");
        assert_eq!(omit_extension(".env"), ".env");
        assert_eq!(omit_extension("sub/.env"), "sub/.env");
    }

    #[test]
    fn times_are_read_as_gos_rfc3339() {
        for ok in [
            "2024-01-01T00:00:00Z",
            "2024-02-29T23:59:59+05:30",
            "2024-01-01T00:00:00.123456789Z",
            "2024-01-01T00:00:00,5-01:00",
            "2024-01-01T7:00:00Z",
        ] {
            assert!(go_rfc3339(ok), "{ok}");
        }
        for bad in [
            "",
            "notatime",
            "2024-01-01",
            "2024-01-01 00:00:00Z",
            "2024-01-01t00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:60:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00+0100",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00Zjunk",
            "24-01-01T00:00:00Z",
        ] {
            assert!(!go_rfc3339(bad), "{bad}");
        }
    }
}
