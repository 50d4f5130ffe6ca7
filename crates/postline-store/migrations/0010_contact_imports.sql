-- Contact imports: the job with its progress, its file in pieces, its row errors.

CREATE TABLE contact_imports (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL,
    status TEXT NOT NULL,
    -- The multipart fields as given (column_map, on_conflict, segments, topics).
    fields TEXT NOT NULL,
    total BIGINT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    skipped BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    rows_done BIGINT NOT NULL,
    file_bytes BIGINT NOT NULL,
    failure TEXT,
    lease_until BIGINT,
    lease_token TEXT,
    created_at BIGINT NOT NULL,
    completed_at BIGINT
);
CREATE INDEX contact_imports_by_team ON contact_imports (team_id, id);
CREATE INDEX contact_imports_open ON contact_imports (status, created_at);

CREATE TABLE contact_import_chunks (
    import_id TEXT NOT NULL REFERENCES contact_imports(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data {blob} NOT NULL,
    PRIMARY KEY (import_id, seq)
);

CREATE TABLE contact_import_errors (
    import_id TEXT NOT NULL REFERENCES contact_imports(id) ON DELETE CASCADE,
    row_number BIGINT NOT NULL,
    email TEXT,
    message TEXT NOT NULL,
    PRIMARY KEY (import_id, row_number)
);
