//! The store traits: what the domain needs from persistence, one small trait per
//! aggregate, composed into [`Store`]. The store crate implements them once for
//! SQLite and PostgreSQL.
//!
//! Contract every implementation keeps: every method scoped by a `TeamId` returns
//! nothing of another team; writes listed together in one method are one
//! transaction; an `Ok` from a write means it is durable.

use async_trait::async_trait;

use crate::{
    Result,
    api_keys::{ApiKey, NewApiKey},
    audience::{
        Contact, ContactProperty, Segment, Subscription, Topic, TopicConsent,
        imports::{ContactImport, ImportCounts, ImportRow, ImportStatus, RowError},
    },
    broadcasts::{
        Broadcast, Candidate,
        stats::{BroadcastStats, ClickedLink, RecipientQuery, RecipientRow},
    },
    clock::Timestamp,
    delivery::suppression::{Reason, Suppression, SuppressionRef},
    delivery::{ClaimedDelivery, DeliveryOutcome},
    dkim::DkimKey,
    domains::{
        Domain,
        claims::{ClaimStatus, DomainClaim},
    },
    emails::{Attachment, Email, EmailEvent, NewEmail, OutboundEmail},
    idempotency::{Claim, Completion},
    ids::{
        ApiKeyId, AttachmentId, BroadcastId, ClaimId, ContactId, ContactImportId, ContactPropertyId, DomainId, EmailId,
        ReceivedEmailId, SegmentId, TeamId, TemplateId, TopicId, UserId, WebhookId,
    },
    pagination::{Page, PageRequest},
    receiving::{NewReceivedEmail, ReceivedAttachment, ReceivedEmail, reports::ReportEffects},
    teams::Team,
    templates::{Template, manage::TemplateRef},
    users::{Session, User},
    webhooks::{
        OutboxEvent, Webhook,
        dispatch::{AttemptRecord, DueDelivery, Next},
        history::{AttemptLog, EventLog},
    },
};

/// Teams.
#[async_trait]
pub trait TeamStore {
    async fn insert_team(&self, team: &Team) -> Result<()>;
    /// The oldest team: the one `serve` creates on first start.
    async fn first_team(&self) -> Result<Option<Team>>;
}

