//! Where sops puts each YAML comment, computed the way sops computes it:
//! go-yaml v3's scanner splits the comment lines into head, line and foot
//! comments and gives them to tokens (`scannerc.go`,
//! `yaml_parser_scan_comments`, `yaml_parser_unroll_indent`), its parser
//! hands them to events and its decoder to nodes (`parserc.go`,
//! `decode.go`), and sops turns node comments into tree comments of the
//! mapping or list they are read in (`stores/yaml/store.go`): a comment's
//! additional authenticated data is that collection's path.
//!
//! This is a rewrite of those steps for comments only: tokens keep their
//! positions but no values, events and nodes keep their comments (each a
//! list of comment lines, named by the byte offset of their `#`). Anything
//! go-yaml would refuse ends the walk with `None` (the caller then keeps its
//! own placement).

use std::collections::HashMap;

/// A position: byte offset, line and column (in characters) as go-yaml
/// counts them. Signed: go-yaml moves marks before the text's start.
#[derive(Clone, Copy, Default, Debug)]
struct Mark {
    index: i64,
    line: i64,
    column: i64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tk {
    StreamStart,
    StreamEnd,
    Directive,
    DocStart,
    DocEnd,
    BlockSeqStart,
    BlockMapStart,
    BlockEnd,
    FlowSeqStart,
    FlowSeqEnd,
    FlowMapStart,
    FlowMapEnd,
    BlockEntry,
    FlowEntry,
    Key,
    Value,
    Alias,
    Anchor,
    Tag,
    Scalar,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    typ: Tk,
    start: Mark,
    end: Mark,
}

/// Comment text as go-yaml joins it: comment lines (named by the offset of
/// their `#`) and the line breaks between them (two in a row: a blank line).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Piece {
    Line(usize),
    Nl,
}

type Text = Vec<Piece>;

/// A scanned comment (`yaml_comment_t`).
#[derive(Clone, Default, Debug)]
struct Cmt {
    scan_mark: Mark,
    token_mark: Mark,
    start_mark: Mark,
    end_mark: Mark,
    head: Text,
    line: Text,
    foot: Text,
}

#[derive(Clone, Copy, Default)]
struct SimpleKey {
    possible: bool,
    required: bool,
    token_number: usize,
    mark: Mark,
}

/// go-yaml refuses the text (or this rewrite does not follow it there).
struct Refused;

type R<T> = Result<T, Refused>;

struct Scanner<'a> {
    b: &'a [u8],
    mark: Mark,
    tokens: Vec<Token>,
    /// The next token to hand out (tokens are never dropped, so this is also
    /// go-yaml's `tokens_parsed`).
    head: usize,
    stream_start_produced: bool,
    indent: i64,
    indents: Vec<i64>,
    simple_key_allowed: bool,
    simple_keys: Vec<SimpleKey>,
    simple_keys_by_tok: HashMap<usize, usize>,
    flow_level: usize,
    newlines: i64,
    comments: Vec<Cmt>,
    comments_head: usize,
}

