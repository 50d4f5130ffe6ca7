//! Checking published DNS records against what a domain must publish, with a
//! diagnostic for every mistake the knowledge base lists: a missing record, a
//! wrong value, a DNS provider that appended the domain to a value, DKIM values
//! with quotes or spaces, truncated or holding SPF, MX records in another region
//! or several regions, several SPF records on one name, SPF needing more than ten
//! DNS lookups. DMARC and BIMI are reported as advisories. Pure functions: the
//! DNS answers are gathered elsewhere ([`super::manage`]).

use serde::{Deserialize, Serialize};

use super::records::{ExpectedRecord, RecordKind, RegionHosts};

/// A DNS answer as the checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<T> {
    Records(Vec<T>),
    /// The name does not exist.
    NxDomain,
    /// The lookup failed (timeout, SERVFAIL): nothing can be concluded.
    Failed(String),
}

impl<T> Answer<T> {
    fn records(&self) -> &[T] {
        match self {
            Answer::Records(r) => r,
            _ => &[],
        }
    }
}

/// What the DNS says for one expected record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    Mx(Answer<(u16, String)>),
    Txt(Answer<String>),
    Cname(Answer<String>),
}

/// One thing wrong (or worth knowing) about a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// A stable code: `missing`, `mismatch`, `appended-domain`, `region-mismatch`,
    /// `multiple-regions`, `extra-quotes`, `whitespace`, `truncated`, `spf-in-dkim`,
    /// `multiple-spf`, `too-many-lookups`, `lookup-failed`.
    pub code: String,
    /// What is wrong and how to fix it, for people.
    pub message: String,
}

fn diagnostic(code: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic { code: code.to_string(), message: message.into() }
}

/// The result of checking one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordCheck {
    pub kind: RecordKind,
    /// The record's fully qualified name (several records can share a kind).
    #[serde(default)]
    pub fqdn: String,
    pub ok: bool,
    /// What the DNS holds at the record's name (for the user to compare).
    pub found: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

fn host(raw: &str) -> String {
    raw.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Everything the checks need besides the answers.
pub struct Context<'a> {
    pub domain: &'a str,
    pub region: &'a RegionHosts,
    pub regions: &'a [RegionHosts],
    /// The domain's authoritative nameservers, to say where to edit.
    pub nameservers: &'a [String],
    /// DNS lookups the published SPF record needs (RFC 7208 §4.6.4 limit: 10).
    pub spf_lookups: Option<usize>,
}

impl Context<'_> {
    fn where_to_edit(&self) -> String {
        if self.nameservers.is_empty() {
            "at your DNS provider".into()
        } else {
            format!("at the DNS provider that serves {} (nameservers: {})", self.domain, self.nameservers.join(", "))
        }
    }
}

impl Observed {
    /// Why the lookup failed, if it did.
    fn failure(&self) -> Option<&str> {
        match self {
            Observed::Mx(Answer::Failed(reason))
            | Observed::Txt(Answer::Failed(reason))
            | Observed::Cname(Answer::Failed(reason)) => Some(reason),
            _ => None,
        }
    }
}

/// Checks one expected record against what the DNS holds. A failed lookup proves
/// nothing either way, whatever the record.
pub fn check(expected: &ExpectedRecord, observed: &Observed, context: &Context<'_>) -> RecordCheck {
    let (found, diagnostics) = match observed {
        _ if let Some(reason) = observed.failure() => (Vec::new(), vec![lookup_failed(expected, reason)]),
        Observed::Mx(answer) => check_mx(expected, answer, context),
        Observed::Txt(answer) if expected.kind == RecordKind::SpfTxt => check_spf(expected, answer, context),
        Observed::Txt(answer) => check_dkim(expected, answer, context),
        Observed::Cname(answer) => check_cname(expected, answer, context),
    };
    RecordCheck { kind: expected.kind, fqdn: expected.fqdn.clone(), ok: diagnostics.is_empty(), found, diagnostics }
}

fn missing(expected: &ExpectedRecord, context: &Context<'_>) -> Diagnostic {
    let priority = expected.priority.map(|p| format!(" with priority {p}")).unwrap_or_default();
    diagnostic(
        "missing",
        format!(
            "No {} record found at {}. Add a {} record named `{}` with the value `{}`{priority} {}.",
            expected.record_type,
            expected.fqdn,
            expected.record_type,
            expected.name,
            expected.value,
            context.where_to_edit()
        ),
    )
}

