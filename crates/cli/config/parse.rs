//! The top level of a config file: `creation_rules`, `recipients`, and the
//! `destination_rules` (for `publish`), and `stores`, which sops-like does
//! not use.

use super::destinations::parse_destination_rules;
use super::keys::parse_recipients;
use super::node::{anchor_offset, fields, items, unalias};
use super::rules::parse_rule;
use super::source::Source;
use super::{ConfigFile, ConfigKind};
use crate::exit::Failure;
use sops_like_format::{Format, Node};
use std::path::{Path, PathBuf};

/// Parse config text. `path` names the file in messages; `dir` is the
/// absolute directory `path_regex` is relative to.
pub fn parse(
    path: &Path,
    dir: PathBuf,
    kind: ConfigKind,
    text: &str,
) -> Result<ConfigFile, Failure> {
    let mut src = Source::new(path, text);
    let parsed = Format::Yaml
        .syntax()
        .parse(text)
        .map_err(|e| src.error_at_line(e.line, e.column, &e.message))?;
    let mut config = ConfigFile {
        path: path.to_path_buf(),
        dir,
        kind,
        rules: Vec::new(),
        recipients: Vec::new(),
        destination_rules: Vec::new(),
        warnings: Vec::new(),
    };
    if parsed.tree.docs.len() > 1 {
        src.warn(
            text.len(),
            "only the first YAML document of a config is read",
        );
    }
    // Our YAML module splits a top-level `sops` map off as file metadata.
    if parsed.metadata.is_some() {
        let at = parsed.metadata_spans.first().map_or(0, |s| s.start);
        src.warn(at, "unknown top-level key `sops` (ignored)");
    }
    let Some(root) = parsed.tree.docs.first() else {
        config.warnings = src.warnings;
        return Ok(config);
    };
    let root_at = anchor_offset(root).unwrap_or(0);
    let top = fields(&src, root, root_at, "the config")?;
    if let Some(f) = top.iter().find(|f| f.key == "recipients") {
        config.recipients = parse_recipients(&src, f.value, f.value_at)?;
    }
    for f in &top {
        match f.key {
            "recipients" => {}
            "creation_rules" => {
                if !matches!(unalias(f.value), Node::Seq(_)) && !super::node::is_null(f.value) {
                    return Err(src.error(
                        f.value_at,
                        format!(
                            "creation_rules must be a list of rules (`- path_regex: …`), not {}",
                            super::node::describe(f.value)
                        ),
                    ));
                }
                let list = items(&src, f.value, f.value_at, "creation_rules")?;
                for (i, (rule, at)) in list.into_iter().enumerate() {
                    // A bare `-`: sops skips it.
                    if super::node::is_null(rule) {
                        src.warn(
                            at,
                            format!("creation rule {} is empty (ignored, as in sops)", i + 1),
                        );
                        continue;
                    }
                    let rule = parse_rule(&mut src, &config.recipients, rule, at, i)?;
                    config.rules.push(rule);
                }
            }
            "destination_rules" => {
                config.destination_rules =
                    parse_destination_rules(&mut src, &config.recipients, f.value, f.value_at)?;
            }
            "stores" => {}
            // Conventional homes for YAML anchors (`x-keys: &keys …`).
            k if k.starts_with("x-") || k.starts_with('.') => {}
            other => src.warn(f.at, format!("unknown top-level key `{other}` (ignored)")),
        }
    }
    if kind == ConfigKind::Sops {
        if let Some(rule) = config.rules.iter().find(|r| r.uses_named_recipients) {
            let at = line_offset(text, rule.line);
            src.warn(
                at,
                format!(
                    "creation rule {} names recipients from `recipients:`, which sops cannot read; call the file .sops-like.yaml if only sops-like uses it",
                    rule.index + 1
                ),
            );
        }
    }
    config.warnings = src.warnings;
    Ok(config)
}

/// The byte offset where 1-based `line` starts.
fn line_offset(text: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    text.match_indices('\n')
        .nth(line - 2)
        .map_or(text.len(), |(i, _)| i + 1)
}
