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

use std::path::Path;

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

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
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
