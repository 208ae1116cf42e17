//! The one place where errors become a message, hints and an exit code.
//! Exit codes are sops's (cmd/sops/codes), so scripts keep working.

use sops_like_format::engine::EngineError;
use std::fmt;

/// sops's exit codes that sops-like uses.
#[allow(dead_code)]
pub mod code {
    pub const GENERIC: i32 = 1;
    pub const COULD_NOT_READ_INPUT_FILE: i32 = 2;
    pub const COULD_NOT_WRITE_OUTPUT_FILE: i32 = 3;
    pub const ERROR_DUMPING_TREE: i32 = 4;
    pub const ERROR_READING_CONFIG: i32 = 5;
    pub const INVALID_SET_FORMAT: i32 = 7;
    pub const CONFLICTING_PARAMETERS: i32 = 8;
    pub const ERROR_ENCRYPTING_MAC: i32 = 21;
    pub const ERROR_ENCRYPTING_TREE: i32 = 23;
    pub const ERROR_DECRYPTING_MAC: i32 = 24;
    pub const ERROR_DECRYPTING_TREE: i32 = 25;
    pub const CANNOT_CHANGE_KEYS_FROM_NON_EXISTENT_FILE: i32 = 49;
    pub const MAC_MISMATCH: i32 = 51;
    pub const MAC_NOT_FOUND: i32 = 52;
    pub const CONFIG_FILE_NOT_FOUND: i32 = 61;
    pub const KEYBOARD_INTERRUPT: i32 = 85;
    pub const INVALID_TREE_PATH_FORMAT: i32 = 91;
    pub const NEED_AT_LEAST_ONE_DOCUMENT: i32 = 92;
    pub const NO_FILE_SPECIFIED: i32 = 100;
    pub const NO_ENCRYPTION_KEY_FOUND: i32 = 111;
    pub const DUPLICATE_DECRYPTION_KEY_TYPE: i32 = 112;
    pub const COULD_NOT_RETRIEVE_KEY: i32 = 128;
    pub const FILE_HAS_NOT_BEEN_MODIFIED: i32 = 200;
    pub const NO_EDITOR_FOUND: i32 = 201;
    pub const FILE_ALREADY_ENCRYPTED: i32 = 203;
}

/// A failure to report: one message, optional hints, an exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
    pub hints: Vec<String>,
}

impl Failure {
    pub fn new(code: i32, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hints.push(hint.into());
        self
    }

    /// An engine error about `file`, with sops's exit code and a hint.
    pub fn engine(file: &str, err: EngineError) -> Failure {
        use code::*;
        match err {
            EngineError::Parse(p) => Failure::new(COULD_NOT_READ_INPUT_FILE, format!("{file}:{p}")),
            EngineError::AlreadyEncrypted => Failure::new(FILE_ALREADY_ENCRYPTED, format!("{file}: the file is already encrypted"))
                .hint("use `sops-like edit`, `set` or `rotate` to change an encrypted file, or `decrypt` it first"),
            EngineError::NoMetadata => Failure::new(GENERIC, format!("{file}: sops metadata not found"))
                .hint("this file is not encrypted (or was encrypted for another format: try --input-type)"),
            EngineError::MacMismatch => Failure::new(MAC_MISMATCH, format!("{file}: MAC mismatch: the values do not match the file's MAC"))
                .hint("the file was changed without sops-like/sops, or tampered with; --ignore-mac decrypts anyway if you trust it"),
            e @ EngineError::Unverifiable(_) => Failure::new(MAC_MISMATCH, format!("{file}: {e}"))
                .hint("remove the key that should not be there (if you did not write both, the file may have been tampered with)"),
            // sops reports a missing MAC as a mismatch (measured: exit 51).
            EngineError::MacMissing => Failure::new(MAC_MISMATCH, format!("{file}: the file has no MAC")),
            // A MAC that does not decrypt (a changed `lastmodified`, a MAC
            // moved from another file) is sops's MacMismatch too (measured:
            // exit 51, not ErrorDecryptingMac).
            e @ EngineError::Decrypt { .. } => {
                let is_mac = matches!(&e, EngineError::Decrypt { path, .. } if path == "sops:mac");
                Failure::new(if is_mac { MAC_MISMATCH } else { ERROR_DECRYPTING_TREE }, format!("{file}: {e}"))
            }
            e @ EngineError::BadType { .. } => Failure::new(ERROR_DECRYPTING_TREE, format!("{file}: {e}")),
            // sops reads such a value as text and fails the MAC check.
            e @ EngineError::SealedWhereClear { .. } => Failure::new(MAC_MISMATCH, format!("{file}: {e}"))
                .hint("restore the file's selector in its metadata (from git, for example); `decrypt` still shows the value"),
            // sops: `Could not decrypt value`, even with --ignore-mac.
            e @ EngineError::Unsealed { .. } => Failure::new(ERROR_DECRYPTING_TREE, format!("{file}: {e}"))
                .hint("restore the file (from git, for example), then change values with `sops-like edit` or `set`, never by hand: a value in clear there would be taken as the file's own"),
            // Not text: the file cannot be written out (as a binary file's
            // non-UTF-8 bytes for a text output type).
            e @ EngineError::NotText { .. } => Failure::new(ERROR_DUMPING_TREE, format!("{file}: {e}")),
            e @ EngineError::Encrypt { .. } => Failure::new(ERROR_ENCRYPTING_TREE, format!("{file}: {e}")),
            e @ EngineError::SopsIncompatible(_) => Failure::new(ERROR_ENCRYPTING_TREE, format!("{file}: {e}")),
            // sops refuses it when it reads the file (CouldNotReadInputFile).
            e @ EngineError::SopsUnreadable(_) => Failure::new(COULD_NOT_READ_INPUT_FILE, format!("{file}: {e}")),
            e @ EngineError::Emit(_) => Failure::new(ERROR_DUMPING_TREE, format!("{file}: {e}")),
            e @ EngineError::Selector(_) => Failure::new(CONFLICTING_PARAMETERS, format!("{e}")),
            e => Failure::new(GENERIC, format!("{file}: {e}")),
        }
    }

