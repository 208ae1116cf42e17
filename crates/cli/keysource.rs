//! Glue between the command line / environment and sops-like-keys: which
//! keys a new file is for, where identities are looked for, how the key
//! services (AWS KMS, Vault, PGP) are configured from the environment, and
//! the mapping between the metadata's master keys and the keys crate's.

use crate::args::KeyArgs;
use crate::config::KeySpec;
use crate::exit::{code, Failure, Result};
use sops_like_format::engine::KeyMaterial;
use sops_like_format::metadata::{MasterKey, Metadata};
use sops_like_format::Node;
use sops_like_keys::kms::{
    go_parse_bool, parse_encryption_context, AwsConfig, AwsKmsKey, AzureKvKey, GcpKmsKey,
    PgpConfig, PgpKey, ServiceOptions, VaultConfig, VaultKey, VaultTls,
};
use sops_like_keys::kms::{AzureConfig, AzureCredentials, GcpConfig, GcpCredentials};
use sops_like_keys::{
    decrypt_data_key_via, encrypt_data_key_via, DataKey, FieldValue, Identities, KeyGroup,
    KeyRecipient, Recipient, RemoteKeyService, Remotes, ServiceConfig, ServiceKey, Services,
    DEFAULT_DECRYPTION_ORDER,
};
use std::collections::BTreeMap;
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
            // The error names the recipient and why it is invalid.
            Recipient::parse(r).map_err(|e| {
                Failure::new(code::GENERIC, e.to_string()).hint(
                    "age recipients look like age1…, or an ssh-ed25519 / ssh-rsa public key line",
                )
            })
        })
        .collect()
}

/// A key that does not parse; the error names its kind and the key.
fn bad_key(e: sops_like_keys::KeyError) -> Failure {
    Failure::new(code::GENERIC, e.to_string())
}

/// An age recipient that parsed once and no longer does (cannot happen).
fn bad_age(r: &str) -> Failure {
    Failure::new(code::GENERIC, format!("invalid age recipient {r:?}"))
}

/// The keys named on the command line (`--age`, `--kms`, `--pgp`,
/// `--hc-vault-transit`, `--gcp-kms`, `--azure-kv` and their environment
/// variables), as one group. Empty if none was given.
pub fn cli_keys(args: &KeyArgs) -> Result<Vec<KeyRecipient>> {
    if let Some(first) = args
        .hckms
        .as_deref()
        .map(split_list)
        .and_then(|l| l.into_iter().next())
    {
        return Err(Failure::new(
            code::GENERIC,
            format!("hckms keys are not supported by this build ({first})"),
        )
        .hint("encrypt for age, PGP, AWS KMS, GCP KMS, Azure Key Vault or Vault keys"));
    }
    let mut out: Vec<KeyRecipient> = Vec::new();
    // An empty value is not given; an empty entry in a list is refused, as
    // sops refuses it (`--age ' '` took the config's keys instead, and
    // `--age "$A,$B"` with `$B` unset encrypted for `$A` alone).
    if let Some(age) = args.age.as_deref().filter(|a| !a.is_empty()) {
        if age.split(',').any(|r| r.trim().is_empty()) {
            return Err(Failure::new(
                code::GENERIC,
                format!("the age recipient list {age:?} has an empty entry"),
            )
            .hint("separate recipients with single commas: --age age1…,age1…"));
        }
        out.extend(
            parse_recipients(&split_list(age))?
                .into_iter()
                .map(KeyRecipient::from),
        );
    }
    let context = match &args.encryption_context {
        Some(c) => parse_encryption_context(c).map_err(|e| {
            Failure::new(6, format!("--encryption-context: {e}"))
                .hint("write it as key:value,key2:value2")
        })?,
        None => BTreeMap::new(),
    };
    if let Some(kms) = &args.kms {
        for k in AwsKmsKey::parse_list(kms).map_err(bad_key)? {
            let mut k = k.with_context(context.clone());
            if let Some(p) = &args.aws_profile {
                k = k.with_profile(p);
            }
            out.push(ServiceKey::Kms(k).into());
        }
    }
    if let Some(pgp) = &args.pgp {
        out.extend(
            PgpKey::parse_list(pgp)
                .map_err(bad_key)?
                .into_iter()
                .map(|k| KeyRecipient::from(ServiceKey::Pgp(k))),
        );
    }
    if let Some(v) = &args.hc_vault_transit {
        out.extend(
            VaultKey::parse_list(v)
                .map_err(bad_key)?
                .into_iter()
                .map(|k| KeyRecipient::from(ServiceKey::HcVault(k))),
        );
    }
    if let Some(g) = &args.gcp_kms {
        for id in split_list(g) {
            out.push(ServiceKey::GcpKms(GcpKmsKey::parse(&id).map_err(bad_key)?).into());
        }
    }
    if let Some(a) = &args.azure_kv {
        for url in split_list(a) {
            out.push(ServiceKey::AzureKv(AzureKvKey::parse(&url).map_err(bad_key)?).into());
        }
    }
    Ok(out)
}

