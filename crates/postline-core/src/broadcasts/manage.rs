//! The broadcast lifecycle: create, read, change and delete drafts, duplicate,
//! send (now or scheduled), cancel, and send a test copy.

use serde_json::Value;

use super::{
    Broadcast, BroadcastStatus,
    content::{self, unknown_names},
    input::BroadcastFields,
};
use crate::{
    Error, Postline, Result,
    clock::Timestamp,
    emails::{
        address::parse_mailbox,
        sandbox,
        schedule::{When, parse_scheduled_at},
    },
    ids::{BroadcastId, TeamId},
    pagination::{Page, PageRequest},
};

/// Most addresses a test copy goes to.
pub const MAX_TEST_RECIPIENTS: usize = 5;

fn apply(broadcast: &mut Broadcast, fields: BroadcastFields) {
    let BroadcastFields {
        name,
        segment_id,
        from,
        subject,
        reply_to,
        preview_text,
        html,
        text,
        source,
        topic_id,
        send: _,
        scheduled_at: _,
    } = fields;
    if let Some(name) = name {
        broadcast.name = name;
    }
    if let Some(segment_id) = segment_id {
        broadcast.segment_id = segment_id;
    }
    if let Some(from) = from {
        broadcast.from = from;
    }
    if let Some(subject) = subject {
        broadcast.subject = subject;
    }
    if let Some(reply_to) = reply_to {
        broadcast.reply_to = reply_to.unwrap_or_default();
    }
    if let Some(preview_text) = preview_text {
        broadcast.preview_text = preview_text;
    }
    if let Some(html) = html {
        broadcast.html = html;
    }
    if let Some(text) = text {
        broadcast.text = text;
    }
    if let Some(source) = source {
        broadcast.source = source;
    }
    if let Some(topic_id) = topic_id {
        broadcast.topic_id = topic_id;
    }
}

impl Postline {
    /// `POST /broadcasts`: a draft, or with `send: true` a broadcast sent now or at
    /// `scheduled_at`.
    pub async fn create_broadcast(&self, team_id: TeamId, body: &Value) -> Result<Broadcast> {
        let fields = BroadcastFields::parse(body)?;
        let from = fields.from.clone().ok_or_else(|| Error::missing("from"))?;
        let subject = fields.subject.clone().ok_or_else(|| Error::missing("subject"))?;
        if !matches!(fields.segment_id, Some(Some(_))) {
            return Err(Error::missing("segment_id"));
        }
        if fields.scheduled_at.is_some() && !fields.send {
            return Err(Error::value("`scheduled_at` can only be used with `send: true`."));
        }
        let (send, scheduled_at) = (fields.send, fields.scheduled_at.clone());
        let mut broadcast = Broadcast {
            id: BroadcastId::new(),
            team_id,
            name: None,
            segment_id: None,
            from,
            subject,
            reply_to: Vec::new(),
            preview_text: None,
            html: None,
            text: None,
            source: None,
            topic_id: None,
            status: BroadcastStatus::Draft,
            send_at: None,
            scheduled_at: None,
            sent_at: None,
            created_at: self.clock.now(),
            fanned_out: 0,
            fanout_after: None,
        };
        apply(&mut broadcast, fields);
        self.check_references(&broadcast).await?;
        if send {
            self.check_sendable(&broadcast).await?;
            self.mark_sending(&mut broadcast, scheduled_at.as_deref())?;
        }
        self.store.insert_broadcast(&broadcast).await?;
        if broadcast.status == BroadcastStatus::Queued {
            self.broadcast_wake.notify_one();
        }
        Ok(broadcast)
    }

    pub async fn get_broadcast(&self, team_id: TeamId, id: BroadcastId) -> Result<Broadcast> {
        self.store.get_broadcast(team_id, id).await?.ok_or(Error::NotFound("Broadcast"))
    }

    pub async fn list_broadcasts(&self, team_id: TeamId, page: PageRequest) -> Result<Page<Broadcast>> {
        self.store.list_broadcasts(team_id, &page).await
    }

    /// `PATCH /broadcasts/{id}`: only a draft changes (also while scheduled).
    pub async fn update_broadcast(&self, team_id: TeamId, id: BroadcastId, body: &Value) -> Result<Broadcast> {
        let fields = BroadcastFields::parse(body)?;
        let mut broadcast = self.get_broadcast(team_id, id).await?;
        require_draft(&broadcast, "changed")?;
        apply(&mut broadcast, fields);
        self.check_references(&broadcast).await?;
        if broadcast.is_scheduled() {
            // A scheduled broadcast must stay sendable as it is changed.
            self.check_sendable(&broadcast).await?;
        }
        if !self.store.save_broadcast_draft(&broadcast).await? {
            return Err(Error::Conflict(
                "The broadcast started sending meanwhile and can no longer be changed.".into(),
            ));
        }
        Ok(broadcast)
    }

