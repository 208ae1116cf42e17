//! Property test sizes that `SOPS_LIKE_PROPTEST_SCALE` multiplies for a
//! deeper run.

/// `n` cases, times `SOPS_LIKE_PROPTEST_SCALE` when it is set (a whole
/// number).
pub(crate) fn cases(n: u32) -> u32 {
    let scale = std::env::var("SOPS_LIKE_PROPTEST_SCALE").map(|s| s.trim().parse());
    n.saturating_mul(scale.ok().and_then(Result::ok).unwrap_or(1u32).max(1))
}