/// A key of a creation rule.
pub fn spec_recipient(spec: &KeySpec) -> Result<KeyRecipient> {
    Ok(match spec {
        KeySpec::Age(r) => parse_recipients(std::slice::from_ref(r))?
            .into_iter()
            .next()
            .map(KeyRecipient::from)
            .ok_or_else(|| bad_age(r))?,
        KeySpec::Pgp(fp) => ServiceKey::Pgp(PgpKey::parse(fp).map_err(bad_key)?).into(),
        KeySpec::Kms {
            arn,
            role,
            context,
            aws_profile,
        } => {
            let text = match role {
                Some(r) if !r.is_empty() => format!("{arn}+{r}"),
                _ => arn.clone(),
            };
            let mut k = AwsKmsKey::parse(&text)
                .map_err(bad_key)?
                .with_context(context.iter().cloned().collect());
            if let Some(p) = aws_profile {
                k = k.with_profile(p);
            }
            ServiceKey::Kms(k).into()
        }
        KeySpec::GcpKms(id) => ServiceKey::GcpKms(GcpKmsKey::parse(id).map_err(bad_key)?).into(),
        KeySpec::AzureKv {
            vault_url,
            key,
            version,
        } => {
            let url = format!("{}/keys/{key}/{version}", vault_url.trim_end_matches('/'));
            ServiceKey::AzureKv(AzureKvKey::parse(url.trim_end_matches('/')).map_err(bad_key)?)
                .into()
        }
        KeySpec::HcVault(uri) => ServiceKey::HcVault(VaultKey::parse(uri).map_err(bad_key)?).into(),
        other => {
            return Err(Failure::new(
                code::GENERIC,
                format!(
                    "{} keys are not supported by this build ({})",
                    other.kind(),
                    other.id()
                ),
            ))
        }
    })
}

/// A stable id for comparing a key of a rule with a key of a file.
pub fn recipient_id(r: &KeyRecipient) -> String {
    match r {
        KeyRecipient::Age(a) => a.as_str().to_string(),
        KeyRecipient::Service(s) => format!("{}:{}", s.kind(), s.identity()),
        _ => String::new(),
    }
}

/// An id of [`recipient_id`] / [`stored_id`] as sops shows it (updatekeys
/// diffs): without the `kind:` prefix of a service key.
pub fn shown_id(id: &str) -> &str {
    ["kms:", "hc_vault:", "pgp:", "gcp_kms:", "azure_kv:"]
        .iter()
        .find_map(|p| id.strip_prefix(p))
        .unwrap_or(id)
}

/// The same id for a key stored in a file.
pub fn stored_id(k: &MasterKey) -> String {
    let key = to_keys_key(k);
    match key.service_key() {
        Some(s) => format!("{}:{}", s.kind(), s.identity()),
        None => key.id().to_string(),
    }
}

