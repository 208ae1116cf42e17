//! Command-line arguments (clap only). Flag names follow sops so scripts
//! carry over; our own additions use new names.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// sops-like: encrypt the values of YAML, JSON, .env and TOML files for age
/// (and KMS) keys, keeping every other byte of the file as it was.
#[derive(Parser, Debug)]
#[command(
    name = "sops-like",
    version = concat!(env!("CARGO_PKG_VERSION"), " (sops 3.11.0 compatible)"),
    about,
    long_about = None,
    disable_version_flag = true
)]
pub struct Cli {
    /// Print the version (`-v` as in sops; `-V` too).
    #[arg(short = 'v', long, short_alias = 'V', action = clap::ArgAction::Version)]
    pub version: Option<bool>,
    /// Path to the config file (skips the search for .sops-like.yaml/.sops.yaml)
    /// [env: SOPS_CONFIG=]
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Print more about what is done (never secrets).
    #[arg(long, global = true)]
    pub verbose: bool,
    /// sops's flag to skip its check for a newer version: sops-like never
    /// checks, so it changes nothing.
    #[arg(
        long,
        global = true,
        env = "SOPS_DISABLE_VERSION_CHECK",
        value_parser = go_bool,
    )]
    pub disable_version_check: bool,
    /// sops's flag to check GitHub for a newer version: sops-like makes no
    /// such call, so it changes nothing.
    #[arg(long, global = true)]
    pub check_for_updates: bool,
    /// sops's indentation for the YAML and JSON it re-emits: sops-like
    /// keeps each file's own layout, so it is accepted and not used.
    #[arg(
        long,
        global = true,
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = go_int
    )]
    pub indent: Option<i64>,
    #[command(flatten)]
    pub keyservice: KeyserviceArgs,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// A boolean flag's value or environment variable: what clap's
/// `BoolishValueParser` reads (`true`, `1`, `yes`, `on`, …), and the empty
/// text, which urfave/cli (sops) reads as false: `SOPS_DISABLE_VERSION_CHECK=`
/// in a CI template must not stop every command.
fn go_bool(text: &str) -> Result<bool, String> {
    if text.is_empty() {
        return Ok(false);
    }
    match text.to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "y" | "yes" | "on" => Ok(true),
        "0" | "f" | "false" | "n" | "no" | "off" => Ok(false),
        _ => Err("value was not a boolean".to_string()),
    }
}

