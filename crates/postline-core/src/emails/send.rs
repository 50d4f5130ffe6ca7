//! Sending: validate a request, fetch its remote attachments, and turn it into the
//! rows an accepted email is made of. Acceptance itself is one store call, so a
//! batch (or an idempotent response) commits together.

use std::collections::HashSet;

use serde_json::Value;

use super::{
    Attachment, AttachmentContent, Disposition, Email, EmailEvent, EventKind, Lane, NewDelivery, NewEmail,
    RecipientKind, Route,
    address::parse_mailbox,
    attachments::{AttachmentSpec, MAX_EMAIL_BYTES_BASE64, Source, base64_len, effective_content_type},
    input::SendRequest,
    sandbox,
    schedule::{When, parse_scheduled_at},
};
use crate::{
    Error, Invalid, Postline, Result,
    api_keys::Principal,
    idempotency::Completion,
    ids::{AttachmentId, DeliveryId, EmailId, TopicId},
    remote::FetchFailure,
};

/// Most emails in one batch.
pub const MAX_BATCH: usize = 100;

/// How a batch treats invalid items (`x-batch-validation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BatchMode {
    /// Any invalid item rejects the whole batch.
    #[default]
    Strict,
    /// Valid items are queued; invalid ones are reported by index.
    Permissive,
}

impl BatchMode {
    /// Parses the header value.
    pub fn parse(raw: &str) -> Result<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "strict" => Ok(BatchMode::Strict),
            "permissive" => Ok(BatchMode::Permissive),
            _ => Err(Error::value("The `x-batch-validation` header must be `strict` or `permissive`.")),
        }
    }
}

/// An item of a permissive batch that was not queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItemError {
    pub index: usize,
    pub message: String,
}

/// The validated, not yet accepted emails of a batch.
#[derive(Debug, Clone)]
pub struct PreparedBatch {
    pub emails: Vec<NewEmail>,
    pub errors: Vec<BatchItemError>,
}

impl Postline {
    /// Validates a `POST /emails` body and builds the email to accept, fetching
    /// remote attachments. Nothing is written.
    /// A `template` is expanded into the ordinary fields first.
    pub async fn prepare_email(&self, principal: &Principal, body: &Value) -> Result<NewEmail> {
        let expanded = self.expand_template(principal.team_id, body).await?;
        let request = SendRequest::parse(expanded.as_ref().unwrap_or(body))?;
        self.prepare(principal, request).await
    }

