//! End-to-end tests of the `sops-like` binary.

mod util;

/// The key crate's test support (its test CA for HTTPS servers).
#[path = "../../crates/keys/tests/support/mod.rs"]
mod keys_support;

mod age_env;
mod cli_decrypt;
mod cli_encrypt;
mod comment_markers;
mod config;
mod conversions;
mod edit_cases;
mod go_regex;
mod in_place;
mod ini_aes;
mod key_groups;
mod keyservice;
mod kms;
mod output_files;
mod publish;
mod set_values;
mod signals;
mod sops_binary;
mod sops_cli_forms;
mod sops_cmds;
mod sops_codes;
mod sops_env;
mod sops_exec;
mod sops_names;
mod sops_output;
mod sops_read;
mod sops_write;
mod tampering;
mod workflows;
mod yaml_aes;
