//! `GET /dashboard/domains/{id}`: the domain's status and what it means, the DNS
//! records to publish (each value with a copy button), for each failed record what
//! is wrong and what DNS holds now, DMARC/BIMI advice, the settings forms and the
//! two-step delete (a `<details>` to open, then a button: no script needed).

use axum::{
    extract::{Path, State},
    response::Response,
};
use maud::{Markup, html};
use postline_core::{
    domains::{Domain, DomainStatus, Tls, manage::DomainView, records::suggested_dmarc},
    ids::DomainId,
};

use super::{diagnosis, record_badge, region_label, status_badge, status_explanation};
use crate::{
    DashboardState,
    format::time,
    layout::{self, Section, failure},
    session::Viewer,
};

/// `GET /dashboard/domains/{id}`
pub async fn detail(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let loaded = async {
        let domain = state.postline.get_domain(viewer.team_id(), DomainId::parse(&id)?).await?;
        state.postline.domain_view(domain).await
    }
    .await;
    let view = match loaded {
        Ok(view) => view,
        Err(error) => return failure(error),
    };
    let domain = &view.domain;
    let content = html! {
        p { a href="/dashboard/domains" { "← Domains" } }
        h1 { (domain.name) " " (status_badge(domain.status)) }
        p.explain { (status_explanation(domain.status)) }
        (summary(domain))
        (verify_form(&viewer, domain))
        (records(&view))
        (problems(&view))
        (advice(domain))
        (settings(&viewer, domain))
        (delete(&viewer, domain))
    };
    layout::page(&domain.name, &viewer, Section::Domains, content)
}

fn summary(domain: &Domain) -> Markup {
    html! {
        dl.summary {
            dt { "Region" } dd { (region_label(&domain.region)) }
            dt { "Return path" } dd { code { (domain.return_path) "." (domain.name) } }
            dt { "Created" } dd { (time(domain.created_at)) }
            dt { "Last checked" } dd { @match domain.last_checked_at { Some(at) => (time(at)), None => "never" } }
            @if !domain.nameservers.is_empty() {
                dt { "Nameservers" } dd { (domain.nameservers.join(", ")) " — edit the records at the provider they belong to." }
            }
            dt { "ID" } dd { code { (domain.id) } }
        }
    }
}

fn verify_form(viewer: &Viewer, domain: &Domain) -> Markup {
    let label = if domain.status == DomainStatus::Failed { "Restart verification" } else { "Verify DNS records" };
    html! {
        form.inline method="post" action={ "/dashboard/domains/" (domain.id) "/verify" } {
            input type="hidden" name="csrf" value=(viewer.csrf());
            button.primary-inline type="submit" { (label) }
            span.muted { "Checks run in the background within a few seconds; reload this page to see them." }
        }
    }
}

/// A value with its copy button (`app.js` selects the `<code>` where there is no clipboard).
fn copyable(value: &str, what: &str) -> Markup {
    html! {
        div.copyable {
            code { (value) }
            button type="button" data-copy=(value) { "Copy" span.visually-hidden { " " (what) } }
        }
    }
}

fn records(view: &DomainView) -> Markup {
    html! {
        section aria-labelledby="records-title" {
            h2 #records-title { "DNS records" }
            p { "Publish these records at your DNS provider, then verify. Names are relative to " (view.domain.name) "." }
            table.list.records {
                thead { tr {
                    th scope="col" { "Record" } th scope="col" { "Type" } th scope="col" { "Name" } th scope="col" { "Value" }
                    th scope="col" { "Priority" } th scope="col" { "TTL" } th scope="col" { "Status" }
                } }
                tbody {
                    @for record in &view.records {
                        @let expected = &record.expected;
                        tr {
                            td data-label="Record" { (expected.kind.label()) }
                            td data-label="Type" { (expected.record_type) }
                            td data-label="Name" { code { (expected.name) } }
                            td data-label="Value" { (copyable(&expected.value, &format!("the {} value for {}", expected.record_type, expected.name))) }
                            td data-label="Priority" { @if let Some(p) = expected.priority { (p) } @else { span.muted { "—" } } }
                            td data-label="TTL" { "Auto" }
                            td data-label="Status" { (record_badge(record.status)) }
                        }
                    }
                }
            }
        }
    }
}