    /// Validates a `POST /emails/batch` body. In strict mode the first invalid item
    /// fails the whole batch (its message says which item).
    pub async fn prepare_batch(&self, principal: &Principal, body: &Value, mode: BatchMode) -> Result<PreparedBatch> {
        let Value::Array(items) = body else {
            return Err(Error::value("The request body must be a JSON array of emails."));
        };
        if items.is_empty() {
            return Err(Error::value("The batch must contain at least one email."));
        }
        if items.len() > MAX_BATCH {
            return Err(Error::value(format!("A batch can contain at most {MAX_BATCH} emails.")));
        }
        let mut emails = Vec::with_capacity(items.len());
        let mut errors = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match self.prepare_batch_item(principal, item).await {
                Ok(email) => emails.push(email),
                Err(Error::Invalid { kind, message }) => match mode {
                    BatchMode::Strict => {
                        return Err(Error::Invalid { kind, message: format!("emails[{index}]: {message}") });
                    }
                    BatchMode::Permissive => errors.push(BatchItemError { index, message }),
                },
                Err(Error::NotFound(what)) if mode == BatchMode::Permissive => {
                    errors.push(BatchItemError { index, message: format!("{what} not found") });
                }
                Err(other) => return Err(other),
            }
        }
        Ok(PreparedBatch { emails, errors })
    }

    async fn prepare_batch_item(&self, principal: &Principal, item: &Value) -> Result<NewEmail> {
        let expanded = self.expand_template(principal.team_id, item).await?;
        let request = SendRequest::parse(expanded.as_ref().unwrap_or(item))?;
        if !request.attachments.is_empty() {
            return Err(Error::value("Attachments are not supported in batch emails; send them with POST /emails."));
        }
        if request.scheduled_at.is_some() {
            return Err(Error::value("`scheduled_at` is not supported in batch emails; send them with POST /emails."));
        }
        self.prepare(principal, request).await
    }

    /// Accepts prepared emails durably (with the idempotent response, if any) and
    /// wakes the workers. After `Ok`, nothing accepted is ever lost.
    pub async fn accept(&self, emails: Vec<NewEmail>, completion: Option<Completion>) -> Result<()> {
        let count = emails.len();
        let routes: Vec<Route> = emails.iter().flat_map(|e| e.deliveries.iter().map(|d| d.route)).collect();
        self.store.accept(emails, completion).await?;
        self.metrics.accepted(count);
        self.wake_workers(&routes);
        Ok(())
    }

    async fn prepare(&self, principal: &Principal, request: SendRequest) -> Result<NewEmail> {
        let region = self.check_sender(principal, &request).await?;
        if let Some(topic) = &request.topic_id {
            // Who may get it is decided per recipient when it is sent.
            self.get_topic(principal.team_id, TopicId::parse(topic)?).await?;
        }
        let now = self.clock.now();
        let when = match &request.scheduled_at {
            None => When::Now,
            Some(raw) => parse_scheduled_at(raw, now)?,
        };
        let id = EmailId::new();
        let attachments = self.load_attachments(id, &request).await?;
        let due_at = match when {
            When::Now => now,
            When::At(at) => at,
        };
        let deliveries = deliveries(&request, due_at, due_at + self.settings.delivery_expiry, region);
        let first_event = match when {
            When::Now => EmailEvent::new(id, EventKind::Queued, None, now),
            When::At(_) => EmailEvent::new(id, EventKind::Scheduled, None, now),
        };
        let email = Email {
            id,
            team_id: principal.team_id,
            message_id: format!("<{id}@{}>", request.from.domain()),
            from: request.from_raw,
            to: request.to,
            cc: request.cc,
            bcc: request.bcc,
            reply_to: request.reply_to,
            subject: request.subject,
            html: request.html,
            text: request.text,
            headers: request.headers,
            tags: request.tags,
            topic_id: request.topic_id,
            scheduled_at: match when {
                When::Now => None,
                When::At(at) => Some(at),
            },
            created_at: now,
            last_event: first_event.kind,
            broadcast: None,
        };
        Ok(NewEmail { email, attachments, deliveries, first_event })
    }

    /// A `sending_access` key restricted to a domain may only send from that domain.
    /// The sending rules: mail to real recipients must come from a verified domain
    /// of the team (sends only to sandbox test recipients work from any address, so
    /// local development needs no DNS), and a key restricted to a domain sends only
    /// from it. Returns the sending domain's region, if a domain is involved.
    async fn check_sender(&self, principal: &Principal, request: &SendRequest) -> Result<Option<String>> {
        let from_domain = request.from.domain();
        let domain = self.sending_domain(principal.team_id, &from_domain).await?;
        if let Some(restricted_to) = principal.domain_id
            && domain.as_ref().is_none_or(|d| d.id != restricted_to)
        {
            return Err(Error::Forbidden(format!(
                "This API key can only send from the domain it is restricted to, not from `{from_domain}`."
            )));
        }
        let only_sandbox =
            request.recipients().all(|r| parse_mailbox(r).is_some_and(|m| sandbox::scenario(&m.address).is_some()));
        match domain {
            Some(domain) if domain.sending && domain.status.may_send() => Ok(Some(domain.region)),
            // In capture mode nothing leaves the machine, so any sender may be tried out.
            _ if only_sandbox || self.settings.capture => Ok(None),
            _ => Err(Error::Forbidden(format!(
                "The {from_domain} domain is not verified. Please, add and verify your domain on {}/domains",
                self.settings.public_url
            ))),
        }
    }

    async fn load_attachments(&self, email_id: EmailId, request: &SendRequest) -> Result<Vec<AttachmentContent>> {
        let mut total = base64_len(request.html.as_ref().map_or(0, |h| h.len() as u64))
            + base64_len(request.text.as_ref().map_or(0, |t| t.len() as u64));
        let mut loaded = Vec::with_capacity(request.attachments.len());
        for (index, spec) in request.attachments.iter().enumerate() {
            let remaining_raw = (MAX_EMAIL_BYTES_BASE64.saturating_sub(total)) / 4 * 3;
            let (content, fetched_type) = self.attachment_bytes(index, spec, remaining_raw).await?;
            total += base64_len(content.len() as u64);
            if total > MAX_EMAIL_BYTES_BASE64 {
                return Err(too_large());
            }
            let content_type =
                effective_content_type(spec.content_type.as_deref(), spec.filename.as_deref(), fetched_type.as_deref());
            let meta = Attachment {
                id: AttachmentId::new(),
                email_id,
                filename: spec.filename.clone(),
                content_type,
                content_id: spec.content_id.clone(),
                disposition: if spec.content_id.is_some() { Disposition::Inline } else { Disposition::Attachment },
                size: content.len() as u64,
            };
            loaded.push(AttachmentContent { meta, content });
        }
        Ok(loaded)
    }

    async fn attachment_bytes(
        &self,
        index: usize,
        spec: &AttachmentSpec,
        max_bytes: u64,
    ) -> Result<(Vec<u8>, Option<String>)> {
        match &spec.source {
            Source::Bytes(bytes) => Ok((bytes.clone(), None)),
            Source::Remote(url) => match self.remote.fetch(url, max_bytes).await {
                Ok(fetched) => Ok((fetched.bytes, fetched.content_type)),
                Err(FetchFailure::Refused(reason)) => {
                    Err(Error::SecurityRefused(format!("Attachment {index}: `path` was refused: {reason}.")))
                }
                Err(FetchFailure::TooLarge { .. }) => Err(too_large()),
                Err(FetchFailure::Failed(reason)) => Err(Error::invalid(
                    Invalid::Attachment,
                    format!("Attachment {index}: could not fetch `path`: {reason}."),
                )),
            },
        }
    }
}

