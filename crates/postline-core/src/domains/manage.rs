//! Domain use cases: add, read, list, change, delete, start verification, and the
//! periodic check job that asks DNS, records each record's result and moves the
//! domain through its lifecycle.

use serde_json::Value;

use super::{
    Domain, DomainStatus, RecordStatus,
    checks::{self, Advisory, Answer, Context, Observed, RecordCheck},
    input::{CreateDomain, UpdateDomain},
    lifecycle::after_check,
    records::{ExpectedRecord, PublishedKey, RegionHosts, expected},
};
use crate::{
    Error, Postline, Result,
    ids::{DomainId, TeamId},
    pagination::{Page, PageRequest},
};

/// A record as shown to users: what to publish and how the last check went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordView {
    pub expected: ExpectedRecord,
    pub status: RecordStatus,
    pub check: Option<RecordCheck>,
}

/// A domain with its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainView {
    pub domain: Domain,
    pub records: Vec<RecordView>,
}

/// Domains checked per round of the job.
const CHECK_BATCH: u32 = 16;

impl Postline {
    fn region(&self, name: &str) -> Result<&RegionHosts> {
        self.settings
            .regions
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| Error::Internal(format!("domain in unknown region {name}")))
    }

    /// The region names this installation offers.
    pub fn region_names(&self) -> Vec<String> {
        self.settings.regions.iter().map(|r| r.name.clone()).collect()
    }

    async fn published_keys(&self, domain: &Domain) -> Result<Vec<PublishedKey>> {
        let mut published = Vec::new();
        for key in self.store.domain_keys(&domain.name).await? {
            published.extend(self.dkim.publish(&key)?);
        }
        Ok(published)
    }

    /// The domain with its expected records and their statuses.
    pub async fn domain_view(&self, domain: Domain) -> Result<DomainView> {
        let region = self.region(&domain.region)?;
        let keys = self.published_keys(&domain).await?;
        let records = expected(&domain, region, &keys)
            .into_iter()
            .map(|expected| {
                let check = domain
                    .checks
                    .iter()
                    .find(|c| c.kind == expected.kind && (c.fqdn.is_empty() || c.fqdn == expected.fqdn))
                    .cloned();
                let status = match (&check, domain.status) {
                    (_, DomainStatus::NotStarted) | (None, _) => RecordStatus::NotStarted,
                    (Some(c), _) if c.ok => RecordStatus::Verified,
                    (Some(_), DomainStatus::Failed) => RecordStatus::Failed,
                    (Some(_), DomainStatus::TemporaryFailure) => RecordStatus::TemporaryFailure,
                    (Some(_), DomainStatus::Verified | DomainStatus::PartiallyVerified) => RecordStatus::Failed,
                    (Some(_), DomainStatus::Pending) => RecordStatus::Pending,
                };
                RecordView { expected, status, check }
            })
            .collect();
        Ok(DomainView { domain, records })
    }

    /// Adds a domain (`POST /domains`) and creates its DKIM keys.
    pub async fn create_domain(&self, team_id: TeamId, body: &Value) -> Result<DomainView> {
        let input = CreateDomain::parse(body, &self.region_names())?;
        if self.store.domain_by_name(team_id, &input.name).await?.is_some() {
            return Err(Error::Conflict(format!("The domain {} has already been added to this team.", input.name)));
        }
        if self.store.name_verified_elsewhere(team_id, &input.name).await? {
            return Err(Error::Conflict(format!(
                "The domain {} is already verified by another team. Only one team can send from a domain; the other \
                 team must delete it first.",
                input.name
            )));
        }
        let now = self.clock.now();
        let selector = self.settings.dkim_selector.clone();
        self.dkim_key_for(&input.name, || self.dkim.generate(&input.name, &selector, now)).await?;
        let key = self.store.dkim_key(&input.name).await?.ok_or_else(|| Error::Internal("DKIM key vanished".into()))?;
        let domain = Domain::added(team_id, input, key.selector, now);
        let view = self.domain_view(domain).await?;
        let event = crate::webhooks::domain_event("domain.created", &view, now);
        self.changing_domains(self.store.insert_domain(&view.domain, Some(&event))).await?;
        Ok(view)
    }

    /// One domain of the team.
    pub async fn get_domain(&self, team_id: TeamId, id: DomainId) -> Result<Domain> {
        self.store.get_domain(team_id, id).await?.ok_or(Error::NotFound("Domain"))
    }

    /// The team's domains, newest first.
    pub async fn list_domains(&self, team_id: TeamId, page: PageRequest) -> Result<Page<Domain>> {
        self.store.list_domains(team_id, &page).await
    }

    /// Changes tracking, TLS and capability settings (`PATCH /domains/{id}`).
    pub async fn update_domain(&self, team_id: TeamId, id: DomainId, body: &Value) -> Result<Domain> {
        let change = UpdateDomain::parse(body)?;
        let mut domain = self.get_domain(team_id, id).await?;
        if let Some(v) = change.open_tracking {
            domain.open_tracking = v;
        }
        if let Some(v) = change.click_tracking {
            domain.click_tracking = v;
        }
        if let Some(v) = change.tls {
            domain.tls = v;
        }
        if let Some(v) = change.sending {
            domain.sending = v;
        }
        if let Some(v) = change.receiving {
            domain.receiving = v;
        }
        if let Some(v) = change.tracking_subdomain {
            domain.tracking_subdomain = v;
        }
        if !domain.sending && !domain.receiving {
            return Err(Error::value("At least one capability (`sending` or `receiving`) must be enabled."));
        }
        let view = self.domain_view(domain).await?;
        let event = crate::webhooks::domain_event("domain.updated", &view, self.clock.now());
        self.changing_domains(self.store.save_domain(&view.domain, Some(&event))).await?;
        Ok(view.domain)
    }

    /// Deletes a domain; mail can no longer be sent from it.
    pub async fn delete_domain(&self, team_id: TeamId, id: DomainId) -> Result<()> {
        let view = self.domain_view(self.get_domain(team_id, id).await?).await?;
        let event = crate::webhooks::domain_event("domain.deleted", &view, self.clock.now());
        let deleted = self.changing_domains(self.store.delete_domain(team_id, id, Some(&event))).await?;
        if deleted { Ok(()) } else { Err(Error::NotFound("Domain")) }
    }

    /// Starts (or restarts) verification (`POST /domains/{id}/verify`): the domain is
    /// checked at once by the job, then periodically.
    pub async fn verify_domain(&self, team_id: TeamId, id: DomainId) -> Result<()> {
        let mut domain = self.get_domain(team_id, id).await?;
        let now = self.clock.now();
        if !domain.status.may_send() {
            domain.status = DomainStatus::Pending;
            domain.verification_started_at = Some(now);
            domain.failing_since = None;
        }
        domain.next_check_at = Some(now);
        self.changing_domains(self.store.save_domain(&domain, None)).await?;
        self.domain_wake.notify_one();
        Ok(())
    }

    /// Runs every due domain check; returns how many domains were checked.
    pub async fn check_due_domains(&self) -> Result<usize> {
        let now = self.clock.now();
        let due = self.store.claim_due_domains(now, now + chrono::Duration::minutes(2), CHECK_BATCH).await?;
        let count = due.len();
        for domain in due {
            let before = domain.status;
            let checked = self.check_domain(domain).await?;
            self.save_checked(checked, before).await?;
        }
        Ok(count)
    }

    /// Checks a domain's records now and returns it with its new state.
    pub async fn check_domain(&self, mut domain: Domain) -> Result<Domain> {
        let now = self.clock.now();
        let region = self.region(&domain.region)?.clone();
        let keys = self.published_keys(&domain).await?;
        let records = expected(&domain, &region, &keys);
        let nameservers = self.dns.nameservers(&domain.name).await;
        let spf_lookups = self.spf_lookups(&format!("{}.{}", domain.return_path, domain.name)).await;
        let context = Context {
            domain: &domain.name,
            region: &region,
            regions: &self.settings.regions,
            nameservers: &nameservers,
            spf_lookups,
        };
        let mut results = Vec::with_capacity(records.len());
        for record in &records {
            let observed = match record.record_type {
                "MX" => Observed::Mx(self.dns.mx(&record.fqdn).await),
                "CNAME" => Observed::Cname(self.dns.cname(&record.fqdn).await),
                _ => Observed::Txt(self.dns.txt(&record.fqdn).await),
            };
            results.push(checks::check(record, &observed, &context));
        }
        let mut advisories = self.dmarc_advice(&domain.name).await;
        let owned_elsewhere = self.store.name_verified_elsewhere(domain.team_id, &domain.name).await?;
        if owned_elsewhere {
            advisories.push(Advisory {
                topic: "ownership".into(),
                ok: false,
                message: format!(
                    "{} is verified by another team; it cannot be verified here until they delete it.",
                    domain.name
                ),
            });
        }
        let ok = |kind_filter: fn(&super::records::RecordKind) -> bool| {
            results.iter().filter(|r| kind_filter(&r.kind)).all(|r| r.ok)
        };
        let sending_ok = !owned_elsewhere && (!domain.sending || ok(|k| k.for_sending()));
        let receiving_ok = !owned_elsewhere && (!domain.receiving || ok(|k| k.for_receiving()));
        // Rotation: once the next key's record is published, it starts signing.
        let next_published = results.iter().filter(|r| r.kind == super::records::RecordKind::DkimNext).all(|r| r.ok)
            && results.iter().any(|r| r.kind == super::records::RecordKind::DkimNext);
        if next_published {
            self.store.promote_next_key(&domain.name).await?;
        }
        let next = after_check(
            domain.status,
            domain.verification_started_at,
            domain.failing_since,
            sending_ok,
            receiving_ok,
            now,
        );
        domain.status = next.status;
        domain.failing_since = next.failing_since;
        domain.next_check_at = next.next_check_at;
        domain.last_checked_at = Some(now);
        domain.checks = results;
        domain.advisories = advisories;
        domain.nameservers = nameservers;
        Ok(domain)
    }

    async fn dmarc_advice(&self, name: &str) -> Vec<Advisory> {
        let dmarc = self.dns.txt(&format!("_dmarc.{name}")).await;
        let bimi = self.dns.txt(&format!("default._bimi.{name}")).await;
        let labels: Vec<&str> = name.split('.').collect();
        let apex = (labels.len() > 2).then(|| labels[labels.len() - 2..].join("."));
        match apex {
            Some(apex) => {
                let apex_dmarc = self.dns.txt(&format!("_dmarc.{apex}")).await;
                checks::advisories(name, &dmarc, Some((&apex, &apex_dmarc)), &bimi)
            }
            None => checks::advisories(name, &dmarc, None, &bimi),
        }
    }

    /// DNS lookups the SPF record at `name` needs, following includes (stops past 10).
    async fn spf_lookups(&self, name: &str) -> Option<usize> {
        let mut total = 0;
        let mut queue = vec![(name.to_string(), true)];
        let mut visited = 0;
        while let Some((target, own)) = queue.pop() {
            visited += 1;
            // Count everything (users want the real number), but never loop forever.
            if visited > 40 {
                break;
            }
            let Answer::Records(txt) = self.dns.txt(&target).await else {
                if own {
                    return None;
                }
                continue;
            };
            let Some(record) = txt.iter().find(|t| t.to_ascii_lowercase().starts_with("v=spf1")) else { continue };
            let (count, includes) = checks::spf_lookup_terms(record);
            total += count;
            queue.extend(includes.into_iter().map(|i| (i, false)));
        }
        Some(total)
    }

    /// Starts a key rotation: a new key under a new selector, published beside the
    /// current one. It starts signing once a check finds its record; the old key is
    /// then retired but stays in the records until [`Postline::remove_dkim_key`].
    pub async fn rotate_dkim_key(&self, team_id: TeamId, id: DomainId) -> Result<crate::dkim::DkimKey> {
        let domain = self.get_domain(team_id, id).await?;
        let existing = self.store.domain_keys(&domain.name).await?;
        if existing.iter().any(|k| k.state == crate::dkim::KeyState::Next) {
            return Err(Error::Conflict(format!(
                "A rotation is already under way for {}: publish the next key's record and verify.",
                domain.name
            )));
        }
        let selector = format!("{}-{}", self.settings.dkim_selector, existing.len() + 1);
        let mut key = self.dkim.generate(&domain.name, &selector, self.clock.now())?;
        key.state = crate::dkim::KeyState::Next;
        self.store.add_next_key(&key).await?;
        Ok(key)
    }

    /// Removes a retired key (and its record from the list to publish).
    pub async fn remove_dkim_key(&self, team_id: TeamId, id: DomainId, selector: &str) -> Result<()> {
        let domain = self.get_domain(team_id, id).await?;
        if self.store.remove_retired_key(&domain.name, selector).await? {
            Ok(())
        } else {
            Err(Error::Conflict(format!(
                "{selector} is not a retired key of {}; only retired keys can be removed.",
                domain.name
            )))
        }
    }

    /// Stores a domain after [`Postline::check_domain`] (`before`: its status before the
    /// check); a change of status is a `domain.updated` event.
    pub async fn save_checked_domain(&self, domain: Domain, before: DomainStatus) -> Result<()> {
        self.save_checked(domain, before).await
    }

    async fn save_checked(&self, domain: Domain, before: DomainStatus) -> Result<()> {
        if domain.status == before {
            return self.changing_domains(self.store.save_domain(&domain, None)).await;
        }
        let view = self.domain_view(domain).await?;
        let event = crate::webhooks::domain_event("domain.updated", &view, self.clock.now());
        self.changing_domains(self.store.save_domain(&view.domain, Some(&event))).await
    }

    /// Runs a write to domains, then forgets the cached sending domains, so this
    /// node's next send sees the change (every domain write goes through here).
    pub(crate) async fn changing_domains<T>(&self, write: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let written = write.await;
        self.domain_cache.clear();
        written
    }

    /// The domain a request sends from, through the one-second cache (every send
    /// looks it up; changes made on this node clear it).
    pub(crate) async fn sending_domain(&self, team_id: TeamId, name: &str) -> Result<Option<Domain>> {
        let key = (team_id, name.to_ascii_lowercase());
        if let Some(found) = self.domain_cache.get(&key) {
            return Ok(found);
        }
        let found = self.store.domain_by_name(team_id, &key.1).await?;
        self.domain_cache.put(key, found.clone());
        Ok(found)
    }

    /// The team's domain named `name`, if it has one.
    pub async fn team_domain(&self, team_id: TeamId, name: &str) -> Result<Option<Domain>> {
        self.store.domain_by_name(team_id, &name.to_ascii_lowercase()).await
    }
}
