//! `updatekeys FILE…`: apply the recipients of the matching creation rule.
//! The data key and every value stay as they are, unless a recipient is
//! removed: that person has seen the data key, so it is rotated (every
//! value re-encrypted) unless `--no-rotate`.

use crate::args::{IoArgs, UpdatekeysArgs};
use crate::exit::{code, Failure, Result};
use crate::io::{self, Sensitivity};
use crate::multi::{self, Outcome};
use crate::sopsfile::SopsFile;
use crate::{clock, keysource};
use std::io::BufRead;
use std::path::Path;

pub fn run(args: UpdatekeysArgs) -> Result<()> {
    // sops's updatekeys exits 1 for a file it cannot read.
    let files =
        multi::expand(&args.files, args.recursive).map_err(|f| f.with_code(code::GENERIC))?;
    let config = super::plan::load_config()?.ok_or_else(|| {
        Failure::new(code::GENERIC, "no .sops-like.yaml or .sops.yaml found")
            .hint("updatekeys applies the creation rules of a config file; pass --config FILE")
    })?;
    if files.len() == 1 && !args.recursive {
        return one(&args, &config, &files[0]).map(|o| {
            if let Outcome::Skipped(why) = o {
                stderr!("{}: {why}", files[0]);
            }
        });
    }
    multi::each(&files, "updated", |f| one(&args, &config, f))
}

fn one(args: &UpdatekeysArgs, config: &crate::config::ConfigFile, file: &str) -> Result<Outcome> {
    let io_args = IoArgs::file(true, args.input_type.clone());
    // sops: 1 for a file it cannot read (it fails to stat it).
    let input = io::read_file_to_change(file, code::GENERIC)?;
    let enc = SopsFile::open(&io_args, &input)?;
    let rule = config.find_rule(Path::new(file))?.ok_or_else(|| {
        Failure::new(
            code::GENERIC,
            format!("{file}: {}", config.describe_no_match(Path::new(file))),
        )
    })?;
    let groups = super::plan::rule_groups(rule)?;
    // Checked before the diff is shown: sops refuses it too (exit 1,
    // "empty key group provided"), and nothing would be applied.
    if groups.is_empty() || groups.iter().any(Vec::is_empty) {
        return Err(Failure::new(
            code::GENERIC,
            format!("{file}: the creation rule that matches it has an empty key group"),
        )
        .hint("add keys to that rule (age: age1…, kms: …); the file is unchanged"));
    }
    let want: Vec<Vec<String>> = groups
        .iter()
        .map(|g| g.iter().map(keysource::recipient_id).collect())
        .collect();
    let have: Vec<Vec<String>> = enc
        .metadata()
        .key_groups
        .iter()
        .map(|g| g.iter().map(keysource::stored_id).collect())
        .collect();
    let stored = enc.metadata().split_threshold();
    let threshold = kept_threshold(stored, want.len());
    if let Some(asked) = rule
        .shamir_threshold
        .filter(|&t| Some(t) != threshold && want.len() > 1)
    {
        stderr!(
            "note: {file}: the rule's shamir_threshold ({asked}) is not applied by updatekeys, as in sops: the file keeps {}",
            effective_threshold(threshold, want.len())
        );
    }
    if same_keys(&want, &have)
        && effective_threshold(threshold, want.len()) == effective_threshold(stored, have.len())
    {
        return Ok(Outcome::Skipped("already up to date".into()));
    }
    let flat_want: Vec<&String> = want.iter().flatten().collect();
    let flat_have: Vec<&String> = have.iter().flatten().collect();
    let removed: Vec<&&String> = flat_have
        .iter()
        .filter(|r| !flat_want.contains(r))
        .collect();
    print_diff(&want, &have, enc.metadata().shamir_threshold)?;
    let rotate = !removed.is_empty() && !args.no_rotate;
    if rotate {
        stderr!("A recipient is removed: the data key will be rotated (every value re-encrypted).");
    } else if !removed.is_empty() {
        stderr!("warning: --no-rotate: removed recipients have seen the data key and can still decrypt copies of this file they kept.");
    }
    if !args.yes && !confirm()? {
        return Ok(Outcome::Skipped("changes not applied".into()));
    }
    let old_key = keysource::data_key(
        enc.metadata(),
        &input.name,
        args.decryption_order.as_deref(),
    )?;
    let out = if rotate {
        let (new_key, keys) = keysource::new_data_key(&groups, threshold)?;
        enc.rotate(
            old_key.as_bytes(),
            new_key.as_bytes(),
            keys,
            false,
            &clock::now_rfc3339(),
        )
    } else {
        let keys = keysource::wrap_data_key(&old_key, &groups, threshold)?;
        enc.replace_keys(keys)
    }
    .map_err(|e| Failure::engine(&input.name, e))?;
    io::atomic_write(Path::new(file), out.as_bytes(), Sensitivity::Encrypted)?;
    Ok(Outcome::Done)
}