/// What is wrong with each record that failed its last check.
fn problems(view: &DomainView) -> Markup {
    let failed: Vec<_> =
        view.records.iter().filter_map(|r| r.check.as_ref().filter(|c| !c.ok).map(|c| (r, c))).collect();
    if failed.is_empty() {
        return html! {};
    }
    html! {
        section aria-labelledby="problems-title" {
            h2 #problems-title { "What to fix" }
            @for (record, check) in failed {
                @let expected = &record.expected;
                @let codes: Vec<&str> = check.diagnostics.iter().map(|d| d.code.as_str()).collect();
                article.problem {
                    h3 { (expected.kind.label()) " " (expected.record_type) " record at " code { (expected.fqdn) } }
                    ul {
                        @for diagnostic in &check.diagnostics {
                            li { strong { (diagnosis::headline(&diagnostic.code)) } " " (diagnostic.message) }
                        }
                    }
                    p.found-title { "What DNS holds at " (expected.fqdn) " now:" }
                    @if check.found.is_empty() {
                        p.muted { @if codes.contains(&"lookup-failed") { "Unknown: the lookup did not answer." } @else { "Nothing: no " (expected.record_type) " record." } }
                    } @else {
                        ul.found {
                            @for found in &check.found {
                                li { (diagnosis::render(&diagnosis::show(found, expected, &codes, &view.domain.name))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn advice(domain: &Domain) -> Markup {
    let (dmarc_name, dmarc_value) = suggested_dmarc(domain);
    html! {
        section aria-labelledby="advice-title" {
            h2 #advice-title { "DMARC and BIMI" }
            @if domain.advisories.is_empty() {
                p.muted { "Advice appears after the first check." }
            } @else {
                ul.advice {
                    @for advisory in &domain.advisories {
                        li {
                            (super::badge(if advisory.ok { "good" } else { "warn" }, if advisory.ok { "ok" } else { "advice" }))
                            " " strong { (advisory.topic.to_uppercase()) } " " (advisory.message)
                        }
                    }
                }
            }
            p { "Once SPF and DKIM verify, a DMARC record builds more trust with mailbox providers. A TXT record named " code { (dmarc_name) } " to start monitoring:" }
            (copyable(&dmarc_value, "the suggested DMARC value"))
        }
    }
}

/// A setting with its state in words and one button that flips it.
fn toggle(viewer: &Viewer, domain: &Domain, field: &str, label: &str, on: bool, hint: &str) -> Markup {
    html! {
        form.setting method="post" action={ "/dashboard/domains/" (domain.id) } {
            input type="hidden" name="csrf" value=(viewer.csrf());
            input type="hidden" name=(field) value=(!on);
            div {
                strong { (label) } " " (super::badge(if on { "good" } else { "neutral" }, if on { "on" } else { "off" }))
                p.muted.hint { (hint) }
            }
            button type="submit" { @if on { "Turn off " } @else { "Turn on " } (label.to_lowercase()) }
        }
    }
}

fn settings(viewer: &Viewer, domain: &Domain) -> Markup {
    html! {
        section aria-labelledby="settings-title" {
            h2 #settings-title { "Settings" }
            (toggle(viewer, domain, "open_tracking", "Open tracking", domain.open_tracking,
                "A 1×1 transparent image in each email tells when it is opened. Off by default."))
            (toggle(viewer, domain, "click_tracking", "Click tracking", domain.click_tracking,
                "Links go through Postline, which counts the click and redirects at once. Leave off for sensitive transactional email."))
            (toggle(viewer, domain, "receiving", "Receiving", domain.receiving,
                "Receive email at this domain. Turning it on adds an MX record on the domain itself to publish."))
            form.setting method="post" action={ "/dashboard/domains/" (domain.id) } {
                input type="hidden" name="csrf" value=(viewer.csrf());
                div.field {
                    label for="tls" { "TLS" }
                    select #tls name="tls" aria-describedby="tls-hint" {
                        option value="opportunistic" selected[domain.tls == Tls::Opportunistic] { "Opportunistic" }
                        option value="enforced" selected[domain.tls == Tls::Enforced] { "Enforced" }
                    }
                    p.muted.hint #tls-hint { "Opportunistic uses TLS when the receiving server offers it; enforced sends only over TLS and does not deliver otherwise." }
                }
                button type="submit" { "Save TLS" }
            }
        }
    }
}

fn delete(viewer: &Viewer, domain: &Domain) -> Markup {
    html! {
        details.confirm {
            summary { "Delete domain" }
            p { "Email can no longer be sent from " strong { (domain.name) } " once it is deleted. To change its region, delete it and add it again in the new region, then update the DNS records." }
            form.inline method="post" action={ "/dashboard/domains/" (domain.id) "/delete" } {
                input type="hidden" name="csrf" value=(viewer.csrf());
                button.danger type="submit" { "Delete " (domain.name) }
            }
        }
    }
}
