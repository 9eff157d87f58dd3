-- The external IAM's schema. Portable SQL for SQLite and PostgreSQL: TEXT, BIGINT, text primary
-- keys, no AUTOINCREMENT, times as Unix seconds, absent values as NULL.
--
-- Codes, refresh tokens and browser session ids are stored only as the base64url SHA-256 of the
-- value handed out (columns named *_hash): a copy of this database cannot be replayed.

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    pkcs8_b64 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    active_from BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,                 -- the `sub`: random, never reassigned
    username TEXT NOT NULL UNIQUE,       -- lower case
    display_name TEXT,
    email TEXT,
    password_hash TEXT NOT NULL,         -- argon2id PHC string
    totp_secret TEXT NOT NULL,           -- base32; needed in clear to compute codes
    totp_last_step BIGINT,               -- last accepted RFC 6238 time step (replay guard)
    entitlements TEXT NOT NULL,          -- space-separated scopes this user may be granted
    created_at BIGINT NOT NULL
);

CREATE TABLE clients (
    client_id TEXT PRIMARY KEY,
    auth_method TEXT NOT NULL,           -- client_secret_basic | private_key_jwt | none
    secret_hash TEXT,                    -- SHA-256 of a 256-bit random secret (client_secret_basic)
    jwks TEXT,                           -- JWK Set JSON (private_key_jwt)
    redirect_uris TEXT NOT NULL,         -- JSON array of exact URIs
    post_logout_redirect_uris TEXT NOT NULL, -- JSON array of exact URIs
    scopes TEXT NOT NULL,                -- space-separated scopes the client may request
    resources TEXT NOT NULL,             -- JSON array of RFC 8707 resource indicators
    created_at BIGINT NOT NULL
);

-- A browser's session with this provider: before login it only carries the CSRF token; after
-- password + TOTP it is the SSO session. The id is rotated when the login completes.
CREATE TABLE browser_sessions (
    id_hash TEXT PRIMARY KEY,
    csrf_token TEXT NOT NULL,
    pending_user_id TEXT,                -- password verified, TOTP not yet
    user_id TEXT,                        -- fully authenticated
    sid TEXT,                            -- public session id for ID tokens (`sid`)
    auth_time BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX browser_sessions_expires ON browser_sessions (expires_at);

-- Validated authorization requests waiting for the customer to log in.
CREATE TABLE pending_authorizations (
    id TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    request_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE authorization_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce TEXT,
    scope TEXT NOT NULL,
    resources TEXT NOT NULL,             -- JSON array
    dpop_jkt TEXT,
    sid TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    redeemed_at BIGINT
);

-- Everything issued from one code: refresh tokens rotate within the family; reuse of a rotated
-- one, or replay of the code, revokes the family.
CREATE TABLE token_families (
    id TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    sid TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,          -- absolute end of the refresh chain
    revoked_at BIGINT,
    revoked_reason TEXT
);
CREATE INDEX token_families_code ON token_families (code_hash);
CREATE INDEX token_families_sid ON token_families (sid);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    resources TEXT NOT NULL,
    dpop_jkt TEXT,
    sid TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    rotated_at BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Access tokens are JWTs validated without a database; this table lets introspection, UserInfo
-- and revocation (and a family's revocation) know about them.
CREATE TABLE access_tokens (
    jti TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX access_tokens_family ON access_tokens (family_id);

-- `jti` of private_key_jwt client assertions, kept until they expire (RFC 7523 §3, point 7).
CREATE TABLE client_assertion_jtis (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);

-- Failed-login counters per account name and per client IP.
CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY,       -- `user:<name>` or `ip:<address>`
    failures BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    locked_until BIGINT
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    client_id TEXT,
    user_id TEXT,
    username TEXT,
    ip TEXT,
    reason TEXT,
    request_id TEXT
);
CREATE INDEX audit_events_at ON audit_events (at);
