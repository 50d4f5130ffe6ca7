//! Who a bounce written as prose is about, and what the remote server said.
//!
//! MTAs that send no status part still put each failed address on a line of its
//! own — `<a@b>:` (qmail, Yahoo, Postfix), an indented `a@b` (Exim, old Gmail),
//! `a@b (a@b)` (Exchange) — and the server's reply near it. So a recipient line
//! is a line that is nothing but an address, or starts with `<address>:`; its
//! block runs to the next recipient line, and its diagnostic is the first line
//! in the block carrying a 4xx/5xx code, with the deeper-indented lines that
//! continue it. An address on several recipient lines (Exchange names it twice)
//! keeps the block that had a code.

use super::{MAX_RECIPIENTS, codes, fields};

/// What the prose says about one recipient, or about the whole message when
/// no recipient line was found (`address: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Finding {
    pub address: Option<String>,
    pub status: Option<String>,
    pub smtp_code: Option<u16>,
    pub diagnostic: Option<String>,
}

impl Finding {
    fn has_code(&self) -> bool {
        self.status.is_some() || self.smtp_code.is_some()
    }
}

/// Every recipient named in `section`, except the `excluded` addresses (the
/// bounce's own sender and recipient).
pub(super) fn recipients(section: &str, excluded: &[String]) -> Vec<Finding> {
    let lines: Vec<&str> = section.lines().collect();
    let starts: Vec<(usize, String)> = lines
        .iter()
        .enumerate()
        .filter(|(index, _)| !continues_previous(&lines, *index))
        .filter_map(|(index, line)| recipient_on(line).map(|address| (index, address)))
        .filter(|(_, address)| !excluded.iter().any(|excluded| excluded.eq_ignore_ascii_case(address)))
        .collect();
    let mut findings: Vec<Finding> = Vec::new();
    for (position, (start, address)) in starts.iter().enumerate() {
        let end = starts.get(position + 1).map_or(lines.len(), |(next, _)| *next);
        let block = lines.get(*start..end).unwrap_or_default();
        let mut finding = describe(block, Some(address.clone()));
        match findings.iter().position(|known| known.address.as_deref() == Some(address.as_str())) {
            Some(index) => {
                if let Some(known) = findings.get_mut(index) {
                    if !known.has_code() && finding.has_code() {
                        *known = finding;
                    } else if known.diagnostic.is_none() {
                        known.diagnostic = finding.diagnostic.take();
                    }
                }
            }
            None if findings.len() < MAX_RECIPIENTS => findings.push(finding),
            None => break,
        }
    }
    findings
}

/// The first failure code in `section`, for a bounce that names no recipient.
pub(super) fn first_failure(section: &str) -> Option<Finding> {
    let lines: Vec<&str> = section.lines().collect();
    let finding = describe(&lines, None);
    finding.has_code().then_some(finding)
}

/// Whether line `index` is the deeper-indented continuation of a wrapped line
/// (Postfix folds `said: 550 5.1.1` onto `    <a@b>: Recipient address
/// rejected`), not a line of its own; a line ending in `:` introduces a list.
fn continues_previous(lines: &[&str], index: usize) -> bool {
    let Some(previous) = index.checked_sub(1).and_then(|before| lines.get(before)) else { return false };
    let line = lines.get(index).copied().unwrap_or_default();
    !previous.trim().is_empty() && !previous.trim_end().ends_with(':') && indentation(line) > indentation(previous)
}

