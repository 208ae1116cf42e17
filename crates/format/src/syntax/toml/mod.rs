//! TOML syntax (TOML 1.0, and the 1.1 additions `toml_edit` accepts).
//!
//! sops has no TOML store, so this module defines how a TOML file is
//! encrypted, in the same spirit as the other formats:
//!
//! * The document is one [`Node::Map`] holding the *logical* structure:
//!   `[a.b]`, `a.b = …` and `a = { b = … }` all give `a → b`, and a table
//!   whose keys are spread over dotted keys and sub-table headers is one map
//!   with its entries in source order. `[[x]]` gives a key `x` whose value is
//!   a sequence of maps.
//! * Every value is replaced by a basic string `"ENC[…]"` (a TOML value
//!   position needs a string, so every slot is [`Slot::Quoted`]).
//! * Comments belong to the innermost array or inline table around them,
//!   else to the table whose section they are in; whole-line comments just
//!   above a `[header]` belong to that header's table.
//! * Times: offset date-times read as Go RFC 3339 "nano" text (as sops
//!   writes YAML timestamps); local date-times, dates and times keep their
//!   original text.
//! * Integers beyond `i64` read as floats, as go-yaml does for YAML.
//! * The metadata is a `[sops]` table appended at the end of the file, after
//!   one line ending. When the file ends with a newline that line ending
//!   makes a blank line; when it does not, it only terminates the last line
//!   (that is the one way the removal can be exact without a marker).
//!   Lists of maps are `[[sops.age]]` arrays of tables, so on reading the
//!   fields are put back into sops's order (see `order`).

mod edit;
mod lex;

mod parse;
mod scalar;
mod tables;
mod write;

pub(crate) use scalar::is_datetime_lexeme;
pub(crate) use tables::{Sections, Tables};

#[cfg(test)]
pub(crate) mod tests;

use super::{EmitError, ParseError, Parsed, PathStep, Syntax};
use crate::splice::Edit;
use crate::tree::{Node, Slot, Tree, Value};

/// [`Syntax::parse`] of a window of a TOML file (see `engine::stream`),
/// and the tables and keys it defines; `None` if it does not parse.
pub(crate) fn parse_window(src: &str) -> Option<(Parsed, Sections)> {
    parse::parse_window(src)
}

/// The TOML format.
pub struct Toml;

impl Syntax for Toml {
    fn name(&self) -> &'static str {
        "toml"
    }

    fn parse(&self, src: &str) -> Result<Parsed, ParseError> {
        parse::parse(src)
    }

    fn enc_lexeme(&self, _slot: Slot, enc: &str) -> String {
        scalar::basic_string(enc)
    }

    fn value_lexeme(&self, _slot: Slot, value: &Value) -> String {
        scalar::value_lexeme(value, scalar::Lines::Raw)
    }

    /// Every scalar lexeme: a TOML value reads the same on its own as in
    /// a document (local dates and times keep their text).
    fn simple_value(&self, lexeme: &str, _slot: Slot) -> Option<Value> {
        let value: toml_edit::Value = lexeme.parse().ok()?;
        scalar::scalar_value(&value, lexeme)
    }

    fn insert_metadata(
        &self,
        src: &str,
        parsed: &Parsed,
        meta: &Node,
    ) -> Result<Vec<Edit>, EmitError> {
        write::insert_metadata(src, parsed, meta)
    }

    fn set_value(
        &self,
        src: &str,
        parsed: &Parsed,
        path: &[PathStep],
        value: &Node,
    ) -> Result<Vec<Edit>, EmitError> {
        edit::set_value(src, parsed, path, value)
    }

    fn remove_value(
        &self,
        src: &str,
        parsed: &Parsed,
        path: &[PathStep],
    ) -> Result<Option<Vec<Edit>>, EmitError> {
        edit::remove_value(src, parsed, path)
    }

    fn emit(&self, tree: &Tree) -> Result<String, EmitError> {
        write::emit(tree)
    }
}
