//! SMTP reply codes (`550`) and RFC 3463 enhanced status codes (`5.1.1`) found
//! in free text: `Status` fields with trailing words, diagnostics, and the
//! prose of bounces that have no status part.
//!
//! A code counts only as a whole token, so neither the digits of an IP address
//! (`192.0.2.250`) nor a year (`2024`) nor a host name (`mx550`) are taken for one.

/// The first enhanced status code in `text`: class 2, 4 or 5, then a subject and
/// a detail of one to three digits each.
pub(super) fn enhanced_status(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find_map(|start| {
        if !matches!(bytes.get(start), Some(b'2' | b'4' | b'5')) || !is_token_start(bytes, start) {
            return None;
        }
        let subject_end = digits_end(bytes, start.checked_add(2)?, b'.', bytes.get(start + 1))?;
        let detail_end = digits_end(bytes, subject_end + 1, b'.', bytes.get(subject_end))?;
        if !is_token_end(bytes, detail_end) {
            return None;
        }
        text.get(start..detail_end).map(str::to_owned)
    })
}

/// The first three-digit SMTP reply code in `text` (`2yz`, `4yz`, `5yz`).
pub(super) fn smtp_code(text: &str) -> Option<u16> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find_map(|start| {
        let code = bytes.get(start..start.checked_add(3)?)?;
        let valid = matches!(code.first(), Some(b'2' | b'4' | b'5'))
            && matches!(code.get(1), Some(b'0'..=b'5'))
            && code.get(2).is_some_and(u8::is_ascii_digit);
        if !valid || !is_token_start(bytes, start) || !is_token_end(bytes, start + 3) {
            return None;
        }
        std::str::from_utf8(code).ok()?.parse().ok()
    })
}

/// Where a run of one to three digits starting at `from` ends, provided the
/// byte before it (`separator_seen`) is `separator`.
fn digits_end(bytes: &[u8], from: usize, separator: u8, separator_seen: Option<&u8>) -> Option<usize> {
    if separator_seen != Some(&separator) {
        return None;
    }
    let count = bytes.get(from..)?.iter().take(4).take_while(|byte| byte.is_ascii_digit()).count();
    (1..=3).contains(&count).then_some(from + count)
}

/// A token starts at the beginning or after anything but a letter, digit or dot.
fn is_token_start(bytes: &[u8], start: usize) -> bool {
    match start.checked_sub(1).and_then(|before| bytes.get(before)) {
        None => true,
        Some(byte) => !byte.is_ascii_alphanumeric() && *byte != b'.',
    }
}

/// A token ends at the end, or before anything but a letter, a digit, or a dot
/// that goes on with a digit (the rest of an address or version number).
fn is_token_end(bytes: &[u8], end: usize) -> bool {
    match bytes.get(end) {
        None => true,
        Some(b'.') => !bytes.get(end + 1).is_some_and(u8::is_ascii_digit),
        Some(byte) => !byte.is_ascii_alphanumeric(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enhanced_status_is_found_as_a_whole_token() {
        assert_eq!(enhanced_status("5.1.1").as_deref(), Some("5.1.1"));
        assert_eq!(enhanced_status("smtp; 550-5.1.10 RecipientNotFound").as_deref(), Some("5.1.10"));
        assert_eq!(enhanced_status("Status: 4.4.7 (delivery time expired)").as_deref(), Some("4.4.7"));
        assert_eq!(enhanced_status("sentence ends with 5.2.2.").as_deref(), Some("5.2.2"));
        assert_eq!(enhanced_status("host [192.0.2.5] and 10.5.1.1 and v2.1.1b"), None);
        assert_eq!(enhanced_status("5.1.1.1 is an address"), None);
        assert_eq!(enhanced_status("3.1.1 is no class"), None);
        assert_eq!(enhanced_status("5.1234.1"), None);
        assert_eq!(enhanced_status("5."), None);
    }

    #[test]
    fn smtp_code_is_found_as_a_whole_token() {
        assert_eq!(smtp_code("smtp; 550-5.1.1 gone"), Some(550));
        assert_eq!(smtp_code("Remote host said: 554 delivery error"), Some(554));
        assert_eq!(smtp_code("said: 452 4.2.2 over quota"), Some(452));
        assert_eq!(smtp_code("in 2024 at mx550 from 192.0.2.250"), None);
        assert_eq!(smtp_code("599 is no reply code, 250"), Some(250));
        assert_eq!(smtp_code("55"), None);
    }
}