fn is_blank_byte(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

impl<'a> Scanner<'a> {
    fn new(b: &'a [u8]) -> Self {
        Scanner {
            b,
            // go-yaml's reader drops a BOM before the scanner sees the
            // text: it starts at column 0 after it (offsets stay the
            // text's).
            mark: Mark {
                index: if b.starts_with(b"\xef\xbb\xbf") { 3 } else { 0 },
                ..Mark::default()
            },
            tokens: Vec::new(),
            head: 0,
            stream_start_produced: false,
            indent: -1,
            indents: Vec::new(),
            simple_key_allowed: false,
            simple_keys: Vec::new(),
            simple_keys_by_tok: HashMap::new(),
            flow_level: 0,
            newlines: 0,
            comments: Vec::new(),
            comments_head: 0,
        }
    }

    fn pos(&self) -> usize {
        usize::try_from(self.mark.index).unwrap_or(0)
    }

    /// The byte `k` bytes ahead (NUL past the end, as go-yaml pads it).
    fn at(&self, k: usize) -> u8 {
        self.b.get(self.pos() + k).copied().unwrap_or(0)
    }

    fn is_break_at(&self, k: usize) -> bool {
        let p = self.pos() + k;
        let g = |i: usize| self.b.get(p + i).copied().unwrap_or(0);
        match g(0) {
            b'\r' | b'\n' => true,
            0xC2 => g(1) == 0x85,
            0xE2 => g(1) == 0x80 && (g(2) == 0xA8 || g(2) == 0xA9),
            _ => false,
        }
    }

    fn is_z_at(&self, k: usize) -> bool {
        self.at(k) == 0
    }

    fn is_breakz_at(&self, k: usize) -> bool {
        self.is_break_at(k) || self.is_z_at(k)
    }

    fn is_blank_at(&self, k: usize) -> bool {
        is_blank_byte(self.at(k))
    }

    fn is_blankz_at(&self, k: usize) -> bool {
        self.is_blank_at(k) || self.is_breakz_at(k)
    }

    fn width(&self) -> usize {
        match self.at(0) {
            c if c & 0x80 == 0 => 1,
            c if c & 0xE0 == 0xC0 => 2,
            c if c & 0xF0 == 0xE0 => 3,
            c if c & 0xF8 == 0xF0 => 4,
            _ => 1,
        }
    }

    /// go-yaml's `skip` (and `read`, which moves the same way).
    fn skip(&mut self) {
        if !self.is_blank_at(0) {
            self.newlines = 0;
        }
        let w = self.width().max(1);
        self.mark.index += w as i64;
        self.mark.column += 1;
    }

    /// go-yaml's `skip_line` (and `read_line`).
    fn skip_line(&mut self) {
        if self.at(0) == b'\r' && self.at(1) == b'\n' {
            self.mark.index += 2;
        } else if self.is_break_at(0) {
            self.mark.index += self.width().max(1) as i64;
        } else {
            return;
        }
        self.mark.column = 0;
        self.mark.line += 1;
        self.newlines += 1;
    }

    fn insert(&mut self, at: Option<usize>, token: Token) {
        match at {
            Some(i) if i <= self.tokens.len() => self.tokens.insert(i, token),
            _ => self.tokens.push(token),
        }
    }

    /// Make sure a token is ready at `head` (`yaml_parser_fetch_more_tokens`).
    fn fetch_more(&mut self) -> R<()> {
        loop {
            if self.head + 2 < self.tokens.len() {
                let Some(&i) = self.simple_keys_by_tok.get(&self.head) else {
                    break;
                };
                if !self.simple_key_is_valid(i)? {
                    break;
                }
            }
            self.fetch_next()?;
        }
        Ok(())
    }

    fn fetch_next(&mut self) -> R<()> {
        if !self.stream_start_produced {
            self.indent = -1;
            self.simple_keys.push(SimpleKey::default());
            self.simple_key_allowed = true;
            self.stream_start_produced = true;
            let m = self.mark;
            self.insert(None, tok(Tk::StreamStart, m, m));
            return Ok(());
        }
        let scan_mark = self.mark;
        self.scan_to_next_token()?;
        self.unroll_indent(self.mark.column, scan_mark);
        if self.is_z_at(0) {
            return self.fetch_stream_end();
        }
        let c = self.at(0);
        if self.mark.column == 0 && c == b'%' {
            return self.fetch_directive();
        }
        let three = |s: &Self, ch: u8| {
            s.mark.column == 0
                && s.at(0) == ch
                && s.at(1) == ch
                && s.at(2) == ch
                && s.is_blankz_at(3)
        };
        if three(self, b'-') {
            return self.fetch_document_indicator(Tk::DocStart);
        }
        if three(self, b'.') {
            return self.fetch_document_indicator(Tk::DocEnd);
        }
        let mut comment_mark = self.mark;
        if let Some(last) = self.tokens.last() {
            if self.flow_level == 0 && c == b':' || self.flow_level > 0 && c == b',' {
                comment_mark = last.start;
            }
        }
        self.dispatch(c)?;
        if self.tokens.last().is_some_and(|t| t.typ == Tk::BlockEntry) {
            return Ok(());
        }
        self.scan_line_comment(comment_mark)
    }

    fn dispatch(&mut self, c: u8) -> R<()> {
        let flow = self.flow_level > 0;
        match c {
            b'[' => self.fetch_flow_start(Tk::FlowSeqStart),
            b'{' => self.fetch_flow_start(Tk::FlowMapStart),
            b']' => self.fetch_flow_end(Tk::FlowSeqEnd),
            b'}' => self.fetch_flow_end(Tk::FlowMapEnd),
            b',' => self.fetch_flow_entry(),
            b'-' if self.is_blankz_at(1) => self.fetch_block_entry(),
            b'?' if flow || self.is_blankz_at(1) => self.fetch_key(),
            b':' if flow || self.is_blankz_at(1) => self.fetch_value(),
            b'*' => self.fetch_anchor(Tk::Alias),
            b'&' => self.fetch_anchor(Tk::Anchor),
            b'!' => self.fetch_tag(),
            b'|' | b'>' if !flow => self.fetch_block_scalar(),
            b'\'' => self.fetch_flow_scalar(true),
            b'"' => self.fetch_flow_scalar(false),
            _ => {
                let indicator = self.is_blankz_at(0) || b"-?:,[]{}#&*!|>'\"%@`".contains(&c);
                let plain = !indicator
                    || (c == b'-' && !self.is_blank_at(1))
                    || (!flow && (c == b'?' || c == b':') && !self.is_blankz_at(1));
                if plain {
                    self.fetch_plain_scalar()
                } else {
                    Err(Refused)
                }
            }
        }
    }

    fn simple_key_is_valid(&mut self, i: usize) -> R<bool> {
        let mark = self.mark;
        let Some(k) = self.simple_keys.get_mut(i) else {
            return Ok(false);
        };
        if !k.possible {
            return Ok(false);
        }
        if k.mark.line < mark.line || k.mark.index + 1024 < mark.index {
            if k.required {
                return Err(Refused);
            }
            k.possible = false;
            return Ok(false);
        }
        Ok(true)
    }

    fn save_simple_key(&mut self) -> R<()> {
        let required = self.flow_level == 0 && self.indent == self.mark.column;
        if self.simple_key_allowed {
            let key = SimpleKey {
                possible: true,
                required,
                token_number: self.tokens.len(),
                mark: self.mark,
            };
            self.remove_simple_key()?;
            let last = self.simple_keys.len().saturating_sub(1);
            if let Some(slot) = self.simple_keys.get_mut(last) {
                *slot = key;
            }
            self.simple_keys_by_tok.insert(key.token_number, last);
        }
        Ok(())
    }

    fn remove_simple_key(&mut self) -> R<()> {
        if let Some(k) = self.simple_keys.last_mut() {
            if k.possible {
                if k.required {
                    return Err(Refused);
                }
                k.possible = false;
                let n = k.token_number;
                self.simple_keys_by_tok.remove(&n);
            }
        }
        Ok(())
    }

    fn roll_indent(&mut self, column: i64, number: Option<usize>, typ: Tk, mark: Mark) {
        if self.flow_level > 0 {
            return;
        }
        if self.indent < column {
            self.indents.push(self.indent);
            self.indent = column;
            self.insert(number, tok(typ, mark, mark));
        }
    }

    /// Close the blocks deeper than `column`, each block end token moved
    /// back before the comments that follow at that block's column.
    fn unroll_indent(&mut self, column: i64, scan_mark: Mark) {
        if self.flow_level > 0 {
            return;
        }
        let mut block_mark = scan_mark;
        block_mark.index -= 1;
        while self.indent > column {
            let mut stop_index = block_mark.index;
            for c in self.comments.iter().rev() {
                if c.end_mark.index < stop_index {
                    break;
                }
                if c.start_mark.column == self.indent + 1 {
                    block_mark = c.start_mark;
                }
                stop_index = c.scan_mark.index;
            }
            self.insert(None, tok(Tk::BlockEnd, block_mark, block_mark));
            self.indent = self.indents.pop().unwrap_or(-1);
        }
    }

    fn fetch_stream_end(&mut self) -> R<()> {
        if self.mark.column != 0 {
            self.mark.column = 0;
            self.mark.line += 1;
        }
        self.unroll_indent(-1, self.mark);
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let m = self.mark;
        self.insert(None, tok(Tk::StreamEnd, m, m));
        Ok(())
    }

    fn fetch_directive(&mut self) -> R<()> {
        self.unroll_indent(-1, self.mark);
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let start = self.mark;
        while !self.is_breakz_at(0) {
            self.skip();
        }
        let end = self.mark;
        self.skip_line();
        self.insert(None, tok(Tk::Directive, start, end));
        Ok(())
    }

    fn fetch_document_indicator(&mut self, typ: Tk) -> R<()> {
        self.unroll_indent(-1, self.mark);
        self.remove_simple_key()?;
        self.simple_key_allowed = false;
        let start = self.mark;
        self.skip();
        self.skip();
        self.skip();
        let end = self.mark;
        self.insert(None, tok(typ, start, end));
        Ok(())
    }

    fn one_char(&mut self, typ: Tk) {
        let start = self.mark;
        self.skip();
        let end = self.mark;
        self.insert(None, tok(typ, start, end));
    }

    fn fetch_flow_start(&mut self, typ: Tk) -> R<()> {
        self.save_simple_key()?;
        self.simple_keys.push(SimpleKey {
            token_number: self.tokens.len(),
            mark: self.mark,
            ..SimpleKey::default()
        });
        self.flow_level += 1;
        self.simple_key_allowed = true;
        self.one_char(typ);
        Ok(())
    }

    fn fetch_flow_end(&mut self, typ: Tk) -> R<()> {
        self.remove_simple_key()?;
        if self.flow_level > 0 {
            self.flow_level -= 1;
            if let Some(k) = self.simple_keys.pop() {
                self.simple_keys_by_tok.remove(&k.token_number);
            }
        }
        self.simple_key_allowed = false;
        self.one_char(typ);
        Ok(())
    }

    fn fetch_flow_entry(&mut self) -> R<()> {
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        self.one_char(Tk::FlowEntry);
        Ok(())
    }

    fn fetch_block_entry(&mut self) -> R<()> {
        if self.flow_level == 0 {
            if !self.simple_key_allowed {
                return Err(Refused);
            }
            let m = self.mark;
            self.roll_indent(m.column, None, Tk::BlockSeqStart, m);
        }
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        self.one_char(Tk::BlockEntry);
        Ok(())
    }

    fn fetch_key(&mut self) -> R<()> {
        if self.flow_level == 0 {
            if !self.simple_key_allowed {
                return Err(Refused);
            }
            let m = self.mark;
            self.roll_indent(m.column, None, Tk::BlockMapStart, m);
        }
        self.remove_simple_key()?;
        self.simple_key_allowed = self.flow_level == 0;
        self.one_char(Tk::Key);
        Ok(())
    }

    fn fetch_value(&mut self) -> R<()> {
        let last = self.simple_keys.len().saturating_sub(1);
        if self.simple_key_is_valid(last)? {
            let Some(k) = self.simple_keys.get(last).copied() else {
                return Err(Refused);
            };
            self.insert(Some(k.token_number), tok(Tk::Key, k.mark, k.mark));
            self.roll_indent(
                k.mark.column,
                Some(k.token_number),
                Tk::BlockMapStart,
                k.mark,
            );
            if let Some(k) = self.simple_keys.get_mut(last) {
                k.possible = false;
            }
            self.simple_keys_by_tok.remove(&k.token_number);
            self.simple_key_allowed = false;
        } else {
            if self.flow_level == 0 {
                if !self.simple_key_allowed {
                    return Err(Refused);
                }
                let m = self.mark;
                self.roll_indent(m.column, None, Tk::BlockMapStart, m);
            }
            self.simple_key_allowed = self.flow_level == 0;
        }
        self.one_char(Tk::Value);
        Ok(())
    }

    fn fetch_anchor(&mut self, typ: Tk) -> R<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let start = self.mark;
        self.skip();
        let mut n = 0;
        while self.at(0).is_ascii_alphanumeric() || matches!(self.at(0), b'_' | b'-') {
            self.skip();
            n += 1;
        }
        let end = self.mark;
        if n == 0 || !(self.is_blankz_at(0) || b"?:,]}%@`".contains(&self.at(0))) {
            return Err(Refused);
        }
        self.insert(None, tok(typ, start, end));
        Ok(())
    }

    fn fetch_tag(&mut self) -> R<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let start = self.mark;
        if self.at(1) == b'<' {
            while self.at(0) != b'>' && !self.is_breakz_at(0) {
                self.skip();
            }
            self.skip();
        } else {
            let flow_end = |s: &Self| s.flow_level > 0 && matches!(s.at(0), b',' | b']' | b'}');
            while !self.is_blankz_at(0) && !flow_end(self) {
                self.skip();
            }
        }
        let end = self.mark;
        self.insert(None, tok(Tk::Tag, start, end));
        Ok(())
    }

    fn fetch_block_scalar(&mut self) -> R<()> {
        self.remove_simple_key()?;
        self.simple_key_allowed = true;
        let start = self.mark;
        self.skip();
        let mut increment = 0i64;
        let digit = |c: u8| c.is_ascii_digit();
        if matches!(self.at(0), b'+' | b'-') {
            self.skip();
            if digit(self.at(0)) {
                if self.at(0) == b'0' {
                    return Err(Refused);
                }
                increment = i64::from(self.at(0) - b'0');
                self.skip();
            }
        } else if digit(self.at(0)) {
            if self.at(0) == b'0' {
                return Err(Refused);
            }
            increment = i64::from(self.at(0) - b'0');
            self.skip();
            if matches!(self.at(0), b'+' | b'-') {
                self.skip();
            }
        }
        while self.is_blank_at(0) {
            self.skip();
        }
        if self.at(0) == b'#' {
            self.scan_line_comment(start)?;
            while !self.is_breakz_at(0) {
                self.skip();
            }
        }
        if !self.is_breakz_at(0) {
            return Err(Refused);
        }
        self.skip_line();
        let mut end = self.mark;
        let mut indent = 0i64;
        if increment > 0 {
            indent = if self.indent >= 0 {
                self.indent + increment
            } else {
                increment
            };
        }
        self.block_scalar_breaks(&mut indent, &mut end)?;
        while self.mark.column == indent && !self.is_z_at(0) {
            while !self.is_breakz_at(0) {
                self.skip();
            }
            self.skip_line();
            self.block_scalar_breaks(&mut indent, &mut end)?;
        }
        self.insert(None, tok(Tk::Scalar, start, end));
        Ok(())
    }

    fn block_scalar_breaks(&mut self, indent: &mut i64, end: &mut Mark) -> R<()> {
        *end = self.mark;
        let mut max_indent = 0;
        loop {
            while (*indent == 0 || self.mark.column < *indent) && self.at(0) == b' ' {
                self.skip();
            }
            max_indent = max_indent.max(self.mark.column);
            if (*indent == 0 || self.mark.column < *indent) && self.at(0) == b'\t' {
                return Err(Refused);
            }
            if !self.is_break_at(0) {
                break;
            }
            self.skip_line();
            *end = self.mark;
        }
        if *indent == 0 {
            *indent = max_indent.max(self.indent + 1).max(1);
        }
        Ok(())
    }

    fn document_indicator_here(&self) -> bool {
        self.mark.column == 0
            && ((self.at(0) == b'-' && self.at(1) == b'-' && self.at(2) == b'-')
                || (self.at(0) == b'.' && self.at(1) == b'.' && self.at(2) == b'.'))
            && self.is_blankz_at(3)
    }

    fn fetch_flow_scalar(&mut self, single: bool) -> R<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let start = self.mark;
        let quote = if single { b'\'' } else { b'"' };
        self.skip();
        loop {
            if self.document_indicator_here() || self.is_z_at(0) {
                return Err(Refused);
            }
            let mut leading_blanks = false;
            while !self.is_blankz_at(0) {
                let c = self.at(0);
                if single && c == b'\'' && self.at(1) == b'\'' {
                    self.skip();
                    self.skip();
                } else if c == quote {
                    break;
                } else if !single && c == b'\\' && self.is_break_at(1) {
                    self.skip();
                    self.skip_line();
                    leading_blanks = true;
                    break;
                } else if !single && c == b'\\' {
                    let code = match self.at(1) {
                        b'x' => 2,
                        b'u' => 4,
                        b'U' => 8,
                        b'0' | b'a' | b'b' | b't' | b'\t' | b'n' | b'v' | b'f' | b'r' | b'e'
                        | b' ' | b'"' | b'/' | b'\'' | b'\\' | b'N' | b'_' | b'L' | b'P' => 0,
                        _ => return Err(Refused),
                    };
                    self.skip();
                    self.skip();
                    for _ in 0..code {
                        if !self.at(0).is_ascii_hexdigit() {
                            return Err(Refused);
                        }
                        self.skip();
                    }
                } else {
                    self.skip();
                }
            }
            if self.at(0) == quote {
                break;
            }
            while self.is_blank_at(0) || self.is_break_at(0) {
                if self.is_blank_at(0) {
                    self.skip();
                } else {
                    self.skip_line();
                    leading_blanks = true;
                }
            }
            let _ = leading_blanks;
        }
        self.skip();
        let end = self.mark;
        self.insert(None, tok(Tk::Scalar, start, end));
        Ok(())
    }

    fn fetch_plain_scalar(&mut self) -> R<()> {
        self.save_simple_key()?;
        self.simple_key_allowed = false;
        let indent = self.indent + 1;
        let start = self.mark;
        let mut end = self.mark;
        let mut leading_blanks = false;
        loop {
            if self.document_indicator_here() || self.at(0) == b'#' {
                break;
            }
            while !self.is_blankz_at(0) {
                let c = self.at(0);
                if (c == b':' && self.is_blankz_at(1))
                    || (self.flow_level > 0 && b",?[]{}".contains(&c))
                {
                    break;
                }
                leading_blanks = false;
                self.skip();
                end = self.mark;
            }
            if !(self.is_blank_at(0) || self.is_break_at(0)) {
                break;
            }
            while self.is_blank_at(0) || self.is_break_at(0) {
                if self.is_blank_at(0) {
                    if leading_blanks && self.mark.column < indent && self.at(0) == b'\t' {
                        return Err(Refused);
                    }
                    self.skip();
                } else {
                    self.skip_line();
                    leading_blanks = true;
                }
            }
            if self.flow_level == 0 && self.mark.column < indent {
                break;
            }
        }
        self.insert(None, tok(Tk::Scalar, start, end));
        if leading_blanks {
            self.simple_key_allowed = true;
        }
        Ok(())
    }

    fn scan_to_next_token(&mut self) -> R<()> {
        let scan_mark = self.mark;
        loop {
            if self.mark.column == 0
                && self.at(0) == 0xEF
                && self.at(1) == 0xBB
                && self.at(2) == 0xBF
            {
                self.skip();
            }
            while self.at(0) == b' '
                || ((self.flow_level > 0 || !self.simple_key_allowed) && self.at(0) == b'\t')
            {
                self.skip();
            }
            // `- # comment` over the item's content: a head comment.
            let n = self.tokens.len();
            if n > 1 && !self.is_break_at(0) {
                let (a, b) = (self.tokens[n - 2].typ, self.tokens[n - 1].typ);
                let mark = self.mark;
                if let Some(c) = self.comments.last_mut() {
                    if a == Tk::BlockSeqStart && b == Tk::BlockEntry && !c.line.is_empty() {
                        c.head = std::mem::take(&mut c.line);
                        if c.start_mark.line == mark.line - 1 {
                            c.token_mark = mark;
                        }
                    }
                }
            }
            if self.at(0) == b'#' {
                self.scan_comments(scan_mark)?;
            }
            if self.is_break_at(0) {
                self.skip_line();
                if self.flow_level == 0 {
                    self.simple_key_allowed = true;
                }
            } else {
                break;
            }
        }
        Ok(())
    }

    /// Consume up to byte offset `seen` (over line breaks too), then the
    /// comment line there; returns the mark of its `#`.
    fn consume_comment(&mut self, seen: i64) -> Mark {
        while self.mark.index < seen && !self.is_z_at(0) {
            if self.is_break_at(0) {
                self.skip_line();
            } else {
                self.skip();
            }
        }
        let at = self.mark;
        while !self.is_breakz_at(0) {
            self.skip();
        }
        at
    }

    fn scan_line_comment(&mut self, token_mark: Mark) -> R<()> {
        if self.newlines > 0 {
            return Ok(());
        }
        let mut peek = 0;
        while peek < 512 && self.is_blank_at(peek) {
            peek += 1;
        }
        if self.at(peek) == b'#' {
            let seen = self.mark.index + peek as i64;
            let start_mark = self.consume_comment(seen);
            self.comments.push(Cmt {
                token_mark,
                start_mark,
                line: vec![Piece::Line(offset(start_mark))],
                ..Cmt::default()
            });
        }
        Ok(())
    }

    /// go-yaml's `yaml_parser_scan_comments`: the comment lines from here
    /// on, split into foot comments of what precedes and a head comment of
    /// what follows.
    fn scan_comments(&mut self, scan_mark: Mark) -> R<()> {
        let Some(&last) = self.tokens.last() else {
            return Err(Refused);
        };
        let mut token = last;
        if token.typ == Tk::FlowEntry && self.tokens.len() > 1 {
            token = self.tokens[self.tokens.len() - 2];
        }
        let mut scan_mark = scan_mark;
        let mut token_mark = token.start;
        let mut start_mark = Mark::default();
        let mut next_indent = self.indent.max(0);
        let mut recent_empty = false;
        let mut first_empty = self.newlines <= 1;
        let mut line = self.mark.line;
        let mut column = self.mark.column;
        let mut text: Text = Vec::new();
        let mut foot_line = -1;
        if scan_mark.line > 0 {
            foot_line = self.mark.line - self.newlines + 1;
            if self.newlines == 0 && self.mark.column > 1 {
                foot_line += 1;
            }
        }
        let mut peek = 0usize;
        while peek < 512 {
            column += 1;
            if self.is_blank_at(peek) {
                peek += 1;
                continue;
            }
            let c = self.at(peek);
            let close_flow = self.flow_level > 0 && (c == b']' || c == b'}');
            if close_flow || self.is_breakz_at(peek) {
                if close_flow || !recent_empty {
                    if close_flow
                        || first_empty
                            && (start_mark.line == foot_line && token.typ != Tk::Value
                                || start_mark.column - 1 < next_indent)
                    {
                        if !text.is_empty() {
                            if start_mark.column - 1 < next_indent {
                                token_mark = start_mark;
                            }
                            let end = Mark {
                                index: self.mark.index + peek as i64,
                                line,
                                column,
                            };
                            self.comments.push(Cmt {
                                scan_mark,
                                token_mark,
                                start_mark,
                                end_mark: end,
                                foot: std::mem::take(&mut text),
                                ..Cmt::default()
                            });
                            scan_mark = end;
                            token_mark = end;
                        }
                    } else if !text.is_empty() && c != 0 {
                        text.push(Piece::Nl);
                    }
                }
                if !self.is_break_at(peek) {
                    break;
                }
                first_empty = false;
                recent_empty = true;
                column = 0;
                line += 1;
                peek += 1;
                continue;
            }
            if !text.is_empty()
                && (close_flow || column - 1 < next_indent && column != start_mark.column)
            {
                let end = Mark {
                    index: self.mark.index + peek as i64,
                    line,
                    column,
                };
                self.comments.push(Cmt {
                    scan_mark,
                    token_mark,
                    start_mark,
                    end_mark: end,
                    foot: std::mem::take(&mut text),
                    ..Cmt::default()
                });
                scan_mark = end;
                token_mark = end;
            }
            if c != b'#' {
                break;
            }
            if text.is_empty() {
                start_mark = Mark {
                    index: self.mark.index + peek as i64,
                    line,
                    column,
                };
            } else {
                text.push(Piece::Nl);
            }
            recent_empty = false;
            let seen = self.mark.index + peek as i64;
            let at = self.consume_comment(seen);
            text.push(Piece::Line(offset(at)));
            // go-yaml restarts at 0, and its loop steps past the line break.
            peek = 1;
            column = 0;
            line = self.mark.line;
            next_indent = self.indent.max(0);
        }
        if !text.is_empty() {
            let end = Mark {
                index: self.mark.index + peek as i64 - 1,
                line,
                column,
            };
            self.comments.push(Cmt {
                scan_mark,
                token_mark: start_mark,
                start_mark,
                end_mark: end,
                head: text,
                ..Cmt::default()
            });
        }
        Ok(())
    }
}

