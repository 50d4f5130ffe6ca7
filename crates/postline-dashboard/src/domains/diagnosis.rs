//! Why a record failed its check, for people: a sentence for every diagnostic code
//! `core::domains::checks` gives, and what DNS holds now with the offending part
//! marked — the appended domain, the stray quotes, the other region in a host — so
//! the mistake is seen at a glance instead of compared character by character.
//! Core's own message (which says how to fix it) is shown beside the sentence.

use maud::{Markup, html};
use postline_core::domains::records::{ExpectedRecord, RecordKind};

/// What a diagnostic code means, in one sentence.
pub fn headline(code: &str) -> &'static str {
    match code {
        "missing" => "The record is not published yet.",
        "mismatch" => "The record's value is not the one to publish.",
        "appended-domain" => "Your DNS provider added your domain to the end of the value.",
        "region-mismatch" => "The MX record points to another region than this domain's.",
        "multiple-regions" => "MX records on this name point to several regions.",
        "extra-quotes" => "The value contains quote characters that are not part of it.",
        "whitespace" => "The DKIM key contains spaces or line breaks.",
        "truncated" => "The DKIM key is cut short.",
        "spf-in-dkim" => "The DKIM record holds SPF text instead of the key.",
        "multiple-spf" => "There is more than one SPF record on this name.",
        "too-many-lookups" => "The SPF record needs more than 10 DNS lookups.",
        "lookup-failed" => "The DNS lookup failed, so nothing could be concluded yet.",
        // A code added to core later still gets a sentence; the test below lists the known ones.
        _ => "The record did not pass its check.",
    }
}

/// A found value cut into runs, each marked or not, and what is missing from it.
#[derive(Debug, PartialEq, Eq)]
pub struct Shown {
    pub pieces: Vec<(String, bool)>,
    pub missing: Option<String>,
}

/// Where a DKIM record's key starts (just after its `p=` tag), as a char index.
fn key_start(chars: &[char]) -> Option<usize> {
    (1..chars.len())
        .find(|&i| {
            chars[i - 1].eq_ignore_ascii_case(&'p') && chars[i] == '=' && (i < 2 || !chars[i - 2].is_alphanumeric())
        })
        .map(|i| i + 1)
}

/// A key as the check compares it: without spaces and quotes.
fn compact_key(chars: &[char]) -> String {
    key_start(chars)
        .map(|at| chars[at..].iter().filter(|c| !c.is_whitespace() && **c != '"' && **c != '\'').collect())
        .unwrap_or_default()
}

/// The char index of `needle` in `chars`, ignoring ASCII case.
fn find(chars: &[char], needle: &str) -> Option<usize> {
    let needle: Vec<char> = needle.chars().collect();
    (0..=chars.len().checked_sub(needle.len())?)
        .find(|&i| chars[i..i + needle.len()].iter().zip(&needle).all(|(a, b)| a.eq_ignore_ascii_case(b)))
}

/// Where a DNS label or a record's term ends: marks widen to these, so a wrong
/// region reads `eu-west-1`, not the few letters that differ from `us-east-1`.
fn separator(c: char) -> bool {
    matches!(c, '.' | ' ' | ';' | ':' | '=')
}

/// Marks where `found` departs from `wanted`: what lies between their common start
/// and common end, widened to whole labels, or all of it when `found` is merely shorter.
fn mark_difference(found: &[char], wanted: &str, marks: &mut [bool]) {
    let wanted: Vec<char> = wanted.chars().collect();
    let same = |(a, b): &(&char, &char)| a.eq_ignore_ascii_case(b);
    if found.len() == wanted.len() && found.iter().zip(&wanted).all(|pair| same(&pair)) {
        return;
    }
    let prefix = found.iter().zip(&wanted).take_while(same).count();
    let room = found.len().min(wanted.len()) - prefix;
    let suffix = found.iter().rev().zip(wanted.iter().rev()).take(room).take_while(same).count();
    let from = found[..prefix].iter().rposition(|c| separator(*c)).map_or(0, |i| i + 1);
    let to = found[found.len() - suffix..]
        .iter()
        .position(|c| separator(*c))
        .map_or(found.len(), |i| i + found.len() - suffix);
    if prefix < found.len() - suffix { marks[from..to].fill(true) } else { marks.fill(true) }
}

