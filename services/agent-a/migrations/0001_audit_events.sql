-- Agent A's audit trail (design step 17): one row per call, allowed or refused, saying who called
-- (the SPIFFE ID of the mTLS peer), with which tokens (by `jti`, never the tokens), for which
-- customer (`sub`), in which request, and why it was decided so. Portable SQL: the same file runs
-- on SQLite and PostgreSQL. `id` sorts in recording order, so no sequence is needed.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    recorded_at BIGINT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    request_id TEXT,
    peer TEXT,
    service_token_jti TEXT,
    subject TEXT,
    txn_token_jti TEXT,
    txn TEXT
);

CREATE INDEX audit_events_recorded_at ON audit_events (recorded_at);
CREATE INDEX audit_events_request_id ON audit_events (request_id);
