-- Capture mode's developer inbox: each message as it would have been sent (the
-- envelope and the signed MIME), per team, newest first by id.

CREATE TABLE captured_messages (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    email_id TEXT NOT NULL,
    mail_from TEXT NOT NULL,
    recipients TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    raw {blob} NOT NULL
);
CREATE INDEX captured_messages_by_team ON captured_messages (team_id, id);