/// An integer flag's value as urfave/cli reads it for sops (Go's
/// `strconv.ParseInt(s, 0, 64)`): an optional sign; `0x`, `0o`, `0b` or a
/// leading `0` (octal) for the base; `_` between digits or after a prefix.
fn go_int(text: &str) -> Result<i64, String> {
    let invalid =
        || format!("{text:?} is not an integer (Go syntax: 12, 0x1f, 0o17, 017, 0b11, 1_000)");
    let (negative, body) = match text.as_bytes().first() {
        Some(b'+') => (false, &text[1..]),
        Some(b'-') => (true, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = match lower.as_bytes() {
        [b'0', b'x', ..] => (16, &lower[2..], true),
        [b'0', b'o', ..] => (8, &lower[2..], true),
        [b'0', b'b', ..] => (2, &lower[2..], true),
        [b'0', _, ..] => (8, &lower[1..], true),
        _ => (10, &lower[..], false),
    };
    // A `_` only after a digit or the prefix, and never last.
    let mut after_digit = prefixed;
    let mut clean = String::with_capacity(digits.len());
    for c in digits.chars() {
        if c == '_' {
            if !after_digit {
                return Err(invalid());
            }
            after_digit = false;
        } else if c.is_digit(radix) {
            after_digit = true;
            clean.push(c);
        } else {
            return Err(invalid());
        }
    }
    if !after_digit || clean.is_empty() {
        return Err(invalid());
    }
    let value = i64::from_str_radix(&clean, radix).map_err(|_| invalid())?;
    Ok(if negative { -value } else { value })
}

/// A count flag (`--shamir-secret-sharing-threshold`) in Go's syntax; not
/// negative.
fn go_count(text: &str) -> Result<usize, String> {
    let value = go_int(text)?;
    usize::try_from(value).map_err(|_| format!("{text:?} is negative"))
}

/// A `groups delete` index, as sops reads it (`strconv.ParseUint(s, 10,
/// 32)`): decimal digits only, no sign.
fn decimal_index(text: &str) -> Result<usize, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not a group index (decimal digits)"));
    }
    let value: u32 = text
        .parse()
        .map_err(|_| format!("{text:?} is out of range"))?;
    usize::try_from(value).map_err(|_| format!("{text:?} is out of range"))
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Encrypt a file and write the result to stdout (or -i / --output).
    Encrypt(EncryptArgs),
    /// Decrypt a file and write the result to stdout (or -i / --output).
    Decrypt(DecryptArgs),
    /// Open the decrypted file in $EDITOR and re-encrypt it on save.
    Edit(EditArgs),
    /// Set one value: set FILE '["a"]["b"]' JSON-VALUE.
    Set(SetArgs),
    /// Remove one key: unset FILE '["a"]["b"]'.
    Unset(UnsetArgs),
    /// Generate a new data key and re-encrypt every value; add or remove recipients.
    Rotate(RotateArgs),
    /// Re-wrap the data key for the recipients of the matching creation rule.
    Updatekeys(UpdatekeysArgs),
    /// Publish a sops file (or, with --recursive, a directory) to the
    /// destination its `destination_rules` entry names: S3, GCS or Vault KV.
    Publish(PublishArgs),
    /// Run a command with the decrypted values as environment variables.
    ExecEnv(ExecEnvArgs),
    /// Run a command with the decrypted file at a temporary path ({}).
    ExecFile(ExecFileArgs),
    /// Print {"encrypted":true} or {"encrypted":false} for a file.
    Filestatus(FilestatusArgs),
    /// Create a new age identity in ~/.config/sops/age/keys.txt and print its recipient.
    Keygen(KeygenArgs),
    /// Serve this machine's keys to sops and sops-like elsewhere (gRPC, as `sops keyservice`).
    Keyservice(KeyserviceServeArgs),
    /// Add or delete key groups of a file.
    Groups(GroupsArgs),
    /// Name teammates' recipients in .sops-like.yaml and update the files they can read.
    #[command(subcommand)]
    Recipients(RecipientsCommand),
    /// Print a shell completion script: `source <(sops-like completion bash)`.
    Completion(CompletionArgs),
}

/// `completion SHELL`.
#[derive(Args, Debug)]
pub struct CompletionArgs {
    /// bash, zsh or fish.
    pub shell: clap_complete::Shell,
}

/// `recipients add` / `recipients remove`.
#[derive(Subcommand, Debug)]
pub enum RecipientsCommand {
    /// Add NAME = RECIPIENT to the `recipients:` map of .sops-like.yaml.
    Add(RecipientsAddArgs),
    /// Remove NAME from .sops-like.yaml (and from every rule), then update
    /// the files it could read (rotating their data keys).
    Remove(RecipientsRemoveArgs),
}

/// `recipients add`.
#[derive(Args, Debug)]
pub struct RecipientsAddArgs {
    /// The name rules will use (e.g. alice).
    pub name: String,
    /// The age recipient (age1…, or an ssh-ed25519/ssh-rsa public key).
    pub recipient: String,
    /// Also add NAME to the `age:` keys of every creation rule (rules with
    /// key groups are left alone), then update the files.
    #[arg(long)]
    pub all_rules: bool,
    /// Do not rotate data keys of files that lose a recipient.
    #[arg(long)]
    pub no_rotate: bool,
}

/// `recipients remove`.
#[derive(Args, Debug)]
pub struct RecipientsRemoveArgs {
    /// The name to remove.
    pub name: String,
    /// Keep the data keys (the removed person has seen them).
    #[arg(long)]
    pub no_rotate: bool,
}

/// `groups`: with no subcommand it prints its help and exits 0, as sops does.
#[derive(Args, Debug)]
pub struct GroupsArgs {
    #[command(subcommand)]
    pub command: Option<GroupsCommand>,
}

/// `groups add` / `groups delete`.
#[derive(Subcommand, Debug)]
pub enum GroupsCommand {
    /// Add a key group (its keys: --age, --pgp, --kms, --gcp-kms, --azure-kv, --hc-vault-transit, repeatable).
    Add(Box<GroupsAddArgs>),
    /// Delete the key group at INDEX (0-based).
    Delete(GroupsDeleteArgs),
}

