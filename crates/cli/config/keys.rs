//! Master keys named by a creation rule: flat lists (one group) and
//! `key_groups`, and the named recipients that `age` lists may use.

use super::node::{fields, items, string, string_list, Field};
use super::source::Source;
use crate::exit::Failure;
use sops_like_format::Node;

/// One master key a rule asks for. Only age keys can wrap a data key in
/// sops-like today; the others are parsed and carried so that the
/// metadata (and a later release) can use them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySpec {
    /// An age recipient (`age1…`, `ssh-ed25519 …`, `ssh-rsa …`), named
    /// recipients already replaced by their recipient strings.
    Age(String),
    /// A PGP fingerprint.
    Pgp(String),
    /// An AWS KMS key.
    Kms {
        /// The key ARN.
        arn: String,
        /// An IAM role ARN to assume.
        role: Option<String>,
        /// The encryption context, in file order.
        context: Vec<(String, String)>,
        /// The AWS profile.
        aws_profile: Option<String>,
    },
    /// A GCP KMS resource id.
    GcpKms(String),
    /// An Azure Key Vault key.
    AzureKv {
        /// `https://NAME.vault.azure.net`.
        vault_url: String,
        /// The key name.
        key: String,
        /// The key version (may be empty: latest).
        version: String,
    },
    /// A HashiCorp Vault transit key URI.
    HcVault(String),
    /// A Huawei Cloud KMS key id.
    Hckms(String),
}

impl KeySpec {
    /// The metadata kind: `age`, `pgp`, `kms`, `gcp_kms`, `azure_kv`,
    /// `hc_vault`, `hckms`.
    pub fn kind(&self) -> &'static str {
        match self {
            KeySpec::Age(_) => "age",
            KeySpec::Pgp(_) => "pgp",
            KeySpec::Kms { .. } => "kms",
            KeySpec::GcpKms(_) => "gcp_kms",
            KeySpec::AzureKv { .. } => "azure_kv",
            KeySpec::HcVault(_) => "hc_vault",
            KeySpec::Hckms(_) => "hckms",
        }
    }

    /// The key as one string (recipient, fingerprint, ARN, URL…): what sops
    /// deduplicates on.
    pub fn id(&self) -> String {
        match self {
            KeySpec::Age(s)
            | KeySpec::Pgp(s)
            | KeySpec::GcpKms(s)
            | KeySpec::HcVault(s)
            | KeySpec::Hckms(s) => s.clone(),
            // sops's `ToString`: ARN[+ROLE][|k:v,…][|PROFILE]; two entries
            // for one ARN with another context or profile are two keys.
            KeySpec::Kms {
                arn,
                role,
                context,
                aws_profile,
            } => {
                let mut s = arn.clone();
                if let Some(r) = role.as_deref().filter(|r| !r.is_empty()) {
                    s = format!("{s}+{r}");
                }
                let mut pairs: Vec<String> =
                    context.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                pairs.sort();
                if !pairs.is_empty() {
                    s = format!("{s}|{}", pairs.join(","));
                }
                if let Some(p) = aws_profile.as_deref().filter(|p| !p.is_empty()) {
                    s = format!("{s}|{p}");
                }
                s
            }
            KeySpec::AzureKv {
                vault_url,
                key,
                version,
            } => format!("{vault_url}/keys/{key}/{version}"),
        }
    }
}

/// A named recipient from the top-level `recipients:` map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedRecipient {
    /// The name used in rules.
    pub name: String,
    /// The recipient strings it stands for (one, or several for a team).
    pub recipients: Vec<String>,
    /// 1-based line of the definition.
    pub line: usize,
}

/// Whether `s` has the shape of an age recipient rather than a name.
pub(super) fn looks_like_recipient(s: &str) -> bool {
    s.starts_with("age1") || s.starts_with("ssh-")
}

/// Parse the top-level `recipients:` map. Values are a recipient string or
/// a list of recipients and names defined in the same map.
pub(super) fn parse_recipients(
    src: &Source,
    node: &Node,
    at: usize,
) -> Result<Vec<NamedRecipient>, Failure> {
    let raw = fields(src, node, at, "recipients")?;
    for f in &raw {
        let bad = f.key.is_empty()
            || f.key.contains(',')
            || f.key.chars().any(char::is_whitespace)
            || looks_like_recipient(f.key);
        if bad {
            return Err(src.error(
                f.at,
                format!(
                    "recipients: `{}` cannot be a name (names have no commas or spaces and do not start with age1 or ssh-)",
                    f.key
                ),
            ));
        }
    }
    let mut out = Vec::new();
    for f in &raw {
        let mut stack = Vec::new();
        let recipients = resolve_name(src, &raw, f, &mut stack)?;
        out.push(NamedRecipient {
            name: f.key.to_string(),
            recipients,
            line: src.line(f.at),
        });
    }
    Ok(out)
}