/// What DNS holds in one value of a failed record, with the mistake marked. `codes`
/// are the record's diagnostics; each applies only to the values it can concern
/// (a record may hold a right value beside a wrong one).
pub fn show(found: &str, expected: &ExpectedRecord, codes: &[&str], domain: &str) -> Shown {
    let chars: Vec<char> = found.chars().collect();
    let mut marks = vec![false; chars.len()];
    let mut missing = None;
    // An MX answer reads `priority host`; only the host is compared.
    let host_at = match expected.record_type {
        "MX" => chars.iter().position(|c| *c == ' ').map_or(0, |i| i + 1),
        _ => 0,
    };
    let spf = expected.kind == RecordKind::SpfTxt;
    let is_spf = find(&chars, "v=spf1").is_some_and(|at| chars[..at].iter().all(|c| c.is_whitespace()));
    // The part of the expected value a mistake is measured against: the SPF include, or the whole value.
    let target = match spf {
        true => expected.value.split_whitespace().find(|t| t.starts_with("include:")).unwrap_or(&expected.value),
        false => expected.value.as_str(),
    };
    let wanted_key = compact_key(&expected.value.chars().collect::<Vec<_>>());
    let key = compact_key(&chars);
    let dkim = expected.record_type == "TXT" && !spf && !is_spf;
    // A key that is the start of the right one was cut short, not replaced.
    let cut = key != wanted_key && !key.is_empty() && wanted_key.starts_with(&key);
    for code in codes {
        match *code {
            "appended-domain" => {
                if let Some(at) = find(&chars, &format!("{target}.{domain}")) {
                    let from = at + target.chars().count();
                    marks[from..from + domain.chars().count() + 1].fill(true);
                }
            }
            "extra-quotes" if dkim && key == wanted_key => {
                chars.iter().zip(marks.iter_mut()).filter(|(c, _)| matches!(c, '"' | '\'')).for_each(|(_, m)| *m = true)
            }
            "whitespace" if dkim && key == wanted_key => {
                let from = key_start(&chars).unwrap_or(0);
                let to = chars.iter().rposition(|c| !c.is_whitespace()).unwrap_or(0);
                (from..to).filter(|&i| chars[i].is_whitespace()).for_each(|i| marks[i] = true);
            }
            "truncated" if dkim && cut => {
                missing = Some(format!("{} characters missing", wanted_key.len() - key.len()));
            }
            "spf-in-dkim" if !spf => {
                if let Some(at) = find(&chars, "v=spf1") {
                    marks[at..].fill(true);
                }
            }
            "mismatch" if spf && is_spf => missing = Some(format!("{target} is missing")),
            "mismatch" if dkim && key != wanted_key && !cut => mark_difference(&chars, &expected.value, &mut marks),
            "mismatch" | "region-mismatch" | "multiple-regions" if !spf && !dkim && !is_spf => {
                mark_difference(&chars[host_at..], &expected.value, &mut marks[host_at..])
            }
            "multiple-spf" if is_spf && found.trim() != expected.value => marks.fill(true),
            "too-many-lookups" if is_spf => {
                // The includes are what multiply lookups; Postline's own is needed.
                let mut at = 0;
                for term in found.split(' ') {
                    let len = term.chars().count();
                    let lower = term.to_ascii_lowercase();
                    if (lower.starts_with("include:") || lower.starts_with("redirect=")) && lower != target {
                        marks[at..at + len].fill(true);
                    }
                    at += len + 1;
                }
            }
            _ => {}
        }
    }
    let mut pieces: Vec<(String, bool)> = Vec::new();
    for (c, marked) in chars.into_iter().zip(marks) {
        match pieces.last_mut() {
            Some((text, m)) if *m == marked => text.push(c),
            _ => pieces.push((c.to_string(), marked)),
        }
    }
    Shown { pieces, missing }
}