/// `groups add`.
#[derive(Args, Debug)]
pub struct GroupsAddArgs {
    /// The encrypted file.
    #[arg(short = 'f', long)]
    pub file: String,
    /// An age recipient of the new group (repeat for several).
    #[arg(long = "age")]
    pub age: Vec<String>,
    /// A PGP fingerprint of the new group (repeatable).
    #[arg(long)]
    pub pgp: Vec<String>,
    /// An AWS KMS ARN of the new group (repeatable).
    #[arg(long)]
    pub kms: Vec<String>,
    /// The AWS profile for the KMS keys.
    #[arg(long)]
    pub aws_profile: Option<String>,
    /// KMS encryption context: key:value,key2:value2.
    #[arg(long)]
    pub encryption_context: Option<String>,
    /// A GCP KMS resource id of the new group (repeatable).
    #[arg(long)]
    pub gcp_kms: Vec<String>,
    /// An Azure Key Vault key URL of the new group (repeatable).
    #[arg(long)]
    pub azure_kv: Vec<String>,
    /// A Vault transit key URI of the new group (repeatable).
    #[arg(long)]
    pub hc_vault_transit: Vec<String>,
    /// A Huawei Cloud KMS key id (not supported by this build: an error).
    #[arg(long)]
    pub hckms: Vec<String>,
    /// Write the result back to the file instead of stdout.
    #[arg(short = 'i', long = "in-place")]
    pub in_place: bool,
    /// The new Shamir threshold.
    #[arg(long, value_parser = go_count)]
    pub shamir_secret_sharing_threshold: Option<usize>,
}

/// `groups delete`.
#[derive(Args, Debug)]
pub struct GroupsDeleteArgs {
    /// The encrypted file.
    #[arg(short = 'f', long)]
    pub file: String,
    /// The index of the group to delete.
    #[arg(value_parser = decimal_index)]
    pub index: usize,
    /// Write the result back to the file instead of stdout.
    #[arg(short = 'i', long = "in-place")]
    pub in_place: bool,
    /// The new Shamir threshold.
    #[arg(long, value_parser = go_count)]
    pub shamir_secret_sharing_threshold: Option<usize>,
}

/// Where the output goes, and input/output types.
#[derive(Args, Debug, Clone)]
pub struct IoArgs {
    /// Write the output back to the same file instead of stdout.
    #[arg(short = 'i', long = "in-place")]
    pub in_place: bool,
    /// Write the output to this file (not with -i: exit code 8, as sops).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Input format: yaml, json, dotenv, toml. Default: from the file extension.
    #[arg(long)]
    pub input_type: Option<String>,
    /// Output format: yaml, json, dotenv, toml. Default: the input format.
    #[arg(long)]
    pub output_type: Option<String>,
    /// Use this name instead of the file argument to pick the format (and
    /// the config rule); useful with stdin.
    #[arg(long)]
    pub filename_override: Option<String>,
}

impl IoArgs {
    /// The input and output of a command that names one file and no
    /// output options: `in_place` (or stdout), an optional `--input-type`.
    pub fn file(in_place: bool, input_type: Option<String>) -> IoArgs {
        IoArgs {
            in_place,
            output: None,
            input_type,
            output_type: None,
            filename_override: None,
        }
    }
}

/// Which leaves get encrypted.
#[derive(Args, Debug, Clone, Default)]
pub struct SelectorArgs {
    /// Keys with this suffix stay unencrypted (default: _unencrypted).
    #[arg(long)]
    pub unencrypted_suffix: Option<String>,
    /// Only keys with this suffix are encrypted.
    #[arg(long)]
    pub encrypted_suffix: Option<String>,
    /// Keys matching this regex stay unencrypted.
    #[arg(long)]
    pub unencrypted_regex: Option<String>,
    /// Only keys matching this regex are encrypted.
    #[arg(long)]
    pub encrypted_regex: Option<String>,
    /// Values after a comment matching this regex stay unencrypted.
    #[arg(long)]
    pub unencrypted_comment_regex: Option<String>,
    /// Only values after a comment matching this regex are encrypted.
    #[arg(long)]
    pub encrypted_comment_regex: Option<String>,
    /// Compute the MAC over encrypted values only.
    #[arg(long)]
    pub mac_only_encrypted: bool,
}

