//! What the format crate's integration tests share: a data key, a fixed
//! time, and key material whose wrapped key is a placeholder (the engine
//! never unwraps it: that is the keys crate's work).

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