/// A found value as markup: `<code>` with `<mark>`ed mistakes, then what is missing.
pub fn render(shown: &Shown) -> Markup {
    html! {
        code {
            @for (text, marked) in &shown.pieces {
                @if *marked { mark { (text) } } @else { (text) }
            }
        }
        @if let Some(missing) = &shown.missing { " " mark.missing { "← " (missing) } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code `checks.rs` documents on `Diagnostic::code`.
    const CODES: &[&str] = &[
        "missing",
        "mismatch",
        "appended-domain",
        "region-mismatch",
        "multiple-regions",
        "extra-quotes",
        "whitespace",
        "truncated",
        "spf-in-dkim",
        "multiple-spf",
        "too-many-lookups",
        "lookup-failed",
    ];

    fn record(kind: RecordKind, record_type: &'static str, value: &str) -> ExpectedRecord {
        ExpectedRecord {
            kind,
            name: "send".into(),
            fqdn: "send.acme.dev".into(),
            record_type,
            value: value.into(),
            priority: None,
        }
    }

    fn marked(shown: &Shown) -> Vec<&str> {
        shown.pieces.iter().filter(|(_, m)| *m).map(|(t, _)| t.as_str()).collect()
    }

    const SPF: &str = "v=spf1 include:spf.postline.test ~all";
    const DKIM: &str = "v=DKIM1; k=rsa; p=MIIBkey";

    #[test]
    fn every_diagnostic_code_has_its_own_sentence() {
        let fallback = headline("something-new");
        let mut sentences: Vec<&str> = CODES.iter().map(|c| headline(c)).collect();
        assert!(sentences.iter().all(|s| *s != fallback));
        sentences.sort();
        sentences.dedup();
        assert_eq!(sentences.len(), CODES.len(), "no two codes read the same");
    }

    #[test]
    fn an_appended_domain_is_marked_in_hosts_and_spf_includes() {
        let mx = record(RecordKind::SpfMx, "MX", "feedback-smtp.us-east-1.postline.test");
        let shown = show("10 feedback-smtp.us-east-1.postline.test.acme.dev", &mx, &["appended-domain"], "acme.dev");
        assert_eq!(marked(&shown), [".acme.dev"]);
        let txt = record(RecordKind::SpfTxt, "TXT", SPF);
        let shown = show("v=spf1 include:spf.postline.test.acme.dev ~all", &txt, &["appended-domain"], "acme.dev");
        assert_eq!(marked(&shown), [".acme.dev"]);
        assert_eq!(shown.pieces.last().unwrap().0, " ~all");
    }

    #[test]
    fn another_region_marks_only_the_region_and_a_right_value_nothing() {
        let mx = record(RecordKind::SpfMx, "MX", "feedback-smtp.us-east-1.postline.test");
        let wrong = show("10 feedback-smtp.eu-west-1.postline.test", &mx, &["multiple-regions"], "acme.dev");
        assert_eq!(marked(&wrong), ["eu-west-1"]);
        let right = show("10 feedback-smtp.us-east-1.postline.test", &mx, &["multiple-regions"], "acme.dev");
        assert!(marked(&right).is_empty());
        let other = show("20 mx.elsewhere.example", &mx, &["mismatch"], "acme.dev");
        assert_eq!(marked(&other), ["mx.elsewhere.example"], "the priority is not the mistake");
    }

    #[test]
    fn dkim_mistakes_mark_quotes_spaces_spf_text_and_count_what_is_cut() {
        let dkim = record(RecordKind::Dkim, "TXT", DKIM);
        assert_eq!(marked(&show("v=DKIM1; k=rsa; p=\"MIIBkey\"", &dkim, &["extra-quotes"], "acme.dev")), ["\"", "\""]);
        assert_eq!(marked(&show("v=DKIM1; k=rsa; p=MII Bkey", &dkim, &["whitespace"], "acme.dev")), [" "]);
        let cut = show("v=DKIM1; k=rsa; p=MII", &dkim, &["truncated"], "acme.dev");
        assert_eq!((marked(&cut).len(), cut.missing.as_deref()), (0, Some("4 characters missing")));
        let spf = show(SPF, &dkim, &["spf-in-dkim"], "acme.dev");
        assert_eq!(marked(&spf), [SPF]);
        let other = show("v=DKIM1; k=rsa; p=MIIBother", &dkim, &["mismatch", "extra-quotes"], "acme.dev");
        assert_eq!(marked(&other), ["MIIBother"], "quotes do not concern a different key");
    }

    #[test]
    fn spf_mistakes_say_what_is_missing_and_mark_extra_records_and_includes() {
        let txt = record(RecordKind::SpfTxt, "TXT", SPF);
        let without = show("v=spf1 include:_spf.mail.example ~all", &txt, &["mismatch"], "acme.dev");
        assert!(marked(&without).is_empty(), "the other include is not wrong");
        assert_eq!(without.missing.as_deref(), Some("include:spf.postline.test is missing"));
        let token = show("site-verification=abc", &txt, &["mismatch", "multiple-spf"], "acme.dev");
        assert_eq!((marked(&token).len(), token.missing), (0, None), "other TXT records are left alone");
        assert_eq!(marked(&show("v=spf1 -all", &txt, &["multiple-spf"], "acme.dev")), ["v=spf1 -all"]);
        assert!(marked(&show(SPF, &txt, &["multiple-spf"], "acme.dev")).is_empty());
        let many = show("v=spf1 include:a.example include:spf.postline.test ~all", &txt, &["too-many-lookups"], "x");
        assert_eq!(marked(&many), ["include:a.example"]);
    }

    #[test]
    fn marks_are_rendered_escaped() {
        let dkim = record(RecordKind::Dkim, "TXT", DKIM);
        let html = render(&show("v=DKIM1; k=rsa; p=\"MIIBkey\"", &dkim, &["extra-quotes"], "acme.dev")).into_string();
        assert_eq!(html, "<code>v=DKIM1; k=rsa; p=<mark>&quot;</mark>MIIBkey<mark>&quot;</mark></code>");
    }
}