/// `keyservice`.
#[derive(Args, Debug)]
pub struct KeyserviceServeArgs {
    /// Network to listen on: tcp or unix.
    #[arg(long, visible_alias = "net", default_value = "tcp")]
    pub network: String,
    /// Address to listen on: 127.0.0.1:5000, or a socket path for unix.
    #[arg(long, visible_alias = "addr", default_value = "127.0.0.1:5000")]
    pub address: String,
    /// Ask on the terminal before answering each request.
    #[arg(long)]
    pub prompt: bool,
}

/// sops's key service flags, accepted everywhere: this process's own keys
/// (the local key service) and remote key services, tried in that order.
#[derive(Args, Debug, Clone)]
pub struct KeyserviceArgs {
    /// Use this process's identities and KMS credentials (the local key
    /// service; tried before the remote ones).
    #[arg(
        long,
        global = true,
        env = "SOPS_ENABLE_LOCAL_KEYSERVICE",
        num_args = 0..=1,
        require_equals = true,
        default_value_t = true,
        default_missing_value = "true",
        value_parser = go_bool,
    )]
    pub enable_local_keyservice: bool,
    /// Remote sops key services (tcp://host:port or unix:///path), tried
    /// after the local one.
    #[arg(long, global = true, env = "SOPS_KEYSERVICE", value_delimiter = ',')]
    pub keyservice: Vec<String>,
}

/// The value of `--shamir-secret-sharing-threshold` as sops takes it: the
/// flag's default is 0 and 0 means "not given" (the rule's or the file's
/// threshold applies), so `--shamir-secret-sharing-threshold 0` is no
/// threshold rather than a literal 0.
pub fn shamir_threshold(flag: Option<usize>) -> Option<usize> {
    flag.filter(|t| *t != 0)
}

/// Master keys for a new file.
#[derive(Args, Debug, Clone, Default)]
pub struct KeyArgs {
    /// Comma-separated age recipients (age1…, ssh-ed25519 …, ssh-rsa …).
    #[arg(short = 'a', long, env = "SOPS_AGE_RECIPIENTS")]
    pub age: Option<String>,
    /// Comma-separated AWS KMS key ARNs (`arn` or `arn+role_arn`).
    #[arg(short = 'k', long, env = "SOPS_KMS_ARN")]
    pub kms: Option<String>,
    /// The AWS profile for the KMS keys.
    #[arg(long)]
    pub aws_profile: Option<String>,
    /// KMS encryption context: key:value,key2:value2.
    #[arg(long)]
    pub encryption_context: Option<String>,
    /// Comma-separated PGP fingerprints (through gpg).
    #[arg(short = 'p', long, env = "SOPS_PGP_FP")]
    pub pgp: Option<String>,
    /// Comma-separated Vault transit key URIs (https://host:8200/v1/transit/keys/NAME).
    #[arg(long, env = "SOPS_VAULT_URIS")]
    pub hc_vault_transit: Option<String>,
    /// Comma-separated GCP KMS resource ids.
    #[arg(long, env = "SOPS_GCP_KMS_IDS")]
    pub gcp_kms: Option<String>,
    /// Comma-separated Azure Key Vault key URLs.
    #[arg(long, env = "SOPS_AZURE_KEYVAULT_URLS")]
    pub azure_kv: Option<String>,
    /// Huawei Cloud KMS key ids: accepted as sops spells them, but this
    /// build has no Huawei Cloud client (an error names the key).
    #[arg(long, env = "SOPS_HUAWEICLOUD_KMS_IDS")]
    pub hckms: Option<String>,
    /// Number of key groups needed to recover the data key (Shamir).
    #[arg(long, value_parser = go_count)]
    pub shamir_secret_sharing_threshold: Option<usize>,
}