fn resolve_name<'n>(
    src: &Source,
    raw: &[Field<'n>],
    field: &Field<'n>,
    stack: &mut Vec<&'n str>,
) -> Result<Vec<String>, Failure> {
    if stack.contains(&field.key) {
        return Err(src.error(
            field.at,
            format!(
                "recipients: `{}` refers to itself ({} -> {})",
                field.key,
                stack.join(" -> "),
                field.key
            ),
        ));
    }
    stack.push(field.key);
    let what = format!("recipients.{}", field.key);
    let mut out = Vec::new();
    let entries = match sops_like_format::Node::as_value(field.value) {
        // One recipient: ssh keys contain spaces, never commas, so keep the
        // string whole instead of splitting it.
        Some(_) => string(src, field.value, field.value_at, &what)?
            .map(|s| vec![(s.trim().to_string(), field.value_at)])
            .unwrap_or_default(),
        None => string_list(src, field.value, field.value_at, &what)?,
    };
    if entries.is_empty() {
        return Err(src.error(
            field.value_at,
            format!("recipients: `{}` has no recipient", field.key),
        ));
    }
    for (entry, at) in entries {
        if let Some(other) = raw.iter().find(|f| f.key == entry) {
            out.extend(resolve_name(src, raw, other, stack)?);
        } else {
            out.push(check_age(src, &entry, at, &what)?);
        }
    }
    stack.pop();
    Ok(out)
}

/// Validate one age recipient string.
fn check_age(src: &Source, entry: &str, at: usize, what: &str) -> Result<String, Failure> {
    if !looks_like_recipient(entry) {
        return Err(src.error(
            at,
            format!(
                "{what}: `{entry}` is neither a named recipient (see `recipients:`) nor an age recipient (age1…, ssh-ed25519 …, ssh-rsa …)"
            ),
        ));
    }
    // Plugin and post-quantum recipients (age1<plugin>1…) are carried as
    // they are: bech32 data never contains a '1', so a second '1' marks them.
    let plugin = entry.starts_with("age1") && entry.get(4..).is_some_and(|r| r.contains('1'));
    if !plugin {
        if let Err(e) = sops_like_keys::Recipient::parse(entry) {
            return Err(src.error(at, format!("{what}: {e}")));
        }
    }
    Ok(entry.to_string())
}

/// Resolve an `age` list: names become their recipients.
fn age_keys(
    src: &Source,
    names: &[NamedRecipient],
    node: &Node,
    at: usize,
    what: &str,
    used_names: &mut bool,
) -> Result<Vec<KeySpec>, Failure> {
    let mut out = Vec::new();
    for (entry, entry_at) in string_list(src, node, at, what)? {
        if let Some(n) = names.iter().find(|n| n.name == entry) {
            *used_names = true;
            out.extend(n.recipients.iter().cloned().map(KeySpec::Age));
        } else {
            out.push(KeySpec::Age(check_age(src, &entry, entry_at, what)?));
        }
    }
    Ok(out)
}

/// Flat keys of a rule (one group): `age`, `pgp`, `kms` (+`aws_profile`),
/// `gcp_kms`, `azure_keyvault`, `hc_vault_transit_uri`, `hckms`.
pub(super) struct FlatKeys<'n> {
    pub fields: Vec<&'n Field<'n>>,
    pub aws_profile: Option<String>,
}