fn lookup_failed(expected: &ExpectedRecord, reason: &str) -> Diagnostic {
    diagnostic(
        "lookup-failed",
        format!("Could not look up {} right now ({reason}); it will be checked again.", expected.fqdn),
    )
}

fn appended(value: &str, expected: &str, domain: &str) -> bool {
    value == format!("{expected}.{domain}")
}

fn appended_message(expected: &ExpectedRecord, found: &str) -> Diagnostic {
    diagnostic(
        "appended-domain",
        format!(
            "Your DNS provider appended your domain to the value: it reads `{found}` instead of `{}`. \
             Enter the value with a trailing dot (`{}.`) so the provider keeps it as a full name.",
            expected.value, expected.value
        ),
    )
}

fn check_mx(
    expected: &ExpectedRecord,
    answer: &Answer<(u16, String)>,
    context: &Context<'_>,
) -> (Vec<String>, Vec<Diagnostic>) {
    let hosts: Vec<String> = answer.records().iter().map(|(_, h)| host(h)).collect();
    let found: Vec<String> = answer.records().iter().map(|(p, h)| format!("{p} {}", host(h))).collect();
    if hosts.is_empty() {
        return (found, vec![missing(expected, context)]);
    }
    let wanted = host(&expected.value);
    let mut problems = Vec::new();
    if expected.kind == RecordKind::SpfMx {
        let host_region =
            |h: &str| context.regions.iter().find(|r| host(&r.feedback_host) == h).map(|r| r.name.clone());
        let mut regions: Vec<String> = hosts.iter().filter_map(|h| host_region(h)).collect();
        regions.sort();
        regions.dedup();
        if regions.len() > 1 {
            problems.push(diagnostic(
                "multiple-regions",
                format!(
                    "MX records at {} point to several regions ({}). All must point to this domain's region ({}); \
                     remove the others and keep `{}`.",
                    expected.fqdn,
                    regions.join(", "),
                    context.region.name,
                    expected.value
                ),
            ));
        } else if let Some(other) = regions.first().filter(|r| **r != context.region.name) {
            problems.push(diagnostic(
                "region-mismatch",
                format!(
                    "The MX record at {} points to the {other} region, but this domain is set up in {}. \
                     Change it to `{}`.",
                    expected.fqdn, context.region.name, expected.value
                ),
            ));
        }
    }
    if !problems.is_empty() {
        return (found, problems);
    }
    if hosts.contains(&wanted) {
        return (found, Vec::new());
    }
    if let Some(bad) = hosts.iter().find(|h| appended(h, &wanted, context.domain)) {
        return (found, vec![appended_message(expected, bad)]);
    }
    let message = format!(
        "The MX record at {} is `{}`; it must be `{}` (priority {}).",
        expected.fqdn,
        hosts.join("`, `"),
        expected.value,
        expected.priority.unwrap_or(10)
    );
    (found, vec![diagnostic("mismatch", message)])
}

fn spf_records(answer: &Answer<String>) -> Vec<String> {
    answer.records().iter().filter(|t| t.trim_start().to_ascii_lowercase().starts_with("v=spf1")).cloned().collect()
}

fn check_spf(
    expected: &ExpectedRecord,
    answer: &Answer<String>,
    context: &Context<'_>,
) -> (Vec<String>, Vec<Diagnostic>) {
    let found = answer.records().to_vec();
    let spf = spf_records(answer);
    if spf.is_empty() {
        return (found, vec![missing(expected, context)]);
    }
    if spf.len() > 1 {
        let message = format!(
            "There are {} SPF records at {}; a name may have only one (RFC 7208 §3.2), so receivers treat them all as \
             invalid. Merge them into one record that includes `include:{}`.",
            spf.len(),
            expected.fqdn,
            context.region.spf_include
        );
        return (found, vec![diagnostic("multiple-spf", message)]);
    }
    let mut problems = Vec::new();
    let include = format!("include:{}", context.region.spf_include.to_ascii_lowercase());
    let terms: Vec<String> = spf[0].split_whitespace().map(|t| t.to_ascii_lowercase()).collect();
    if !terms.iter().any(|t| t.trim_start_matches(['+', '~', '?']) == include) {
        let appended_include = format!("{include}.{}", context.domain);
        let was_appended = terms.contains(&appended_include);
        let message = if was_appended {
            format!(
                "Your DNS provider appended your domain to the SPF include (`{appended_include}`). \
                 The record must read `{}`.",
                expected.value
            )
        } else {
            format!(
                "The SPF record at {} does not authorize Postline: add `{include}` to it, e.g. `{}`.",
                expected.fqdn, expected.value
            )
        };
        problems.push(diagnostic(if was_appended { "appended-domain" } else { "mismatch" }, message));
    }
    if let Some(lookups) = context.spf_lookups.filter(|n| *n > 10) {
        problems.push(diagnostic(
            "too-many-lookups",
            format!(
                "The SPF record at {} needs {lookups} DNS lookups; receivers stop at 10 (RFC 7208 §4.6.4) and treat it \
                 as a permanent error. Remove includes you no longer use or flatten them.",
                expected.fqdn
            ),
        ));
    }
    (found, problems)
}

