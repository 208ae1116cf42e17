//! Which leaves are encrypted: sops's selector rules (sops-format.md §2).

use crate::goregex::{go_regex, GoRegex};
use crate::metadata::Selector;
use crate::tree::Comment;

/// A compiled [`Selector`].
pub struct Decider {
    selector: Selector,
    regex: Option<GoRegex>,
}

/// A selector regex that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field} {pattern:?}: {reason}")]
pub struct SelectorError {
    /// The option (`encrypted_regex`, …).
    pub field: &'static str,
    /// The pattern given.
    pub pattern: String,
    /// What the regex engine said.
    pub reason: String,
}

impl Decider {
    /// Compile a selector.
    pub fn new(selector: &Selector) -> Result<Decider, SelectorError> {
        let regex = match selector {
            Selector::UnencryptedSuffix(_) | Selector::EncryptedSuffix(_) => None,
            other => Some(go_regex(other.pattern()).map_err(|e| SelectorError {
                field: other.field(),
                pattern: other.pattern().to_string(),
                reason: e.to_string(),
            })?),
        };
        Ok(Decider {
            selector: selector.clone(),
            regex,
        })
    }

    fn any_key(&self, path: &[&str], f: impl Fn(&str) -> bool) -> bool {
        path.iter().any(|k| f(k))
    }

    /// Whether the selector's regex (if it has one) matches `s`.
    pub(crate) fn matches(&self, s: &str) -> bool {
        self.regex.as_ref().is_some_and(|r| r.is_match(s))
    }

    /// Whether a value at `path`, after the comments `comments` (innermost
    /// last), is encrypted.
    pub fn value(&self, path: &[&str], comments: &[&Comment]) -> bool {
        match &self.selector {
            Selector::UnencryptedSuffix(s) => !self.any_key(path, |k| k.ends_with(s.as_str())),
            Selector::EncryptedSuffix(s) => self.any_key(path, |k| k.ends_with(s.as_str())),
            Selector::UnencryptedRegex(_) => !self.any_key(path, |k| self.matches(k)),
            Selector::EncryptedRegex(_) => self.any_key(path, |k| self.matches(k)),
            Selector::UnencryptedCommentRegex(_) => !comments.iter().any(|c| self.matches(&c.text)),
            Selector::EncryptedCommentRegex(_) => comments.iter().any(|c| self.matches(&c.text)),
        }
    }

    /// Whether `text` is a marker of `encrypted_comment_regex`: where no
    /// marker comes before it, it must stay in clear for sops to see it.
    pub(crate) fn is_marker(&self, text: &str) -> bool {
        matches!(self.selector, Selector::EncryptedCommentRegex(_)) && self.matches(text)
    }

    /// Whether comments decide which values are encrypted (the comment
    /// regexes); otherwise only the keys do.
    pub(crate) fn reads_comments(&self) -> bool {
        matches!(
            self.selector,
            Selector::UnencryptedCommentRegex(_) | Selector::EncryptedCommentRegex(_)
        )
    }

    /// Whether a comment is encrypted. `comments` ends with the comment
    /// itself. Under `encrypted_comment_regex` the marker comment itself
    /// stays clear (only what follows it is encrypted).
    pub fn comment(&self, path: &[&str], comments: &[&Comment]) -> bool {
        match &self.selector {
            Selector::EncryptedCommentRegex(_) => {
                let before = comments.split_last().map_or(&[][..], |(_, rest)| rest);
                before.iter().any(|c| self.matches(&c.text))
            }
            _ => self.value(path, comments),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(t: &str) -> Comment {
        Comment::new(t, None)
    }

    #[test]
    fn suffix_rules_apply_to_any_component() {
        let d = Decider::new(&Selector::default()).unwrap();
        assert!(d.value(&["a", "b"], &[]));
        assert!(!d.value(&["a_unencrypted", "b"], &[]));
        let d = Decider::new(&Selector::EncryptedSuffix("_secret".into())).unwrap();
        assert!(d.value(&["x_secret", "b"], &[]));
        assert!(!d.value(&["x"], &[]));
    }

    #[test]
    fn regexes_are_read_as_go_reads_them() {
        // Go's `\w` is ASCII: `clé_id` is not `^\w+_id$`, so it is encrypted.
        let d = Decider::new(&Selector::UnencryptedRegex(r"^\w+_id$".into())).unwrap();
        assert!(d.value(&["clé_id"], &[]));
        assert!(!d.value(&["cle_id"], &[]));
        let d = Decider::new(&Selector::EncryptedRegex(r"^\Qa.b\E$".into())).unwrap();
        assert!(d.value(&["a.b"], &[]) && !d.value(&["axb"], &[]));
        assert!(Decider::new(&Selector::EncryptedRegex("a**".into())).is_err());
    }

    #[test]
    fn regex_rules_are_unanchored() {
        let d = Decider::new(&Selector::EncryptedRegex("^(password|secret)$".into())).unwrap();
        assert!(d.value(&["nested", "secret"], &[]));
        assert!(!d.value(&["nested", "secrets"], &[]));
        let d = Decider::new(&Selector::UnencryptedRegex("pub".into())).unwrap();
        assert!(!d.value(&["a_public"], &[]));
        assert!(Decider::new(&Selector::EncryptedRegex("(".into())).is_err());
    }

    #[test]
    fn comment_regex_rules() {
        let marker = c(" sops:enc");
        let other = c(" plain");
        let d = Decider::new(&Selector::EncryptedCommentRegex("sops:enc".into())).unwrap();
        assert!(d.value(&["k"], &[&marker]));
        assert!(!d.value(&["k"], &[&other]));
        assert!(!d.comment(&[], &[&marker]));
        assert!(d.comment(&[], &[&marker, &other]));
        let d = Decider::new(&Selector::UnencryptedCommentRegex("sops:clear".into())).unwrap();
        let clear = c(" sops:clear");
        assert!(!d.value(&["k"], &[&clear]));
        assert!(!d.comment(&[], &[&clear]));
        assert!(d.comment(&[], &[&other]));
    }
}
