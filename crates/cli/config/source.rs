//! The config text being read: turns byte offsets into `FILE:LINE:COL`
//! errors (exit code 5) and `FILE:LINE` warnings.

use crate::exit::{code, Failure};
use sops_like_format::syntax::line_col;
use std::path::Path;

/// The config file's name and text, and the warnings collected so far.
pub(super) struct Source<'a> {
    /// The file name as it will be shown.
    pub name: String,
    /// The whole text.
    pub text: &'a str,
    /// Warnings (unknown keys, ignored values), already formatted.
    pub warnings: Vec<String>,
}

impl<'a> Source<'a> {
    /// A source named after `path`.
    pub fn new(path: &Path, text: &'a str) -> Source<'a> {
        Source {
            name: path.display().to_string(),
            text,
            warnings: Vec::new(),
        }
    }

    /// `FILE:LINE:COL: message`, as an ErrorReadingConfig failure.
    pub fn error(&self, at: usize, message: impl AsRef<str>) -> Failure {
        let (line, col) = line_col(self.text, at);
        Failure::new(
            code::GENERIC,
            format!("{}:{line}:{col}: {}", self.name, message.as_ref()),
        )
    }

    /// Record `FILE:LINE: message` as a warning.
    pub fn warn(&mut self, at: usize, message: impl AsRef<str>) {
        let line = self.line(at);
        self.warnings
            .push(format!("{}:{line}: {}", self.name, message.as_ref()));
    }

    /// The 1-based line of a byte offset.
    pub fn line(&self, at: usize) -> usize {
        line_col(self.text, at).0
    }

    /// The source text of a span, if it is one.
    pub fn slice(&self, span: &std::ops::Range<usize>) -> Option<&'a str> {
        self.text.get(span.clone())
    }
}

impl Source<'_> {
    /// `FILE:LINE:COL: message` for a position already in line/column form.
    pub fn error_at_line(&self, line: usize, col: usize, message: &str) -> Failure {
        Failure::new(
            code::GENERIC,
            format!("{}:{line}:{col}: {message}", self.name),
        )
    }
}