/// `encrypt`.
#[derive(Args, Debug)]
pub struct EncryptArgs {
    /// The files (or directories, with --recursive) to encrypt; `-` or nothing reads stdin.
    pub files: Vec<String>,
    /// Encrypt every file with a known extension below the given directories (needs -i).
    #[arg(short = 'r', long)]
    pub recursive: bool,
    #[command(flatten)]
    pub io: IoArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub selector: SelectorArgs,
    /// Value cipher for the new file: xchacha20-poly1305 (default) or
    /// aes256-gcm (readable by sops).
    #[arg(long)]
    pub cipher: Option<String>,
}

/// `decrypt`.
#[derive(Args, Debug)]
pub struct DecryptArgs {
    /// The files (or directories, with --recursive) to decrypt; `-` or nothing reads stdin.
    pub files: Vec<String>,
    /// Decrypt every encrypted file below the given directories (needs -i).
    #[arg(short = 'r', long)]
    pub recursive: bool,
    #[command(flatten)]
    pub io: IoArgs,
    /// Print only this key or branch, e.g. '["somekey"][0]'.
    #[arg(long)]
    pub extract: Option<String>,
    /// Do not verify the MAC.
    #[arg(long)]
    pub ignore_mac: bool,
    /// Comma-separated order of key types to try (default: age,pgp, then the rest).
    #[arg(long, env = "SOPS_DECRYPTION_ORDER")]
    pub decryption_order: Option<String>,
}

/// `filestatus`.
#[derive(Args, Debug)]
pub struct FilestatusArgs {
    /// The file.
    pub file: String,
    /// Input format: yaml, json, dotenv, toml.
    #[arg(long)]
    pub input_type: Option<String>,
    /// Further files: ignored, as sops ignores them (it reports the first).
    #[arg(hide = true)]
    pub ignored: Vec<String>,
}

/// `edit`.
#[derive(Args, Debug)]
pub struct EditArgs {
    /// The file to edit (created from the creation rules if missing).
    pub file: String,
    /// Replace the content non-interactively with this plaintext file (`-`: stdin).
    #[arg(long)]
    pub from: Option<String>,
    /// Input format: yaml, json, dotenv, toml.
    #[arg(long)]
    pub input_type: Option<String>,
    /// Write the file in this format (yaml, json, dotenv, toml, ini), as
    /// sops does: the document is converted and encrypted anew.
    #[arg(long)]
    pub output_type: Option<String>,
    #[command(flatten)]
    pub keys: KeyArgs,
    #[command(flatten)]
    pub selector: SelectorArgs,
    /// Value cipher for a new file.
    #[arg(long)]
    pub cipher: Option<String>,
    /// Do not verify the MAC.
    #[arg(long)]
    pub ignore_mac: bool,
    /// Show the sops metadata in the editor (not supported: prints a warning and edits the
    /// document only).
    #[arg(short = 's', long)]
    pub show_master_keys: bool,
    /// Comma-separated order of key types to try.
    #[arg(long, env = "SOPS_DECRYPTION_ORDER")]
    pub decryption_order: Option<String>,
}

/// `set`.
#[derive(Args, Debug)]
pub struct SetArgs {
    /// The encrypted file (changed in place).
    pub file: String,
    /// Where: '["key"]["nested"][0]'.
    pub index: String,
    /// The value, as JSON ('"text"', '42', '-5', '{"a": 1}').
    #[arg(allow_negative_numbers = true)]
    pub value: Option<String>,
    /// Read the value (JSON) from the file named by VALUE.
    #[arg(long)]
    pub value_file: bool,
    /// Read the value (JSON) from stdin.
    #[arg(long)]
    pub value_stdin: bool,
    /// Do nothing if the value is already set.
    #[arg(long)]
    pub idempotent: bool,
    /// Input format: yaml, json, dotenv, toml.
    #[arg(long)]
    pub input_type: Option<String>,
    /// Write the file in this format (yaml, json, dotenv, toml, ini), as
    /// sops does: the document is converted and encrypted anew.
    #[arg(long)]
    pub output_type: Option<String>,
    /// Accepted as sops accepts it: the file's own key groups and
    /// threshold are kept.
    #[arg(long, value_parser = go_count)]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// Do not verify the MAC.
    #[arg(long)]
    pub ignore_mac: bool,
    /// Comma-separated order of key types to try.
    #[arg(long, env = "SOPS_DECRYPTION_ORDER")]
    pub decryption_order: Option<String>,
}