fn offset(m: Mark) -> usize {
    usize::try_from(m.index).unwrap_or(0)
}

fn tok(typ: Tk, start: Mark, end: Mark) -> Token {
    Token { typ, start, end }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum St {
    StreamStart,
    ImplicitDocStart,
    DocStart,
    DocContent,
    DocEnd,
    BlockNode,
    BlockSeqFirst,
    BlockSeqEntry,
    IndentlessEntry,
    BlockMapFirstKey,
    BlockMapKey,
    BlockMapValue,
    FlowSeqFirst,
    FlowSeqEntry,
    FlowSeqMapKey,
    FlowSeqMapValue,
    FlowSeqMapEnd,
    FlowMapFirstKey,
    FlowMapKey,
    FlowMapValue,
    FlowMapEmptyValue,
    End,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ev {
    StreamStart,
    StreamEnd,
    DocStart,
    DocEnd,
    Alias,
    Scalar,
    SeqStart,
    SeqEnd,
    MapStart { flow: bool },
    MapEnd,
}

#[derive(Clone, Debug)]
struct Event {
    typ: Ev,
    /// The scalar token's extent (byte offsets).
    span: (usize, usize),
    head: Text,
    line: Text,
    foot: Text,
}

fn event(typ: Ev) -> Event {
    Event {
        typ,
        span: (0, 0),
        head: Vec::new(),
        line: Vec::new(),
        foot: Vec::new(),
    }
}

/// go-yaml's parser (`parserc.go`), events with their comments.
struct Parser<'a> {
    s: Scanner<'a>,
    state: St,
    states: Vec<St>,
    token_available: bool,
    head_comment: Text,
    line_comment: Text,
    foot_comment: Text,
    stem_comment: Text,
}

fn join(to: &mut Text, more: &Text) {
    if !to.is_empty() {
        to.push(Piece::Nl);
    }
    to.extend_from_slice(more);
}

impl<'a> Parser<'a> {
    fn peek_token(&mut self) -> R<Token> {
        if !self.token_available {
            self.s.fetch_more()?;
            self.token_available = true;
        }
        let Some(&token) = self.s.tokens.get(self.s.head) else {
            return Err(Refused);
        };
        // yaml_parser_unfold_comments
        while let Some(c) = self.s.comments.get_mut(self.s.comments_head) {
            if token.start.index < c.token_mark.index {
                break;
            }
            if !c.head.is_empty() {
                if token.typ == Tk::BlockEnd {
                    break;
                }
                join(&mut self.head_comment, &c.head);
            }
            if !c.foot.is_empty() {
                join(&mut self.foot_comment, &c.foot);
            }
            if !c.line.is_empty() {
                join(&mut self.line_comment, &c.line);
            }
            *c = Cmt::default();
            self.s.comments_head += 1;
        }
        Ok(token)
    }

    fn skip_token(&mut self) {
        self.token_available = false;
        self.s.head += 1;
    }

    fn pop_state(&mut self) -> St {
        self.states.pop().unwrap_or(St::End)
    }

    fn set_comments(&mut self, e: &mut Event) {
        e.head = std::mem::take(&mut self.head_comment);
        e.line = std::mem::take(&mut self.line_comment);
        e.foot = std::mem::take(&mut self.foot_comment);
        self.stem_comment.clear();
    }

    fn next_event(&mut self) -> R<Event> {
        match self.state {
            St::StreamStart => {
                let t = self.peek_token()?;
                if t.typ != Tk::StreamStart {
                    return Err(Refused);
                }
                self.state = St::ImplicitDocStart;
                self.skip_token();
                Ok(event(Ev::StreamStart))
            }
            St::ImplicitDocStart => self.document_start(true),
            St::DocStart => self.document_start(false),
            St::DocContent => {
                let t = self.peek_token()?;
                if matches!(
                    t.typ,
                    Tk::Directive | Tk::DocStart | Tk::DocEnd | Tk::StreamEnd
                ) {
                    self.state = self.pop_state();
                    return Ok(empty_scalar(t.start));
                }
                self.node(true, false)
            }
            St::DocEnd => {
                let t = self.peek_token()?;
                if t.typ == Tk::DocEnd {
                    self.skip_token();
                }
                self.state = St::DocStart;
                let mut e = event(Ev::DocEnd);
                self.set_comments(&mut e);
                if !e.head.is_empty() && e.foot.is_empty() {
                    e.foot = std::mem::take(&mut e.head);
                }
                Ok(e)
            }
            St::BlockNode => self.node(true, false),
            St::BlockSeqFirst | St::BlockSeqEntry => {
                if self.state == St::BlockSeqFirst {
                    self.peek_token()?;
                    self.skip_token();
                }
                let t = self.peek_token()?;
                match t.typ {
                    Tk::BlockEntry => {
                        let mark = t.end;
                        let prior = self.head_comment.len();
                        self.skip_token();
                        self.split_stem_comment(prior)?;
                        let t = self.peek_token()?;
                        if t.typ != Tk::BlockEntry && t.typ != Tk::BlockEnd {
                            self.states.push(St::BlockSeqEntry);
                            self.node(true, false)
                        } else {
                            self.state = St::BlockSeqEntry;
                            Ok(empty_scalar(mark))
                        }
                    }
                    Tk::BlockEnd => {
                        self.state = self.pop_state();
                        self.skip_token();
                        Ok(event(Ev::SeqEnd))
                    }
                    _ => Err(Refused),
                }
            }
            St::IndentlessEntry => {
                let t = self.peek_token()?;
                if t.typ == Tk::BlockEntry {
                    let mark = t.end;
                    let prior = self.head_comment.len();
                    self.skip_token();
                    self.split_stem_comment(prior)?;
                    let t = self.peek_token()?;
                    if !matches!(t.typ, Tk::BlockEntry | Tk::Key | Tk::Value | Tk::BlockEnd) {
                        self.states.push(St::IndentlessEntry);
                        return self.node(true, false);
                    }
                    self.state = St::IndentlessEntry;
                    return Ok(empty_scalar(mark));
                }
                self.state = self.pop_state();
                Ok(event(Ev::SeqEnd))
            }
            St::BlockMapFirstKey | St::BlockMapKey => {
                if self.state == St::BlockMapFirstKey {
                    self.peek_token()?;
                    self.skip_token();
                }
                let t = self.peek_token()?;
                match t.typ {
                    Tk::Key => {
                        let mark = t.end;
                        self.skip_token();
                        let t = self.peek_token()?;
                        if !matches!(t.typ, Tk::Key | Tk::Value | Tk::BlockEnd) {
                            self.states.push(St::BlockMapValue);
                            self.node(true, true)
                        } else {
                            self.state = St::BlockMapValue;
                            Ok(empty_scalar(mark))
                        }
                    }
                    Tk::BlockEnd => {
                        self.state = self.pop_state();
                        let mut e = event(Ev::MapEnd);
                        self.set_comments(&mut e);
                        self.skip_token();
                        Ok(e)
                    }
                    _ => Err(Refused),
                }
            }
            St::BlockMapValue => {
                let t = self.peek_token()?;
                if t.typ == Tk::Value {
                    let mark = t.end;
                    self.skip_token();
                    let t = self.peek_token()?;
                    if !matches!(t.typ, Tk::Key | Tk::Value | Tk::BlockEnd) {
                        self.states.push(St::BlockMapKey);
                        return self.node(true, true);
                    }
                    self.state = St::BlockMapKey;
                    return Ok(empty_scalar(mark));
                }
                self.state = St::BlockMapKey;
                Ok(empty_scalar(t.start))
            }
            St::FlowSeqFirst | St::FlowSeqEntry => {
                let first = self.state == St::FlowSeqFirst;
                if first {
                    self.peek_token()?;
                    self.skip_token();
                }
                let mut t = self.peek_token()?;
                if t.typ != Tk::FlowSeqEnd {
                    if !first {
                        if t.typ != Tk::FlowEntry {
                            return Err(Refused);
                        }
                        self.skip_token();
                        t = self.peek_token()?;
                    }
                    if t.typ == Tk::Key {
                        self.state = St::FlowSeqMapKey;
                        self.skip_token();
                        return Ok(event(Ev::MapStart { flow: true }));
                    } else if t.typ != Tk::FlowSeqEnd {
                        self.states.push(St::FlowSeqEntry);
                        return self.node(false, false);
                    }
                }
                self.state = self.pop_state();
                let mut e = event(Ev::SeqEnd);
                self.set_comments(&mut e);
                self.skip_token();
                Ok(e)
            }
            St::FlowSeqMapKey => {
                let t = self.peek_token()?;
                if !matches!(t.typ, Tk::Value | Tk::FlowEntry | Tk::FlowSeqEnd) {
                    self.states.push(St::FlowSeqMapValue);
                    return self.node(false, false);
                }
                let mark = t.end;
                self.skip_token();
                self.state = St::FlowSeqMapValue;
                Ok(empty_scalar(mark))
            }
            St::FlowSeqMapValue => {
                let mut t = self.peek_token()?;
                if t.typ == Tk::Value {
                    self.skip_token();
                    t = self.peek_token()?;
                    if !matches!(t.typ, Tk::FlowEntry | Tk::FlowSeqEnd) {
                        self.states.push(St::FlowSeqMapEnd);
                        return self.node(false, false);
                    }
                }
                self.state = St::FlowSeqMapEnd;
                Ok(empty_scalar(t.start))
            }
            St::FlowSeqMapEnd => {
                self.peek_token()?;
                self.state = St::FlowSeqEntry;
                Ok(event(Ev::MapEnd))
            }
            St::FlowMapFirstKey | St::FlowMapKey => {
                let first = self.state == St::FlowMapFirstKey;
                if first {
                    self.peek_token()?;
                    self.skip_token();
                }
                let mut t = self.peek_token()?;
                if t.typ != Tk::FlowMapEnd {
                    if !first {
                        if t.typ != Tk::FlowEntry {
                            return Err(Refused);
                        }
                        self.skip_token();
                        t = self.peek_token()?;
                    }
                    if t.typ == Tk::Key {
                        self.skip_token();
                        let t = self.peek_token()?;
                        if !matches!(t.typ, Tk::Value | Tk::FlowEntry | Tk::FlowMapEnd) {
                            self.states.push(St::FlowMapValue);
                            return self.node(false, false);
                        }
                        self.state = St::FlowMapValue;
                        return Ok(empty_scalar(t.start));
                    } else if t.typ != Tk::FlowMapEnd {
                        self.states.push(St::FlowMapEmptyValue);
                        return self.node(false, false);
                    }
                }
                self.state = self.pop_state();
                let mut e = event(Ev::MapEnd);
                self.set_comments(&mut e);
                self.skip_token();
                Ok(e)
            }
            St::FlowMapValue | St::FlowMapEmptyValue => {
                let empty = self.state == St::FlowMapEmptyValue;
                let mut t = self.peek_token()?;
                if empty {
                    self.state = St::FlowMapKey;
                    return Ok(empty_scalar(t.start));
                }
                if t.typ == Tk::Value {
                    self.skip_token();
                    t = self.peek_token()?;
                    if !matches!(t.typ, Tk::FlowEntry | Tk::FlowMapEnd) {
                        self.states.push(St::FlowMapKey);
                        return self.node(false, false);
                    }
                }
                self.state = St::FlowMapKey;
                Ok(empty_scalar(t.start))
            }
            St::End => Ok(event(Ev::StreamEnd)),
        }
    }

    fn document_start(&mut self, implicit: bool) -> R<Event> {
        let mut t = self.peek_token()?;
        if !implicit {
            while t.typ == Tk::DocEnd {
                self.skip_token();
                t = self.peek_token()?;
            }
        }
        if implicit && !matches!(t.typ, Tk::Directive | Tk::DocStart | Tk::StreamEnd) {
            self.states.push(St::DocEnd);
            self.state = St::BlockNode;
            // The head comment up to its last blank line is the document's.
            let mut head = Vec::new();
            let h = &self.head_comment;
            let n = h.len();
            for i in (1..n).rev() {
                if h[i] == Piece::Nl {
                    if i == n - 1 {
                        head = h[..i].to_vec();
                        self.head_comment = h[i + 1..].to_vec();
                        break;
                    } else if h[i - 1] == Piece::Nl {
                        head = h[..i - 1].to_vec();
                        self.head_comment = h[i + 1..].to_vec();
                        break;
                    }
                }
            }
            let mut e = event(Ev::DocStart);
            e.head = head;
            Ok(e)
        } else if t.typ != Tk::StreamEnd {
            while t.typ == Tk::Directive {
                self.skip_token();
                t = self.peek_token()?;
            }
            if t.typ != Tk::DocStart {
                return Err(Refused);
            }
            self.states.push(St::DocEnd);
            self.state = St::DocContent;
            self.skip_token();
            Ok(event(Ev::DocStart))
        } else {
            self.state = St::End;
            self.skip_token();
            Ok(event(Ev::StreamEnd))
        }
    }

    fn split_stem_comment(&mut self, stem_len: usize) -> R<()> {
        if stem_len == 0 {
            return Ok(());
        }
        let t = self.peek_token()?;
        if t.typ != Tk::BlockSeqStart && t.typ != Tk::BlockMapStart {
            return Ok(());
        }
        self.stem_comment = self
            .head_comment
            .get(..stem_len)
            .unwrap_or_default()
            .to_vec();
        self.head_comment = self
            .head_comment
            .get(stem_len + 1..)
            .unwrap_or_default()
            .to_vec();
        Ok(())
    }

    fn node(&mut self, block: bool, indentless: bool) -> R<Event> {
        let mut t = self.peek_token()?;
        if t.typ == Tk::Alias {
            self.state = self.pop_state();
            let mut e = event(Ev::Alias);
            self.set_comments(&mut e);
            self.skip_token();
            return Ok(e);
        }
        let mut props = false;
        for _ in 0..2 {
            if matches!(t.typ, Tk::Anchor | Tk::Tag) {
                props = true;
                self.skip_token();
                t = self.peek_token()?;
            }
        }
        if indentless && t.typ == Tk::BlockEntry {
            self.state = St::IndentlessEntry;
            return Ok(event(Ev::SeqStart));
        }
        let mut e = match t.typ {
            Tk::Scalar => {
                self.state = self.pop_state();
                let mut e = event(Ev::Scalar);
                e.span = (offset(t.start), offset(t.end));
                self.set_comments(&mut e);
                self.skip_token();
                return Ok(e);
            }
            Tk::FlowSeqStart => {
                self.state = St::FlowSeqFirst;
                let mut e = event(Ev::SeqStart);
                self.set_comments(&mut e);
                return Ok(e);
            }
            Tk::FlowMapStart => {
                self.state = St::FlowMapFirstKey;
                let mut e = event(Ev::MapStart { flow: true });
                self.set_comments(&mut e);
                return Ok(e);
            }
            Tk::BlockSeqStart if block => {
                self.state = St::BlockSeqFirst;
                event(Ev::SeqStart)
            }
            Tk::BlockMapStart if block => {
                self.state = St::BlockMapFirstKey;
                event(Ev::MapStart { flow: false })
            }
            _ if props => {
                self.state = self.pop_state();
                return Ok(empty_scalar(t.start));
            }
            _ => return Err(Refused),
        };
        if !self.stem_comment.is_empty() {
            e.head = std::mem::take(&mut self.stem_comment);
        }
        Ok(e)
    }
}

fn empty_scalar(m: Mark) -> Event {
    let mut e = event(Ev::Scalar);
    e.span = (offset(m), offset(m));
    e
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Doc,
    Map,
    Seq,
    Scalar,
    Alias,
}

/// A node as go-yaml's decoder builds it (`yaml.Node`), comments included.
#[derive(Debug)]
struct YNode {
    kind: Kind,
    head: Text,
    line: Text,
    foot: Text,
    content: Vec<usize>,
    span: (usize, usize),
}

/// go-yaml's decoder (`decode.go`, `parser`): nodes from events.
struct Composer<'a> {
    p: Parser<'a>,
    event: Option<Event>,
    nodes: Vec<YNode>,
}