/// The Shamir threshold a file keeps when `updatekeys` gives it `groups`
/// key groups, as sops 3.11 to 3.13 keep it: the file's own (the rule's
/// `shamir_threshold` is not applied), at most the number of groups; none
/// stored means all of them. One group has none.
fn kept_threshold(stored: Option<usize>, groups: usize) -> Option<usize> {
    if groups < 2 {
        return None;
    }
    match stored.unwrap_or(0).min(groups) {
        0 => Some(groups),
        t => Some(t),
    }
}

/// How many of `groups` key groups open a file whose stored threshold is
/// `t`: one group has no threshold (1); several with none stored need all
/// of them.
fn effective_threshold(t: Option<usize>, groups: usize) -> usize {
    t.unwrap_or(groups.max(1))
}

/// Whether a file's key groups (ids, see `keysource::stored_id`) already
/// are the ones a rule wants: same groups in the same order, the same keys
/// within a group in any order, a key listed twice counted once (sops
/// compares them as sets).
pub fn same_keys(want: &[Vec<String>], have: &[Vec<String>]) -> bool {
    use std::collections::BTreeSet;
    fn set(g: &[String]) -> BTreeSet<&String> {
        g.iter().collect()
    }
    want.len() == have.len() && want.iter().zip(have).all(|(w, h)| set(w) == set(h))
}

/// The changes to the key groups, on stdout as sops prints them: the
/// Shamir threshold (sops's values: the stored one, and the kept one at
/// most the number of groups), then each group (`Group N`) with the rule's
/// keys the file has indented, the rule's new ones after `+++ ` and the
/// file's removed ones after `--- `.
fn print_diff(want: &[Vec<String>], have: &[Vec<String>], stored: Option<usize>) -> Result<()> {
    let mut out = String::from("The following changes will be made to the file's groups:\n");
    let old_t = stored.unwrap_or(0);
    let new_t = old_t.min(want.len());
    if old_t > 0 && old_t == new_t {
        out.push_str(&format!("shamir_threshold: {new_t}\n"));
    } else {
        if new_t > 0 {
            out.push_str(&format!("+++ shamir_threshold: {new_t}\n"));
        }
        if old_t > 0 {
            out.push_str(&format!("--- shamir_threshold: {old_t}\n"));
        }
    }
    for i in 0..want.len().max(have.len()) {
        let (w, h) = (
            want.get(i).map_or(&[][..], Vec::as_slice),
            have.get(i).map_or(&[][..], Vec::as_slice),
        );
        out.push_str(&format!("Group {}\n", i + 1));
        let lines = w
            .iter()
            .filter(|k| h.contains(k))
            .map(|k| ("    ", k))
            .chain(w.iter().filter(|k| !h.contains(k)).map(|k| ("+++ ", k)))
            .chain(h.iter().filter(|k| !w.contains(k)).map(|k| ("--- ", k)));
        for (mark, k) in lines {
            out.push_str(&format!("{mark}{}\n", keysource::shown_id(k)));
        }
    }
    io::write_stdout(out.as_bytes())
}

/// Ask on stdout, as sops does. `y`/`yes` applies, `n`/`no` does not (exit
/// 0); an empty answer or the end of input is an error (exit 1, as in sops:
/// a script that forgot -y must not pass with nothing done); anything else
/// asks again.
fn confirm() -> Result<bool> {
    loop {
        io::write_stdout(b"Is this okay? (y/n):")?;
        let mut line = String::new();
        let read = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::new(code::GENERIC, format!("could not read the answer: {e}")))?;
        if read == 0 {
            return Err(
                Failure::new(code::GENERIC, "no answer (end of input); nothing changed")
                    .hint("pass -y/--yes to apply the changes without asking"),
            );
        }
        match line.trim() {
            "y" | "Y" | "yes" | "Yes" => return Ok(true),
            "n" | "N" | "no" | "No" => return Ok(false),
            "" => {
                return Err(Failure::new(code::GENERIC, "no answer; nothing changed")
                    .hint("answer y or n, or pass -y/--yes to apply the changes without asking"))
            }
            _ => {}
        }
    }
}