/// `unset`.
#[derive(Args, Debug)]
pub struct UnsetArgs {
    /// The encrypted file (changed in place).
    pub file: String,
    /// Where: '["key"]["nested"][0]'.
    pub index: String,
    /// Do nothing if the key does not exist.
    #[arg(long)]
    pub idempotent: bool,
    /// Input format: yaml, json, dotenv, toml.
    #[arg(long)]
    pub input_type: Option<String>,
    /// Write the file in this format (yaml, json, dotenv, toml, ini), as
    /// sops does: the document is converted and encrypted anew.
    #[arg(long)]
    pub output_type: Option<String>,
    /// Accepted as sops accepts it: the file's own key groups and
    /// threshold are kept.
    #[arg(long, value_parser = go_count)]
    pub shamir_secret_sharing_threshold: Option<usize>,
    /// Do not verify the MAC.
    #[arg(long)]
    pub ignore_mac: bool,
    /// Comma-separated order of key types to try.
    #[arg(long, env = "SOPS_DECRYPTION_ORDER")]
    pub decryption_order: Option<String>,
}

/// `rotate`.
#[derive(Args, Debug)]
pub struct RotateArgs {
    /// The files (or directories, with --recursive).
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Rotate every encrypted file below the given directories (needs -i).
    #[arg(short = 'r', long)]
    pub recursive: bool,
    #[command(flatten)]
    pub io: IoArgs,
    /// Add these comma-separated age recipients (to the first key group).
    #[arg(long)]
    pub add_age: Option<String>,
    /// Remove these comma-separated age recipients.
    #[arg(long)]
    pub rm_age: Option<String>,
    /// Add these comma-separated AWS KMS ARNs.
    #[arg(long)]
    pub add_kms: Option<String>,
    /// Remove these comma-separated AWS KMS ARNs.
    #[arg(long)]
    pub rm_kms: Option<String>,
    /// Add these comma-separated PGP fingerprints.
    #[arg(long)]
    pub add_pgp: Option<String>,
    /// Remove these comma-separated PGP fingerprints.
    #[arg(long)]
    pub rm_pgp: Option<String>,
    /// Add these comma-separated Vault transit key URIs.
    #[arg(long)]
    pub add_hc_vault_transit: Option<String>,
    /// Remove these comma-separated Vault transit key URIs.
    #[arg(long)]
    pub rm_hc_vault_transit: Option<String>,
    /// Add these comma-separated GCP KMS resource ids.
    #[arg(long)]
    pub add_gcp_kms: Option<String>,
    /// Remove these comma-separated GCP KMS resource ids.
    #[arg(long)]
    pub rm_gcp_kms: Option<String>,
    /// Add these comma-separated Azure Key Vault key URLs.
    #[arg(long)]
    pub add_azure_kv: Option<String>,
    /// Remove these comma-separated Azure Key Vault key URLs.
    #[arg(long)]
    pub rm_azure_kv: Option<String>,
    /// Add Huawei Cloud KMS keys (not supported by this build: an error).
    #[arg(long)]
    pub add_hckms: Option<String>,
    /// Remove these comma-separated Huawei Cloud KMS key ids.
    #[arg(long)]
    pub rm_hckms: Option<String>,
    /// KMS encryption context for added KMS keys: key:value,…
    #[arg(long)]
    pub encryption_context: Option<String>,
    /// Do not verify the MAC.
    #[arg(long)]
    pub ignore_mac: bool,
    /// Comma-separated order of key types to try.
    #[arg(long, env = "SOPS_DECRYPTION_ORDER")]
    pub decryption_order: Option<String>,
}

/// `updatekeys`.
#[derive(Args, Debug)]
pub struct UpdatekeysArgs {
    /// The files (or directories, with --recursive).
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Update every encrypted file below the given directories.
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// Apply the changes without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// When a recipient is removed, keep the data key (the removed person
    /// has seen it: by default the data key is rotated).
    #[arg(long)]
    pub no_rotate: bool,
    /// Input format: yaml, json, dotenv, toml.
    #[arg(long)]
    pub input_type: Option<String>,
    /// Comma-separated order of key types to try.
    #[arg(long, env = "SOPS_DECRYPTION_ORDER")]
    pub decryption_order: Option<String>,
}

