//! The fan-out job: a queued broadcast becomes one email per eligible contact.
//!
//! Durable and resumable: the broadcast row carries a cursor (the last contact id
//! queued) and a lease. Each batch — up to [`BATCH`] segment members read in contact
//! id order — is written in one transaction together with the cursor's move, and
//! only while the lease is still this worker's; a unique index on (broadcast,
//! contact) backs that up. A crash loses at most an uncommitted batch, which the
//! next worker (here or on another node, once the lease lapses) writes again from
//! the saved cursor: nobody is skipped and nobody gets two emails.
//!
//! Copies go into the queue's bulk lane ([`Lane::Bulk`]), which workers take only
//! when no transactional mail is due, so a broadcast is queued as fast as it can be
//! written without holding up a password reset sent meanwhile; memory holds one
//! batch, however large the segment. An operator may still pace it: with a window
//! set, while that many of a broadcast's copies wait for their first attempt, the
//! job steps back and lets the MTA catch up.
//!
//! Who gets one: every member not unsubscribed from everything and, for a broadcast
//! about a topic, whose own choice (else the topic's default) is `opt_in`.
//! Suppressed addresses get an email that the worker marks suppressed without
//! sending (so the broadcast's stats show them); consent and suppression are checked
//! again when each copy is sent.

use super::{Broadcast, Candidate, content};
use crate::{
    Postline, Result,
    audience::TopicConsent,
    emails::{Email, EmailEvent, EventKind, Lane, NewEmail, RecipientKind, send::delivery_for},
    ids::EmailId,
    personalise::Content,
    store::FanoutBatch,
};

/// Segment members read and queued per transaction.
pub const BATCH: u32 = 200;

/// How a run of one broadcast ended.
enum Run {
    Finished,
    /// The MTA is behind; come back shortly.
    Paused,
    /// Canceled, or another worker took over.
    Stopped,
}

impl Postline {
    /// What an idle fan-out worker waits on (a broadcast was sent).
    pub fn broadcast_wake(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.broadcast_wake.clone()
    }

    /// Fans out every broadcast that is due until none is left or all left are
    /// paused; returns how many finished.
    pub async fn run_broadcasts(&self) -> Result<usize> {
        let mut finished = 0;
        loop {
            let now = self.clock.now();
            let lease = self.settings.delivery_lease;
            let Some((broadcast, token)) = self.store.claim_broadcast(now, now + lease).await? else {
                return Ok(finished);
            };
            let id = broadcast.id;
            match self.fan_out(broadcast, &token).await {
                Ok(Run::Finished) => finished += 1,
                Ok(Run::Paused | Run::Stopped) => {}
                Err(error) => {
                    // The lease lapses and a later run resumes from the cursor.
                    tracing::warn!(broadcast = %id, %error, "broadcast fan-out failed; it resumes later");
                    return Err(error);
                }
            }
        }
    }

