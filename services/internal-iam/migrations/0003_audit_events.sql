-- Every issuance and every refusal. `id` sorts in recording order (a time-ordered key, so no
-- sequence or AUTOINCREMENT is needed on either backend).
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    recorded_at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    grant_type TEXT,
    request_id TEXT,
    spiffe_id TEXT,
    peer_addr TEXT,
    audience TEXT,
    scope TEXT,
    jti TEXT,
    subject TEXT,
    subject_jti TEXT,
    error TEXT,
    reason TEXT NOT NULL
);

CREATE INDEX audit_events_recorded_at ON audit_events (recorded_at);
CREATE INDEX audit_events_spiffe_id ON audit_events (spiffe_id);
