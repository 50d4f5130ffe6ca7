-- Webhook endpoints, the outbox of event messages, one delivery per subscribed
-- endpoint, and every attempt.

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    endpoint TEXT NOT NULL,
    -- ",email.sent,email.delivered," so one LIKE finds subscribers on every backend.
    events TEXT NOT NULL,
    status TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhooks_by_team ON webhooks (team_id, id);

CREATE TABLE webhook_messages (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES webhook_messages(id),
    webhook_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    lease_token TEXT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);

CREATE TABLE webhook_attempts (
    seq {serial_pk},
    delivery_id TEXT NOT NULL,
    attempted_at BIGINT NOT NULL,
    status_code INTEGER,
    duration_ms BIGINT NOT NULL,
    response TEXT NOT NULL,
    succeeded INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, seq);
