//! `keygen`: a new age identity for a new teammate, written where sops
//! looks (never overwriting), and its recipient printed to share.

use crate::args::KeygenArgs;
use crate::exit::{code, Failure, Result};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

pub fn run(args: KeygenArgs) -> Result<()> {
    let path = match args.output {
        Some(p) => p,
        None => {
            let base = std::env::var_os("XDG_CONFIG_HOME")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME")
                        .filter(|h| !h.is_empty())
                        .map(|h| PathBuf::from(h).join(".config"))
                })
                .ok_or_else(|| {
                    Failure::new(
                        code::GENERIC,
                        "cannot find the config directory: HOME is not set",
                    )
                    .hint("pass --output FILE")
                })?;
            base.join("sops/age/keys.txt")
        }
    };
    if path.exists() {
        return Err(Failure::new(
            code::GENERIC,
            format!("{} already exists; not overwriting it", path.display()),
        )
        .hint(
            "your recipient is in its `# public key:` line; use --output FILE for another identity",
        ));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                Failure::new(
                    code::COULD_NOT_WRITE_OUTPUT_FILE,
                    format!("could not create {}: {e}", dir.display()),
                )
            })?;
    }
    let (identity, recipient) = sops_like_keys::generate_identity();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| {
            Failure::new(
                code::COULD_NOT_WRITE_OUTPUT_FILE,
                format!("could not create {}: {e}", path.display()),
            )
        })?;
    f.write_all(identity.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| {
            Failure::new(
                code::COULD_NOT_WRITE_OUTPUT_FILE,
                format!("could not write {}: {e}", path.display()),
            )
        })?;
    stderr!(
        "wrote a new age identity to {} (keep it secret); share your recipient:",
        path.display()
    );
    crate::io::write_stdout(format!("{recipient}\n").as_bytes())
}