/// The key services, configured from the environment as sops does:
/// `VAULT_TOKEN` or `~/.vault-token`, `VAULT_NAMESPACE`, `VAULT_CACERT`,
/// `VAULT_CAPATH`, `VAULT_SKIP_VERIFY`, `VAULT_CLIENT_CERT`/`_KEY`,
/// AWS: aws-config resolves endpoints and credentials (the AWS
/// default chain), `AWS_CA_BUNDLE`, `SOPS_GPG_EXEC`, `GNUPGHOME`; GCP: `GOOGLE_OAUTH_ACCESS_TOKEN`,
/// `GOOGLE_CREDENTIALS` (JSON text or a path), else application default
/// credentials, endpoint `SOPS_GCP_KMS_ENDPOINT` (ours); Azure:
/// `AZURE_TENANT_ID`+`AZURE_CLIENT_ID`+`AZURE_CLIENT_SECRET`, a managed
/// identity (`IDENTITY_ENDPOINT`/`MSI_ENDPOINT`), else the Azure CLI / azd.
pub fn services() -> Services {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let gcp_credentials = if let Some(token) = env("GOOGLE_OAUTH_ACCESS_TOKEN") {
        GcpCredentials::AccessToken(zeroize::Zeroizing::new(token))
    } else if let Some(c) = env("GOOGLE_CREDENTIALS") {
        let text = if c.trim_start().starts_with('{') {
            c
        } else {
            std::fs::read_to_string(&c).unwrap_or_default()
        };
        GcpCredentials::Json(zeroize::Zeroizing::new(text))
    } else {
        GcpCredentials::Default
    };
    let azure_credentials = match (
        env("AZURE_TENANT_ID"),
        env("AZURE_CLIENT_ID"),
        env("AZURE_CLIENT_SECRET"),
    ) {
        (Some(tenant_id), Some(client_id), Some(secret)) => AzureCredentials::ClientSecret {
            tenant_id,
            client_id,
            secret: zeroize::Zeroizing::new(secret),
        },
        (_, client_id, _)
            if env("IDENTITY_ENDPOINT").is_some() || env("MSI_ENDPOINT").is_some() =>
        {
            AzureCredentials::ManagedIdentity { client_id }
        }
        _ => AzureCredentials::DeveloperTools,
    };
    base_services()
        .with_gcp(GcpConfig {
            endpoint: env("SOPS_GCP_KMS_ENDPOINT"),
            credentials: gcp_credentials,
        })
        .with_azure(AzureConfig {
            credentials: azure_credentials,
            ..AzureConfig::default()
        })
}

/// The key services for keys of which `all_age` says whether every one is
/// an age key: then none is consulted, and nothing is taken from the
/// environment or read from files (not `~/.vault-token`, not
/// `/etc/hostname`).
fn services_for(all_age: bool) -> Services {
    if all_age {
        Services::new(ServiceConfig::default())
    } else {
        services()
    }
}

fn base_services() -> Services {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let home = home();
    let host = env("HOSTNAME")
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_default();
    Services::new(ServiceConfig {
        options: ServiceOptions::default(),
        vault: VaultConfig {
            token: VaultConfig::token_from(env("VAULT_TOKEN").as_deref(), home.as_deref()),
            namespace: env("VAULT_NAMESPACE"),
            // As the Vault API client sops uses reads them. A
            // VAULT_SKIP_VERIFY that Go's ParseBool refuses verifies.
            tls: VaultTls {
                ca_cert: env("VAULT_CACERT").map(PathBuf::from),
                ca_path: env("VAULT_CAPATH").map(PathBuf::from),
                skip_verify: env("VAULT_SKIP_VERIFY")
                    .and_then(|v| go_parse_bool(&v))
                    .unwrap_or(false),
                client_cert: env("VAULT_CLIENT_CERT").map(PathBuf::from),
                client_key: env("VAULT_CLIENT_KEY").map(PathBuf::from),
                server_name: env("VAULT_TLS_SERVER_NAME"),
            },
        },
        aws: AwsConfig {
            // aws-config resolves the endpoints per service, as the Go SDK
            // does for sops: AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL_STS,
            // AWS_ENDPOINT_URL, the profile, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
            endpoint_url: None,
            credentials: None,
            role_session_name: Some(format!("sops@{host}")),
            // As the AWS SDK reads it; without it, the profile's ca_bundle.
            ca_bundle: env("AWS_CA_BUNDLE").map(PathBuf::from),
        },
        pgp: PgpConfig {
            gpg: env("SOPS_GPG_EXEC").map(PathBuf::from),
            gnupghome: env("GNUPGHOME").map(PathBuf::from),
        },
    })
}

/// A new data key wrapped for `groups`.
pub fn new_data_key(
    groups: &[Vec<KeyRecipient>],
    threshold: Option<usize>,
) -> Result<(DataKey, KeyMaterial)> {
    let key = DataKey::generate()
        .map_err(|e| Failure::new(code::GENERIC, format!("could not generate a data key: {e}")))?;
    let material = wrap_data_key(&key, groups, threshold)?;
    Ok((key, material))
}

