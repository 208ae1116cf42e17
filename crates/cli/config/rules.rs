//! One creation rule: which files it covers and how they are encrypted.

use super::keys::{parse_group, FlatKeys, KeySpec, NamedRecipient, FLAT_KEYS};
use super::node::{boolean, fields, integer, items, string};
use super::source::Source;
use crate::exit::Failure;
use regex::Regex;
use sops_like_format::cipher::CipherKind;
use sops_like_format::goregex::{go_regex_lazy, GoRegex};
use sops_like_format::metadata::Selector;
use sops_like_format::Node;

/// A creation rule of the config.
#[derive(Clone, Debug)]
pub struct Rule {
    /// 0-based position in `creation_rules`.
    pub index: usize,
    /// 1-based line where the rule starts.
    pub line: usize,
    /// The path filter (unanchored); `None` matches every file.
    pub path_regex: Option<GoRegex>,
    /// The key groups: one for flat keys, several with `key_groups`. Empty
    /// when the rule names no keys (the command line must give them).
    pub key_groups: Vec<Vec<KeySpec>>,
    /// Groups needed to recover the data key (only with several groups).
    pub shamir_threshold: Option<usize>,
    /// Which values get encrypted.
    pub selector: Option<Selector>,
    /// MAC only the encrypted values.
    pub mac_only_encrypted: bool,
    /// The value cipher for new files (sops-like's own key).
    pub cipher: Option<CipherKind>,
    /// Whether the rule names recipients from `recipients:`.
    pub uses_named_recipients: bool,
}

