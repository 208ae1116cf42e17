//! Go (RE2) regular expressions, compiled with the `regex` crate so they
//! match what they match in sops.
//!
//! sops compiles `path_regex` and the selector regexes (from flags, rules and
//! a file's metadata, on every read) with Go's `regexp`. The `regex` crate
//! reads nearly the same syntax, but some of it means something else:
//!
//! * `\d \w \s \b` (and `\D \W \S \B`) are ASCII in Go, Unicode here: a key
//!   `clé_id` would match `^\w+_id$` here and not in sops, so a value sops
//!   encrypted would be written back in clear. They become ASCII classes.
//! * `\Q…\E` (a literal span) is Go's only; `\<` and `\>` are word
//!   boundaries here and literal characters in Go.
//! * Inside `[…]`, `[`, `&&`, `--` and `~~` are nested classes and set
//!   operations here, literal characters in Go.
//! * `{` that does not start a repetition (`a{,3}`) is a literal in Go and an
//!   error here; `\101` is an octal escape in Go and an error here.
//! * Go refuses a repetition of a repetition (`a**`) and flags other than
//!   `imsU`; here they compile (`a**` matches the empty string, so every key
//!   would be selected, and sops could not read the file).
//!
//! So the pattern is read with Go's grammar and written out in the `regex`
//! crate's syntax with every literal escaped.

use regex::Regex;
use std::fmt::Write as _;
use std::sync::OnceLock;

/// A pattern Go's `regexp` refuses (or the `regex` crate cannot compile).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GoRegexError(String);

/// A Go regular expression that remembers how it was written, compiled
/// when first matched (see [`go_regex_lazy`]) or at once ([`go_regex`]).
#[derive(Debug, Clone)]
pub struct GoRegex {
    source: String,
    /// The pattern in the `regex` crate's syntax.
    translated: String,
    /// The text every match starts with, when the pattern is `^literal…`:
    /// a text that does not start with it is not matched, without
    /// compiling the pattern.
    prefix: Option<Vec<u8>>,
    regex: OnceLock<Result<Regex, GoRegexError>>,
}

impl GoRegex {
    /// Whether the expression matches somewhere in `text`. An expression
    /// made by [`go_regex`] always compiles; one made by [`go_regex_lazy`]
    /// that the crate cannot compile (its syntax was checked: only its
    /// size can be refused) matches nothing here: see
    /// [`GoRegex::try_match`].
    pub fn is_match(&self, text: &str) -> bool {
        self.try_match(text).unwrap_or(false)
    }

    /// Whether the expression matches somewhere in `text`, compiling it if
    /// that is needed and was not done yet; the compiler's error if it
    /// cannot be compiled.
    pub fn try_match(&self, text: &str) -> Result<bool, GoRegexError> {
        if let Some(prefix) = &self.prefix {
            if !text.as_bytes().starts_with(prefix) {
                return Ok(false);
            }
        }
        Ok(self.compiled()?.is_match(text))
    }