/// An existing data key wrapped for `groups` (updatekeys, groups add/delete).
pub fn wrap_data_key(
    key: &DataKey,
    groups: &[Vec<KeyRecipient>],
    threshold: Option<usize>,
) -> Result<KeyMaterial> {
    let now = crate::clock::now_rfc3339();
    // sops returns "Could not generate data key" as a plain error: exit 1
    // for encrypt, rotate and updatekeys (23 is for a value that cannot be
    // encrypted).
    let all_age = groups
        .iter()
        .flatten()
        .all(|r| matches!(r, KeyRecipient::Age(_)));
    let services = services_for(all_age);
    let wrapped = encrypt_data_key_via(key, groups, threshold, &services, &now, remotes())
        .map_err(|e| Failure::new(code::GENERIC, format!("could not wrap the data key: {e}")))?;
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
    let fields = k
        .to_fields()
        .into_iter()
        .map(|(name, v)| {
            let node = match v {
                FieldValue::Str(s) => Node::str(s),
                FieldValue::Map(m) => Node::map(m.into_iter().map(|(k, v)| (k, Node::str(v)))),
            };
            (name.to_string(), node)
        })
        .collect();
    MasterKey {
        kind: k.kind().to_string(),
        fields,
    }
}

fn to_keys_key(k: &MasterKey) -> sops_like_keys::MasterKey {
    let fields: Vec<(String, FieldValue)> = k
        .fields
        .iter()
        .map(|(name, node)| {
            let v = match node {
                Node::Map(_) => {
                    let mut m = BTreeMap::new();
                    if let Node::Map(entries) = node {
                        for e in entries {
                            if let sops_like_format::Entry::Pair(p) = e {
                                m.insert(
                                    p.key.clone(),
                                    p.value
                                        .as_value()
                                        .and_then(|v| v.sops_text())
                                        .unwrap_or_default(),
                                );
                            }
                        }
                    }
                    FieldValue::Map(m)
                }
                other => FieldValue::Str(match other.as_value() {
                    Some(sops_like_format::Value::Bool(b)) => b.to_string(),
                    Some(v) => v.sops_text().unwrap_or_default(),
                    None => String::new(),
                }),
            };
            (name.clone(), v)
        })
        .collect();
    sops_like_keys::MasterKey::from_fields(&k.kind, &fields)
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
///
/// `SOPS_AGE_KEY_CMD` runs for each of `age_recipients` (the file's age
/// recipients, in order) with `SOPS_AGE_RECIPIENT` set to it, as sops runs
/// it for each age key it tries, so that a command can pick the identity
/// for that recipient; with none, it runs once without it. As sops stops
/// trying keys once one opens, it stops once every group of
/// `age_groups` (each group's age recipients) has a recipient an identity
/// loaded so far opens: a command that prompts (a password manager, a
/// hardware token) asks no more than it must.
pub fn identities(age_recipients: &[String]) -> Identities {
    identities_for(age_recipients, &[])
}

/// [`identities`], stopping the key command as soon as each of
/// `age_groups` has a recipient an identity opens.
pub fn identities_for(age_recipients: &[String], age_groups: &[Vec<String>]) -> Identities {
    let mut ids = Identities::new();
    // A source that fails is recorded and skipped, not fatal: as in sops,
    // the file's other keys (KMS, Vault, …) are still tried, and the
    // failure is listed if no key works.
    // The identities' text is wiped when dropped (the environment keeps
    // its own copy).
    if let Ok(text) = std::env::var("SOPS_AGE_KEY").map(zeroize::Zeroizing::new) {
        if let Err(e) = ids.add_text("SOPS_AGE_KEY", &text) {
            ids.note_unusable("SOPS_AGE_KEY", e.to_string());
        }
    }
    if let Some(path) = std::env::var_os("SOPS_AGE_KEY_FILE").filter(|p| !p.is_empty()) {
        if let Err(e) = ids.add_file(&PathBuf::from(&path), true) {
            ids.note_unusable("SOPS_AGE_KEY_FILE", e.to_string());
        }
    }
    if let Ok(cmd) = std::env::var("SOPS_AGE_KEY_CMD") {
        let runs: Vec<Option<&str>> = if age_recipients.is_empty() {
            vec![None]
        } else {
            age_recipients.iter().map(|r| Some(r.as_str())).collect()
        };
        for recipient in runs {
            if let Err(reason) = run_key_cmd(&cmd, recipient, &mut ids) {
                ids.note_unusable("SOPS_AGE_KEY_CMD", reason);
            }
            let opens = |r: &String| {
                sops_like_keys::Recipient::parse(r).is_ok_and(|r| ids.has_identity_for(&r))
            };
            if !age_groups.is_empty() && age_groups.iter().all(|g| g.iter().any(opens)) {
                break;
            }
        }
    }
    if let Some(path) = std::env::var_os("SOPS_AGE_SSH_PRIVATE_KEY_FILE").filter(|p| !p.is_empty())
    {
        if let Err(e) = ids.add_ssh_key_file(&PathBuf::from(&path), true) {
            ids.note_unusable("SOPS_AGE_SSH_PRIVATE_KEY_FILE", e.to_string());
        }
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
    ids
}

/// Run `SOPS_AGE_KEY_CMD` (for `recipient`, if given) and add the
/// identities it prints; the reason it could not, otherwise.
fn run_key_cmd(
    cmd: &str,
    recipient: Option<&str>,
    ids: &mut Identities,
) -> std::result::Result<(), String> {
    // Split into words as sops splits it (shell quoting, no expansion, no
    // shell): `cat 'k$x.txt'` and `cat k$x.txt` read the same file.
    let words = shell_words::split(cmd).map_err(|e| format!("could not parse the command: {e}"))?;
    let Some((program, args)) = words.split_first() else {
        return Err("the command is empty".to_string());
    };
    let mut command = std::process::Command::new(program);
    command.args(args).stderr(std::process::Stdio::inherit());
    if let Some(r) = recipient {
        command.env("SOPS_AGE_RECIPIENT", r);
    }
    // Its output (private keys) is read into a buffer that grows by hand:
    // `Command::output` reads it into a `Vec` that grows, leaving copies
    // behind (see `sops_like_format::wipe::SecretBytes`).
    let mut child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run: {e}"))?;
    let mut stdout = sops_like_format::wipe::SecretBytes::default();
    let read = match child.stdout.take() {
        Some(mut pipe) => stdout.read_to_end(&mut pipe).map(drop),
        None => Ok(()),
    };
    let status = child.wait().map_err(|e| format!("could not run: {e}"))?;
    read.map_err(|e| format!("could not run: {e}"))?;
    if !status.success() {
        return Err(format!("failed with {status}"));
    }
    let text = match std::str::from_utf8(stdout.as_slice()) {
        Ok(text) => zeroize::Zeroizing::new(text.to_owned()),
        Err(_) => zeroize::Zeroizing::new(lossy(stdout.as_slice())),
    };
    ids.add_text("SOPS_AGE_KEY_CMD", &text)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// `String::from_utf8_lossy` of `bytes`, in a buffer sized before it is
/// written (a replacement character is three bytes, for at least one
/// byte): `from_utf8_lossy` sizes its buffer for `bytes` and may grow it.
fn lossy(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(3 * bytes.len());
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            text.push(char::REPLACEMENT_CHARACTER);
        }
    }
    text
}

/// Recover the data key of a file: age identities first, then the key
/// services (no network call when an age identity opens it).
pub fn data_key(meta: &Metadata, name: &str, order: Option<&str>) -> Result<DataKey> {
    let order = decryption_order(order)?;
    let age_groups: Vec<Vec<String>> = meta
        .key_groups
        .iter()
        .map(|g| {
            g.iter()
                .filter(|k| k.kind == "age")
                .map(|k| k.id())
                .collect()
        })
        .filter(|g: &Vec<String>| !g.is_empty())
        .collect();
    let mut age_recipients: Vec<String> = Vec::new();
    for r in age_groups.iter().flatten() {
        if !age_recipients.contains(r) {
            age_recipients.push(r.clone());
        }
    }
    let ids = identities_for(&age_recipients, &age_groups);
    let groups: Vec<KeyGroup> = meta
        .key_groups
        .iter()
        .map(|g| KeyGroup(g.iter().map(to_keys_key).collect()))
        .collect();
    let services = services_for(meta.key_groups.iter().flatten().all(|k| k.kind == "age"));
    decrypt_data_key_via(
        &groups,
        meta.shamir_threshold,
        &ids,
        &services,
        &order,
        remotes(),
    )
    .map_err(|e| {
        let failure = Failure::new(
            code::COULD_NOT_RETRIEVE_KEY,
            format!("{name}: could not retrieve the data key:\n{e}"),
        );
        // The hint is for a key that is missing, not for a file whose
        // metadata is broken (a threshold its groups cannot meet).
        match &e {
            sops_like_keys::UnwrapError::NotEnoughKeys(report) => match unwrap_hint(report) {
                Some(hint) => failure.hint(hint),
                None => failure,
            },
            _ => failure,
        }
    })
}

/// What to set for the key types that failed (in the file's order): the
/// age identity for age recipients none opened, the Vault token, AWS
/// credentials, gpg's home, … `None` if nothing failed.
fn unwrap_hint(report: &sops_like_keys::UnwrapReport) -> Option<String> {
    let hints: Vec<&str> = report
        .failed_kinds()
        .into_iter()
        .filter_map(|kind| {
            Some(match kind {
                "age" => "age: set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY) to an identity for one of the age recipients above",
                "hc_vault" => "hc_vault: set VAULT_TOKEN (or ~/.vault-token) to a token that may use the transit key (the address is the file's)",
                "kms" => "kms: AWS credentials allowed to use the key (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO, …)",
                "pgp" => "pgp: the secret key in gpg's keyring (GNUPGHOME) and its agent",
                "gcp_kms" => "gcp_kms: GOOGLE_APPLICATION_CREDENTIALS (or gcloud's application default credentials)",
                "azure_kv" => "azure_kv: AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, a managed identity or `az login`",
                _ => return None,
            })
        })
        .collect();
    (!hints.is_empty()).then(|| hints.join("; "))
}

/// The key services chosen on the command line (`--enable-local-keyservice`,
/// `--keyservice`); set once by [`set_keyservices`].
static REMOTES: std::sync::OnceLock<Remotes> = std::sync::OnceLock::new();

/// How long a remote key service has for each call.
const REMOTE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Read sops's key service flags: the local key service (this process's
/// identities and KMS clients) unless turned off, then each remote one. An
/// address that does not parse is skipped with a warning, as sops does.
pub fn set_keyservices(args: &crate::args::KeyserviceArgs) {
    let mut services = Vec::new();
    for uri in args.keyservice.iter().filter(|k| !k.is_empty()) {
        match RemoteKeyService::new(uri, REMOTE_TIMEOUT) {
            Ok(service) => services.push(service),
            Err(e) => stderr!("warning: {e}; skipped"),
        }
    }
    let _ = REMOTES.set(Remotes {
        local: args.enable_local_keyservice,
        services,
    });
}

fn remotes() -> &'static Remotes {
    REMOTES.get_or_init(Remotes::default)
}

