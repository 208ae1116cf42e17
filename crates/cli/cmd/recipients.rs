//! `recipients add NAME RECIPIENT` / `recipients remove NAME`: onboard and
//! offboard teammates by name. The config file is edited in place (only
//! the changed lines), then every encrypted file the change affects is
//! updated (`updatekeys -y`; a removal rotates the data key unless
//! `--no-rotate`).

use crate::args::{RecipientsAddArgs, RecipientsCommand, RecipientsRemoveArgs, UpdatekeysArgs};
use crate::config::{self, ConfigFile};
use crate::exit::{code, Failure, Result};
use crate::io::{self, Sensitivity};
use crate::keysource;
use sops_like_format::syntax::PathStep;
use sops_like_format::{engine, splice, Entry, Format, Item, Node, Value};
use std::path::{Path, PathBuf};

pub fn run(cmd: RecipientsCommand) -> Result<()> {
    match cmd {
        RecipientsCommand::Add(a) => add(a),
        RecipientsCommand::Remove(a) => remove(a),
    }
}

fn config_or_fail() -> Result<ConfigFile> {
    super::plan::load_config()?.ok_or_else(|| {
        Failure::new(code::GENERIC, "no .sops-like.yaml found")
            .hint("create one with a `recipients:` map and `creation_rules:`")
    })
}

/// Edit the config at `path` with the edits `f` makes, and replace it only
/// if the result is still a valid config.
fn yaml_edit(
    path: &Path,
    f: impl FnOnce(&str, &sops_like_format::Parsed) -> Result<Vec<sops_like_format::Edit>>,
) -> Result<()> {
    let out = edited(path, &read_config(path)?, f)?;
    check_config(path, &out)?;
    io::atomic_write(path, out.as_bytes(), Sensitivity::Encrypted)
}

fn read_config(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        Failure::new(
            code::GENERIC,
            format!("cannot read {}: {e}", path.display()),
        )
    })
}

/// `text` (the config at `path`) with the edits `f` makes to it.
fn edited(
    path: &Path,
    text: &str,
    f: impl FnOnce(&str, &sops_like_format::Parsed) -> Result<Vec<sops_like_format::Edit>>,
) -> Result<String> {
    let parsed = Format::Yaml
        .syntax()
        .parse(text)
        .map_err(|e| Failure::new(code::GENERIC, format!("{}:{e}", path.display())))?;
    let edits = f(text, &parsed)?;
    splice(text, edits).map_err(|e| Failure::new(code::GENERIC, e.to_string()))
}

/// Whether `text` is a valid config to write at `path`.
fn check_config(path: &Path, text: &str) -> Result<()> {
    let cfg_dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    config::parse(path, cfg_dir, config::ConfigKind::from_path(path), text).map(drop)
}

fn edit_err(e: sops_like_format::syntax::EmitError) -> Failure {
    Failure::new(code::GENERIC, format!("cannot edit the config: {e}"))
}

fn add(a: RecipientsAddArgs) -> Result<()> {
    keysource::parse_recipients(std::slice::from_ref(&a.recipient))?;
    let cfg = config_or_fail()?;
    if cfg.kind == config::ConfigKind::Sops {
        return Err(Failure::new(
            code::GENERIC,
            format!(
                "{} is a sops config; named recipients need a .sops-like.yaml",
                cfg.path.display()
            ),
        ));
    }
    if cfg.recipient(&a.name).is_some() {
        return Err(Failure::new(
            code::GENERIC,
            format!("{} is already a named recipient", a.name),
        )
        .hint("remove it first to change its key"));
    }
    yaml_edit(&cfg.path, |text, parsed| {
        let path = [
            PathStep::Key("recipients".into()),
            PathStep::Key(a.name.clone()),
        ];
        Format::Yaml
            .syntax()
            .set_value(text, parsed, &path, &Node::str(a.recipient.clone()))
            .map_err(edit_err)
    })?;
    stderr!("added {} to {}", a.name, cfg.path.display());
    if !a.all_rules {
        stderr!("name `{}` in the `age:` keys of the rules that should include them (or use --all-rules), then run `sops-like updatekeys -y -r .`", a.name);
        return Ok(());
    }
    let rules = cfg.rules.len();
    for i in 0..rules {
        yaml_edit(&cfg.path, |text, parsed| {
            let rule_path = [PathStep::Key("creation_rules".into()), PathStep::Index(i)];
            let Some(rule) = parsed
                .tree
                .docs
                .first()
                .and_then(|d| crate::treepath::lookup(d, &rule_path, Format::Yaml))
            else {
                return Ok(Vec::new());
            };
            let mut age_path = rule_path.to_vec();
            age_path.push(PathStep::Key("age".into()));
            match rule.get("age") {
                Some(Node::Seq(items)) => {
                    let n = items.iter().filter(|i| matches!(i, Item::Node(_))).count();
                    age_path.push(PathStep::Index(n));
                    Format::Yaml
                        .syntax()
                        .set_value(text, parsed, &age_path, &Node::str(a.name.clone()))
                        .map_err(edit_err)
                }
                Some(n) => match n.as_value() {
                    Some(Value::Str(s)) if !s.trim().is_empty() => {
                        let joined = format!("{},{}", s.trim_end_matches(',').trim(), a.name);
                        Format::Yaml
                            .syntax()
                            .set_value(text, parsed, &age_path, &Node::str(joined))
                            .map_err(edit_err)
                    }
                    _ => Ok(Vec::new()),
                },
                None => {
                    if rule.get("key_groups").is_some() {
                        stderr!(
                            "warning: rule {} uses key_groups; add {} to a group by hand",
                            i + 1,
                            a.name
                        );
                    }
                    Ok(Vec::new())
                }
            }
        })?;
    }
    refresh(&a.no_rotate)
}

