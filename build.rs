//! Link the `sops-like` binary with packed relative relocations (DT_RELR)
//! when the C library supports them (glibc 2.36 and later).
//!
//! A position-independent executable carries one relocation record per
//! pointer in its read-only data; the loader reads them all at start-up.
//! With every key service's SDK linked in, that table is 1.3 MB, and it is
//! part of the resident memory of every run. Packed, it is 15 KB: each run
//! uses about 2 MiB less memory (measured with `/usr/bin/time -f %M` on a
//! 1 KB decrypt), and the binary stays position-independent (ASLR).
//!
//! A binary linked this way needs a glibc that understands DT_RELR, so the
//! flag is only used when the build machine's glibc declares it (the binary
//! is then run where it was built, as `cargo install` does).
//!
//! Also: place the functions the usual commands run together
//! (`crates/cli/hot-symbols.txt`, made by `scripts/hot-symbols.py`), when
//! the linker takes a symbol ordering file (LLD, Rust's default linker on
//! x86_64 Linux; checked by linking an empty program with the option).
//! The kernel maps a binary's code in blocks around each page a run
//! touches: scattered, the hot code cost about 4 MiB of resident memory
//! per run; together, about 1.5 MiB. Names the binary does not have (a
//! stale list) are ignored: the order changes, never the code.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where glibc usually lives.
const LIBC_PATHS: &[&str] = &[
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/lib/aarch64-linux-gnu/libc.so.6",
    "/lib64/libc.so.6",
    "/usr/lib64/libc.so.6",
    "/usr/lib/libc.so.6",
];

/// The symbol version glibc defines when its loader handles DT_RELR.
const RELR_VERSION: &[u8] = b"GLIBC_ABI_DT_RELR";

/// The list of hot functions, one mangled name per line.
const HOT_SYMBOLS: &str = "crates/cli/hot-symbols.txt";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={HOT_SYMBOLS}");
    order_hot_symbols();
    let target = std::env::var("TARGET").unwrap_or_default();
    let host = std::env::var("HOST").unwrap_or_default();
    if target != host || !target.ends_with("-linux-gnu") {
        return;
    }
    let supported = LIBC_PATHS
        .iter()
        .filter_map(|p| std::fs::read(Path::new(p)).ok())
        .any(|bytes| bytes.windows(RELR_VERSION.len()).any(|w| w == RELR_VERSION));
    if supported {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Pass the hot symbol list to the linker if it takes it.
fn order_hot_symbols() {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let Some(list) = dir.map(|d| d.join(HOT_SYMBOLS)).filter(|p| p.is_file()) else {
        return;
    };
    let args = [
        format!("-Wl,--symbol-ordering-file={}", list.display()),
        "-Wl,--no-warn-symbol-ordering".to_string(),
    ];
    if links_with(&args) {
        for arg in args {
            println!("cargo:rustc-link-arg-bins={arg}");
        }
    }
}

/// Whether rustc links an empty program with these linker arguments (and
/// the build's own flags).
fn links_with(args: &[String]) -> bool {
    let (Some(rustc), Some(out)) = (std::env::var_os("RUSTC"), std::env::var_os("OUT_DIR")) else {
        return false;
    };
    let out = PathBuf::from(out);
    let src = out.join("probe.rs");
    if std::fs::write(&src, "fn main() {}\n").is_err() {
        return false;
    }
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let mut cmd = Command::new(rustc);
    cmd.args(flags.split('\x1f').filter(|f| !f.is_empty()));
    if let Ok(target) = std::env::var("TARGET") {
        cmd.args(["--target", &target]);
    }
    for arg in args {
        cmd.arg("-C").arg(format!("link-arg={arg}"));
    }
    cmd.arg("-o").arg(out.join("probe")).arg(&src);
    cmd.output().is_ok_and(|o| o.status.success())
}