    /// An engine error loading the *encrypted* file `file` (decrypt, edit,
    /// set, unset, rotate, updatekeys, groups, exec-*, filestatus): as
    /// [`Failure::engine`], but a file that does not parse is a generic
    /// error (1), as in sops; only `encrypt` of a plaintext that does not
    /// parse is CouldNotReadInputFile (2).
    pub fn load(file: &str, err: EngineError) -> Failure {
        match err {
            EngineError::Parse(p) => Failure::new(code::GENERIC, format!("{file}:{p}")),
            e => Failure::engine(file, e),
        }
    }

    /// A decrypted document that does not parse in its format (it cannot be
    /// written out: ErrorDumpingTree).
    pub fn decrypted_parse(err: impl fmt::Display) -> Failure {
        Failure::new(
            code::ERROR_DUMPING_TREE,
            format!("the decrypted document does not parse: {err}"),
        )
    }

    /// The same failure with exit code `code`.
    pub fn with_code(self, code: i32) -> Failure {
        Failure { code, ..self }
    }
}

/// The exit code for a command line that clap refused, as sops's: a
/// missing (or extra) positional argument is sops's NoFileSpecified (100)
/// for the subcommands that check their argument count that way, 1 for
/// those that fail with a plain error; a flag sops does not know or a
/// value that does not parse is 1 (sops's flag parser). Other refusals keep
/// clap's own code. `subcommand` is the path of subcommand names given
/// (`["groups", "delete"]`).
pub fn usage_code(subcommand: &[&str], err: &clap::Error) -> i32 {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let positional_count = || match subcommand {
        ["set" | "unset" | "rotate" | "edit" | "updatekeys" | "filestatus"] => {
            Some(code::NO_FILE_SPECIFIED)
        }
        ["exec-env" | "exec-file"] | ["groups", "delete" | "add"] => Some(code::GENERIC),
        _ => None,
    };
    let unknown_is_flag = || match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(a)) => a.starts_with('-'),
        _ => true,
    };
    let missing = |name: &str| match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::Strings(args)) => args.iter().any(|a| a.starts_with(name)),
        _ => false,
    };
    let named = match err.kind() {
        // `groups add|delete` without `--file` (its index given): sops
        // reads the file "" and fails as for a file it cannot read.
        ErrorKind::MissingRequiredArgument
            if matches!(subcommand, ["groups", _]) && missing("--file") && !missing("<INDEX>") =>
        {
            Some(code::COULD_NOT_READ_INPUT_FILE)
        }
        ErrorKind::MissingRequiredArgument => positional_count(),
        // `groups foo`: urfave/cli has no help topic for it (exit 3).
        ErrorKind::InvalidSubcommand if subcommand == ["groups"] => Some(3),
        ErrorKind::UnknownArgument if unknown_is_flag() => Some(code::GENERIC),
        // An extra positional argument (filestatus takes and ignores
        // them, as sops).
        ErrorKind::UnknownArgument => positional_count(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => Some(code::GENERIC),
        _ => None,
    };
    named.unwrap_or_else(|| err.exit_code())
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        for h in &self.hints {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

pub type Result<T> = std::result::Result<T, Failure>;
