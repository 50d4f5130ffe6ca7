-- Received mail: one row per message per team it was addressed to, with the raw
-- source kept once in that row (last, so list scans never read it) and the
-- attachments in their own table. Lists and header pairs are JSON text.

CREATE TABLE received_emails (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    domain_id TEXT NOT NULL,
    from_address TEXT NOT NULL,
    to_addresses TEXT NOT NULL,
    cc TEXT NOT NULL,
    bcc TEXT NOT NULL,
    reply_to TEXT NOT NULL,
    received_for TEXT NOT NULL,
    subject TEXT NOT NULL,
    message_id TEXT NOT NULL,
    html TEXT,
    text TEXT,
    headers TEXT NOT NULL,
    transport TEXT NOT NULL,
    authentication TEXT,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    raw {blob} NOT NULL
);
CREATE INDEX received_emails_by_team ON received_emails (team_id, id);

CREATE TABLE received_attachments (
    id TEXT PRIMARY KEY,
    email_id TEXT NOT NULL REFERENCES received_emails(id),
    team_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    filename TEXT,
    content_type TEXT NOT NULL,
    content_id TEXT,
    disposition TEXT,
    size BIGINT NOT NULL,
    content {blob} NOT NULL
);
CREATE INDEX received_attachments_by_email ON received_attachments (email_id, id);
