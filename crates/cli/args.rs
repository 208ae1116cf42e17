//! Command-line arguments (clap only). Flag names follow sops so scripts
//! carry over; our own additions use new names.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// sops-like: encrypt the values of YAML, JSON, .env and TOML files for age
/// (and KMS) keys, keeping every other byte of the file as it was.
#[derive(Parser, Debug)]
#[command(name = "sops-like", version, about, long_about = None)]
pub struct Cli {
    /// Path to the config file (skips the search for .sops-like.yaml/.sops.yaml).
    #[arg(long, global = true, env = "SOPS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print more about what is done (never secrets).
    #[arg(long, global = true)]
    pub verbose: bool,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Encrypt a file and write the result to stdout (or -i / --output).
    Encrypt(EncryptArgs),
    /// Decrypt a file and write the result to stdout (or -i / --output).
    Decrypt(DecryptArgs),
    /// Print {"encrypted":true} or {"encrypted":false} for a file.
    Filestatus(FilestatusArgs),
}

/// Where the output goes, and input/output types.
#[derive(Args, Debug, Clone)]
pub struct IoArgs {
    /// Write the output back to the same file instead of stdout.
    #[arg(short = 'i', long = "in-place")]
    pub in_place: bool,
    /// Write the output to this file.
    #[arg(long, conflicts_with = "in_place")]
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

/// Master keys for a new file.
#[derive(Args, Debug, Clone, Default)]
pub struct KeyArgs {
    /// Comma-separated age recipients (age1…, ssh-ed25519 …, ssh-rsa …).
    #[arg(short = 'a', long, env = "SOPS_AGE_RECIPIENTS")]
    pub age: Option<String>,
    /// Number of key groups needed to recover the data key (Shamir).
    #[arg(long)]
    pub shamir_secret_sharing_threshold: Option<usize>,
}

/// `encrypt`.
#[derive(Args, Debug)]
pub struct EncryptArgs {
    /// The file to encrypt; `-` or nothing reads stdin.
    pub file: Option<String>,
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
    /// The file to decrypt; `-` or nothing reads stdin.
    pub file: Option<String>,
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
}
