-- The audience: contacts (one per address per team), custom contact properties,
-- segments and their members, topics and each contact's choice about them.

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL,
    email TEXT NOT NULL,
    -- The address lower-cased: what lookups and uniqueness use.
    email_key TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    unsubscribed INTEGER NOT NULL,
    properties TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX contacts_by_email ON contacts (team_id, email_key);
CREATE INDEX contacts_by_team ON contacts (team_id, id);

CREATE TABLE contact_properties (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL,
    prop_key TEXT NOT NULL,
    prop_type TEXT NOT NULL,
    fallback_value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX contact_properties_by_key ON contact_properties (team_id, prop_key);
CREATE INDEX contact_properties_by_team ON contact_properties (team_id, id);

CREATE TABLE segments (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL,
    name TEXT NOT NULL,
    filter TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX segments_by_team ON segments (team_id, id);

CREATE TABLE segment_members (
    segment_id TEXT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    team_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (segment_id, contact_id)
);
CREATE INDEX segment_members_by_contact ON segment_members (contact_id, created_at);

CREATE TABLE topics (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    default_subscription TEXT NOT NULL,
    visibility TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX topics_by_team ON topics (team_id, id);

CREATE TABLE topic_subscriptions (
    topic_id TEXT NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    team_id TEXT NOT NULL,
    subscription TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (topic_id, contact_id)
);
CREATE INDEX topic_subscriptions_by_contact ON topic_subscriptions (contact_id);