/// API keys.
#[async_trait]
pub trait ApiKeyStore {
    async fn insert_api_key(&self, key: NewApiKey) -> Result<()>;
    async fn find_api_key_by_hash(&self, token_hash: &str) -> Result<Option<ApiKey>>;
    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> Result<()>;
    async fn list_api_keys(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<ApiKey>>;
    async fn get_api_key(&self, team_id: TeamId, id: ApiKeyId) -> Result<Option<ApiKey>>;
    /// Writes name, permission and domain; `false` when no such key exists in the team.
    async fn update_api_key(&self, key: &ApiKey) -> Result<bool>;
    /// `false` when no such key exists in the team.
    async fn rename_api_key(&self, team_id: TeamId, id: ApiKeyId, name: &str) -> Result<bool>;
    /// `false` when no such key exists in the team.
    async fn delete_api_key(&self, team_id: TeamId, id: ApiKeyId) -> Result<bool>;
}

/// Sending domains.
#[async_trait]
pub trait DomainStore {
    /// Inserts the domain and enqueues `event` (if any) in one transaction.
    async fn insert_domain(&self, domain: &Domain, event: Option<&OutboxEvent>) -> Result<()>;
    async fn get_domain(&self, team_id: TeamId, id: DomainId) -> Result<Option<Domain>>;
    async fn list_domains(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Domain>>;
    /// Writes every mutable field of the domain, and enqueues `event` (if any), in one transaction.
    async fn save_domain(&self, domain: &Domain, event: Option<&OutboxEvent>) -> Result<()>;
    /// Deletes the domain and enqueues `event` in one transaction; `false` when no
    /// such domain exists in the team.
    async fn delete_domain(&self, team_id: TeamId, id: DomainId, event: Option<&OutboxEvent>) -> Result<bool>;
    /// The team's domain with this (lower-cased) name.
    async fn domain_by_name(&self, team_id: TeamId, name: &str) -> Result<Option<Domain>>;
    /// Whether another team has this name in a sending state (verified or temporarily failing).
    async fn name_verified_elsewhere(&self, team_id: TeamId, name: &str) -> Result<bool>;
    /// Leases domains whose check is due (by moving their next check to `lease_until`).
    async fn claim_due_domains(&self, now: Timestamp, lease_until: Timestamp, limit: u32) -> Result<Vec<Domain>>;

    /// The domain's name, if it exists in the team.
    async fn domain_name(&self, team_id: TeamId, id: DomainId) -> Result<Option<String>> {
        Ok(self.get_domain(team_id, id).await?.map(|d| d.name))
    }

    /// Whether the domain exists in the team.
    async fn domain_exists(&self, team_id: TeamId, id: DomainId) -> Result<bool> {
        Ok(self.get_domain(team_id, id).await?.is_some())
    }
}

/// Webhook endpoints and their outbox.
#[async_trait]
pub trait WebhookStore {
    async fn insert_webhook(&self, webhook: &Webhook) -> Result<()>;
    async fn get_webhook(&self, team_id: TeamId, id: WebhookId) -> Result<Option<Webhook>>;
    async fn list_webhooks(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Webhook>>;
    async fn save_webhook(&self, webhook: &Webhook) -> Result<()>;
    /// `false` when no such endpoint exists in the team.
    async fn delete_webhook(&self, team_id: TeamId, id: WebhookId) -> Result<bool>;
    /// Leases due deliveries of enabled endpoints.
    async fn claim_due_webhook_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DueDelivery>>;
    /// Records an attempt and what comes next, in one transaction. When the schedule
    /// is exhausted and the endpoint has not succeeded for `disable_after`, the
    /// endpoint is disabled.
    async fn record_webhook_attempt(&self, delivery: &DueDelivery, attempt: &AttemptRecord, next: Next) -> Result<()>;
    async fn set_webhook_secret(&self, id: WebhookId, secret: &str) -> Result<()>;
    /// Renews the lease of every delivery claimed with `token`.
    async fn extend_webhook_lease(&self, token: &str, until: Timestamp) -> Result<()>;
    async fn webhook_events(&self, id: WebhookId, page: &PageRequest) -> Result<Page<EventLog>>;
    async fn webhook_event(&self, id: WebhookId, event_id: &str) -> Result<Option<EventLog>>;
    async fn webhook_attempts(&self, event_id: &str) -> Result<Vec<AttemptLog>>;
    /// Makes deliveries due now with a fresh schedule.
    async fn replay_webhook_deliveries(
        &self,
        webhook: Option<WebhookId>,
        event_id: Option<&str>,
        since: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<u64>;
    /// Makes failed deliveries of the team (or one endpoint) created since `since` due now.
    async fn replay_failed_webhook_deliveries(
        &self,
        team_id: TeamId,
        webhook: Option<WebhookId>,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<u64>;
}

/// Claims on domains other teams verified.
#[async_trait]
pub trait ClaimStore {
    async fn insert_claim(&self, claim: &DomainClaim) -> Result<()>;
    /// The team's pending claim for a name, if any.
    async fn pending_claim(&self, team_id: TeamId, name: &str) -> Result<Option<DomainClaim>>;
    /// The newest claim on the team's domain.
    async fn claim_for_domain(&self, team_id: TeamId, domain_id: DomainId) -> Result<Option<DomainClaim>>;
    async fn set_claim_status(&self, id: ClaimId, status: ClaimStatus) -> Result<()>;
    /// Completes a claim in one transaction: every other team's domain of that name is
    /// removed, the name's DKIM keys are dropped (fresh ones are made next), the claim
    /// is marked completed.
    async fn complete_claim(&self, claim: &DomainClaim) -> Result<()>;
}

/// The result of a state change on an email that may be in the wrong state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Done,
    NotFound,
    /// The email's current `last_event` forbids the change.
    WrongState(crate::emails::EventKind),
}

/// Outbound emails, their attachments and timelines.
#[async_trait]
pub trait EmailStore {
    /// Writes the emails, their attachments, queue rows and first events, and the
    /// idempotent response if any, in one durable transaction.
    async fn accept(&self, emails: Vec<NewEmail>, completion: Option<Completion>) -> Result<()>;
    async fn get_email(&self, team_id: TeamId, id: EmailId) -> Result<Option<Email>>;
    async fn list_emails(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Email>>;
    /// Newest first, matching the search (already normalized).
    async fn search_emails(
        &self,
        team_id: TeamId,
        search: &crate::emails::search::EmailSearch,
        page: &PageRequest,
    ) -> Result<Page<Email>>;
    /// Moves a scheduled email (and its queue rows) to a new time.
    async fn reschedule_email(
        &self,
        team_id: TeamId,
        id: EmailId,
        at: Timestamp,
        event: EmailEvent,
    ) -> Result<Transition>;
    /// Cancels a scheduled email whose queue rows are not being worked on.
    async fn cancel_email(&self, team_id: TeamId, id: EmailId, event: EmailEvent) -> Result<Transition>;
    async fn email_events(&self, team_id: TeamId, id: EmailId) -> Result<Vec<EmailEvent>>;
    /// Activity for `GET /emails/metrics`, grouped as the scan asks (see
    /// [`crate::emails::stats`]).
    async fn email_metric_rows(
        &self,
        scan: &crate::emails::stats::MetricsScan,
    ) -> Result<crate::emails::stats::MetricRows>;
    async fn list_attachments(
        &self,
        team_id: TeamId,
        email_id: EmailId,
        page: &PageRequest,
    ) -> Result<Page<Attachment>>;
    async fn get_attachment(&self, team_id: TeamId, email_id: EmailId, id: AttachmentId) -> Result<Option<Attachment>>;
    /// An attachment's bytes, for a signed download link (the link carries the team).
    async fn attachment_content(
        &self,
        team_id: TeamId,
        email_id: EmailId,
        id: AttachmentId,
    ) -> Result<Option<(Attachment, Vec<u8>)>>;
}

/// The delivery queue.
#[async_trait]
pub trait QueueStore {
    /// Leases up to `limit` due queue rows of `route` that this node's `region` may
    /// deliver (rows of another region are left to that region's nodes) until `lease_until`. Rows leased by
    /// another worker are skipped until their lease expires; no row is handed out twice.
    async fn claim_due(
        &self,
        route: crate::emails::Route,
        region: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>>;
    /// Records the outcomes of attempts: each queue row's state, its timeline events and
    /// the email's `last_event`, all in one transaction. For each row, `false` if its
    /// lease was lost meanwhile (its outcome is then not recorded).
    async fn complete_deliveries(&self, outcomes: &[(ClaimedDelivery, DeliveryOutcome)]) -> Result<Vec<bool>>;
    /// Pushes the lease of every row claimed with `token` out to `until` (a live
    /// worker's heartbeat); returns how many rows it still holds.
    async fn extend_lease(&self, token: &str, until: Timestamp) -> Result<u64>;
    /// Copies waiting for delivery (queued, due or not), per route.
    async fn queue_depth(&self) -> Result<Vec<(String, i64)>>;
}

/// What the outbound MTA needs: the message, its rendering, signing keys, suppression.
#[async_trait]
pub trait MtaStore {
    /// The emails with these ids (those that exist), each with its attachments' ids:
    /// a worker round reads all its emails at once.
    async fn outbound_emails(&self, ids: &[EmailId]) -> Result<Vec<OutboundEmail>>;
    /// The active (signing) DKIM key of a sending domain.
    async fn dkim_key(&self, domain: &str) -> Result<Option<DkimKey>>;
    /// Stores a domain's first DKIM key unless it has one; returns the active key.
    async fn insert_dkim_key(&self, key: &DkimKey) -> Result<DkimKey>;
    /// Every key of a domain (next, active, retired), oldest first.
    async fn domain_keys(&self, domain: &str) -> Result<Vec<DkimKey>>;
    /// Adds the next key of a rotation.
    async fn add_next_key(&self, key: &DkimKey) -> Result<()>;
    /// Makes the next key active and retires the active one, in one transaction.
    async fn promote_next_key(&self, domain: &str) -> Result<()>;
    /// Deletes a retired key; `false` if `selector` is not a retired key of `domain`.
    async fn remove_retired_key(&self, domain: &str, selector: &str) -> Result<bool>;
    /// A team's suppression entry for a (lower-cased) address.
    async fn suppression(&self, team_id: TeamId, email: &str) -> Result<Option<Suppression>>;
}

/// Opens and clicks from tracking links (`core::tracking`).
#[async_trait]
pub trait TrackingStore {
    /// Appends an engagement event (`opened`, `clicked`, `unsubscribed`) to an email's
    /// timeline with its webhook messages (if the kind has any) and, when `advance`, moves the email's `last_event` to it where
    /// [`crate::tracking::advances`] allows, in one transaction. `false` (nothing
    /// written) if the email does not exist in the team.
    async fn record_engagement(&self, team_id: TeamId, event: &EmailEvent, advance: bool) -> Result<bool>;
}

/// Idempotency keys.
#[async_trait]
pub trait IdempotencyStore {
    /// Claims a key (see [`crate::idempotency`]). Records older than `expired_before`
    /// and in-flight markers whose lease passed are taken over.
    async fn claim_idempotency_key(
        &self,
        team_id: TeamId,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        lease_until: Timestamp,
        expired_before: Timestamp,
    ) -> Result<Claim>;
    async fn release_idempotency_key(&self, team_id: TeamId, key: &str) -> Result<()>;
    /// Deletes records created before `before`; returns how many.
    async fn purge_idempotency_keys(&self, before: Timestamp) -> Result<u64>;
}

/// Installation-wide settings.
#[async_trait]
pub trait SettingsStore {
    /// The named secret, created (randomly, once, race-free across nodes) on first use.
    async fn secret(&self, name: &str) -> Result<Vec<u8>>;
    /// A team's unsubscribe-page branding as saved (JSON), if it ever saved one.
    async fn unsubscribe_page(&self, team_id: TeamId) -> Result<Option<serde_json::Value>>;
    async fn save_unsubscribe_page(&self, team_id: TeamId, page: &serde_json::Value, at: Timestamp) -> Result<()>;
}

/// Everything the domain needs from persistence.
pub trait Store:
    TeamStore
    + ContactImportStore
    + SuppressionStore
    + ContactStore
    + ContactPropertyStore
    + SegmentStore
    + TopicStore
    + ApiKeyStore
    + DomainStore
    + ClaimStore
    + WebhookStore
    + EmailStore
    + QueueStore
    + MtaStore
    + IdempotencyStore
    + SettingsStore
    + BroadcastStore
    + TrackingStore
    + TemplateStore
    + ReceivingStore
    + UserStore
    + CaptureStore
    + crate::request_logs::RequestLogStore
    + crate::exports::ExportStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: TeamStore
        + ContactImportStore
        + SuppressionStore
        + ContactStore
        + ContactPropertyStore
        + SegmentStore
        + TopicStore
        + ApiKeyStore
        + DomainStore
        + ClaimStore
        + WebhookStore
        + EmailStore
        + QueueStore
        + MtaStore
        + IdempotencyStore
        + SettingsStore
        + BroadcastStore
        + TrackingStore
        + TemplateStore
        + ReceivingStore
        + UserStore
        + CaptureStore
        + crate::request_logs::RequestLogStore
        + crate::exports::ExportStore
        + Send
        + Sync
        + 'static
{
}

/// The suppression list as the API manages it (the MTA reads it through
/// [`MtaStore::suppression`]).
#[async_trait]
pub trait SuppressionStore {
    /// Adds entries; an address already on the list keeps its entry. Returns the entry
    /// of each address, in order.
    async fn add_suppressions(&self, entries: &[Suppression]) -> Result<Vec<Suppression>>;
    async fn find_suppression(&self, team_id: TeamId, by: &SuppressionRef) -> Result<Option<Suppression>>;
    async fn list_suppressions(
        &self,
        team_id: TeamId,
        reason: Option<Reason>,
        page: &PageRequest,
    ) -> Result<Page<Suppression>>;
    /// Removes the entries named; returns those that existed.
    async fn remove_suppressions(&self, team_id: TeamId, refs: &[SuppressionRef]) -> Result<Vec<Suppression>>;
}

/// A batch of an import's rows to write in one transaction with its progress.
#[derive(Debug, Clone)]
pub struct ImportBatch<'a> {
    pub import: &'a ContactImport,
    /// The lease the worker holds; the write is refused if another worker took over.
    pub lease_token: &'a str,
    pub lease_until: Timestamp,
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
    /// How many of `errors` to keep (the rest are only counted).
    pub keep_errors: usize,
    /// Data rows handled once this batch is written.
    pub rows_done: u64,
    pub at: Timestamp,
}

/// Contact imports: the job, its file, its progress and its row errors.
#[async_trait]
pub trait ContactImportStore {
    /// Stores a queued import with its file, in one transaction.
    async fn insert_contact_import(
        &self,
        import: &ContactImport,
        fields: &serde_json::Value,
        file: &[u8],
    ) -> Result<()>;
    async fn get_contact_import(&self, team_id: TeamId, id: ContactImportId) -> Result<Option<ContactImport>>;
    async fn list_contact_imports(
        &self,
        team_id: TeamId,
        status: Option<ImportStatus>,
        page: &PageRequest,
    ) -> Result<Page<ContactImport>>;
    /// The first `limit` row errors, by row.
    async fn import_errors(&self, id: ContactImportId, limit: u32) -> Result<Vec<RowError>>;
    /// Leases the oldest import that is queued, or in progress with a lapsed lease.
    async fn claim_contact_import(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<(ContactImport, String)>>;
    /// The `seq`-th piece of an import's file (from 0), if there is one.
    async fn import_chunk(&self, id: ContactImportId, seq: u32) -> Result<Option<Vec<u8>>>;
    /// Writes rows, errors and progress; returns the new counts, or `None` if the
    /// lease was lost (nothing written).
    async fn write_import_batch(&self, batch: &ImportBatch<'_>) -> Result<Option<ImportCounts>>;
    /// Queues a draft with its fields; `false` if it is no draft of the team (any more).
    async fn start_contact_import(
        &self,
        team_id: TeamId,
        id: ContactImportId,
        fields: &serde_json::Value,
    ) -> Result<bool>;
    /// Deletes drafts (and their files) uploaded before `before`.
    async fn delete_import_drafts(&self, before: Timestamp) -> Result<u64>;
    /// Ends an import (`completed` or `failed`), under its lease.
    async fn finish_contact_import(
        &self,
        id: ContactImportId,
        lease_token: &str,
        status: ImportStatus,
        failure: Option<&str>,
        at: Timestamp,
    ) -> Result<bool>;
}

/// How to find a contact: by id, or by its address (lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactRef {
    Id(ContactId),
    Email(String),
}

/// What writing a contact came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactWrite {
    Done,
    /// Another contact of the team has this address.
    EmailTaken(ContactId),
    NotFound,
}

/// Custom contact properties.
#[async_trait]
pub trait ContactPropertyStore {
    async fn insert_contact_property(&self, property: &ContactProperty) -> Result<bool>;
    async fn get_contact_property(&self, team_id: TeamId, id: ContactPropertyId) -> Result<Option<ContactProperty>>;
    /// Every property of the team (a handful; used to check values).
    async fn contact_properties(&self, team_id: TeamId) -> Result<Vec<ContactProperty>>;
    async fn list_contact_properties(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<ContactProperty>>;
    async fn save_contact_property(&self, property: &ContactProperty) -> Result<bool>;
    async fn delete_contact_property(&self, team_id: TeamId, id: ContactPropertyId) -> Result<bool>;
}

/// Contacts.
#[async_trait]
pub trait ContactStore {
    /// Inserts a contact with its first segments and topic choices and its event, in
    /// one transaction (`EmailTaken` if the address is already a contact).
    async fn insert_contact(
        &self,
        contact: &Contact,
        segments: &[SegmentId],
        topics: &[(TopicId, Subscription)],
        event: &OutboxEvent,
    ) -> Result<ContactWrite>;
    async fn find_contact(&self, team_id: TeamId, by: &ContactRef) -> Result<Option<Contact>>;
    /// The team's contacts, newest first, optionally only one segment's members.
    async fn list_contacts(
        &self,
        team_id: TeamId,
        segment: Option<SegmentId>,
        page: &PageRequest,
    ) -> Result<Page<Contact>>;
    /// Newest first, matching the search (text already lower-cased).
    async fn search_contacts(
        &self,
        team_id: TeamId,
        search: &crate::audience::search::ContactSearch,
        page: &PageRequest,
    ) -> Result<Page<Contact>>;
    /// Saves a changed contact, with topic choices (replacing earlier ones for the
    /// same topics) and its `contact.updated` event, in one transaction.
    async fn save_contact(
        &self,
        contact: &Contact,
        choices: &[(TopicId, Subscription)],
        event: &OutboxEvent,
    ) -> Result<ContactWrite>;
    async fn delete_contact(&self, team_id: TeamId, id: ContactId, event: &OutboxEvent) -> Result<bool>;
    /// The ids of the segments a contact is in, oldest membership first.
    async fn contact_segment_ids(&self, team_id: TeamId, contact: ContactId) -> Result<Vec<SegmentId>>;
}

/// Segments and their members.
#[async_trait]
pub trait SegmentStore {
    async fn insert_segment(&self, segment: &Segment) -> Result<()>;
    async fn get_segment(&self, team_id: TeamId, id: SegmentId) -> Result<Option<Segment>>;
    async fn list_segments(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Segment>>;
    async fn save_segment(&self, segment: &Segment) -> Result<bool>;
    /// Deletes a segment and its memberships (the contacts stay).
    async fn delete_segment(&self, team_id: TeamId, id: SegmentId) -> Result<bool>;
    /// Adds a contact to a segment; `false` if it was already a member.
    async fn add_to_segment(
        &self,
        team_id: TeamId,
        segment: SegmentId,
        contact: ContactId,
        at: Timestamp,
    ) -> Result<bool>;
    async fn remove_from_segment(&self, team_id: TeamId, segment: SegmentId, contact: ContactId) -> Result<bool>;
    /// How many contacts each of the team's non-empty segments holds.
    async fn segment_sizes(&self, team_id: TeamId) -> Result<Vec<(SegmentId, u64)>>;
    /// The segments a contact is in, each with when it was added.
    async fn contact_segments(
        &self,
        team_id: TeamId,
        contact: ContactId,
        page: &PageRequest,
    ) -> Result<Page<(Segment, Timestamp)>>;
}

/// Topics and contacts' choices about them.
#[async_trait]
pub trait TopicStore {
    async fn insert_topic(&self, topic: &Topic) -> Result<()>;
    async fn get_topic(&self, team_id: TeamId, id: TopicId) -> Result<Option<Topic>>;
    async fn list_topics(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Topic>>;
    async fn save_topic(&self, topic: &Topic) -> Result<bool>;
    /// Deletes a topic and every contact's choice about it.
    async fn delete_topic(&self, team_id: TeamId, id: TopicId) -> Result<bool>;
    /// A contact's own choices (topics it never chose are not listed).
    async fn contact_subscriptions(&self, team_id: TeamId, contact: ContactId) -> Result<Vec<(TopicId, Subscription)>>;
    /// Whether an address may get email scoped to a topic: the topic's default and,
    /// when the address is a contact, its global unsubscribe and own choice. `None`
    /// if the topic does not exist (any more).
    async fn topic_consent(&self, team_id: TeamId, topic: TopicId, email: &str) -> Result<Option<TopicConsent>>;
    /// Records a contact's choices (replacing earlier ones for the same topics).
    async fn set_subscriptions(
        &self,
        team_id: TeamId,
        contact: ContactId,
        choices: &[(TopicId, Subscription)],
        at: Timestamp,
    ) -> Result<()>;
}

/// One batch of a broadcast's fan-out: its emails and the cursor's move, written
/// together under the fan-out's lease.
#[derive(Debug, Clone)]
pub struct FanoutBatch<'a> {
    pub broadcast_id: BroadcastId,
    pub lease_token: &'a str,
    pub lease_until: Timestamp,
    pub emails: Vec<NewEmail>,
    /// The last contact read (the cursor's new place).
    pub after: Option<ContactId>,
    /// The segment is done: the broadcast becomes `sent`.
    pub finished: bool,
    pub at: Timestamp,
}

/// Broadcasts and their fan-out.
#[async_trait]
pub trait BroadcastStore {
    async fn insert_broadcast(&self, broadcast: &Broadcast) -> Result<()>;
    async fn get_broadcast(&self, team_id: TeamId, id: BroadcastId) -> Result<Option<Broadcast>>;
    async fn list_broadcasts(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Broadcast>>;
    /// Writes a draft's fields and sending time; `false` if it is no longer a draft.
    async fn save_broadcast_draft(&self, broadcast: &Broadcast) -> Result<bool>;
    /// Deletes a draft; `false` if it is no longer a draft (or does not exist).
    async fn delete_broadcast_draft(&self, team_id: TeamId, id: BroadcastId) -> Result<bool>;
    /// Cancels a scheduled or queued broadcast with its copies no worker holds, in one
    /// transaction; `false` if it was neither.
    async fn cancel_broadcast(&self, team_id: TeamId, id: BroadcastId, now: Timestamp) -> Result<bool>;
    /// Leases the oldest broadcast due for fan-out (queued, or scheduled and due) whose
    /// lease is free, marking it `queued`; returns it with the lease token.
    async fn claim_broadcast(&self, now: Timestamp, lease_until: Timestamp) -> Result<Option<(Broadcast, String)>>;
    /// Up to `limit` members of a segment after the contact `after`, by contact id,
    /// each with its own choice about `topic`.
    async fn broadcast_candidates(
        &self,
        team_id: TeamId,
        segment: SegmentId,
        topic: Option<TopicId>,
        after: Option<ContactId>,
        limit: u32,
    ) -> Result<Vec<Candidate>>;
    /// How many of a broadcast's copies wait for their first attempt.
    async fn broadcast_backlog(&self, id: BroadcastId) -> Result<u64>;
    /// Writes a batch (see [`FanoutBatch`]); `false` if the lease was lost or the
    /// broadcast canceled (nothing written).
    async fn write_fanout_batch(&self, batch: FanoutBatch<'_>) -> Result<bool>;
    /// Moves the lease's end (a pause ends it early); `false` if it is not held.
    async fn extend_broadcast_lease(&self, id: BroadcastId, lease_token: &str, until: Timestamp) -> Result<bool>;
    /// How many of the broadcast's emails had each event (machine opens and scanner
    /// clicks left out), and how many emails it has.
    async fn broadcast_stats(&self, team_id: TeamId, id: BroadcastId) -> Result<BroadcastStats>;
    /// The recipients who had an event, by email id.
    async fn broadcast_recipients(
        &self,
        team_id: TeamId,
        id: BroadcastId,
        query: &RecipientQuery,
        page: &PageRequest,
    ) -> Result<Page<RecipientRow>>;
    /// Clicked URLs, most clicked first (then by URL), from `offset`, at most `limit`.
    async fn broadcast_clicked_links(
        &self,
        team_id: TeamId,
        id: BroadcastId,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<ClickedLink>>;
}

/// Templates (draft and published versions in one row).
#[async_trait]
pub trait TemplateStore {
    /// `false` if the alias is taken in the team (nothing written).
    async fn insert_template(&self, template: &Template) -> Result<bool>;
    async fn get_template(&self, team_id: TeamId, by: &TemplateRef) -> Result<Option<Template>>;
    async fn list_templates(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Template>>;
    /// Writes every mutable field; `false` if the alias is taken by another template.
    async fn save_template(&self, template: &Template) -> Result<bool>;
    async fn delete_template(&self, team_id: TeamId, id: TemplateId) -> Result<bool>;
}

/// Received mail, and what the inbound server needs to route it.
#[async_trait]
pub trait ReceivingStore {
    /// Domains of any team with this name and receiving enabled.
    async fn receiving_domains(&self, name: &str) -> Result<Vec<Domain>>;
    /// The team and `from` of an email, whatever its team (bounce addresses name
    /// only the email).
    async fn email_origin(&self, id: EmailId) -> Result<Option<(TeamId, String)>>;
    /// Writes the received emails with their raw sources, attachments and
    /// `email.received` webhooks, all in one transaction.
    async fn insert_received(&self, emails: &[NewReceivedEmail]) -> Result<()>;
    /// Newest first, each with its attachments' metadata.
    async fn list_received(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<ReceivedEmail>>;
    async fn get_received(&self, team_id: TeamId, id: ReceivedEmailId) -> Result<Option<ReceivedEmail>>;
    async fn received_raw(&self, team_id: TeamId, id: ReceivedEmailId) -> Result<Option<Vec<u8>>>;
    async fn list_received_attachments(
        &self,
        team_id: TeamId,
        email_id: ReceivedEmailId,
        page: &PageRequest,
    ) -> Result<Page<ReceivedAttachment>>;
    /// One attachment's metadata (its bytes stay in the store).
    async fn received_attachment(
        &self,
        team_id: TeamId,
        email_id: ReceivedEmailId,
        id: AttachmentId,
    ) -> Result<Option<ReceivedAttachment>>;
    async fn received_attachment_content(
        &self,
        team_id: TeamId,
        email_id: ReceivedEmailId,
        id: AttachmentId,
    ) -> Result<Option<(ReceivedAttachment, Vec<u8>)>>;
    /// Writes a report's events (skipping a bounce or complaint the email already
    /// has for that recipient), moves `last_event`, and adds the suppressions, in
    /// one transaction. Returns how many events were written.
    async fn record_report(&self, team_id: TeamId, email_id: EmailId, effects: &ReportEffects) -> Result<usize>;
}

/// Dashboard users and sessions.
#[async_trait]
pub trait UserStore {
    /// `false` when the address is taken (nothing written).
    async fn insert_user(&self, user: &User) -> Result<bool>;
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    async fn get_user(&self, team_id: TeamId, id: UserId) -> Result<Option<User>>;
    async fn list_users(&self, team_id: TeamId) -> Result<Vec<User>>;
    async fn count_users(&self) -> Result<u64>;
    async fn insert_session(&self, session: &Session) -> Result<()>;
    /// The session with this token hash and its user.
    async fn session(&self, token_hash: &str) -> Result<Option<(Session, User)>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
}

/// The developer inbox of capture mode.
#[async_trait]
pub trait CaptureStore {
    async fn insert_captured(&self, message: &crate::capture::CapturedMessage) -> Result<()>;
    /// Newest first, without the raw source (`raw` left empty).
    async fn list_captured(&self, team_id: TeamId, page: &PageRequest)
    -> Result<Page<crate::capture::CapturedMessage>>;
    async fn get_captured(&self, team_id: TeamId, id: uuid::Uuid) -> Result<Option<crate::capture::CapturedMessage>>;
    /// Removes one message; false when the team has no such message.
    async fn delete_captured(&self, team_id: TeamId, id: uuid::Uuid) -> Result<bool>;
    /// Removes every message of the team; how many there were.
    async fn clear_captured(&self, team_id: TeamId) -> Result<u64>;
}
