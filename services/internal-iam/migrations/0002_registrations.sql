-- Which workloads may obtain tokens, for which audiences and scopes, and whether they may
-- exchange a customer's access token for a transaction token.
CREATE TABLE registrations (
    spiffe_id TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    -- The audience a subject token must carry for this workload to exchange it; NULL: no
    -- exchange right.
    exchange_subject_audience TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE registration_grants (
    spiffe_id TEXT NOT NULL REFERENCES registrations (spiffe_id) ON DELETE CASCADE,
    audience TEXT NOT NULL,
    -- Space-separated scope tokens (RFC 6749 section 3.3).
    scopes TEXT NOT NULL,
    PRIMARY KEY (spiffe_id, audience)
);
