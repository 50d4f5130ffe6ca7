-- API request logs (kept 30 days, written in batches by each node's log writer),
-- each key's request count, and exports with their files in pieces.

CREATE TABLE request_logs (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL,
    api_key_id TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    user_agent TEXT,
    duration_ms BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX request_logs_by_team ON request_logs (team_id, id);
CREATE INDEX request_logs_by_key ON request_logs (team_id, api_key_id, id);
CREATE INDEX request_logs_by_age ON request_logs (created_at);

-- Raised in the transaction that writes the key's log rows: a total that costs one
-- row to read, however many requests the key served.
ALTER TABLE api_keys ADD COLUMN request_count BIGINT NOT NULL DEFAULT 0;

CREATE TABLE exports (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    kind TEXT NOT NULL,
    -- The confirmed filters as JSON.
    filters TEXT NOT NULL,
    status TEXT NOT NULL,
    row_count BIGINT,
    file_bytes BIGINT,
    failure TEXT,
    requested_by TEXT NOT NULL,
    requester_email TEXT NOT NULL,
    lease_until BIGINT,
    lease_token TEXT,
    created_at BIGINT NOT NULL,
    completed_at BIGINT
);
CREATE INDEX exports_by_team ON exports (team_id, id);
CREATE INDEX exports_open ON exports (status, created_at);

CREATE TABLE export_chunks (
    export_id TEXT NOT NULL REFERENCES exports(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data {blob} NOT NULL,
    PRIMARY KEY (export_id, seq)
);