    /// `DELETE /broadcasts/{id}`: only a draft (a scheduled one is thereby unscheduled).
    pub async fn delete_broadcast(&self, team_id: TeamId, id: BroadcastId) -> Result<()> {
        let broadcast = self.get_broadcast(team_id, id).await?;
        require_draft(&broadcast, "deleted")?;
        if !self.store.delete_broadcast_draft(team_id, id).await? {
            return Err(Error::Conflict(
                "The broadcast started sending meanwhile and can no longer be deleted.".into(),
            ));
        }
        Ok(())
    }

    /// `POST /broadcasts/{id}/duplicate`: a new draft with the same content and audience.
    pub async fn duplicate_broadcast(&self, team_id: TeamId, id: BroadcastId) -> Result<Broadcast> {
        let original = self.get_broadcast(team_id, id).await?;
        let copy = Broadcast {
            id: BroadcastId::new(),
            status: BroadcastStatus::Draft,
            send_at: None,
            scheduled_at: None,
            sent_at: None,
            created_at: self.clock.now(),
            fanned_out: 0,
            fanout_after: None,
            ..original
        };
        self.store.insert_broadcast(&copy).await?;
        Ok(copy)
    }

    /// `POST /broadcasts/{id}/send`: sends a draft now or at `scheduled_at` (a
    /// scheduled draft may be sent again to change its time).
    pub async fn send_broadcast(&self, team_id: TeamId, id: BroadcastId, body: &Value) -> Result<Broadcast> {
        let scheduled_at = match body.get("scheduled_at").or_else(|| body.get("scheduledAt")) {
            None | Some(Value::Null) => None,
            Some(Value::String(raw)) => Some(raw.clone()),
            Some(_) => return Err(Error::value("The `scheduled_at` field must be a string.")),
        };
        let mut broadcast = self.get_broadcast(team_id, id).await?;
        require_draft(&broadcast, "sent")?;
        self.check_references(&broadcast).await?;
        self.check_sendable(&broadcast).await?;
        self.mark_sending(&mut broadcast, scheduled_at.as_deref())?;
        if !self.store.save_broadcast_draft(&broadcast).await? {
            return Err(Error::Conflict("The broadcast is already being sent.".into()));
        }
        if broadcast.status == BroadcastStatus::Queued {
            self.broadcast_wake.notify_one();
        }
        Ok(broadcast)
    }

    /// `POST /broadcasts/{id}/cancel`: stops a scheduled or sending broadcast; emails
    /// already handed to the MTA go on, the rest never go out.
    pub async fn cancel_broadcast(&self, team_id: TeamId, id: BroadcastId) -> Result<Broadcast> {
        let broadcast = self.get_broadcast(team_id, id).await?;
        if !(broadcast.is_scheduled() || broadcast.status == BroadcastStatus::Queued) {
            return Err(Error::Conflict(format!(
                "Only a scheduled or sending broadcast can be canceled; this one is {}{}.",
                broadcast.status.as_str(),
                if broadcast.status == BroadcastStatus::Draft { " and not scheduled" } else { "" }
            )));
        }
        if !self.store.cancel_broadcast(team_id, id, self.clock.now()).await? {
            return Err(Error::Conflict("The broadcast finished sending meanwhile.".into()));
        }
        self.get_broadcast(team_id, id).await
    }

    /// `POST /broadcasts/{id}/test` (Postline's extension, the dashboard's "Send test
    /// email"): the broadcast to up to five addresses now, personalised for the
    /// address's contact if it is one, without the reply-to (as the reference says).
    pub async fn send_test_broadcast(
        &self,
        principal: &crate::api_keys::Principal,
        id: BroadcastId,
        body: &Value,
    ) -> Result<Vec<crate::ids::EmailId>> {
        let broadcast = self.get_broadcast(principal.team_id, id).await?;
        let Some(fields) = body.as_object() else {
            return Err(Error::value("The request body must be a JSON object."));
        };
        if fields.get("to").is_none_or(Value::is_null) {
            return Err(Error::missing("to"));
        }
        let to = crate::emails::input::addresses(fields, "to", &["to"])?;
        if to.is_empty() || to.len() > MAX_TEST_RECIPIENTS {
            return Err(Error::value(format!("The `to` field must name 1 to {MAX_TEST_RECIPIENTS} addresses.")));
        }
        if broadcast.html.is_none() && broadcast.text.is_none() {
            return Err(no_content());
        }
        let properties = self.store.contact_properties(principal.team_id).await?;
        let names = content::placeholder_names(&broadcast);
        let mut ids = Vec::new();
        for address in to {
            let mailbox = parse_mailbox(&address).ok_or_else(|| Error::value("Invalid `to` address."))?;
            let contact = self
                .store
                .find_contact(principal.team_id, &crate::store::ContactRef::Email(mailbox.address.to_lowercase()))
                .await?;
            let values = match &contact {
                Some(contact) => content::values_for(contact, &properties, &names),
                None => content::values_for(&stand_in(principal.team_id, &mailbox.address), &properties, &names),
            };
            // A working link, so the unsubscribe flow can be tried from the test copy.
            let link = self.unsubscribe_url(principal.team_id, None, &mailbox.address, broadcast.topic_id);
            let mut body = serde_json::json!({
                "from": broadcast.from,
                "to": [address],
                "subject": content::render(&broadcast.subject, false, &values),
            });
            if let Some(html) = content::html_for(&broadcast, &values) {
                body["html"] = Value::String(html.replace(content::UNSUBSCRIBE_PLACEHOLDER, &link));
            }
            if let Some(text) = content::text_for(&broadcast, &values) {
                body["text"] = Value::String(text.replace(content::UNSUBSCRIBE_PLACEHOLDER, &link));
            }
            let email = self.prepare_email(principal, &body).await?;
            ids.push(email.email.id);
            self.accept(vec![email], None).await?;
        }
        Ok(ids)
    }

