//! age recipients (public keys that wrap) and identities (private keys that
//! unwrap), with the ASCII-armored single-recipient `enc` format sops uses.

pub mod identity;
#[cfg(feature = "age-plugins")]
mod plugin;
pub mod recipient;
mod time;

#[cfg(test)]
mod interop_tests;
