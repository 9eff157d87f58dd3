-- The web app's server-side state. Portable SQL: the same file runs on SQLite and PostgreSQL
-- (TEXT/BIGINT only, text primary keys, base64 text instead of blobs).

-- A login under way, between the redirect to the IAM (step 2) and the callback (step 6). Keyed
-- by the SHA-256 of the pre-login cookie; deleted by the callback, whatever its outcome.
CREATE TABLE pending_logins (
    id_hash TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    -- The DPoP private key the tokens will be bound to: PKCS#8, base64url.
    dpop_key TEXT NOT NULL,
    request_id TEXT NOT NULL,
    -- Steps 1 and 2 as recorded, JSON.
    steps TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX pending_logins_expires_at ON pending_logins (expires_at);

-- A logged-in browser. Keyed by the SHA-256 of the session cookie. The tokens live here and
-- nowhere else; the access and refresh tokens are bound to `dpop_key`.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    username TEXT,
    display_name TEXT,
    csrf_token TEXT NOT NULL,
    access_token TEXT NOT NULL,
    access_expires_at BIGINT NOT NULL,
    refresh_token TEXT,
    id_token TEXT NOT NULL,
    nonce TEXT NOT NULL,
    -- Space-separated granted scopes, from the token response.
    scopes TEXT NOT NULL,
    dpop_key TEXT NOT NULL,
    -- The login's steps 1 to 9, JSON.
    login_steps TEXT NOT NULL,
    login_request_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
