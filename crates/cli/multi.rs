//! Running a command over several files and directories (sops issue #945):
//! each file is handled on its own, reported on stderr, and a failure does
//! not stop the others.

use crate::exit::{code, Failure, Result};
use sops_like_format::Format;
use std::path::{Path, PathBuf};

/// Expand the arguments: files as given; directories (only with
/// `recursive`) walked for files whose name gives a known format, sorted.
pub fn expand(args: &[String], recursive: bool) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for a in args {
        let p = Path::new(a);
        if p.is_dir() {
            if !recursive {
                // sops fails to read it (exit 2).
                return Err(Failure::new(
                    code::COULD_NOT_READ_INPUT_FILE,
                    format!("could not read {a}: is a directory"),
                )
                .hint("pass --recursive to process every file below it"));
            }
            let mut found = Vec::new();
            walk(p, &mut found);
            found.sort();
            out.extend(found.into_iter().map(|f| f.to_string_lossy().into_owned()));
        } else {
            out.push(a.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(".git") || name == "target" || name == "node_modules" {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&path, out),
            Ok(t)
                if t.is_file()
                    && Format::from_path(&name).is_some()
                    && !name.starts_with(".sops") =>
            {
                out.push(path)
            }
            _ => {}
        }
    }
}

/// Run `one` on every file, reporting `verb` per file. Returns the first
/// failure's exit code as an overall failure.
pub fn each(
    files: &[String],
    verb: &str,
    mut one: impl FnMut(&str) -> Result<Outcome>,
) -> Result<()> {
    let mut first: Option<i32> = None;
    let mut failed = 0;
    for f in files {
        match one(f) {
            Ok(Outcome::Done) => stderr!("{verb}: {f}"),
            Ok(Outcome::Skipped(why)) => stderr!("skipped: {f}: {why}"),
            Err(e) => {
                stderr!("{e}");
                failed += 1;
                first.get_or_insert(e.code);
            }
        }
    }
    match first {
        None => Ok(()),
        Some(c) => Err(Failure::new(
            c,
            format!("{failed} of {} files failed", files.len()),
        )),
    }
}

/// What happened to one file.
pub enum Outcome {
    /// Done.
    Done,
    /// Nothing to do, and why.
    Skipped(String),
}
