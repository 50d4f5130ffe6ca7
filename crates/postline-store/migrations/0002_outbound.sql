-- Outbound delivery: per-copy expiry and last reply, DKIM keys of sending
-- domains, each email's signed rendering (made once, reused for every recipient
-- and retry), and the teams' suppression lists.

ALTER TABLE deliveries ADD COLUMN expires_at BIGINT;
ALTER TABLE deliveries ADD COLUMN last_reply TEXT;

CREATE TABLE dkim_keys (
    domain TEXT PRIMARY KEY,
    selector TEXT NOT NULL,
    rsa_private {blob} NOT NULL,
    ed25519_private {blob},
    created_at BIGINT NOT NULL
);

CREATE TABLE rendered_messages (
    email_id TEXT PRIMARY KEY REFERENCES emails(id),
    mime {blob} NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE suppressions (
    team_id TEXT NOT NULL,
    email TEXT NOT NULL,
    reason TEXT NOT NULL,
    source_email_id TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, email)
);