/// The most nodes one document may have here (deeper or larger documents
/// keep the caller's placement).
const MAX_DEPTH: usize = 200;

impl Composer<'_> {
    fn peek(&mut self) -> R<Ev> {
        if self.event.is_none() {
            self.event = Some(self.p.next_event()?);
        }
        self.event.as_ref().map(|e| e.typ).ok_or(Refused)
    }

    fn expect(&mut self, typ: Ev) -> R<Event> {
        self.peek()?;
        match self.event.take() {
            Some(e) if e.typ == typ => Ok(e),
            _ => Err(Refused),
        }
    }

    fn new_node(&mut self, kind: Kind) -> usize {
        let (head, line, foot, span) = match &self.event {
            Some(e) => (e.head.clone(), e.line.clone(), e.foot.clone(), e.span),
            None => Default::default(),
        };
        self.nodes.push(YNode {
            kind,
            head,
            line,
            foot,
            content: Vec::new(),
            span,
        });
        self.nodes.len() - 1
    }

    /// The next node (`parser.parse`); `None` at the end of the stream.
    fn parse(&mut self, depth: usize) -> R<Option<usize>> {
        if depth > MAX_DEPTH {
            return Err(Refused);
        }
        match self.peek()? {
            Ev::Scalar => {
                let n = self.new_node(Kind::Scalar);
                self.expect(Ev::Scalar)?;
                Ok(Some(n))
            }
            Ev::Alias => {
                let n = self.new_node(Kind::Alias);
                self.expect(Ev::Alias)?;
                Ok(Some(n))
            }
            Ev::MapStart { flow } => self.mapping(flow, depth).map(Some),
            Ev::SeqStart => self.sequence(depth).map(Some),
            Ev::DocStart => {
                let n = self.new_node(Kind::Doc);
                self.expect(Ev::DocStart)?;
                self.child(n, depth)?;
                if self.peek()? == Ev::DocEnd {
                    let foot = self.event.as_ref().map(|e| e.foot.clone());
                    self.nodes[n].foot = foot.unwrap_or_default();
                }
                self.expect(Ev::DocEnd)?;
                Ok(Some(n))
            }
            Ev::StreamEnd => Ok(None),
            _ => Err(Refused),
        }
    }

    fn child(&mut self, parent: usize, depth: usize) -> R<usize> {
        let c = self.parse(depth + 1)?.ok_or(Refused)?;
        self.nodes[parent].content.push(c);
        Ok(c)
    }

    fn sequence(&mut self, depth: usize) -> R<usize> {
        let n = self.new_node(Kind::Seq);
        self.expect(Ev::SeqStart)?;
        while self.peek()? != Ev::SeqEnd {
            self.child(n, depth)?;
        }
        let e = self.expect(Ev::SeqEnd)?;
        self.nodes[n].line = e.line;
        self.nodes[n].foot = e.foot;
        Ok(n)
    }

    fn mapping(&mut self, flow: bool, depth: usize) -> R<usize> {
        let n = self.new_node(Kind::Map);
        self.expect(Ev::MapStart { flow })?;
        while self.peek()? != Ev::MapEnd {
            let k = self.child(n, depth)?;
            let len = self.nodes[n].content.len();
            if !flow && !self.nodes[k].foot.is_empty() && len > 2 {
                // A dedented foot comment is the prior value's.
                let foot = std::mem::take(&mut self.nodes[k].foot);
                let prior = self.nodes[n].content[len - 3];
                self.nodes[prior].foot = foot;
            }
            let v = self.child(n, depth)?;
            if self.nodes[k].foot.is_empty() && !self.nodes[v].foot.is_empty() {
                self.nodes[k].foot = std::mem::take(&mut self.nodes[v].foot);
            }
        }
        let e = self.expect(Ev::MapEnd)?;
        self.nodes[n].line = e.line;
        self.nodes[n].foot = e.foot;
        let len = self.nodes[n].content.len();
        if !flow && !self.nodes[n].foot.is_empty() && len > 1 {
            let last_key = self.nodes[n].content[len - 2];
            self.nodes[last_key].foot = std::mem::take(&mut self.nodes[n].foot);
        }
        Ok(n)
    }
}

