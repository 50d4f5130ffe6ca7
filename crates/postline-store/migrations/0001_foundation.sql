-- Foundation: teams, API keys, outbound emails with attachments, the delivery
-- queue, email timelines, idempotency keys and installation settings.
-- Portable SQL; {blob} and {serial_pk} are filled in per backend.

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    permission TEXT NOT NULL,
    domain_id TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX api_keys_by_team ON api_keys (team_id, id);

-- The domains issue adds records, keys and verification state.
CREATE TABLE domains (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX domains_by_team ON domains (team_id, id);

CREATE TABLE emails (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    from_addr TEXT NOT NULL,
    to_addrs TEXT NOT NULL,
    cc_addrs TEXT NOT NULL,
    bcc_addrs TEXT NOT NULL,
    reply_to TEXT NOT NULL,
    subject TEXT NOT NULL,
    html TEXT,
    text_body TEXT,
    headers TEXT NOT NULL,
    tags TEXT NOT NULL,
    topic_id TEXT,
    message_id TEXT NOT NULL,
    scheduled_at BIGINT,
    created_at BIGINT NOT NULL,
    last_event TEXT NOT NULL
);
CREATE INDEX emails_by_team ON emails (team_id, id);

-- Stored once per email, never per recipient.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    email_id TEXT NOT NULL REFERENCES emails(id),
    team_id TEXT NOT NULL,
    filename TEXT,
    content_type TEXT NOT NULL,
    content_id TEXT,
    disposition TEXT NOT NULL,
    size BIGINT NOT NULL,
    content {blob} NOT NULL
);
CREATE INDEX attachments_by_email ON attachments (email_id, id);

-- The queue: one row per recipient's copy.
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    email_id TEXT NOT NULL REFERENCES emails(id),
    team_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    route TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    due_at BIGINT NOT NULL,
    lease_until BIGINT,
    lease_token TEXT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (route, status, due_at);
CREATE INDEX deliveries_by_email ON deliveries (email_id);

CREATE TABLE email_events (
    seq {serial_pk},
    email_id TEXT NOT NULL REFERENCES emails(id),
    team_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT,
    created_at BIGINT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX email_events_by_email ON email_events (email_id, seq);

CREATE TABLE idempotency_keys (
    team_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    lease_until BIGINT NOT NULL,
    response_status INTEGER,
    response_body TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, idem_key)
);

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value {blob} NOT NULL
);