/// The `p=` value of a DKIM record, as written (quotes and spaces kept).
fn dkim_key_value(record: &str) -> Option<String> {
    record.split(';').find_map(|tag| {
        let (name, value) = tag.split_once('=')?;
        (name.trim().trim_matches('"') == "p").then(|| value.to_string())
    })
}

fn check_dkim(
    expected: &ExpectedRecord,
    answer: &Answer<String>,
    context: &Context<'_>,
) -> (Vec<String>, Vec<Diagnostic>) {
    let found = answer.records().to_vec();
    if found.is_empty() {
        return (found, vec![missing(expected, context)]);
    }
    let wanted = dkim_key_value(&expected.value).unwrap_or_default().trim().to_string();
    let mut problems = Vec::new();
    for record in &found {
        if record.to_ascii_lowercase().contains("v=spf1") {
            problems.push(diagnostic(
                "spf-in-dkim",
                format!(
                    "The DKIM record at {} holds SPF text. It must hold only the DKIM key: `{}`.",
                    expected.fqdn, expected.value
                ),
            ));
            continue;
        }
        let Some(raw) = dkim_key_value(record) else {
            problems.push(diagnostic(
                "mismatch",
                format!("The record at {} has no `p=` key. It must be `{}`.", expected.fqdn, expected.value),
            ));
            continue;
        };
        let compact: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '"' && *c != '\'').collect();
        if compact == wanted {
            if record.contains('"') || record.contains('\'') {
                problems.push(diagnostic(
                    "extra-quotes",
                    format!(
                        "The DKIM record at {} contains quote characters. Paste the value without adding quotes.",
                        expected.fqdn
                    ),
                ));
            } else if raw.trim().chars().any(char::is_whitespace) {
                problems.push(diagnostic(
                    "whitespace",
                    format!(
                        "The DKIM key at {} contains spaces. Paste the value exactly, without spaces or line breaks.",
                        expected.fqdn
                    ),
                ));
            } else {
                return (found, Vec::new());
            }
        } else if !compact.is_empty() && wanted.starts_with(&compact) {
            problems.push(diagnostic(
                "truncated",
                format!(
                    "The DKIM key at {} is cut short ({} of {} characters). Copy the whole value; some providers need \
                     long values split into several quoted strings.",
                    expected.fqdn,
                    compact.len(),
                    wanted.len()
                ),
            ));
        } else {
            problems.push(diagnostic(
                "mismatch",
                format!(
                    "The DKIM key at {} does not match the domain's key. Replace it with `{}`.",
                    expected.fqdn, expected.value
                ),
            ));
        }
    }
    (found, problems)
}

fn check_cname(
    expected: &ExpectedRecord,
    answer: &Answer<String>,
    context: &Context<'_>,
) -> (Vec<String>, Vec<Diagnostic>) {
    let found: Vec<String> = answer.records().iter().map(|h| host(h)).collect();
    let wanted = host(&expected.value);
    if found.is_empty() {
        return (found, vec![missing(expected, context)]);
    }
    if found.contains(&wanted) {
        return (found, Vec::new());
    }
    if let Some(bad) = found.iter().find(|h| appended(h, &wanted, context.domain)) {
        let message = appended_message(expected, bad);
        return (found, vec![message]);
    }
    let message = format!(
        "The CNAME at {} points to `{}`; it must point to `{}`.",
        expected.fqdn,
        found.join("`, `"),
        expected.value
    );
    (found, vec![diagnostic("mismatch", message)])
}