/// The documents of `src` as go-yaml reads them, and for each comment line
/// (by the offset of its `#`) the node of the mapping or list sops puts it
/// in: `(document, node)`, nodes numbered by [`Docs::nodes`].
pub(super) struct Docs {
    nodes: Vec<YNode>,
    /// The document nodes.
    pub(super) docs: Vec<usize>,
    /// Comment offset -> the collection node sops puts it in.
    pub(super) owner: HashMap<usize, usize>,
}

/// The shape of a node, for matching go-yaml's reading with ours.
pub(super) enum Shape<'d> {
    Map(Vec<(usize, usize)>),
    Seq(&'d [usize]),
    Leaf,
}

impl Docs {
    /// The root node of document `doc`.
    pub(super) fn root(&self, doc: usize) -> Option<usize> {
        self.nodes.get(doc)?.content.first().copied()
    }

    pub(super) fn shape(&self, n: usize) -> Shape<'_> {
        match self.nodes.get(n) {
            Some(y) if y.kind == Kind::Map => Shape::Map(
                y.content
                    .chunks(2)
                    .filter_map(|p| Some((*p.first()?, *p.get(1)?)))
                    .collect(),
            ),
            Some(y) if y.kind == Kind::Seq => Shape::Seq(&y.content),
            _ => Shape::Leaf,
        }
    }

    /// The source extent of a scalar node.
    pub(super) fn span(&self, n: usize) -> (usize, usize) {
        self.nodes.get(n).map_or((0, 0), |y| y.span)
    }
}

