//! Open and click tracking, off by default and switched on per domain
//! (`open_tracking`, `click_tracking`).
//!
//! The MTA renders a tracked email per recipient and asks for that recipient's
//! [`TrackingLinks`]: an open pixel at `{base}/t/o/{token}` and, for each link,
//! `{base}/t/c/{token}`, where `base` is the domain's tracking host
//! (`{scheme}://{tracking_subdomain}.{domain}{:port}` after the public URL's scheme
//! and port) or the public URL itself when the domain has no tracking subdomain.
//! Tokens are signed ([`Purpose::Open`], [`Purpose::Click`]) and name the team,
//! email and recipient; a click token also carries the link's target, so the
//! redirect only ever goes where the email pointed (no open redirect) and a
//! forged or altered token is refused.
//!
//! A hit is recorded as an `opened` or `clicked` timeline event whose data is the
//! contract's webhook shape (`open`/`click` with `ipAddress`, `timestamp`,
//! `userAgent`, and `link` for clicks) plus Postline's `machine`/`scanner` flags
//! from [`heuristics`]; the event goes out as `email.opened`/`email.clicked`.

pub mod heuristics;
pub mod html;

use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::{
    Postline, Result,
    clock::{Timestamp, rfc3339},
    domains::Domain,
    emails::{EmailEvent, EventKind},
    ids::{EmailId, TeamId},
    signing::{Purpose, Signer},
};

pub use heuristics::Hit;
pub use html::{OPT_OUT_ATTRIBUTE, instrument_html};

/// How long tracking links work: a click link is the email's own link, and a dead
/// one breaks the email for as long as someone keeps it.
pub const LINK_LIFETIME: Duration = Duration::days(3650);

/// Who an open or click token is about (short keys keep links short).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engagement {
    #[serde(rename = "t")]
    pub team: TeamId,
    #[serde(rename = "e")]
    pub email: EmailId,
    /// The recipient's address as queued.
    #[serde(rename = "r")]
    pub recipient: String,
}

/// What a click token carries: who, and the link's target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClickClaims {
    #[serde(rename = "t")]
    pub team: TeamId,
    #[serde(rename = "e")]
    pub email: EmailId,
    #[serde(rename = "r")]
    pub recipient: String,
    /// The link as the email had it (character references decoded).
    #[serde(rename = "u")]
    pub url: String,
}

impl ClickClaims {
    fn engagement(&self) -> Engagement {
        Engagement { team: self.team, email: self.email, recipient: self.recipient.clone() }
    }
}

/// One recipient's tracking links for one email.
#[derive(Debug, Clone)]
pub struct TrackingLinks {
    /// Scheme, host and port (and any path) the links start with, no trailing slash.
    pub base: String,
    pub open: bool,
    pub click: bool,
    /// URL prefixes never rewritten (the unsubscribe link, the tracking routes).
    pub keep: Vec<String>,
    pub team: TeamId,
    pub email: EmailId,
    pub recipient: String,
    pub signer: Signer,
    pub expires_at: Timestamp,
}

impl TrackingLinks {
    /// The open pixel's URL.
    pub fn open_url(&self) -> String {
        let claims = Engagement { team: self.team, email: self.email, recipient: self.recipient.clone() };
        format!("{}/t/o/{}", self.base, self.signer.sign(Purpose::Open, claims, self.expires_at))
    }

    /// The click link standing in for `target`.
    pub fn click_url(&self, target: &str) -> String {
        let claims = ClickClaims {
            team: self.team,
            email: self.email,
            recipient: self.recipient.clone(),
            url: target.to_string(),
        };
        format!("{}/t/c/{}", self.base, self.signer.sign(Purpose::Click, claims, self.expires_at))
    }
}

/// Where a domain's tracking links point: its tracking subdomain with the public
/// URL's scheme, port and path, or the public URL when it has no subdomain.
pub fn tracking_base(public_url: &str, domain: &Domain) -> String {
    let Some(label) = &domain.tracking_subdomain else { return public_url.to_string() };
    match url::Url::parse(public_url) {
        Ok(url) => {
            let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
            let path = url.path().trim_end_matches('/');
            format!("{}://{label}.{}{port}{path}", url.scheme(), domain.name)
        }
        Err(_) => public_url.to_string(),
    }
}

/// Whether an engagement of kind `new` replaces an email's `last_event` of
/// `current`: it only moves forward (a click beats an open), and never hides a
/// bounce, complaint, suppression, failure or cancellation.
pub fn advances(current: EventKind, new: EventKind) -> bool {
    use EventKind::*;
    match current {
        Queued | Sent | Delivered | DeliveryDelayed | Opened => true,
        Clicked => new == Clicked,
        Scheduled | Canceled | Bounced | Complained | Suppressed | Failed | Unsubscribed => false,
    }
}

impl Postline {
    /// One recipient's tracking links for an email sent from `domain`, or `None`
    /// when the domain tracks neither opens nor clicks.
    pub fn tracking_links(
        &self,
        team: TeamId,
        email: EmailId,
        recipient: &str,
        domain: &Domain,
    ) -> Option<TrackingLinks> {
        if !domain.open_tracking && !domain.click_tracking {
            return None;
        }
        let base = tracking_base(&self.settings.public_url, domain);
        Some(TrackingLinks {
            keep: vec![format!("{}/unsubscribe/", self.settings.public_url), format!("{base}/t/")],
            base,
            open: domain.open_tracking,
            click: domain.click_tracking,
            team,
            email,
            recipient: recipient.to_string(),
            signer: self.signer.clone(),
            expires_at: self.clock.now() + LINK_LIFETIME,
        })
    }

