-- Templates: the draft being edited and the version sends use, each as JSON
-- (`{id, from, subject, reply_to, html, text, variables}`), in one row.

CREATE TABLE templates (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL,
    name TEXT NOT NULL,
    alias TEXT,
    draft TEXT NOT NULL,
    published TEXT,
    published_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX templates_by_team ON templates (team_id, id);
CREATE UNIQUE INDEX templates_by_alias ON templates (team_id, alias);