    /// The expression as written (Go syntax).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    fn compiled(&self) -> Result<&Regex, GoRegexError> {
        self.regex
            .get_or_init(|| Regex::new(&self.translated).map_err(|e| crate_error(&e.to_string())))
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// Go repetition counts above this are errors ("invalid repeat count").
const MAX_REPEAT: u32 = 1000;

/// Compile a Go regular expression.
pub fn go_regex(pattern: &str) -> Result<GoRegex, GoRegexError> {
    let regex = go_regex_lazy(pattern)?;
    regex.compiled()?;
    Ok(regex)
}

/// Check a Go regular expression's syntax (the errors [`go_regex`] gives
/// for it), and compile it only when it is first matched, if ever.
///
/// Compiling is what costs: about 0.2 ms a pattern (the `regex` crate
/// sets up its UTF-8 automaton for each `.`), against a few microseconds
/// to check the syntax. A config's `path_regex`es are matched in order
/// until one matches, and a `^literal…` pattern is not compiled at all
/// for a path that does not start with its literal: encrypting a small
/// file under the repository's own `.sops-like.yaml` took 3.1 ms instead
/// of 3.8.
pub fn go_regex_lazy(pattern: &str) -> Result<GoRegex, GoRegexError> {
    let translated = translate(pattern)?;
    // The `regex` crate's own parser, with the settings `Regex::new` uses:
    // the same syntax errors, worded the same.
    let hir = regex_syntax::ParserBuilder::new()
        .nest_limit(250)
        .build()
        .parse(&translated)
        .map_err(|e| crate_error(&e.to_string()))?;
    Ok(GoRegex {
        source: pattern.to_string(),
        prefix: anchored_prefix(&hir),
        translated,
        regex: OnceLock::new(),
    })
}

/// The literal that a pattern starts with right after an anchor at the
/// start of the text (`^abc…`, not `(?m)^`, not case-insensitive, not
/// inside a group or an alternation): every match starts the text with it.
fn anchored_prefix(hir: &regex_syntax::hir::Hir) -> Option<Vec<u8>> {
    use regex_syntax::hir::{HirKind, Look};
    let HirKind::Concat(parts) = hir.kind() else {
        return None;
    };
    let [anchor, literal, ..] = parts.as_slice() else {
        return None;
    };
    match (anchor.kind(), literal.kind()) {
        (HirKind::Look(Look::Start), HirKind::Literal(lit)) => Some(lit.0.to_vec()),
        _ => None,
    }
}

/// The `regex` crate's error, which draws the pattern and a caret over
/// several lines: the last line says what is wrong.
fn crate_error(text: &str) -> GoRegexError {
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid regular expression")
        .trim()
        .trim_start_matches("error: ");
    GoRegexError(line.to_string())
}

fn error(what: &str, at: &str) -> GoRegexError {
    GoRegexError(format!("{what}: `{at}`"))
}

/// `c` as a literal in the `regex` crate's syntax, in or out of a class.
fn literal(out: &mut String, c: char) {
    if c.is_alphanumeric() || c == '_' || (!c.is_ascii() && !c.is_control()) {
        out.push(c);
    } else {
        let _ = write!(out, "\\x{{{:X}}}", u32::from(c));
    }
}

/// The Perl class `\x` (x one of `dDwWsS`) in ASCII, as Go has it: the
/// characters of the class and whether it is negated.
fn perl_class(x: char) -> Option<(&'static str, bool)> {
    let (set, negated) = match x {
        'd' => ("0-9", false),
        'D' => ("0-9", true),
        'w' => ("0-9A-Za-z_", false),
        'W' => ("0-9A-Za-z_", true),
        's' => (r"\t\n\x0C\r ", false),
        'S' => (r"\t\n\x0C\r ", true),
        _ => return None,
    };
    Some((set, negated))
}

/// A Go escape that stands for one character (after the `\`): octal,
/// hexadecimal, the C escapes and escaped punctuation. `rest` starts after
/// the escape's first character `c`; the characters used are consumed.
fn char_escape(
    c: char,
    rest: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    pattern: &str,
    start: usize,
) -> Result<Option<char>, GoRegexError> {
    let octal = |x: Option<&(usize, char)>| x.and_then(|(_, d)| d.to_digit(8));
    Ok(Some(match c {
        '1'..='7' if octal(rest.peek()).is_none() => {
            // A single non-zero digit is a backreference: Go has none.
            let end = rest.peek().map_or(pattern.len(), |(i, _)| *i);
            return Err(error(
                "invalid escape sequence",
                pattern.get(start..end).unwrap_or(pattern),
            ));
        }
        '0'..='7' => {
            let mut value = c.to_digit(8).unwrap_or(0);
            for _ in 0..2 {
                match octal(rest.peek()) {
                    Some(d) => {
                        value = value * 8 + d;
                        rest.next();
                    }
                    None => break,
                }
            }
            char::from_u32(value).unwrap_or('\0')
        }
        'x' => {
            let mut digits = String::new();
            if rest.peek().map(|(_, d)| *d) == Some('{') {
                rest.next();
                loop {
                    match rest.next() {
                        Some((_, '}')) => break,
                        Some((_, d)) if d.is_ascii_hexdigit() => digits.push(d),
                        _ => return Err(error("invalid escape sequence", &pattern[start..])),
                    }
                }
            } else {
                for _ in 0..2 {
                    match rest.next() {
                        Some((_, d)) if d.is_ascii_hexdigit() => digits.push(d),
                        _ => return Err(error("invalid escape sequence", &pattern[start..])),
                    }
                }
            }
            u32::from_str_radix(&digits, 16)
                .ok()
                .filter(|_| !digits.is_empty() && digits.len() <= 8)
                .and_then(char::from_u32)
                .ok_or_else(|| error("invalid escape sequence", &pattern[start..]))?
        }
        'a' => '\x07',
        'f' => '\x0C',
        't' => '\t',
        'n' => '\n',
        'r' => '\r',
        'v' => '\x0B',
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => c,
        _ => return Ok(None),
    }))
}

/// `\p{…}`, `\pL` (after the `p`/`P`), copied as written: both engines read
/// the same Unicode classes.
fn unicode_class(
    out: &mut String,
    p: char,
    rest: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    pattern: &str,
    start: usize,
) -> Result<(), GoRegexError> {
    out.push('\\');
    out.push(p);
    match rest.next() {
        Some((_, '{')) => {
            out.push('{');
            loop {
                match rest.next() {
                    Some((_, '}')) => break,
                    Some((_, c)) if c.is_alphanumeric() || c == '_' || c == '^' => out.push(c),
                    _ => return Err(error("invalid character class range", &pattern[start..])),
                }
            }
            out.push('}');
        }
        Some((_, c)) if c.is_ascii_alphabetic() => out.push(c),
        _ => return Err(error("invalid character class range", &pattern[start..])),
    }
    Ok(())
}

/// A `{n}`, `{n,}` or `{n,m}` repetition at the start of `s`, as Go reads
/// it: its length and counts, or `None` when `{` is a literal there.
fn repeat_at(s: &str) -> Option<(usize, u32, Option<u32>)> {
    let body = s.strip_prefix('{')?;
    let close = body.find('}')?;
    let inner = &body[..close];
    let number = |t: &str| -> Option<u32> {
        let leading_zero = t.len() > 1 && t.starts_with('0');
        if t.is_empty() || leading_zero || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Too long to be a count: Go reports it (checked by the caller).
        Some(t.parse().unwrap_or(u32::MAX))
    };
    let (min, max) = match inner.split_once(',') {
        None => {
            let n = number(inner)?;
            (n, Some(n))
        }
        Some((lo, "")) => (number(lo)?, None),
        Some((lo, hi)) => (number(lo)?, Some(number(hi)?)),
    };
    Some((close + 2, min, max))
}

/// Read Go syntax, write the `regex` crate's.
fn translate(pattern: &str) -> Result<String, GoRegexError> {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.char_indices().peekable();
    // The previous item was a repetition (Go refuses another one on it).
    let mut after_repeat: Option<usize> = None;
    while let Some((i, c)) = chars.next() {
        let rest = &pattern[i..];
        let repeat_len = match c {
            '*' | '+' | '?' => Some(1),
            '{' => repeat_at(rest).map(|(len, min, max)| {
                if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT || m < min) {
                    usize::MAX
                } else {
                    len
                }
            }),
            _ => None,
        };
        if let Some(len) = repeat_len {
            if len == usize::MAX {
                let end = repeat_at(rest).map_or(rest.len(), |(l, _, _)| l);
                return Err(error("invalid repeat count", &rest[..end]));
            }
            if let Some(start) = after_repeat {
                let end = (i + len).min(pattern.len());
                return Err(error(
                    "invalid nested repetition operator",
                    pattern.get(start..end).unwrap_or(pattern),
                ));
            }
            out.push_str(&rest[..len]);
            for _ in 1..rest[..len].chars().count() {
                chars.next();
            }
            if let Some((_, '?')) = chars.peek() {
                chars.next();
                out.push('?');
            }
            after_repeat = Some(i);
            continue;
        }
        after_repeat = None;
        match c {
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    return Err(error("trailing backslash at end of expression", ""));
                };
                match e {
                    'Q' => {
                        let tail = &pattern[i + 2..];
                        let (lit, used) = match tail.find("\\E") {
                            Some(k) => (&tail[..k], k + 2),
                            None => (tail, tail.len()),
                        };
                        lit.chars().for_each(|c| literal(&mut out, c));
                        for _ in 0..tail[..used].chars().count() {
                            chars.next();
                        }
                    }
                    'b' | 'B' => {
                        let _ = write!(out, "(?-u:\\{e})");
                    }
                    'A' | 'z' => {
                        out.push('\\');
                        out.push(e);
                    }
                    'p' | 'P' => unicode_class(&mut out, e, &mut chars, pattern, i)?,
                    e => match perl_class(e) {
                        Some((set, negated)) => {
                            let _ = write!(out, "[{}{set}]", if negated { "^" } else { "" });
                        }
                        None => match char_escape(e, &mut chars, pattern, i)? {
                            Some(ch) => literal(&mut out, ch),
                            None => {
                                let end = chars.peek().map_or(pattern.len(), |(k, _)| *k);
                                return Err(error("invalid escape sequence", &pattern[i..end]));
                            }
                        },
                    },
                }
            }
            '[' => class(&mut out, &mut chars, pattern, i)?,
            '(' if rest.starts_with("(?") => group(&mut out, &mut chars, pattern, i)?,
            '(' | ')' | '|' | '.' | '^' | '$' => out.push(c),
            c => literal(&mut out, c),
        }
    }
    Ok(out)
}