/// Read `src` as go-yaml does and place its comments as sops does; `None`
/// if go-yaml (or this rewrite) does not read it.
pub(super) fn read(src: &str) -> Option<Docs> {
    let mut c = Composer {
        p: Parser {
            s: Scanner::new(src.as_bytes()),
            state: St::StreamStart,
            states: Vec::new(),
            token_available: false,
            head_comment: Vec::new(),
            line_comment: Vec::new(),
            foot_comment: Vec::new(),
            stem_comment: Vec::new(),
        },
        event: None,
        nodes: Vec::new(),
    };
    c.expect(Ev::StreamStart).ok()?;
    let mut docs = Vec::new();
    while let Some(d) = c.parse(0).ok()? {
        docs.push(d);
    }
    let mut out = Docs {
        nodes: c.nodes,
        docs,
        owner: HashMap::new(),
    };
    let mut owner = HashMap::new();
    for &d in &out.docs {
        out.sops_walk(d, |step| {
            if let Step::Comment { at, owner: o } = step {
                owner.entry(at).or_insert(o);
            }
        });
    }
    out.owner = owner;
    Some(out)
}

/// One step of sops's walk over a document's tree, in the order sops
/// builds the tree (`stores/yaml/store.go`) and walks it to encrypt
/// (`sops.go`, `walkBranch`, `walkSlice`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// A comment line (named by the offset of its `#`) in the mapping or
    /// list node `owner`.
    Comment { at: usize, owner: usize },
    /// A scalar or alias value (its node).
    Value(usize),
    /// A nested mapping or list begins (sops's walk pushes a level on its
    /// comment stack).
    Open,
    /// It ends (the level is popped, and the collection counts as a value
    /// in the one around it).
    Close,
}