/// `publish`.
#[derive(Args, Debug)]
pub struct PublishArgs {
    /// The encrypted file, or a directory with --recursive (sops takes the
    /// first argument and warns about the others).
    pub files: Vec<String>,
    /// Publish without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Drop the file extension from the destination name.
    #[arg(long)]
    pub omit_extensions: bool,
    /// Publish every file below the directory (named by its path relative
    /// to it).
    #[arg(long)]
    pub recursive: bool,
    /// Comma-separated order of key types to try.
    #[arg(long, env = "SOPS_DECRYPTION_ORDER")]
    pub decryption_order: Option<String>,
}

/// `exec-env`.
#[derive(Args, Debug)]
pub struct ExecEnvArgs {
    /// The encrypted file.
    pub file: String,
    /// The command: one shell string ('cmd arg'), or `-- cmd arg…`.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
    /// Start from an empty environment.
    #[arg(long)]
    pub pristine: bool,
    /// Replace this process with the command (exec) instead of running it
    /// as a child.
    #[arg(long)]
    pub same_process: bool,
    /// Start the command and exit without waiting for it, its standard
    /// streams on /dev/null (deprecated in sops too).
    #[arg(long)]
    pub background: bool,
    /// Run the command as this user (needs the privilege to switch).
    #[arg(long)]
    pub user: Option<String>,
    /// Input format: yaml, json, dotenv, toml.
    #[arg(long)]
    pub input_type: Option<String>,
    /// Comma-separated order of key types to try.
    #[arg(long, env = "SOPS_DECRYPTION_ORDER")]
    pub decryption_order: Option<String>,
}

/// `exec-file`.
#[derive(Args, Debug)]
pub struct ExecFileArgs {
    /// The encrypted file.
    pub file: String,
    /// The command, with {} for the path: one shell string, or `-- cmd {}…`.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
    /// Use a 0600 temporary file instead of a FIFO.
    #[arg(long)]
    pub no_fifo: bool,
    /// sops's deprecated flag: refused, as the plaintext file is removed
    /// when sops-like exits (run the whole command in the background).
    #[arg(long)]
    pub background: bool,
    /// Run the command as this user (needs the privilege to switch; the
    /// temporary file is made theirs).
    #[arg(long)]
    pub user: Option<String>,
    /// Name of the temporary file.
    #[arg(long, default_value = "tmp-file")]
    pub filename: String,
    /// Input format: yaml, json, dotenv, toml.
    #[arg(long)]
    pub input_type: Option<String>,
    /// Output format of the plaintext: yaml, json, dotenv, ini, toml, binary.
    #[arg(long)]
    pub output_type: Option<String>,
    /// Comma-separated order of key types to try.
    #[arg(long, env = "SOPS_DECRYPTION_ORDER")]
    pub decryption_order: Option<String>,
}

/// `keygen`.
#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Write the identity here instead of ~/.config/sops/age/keys.txt.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Integers as Go's `strconv.ParseInt(s, 0, 64)` reads them for sops.
    #[test]
    fn go_integers() {
        for (text, want) in [
            ("2", 2),
            ("+2", 2),
            ("-3", -3),
            ("0", 0),
            ("0x2", 2),
            ("0X1f", 31),
            ("0b10", 2),
            ("0o17", 15),
            ("010", 8),
            ("0_7", 7),
            ("2_0", 20),
            ("0x_1", 1),
            ("1_000", 1000),
        ] {
            assert_eq!(go_int(text), Ok(want), "{text}");
        }
        for text in [
            "", "+", "0x", "08", "_1", "1_", "1__2", "0x+5", "1.0", " 2", "2e3", "0b2",
        ] {
            assert!(go_int(text).is_err(), "{text}");
        }
        assert_eq!(go_count("0x2"), Ok(2));
        assert!(go_count("-1").is_err());
    }

    /// A `groups delete` index is decimal digits only, as sops's
    /// `strconv.ParseUint(s, 10, 32)`.
    #[test]
    fn group_indices() {
        assert_eq!(decimal_index("1"), Ok(1));
        assert_eq!(decimal_index("01"), Ok(1));
        for text in ["+1", "-1", "0x1", "", "1_0", "4294967296"] {
            assert!(decimal_index(text).is_err(), "{text}");
        }
    }
}
