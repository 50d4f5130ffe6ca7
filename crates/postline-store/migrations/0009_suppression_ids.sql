-- Suppression entries get ids (the /suppressions API names entries by id or address).
-- Entries written before have random ones; new ones are time-ordered like every id.
ALTER TABLE suppressions ADD COLUMN id TEXT;
UPDATE suppressions SET id = {random_uuid} WHERE id IS NULL;
CREATE UNIQUE INDEX suppressions_by_id ON suppressions (id);
CREATE INDEX suppressions_by_team ON suppressions (team_id, id);
