-- Runtime state of the OpenID Connect provider: SSO sessions, client sessions (refresh-token
-- rotation), authorization codes, logins in progress and revoked access-token ids. Nodes keep
-- none of it in memory, so any node can serve any request.
-- Portable between SQLite and PostgreSQL (ADR 0002): TEXT ids, BIGINT numbers and 0/1 flags,
-- epoch milliseconds. Every `client_id` column here holds the client's internal id (client.id).

-- An SSO session (`sid`). Deleting the realm or the user deletes it.
CREATE TABLE user_session (
    id           TEXT PRIMARY KEY,
    realm_id     TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES user_entity(id) ON DELETE CASCADE,
    auth_time_s  BIGINT NOT NULL,
    started      BIGINT NOT NULL,
    last_refresh BIGINT NOT NULL,
    remember_me  BIGINT NOT NULL,
    ip_address   TEXT
);
CREATE INDEX user_session_user ON user_session (user_id);
-- Counting a realm's sessions and purging them. `last_refresh` is deliberately not indexed: it
-- changes on every refresh, and an index on it would cost PostgreSQL its in-place (HOT) updates.
CREATE INDEX user_session_realm ON user_session (realm_id, started);

-- A client's part of an SSO session: one per (session, client); refresh rotation state.
CREATE TABLE client_session (
    id                 TEXT PRIMARY KEY,
    user_session_id    TEXT NOT NULL REFERENCES user_session(id) ON DELETE CASCADE,
    client_id          TEXT NOT NULL REFERENCES client(id) ON DELETE CASCADE,
    scope              TEXT NOT NULL,
    redirect_uri       TEXT,
    started            BIGINT NOT NULL,
    refresh_generation BIGINT NOT NULL,
    refresh_uses       BIGINT NOT NULL,
    UNIQUE (user_session_id, client_id)
);
CREATE INDEX client_session_client ON client_session (client_id);

-- Authorization codes, by the SHA-256 of the code. A used code stays (used_at set) until
-- ten minutes after its expiry so a replay is recognised. Realm, user and client deletions
-- reach it through the sessions.
CREATE TABLE auth_code (
    code_hash             TEXT PRIMARY KEY,
    realm_id              TEXT NOT NULL,
    client_id             TEXT NOT NULL,
    user_session_id       TEXT NOT NULL REFERENCES user_session(id) ON DELETE CASCADE,
    client_session_id     TEXT NOT NULL REFERENCES client_session(id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    scope                 TEXT NOT NULL,
    nonce                 TEXT,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    auth_time_s           BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL,
    used_at               BIGINT
);
CREATE INDEX auth_code_user_session ON auth_code (user_session_id);
CREATE INDEX auth_code_client_session ON auth_code (client_session_id);
CREATE INDEX auth_code_expires ON auth_code (expires_at);

-- A login in progress (browser cookie id), until it yields a code or expires.
CREATE TABLE auth_session (
    id         TEXT PRIMARY KEY,
    realm_id   TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES client(id) ON DELETE CASCADE,
    request    TEXT NOT NULL,
    user_id    TEXT REFERENCES user_entity(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX auth_session_realm ON auth_session (realm_id);
CREATE INDEX auth_session_client ON auth_session (client_id);
CREATE INDEX auth_session_user ON auth_session (user_id);
CREATE INDEX auth_session_expires ON auth_session (expires_at);

-- Revoked access-token ids (RFC 7009), kept until the token would have expired anyway.
CREATE TABLE revoked_token (
    jti        TEXT PRIMARY KEY,
    realm_id   TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_token_realm ON revoked_token (realm_id);
CREATE INDEX revoked_token_expires ON revoked_token (expires_at);

-- The client_credentials grant looks up a client's service-account user on every request
-- (and deleting a client cascades through this column).
CREATE INDEX user_entity_service_account ON user_entity (service_account_client_id);