impl Rule {
    /// The age recipients of each group (other key kinds left out).
    pub fn age_groups(&self) -> Vec<Vec<String>> {
        self.key_groups
            .iter()
            .map(|g| {
                g.iter()
                    .filter_map(|k| match k {
                        KeySpec::Age(r) => Some(r.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .collect()
    }

    /// Keys of kinds sops-like cannot wrap a data key for yet.
    pub fn non_age_keys(&self) -> Vec<&KeySpec> {
        self.key_groups
            .iter()
            .flatten()
            .filter(|k| !matches!(k, KeySpec::Age(_)))
            .collect()
    }

    /// One line describing the rule (for "no rule matched" errors).
    pub fn summary(&self) -> String {
        let filter = match &self.path_regex {
            Some(r) => format!("path_regex `{}`", r.as_str()),
            None => "no path_regex (matches every file)".to_string(),
        };
        format!("rule {} (line {}): {filter}", self.index + 1, self.line)
    }
}

const SELECTORS: [&str; 6] = [
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
];

/// Parse rule number `index` (0-based) of `creation_rules`.
pub(super) fn parse_rule(
    src: &mut Source,
    names: &[NamedRecipient],
    node: &Node,
    at: usize,
    index: usize,
) -> Result<Rule, Failure> {
    parse_rule_as(
        src,
        names,
        node,
        at,
        index,
        format!("creation rule {}", index + 1),
    )
}

/// Parse a creation rule that messages call `what` (a destination rule's
/// `recreation_rule` has the same keys).
pub(super) fn parse_rule_as(
    src: &mut Source,
    names: &[NamedRecipient],
    node: &Node,
    at: usize,
    index: usize,
    what: String,
) -> Result<Rule, Failure> {
    if !matches!(super::node::unalias(node), Node::Map(_)) {
        return Err(src.error(
            at,
            format!(
                "{what} must be a mapping (path_regex, age, …), not {}",
                super::node::describe(node)
            ),
        ));
    }
    let rule_fields = fields(src, node, at, &what)?;
    let mut rule = Rule {
        index,
        line: src.line(at),
        path_regex: None,
        key_groups: Vec::new(),
        shamir_threshold: None,
        selector: None,
        mac_only_encrypted: false,
        cipher: None,
        uses_named_recipients: false,
    };
    let mut selector_at = None;
    let mut flat = FlatKeys {
        fields: Vec::new(),
        aws_profile: None,
    };
    let mut groups_field = None;
    let mut threshold_at = at;
    let mut raw_threshold: Option<i64> = None;
    for f in &rule_fields {
        let key_what = format!("{what}: {}", f.key);
        match f.key {
            "path_regex" => {
                let p = string(src, f.value, f.value_at, &key_what)?.unwrap_or_default();
                rule.path_regex = path_regex(src, &p, f.value_at, &what)?;
            }
            k if FLAT_KEYS.contains(&k) => flat.fields.push(f),
            "aws_profile" => flat.aws_profile = string(src, f.value, f.value_at, &key_what)?,
            "key_groups" => groups_field = Some(f),
            "shamir_threshold" => {
                threshold_at = f.value_at;
                raw_threshold = integer(src, f.value, f.value_at, &key_what)?;
            }
            "mac_only_encrypted" => {
                rule.mac_only_encrypted =
                    boolean(src, f.value, f.value_at, &key_what)?.unwrap_or(false);
            }
            "cipher" => {
                if let Some(name) = string(src, f.value, f.value_at, &key_what)? {
                    rule.cipher = Some(CipherKind::from_name(&name).ok_or_else(|| {
                        src.error(
                            f.value_at,
                            format!("{what}: unknown cipher `{name}` (use xchacha20_poly1305 or aes256_gcm)"),
                        )
                    })?);
                }
            }
            k if SELECTORS.contains(&k) => {
                let Some(pattern) = string(src, f.value, f.value_at, &key_what)? else {
                    continue;
                };
                if pattern.is_empty() {
                    continue; // sops treats an empty value as unset
                }
                if let Some(first) = selector_at {
                    return Err(src.error(
                        f.at,
                        format!("{what}: only one of {} may be set, but `{first}` is set too", SELECTORS.join(", ")),
                    ));
                }
                // Checked here (its syntax), compiled when it is used.
                if k.ends_with("_regex") {
                    if let Err(e) = go_regex_lazy(&pattern) {
                        return Err(src.error(
                            f.value_at,
                            format!("{what}: {k} is not a valid regular expression: {e}"),
                        ));
                    }
                }
                selector_at = Some(f.key);
                rule.selector = Selector::from_field(k, pattern);
            }
            "encryption_context" => src.warn(
                f.at,
                format!("{what}: `encryption_context` is not read from the config (as in sops); put `context` on a kms entry of key_groups"),
            ),
            other => src.warn(f.at, format!("unknown key `{other}` in {what} (ignored)")),
        }
    }
    let mut used = false;
    // sops: `if len(cRule.KeyGroups) > 0`; an empty list is no key_groups,
    // and the flat keys apply.
    let mut groups_list = None;
    if let Some(g) = groups_field {
        let list = items(src, g.value, g.value_at, &format!("{what}: key_groups"))?;
        if list.is_empty() {
            src.warn(
                g.at,
                format!("{what}: key_groups is empty; the rule's flat keys are used (as in sops)"),
            );
        } else {
            groups_list = Some(list);
        }
    }
    if let Some(list) = groups_list {
        if let Some(first) = flat.fields.first() {
            src.warn(
                first.at,
                format!(
                    "{what}: `{}` is ignored because the rule has key_groups (as in sops)",
                    first.key
                ),
            );
        }
        for (i, (group, group_at)) in list.into_iter().enumerate() {
            let group_what = format!("{what}: key group {}", i + 1);
            // A bare `-`: sops skips it.
            if super::node::is_null(group) {
                src.warn(
                    group_at,
                    format!("{group_what} is empty (ignored, as in sops)"),
                );
                continue;
            }
            let keys = parse_group(src, names, group, group_at, &group_what, &mut used)?;
            if keys.is_empty() {
                return Err(src.error(group_at, format!("{group_what} has no keys")));
            }
            rule.key_groups.push(keys);
        }
    } else {
        let group = flat.group(src, names, &what, &mut used)?;
        if !group.is_empty() {
            rule.key_groups.push(group);
        }
    }
    rule.uses_named_recipients = used;
    rule.shamir_threshold = check_threshold(
        src,
        &what,
        raw_threshold,
        threshold_at,
        rule.key_groups.len(),
    )?;
    Ok(rule)
}

/// Validate `shamir_threshold` against the number of groups. `0` means
/// unset (as in sops). With fewer than two groups there is no Shamir split,
/// and sops ignores the threshold: so do we, with a warning.
fn check_threshold(
    src: &mut Source,
    what: &str,
    raw: Option<i64>,
    at: usize,
    groups: usize,
) -> Result<Option<usize>, Failure> {
    let t = match raw {
        None | Some(0) => return Ok(None),
        Some(t) => t,
    };
    if groups < 2 {
        src.warn(
            at,
            format!("{what}: shamir_threshold is ignored: the rule has {groups} key group{} (as in sops)", if groups == 1 { "" } else { "s" }),
        );
        return Ok(None);
    }
    if t < 2 {
        return Err(src.error(
            at,
            format!("{what}: shamir_threshold must be at least 2 (it is {t})"),
        ));
    }
    let t = usize::try_from(t).unwrap_or(usize::MAX);
    if t > groups {
        return Err(src.error(
            at,
            format!("{what}: shamir_threshold is {t} but the rule has only {groups} key groups"),
        ));
    }
    Ok(Some(t))
}

/// A rule's `path_regex` (Go syntax), its syntax checked, compiled when it
/// is first matched (see [`go_regex_lazy`]); `None` when it is empty
/// (every file matches).
pub(super) fn path_regex(
    src: &Source,
    pattern: &str,
    at: usize,
    what: &str,
) -> Result<Option<GoRegex>, Failure> {
    if pattern.is_empty() {
        return Ok(None);
    }
    go_regex_lazy(pattern).map(Some).map_err(|e| {
        src.error(
            at,
            format!("{what}: path_regex is not a valid regular expression: {e}"),
        )
    })
}
