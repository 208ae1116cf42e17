//! A strict JSON (RFC 8259) scanner that builds the tree with the exact byte
//! span of every scalar token (strings with their quotes).
//!
//! Strict means: no comments, no trailing commas, no single quotes, no bare
//! keys, no leading zeros, nothing after the document. A UTF-8 byte order
//! mark at the very start is skipped. Lone UTF-16 surrogates in `\u` escapes
//! decode to U+FFFD, as Go's `encoding/json` (and so sops) does.
//!
//! Error messages give line:column and never quote the document's text.

use crate::syntax::ParseError;
use crate::tree::{Entry, Item, Node, Pair, Scalar, Slot, Value};
use crate::wipe::SecretText;

/// Deepest nesting of arrays and objects accepted; deeper input is an error
/// rather than a stack overflow.
pub const MAX_DEPTH: usize = 512;

/// An object member, with the positions the metadata code needs.
pub(super) struct Member {
    /// The decoded key.
    pub key: String,
    /// Byte offset of the key's opening quote.
    pub key_start: usize,
    /// The value.
    pub value: Node,
    /// Byte offset just after the value.
    pub value_end: usize,
}

/// An array element, with its position.
pub(super) struct Element {
    /// The value.
    pub value: Node,
    /// Byte offset of the value's first byte.
    pub start: usize,
    /// Byte offset just after the value.
    pub end: usize,
}

/// The document's top-level value, with the layout of its container.
pub(super) enum Top {
    /// `{ … }`.
    Object {
        /// Byte offset just after `{`.
        open_end: usize,
        /// The members, in order (duplicates kept).
        members: Vec<Member>,
        /// Byte offset of `}`.
        close: usize,
    },
    /// `[ … ]`.
    Array {
        /// Byte offset just after `[`.
        open_end: usize,
        /// The elements, in order.
        elements: Vec<Element>,
        /// Byte offset of `]`.
        close: usize,
    },
    /// A string, number, `true`, `false` or `null`.
    Scalar(Node),
}

/// Scan a whole document.
pub(super) fn scan(src: &str) -> Result<Top, ParseError> {
    scan_with(src, false)
}

/// [`scan`]; with `lean`, a string whose text is an escape-free `ENC[…]`
/// value gets an empty string value (see [`crate::syntax::parse_encrypted`]).
pub(super) fn scan_with(src: &str, lean: bool) -> Result<Top, ParseError> {
    scan_inner(src, lean, false)
}

/// [`scan`] (the whole document is checked) keeping only the top-level
/// container's members and positions: a nested object or array comes back
/// empty. For the metadata insertion, which needs no values: it does not
/// build a second tree of the document.
pub(super) fn scan_shallow(src: &str) -> Result<Top, ParseError> {
    scan_inner(src, false, true)
}

fn scan_inner(src: &str, lean: bool, shallow: bool) -> Result<Top, ParseError> {
    let mut p = Parser {
        src,
        pos: if src.starts_with('\u{feff}') { 3 } else { 0 },
        depth: 0,
        lean,
        shallow,
    };
    p.skip_ws();
    let top = match p.peek() {
        None => return Err(p.err(p.pos, "empty document: expected a JSON value")),
        Some(b'{') => {
            let (open_end, members, close) = p.object()?;
            Top::Object {
                open_end,
                members,
                close,
            }
        }
        Some(b'[') => {
            let (open_end, elements, close) = p.array()?;
            Top::Array {
                open_end,
                elements,
                close,
            }
        }
        Some(_) => Top::Scalar(p.value()?),
    };
    p.skip_ws();
    if p.pos < src.len() {
        return Err(p.err(p.pos, "unexpected characters after the JSON document"));
    }
    Ok(top)
}

/// Turn members into mapping entries (in a list of exactly their number:
/// collected in place, it would keep the members' larger, grown capacity).
pub(super) fn entries(members: Vec<Member>) -> Vec<Entry> {
    let mut out = Vec::with_capacity(members.len());
    out.extend(members.into_iter().map(|m| {
        Entry::Pair(Pair {
            key: m.key,
            value: m.value,
        })
    }));
    out
}

