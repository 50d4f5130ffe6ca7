-- Delivery without a stored rendering: the MTA renders and signs each email when it
-- sends it (a few hundred microseconds) instead of writing a copy of every message.
DROP TABLE rendered_messages;

-- Workers look only at queued rows; delivered and bounced rows (the vast majority in
-- a long run) stay out of the index they scan.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_queued ON deliveries (route, due_at, id) WHERE status = 'queued';
