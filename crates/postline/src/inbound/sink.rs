//! What the inbound server does with an accepted message before it answers `250`:
//! route each recipient, and — for receiving domains — add the `Received` and
//! `Authentication-Results` headers (SPF, DKIM, DMARC checked against DNS), parse
//! it and store it for each team; for bounce addresses, read the delivery report or
//! complaint and record it on the email it is about. An error here answers `451`,
//! so the sending server keeps the message and tries again: nothing is lost.

use std::net::SocketAddr;

use postline_core::{
    Postline,
    receiving::{
        InboundMessage, Transport,
        reports::{Complaint, RecipientReport},
        route::Route,
    },
};
use postline_inbound::{
    Envelope, MessageSink, Reply,
    authenticate::Authenticator,
    reports::{Action, DeliveryReport, FeedbackReport, Report, parse_report_from},
};

/// Feedback types that are complaints about the message (RFC 5965 §7.3);
/// `not-spam` and `auth-failure` reports are not.
const COMPLAINT_TYPES: &[&str] = &["abuse", "fraud", "virus", "other"];

/// The [`MessageSink`] that stores into Postline.
pub struct InboundSink {
    pub postline: Postline,
    /// `None` skips SPF/DKIM/DMARC (no results recorded).
    pub authenticator: Option<Authenticator>,
    /// This server's name, in the headers it adds.
    pub hostname: String,
}

#[async_trait::async_trait]
impl MessageSink for InboundSink {
    async fn store(&self, envelope: Envelope, peer: SocketAddr) -> Result<(), Reply> {
        let mut routes = Vec::with_capacity(envelope.recipients.len());
        for recipient in &envelope.recipients {
            let route = self.postline.route_recipient(recipient).await.map_err(failed)?;
            routes.push((recipient.clone(), route));
        }
        if routes.iter().any(|(_, r)| matches!(r, Route::Receiving { .. })) {
            self.receive(&envelope, peer, &routes).await.map_err(failed)?;
        }
        let bounces: Vec<Route> =
            routes.iter().map(|(_, r)| *r).filter(|r| matches!(r, Route::Bounce { .. })).collect();
        if !bounces.is_empty() {
            let report = parse_report_from(&envelope.message, Some(&envelope.mail_from));
            for route in bounces {
                if let Route::Bounce { team_id, email_id } = route {
                    self.record(team_id, email_id, report.as_ref()).await.map_err(failed)?;
                }
            }
        }
        Ok(())
    }
}

impl InboundSink {
    async fn receive(
        &self,
        envelope: &Envelope,
        peer: SocketAddr,
        routes: &[(String, Route)],
    ) -> postline_core::Result<()> {
        let transport = Transport {
            mail_from: envelope.mail_from.clone(),
            helo: envelope.helo.clone(),
            client_ip: peer.ip().to_string(),
            tls: envelope.tls,
        };
        let authentication = match &self.authenticator {
            Some(checker) => Some(
                checker.check(&envelope.message, peer.ip(), &envelope.helo, &envelope.mail_from, &self.hostname).await,
            ),
            None => None,
        };
        let mut raw = trace_headers(&self.hostname, &transport, authentication.as_ref().map(|a| a.header.as_str()));
        raw.extend_from_slice(&envelope.message);
        let parsed = crate::inbound::parse::parse(&raw);
        let message = InboundMessage {
            transport,
            recipients: envelope.recipients.clone(),
            raw,
            parsed,
            authentication: authentication.map(|a| serde_json::to_value(a).unwrap_or_default()),
        };
        self.postline.receive(&message, routes).await.map(|_| ())
    }

    async fn record(
        &self,
        team_id: postline_core::ids::TeamId,
        email_id: postline_core::ids::EmailId,
        report: Option<&Report>,
    ) -> postline_core::Result<()> {
        let written = match report {
            Some(Report::Delivery(dsn)) => {
                let lines = report_lines(dsn);
                self.postline.record_delivery_report(team_id, email_id, &lines).await?
            }
            Some(Report::Feedback(arf)) if COMPLAINT_TYPES.contains(&arf.feedback_type.as_str()) => {
                let complaint = complaint(arf);
                usize::from(self.postline.record_complaint(team_id, email_id, &complaint).await?)
            }
            // Auto-replies, not-spam reports and other mail at a bounce address
            // are accepted and dropped: they say nothing about delivery.
            _ => 0,
        };
        tracing::info!(%email_id, written, "recorded an asynchronous report");
        Ok(())
    }
}

/// A store failure: logged, and `451` so the sender keeps the message and retries.
fn failed(error: postline_core::Error) -> Reply {
    tracing::warn!(%error, "could not store an inbound message");
    Reply::store_failed()
}

/// The failed and delayed recipients of a delivery report in core's terms.
fn report_lines(dsn: &DeliveryReport) -> Vec<RecipientReport> {
    dsn.recipients
        .iter()
        .filter(|r| r.action.is_failure())
        .map(|r| RecipientReport {
            recipient: r.recipient.clone(),
            original_recipient: r.original_recipient.clone(),
            failed: r.action == Action::Failed,
            status: r.status.clone(),
            diagnostic: r.diagnostic.clone(),
            reporting_mta: r.remote_mta.clone().or_else(|| dsn.reporting_mta.clone()),
            structured: dsn.structured,
        })
        .collect()
}

/// A complaint names its recipient in `Original-Rcpt-To`, else (redacted reports)
/// in the returned message's `To`.
fn complaint(arf: &FeedbackReport) -> Complaint {
    let recipient = arf
        .original_rcpt_to
        .iter()
        .find(|a| a.contains('@'))
        .cloned()
        .or_else(|| arf.original.as_ref().and_then(|o| o.to.iter().find(|a| a.contains('@')).cloned()));
    Complaint {
        feedback_type: arf.feedback_type.clone(),
        recipient,
        user_agent: arf.user_agent.clone(),
        arrival_date: arf.arrival_date.clone(),
    }
}

/// The trace headers a receiving MTA adds on top (RFC 5321 §4.4, RFC 8601).
fn trace_headers(hostname: &str, transport: &Transport, authentication: Option<&str>) -> Vec<u8> {
    let mut out = String::new();
    if let Some(results) = authentication {
        out.push_str(&format!("Authentication-Results: {results}\r\n"));
    }
    let protocol = if transport.tls { "ESMTPS" } else { "ESMTP" };
    let date = chrono::Utc::now().to_rfc2822();
    out.push_str(&format!(
        "Received: from {} ([{}])\r\n\tby {hostname} (Postline) with {protocol};\r\n\t{date}\r\n",
        transport.helo.replace(['\r', '\n'], ""),
        transport.client_ip
    ));
    out.into_bytes()
}