impl Docs {
    /// sops's walk over document `doc` (a node of [`Docs::docs`]).
    pub(super) fn sops_walk(&self, doc: usize, step: impl FnMut(Step)) {
        Store {
            nodes: &self.nodes,
            step,
        }
        .document(doc);
    }
}

/// sops's walk over go-yaml's nodes (`stores/yaml/store.go`,
/// `appendYamlNodeToTreeBranch`, `nodeToTreeValue`): which collection each
/// comment ends up in, and in which order comments and values come.
struct Store<'n, F> {
    nodes: &'n [YNode],
    step: F,
}

impl<F: FnMut(Step)> Store<'_, F> {
    fn add(&mut self, n: usize, which: fn(&YNode) -> &Text, target: usize) {
        let Some(node) = self.nodes.get(n) else {
            return;
        };
        for p in which(node) {
            if let Piece::Line(at) = p {
                (self.step)(Step::Comment {
                    at: *at,
                    owner: target,
                });
            }
        }
    }

    fn head_line(&mut self, n: usize, target: usize) {
        self.add(n, |y| &y.head, target);
        self.add(n, |y| &y.line, target);
    }

    fn kind(&self, n: usize) -> Option<Kind> {
        self.nodes.get(n).map(|y| y.kind)
    }

    fn content(&self, n: usize) -> Vec<usize> {
        self.nodes
            .get(n)
            .map(|y| y.content.clone())
            .unwrap_or_default()
    }

    fn document(&mut self, d: usize) {
        let Some(root) = self.nodes.get(d).and_then(|y| y.content.first().copied()) else {
            return;
        };
        self.head_line(d, root);
        self.branch(root, root, false);
        self.add(d, |y| &y.foot, root);
    }

    fn branch(&mut self, n: usize, target: usize, handled: bool) {
        if !handled {
            self.head_line(n, target);
        }
        if self.kind(n) == Some(Kind::Map) {
            for pair in self.content(n).chunks(2) {
                let (Some(&k), Some(&v)) = (pair.first(), pair.get(1)) else {
                    continue;
                };
                self.head_line(k, target);
                if matches!(self.kind(v), Some(Kind::Scalar | Kind::Alias)) {
                    self.head_line(v, target);
                    (self.step)(Step::Value(v));
                    self.add(v, |y| &y.foot, target);
                } else {
                    self.value(v, false);
                }
                self.add(k, |y| &y.foot, target);
            }
        }
        if !handled {
            self.add(n, |y| &y.foot, target);
        }
    }

    fn value(&mut self, n: usize, handled: bool) {
        match self.kind(n) {
            Some(Kind::Seq) => {
                (self.step)(Step::Open);
                if !handled {
                    self.head_line(n, n);
                }
                for item in self.content(n) {
                    self.head_line(item, n);
                    self.value(item, true);
                    self.add(item, |y| &y.foot, n);
                }
                if !handled {
                    self.add(n, |y| &y.foot, n);
                }
                (self.step)(Step::Close);
            }
            Some(Kind::Map) => {
                (self.step)(Step::Open);
                self.branch(n, n, handled);
                (self.step)(Step::Close);
            }
            Some(Kind::Scalar | Kind::Alias) => (self.step)(Step::Value(n)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The node sops puts the comment `# name` in.
    fn owner(docs: &Docs, src: &str, name: &str) -> Option<usize> {
        let at = src.find(&format!("# {name}\n"))?;
        docs.owner.get(&at).copied()
    }

    #[test]
    fn comments_land_where_sops_puts_them() {
        // After an indentless sequence's last item, dedented: top level.
        let src = "k0:\n- true\n     # c1\nk1: x\nsops: x\n";
        let d = read(src).unwrap();
        let root = d.root(d.docs[0]).unwrap();
        assert_eq!(owner(&d, src, "c1"), Some(root));
        // At the end of a nested block: the nested mapping.
        let src = "a:\n  b: 1\n  # c1\nd: 2\n";
        let d = read(src).unwrap();
        let root = d.root(d.docs[0]).unwrap();
        let Shape::Map(pairs) = d.shape(root) else {
            panic!("not a mapping")
        };
        assert_eq!(owner(&d, src, "c1"), Some(pairs[0].1));
        // Head comments of a key: its mapping.
        let src = "a:\n  # c1\n  b: 1\n";
        let d = read(src).unwrap();
        let Shape::Map(pairs) = d.shape(d.root(d.docs[0]).unwrap()) else {
            panic!("not a mapping")
        };
        assert_eq!(owner(&d, src, "c1"), Some(pairs[0].1));
    }

    #[test]
    fn refuses_what_go_yaml_refuses() {
        assert!(read("a: [1\n").is_none());
        assert!(read("a: 'x\n").is_none());
        assert!(read("- a\nb: 1\n").is_none());
    }
}
