//! Finding and reading the config file.
//!
//! sops looks in the current directory and its parents (at most 100
//! levels) for `.sops.yaml`; sops-like looks for `.sops-like.yaml` first at
//! each level, then `.sops.yaml`. `--config FILE` / `SOPS_CONFIG` skip the
//! search. `.sops.yml` (and `.sops-like.yml`) are ignored with a warning, as
//! sops ignores `.sops.yml`.

use super::{absolute, parse, ConfigFile, ConfigKind};
use crate::exit::{code, Failure};
use std::path::{Path, PathBuf};

/// How many directories the search climbs, as sops.
const MAX_DEPTH: usize = 100;

/// The names looked for at each level, in order of preference.
const NAMES: [&str; 2] = [".sops-like.yaml", ".sops.yaml"];

/// Names that are ignored, with a warning.
const IGNORED: [(&str, &str); 2] = [
    (".sops-like.yml", ".sops-like.yaml"),
    (".sops.yml", ".sops.yaml"),
];

/// The config in use: `explicit` if given (a missing file is exit code 61),
/// else the nearest `.sops-like.yaml` / `.sops.yaml` from `start_dir` up.
/// `Ok(None)` when there is none. Warnings about ignored files found on the
/// way are added to the config's warnings.
pub fn discover(start_dir: &Path, explicit: Option<&Path>) -> Result<Option<ConfigFile>, Failure> {
    if let Some(path) = explicit {
        return load(path).map(Some);
    }
    let (found, ignored) = find_config_path(start_dir);
    let Some(path) = found else {
        return Ok(None);
    };
    let mut config = load(&path)?;
    config.warnings.splice(0..0, ignored);
    Ok(Some(config))
}

/// The search alone: the config file found from `start_dir` upwards, and a
/// warning for each ignored `.sops.yml` / `.sops-like.yml` seen before it.
///
/// As in sops (`./.sops.yaml`, `../.sops.yaml`, … relative to the current
/// directory), each step up is a `..` that the file system resolves, so it
/// climbs the *physical* parents even when `start_dir` goes through a
/// symlink; the config's directory is still the lexical (logical) one, as
/// sops's `filepath.Abs` of that path. A found file is named by its clean
/// path when that is the same file, else by the path that was probed.
pub fn find_config_path(start_dir: &Path) -> (Option<PathBuf>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut dir = absolute(start_dir).unwrap_or_else(|_| start_dir.to_path_buf());
    for _ in 0..MAX_DEPTH {
        // Whatever is there, as sops stats it: a directory of that name
        // stops the search (reading it then fails), rather than a config
        // further up choosing other keys.
        if let Some(found) = NAMES.iter().map(|n| dir.join(n)).find(|p| p.exists()) {
            return (Some(shown(found)), warnings);
        }
        for (bad, good) in IGNORED {
            let p = dir.join(bad);
            if p.is_file() {
                warnings.push(format!(
                    "{}: ignored: the config file must be called {good}",
                    shown(p).display()
                ));
            }
        }
        let up = dir.join("..");
        if same_file(&dir, &up) {
            break; // the root
        }
        dir = up;
    }
    (None, warnings)
}

/// `path` cleaned of `..` when the clean path names the same file.
fn shown(path: PathBuf) -> PathBuf {
    let clean = super::clean(&path);
    if clean != path && same_file(&clean, &path) {
        clean
    } else {
        path
    }
}

/// Whether two paths name the same file (device and inode).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Read and parse a config file. A missing file is exit code 61
/// (ConfigFileNotFound); unreadable or invalid content is 5.
pub fn load(path: &Path) -> Result<ConfigFile, Failure> {
    let bytes = std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Failure::new(
                code::GENERIC,
                format!("config file not found: {}", path.display()),
            )
        } else {
            Failure::new(
                code::GENERIC,
                format!("cannot read the config file {}: {e}", path.display()),
            )
        }
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        Failure::new(
            code::GENERIC,
            format!("{}: the config is not UTF-8 (byte {at})", path.display()),
        )
    })?;
    let abs = absolute(path).map_err(|e| {
        Failure::new(
            code::GENERIC,
            format!("cannot resolve {}: {e}", path.display()),
        )
    })?;
    let dir = abs.parent().map(Path::to_path_buf).unwrap_or(abs.clone());
    parse(path, dir, ConfigKind::from_path(path), &text)
}