/// The key types to try first, in order (`--decryption-order` /
/// `$SOPS_DECRYPTION_ORDER`, as sops reads it: split at commas, unset or
/// empty is `age,pgp`, a type named twice is an error).
fn decryption_order(order: Option<&str>) -> Result<Vec<String>> {
    let Some(order) = order.filter(|o| !o.is_empty()) else {
        return Ok(DEFAULT_DECRYPTION_ORDER
            .iter()
            .map(|t| t.to_string())
            .collect());
    };
    let mut types: Vec<String> = Vec::new();
    // Spaces around a name are dropped (sops keeps them, and then the name
    // matches no key type: `age, pgp` would silently mean `age`).
    for t in order.split(',').map(str::trim) {
        if types.iter().any(|seen| seen == t) {
            return Err(Failure::new(
                code::DUPLICATE_DECRYPTION_KEY_TYPE,
                format!("duplicate decryption key type: {t}"),
            )
            .hint("list each key type once, e.g. --decryption-order age,pgp,kms"));
        }
        types.push(t.to_string());
    }
    Ok(types)
}

/// The keys of an existing file as recipients, by group, with `add`
/// appended to the first group and the keys whose id is in `rm` removed
/// (an id the file does not have is skipped with a warning, as in sops).
/// Whether `--rm-*` value `r` names key `k`: its id (`kind:` prefix
/// optional). `--rm-kms ARN` removes the key whatever its role, context or
/// profile (sops only removes on a match of all four; the friendlier rule
/// is kept), and a Vault URI is compared as (address, engine, key).
fn removes(k: &KeyRecipient, r: &str) -> bool {
    let id = recipient_id(k);
    if id == r || id.strip_suffix(r).is_some_and(|p| p.ends_with(':')) {
        return true;
    }
    match k {
        KeyRecipient::Service(ServiceKey::Kms(key)) => AwsKmsKey::parse(r)
            .is_ok_and(|p| p.arn == key.arn && (p.role.is_empty() || p.role == key.role)),
        KeyRecipient::Service(ServiceKey::HcVault(key)) => {
            VaultKey::parse(r).is_ok_and(|p| p == *key)
        }
        _ => false,
    }
}

