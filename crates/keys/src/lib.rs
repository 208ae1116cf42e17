//! sops-like-keys: the 32-byte data key and its wrapping for age recipients
//! (and, later, cloud KMS keys), key groups and Shamir secret sharing.
//!
//! This crate never sees documents. It never prints, reads the environment
//! or exits: callers pass identity text and recipient strings in.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
