//! `cargo bench`: engine throughput on generated documents with 100,000
//! leaves (about 3-4 MB, the sizes of scripts/bench-compare.py) in YAML, JSON, .env and TOML: parse, encrypt and
//! decrypt, both ciphers. Plain timing loop (best of N), no harness, so it
//! builds fast; compare with the real sops with scripts/bench-compare.py.
//! `BENCH_RUNS=n` sets the number of runs, `BENCH_FORMAT=yaml` picks one format.

use sops_like_format::cipher::CipherKind;
use sops_like_format::engine::{self, EncryptOptions, KeyMaterial};
use sops_like_format::metadata::MasterKey;
use sops_like_format::Format;
use std::time::{Duration, Instant};

const LEAVES: usize = 100_000;
const KEY: [u8; 32] = [9u8; 32];

/// The settings of each generated service (as in scripts/bench-compare.py).
const NAMES: [&str; 10] = [
    "password",
    "api_key",
    "endpoint",
    "username",
    "token",
    "secret",
    "database_url",
    "region",
    "timeout",
    "replicas",
];

fn word(seed: &mut u64) -> String {
    let mut s = String::new();
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let len = 8 + (*seed >> 59) as usize % 21;
    for i in 0..len {
        s.push((b'a' + ((*seed >> (i * 5 % 59)) % 26) as u8) as char);
    }
    s
}

fn generate(format: Format) -> String {
    let mut seed = 1u64;
    let mut out = String::new();
    let groups = LEAVES / 10;
    if format == Format::Json {
        out.push_str("{\n");
    }
    for g in 0..groups {
        match format {
            Format::Yaml => out.push_str(&format!("service_{g}:\n")),
            Format::Toml | Format::Ini => out.push_str(&format!("[service_{g}]\n")),
            Format::Json => out.push_str(&format!("    \"service_{g}\": {{")),
            Format::Dotenv => {}
        }
        for (j, name) in NAMES.iter().enumerate() {
            let v = if j % 3 == 0 {
                (g * 7919 + j).to_string()
            } else {
                format!("\"{}\"", word(&mut seed))
            };
            match format {
                Format::Yaml => out.push_str(&format!("    {name}_{j}: {v}\n")),
                Format::Toml => out.push_str(&format!("{name}_{j} = {v}\n")),
                Format::Json => out.push_str(&format!(
                    "\"{name}_{j}\": {v}{}",
                    if j < 9 { ", " } else { "" }
                )),
                Format::Dotenv => out.push_str(&format!(
                    "SERVICE_{g}_{}_{j}={}\n",
                    name.to_uppercase(),
                    v.trim_matches('"')
                )),
                Format::Ini => out.push_str(&format!("{name}_{j} = {}\n", v.trim_matches('"'))),
            }
        }
        if format == Format::Json {
            out.push_str(if g + 1 < groups { "},\n" } else { "}\n" });
        }
    }
    if format == Format::Json {
        out.push_str("}\n");
    }
    out
}

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        last = Some(r);
    }
    match last {
        Some(r) => (best, r),
        None => unreachable!("runs > 0"),
    }
}

/// The value cipher alone, on one core: 100,000 values of 18 bytes sealed
/// into `ENC[…]` texts, then split and opened. The floor under any
/// document's per-value cost.
fn values(runs: usize) {
    use sops_like_format::cipher::{EncParts, ValueCipher};
    let plain = b"abcdefghijklmnopqr";
    for cipher in [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm] {
        let mut sealer = ValueCipher::new(&KEY);
        let mut scratch = Vec::new();
        let (seal, texts) = best(runs, || {
            let mut out = Vec::with_capacity(LEAVES);
            for _ in 0..LEAVES {
                let mut text = String::new();
                let sealed = sealer.seal_into(cipher, plain, b"k:", "str", &mut scratch, &mut text);
                if sealed.is_err() {
                    return Vec::new();
                }
                out.push(text);
            }
            out
        });
        let (open, opened) = best(runs, || {
            let mut buf = zeroize::Zeroizing::new(Vec::new());
            texts
                .iter()
                .filter(|t| {
                    EncParts::split(t).is_ok_and(|p| sealer.open_into(&p, b"k:", &mut buf).is_ok())
                })
                .count()
        });
        if opened != LEAVES {
            eprintln!("values: {opened} of {LEAVES} opened");
            return;
        }
        let per = |d: Duration| d.as_nanos() as f64 / LEAVES as f64;
        println!(
            "values {:<20} seal {:>5.0} ns, open {:>5.0} ns per value (one core)",
            cipher.tag(),
            per(seal),
            per(open)
        );
    }
}

fn main() {
    let runs = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3usize)
        .max(1);
    let keys = KeyMaterial {
        key_groups: vec![vec![MasterKey::age("age1bench", "x\n")]],
        shamir_threshold: None,
    };
    println!(
        "{:<8}{:>8}{:>12}{:>12}{:>12}{:>12}{:>12}",
        "format", "MB", "parse ms", "enc xchacha", "dec xchacha", "enc aes", "dec aes"
    );
    let only = std::env::var("BENCH_FORMAT").ok();
    if only.is_none() {
        values(runs);
    }
    for format in Format::ALL {
        if only.as_deref().is_some_and(|o| o != format.name()) {
            continue;
        }
        let src = generate(format);
        let (parse, _) = best(runs, || {
            format.syntax().parse(&src).map(|p| p.tree.docs.len())
        });
        let mut row = vec![parse];
        for cipher in [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm] {
            let opts = EncryptOptions {
                cipher,
                ..EncryptOptions::default()
            };
            let (enc_t, enc) = best(runs, || {
                engine::encrypt(
                    format,
                    &src,
                    &KEY,
                    &opts,
                    keys.clone(),
                    "2026-11-22T00:00:00Z",
                )
            });
            let Ok(enc) = enc else {
                eprintln!("{}: encryption failed", format.name());
                return;
            };
            let (dec_t, dec) = best(runs, || {
                engine::open(format, &enc)
                    .and_then(|f| engine::decrypt(&f, &KEY, false).map(|p| p.len()))
            });
            if dec.is_err() {
                eprintln!("{}: decryption failed", format.name());
                return;
            }
            row.push(enc_t);
            row.push(dec_t);
        }
        let ms: Vec<String> = row
            .iter()
            .map(|d| format!("{:.1}", d.as_secs_f64() * 1000.0))
            .collect();
        println!(
            "{:<8}{:>8.2}{:>12}{:>12}{:>12}{:>12}{:>12}",
            format.name(),
            src.len() as f64 / 1e6,
            ms[0],
            ms[1],
            ms[2],
            ms[3],
            ms[4]
        );
    }
}
