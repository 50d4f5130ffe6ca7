//! SMTP replies: a code, an enhanced status code (RFC 3463) and text, written as
//! one line or, for EHLO, several.

/// One reply to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// `2.1.0` and the like; none on the greeting and EHLO.
    pub enhanced: Option<&'static str>,
    /// One entry per line.
    pub lines: Vec<String>,
}

impl Reply {
    pub fn new(code: u16, enhanced: &'static str, text: impl Into<String>) -> Self {
        Reply { code, enhanced: Some(enhanced), lines: vec![text.into()] }
    }

    /// The reply when a message could not be stored: the client keeps it and tries
    /// again later.
    pub fn store_failed() -> Self {
        Reply::new(451, "4.3.0", "Could not store the message; please try again later")
    }

    /// A reply without an enhanced status code.
    pub fn plain(code: u16, lines: Vec<String>) -> Self {
        Reply { code, enhanced: None, lines }
    }

    /// The reply as sent on the wire.
    pub fn to_wire(&self) -> String {
        let mut out = String::new();
        let last = self.lines.len().saturating_sub(1);
        for (n, line) in self.lines.iter().enumerate() {
            let separator = if n == last { ' ' } else { '-' };
            match self.enhanced {
                Some(enhanced) => out.push_str(&format!("{}{separator}{enhanced} {line}\r\n", self.code)),
                None => out.push_str(&format!("{}{separator}{line}\r\n", self.code)),
            }
        }
        out
    }

    /// Whether the reply accepts (2xx or 3xx).
    pub fn is_positive(&self) -> bool {
        self.code < 400
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multi_line_replies() {
        assert_eq!(Reply::new(250, "2.1.0", "OK").to_wire(), "250 2.1.0 OK\r\n");
        let ehlo = Reply::plain(250, vec!["mx.test".into(), "PIPELINING".into(), "SIZE 10".into()]);
        assert_eq!(ehlo.to_wire(), "250-mx.test\r\n250-PIPELINING\r\n250 SIZE 10\r\n");
    }
}
