-- Unsubscribe and preferences: which topic a queued copy is scoped to (checked
-- against the recipient's choice when it is sent), and each team's branding of its
-- preferences page.

ALTER TABLE deliveries ADD COLUMN topic_id TEXT;

CREATE TABLE unsubscribe_pages (
    team_id TEXT PRIMARY KEY,
    -- The page's settings as JSON (logo, colours, wording).
    settings TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
