-- Two lanes in the delivery queue: 0 transactional (the API, SMTP submission), 1 bulk
-- (broadcast copies). Workers drain lane 0 first, so a broadcast queued all at once
-- does not hold up a password reset sent after it.
ALTER TABLE deliveries ADD COLUMN lane SMALLINT NOT NULL DEFAULT 0;

-- Copies of broadcasts already queued move to the bulk lane.
UPDATE deliveries SET lane = 1 WHERE status = 'queued'
  AND email_id IN (SELECT id FROM emails WHERE broadcast_id IS NOT NULL);

-- A claim scans one lane's due rows in due order: one range per (route, lane).
DROP INDEX deliveries_queued;
CREATE INDEX deliveries_queued ON deliveries (route, lane, due_at, id) WHERE status = 'queued';