fn remove(a: RecipientsRemoveArgs) -> Result<()> {
    let cfg = config_or_fail()?;
    if cfg.recipient(&a.name).is_none() {
        return Err(Failure::new(
            code::GENERIC,
            format!(
                "{} is not a named recipient in {}",
                a.name,
                cfg.path.display()
            ),
        ));
    }
    // Remove every mention in lists (rules, key groups, teams), one at a
    // time (each edit moves the later spans), then the definition; all in
    // memory, and the config is replaced only if the result is valid.
    let path = cfg.path.as_path();
    let mut text = read_config(path)?;
    loop {
        let next = edited(path, &text, |text, parsed| {
            let found = parsed
                .tree
                .docs
                .first()
                .and_then(|doc| find_mention(doc, &a.name, &mut Vec::new()));
            match found {
                None => Ok(Vec::new()),
                Some((at, Some(rest))) => Format::Yaml
                    .syntax()
                    .set_value(text, parsed, &at, &Node::str(rest))
                    .map_err(edit_err),
                Some((at, None)) => Ok(Format::Yaml
                    .syntax()
                    .remove_value(text, parsed, &at)
                    .map_err(edit_err)?
                    .unwrap_or_default()),
            }
        })?;
        if next == text {
            break;
        }
        text = next;
    }
    let definition = [
        PathStep::Key("recipients".into()),
        PathStep::Key(a.name.clone()),
    ];
    let text = edited(path, &text, |text, parsed| {
        Ok(Format::Yaml
            .syntax()
            .remove_value(text, parsed, &definition)
            .map_err(edit_err)?
            .unwrap_or_default())
    })?;
    check_config(path, &text).map_err(|e| {
        Failure::new(
            code::GENERIC,
            format!("removing {} would leave the config invalid: {}", a.name, e.message),
        )
        .hint(format!(
            "nothing was changed; if {} is the only key of a key group, add another key to it or remove the group first",
            a.name
        ))
    })?;
    io::atomic_write(path, text.as_bytes(), Sensitivity::Encrypted)?;
    stderr!("removed {} from {}", a.name, cfg.path.display());
    refresh(&a.no_rotate)
}

/// The first place (outside the `recipients:` definitions' keys) where
/// `name` is listed: a sequence item (remove it) or an item of a
/// comma-separated string (replace the string).
fn find_mention(
    node: &Node,
    name: &str,
    path: &mut Vec<PathStep>,
) -> Option<(Vec<PathStep>, Option<String>)> {
    match node {
        Node::Map(entries) => {
            for e in entries {
                if let Entry::Pair(p) = e {
                    if path.len() == 1
                        && matches!(path.first(), Some(PathStep::Key(k)) if k == "recipients")
                        && p.key == name
                    {
                        continue;
                    }
                    path.push(PathStep::Key(p.key.clone()));
                    if let Some(found) = find_mention(&p.value, name, path) {
                        return Some(found);
                    }
                    path.pop();
                }
            }
            None
        }
        Node::Seq(items) => {
            let mut i = 0;
            for it in items {
                if let Item::Node(n) = it {
                    if matches!(n.as_value(), Some(Value::Str(s)) if s == name)
                        && !matches!(n, Node::Alias(_))
                    {
                        let mut p = path.clone();
                        p.push(PathStep::Index(i));
                        return Some((p, None));
                    }
                    path.push(PathStep::Index(i));
                    if let Some(found) = find_mention(n, name, path) {
                        return Some(found);
                    }
                    path.pop();
                    i += 1;
                }
            }
            None
        }
        Node::Scalar(s) => match &s.value {
            Value::Str(t)
                if matches!(path.last(), Some(PathStep::Key(k)) if k == "age")
                    && t.split(',').any(|x| x.trim() == name) =>
            {
                let rest: Vec<&str> = t
                    .split(',')
                    .map(str::trim)
                    .filter(|x| *x != name && !x.is_empty())
                    .collect();
                Some((path.clone(), Some(rest.join(","))))
            }
            _ => None,
        },
        Node::Alias(_) => None,
    }
}

/// Bring every encrypted file below the config's directory in line with
/// the rules (only files whose recipients differ are rewritten).
fn refresh(no_rotate: &bool) -> Result<()> {
    let cfg = config_or_fail()?;
    let files = crate::multi::expand(&[cfg.dir.to_string_lossy().into_owned()], true)?;
    let mut targets = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Some(format) = Format::from_path(&f) else {
            continue;
        };
        let Ok(enc) = engine::open(format, &text) else {
            continue;
        };
        if let Ok(Some(rule)) = cfg.find_rule(Path::new(&f)) {
            let Ok(groups) = super::plan::rule_groups(rule) else {
                continue;
            };
            let want: Vec<Vec<String>> = groups
                .iter()
                .map(|g| g.iter().map(keysource::recipient_id).collect())
                .collect();
            let have: Vec<Vec<String>> = enc
                .metadata
                .key_groups
                .iter()
                .map(|g| g.iter().map(keysource::stored_id).collect())
                .collect();
            if !super::updatekeys::same_keys(&want, &have) {
                targets.push(f);
            }
        }
    }
    if targets.is_empty() {
        stderr!("no encrypted file needs updating");
        return Ok(());
    }
    super::updatekeys::run(UpdatekeysArgs {
        files: targets,
        recursive: false,
        yes: true,
        no_rotate: *no_rotate,
        input_type: None,
        decryption_order: None,
    })
}
