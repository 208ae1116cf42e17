//! sops-like-format: format-preserving parsing of YAML, JSON, .env and TOML
//! files, and the SOPS semantics on top of it (value cipher, MAC, metadata,
//! and the file-level engine that encrypts, decrypts and re-encrypts a
//! document given a data key).
//!
//! A parsed document is its original text plus the byte span of every leaf.
//! Encryption splices `ENC[…]` strings into those spans and copies every other
//! byte unchanged; decryption splices the plaintext back, so
//! `decrypt(encrypt(x)) == x` byte for byte.
//!
//! This crate never sees recipients or master keys: it is handed the 32-byte
//! data key. It never prints, reads the environment or exits.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod b64;
pub mod binary;
pub mod cipher;
mod cores;
pub mod engine;
pub mod goregex;
pub mod mac;
pub mod metadata;
mod poly;
pub mod select;
pub mod splice;
pub mod syntax;
#[cfg(test)]
mod testing;
pub mod tree;
pub mod value;
pub mod walk;
pub mod wipe;
mod xchacha;

pub use splice::{splice, Edit, SpliceError};
pub use syntax::{Format, ParseError, Parsed, Syntax};
pub use tree::{Comment, Entry, Item, Node, Pair, Scalar, Slot, Span, Tree, Value};