/// Turn elements into sequence items (sized exactly, as [`entries`]).
pub(super) fn items(elements: Vec<Element>) -> Vec<Item> {
    let mut out = Vec::with_capacity(elements.len());
    out.extend(elements.into_iter().map(|e| Item::Node(e.value)));
    out
}

struct Parser<'s> {
    src: &'s str,
    pos: usize,
    depth: usize,
    lean: bool,
    /// Nested containers come back empty (see [`scan_shallow`]).
    shallow: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn err(&self, at: usize, message: &str) -> ParseError {
        ParseError::at(self.src, at, message)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<Node, ParseError> {
        let start = self.pos;
        let value = match self.peek() {
            Some(b'{') => return Ok(Node::Map(entries(self.object()?.1))),
            Some(b'[') => return Ok(Node::Seq(items(self.array()?.1))),
            Some(b'"') => match self.lean_enc() {
                true => Value::Str(String::new()),
                false => Value::Str(self.string()?),
            },
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Null)?,
            None => return Err(self.err(start, "unexpected end of input: expected a value")),
            Some(_) => return Err(self.err(start, "expected a JSON value")),
        };
        Ok(Node::Scalar(Scalar {
            value,
            span: Some(start..self.pos),
            slot: Slot::Quoted,
        }))
    }

    /// Whether the container being scanned keeps its members: always,
    /// except below the top level of a shallow scan.
    fn keeps(&self) -> bool {
        !self.shallow || self.depth <= 1
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(self.pos, "arrays and objects nested too deeply"));
        }
        Ok(())
    }

    /// At `{`: returns (offset after `{`, members, offset of `}`).
    fn object(&mut self) -> Result<(usize, Vec<Member>, usize), ParseError> {
        self.enter()?;
        self.pos += 1;
        let open_end = self.pos;
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            let close = self.pos;
            self.pos += 1;
            self.depth -= 1;
            return Ok((open_end, members, close));
        }
        loop {
            self.skip_ws();
            let key_start = self.pos;
            match self.peek() {
                Some(b'"') => {}
                None => return Err(self.err(key_start, "unexpected end of input in an object")),
                Some(_) => {
                    return Err(self.err(key_start, "expected a string key in double quotes"))
                }
            }
            let key = self.string()?;
            self.skip_ws();
            match self.peek() {
                Some(b':') => self.pos += 1,
                None => return Err(self.err(self.pos, "unexpected end of input in an object")),
                Some(_) => return Err(self.err(self.pos, "expected ':' after an object key")),
            }
            self.skip_ws();
            let value = self.value()?;
            if self.keeps() {
                members.push(Member {
                    key,
                    key_start,
                    value,
                    value_end: self.pos,
                });
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    let close = self.pos;
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok((open_end, members, close));
                }
                None => return Err(self.err(self.pos, "unexpected end of input in an object")),
                Some(_) => {
                    return Err(self.err(self.pos, "expected ',' or '}' after an object member"))
                }
            }
        }
    }

    /// At `[`: returns (offset after `[`, elements, offset of `]`).
    fn array(&mut self) -> Result<(usize, Vec<Element>, usize), ParseError> {
        self.enter()?;
        self.pos += 1;
        let open_end = self.pos;
        let mut elements = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            let close = self.pos;
            self.pos += 1;
            self.depth -= 1;
            return Ok((open_end, elements, close));
        }
        loop {
            self.skip_ws();
            let start = self.pos;
            let value = self.value()?;
            if self.keeps() {
                elements.push(Element {
                    value,
                    start,
                    end: self.pos,
                });
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    let close = self.pos;
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok((open_end, elements, close));
                }
                None => return Err(self.err(self.pos, "unexpected end of input in an array")),
                Some(_) => {
                    return Err(self.err(self.pos, "expected ',' or ']' after an array element"))
                }
            }
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, ParseError> {
        let rest = self.src.get(self.pos..).unwrap_or("");
        if !rest.starts_with(word) {
            return Err(self.err(self.pos, "expected a JSON value"));
        }
        self.pos += word.len();
        Ok(value)
    }

    /// At a digit or `-`: the number as the nearest f64 (as sops reads it).
    /// A number: an integer lexeme (no fraction, no exponent, not `-0`)
    /// that fits `i64` is an `Int`, so that it stays an integer when the
    /// document is written as YAML, TOML or INI; any other is a `Float`.
    /// (sops reads every JSON number as a float64; an `Int` has the same
    /// sops text for these, and sops reads `type:int` back the same.)
    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.err(self.pos, "invalid number: expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err(self.pos, "invalid number: expected a digit after '.'"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.err(self.pos, "invalid number: expected a digit in the exponent"));
            }
            self.digits();
        }
        let lexeme = self.src.get(start..self.pos).unwrap_or("");
        if lexeme.bytes().all(|b| b.is_ascii_digit() || b == b'-') && lexeme != "-0" {
            if let Ok(i) = lexeme.parse::<i64>() {
                return Ok(Value::Int(i));
            }
        }
        // The JSON number grammar is a subset of what `f64::from_str` takes;
        // out-of-range exponents give ±inf or ±0, as the nearest f64.
        lexeme
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| self.err(start, "invalid number"))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    /// At `"`, in a lean scan: whether the string is an `ENC[…]` text with
    /// nothing to decode (no escape, no control character); if so, `pos`
    /// moves after its closing quote.
    fn lean_enc(&mut self) -> bool {
        let Some(rest) = self.src.get(self.pos + 1..) else {
            return false;
        };
        if !self.lean || !crate::cipher::is_encrypted(rest) {
            return false;
        }
        match rest
            .bytes()
            .position(|b| b == b'"' || b == b'\\' || b < 0x20)
        {
            Some(end) if rest.as_bytes().get(end) == Some(&b'"') => {
                self.pos += end + 2;
                true
            }
            _ => false,
        }
    }

    /// At `"`: the decoded string; leaves `pos` after the closing quote.
    /// (Written into a [`SecretText`]: the string may be a plaintext
    /// value, and one with escapes is written in pieces.)
    fn string(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = SecretText::default();
        let mut run = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.err(open, "unterminated string")),
                Some(b'"') => {
                    out.push_str(self.src.get(run..self.pos).unwrap_or(""));
                    self.pos += 1;
                    return Ok(out.into_string());
                }
                Some(b'\\') => {
                    out.push_str(self.src.get(run..self.pos).unwrap_or(""));
                    self.escape(&mut out)?;
                    run = self.pos;
                }
                Some(0x00..=0x1f) => {
                    return Err(
                        self.err(self.pos, "control character in a string (must be escaped)")
                    )
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// At `\`: decode one escape into `out`.
    fn escape(&mut self, out: &mut SecretText) -> Result<(), ParseError> {
        let at = self.pos;
        self.pos += 1;
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let unit = self.hex4(at)?;
                out.push(self.utf16(unit));
                return Ok(());
            }
            None => return Err(self.err(at, "unterminated string")),
            Some(_) => return Err(self.err(at, "invalid escape sequence in a string")),
        };
        self.pos += 1;
        out.push(c);
        Ok(())
    }

    /// After a `\uXXXX` giving `unit`: the character, taking a following
    /// low-surrogate escape when `unit` is a high surrogate. Lone
    /// surrogates become U+FFFD (Go's behaviour).
    fn utf16(&mut self, unit: u32) -> char {
        if (0xD800..0xDC00).contains(&unit) {
            let rest = self.src.get(self.pos..).unwrap_or("");
            if let Some(hex) = rest.strip_prefix("\\u").and_then(|r| r.get(..4)) {
                if let Ok(low) = u32::from_str_radix(hex, 16) {
                    if hex.bytes().all(|b| b.is_ascii_hexdigit()) && (0xDC00..0xE000).contains(&low)
                    {
                        self.pos += 6;
                        let cp = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        return char::from_u32(cp).unwrap_or('\u{FFFD}');
                    }
                }
            }
        }
        char::from_u32(unit).unwrap_or('\u{FFFD}')
    }

    /// Four hex digits; `esc` is where the escape started (for errors).
    fn hex4(&mut self, esc: usize) -> Result<u32, ParseError> {
        let hex = self
            .src
            .get(self.pos..self.pos + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.err(esc, "invalid \\u escape: expected four hex digits"))?;
        let unit = u32::from_str_radix(hex, 16).map_err(|_| self.err(esc, "invalid \\u escape"))?;
        self.pos += 4;
        Ok(unit)
    }
}
