//! Key material for unit tests: one age entry whose wrapped key is a
//! placeholder (the engine never unwraps it: that is the keys crate's work).

use crate::engine::KeyMaterial;
use crate::metadata::MasterKey;

pub(crate) fn placeholder() -> KeyMaterial {
    KeyMaterial {
        key_groups: vec![vec![MasterKey::age(
            "age1test",
            "-----BEGIN AGE ENCRYPTED FILE-----\nAAAA\n-----END AGE ENCRYPTED FILE-----\n",
        )]],
        shamir_threshold: None,
    }
}
