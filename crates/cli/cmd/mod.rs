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

/// The selector chosen on the command line, if any (at most one). An empty
/// value counts as not given, as in sops: `--unencrypted-regex "$VAR"` with
/// `$VAR` unset must not select every key (an empty suffix or regex matches
/// them all, which would leave every value in plaintext).
pub fn selector_from_args(s: &SelectorArgs) -> Result<Option<Selector>> {
    let given_as = |value: &Option<String>, make: fn(String) -> Selector| {
        value.as_ref().filter(|v| !v.is_empty()).cloned().map(make)
    };
    let given: Vec<Selector> = [
        given_as(&s.unencrypted_suffix, Selector::UnencryptedSuffix),
        given_as(&s.encrypted_suffix, Selector::EncryptedSuffix),
        given_as(&s.unencrypted_regex, Selector::UnencryptedRegex),
        given_as(&s.encrypted_regex, Selector::EncryptedRegex),
        given_as(
            &s.unencrypted_comment_regex,
            Selector::UnencryptedCommentRegex,
        ),
        given_as(&s.encrypted_comment_regex, Selector::EncryptedCommentRegex),
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