    /// The recipient behind an open pixel's token; `None` for a forged, altered,
    /// expired or other kind of token.
    pub fn verify_open(&self, token: &str) -> Option<Engagement> {
        self.signer.verify(Purpose::Open, token, self.clock.now())
    }

    /// The recipient and target behind a click token; `None` for a forged, altered,
    /// expired or other kind of token, or a target that is not `http(s)`.
    pub fn verify_click(&self, token: &str) -> Option<ClickClaims> {
        let claims: ClickClaims = self.signer.verify(Purpose::Click, token, self.clock.now())?;
        let scheme = url::Url::parse(&claims.url).ok()?.scheme().to_string();
        matches!(scheme.as_str(), "http" | "https").then_some(claims)
    }

    /// Records an open; `false` if the email no longer exists.
    pub async fn record_open(&self, who: &Engagement, hit: &Hit) -> Result<bool> {
        let delivered = self.delivered_at(who).await?;
        let Some(delivered_at) = delivered else { return Ok(false) };
        let machine = heuristics::machine_open(hit, delivered_at);
        let mut open = Map::new();
        open.insert("ipAddress".into(), json!(hit.ip));
        open.insert("timestamp".into(), json!(rfc3339(hit.at)));
        open.insert("userAgent".into(), json!(hit.user_agent));
        flag(&mut open, "machine", machine);
        self.record(who, EventKind::Opened, hit, json!({"open": open}), machine.is_none()).await
    }

    /// Records a click; `false` if the email no longer exists.
    pub async fn record_click(&self, click: &ClickClaims, hit: &Hit) -> Result<bool> {
        let who = click.engagement();
        let Some(delivered_at) = self.delivered_at(&who).await? else { return Ok(false) };
        let scanner = heuristics::scanner_click(hit, delivered_at);
        let mut data = Map::new();
        data.insert("ipAddress".into(), json!(hit.ip));
        data.insert("link".into(), json!(click.url));
        data.insert("timestamp".into(), json!(rfc3339(hit.at)));
        data.insert("userAgent".into(), json!(hit.user_agent));
        flag(&mut data, "scanner", scanner);
        self.record(&who, EventKind::Clicked, hit, json!({"click": data}), scanner.is_none()).await
    }

    /// When the recipient's copy was delivered (else sent), read from the email's
    /// timeline: `None` if the email is gone, `Some(None)` if it has no such event.
    async fn delivered_at(&self, who: &Engagement) -> Result<Option<Option<Timestamp>>> {
        let events = self.store.email_events(who.team, who.email).await?;
        if events.is_empty() {
            return Ok(None);
        }
        let mine = |kind: EventKind| {
            events
                .iter()
                .filter(|e| {
                    e.kind == kind && e.recipient.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(&who.recipient))
                })
                .map(|e| e.at)
                .max()
        };
        Ok(Some(mine(EventKind::Delivered).or_else(|| mine(EventKind::Sent))))
    }

    /// Machine opens and scanner clicks are recorded but do not move `last_event`,
    /// which should say what people did.
    async fn record(&self, who: &Engagement, kind: EventKind, hit: &Hit, data: Value, by_person: bool) -> Result<bool> {
        let event = EmailEvent { email_id: who.email, kind, recipient: Some(who.recipient.clone()), at: hit.at, data };
        self.store.record_engagement(who.team, &event, by_person).await
    }
}

/// Adds `name: bool` and, when set, `{name}_reason`.
fn flag(data: &mut Map<String, Value>, name: &str, reason: Option<&str>) {
    data.insert(name.into(), json!(reason.is_some()));
    if let Some(reason) = reason {
        data.insert(format!("{name}_reason"), json!(reason));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(subdomain: Option<&str>) -> Domain {
        let input = crate::domains::CreateDomain {
            name: "acme.dev".into(),
            region: "us-east-1".into(),
            return_path: "send".into(),
            open_tracking: true,
            click_tracking: true,
            tls: Default::default(),
            sending: true,
            receiving: false,
            tracking_subdomain: subdomain.map(str::to_string),
        };
        Domain::added(TeamId::new(), input, "resend".into(), chrono::Utc::now())
    }

    #[test]
    fn links_live_on_the_tracking_host_with_the_public_urls_scheme_and_port() {
        assert_eq!(tracking_base("http://127.0.0.1:3000", &domain(Some("links"))), "http://links.acme.dev:3000");
        assert_eq!(tracking_base("https://mail.example.com", &domain(Some("t"))), "https://t.acme.dev");
        assert_eq!(tracking_base("https://example.com/postline", &domain(Some("t"))), "https://t.acme.dev/postline");
        assert_eq!(tracking_base("https://mail.example.com", &domain(None)), "https://mail.example.com");
    }

    #[test]
    fn engagements_only_move_last_event_forward() {
        assert!(advances(EventKind::Delivered, EventKind::Opened));
        assert!(advances(EventKind::Opened, EventKind::Clicked));
        assert!(!advances(EventKind::Clicked, EventKind::Opened), "a click beats an open");
        assert!(advances(EventKind::Clicked, EventKind::Clicked));
        assert!(!advances(EventKind::Bounced, EventKind::Clicked));
        assert!(!advances(EventKind::Complained, EventKind::Opened));
    }

    #[test]
    fn claims_use_short_keys() {
        let claims = ClickClaims {
            team: TeamId::new(),
            email: EmailId::new(),
            recipient: "a@b.dev".into(),
            url: "https://x".into(),
        };
        let json = serde_json::to_value(&claims).unwrap();
        assert_eq!(json.as_object().unwrap().keys().collect::<Vec<_>>(), ["e", "r", "t", "u"]);
    }
}