    async fn fan_out(&self, mut broadcast: Broadcast, token: &str) -> Result<Run> {
        let team_id = broadcast.team_id;
        let Some(segment) = broadcast.segment_id else {
            // Sending checks for a segment; one deleted since leaves nobody to send to.
            return self.finish_empty(&broadcast, token).await;
        };
        let topic = match broadcast.topic_id {
            None => None,
            Some(id) => match self.store.get_topic(team_id, id).await? {
                Some(topic) => Some(topic),
                None => {
                    tracing::warn!(broadcast = %broadcast.id, "the broadcast's topic was deleted; nobody can get it");
                    return self.finish_empty(&broadcast, token).await;
                }
            },
        };
        let region = match self.broadcast_region(team_id, &broadcast.from, segment).await {
            Ok(region) => region,
            Err(error) => {
                tracing::warn!(broadcast = %broadcast.id, %error, "the broadcast can no longer be sent; canceled");
                self.store.cancel_broadcast(team_id, broadcast.id, self.clock.now()).await?;
                return Ok(Run::Stopped);
            }
        };
        let properties = self.store.contact_properties(team_id).await?;
        let names = content::placeholder_names(&broadcast);
        let subject = Content::parse(&broadcast.subject);
        let window = self.settings.broadcast_window;
        loop {
            let now = self.clock.now();
            if window > 0 && self.store.broadcast_backlog(broadcast.id).await? >= window {
                // Let the MTA catch up; any worker takes it up again in a moment.
                let back_at = now + chrono::Duration::milliseconds(500);
                self.store.extend_broadcast_lease(broadcast.id, token, back_at).await?;
                return Ok(Run::Paused);
            }
            let started = std::time::Instant::now();
            let members = self
                .store
                .broadcast_candidates(team_id, segment, broadcast.topic_id, broadcast.fanout_after, BATCH)
                .await?;
            let read = started.elapsed();
            let last_batch = members.len() < BATCH as usize;
            let after = members.last().map(|m| m.contact.id).or(broadcast.fanout_after);
            let emails: Vec<NewEmail> = members
                .iter()
                .filter(|m| eligible(m, topic.as_ref()))
                .map(|m| {
                    let link = content::link(&broadcast, &m.contact, &properties, &names);
                    let subject = subject.render(false, |name| content::stored_value(&link.values, name));
                    self.broadcast_email(&broadcast, m, subject, link, region.clone())
                })
                .collect();
            let queued = emails.len() as u64;
            let batch = FanoutBatch {
                broadcast_id: broadcast.id,
                lease_token: token,
                lease_until: now + self.settings.delivery_lease,
                emails,
                after,
                finished: last_batch,
                at: now,
            };
            let built = started.elapsed();
            if !self.store.write_fanout_batch(batch).await? {
                return Ok(Run::Stopped);
            }
            tracing::debug!(broadcast = %broadcast.id, ?read, ?built, written = ?started.elapsed(), "fan-out batch");
            if queued > 0 {
                self.metrics.accepted(queued as usize);
                self.wake_workers(&crate::emails::Route::ALL);
            }
            broadcast.fanout_after = after;
            broadcast.fanned_out += queued;
            if last_batch {
                tracing::info!(broadcast = %broadcast.id, emails = broadcast.fanned_out, "broadcast sent");
                return Ok(Run::Finished);
            }
        }
    }

    async fn finish_empty(&self, broadcast: &Broadcast, token: &str) -> Result<Run> {
        let now = self.clock.now();
        let batch = FanoutBatch {
            broadcast_id: broadcast.id,
            lease_token: token,
            lease_until: now,
            emails: Vec::new(),
            after: broadcast.fanout_after,
            finished: true,
            at: now,
        };
        Ok(if self.store.write_fanout_batch(batch).await? { Run::Finished } else { Run::Stopped })
    }

    /// One contact's email: the broadcast's content by reference, the subject filled in.
    fn broadcast_email(
        &self,
        broadcast: &Broadcast,
        member: &Candidate,
        subject: String,
        link: super::FromBroadcast,
        region: Option<String>,
    ) -> NewEmail {
        let now = self.clock.now();
        let id = EmailId::new();
        let from_domain =
            crate::emails::address::parse_mailbox(&broadcast.from).map(|m| m.domain()).unwrap_or_default();
        let first_event = EmailEvent::new(id, EventKind::Queued, None, now);
        let delivery = delivery_for(
            &member.contact.email,
            RecipientKind::To,
            Lane::Bulk,
            now,
            now + self.settings.delivery_expiry,
            region,
        );
        NewEmail {
            email: Email {
                id,
                team_id: broadcast.team_id,
                message_id: format!("<{id}@{from_domain}>"),
                from: broadcast.from.clone(),
                to: vec![member.contact.email.clone()],
                cc: Vec::new(),
                bcc: Vec::new(),
                reply_to: broadcast.reply_to.clone(),
                subject,
                html: None,
                text: None,
                headers: Vec::new(),
                tags: Vec::new(),
                topic_id: broadcast.topic_id.map(|t| t.to_string()),
                scheduled_at: None,
                created_at: now,
                last_event: first_event.kind,
                broadcast: Some(link),
            },
            attachments: Vec::new(),
            deliveries: delivery.into_iter().collect(),
            first_event,
        }
    }
}

/// Whether a segment member gets the broadcast (consent; suppression is the worker's).
fn eligible(member: &Candidate, topic: Option<&crate::audience::Topic>) -> bool {
    if member.contact.unsubscribed {
        return false;
    }
    match topic {
        None => true,
        Some(topic) => TopicConsent {
            default_subscription: topic.default_subscription,
            contact: Some((member.contact.unsubscribed, member.topic_choice)),
        }
        .refusal()
        .is_none(),
    }
}