/// The address a recipient line names, if `line` is one.
fn recipient_on(line: &str) -> Option<String> {
    let line = line.trim();
    if let Some(bracketed) = line.strip_prefix('<') {
        let (address, rest) = bracketed.split_once('>')?;
        let rest = rest.trim_start();
        return (rest.is_empty() || rest.starts_with(':'))
            .then(|| address.trim())
            .filter(|a| is_address(a))
            .map(str::to_owned);
    }
    let (address, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let address = address.strip_suffix(':').unwrap_or(address);
    let rest = rest.trim();
    let comment_only = rest.is_empty() || (rest.starts_with('(') && rest.ends_with(')'));
    (comment_only && is_address(address)).then(|| address.to_owned())
}

/// A plausible mailbox: one `@`, a dotted domain, nothing that cannot appear
/// unquoted in an address.
fn is_address(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && text.len() <= 254
        && !domain.contains('@')
        && text.chars().all(|ch| ch == '@' || !(ch.is_whitespace() || "<>()[],;:\"".contains(ch)))
}

/// The status, code and diagnostic a block of lines gives.
fn describe(block: &[&str], address: Option<String>) -> Finding {
    let code_line = block.iter().position(|line| failure_code(line).is_some());
    let diagnostic = match code_line {
        Some(index) => Some(continued(block, index)),
        None => Some(paragraph_after_address(block)),
    };
    let diagnostic = diagnostic.map(|text| fields::capped(&text)).filter(|text| !text.is_empty());
    let (status, smtp_code) = code_line.and_then(|index| block.get(index)).and_then(|line| failure_code(line)).unzip();
    Finding { address, status: status.flatten(), smtp_code: smtp_code.flatten(), diagnostic }
}

/// The enhanced status and reply code on a line, when either says 4xx or 5xx.
fn failure_code(line: &str) -> Option<(Option<String>, Option<u16>)> {
    let status = codes::enhanced_status(line).filter(|status| !status.starts_with('2'));
    let smtp_code = codes::smtp_code(line).filter(|code| *code >= 400);
    (status.is_some() || smtp_code.is_some()).then_some((status, smtp_code))
}

/// Line `index` of `block` and the deeper-indented lines that continue it, on
/// one line; a leading `<address>:` is taken off.
fn continued(block: &[&str], index: usize) -> String {
    let first = block.get(index).copied().unwrap_or_default();
    let depth = indentation(first);
    let continuation = block
        .iter()
        .skip(index + 1)
        .take_while(|line| !line.trim().is_empty() && indentation(line) > depth)
        .map(|line| line.trim());
    let first = first.trim();
    let first = match first.strip_prefix('<').and_then(|rest| rest.split_once(">:")) {
        Some((_, said)) => said.trim(),
        None => first,
    };
    std::iter::once(first).chain(continuation).collect::<Vec<_>>().join(" ")
}

/// What follows the address on its line (and the lines continuing it), else
/// the next paragraph of the block.
fn paragraph_after_address(block: &[&str]) -> String {
    let first = block.first().map_or("", |line| line.trim());
    let on_line = continued(block, 0);
    let rest = on_line.strip_prefix(first).unwrap_or(&on_line).trim();
    if !rest.is_empty() {
        return rest.to_owned();
    }
    let paragraph =
        block.iter().skip(1).skip_while(|line| line.trim().is_empty()).take_while(|line| !line.trim().is_empty());
    paragraph.map(|line| line.trim()).collect::<Vec<_>>().join(" ")
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipient_lines_take_the_forms_mtas_write() {
        assert_eq!(recipient_on("<a@example.com>:").as_deref(), Some("a@example.com"));
        assert_eq!(recipient_on("<a@example.com>: host mx said: 550").as_deref(), Some("a@example.com"));
        assert_eq!(recipient_on("    a@example.com").as_deref(), Some("a@example.com"));
        assert_eq!(recipient_on("a@example.com (a@example.com)").as_deref(), Some("a@example.com"));
        assert_eq!(recipient_on("To: a@example.com"), None);
        assert_eq!(recipient_on("write to a@example.com for help"), None);
        assert_eq!(recipient_on("<a@example.com> said hello"), None);
        assert_eq!(recipient_on("<0190@send>"), None);
    }

    #[test]
    fn a_folded_postfix_line_is_one_diagnostic() {
        let section = "<a@x.example>: host mx[192.0.2.1] said: 550 5.1.1\n    <a@x.example>: User unknown\n";
        let found = recipients(section, &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].status.as_deref(), Some("5.1.1"));
        assert_eq!(found[0].smtp_code, Some(550));
        assert_eq!(
            found[0].diagnostic.as_deref(),
            Some("host mx[192.0.2.1] said: 550 5.1.1 <a@x.example>: User unknown")
        );
    }

    #[test]
    fn an_address_named_twice_keeps_the_block_with_a_code() {
        let section = "a@x.example (a@x.example)\nNot found.\n\nGenerating server: s\n\na@x.example\n\
                       Remote Server returned '550 5.1.10 RecipientNotFound'\n";
        let found = recipients(section, &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].status.as_deref(), Some("5.1.10"));
        assert_eq!(found[0].diagnostic.as_deref(), Some("Remote Server returned '550 5.1.10 RecipientNotFound'"));
    }

    #[test]
    fn excluded_addresses_are_not_recipients() {
        let found = recipients("<me@x.example>:\n<you@y.example>:\nmailbox full\n", &["ME@x.example".to_owned()]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].address.as_deref(), Some("you@y.example"));
        assert_eq!(found[0].diagnostic.as_deref(), Some("mailbox full"));
    }
}
