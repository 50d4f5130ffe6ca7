-- Claims on domains another team has verified (proven by a TXT record).

CREATE TABLE domain_claims (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    domain_id TEXT NOT NULL,
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    token TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX domain_claims_by_domain ON domain_claims (team_id, domain_id);