    /// The segment and topic named exist in the team.
    async fn check_references(&self, broadcast: &Broadcast) -> Result<()> {
        if let Some(segment) = broadcast.segment_id {
            self.store.get_segment(broadcast.team_id, segment).await?.ok_or(Error::NotFound("Segment"))?;
        }
        if let Some(topic) = broadcast.topic_id {
            self.get_topic(broadcast.team_id, topic).await?;
        }
        Ok(())
    }

    /// What sending needs: an audience, content, placeholders that mean something,
    /// and a sender the team may use.
    async fn check_sendable(&self, broadcast: &Broadcast) -> Result<()> {
        let Some(segment) = broadcast.segment_id else { return Err(Error::missing("segment_id")) };
        if broadcast.html.as_deref().is_none_or(|h| h.trim().is_empty())
            && broadcast.text.as_deref().is_none_or(|t| t.trim().is_empty())
        {
            return Err(no_content());
        }
        let properties = self.store.contact_properties(broadcast.team_id).await?;
        let unknown = unknown_names(broadcast, &properties);
        if !unknown.is_empty() {
            let listed: Vec<String> = unknown.iter().map(|n| format!("`{{{{{{{n}}}}}}}`")).collect();
            return Err(Error::value(format!(
                "Unknown placeholder {}: use FIRST_NAME, LAST_NAME, EMAIL, RESEND_UNSUBSCRIBE_URL or the key of a contact property.",
                listed.join(", ")
            )));
        }
        self.broadcast_region(broadcast.team_id, &broadcast.from, segment).await.map(|_| ())
    }

    /// The region the broadcast's mail leaves from: its verified sending domain's.
    /// Without one, only a segment of sandbox test addresses may be sent to (so local
    /// development needs no DNS), as with single emails.
    pub(crate) async fn broadcast_region(
        &self,
        team_id: TeamId,
        from: &str,
        segment: crate::ids::SegmentId,
    ) -> Result<Option<String>> {
        let from_domain = parse_mailbox(from).map(|m| m.domain()).unwrap_or_default();
        match self.sending_domain(team_id, &from_domain).await? {
            Some(domain) if domain.sending && domain.status.may_send() => return Ok(Some(domain.region)),
            _ => {}
        }
        let mut after = None;
        loop {
            let members = self.store.broadcast_candidates(team_id, segment, None, after, 500).await?;
            if members.iter().any(|m| sandbox::scenario(&m.contact.email.to_lowercase()).is_none()) {
                return Err(Error::Forbidden(format!(
                    "The {from_domain} domain is not verified. Please, add and verify your domain on {}/domains",
                    self.settings.public_url
                )));
            }
            match members.last() {
                Some(last) if members.len() == 500 => after = Some(last.contact.id),
                _ => return Ok(None),
            }
        }
    }

    /// Sets when the broadcast goes out: now (`queued`) or at a later time (still a
    /// `draft`, scheduled).
    fn mark_sending(&self, broadcast: &mut Broadcast, scheduled_at: Option<&str>) -> Result<()> {
        let now = self.clock.now();
        let at: Option<Timestamp> = match scheduled_at {
            None => None,
            Some(raw) => match parse_scheduled_at(raw, now)? {
                When::Now => None,
                When::At(at) => Some(at),
            },
        };
        broadcast.send_at = Some(at.unwrap_or(now));
        broadcast.scheduled_at = at;
        broadcast.status = if at.is_some() { BroadcastStatus::Draft } else { BroadcastStatus::Queued };
        Ok(())
    }
}

fn require_draft(broadcast: &Broadcast, action: &str) -> Result<()> {
    if broadcast.status == BroadcastStatus::Draft {
        return Ok(());
    }
    Err(Error::Conflict(format!("Only a draft broadcast can be {action}; this one is {}.", broadcast.status.as_str())))
}

fn no_content() -> Error {
    Error::value("The broadcast has no content: give it `html`, `text` or `markdown` before sending it.")
}

/// A contact-shaped value for a test address that is not a contact (names missing).
fn stand_in(team_id: TeamId, address: &str) -> crate::audience::Contact {
    let now = chrono::Utc::now();
    crate::audience::Contact {
        id: crate::ids::ContactId::new(),
        team_id,
        email: address.to_string(),
        first_name: None,
        last_name: None,
        unsubscribed: false,
        properties: serde_json::Map::new(),
        created_at: now,
        updated_at: now,
    }
}