/// Advisory findings that do not decide verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advisory {
    /// `dmarc` or `bimi`.
    pub topic: String,
    pub ok: bool,
    pub message: String,
}

fn dmarc_tags(record: &str) -> Vec<(String, String)> {
    record
        .split(';')
        .filter_map(|t| t.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase()))
        .collect()
}

fn enforcing(record: Option<&String>) -> bool {
    record.is_some_and(|r| {
        let tags = dmarc_tags(r);
        let policy = tags.iter().find(|(k, _)| k == "p").map(|(_, v)| v.as_str());
        let pct = tags.iter().find(|(k, _)| k == "pct").map(|(_, v)| v.as_str()).unwrap_or("100");
        matches!(policy, Some("quarantine" | "reject")) && pct == "100"
    })
}

/// DMARC and BIMI advice from the domain's (and, for a subdomain, the apex's) DMARC
/// record and its `default._bimi` record.
pub fn advisories(
    domain: &str,
    dmarc: &Answer<String>,
    apex: Option<(&str, &Answer<String>)>,
    bimi: &Answer<String>,
) -> Vec<Advisory> {
    let dmarc_record = dmarc.records().iter().find(|r| r.to_ascii_lowercase().starts_with("v=dmarc1"));
    let dmarc_advice = match dmarc_record {
        None => Advisory {
            topic: "dmarc".into(),
            ok: false,
            message: format!(
                "No DMARC record at _dmarc.{domain}. Add `v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}` to start \
                 monitoring, then move to p=quarantine or p=reject."
            ),
        },
        Some(record) => {
            let tags = dmarc_tags(record);
            let policy = tags.iter().find(|(k, _)| k == "p").map(|(_, v)| v.clone()).unwrap_or_else(|| "none".into());
            Advisory {
                topic: "dmarc".into(),
                ok: true,
                message: format!("DMARC is published at _dmarc.{domain} with policy p={policy}."),
            }
        }
    };
    let bimi_record = bimi.records().iter().find(|r| r.to_ascii_lowercase().starts_with("v=bimi1"));
    let mut missing = Vec::new();
    if !enforcing(dmarc_record) {
        missing.push("a DMARC policy of p=quarantine or p=reject with pct=100".to_string());
    }
    if let Some((apex_name, apex_answer)) = apex {
        let apex_record = apex_answer.records().iter().find(|r| r.to_ascii_lowercase().starts_with("v=dmarc1"));
        if !enforcing(apex_record) {
            missing.push(format!("the apex domain {apex_name} enforcing DMARC too (p=quarantine or p=reject)"));
        }
    }
    match bimi_record {
        None => missing.push(format!("a `default._bimi.{domain}` TXT record (v=BIMI1; l=https://…svg)")),
        Some(record) => {
            let logo = dmarc_tags(record).into_iter().find(|(k, _)| k == "l").map(|(_, v)| v);
            if !logo.as_deref().is_some_and(|l| l.starts_with("https://")) {
                missing.push("a BIMI logo URL (l=) served over HTTPS".to_string());
            }
        }
    }
    let bimi_advice = Advisory {
        topic: "bimi".into(),
        ok: missing.is_empty(),
        message: if missing.is_empty() {
            "BIMI is ready: DMARC enforces and the logo is served over HTTPS.".into()
        } else {
            format!("BIMI is not ready; it needs {}.", missing.join("; "))
        },
    };
    vec![dmarc_advice, bimi_advice]
}

/// How many DNS lookups an SPF record's own terms cost (include, a, mx, ptr,
/// exists, redirect), and the domains it includes (to count recursively).
pub fn spf_lookup_terms(record: &str) -> (usize, Vec<String>) {
    let mut count = 0;
    let mut includes = Vec::new();
    for term in record.split_whitespace().skip(1) {
        let term = term.trim_start_matches(['+', '-', '~', '?']).to_ascii_lowercase();
        if let Some(target) = term.strip_prefix("include:").or_else(|| term.strip_prefix("redirect=")) {
            count += 1;
            includes.push(target.to_string());
        } else if term == "a"
            || term == "mx"
            || term == "ptr"
            || term.starts_with("a:")
            || term.starts_with("mx:")
            || term.starts_with("a/")
            || term.starts_with("mx/")
            || term.starts_with("ptr:")
            || term.starts_with("exists:")
        {
            count += 1;
        }
    }
    (count, includes)
}
