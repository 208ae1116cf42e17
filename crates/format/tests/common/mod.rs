//! What the format crate's integration tests share: a data key, a fixed
//! time, key material whose wrapped key is a placeholder (the engine never
//! unwraps it: that is the keys crate's work), and property test sizes.

use sops_like_format::engine::KeyMaterial;
use sops_like_format::metadata::MasterKey;

pub const KEY: [u8; 32] = [42u8; 32];
pub const NOW: &str = "2026-11-22T03:51:54Z";

pub fn keys() -> KeyMaterial {
    KeyMaterial {
        key_groups: vec![vec![MasterKey::age(
            "age1test",
            "-----BEGIN AGE ENCRYPTED FILE-----\nAAAA\n-----END AGE ENCRYPTED FILE-----\n",
        )]],
        shamir_threshold: None,
    }
}

/// `n` cases, times `SOPS_LIKE_PROPTEST_SCALE` when it is set (a whole
/// number), for a deeper run.
pub fn cases(n: u32) -> u32 {
    let scale = std::env::var("SOPS_LIKE_PROPTEST_SCALE").map(|s| s.trim().parse());
    n.saturating_mul(scale.ok().and_then(Result::ok).unwrap_or(1u32).max(1))
}
