//! The file MAC: SHA-512 over the plaintext text of every value leaf in
//! document order, written as uppercase hex (sops-format.md §3).

use sha2::{Digest, Sha512};

/// `sha256("sops")`, fed first when only encrypted values are MACed.
const MAC_ONLY_ENCRYPTED_PREFIX: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// Accumulates the MAC.
pub struct Mac {
    sink: Sink,
}

/// Where a MAC's input goes.
enum Sink {
    Hash(Sha512),
    /// Kept (plaintext: wiped on drop, and when it grows), to be fed to
    /// another MAC later.
    Record(crate::wipe::SecretBytes),
}

impl Mac {
    /// A new MAC. With `mac_only_encrypted`, sops's 32-byte prefix is fed
    /// first and callers add only the values that are encrypted.
    pub fn new(mac_only_encrypted: bool) -> Mac {
        let mut hash = Sha512::new();
        if mac_only_encrypted {
            hash.update(MAC_ONLY_ENCRYPTED_PREFIX);
        }
        Mac {
            sink: Sink::Hash(hash),
        }
    }

    /// A MAC that keeps its input, for a part of a document whose MAC input
    /// is made apart from the rest: [`Mac::absorb`] it, in document order.
    pub fn recording() -> Mac {
        Mac::recording_with_capacity(0)
    }

    /// [`Mac::recording`] with room for `capacity` bytes of values (a
    /// growing recording copies and wipes what it holds each time).
    pub fn recording_with_capacity(capacity: usize) -> Mac {
        Mac {
            sink: Sink::Record(crate::wipe::SecretBytes::with_capacity(capacity)),
        }
    }

    /// Add one value's text.
    pub fn update(&mut self, text: &[u8]) {
        match &mut self.sink {
            Sink::Hash(hash) => hash.update(text),
            Sink::Record(kept) => kept.extend(text),
        }
    }

    /// Add what a [`Mac::recording`] kept.
    pub fn absorb(&mut self, part: Mac) {
        match part.sink {
            Sink::Record(kept) => self.update(kept.as_slice()),
            // Not a recording: nothing to replay (never done).
            Sink::Hash(_) => {}
        }
    }

    /// The uppercase hex digest (of nothing, for a recording).
    pub fn finish(self) -> String {
        let Sink::Hash(hash) = self.sink else {
            return Mac::new(false).finish();
        };
        let digest = hash.finalize();
        let mut out = String::with_capacity(128);
        for b in digest {
            out.push_str(&format!("{b:02X}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_sha256_of_sops() {
        let mut h = sha2::Sha256::new();
        h.update(b"sops");
        assert_eq!(h.finalize().as_slice(), &MAC_ONLY_ENCRYPTED_PREFIX);
    }

    #[test]
    fn empty_mac_is_sha512_of_nothing() {
        let mac = Mac::new(false).finish();
        assert_eq!(mac.len(), 128);
        assert!(mac.starts_with("CF83E1357EEFB8BDF1542850D66D8007"));
        let mut m = Mac::new(false);
        m.update(b"a");
        m.update(b"b");
        let mut n = Mac::new(false);
        n.update(b"ab");
        assert_eq!(m.finish(), n.finish());
    }

    #[test]
    fn absorbed_recordings_equal_direct_updates() {
        let mut direct = Mac::new(true);
        let mut absorbed = Mac::new(true);
        let mut part = Mac::recording();
        for text in [&b"one"[..], b"", b"three"] {
            direct.update(text);
            part.update(text);
        }
        absorbed.update(b"");
        absorbed.absorb(part);
        direct.update(b"four");
        let mut part = Mac::recording();
        part.update(b"four");
        absorbed.absorb(part);
        assert_eq!(direct.finish(), absorbed.finish());
    }
}