pub fn recipients_of(
    meta: &Metadata,
    add: Vec<KeyRecipient>,
    rm: &[String],
) -> Result<Vec<Vec<KeyRecipient>>> {
    let mut groups: Vec<Vec<KeyRecipient>> = Vec::new();
    for g in &meta.key_groups {
        let mut keys = Vec::new();
        for k in g {
            let key = to_keys_key(k);
            let r = match key.service_key() {
                Some(s) => KeyRecipient::from(s),
                None if k.kind == "age" => KeyRecipient::from(
                    parse_recipients(&[k.id()])?
                        .into_iter()
                        .next()
                        .ok_or_else(|| bad_age(&k.id()))?,
                ),
                None => {
                    return Err(Failure::new(
                        code::GENERIC,
                        format!(
                            "this file has a {} key ({}), which this build cannot re-wrap",
                            k.kind,
                            k.id()
                        ),
                    ))
                }
            };
            keys.push(r);
        }
        groups.push(keys);
    }
    if groups.is_empty() {
        groups.push(Vec::new());
    }
    // Added first, then removed, as sops does: a key in both lists is not
    // a key of the result.
    for a in add {
        let id = recipient_id(&a);
        if !groups.iter().flatten().any(|k| recipient_id(k) == id) {
            groups[0].push(a);
        }
    }
    for r in rm {
        let before: usize = groups.iter().map(Vec::len).sum();
        for g in &mut groups {
            g.retain(|k| !removes(k, r));
        }
        // Absent: nothing to remove, as in sops (an off-boarding loop over
        // many files must not stop at one the leaver could not read).
        if groups.iter().map(Vec::len).sum::<usize>() == before {
            stderr!("warning: {r} is not a key of this file; nothing to remove");
        }
    }
    if groups.iter().any(Vec::is_empty) {
        return Err(Failure::new(
            code::NO_ENCRYPTION_KEY_FOUND,
            "that would leave a key group without keys",
        )
        .hint("add another key first, or remove the group with `groups delete`"));
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hint names what the failed key types need, and age only when an
    /// age key failed.
    #[test]
    fn unwrap_hint_follows_the_failed_key_types() {
        use sops_like_keys::{GroupReport, KeyAttempt, KeyFailure, UnwrapReport};
        let report = |keys: &[(&str, bool)]| UnwrapReport {
            groups: vec![GroupReport {
                index: 0,
                recovered: false,
                keys: keys
                    .iter()
                    .map(|(kind, ok)| KeyAttempt {
                        kind: (*kind).to_owned(),
                        id: "x".to_owned(),
                        failure: (!ok).then(|| KeyFailure::Other("denied".into())),
                    })
                    .collect(),
            }],
            threshold: 1,
            recovered: 0,
            sources: Vec::new(),
        };
        let vault = unwrap_hint(&report(&[("hc_vault", false)])).unwrap();
        assert!(
            vault.contains("VAULT_TOKEN") && !vault.contains("SOPS_AGE"),
            "{vault}"
        );
        let kms = unwrap_hint(&report(&[("kms", false)])).unwrap();
        assert!(
            kms.contains("AWS credentials") && !kms.contains("SOPS_AGE"),
            "{kms}"
        );
        let both = unwrap_hint(&report(&[("pgp", false), ("age", false)])).unwrap();
        assert!(
            both.starts_with("pgp: ") && both.contains("GNUPGHOME"),
            "{both}"
        );
        assert!(both.contains("SOPS_AGE_KEY_FILE"), "{both}");
        assert!(unwrap_hint(&report(&[("age", true)])).is_none());
    }

    /// The same text as `String::from_utf8_lossy`, in a buffer that did
    /// not grow.
    #[test]
    fn lossy_is_from_utf8_lossy_without_growing() {
        for bytes in [
            &b"AGE-SECRET-KEY-1\n"[..],
            b"\xff\xfe",
            b"a\xffb\xe2\x82",
            b"\xf0\x9f\x92\x96 \xc3",
            b"",
        ] {
            let text = lossy(bytes);
            assert_eq!(text, String::from_utf8_lossy(bytes));
            assert_eq!(text.capacity(), 3 * bytes.len());
        }
    }
}
