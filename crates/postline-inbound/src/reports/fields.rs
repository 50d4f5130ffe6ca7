//! The field blocks inside report parts: the bodies of RFC 3464's
//! `message/delivery-status` and RFC 5965's `message/feedback-report`.
//!
//! Both are header-like `Name: value` lines in groups separated by blank lines.
//! MTAs write them with varying care, so this reader is lenient — CRLF or LF,
//! folded lines, names in any case, stray lines without a colon — and it keeps
//! the group each field came from, because a DSN gives the groups meaning.
//! The value helpers below take off what RFC 3464 wraps around a value: the
//! `rfc822;` / `dns;` type, `(comments)` and angle brackets.

use super::MAX_FIELD_LEN;

/// At most this many fields are read from one block: room for
/// [`super::MAX_RECIPIENTS`] recipients of a dozen fields each.
const MAX_FIELDS: usize = 16 * super::MAX_RECIPIENTS;

/// One `Name: value` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Field {
    /// Lower-cased.
    pub name: String,
    /// Unfolded and trimmed; types and comments still in place.
    pub value: String,
    /// Which blank-line separated group the field is in, counting from 0.
    pub group: usize,
}

/// Every field of a block, in order.
pub(super) fn read(text: &str) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::new();
    let mut group = 0;
    let mut group_has_fields = false;
    // A folded line continues the field just read, never one before a stray line.
    let mut may_continue = false;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            if group_has_fields {
                group += 1;
                group_has_fields = false;
            }
            may_continue = false;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(field) = fields.last_mut().filter(|_| may_continue) {
                if !field.value.is_empty() {
                    push_capped(&mut field.value, " ");
                }
                push_capped(&mut field.value, line.trim());
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':').filter(|(name, _)| is_field_name(name.trim())) else {
            may_continue = false;
            continue;
        };
        if fields.len() >= MAX_FIELDS {
            break;
        }
        let mut capped = String::new();
        push_capped(&mut capped, value.trim());
        fields.push(Field { name: name.trim().to_ascii_lowercase(), value: capped, group });
        group_has_fields = true;
        may_continue = true;
    }
    fields
}

/// RFC 5322 field names: printable ASCII without spaces or colons.
fn is_field_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 76 && name.bytes().all(|byte| byte.is_ascii_graphic() && byte != b':')
}

/// Appends as much of `addition` as fits under [`MAX_FIELD_LEN`], whole characters only.
pub(super) fn push_capped(value: &mut String, addition: &str) {
    push_within(value, addition, MAX_FIELD_LEN);
}

/// Appends as much of `addition` as keeps `value` within `limit` bytes, whole characters only.
pub(super) fn push_within(value: &mut String, addition: &str, limit: usize) {
    let room = limit.saturating_sub(value.len());
    let mut end = addition.len().min(room);
    while !addition.is_char_boundary(end) {
        end -= 1;
    }
    value.push_str(addition.get(..end).unwrap_or_default());
}

/// `text` cut to [`MAX_FIELD_LEN`].
pub(super) fn capped(text: &str) -> String {
    let mut value = String::new();
    push_capped(&mut value, text);
    value
}

/// Sets `slot` unless an earlier field already did: the first occurrence counts.
pub(super) fn keep_first(slot: &mut Option<String>, value: Option<String>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// A free-text value (a diagnostic, a user agent): trimmed, kept as written.
pub(super) fn text(value: &str) -> Option<String> {
    Some(value.trim()).filter(|value| !value.is_empty()).map(capped)
}

/// A structured value (an action, a status, a date): comments removed and
/// whitespace runs collapsed.
pub(super) fn structured(value: &str) -> Option<String> {
    let value = without_comments(value).split_whitespace().collect::<Vec<_>>().join(" ");
    Some(value).filter(|value| !value.is_empty())
}

/// A host name (`Reporting-MTA`, `Remote-MTA`): no `dns;` type, no root dot.
pub(super) fn host(value: &str) -> Option<String> {
    let value = structured(value)?;
    let host = without_type(&value).trim_end_matches('.');
    Some(host.to_owned()).filter(|host| !host.is_empty())
}

/// An address (`Final-Recipient`, `Original-Mail-From`): no `rfc822;` type, no
/// comments, no angle brackets.
pub(super) fn address(value: &str) -> Option<String> {
    let value = structured(value)?;
    let address = without_type(&value).trim();
    let address = address.strip_prefix('<').unwrap_or(address);
    let address = address.strip_suffix('>').unwrap_or(address).trim();
    Some(address.to_owned()).filter(|address| !address.is_empty())
}

/// The value after an RFC 3464 type (`rfc822; a@b` → `a@b`), or all of it when
/// what precedes the first `;` is not a type token.
pub(super) fn without_type(value: &str) -> &str {
    match value.split_once(';') {
        Some((kind, rest)) if is_type_token(kind.trim()) => rest.trim(),
        _ => value.trim(),
    }
}

fn is_type_token(kind: &str) -> bool {
    !kind.is_empty()
        && kind.len() <= 32
        && kind.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
}

/// `value` without RFC 5322 comments, which nest, may hold escaped
/// parentheses, and do not start inside a quoted string.
pub(super) fn without_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut in_quotes = false;
    let mut escaped = false;
    for ch in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(ch);
            }
            continue;
        }
        match ch {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(ch);
                }
            }
            '"' if depth == 0 => {
                in_quotes = !in_quotes;
                out.push(ch);
            }
            '(' if !in_quotes => depth += 1,
            ')' if !in_quotes && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(ch),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_split_by_blank_lines_and_folded_lines_are_joined() {
        let block = "Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; a@b\r\n\
                     Diagnostic-Code: smtp; 550 5.1.1\r\n  user unknown\r\n";
        let fields = read(block);
        let summary: Vec<_> = fields.iter().map(|f| (f.name.as_str(), f.value.as_str(), f.group)).collect();
        assert_eq!(
            summary,
            [
                ("reporting-mta", "dns; mx.example", 0),
                ("final-recipient", "rfc822; a@b", 1),
                ("diagnostic-code", "smtp; 550 5.1.1 user unknown", 1),
            ]
        );
    }

    #[test]
    fn stray_lines_are_skipped_and_do_not_take_continuations() {
        let fields = read("Action: failed\nnot a field\n  folded onto nothing\nStatus : 5.1.1\n");
        let summary: Vec<_> = fields.iter().map(|f| (f.name.as_str(), f.value.as_str())).collect();
        assert_eq!(summary, [("action", "failed"), ("status", "5.1.1")]);
    }

    #[test]
    fn values_lose_types_comments_and_brackets() {
        assert_eq!(address("RFC822; <Jane@Example.com> (the boss)").as_deref(), Some("Jane@Example.com"));
        assert_eq!(host("dns; mx.example.com. (192.0.2.1, the server)").as_deref(), Some("mx.example.com"));
        assert_eq!(structured("delivered (to (nested) mailbox)").as_deref(), Some("delivered"));
        assert_eq!(structured("\"a (not a comment)\" b").as_deref(), Some("\"a (not a comment)\" b"));
        assert_eq!(without_type("no type here; really"), "no type here; really");
        assert_eq!(address("   (only a comment)"), None);
    }

    #[test]
    fn long_values_are_cut_on_a_character_boundary() {
        let value = "é".repeat(MAX_FIELD_LEN);
        let fields = read(&format!("Diagnostic-Code: {value}\n {value}\n"));
        let cut = &fields[0].value;
        assert!(cut.len() <= MAX_FIELD_LEN && cut.len() >= MAX_FIELD_LEN - 1);
        assert!(cut.chars().all(|ch| ch == 'é'));
    }
}