fn too_large() -> Error {
    Error::invalid(Invalid::Attachment, "The email is larger than 40 MB (counting attachments after base64 encoding).")
}

/// One queue row per distinct recipient address (case-insensitive), `to` first.
fn deliveries(
    request: &SendRequest,
    due_at: crate::clock::Timestamp,
    expires_at: crate::clock::Timestamp,
    region: Option<String>,
) -> Vec<NewDelivery> {
    let mut seen = HashSet::new();
    let kinds = request
        .to
        .iter()
        .map(|a| (a, RecipientKind::To))
        .chain(request.cc.iter().map(|a| (a, RecipientKind::Cc)))
        .chain(request.bcc.iter().map(|a| (a, RecipientKind::Bcc)));
    kinds
        .filter_map(|(raw, kind)| {
            let address = parse_mailbox(raw)?.address;
            seen.insert(address.to_lowercase())
                .then(|| delivery_for(&address, kind, Lane::Transactional, due_at, expires_at, region.clone()))?
        })
        .collect()
}

/// The queue row of one recipient's copy: sandbox test addresses go to the sandbox
/// worker, real ones to the MTA. `None` if `raw` is not an address.
pub(crate) fn delivery_for(
    raw: &str,
    kind: RecipientKind,
    lane: Lane,
    due_at: crate::clock::Timestamp,
    expires_at: crate::clock::Timestamp,
    region: Option<String>,
) -> Option<NewDelivery> {
    let address = parse_mailbox(raw)?.address;
    let sandboxed = sandbox::scenario(&address).is_some();
    Some(NewDelivery {
        id: DeliveryId::new(),
        route: if sandboxed { Route::Sandbox } else { Route::Smtp },
        lane,
        // Only the sending domain's region delivers its mail; the sandbox runs anywhere.
        region: if sandboxed { None } else { region },
        recipient: address,
        kind,
        due_at,
        expires_at,
    })
}