impl FlatKeys<'_> {
    /// The one group these keys form, in the order sops lists kinds.
    pub fn group(
        &self,
        src: &Source,
        names: &[NamedRecipient],
        rule: &str,
        used_names: &mut bool,
    ) -> Result<Vec<KeySpec>, Failure> {
        let mut group = Vec::new();
        for f in &self.fields {
            let what = &format!("{rule}: {}", f.key);
            match f.key {
                "age" => group.extend(age_keys(src, names, f.value, f.value_at, what, used_names)?),
                "pgp" => {
                    for (fp, at) in string_list(src, f.value, f.value_at, what)? {
                        group.push(pgp_key(src, fp, at, what)?);
                    }
                }
                "kms" => {
                    for (arn, _) in string_list(src, f.value, f.value_at, what)? {
                        group.push(kms_from_arn(&arn, self.aws_profile.clone()));
                    }
                }
                "gcp_kms" => {
                    for (id, at) in string_list(src, f.value, f.value_at, what)? {
                        group.push(gcp_key(src, id, at, what)?);
                    }
                }
                "azure_keyvault" => {
                    for (url, at) in string_list(src, f.value, f.value_at, what)? {
                        group.push(azure_from_url(src, &url, at, what)?);
                    }
                }
                "hc_vault_transit_uri" => {
                    for (uri, at) in string_list(src, f.value, f.value_at, what)? {
                        group.push(vault_from_uri(src, &uri, at, what)?);
                    }
                }
                "hckms" => group.extend(
                    string_list(src, f.value, f.value_at, what)?
                        .into_iter()
                        .map(|(s, _)| KeySpec::Hckms(s)),
                ),
                _ => {}
            }
        }
        Ok(dedup(group))
    }
}

/// The flat key names.
pub(super) const FLAT_KEYS: [&str; 7] = [
    "age",
    "pgp",
    "kms",
    "gcp_kms",
    "azure_keyvault",
    "hc_vault_transit_uri",
    "hckms",
];

/// `arn[+role_arn]`, spaces removed, as sops reads `--kms` and flat `kms`.
fn kms_from_arn(arn: &str, aws_profile: Option<String>) -> KeySpec {
    let arn: String = arn.chars().filter(|c| *c != ' ').collect();
    let (arn, role) = match arn.find("+arn:aws:iam::") {
        Some(i) if i > 0 => (
            arn.get(..i).unwrap_or_default().to_string(),
            arn.get(i + 1..).map(str::to_string),
        ),
        _ => (arn, None),
    };
    KeySpec::Kms {
        arn,
        role,
        context: Vec::new(),
        aws_profile,
    }
}

/// `https://VAULT/keys/NAME[/VERSION]`.
fn azure_from_url(src: &Source, url: &str, at: usize, what: &str) -> Result<KeySpec, Failure> {
    let parsed = url
        .strip_prefix("https://")
        .and_then(|rest| rest.split_once("/keys/"))
        .and_then(|(host, key)| {
            let (name, version) = key.split_once('/').unwrap_or((key, ""));
            let ok = !host.is_empty()
                && !host.contains('/')
                && !name.is_empty()
                && !version.contains('/');
            ok.then(|| KeySpec::AzureKv {
                vault_url: format!("https://{host}"),
                key: name.to_string(),
                version: version.to_string(),
            })
        });
    parsed.ok_or_else(|| {
        src.error(
            at,
            format!("{what}: `{url}` is not a key URL like https://VAULT.vault.azure.net/keys/NAME/VERSION"),
        )
    })
}

/// A PGP fingerprint or key id (hex, optionally `0x`-prefixed), checked
/// now so that a typo is reported at its line.
fn pgp_key(src: &Source, fp: String, at: usize, what: &str) -> Result<KeySpec, Failure> {
    match sops_like_keys::kms::PgpKey::parse(&fp) {
        Ok(_) => Ok(KeySpec::Pgp(fp)),
        Err(e) => Err(src.error(at, format!("{what}: {e}"))),
    }
}

/// A GCP KMS resource id (`projects/P/locations/L/keyRings/R/cryptoKeys/K`).
fn gcp_key(src: &Source, id: String, at: usize, what: &str) -> Result<KeySpec, Failure> {
    match sops_like_keys::kms::GcpKmsKey::parse(&id) {
        Ok(_) => Ok(KeySpec::GcpKms(id)),
        Err(e) => Err(src.error(at, format!("{what}: {e}"))),
    }
}

/// `SCHEME://HOST[:PORT]/v1/ENGINE/keys/NAME`.
fn vault_from_uri(src: &Source, uri: &str, at: usize, what: &str) -> Result<KeySpec, Failure> {
    // Parsed as the command line parses it (one trailing `/` allowed, as
    // in sops).
    if sops_like_keys::kms::VaultKey::parse(uri).is_ok() {
        Ok(KeySpec::HcVault(uri.to_string()))
    } else {
        Err(src.error(
            at,
            format!("{what}: `{uri}` is not a Vault transit URI like https://vault.example.org:8200/v1/transit/keys/NAME"),
        ))
    }
}

/// Drop repeated keys of a group (same kind and id), as sops does.
fn dedup(group: Vec<KeySpec>) -> Vec<KeySpec> {
    let mut out: Vec<KeySpec> = Vec::new();
    for k in group {
        if !out.iter().any(|o| o.kind() == k.kind() && o.id() == k.id()) {
            out.push(k);
        }
    }
    out
}

