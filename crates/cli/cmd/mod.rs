//! One module per subcommand.

pub mod decrypt;
pub mod edit;
pub mod encrypt;
pub mod exec;
pub mod filestatus;
pub mod groups;
pub mod keygen;
pub mod keyservice;
pub mod plan;
pub mod publish;
pub mod recipients;
pub mod rotate;
pub mod set;
pub mod updatekeys;

use crate::args::SelectorArgs;
use crate::exit::{code, Failure, Result};
use sops_like_format::metadata::Selector;

/// The selector chosen on the command line, if any (at most one).
pub fn selector_from_args(s: &SelectorArgs) -> Result<Option<Selector>> {
    let given: Vec<Selector> = [
        s.unencrypted_suffix
            .clone()
            .map(Selector::UnencryptedSuffix),
        s.encrypted_suffix.clone().map(Selector::EncryptedSuffix),
        s.unencrypted_regex.clone().map(Selector::UnencryptedRegex),
        s.encrypted_regex.clone().map(Selector::EncryptedRegex),
        s.unencrypted_comment_regex
            .clone()
            .map(Selector::UnencryptedCommentRegex),
        s.encrypted_comment_regex
            .clone()
            .map(Selector::EncryptedCommentRegex),
    ]
    .into_iter()
    .flatten()
    .collect();
    match given.len() {
        0 => Ok(None),
        1 => Ok(given.into_iter().next()),
        _ => Err(Failure::new(
            code::CONFLICTING_PARAMETERS,
            "only one of --unencrypted-suffix, --encrypted-suffix, --unencrypted-regex, --encrypted-regex, --unencrypted-comment-regex and --encrypted-comment-regex may be given",
        )),
    }
}
