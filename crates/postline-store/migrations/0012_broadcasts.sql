-- Broadcasts: the content once, its fan-out job (a cursor over the segment's
-- contacts by id, under a lease), and the link from each recipient's email back to
-- its broadcast and contact.

CREATE TABLE broadcasts (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL,
    name TEXT,
    segment_id TEXT,
    from_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    reply_to TEXT NOT NULL,
    preview_text TEXT,
    html TEXT,
    text_body TEXT,
    -- The Markdown source and style the html/text were made from, if any (JSON).
    source TEXT,
    topic_id TEXT,
    status TEXT NOT NULL,
    -- When sending was asked for (`send_at` ahead: scheduled, still a draft).
    send_at BIGINT,
    scheduled_at BIGINT,
    sent_at BIGINT,
    created_at BIGINT NOT NULL,
    -- Fan-out progress: the last contact id queued, how many emails so far.
    fanout_after TEXT,
    fanned_out BIGINT NOT NULL,
    lease_until BIGINT,
    lease_token TEXT
);
CREATE INDEX broadcasts_by_team ON broadcasts (team_id, id);
CREATE INDEX broadcasts_due ON broadcasts (status, send_at);

ALTER TABLE emails ADD COLUMN broadcast_id TEXT;
ALTER TABLE emails ADD COLUMN contact_id TEXT;
-- The recipient's personalisation values (JSON): the broadcast's content is stored
-- once and filled in per recipient when the email is sent or read.
ALTER TABLE emails ADD COLUMN personalisation TEXT;
-- One email per contact per broadcast, whatever happens to the fan-out.
CREATE UNIQUE INDEX emails_by_broadcast ON emails (broadcast_id, contact_id) WHERE broadcast_id IS NOT NULL;
-- The fan-out's pacing counts a broadcast's copies still waiting for the MTA.
CREATE INDEX emails_broadcast_progress ON emails (broadcast_id, last_event) WHERE broadcast_id IS NOT NULL;