/// The keys of one `key_groups` element, `merge` lists included.
pub(super) fn parse_group(
    src: &mut Source,
    names: &[NamedRecipient],
    node: &Node,
    at: usize,
    what: &str,
    used_names: &mut bool,
) -> Result<Vec<KeySpec>, Failure> {
    let mut group = Vec::new();
    collect_group(src, names, node, at, what, used_names, &mut group)?;
    Ok(dedup(group))
}

fn collect_group(
    src: &mut Source,
    names: &[NamedRecipient],
    node: &Node,
    at: usize,
    what: &str,
    used_names: &mut bool,
    out: &mut Vec<KeySpec>,
) -> Result<(), Failure> {
    let group_fields = fields(src, node, at, what)?;
    for f in &group_fields {
        let inner = format!("{what}.{}", f.key);
        match f.key {
            "age" => out.extend(age_keys(
                src, names, f.value, f.value_at, &inner, used_names,
            )?),
            "pgp" => {
                for (fp, fp_at) in string_list(src, f.value, f.value_at, &inner)? {
                    out.push(pgp_key(src, fp, fp_at, &inner)?);
                }
            }
            "hc_vault" => {
                for (uri, uri_at) in string_list(src, f.value, f.value_at, &inner)? {
                    out.push(vault_from_uri(src, &uri, uri_at, &inner)?);
                }
            }
            "kms" | "gcp_kms" | "azure_keyvault" | "hckms" => {
                for (entry, entry_at) in items(src, f.value, f.value_at, &inner)? {
                    out.push(structured_key(src, f.key, entry, entry_at, &inner)?);
                }
            }
            "merge" => {
                for (sub, sub_at) in items(src, f.value, f.value_at, &inner)? {
                    collect_group(src, names, sub, sub_at, &inner, used_names, out)?;
                }
            }
            other => src.warn(f.at, format!("unknown key `{other}` in {what} (ignored)")),
        }
    }
    Ok(())
}

/// A `kms`, `gcp_kms`, `azure_keyvault` or `hckms` entry of a key group.
fn structured_key(
    src: &mut Source,
    kind: &str,
    node: &Node,
    at: usize,
    what: &str,
) -> Result<KeySpec, Failure> {
    let entry = fields(src, node, at, what)?;
    let allowed: &[&str] = match kind {
        "kms" => &["arn", "role", "context", "aws_profile"],
        "gcp_kms" => &["resource_id"],
        "azure_keyvault" => &["vaultUrl", "key", "version"],
        _ => &["key_id"],
    };
    let get = |name: &str| -> Result<Option<String>, Failure> {
        match entry.iter().find(|f| f.key == name) {
            Some(f) => string(src, f.value, f.value_at, &format!("{what}.{name}")),
            None => Ok(None),
        }
    };
    let required = |name: &str| -> Result<String, Failure> {
        get(name)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| src.error(at, format!("{what}: `{name}` is missing")))
    };
    let key = match kind {
        "kms" => {
            let arn = required("arn")?;
            let role = get("role")?.filter(|s| !s.is_empty());
            let aws_profile = get("aws_profile")?.filter(|s| !s.is_empty());
            let mut context = Vec::new();
            if let Some(f) = entry.iter().find(|f| f.key == "context") {
                let ctx_what = format!("{what}.context");
                for c in fields(src, f.value, f.value_at, &ctx_what)? {
                    let v = string(src, c.value, c.value_at, &ctx_what)?.unwrap_or_default();
                    context.push((c.key.to_string(), v));
                }
            }
            KeySpec::Kms {
                arn,
                role,
                context,
                aws_profile,
            }
        }
        "gcp_kms" => {
            let id = required("resource_id")?;
            let id_at = entry
                .iter()
                .find(|f| f.key == "resource_id")
                .map_or(at, |f| f.value_at);
            gcp_key(src, id, id_at, &format!("{what}.resource_id"))?
        }
        "azure_keyvault" => KeySpec::AzureKv {
            vault_url: required("vaultUrl")?,
            key: required("key")?,
            version: get("version")?.unwrap_or_default(),
        },
        _ => KeySpec::Hckms(required("key_id")?),
    };
    for f in &entry {
        if !allowed.contains(&f.key) {
            src.warn(f.at, format!("unknown key `{}` in {what} (ignored)", f.key));
        }
    }
    Ok(key)
}
