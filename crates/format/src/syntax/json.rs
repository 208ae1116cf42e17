//! Json syntax (to be implemented).

use super::{EmitError, ParseError, Parsed, Syntax};
use crate::splice::Edit;
use crate::tree::{Node, Slot, Tree, Value};

/// The Json format.
pub struct Json;

impl Syntax for Json {
    fn name(&self) -> &'static str {
        "json"
    }
    fn parse(&self, src: &str) -> Result<Parsed, ParseError> {
        Err(ParseError::at(src, 0, "not implemented"))
    }
    fn enc_lexeme(&self, _slot: Slot, enc: &str) -> String {
        enc.to_string()
    }
    fn value_lexeme(&self, _slot: Slot, _value: &Value) -> String {
        String::new()
    }
    fn insert_metadata(
        &self,
        _src: &str,
        _parsed: &Parsed,
        _meta: &Node,
    ) -> Result<Vec<Edit>, EmitError> {
        Err(EmitError("not implemented".into()))
    }
    fn emit(&self, _tree: &Tree) -> Result<String, EmitError> {
        Err(EmitError("not implemented".into()))
    }
}
