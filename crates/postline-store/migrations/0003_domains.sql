-- Sending domains with their settings, verification state and last check results.
-- The placeholder table from the foundation held no rows (no API created domains).

DROP TABLE domains;

CREATE TABLE domains (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    status TEXT NOT NULL,
    return_path TEXT NOT NULL,
    open_tracking INTEGER NOT NULL,
    click_tracking INTEGER NOT NULL,
    tls TEXT NOT NULL,
    sending INTEGER NOT NULL,
    receiving INTEGER NOT NULL,
    tracking_subdomain TEXT,
    selector TEXT NOT NULL,
    checks TEXT NOT NULL,
    advisories TEXT NOT NULL,
    nameservers TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    verification_started_at BIGINT,
    failing_since BIGINT,
    last_checked_at BIGINT,
    next_check_at BIGINT,
    UNIQUE (team_id, name)
);
CREATE INDEX domains_by_team ON domains (team_id, id);
CREATE INDEX domains_by_name ON domains (name);
CREATE INDEX domains_due ON domains (next_check_at);

-- Only nodes of the sending domain's region deliver its mail (NULL: any node).
ALTER TABLE deliveries ADD COLUMN region TEXT;
