//! YAML timestamps as go-yaml v3 recognises them (it tries four Go
//! `time.Parse` layouts), rendered as Go's `time.MarshalText` does
//! (RFC 3339 with nanoseconds, trailing zeros trimmed, `Z` for UTC).

/// The RFC 3339 "nano" text of `s` if go-yaml reads it as a timestamp.
pub(crate) fn parse_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    // go-yaml's quick check: exactly four digits, then '-'.
    if b.len() < 5 || !b.iter().take(4).all(u8::is_ascii_digit) || b.get(4) != Some(&b'-') {
        return None;
    }
    let mut cur = Cursor { b, pos: 0 };
    let year = cur.fixed(4)?;
    cur.lit(b'-')?;
    let month = cur.num12()?;
    cur.lit(b'-')?;
    let day = cur.num12()?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if cur.done() {
        return Some(format!("{date}T00:00:00Z"));
    }
    // "T", "t", or (no zone) one or more spaces.
    let zoned = match cur.peek()? {
        b'T' | b't' => {
            cur.pos += 1;
            true
        }
        b' ' => {
            while cur.peek() == Some(b' ') {
                cur.pos += 1;
            }
            false
        }
        _ => return None,
    };
    let hour = cur.num12()?;
    cur.lit(b':')?;
    let min = cur.num12()?;
    cur.lit(b':')?;
    let sec = cur.num12()?;
    if hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let mut frac = String::new();
    if matches!(cur.peek(), Some(b'.' | b',')) && cur.at(1).is_some_and(|c| c.is_ascii_digit()) {
        cur.pos += 1;
        while let Some(c) = cur.peek().filter(u8::is_ascii_digit) {
            if frac.len() < 9 {
                frac.push(char::from(c));
            }
            cur.pos += 1;
        }
    }
    let frac = frac.trim_end_matches('0');
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    let zone = if zoned {
        match cur.peek()? {
            b'Z' => {
                cur.pos += 1;
                "Z".to_string()
            }
            sign @ (b'+' | b'-') => {
                cur.pos += 1;
                let hh = cur.fixed(2)?;
                cur.lit(b':')?;
                let mm = cur.fixed(2)?;
                if hh > 24 || mm > 60 {
                    return None;
                }
                let total = hh * 60 + mm;
                if total == 0 {
                    "Z".to_string()
                } else {
                    let sign = if sign == b'+' { '+' } else { '-' };
                    format!("{sign}{:02}:{:02}", total / 60, total % 60)
                }
            }
            _ => return None,
        }
    } else {
        "Z".to_string()
    };
    if !cur.done() {
        return None;
    }
    Some(format!("{date}T{hour:02}:{min:02}:{sec:02}{frac}{zone}"))
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }
    fn at(&self, off: usize) -> Option<u8> {
        self.b.get(self.pos + off).copied()
    }
    fn done(&self) -> bool {
        self.pos >= self.b.len()
    }
    fn lit(&mut self, c: u8) -> Option<()> {
        (self.peek() == Some(c)).then(|| self.pos += 1)
    }
    /// Exactly `n` digits.
    fn fixed(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let c = self.peek().filter(u8::is_ascii_digit)?;
            v = v * 10 + u32::from(c - b'0');
            self.pos += 1;
        }
        Some(v)
    }
    /// One or two digits (Go's non-fixed `getnum`).
    fn num12(&mut self) -> Option<u32> {
        let first = self.fixed(1)?;
        match self.peek().filter(u8::is_ascii_digit) {
            Some(c) => {
                self.pos += 1;
                Some(first * 10 + u32::from(c - b'0'))
            }
            None => Some(first),
        }
    }
}

pub(crate) fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp as p;

    #[test]
    fn go_yaml_layouts() {
        assert_eq!(p("2024-01-02").as_deref(), Some("2024-01-02T00:00:00Z"));
        assert_eq!(p("2024-1-2").as_deref(), Some("2024-01-02T00:00:00Z"));
        assert_eq!(
            p("2024-01-02T03:04:05Z").as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
        assert_eq!(
            p("2001-12-14t21:59:43.10-05:00").as_deref(),
            Some("2001-12-14T21:59:43.1-05:00")
        );
        assert_eq!(
            p("2001-12-14 21:59:43.10").as_deref(),
            Some("2001-12-14T21:59:43.1Z")
        );
        assert_eq!(
            p("2024-01-02T03:04:05.123456789+02:00").as_deref(),
            Some("2024-01-02T03:04:05.123456789+02:00")
        );
        assert_eq!(
            p("2024-01-02T03:04:05.1234567891+00:00").as_deref(),
            Some("2024-01-02T03:04:05.123456789Z")
        );
        assert_eq!(
            p("2024-01-02T03:04:05.000Z").as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
    }

    #[test]
    fn not_timestamps() {
        for s in [
            "2001-12-14 21:59:43.10 -5", // go-yaml cannot parse this one
            "2024-13-01",
            "2023-02-29",
            "2024-01-02T25:00:00Z",
            "2024-01-02T03:04:05",
            "2024-01-02T03:04:05+2:00",
            "24-01-02",
            "2024-01-02x",
            "20240-01-02",
            "2024-01-02 ",
            "2024-01-02T03:04:05.Z",
        ] {
            assert_eq!(p(s), None, "{s}");
        }
        assert_eq!(p("2024-02-29").as_deref(), Some("2024-02-29T00:00:00Z"));
    }
}
