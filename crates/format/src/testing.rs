//! What the unit tests share: placeholder key material, and property test
//! sizes that `SOPS_LIKE_PROPTEST_SCALE` multiplies for a deeper run.

use crate::engine::KeyMaterial;
use crate::metadata::MasterKey;

/// One age entry whose wrapped key is a placeholder (the engine never
/// unwraps it: that is the keys crate's work).
pub(crate) fn placeholder_keys() -> KeyMaterial {
    KeyMaterial {
        key_groups: vec![vec![MasterKey::age(
            "age1test",
            "-----BEGIN AGE ENCRYPTED FILE-----\nAAAA\n-----END AGE ENCRYPTED FILE-----\n",
        )]],
        shamir_threshold: None,
    }
}

/// `n` cases, times `SOPS_LIKE_PROPTEST_SCALE` when it is set (a whole
/// number): `SOPS_LIKE_PROPTEST_SCALE=20 scripts/test.sh` runs every
/// property test twenty times as long.
pub(crate) fn cases(n: u32) -> u32 {
    let scale = std::env::var("SOPS_LIKE_PROPTEST_SCALE").map(|s| s.trim().parse());
    n.saturating_mul(scale.ok().and_then(Result::ok).unwrap_or(1u32).max(1))
}