/// `(?flags)`, `(?flags:`, `(?P<name>` and `(?<name>` (the `(` is read;
/// the next character is `?`).
fn group(
    out: &mut String,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    pattern: &str,
    start: usize,
) -> Result<(), GoRegexError> {
    chars.next(); // '?'
    out.push_str("(?");
    let named = match chars.peek().map(|(_, c)| *c) {
        Some('P') => {
            chars.next();
            out.push('P');
            true
        }
        Some('<') => true,
        _ => false,
    };
    if named {
        for (_, c) in chars.by_ref() {
            out.push(c);
            if c == '>' {
                return Ok(());
            }
        }
        return Err(error("invalid named capture", &pattern[start..]));
    }
    for (i, c) in chars.by_ref() {
        match c {
            'i' | 'm' | 's' | 'U' | '-' => out.push(c),
            ':' | ')' => {
                out.push(c);
                return Ok(());
            }
            _ => {
                return Err(error(
                    "invalid or unsupported Perl syntax",
                    pattern.get(start..i + c.len_utf8()).unwrap_or(pattern),
                ))
            }
        }
    }
    Err(error("missing closing )", &pattern[start..]))
}

/// A character class (the `[` is read), written with every member escaped
/// so that nothing in it is read as a nested class or a set operation.
fn class(
    out: &mut String,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    pattern: &str,
    start: usize,
) -> Result<(), GoRegexError> {
    out.push('[');
    if let Some((_, '^')) = chars.peek() {
        chars.next();
        out.push('^');
    }
    let unclosed = || error("missing closing ]", &pattern[start..]);
    let mut first = true;
    loop {
        let Some((i, c)) = chars.next() else {
            return Err(unclosed());
        };
        if c == ']' && !first {
            out.push(']');
            return Ok(());
        }
        first = false;
        if c == '[' && pattern[i..].starts_with("[:") {
            // A POSIX class `[:alpha:]` (the same ASCII sets in both).
            if let Some(end) = pattern[i + 2..].find(":]") {
                let name = &pattern[i..i + 2 + end + 2];
                out.push_str(name);
                for _ in 1..name.chars().count() {
                    chars.next();
                }
                continue;
            }
        }
        let lo = if c == '\\' {
            let Some((_, e)) = chars.next() else {
                return Err(unclosed());
            };
            if e == 'p' || e == 'P' {
                unicode_class(out, e, chars, pattern, i)?;
                continue;
            }
            if let Some((set, negated)) = perl_class(e) {
                if negated {
                    let _ = write!(out, "[^{set}]");
                } else {
                    out.push_str(set);
                }
                continue;
            }
            match char_escape(e, chars, pattern, i)? {
                Some(ch) => ch,
                None => {
                    let end = chars.peek().map_or(pattern.len(), |(k, _)| *k);
                    return Err(error("invalid escape sequence", &pattern[i..end]));
                }
            }
        } else {
            c
        };
        literal(out, lo);
        // `a-z` is a range; `a-]` is `a` and `-`.
        let mut ahead = chars.clone();
        if let (Some((_, '-')), Some((j, hi))) = (ahead.next(), ahead.next()) {
            if hi != ']' {
                chars.next();
                chars.next();
                let hi = if hi == '\\' {
                    let Some((_, e)) = chars.next() else {
                        return Err(unclosed());
                    };
                    char_escape(e, chars, pattern, j)?
                        .ok_or_else(|| error("invalid character class range", &pattern[i..]))?
                } else {
                    hi
                };
                if hi < lo {
                    return Err(error("invalid character class range", &pattern[i..]));
                }
                out.push('-');
                literal(out, hi);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        go_regex(pattern).unwrap().is_match(text)
    }

    /// A lazy expression matches what the compiled one matches, with or
    /// without its literal-prefix shortcut, and is compiled only when a
    /// text gets past the shortcut.
    #[test]
    fn lazy_expressions_match_as_compiled_ones() {
        let patterns = [
            "^testdata/",
            "^testdata/dotenv/.*\\.env$",
            "^a|b",
            "(?i)^abc",
            "(?m)^abc",
            "^(abc)",
            "^abc$",
            "^\\.env",
            "^",
            "^ä/x",
            "^a+b",
            "^[ab]c",
            "x^abc",
            "\\.enc\\.yaml$",
            "",
        ];
        let texts = [
            "testdata/x.env",
            "testdata/dotenv/a.env",
            "bench-data/large.env",
            "abc",
            "ABC",
            "x\nabc",
            "b",
            "aab",
            ".env",
            "ä/x",
            "a/x",
            "bc",
            "xx^abc",
            "a.enc.yaml",
            "",
        ];
        for pattern in patterns {
            let eager = go_regex(pattern).unwrap();
            for text in texts {
                let lazy = go_regex_lazy(pattern).unwrap();
                assert_eq!(
                    lazy.try_match(text),
                    Ok(eager.is_match(text)),
                    "{pattern:?} on {text:?}"
                );
                let shortcut = lazy
                    .prefix
                    .as_ref()
                    .is_some_and(|p| !text.as_bytes().starts_with(p));
                assert_eq!(
                    lazy.regex.get().is_none(),
                    shortcut,
                    "{pattern:?} on {text:?}"
                );
            }
        }
        assert_eq!(
            go_regex_lazy("^testdata/").unwrap().prefix.as_deref(),
            Some(&b"testdata/"[..])
        );
        for no_prefix in ["^a|b", "(?i)^abc", "(?m)^abc", "^(abc)", "x^abc", "^"] {
            assert_eq!(
                go_regex_lazy(no_prefix).unwrap().prefix,
                None,
                "{no_prefix:?}"
            );
        }
    }

    /// A lazy expression's syntax is checked at once, with the errors and
    /// wording of a compiled one.
    #[test]
    fn lazy_expressions_are_checked_at_once() {
        for bad in ["(", "a{2,1}", "[z-a]", "a**", "\\8", "(?P<n>a)(?P<n>b)"] {
            let lazy = go_regex_lazy(bad).map(|_| ()).unwrap_err();
            let eager = go_regex(bad).map(|_| ()).unwrap_err();
            assert_eq!(lazy, eager, "{bad:?}");
        }
    }

    #[test]
    fn perl_classes_are_ascii_as_in_go() {
        assert!(!m(r"^\w+_id$", "clé_id"));
        assert!(m(r"^\w+_id$", "cle_id"));
        assert!(!m(r"^\d$", "٣"));
        assert!(m(r"^\D$", "٣"));
        assert!(!m(r"^\s$", "\u{a0}"));
        assert!(m(r"^\S$", "\u{a0}"));
        assert!(m(r"^\W$", "é"));
        // `\b` between `ä` and `s`: a boundary in Go (ä is not a word
        // character there), none with Unicode classes.
        assert!(m(r"\bsswort$", "pässwort"));
        assert!(!m(r"\Bsswort$", "pässwort"));
        assert!(m(r"^[\w-]+$", "a-b_c"));
        assert!(!m(r"^[\w-]+$", "a-é"));
        assert!(m(r"^[^\d]+$", "abc"));
        assert!(m(r"^[\D]+$", "٣x"));
        assert!(!m(r"^[\D]+$", "3"));
        // Unicode classes and `.` stay Unicode, as in Go.
        assert!(m(r"^\pL+$", "clé"));
        assert!(m(r"^\p{Greek}$", "λ"));
        assert!(m(r"^.$", "é"));
        assert!(m(r"^[[:alpha:]]+$", "abc"));
        assert!(!m(r"^[[:alpha:]]+$", "é"));
    }

    #[test]
    fn go_literals_stay_literals() {
        assert!(m(r"^a{,3}$", "a{,3}"));
        assert!(m(r"^a{x}$", "a{x}"));
        assert!(m(r"^a{01}$", "a{01}"));
        assert!(m(r"^a{2}$", "aa"));
        assert!(m(r"^a{1,2}b{2,}$", "abbb"));
        assert!(m(r"^\101$", "A"));
        assert!(m(r"^\0$", "\0"));
        assert!(m(r"^\<a\>$", "<a>"));
        assert!(m(r"^[a&&b]+$", "a&b"));
        assert!(m(r"^[-a~~]+$", "a-~"));
        assert!(m(r"^[[a]+$", "[a["));
        assert!(m(r"^[]a]+$", "]a"));
        assert!(m(r"^[a-]+$", "a-"));
        assert!(m(r"^[^]a]$", "b"));
        assert!(m(r"^a}$", "a}"));
        assert!(m(r"^x\.y \#$", "x.y #"));
        assert!(m(r"^\Qa.b\E\.c$", "a.b.c"));
        assert!(!m(r"^\Qa.b\E\.c$", "axb.c"));
        assert!(m(r"^\Qa(b$", "a(b$"));
        assert!(m(r"^\x41\x{42}\t$", "AB\t"));
    }

    #[test]
    fn groups_flags_and_repetitions_as_in_go() {
        assert!(m(r"(?i)^PASS(word)?$", "password"));
        assert!(m(r"^(?P<a>x)(?<b>y)(?:z)$", "xyz"));
        assert!(m(r"(?s)^a.b$", "a\nb"));
        assert!(m(r"^a*?b+?c??$", "abc"));
        assert!(m(r"^(a*)*$", "aaa"));
    }

    #[test]
    fn what_go_refuses_is_refused() {
        for bad in [
            r"a**", r"a+?*", r"a{2}{3}", r"a*??", r"a{1001}", r"a{3,2}", r"\1", r"\8", r"\e",
            r"\Z", r"\C", r"(?x)a", r"[a", r"[a--b]", r"a\", r"[z-a]", r"(a", r"\pé",
        ] {
            assert!(go_regex(bad).is_err(), "{bad} compiled");
        }
        let e = go_regex("a**").unwrap_err().to_string();
        assert_eq!(e, "invalid nested repetition operator: `**`");
    }

    #[test]
    fn never_panics_on_odd_input() {
        let bits = [
            "\\", "[", "]", "{", "}", "(", ")", "?", "*", "+", "-", "^", "$", "Q", "E", "p", "é",
            "1", ",", "x", ":", "<", "P", "d",
        ];
        for a in bits {
            for b in bits {
                for c in bits {
                    let _ = go_regex(&format!("{a}{b}{c}"));
                    let _ = go_regex(&format!("x{a}{b}{c}]"));
                }
            }
        }
    }
}
