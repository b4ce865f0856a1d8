-- Local users of a service, kept in sync with the identity server on every login.
-- Portable SQL for SQLite and PostgreSQL (booleans as 0/1 BIGINT, times as epoch ms).
CREATE TABLE kit_user (
    id              TEXT PRIMARY KEY,
    subject         TEXT UNIQUE,            -- the identity server's `sub`; NULL for local-only users
    username        TEXT NOT NULL UNIQUE,
    email           TEXT,
    email_verified  BIGINT NOT NULL DEFAULT 0,
    first_name      TEXT,
    last_name       TEXT,
    is_active       BIGINT NOT NULL DEFAULT 1,
    is_staff        BIGINT NOT NULL DEFAULT 0,
    is_superuser    BIGINT NOT NULL DEFAULT 0,
    password_hash   TEXT,                   -- break-glass local password (superusers only)
    created_at      BIGINT NOT NULL,
    last_login      BIGINT
);
CREATE INDEX kit_user_email ON kit_user (email);

CREATE TABLE kit_user_group (
    user_id     TEXT NOT NULL REFERENCES kit_user (id) ON DELETE CASCADE,
    group_name  TEXT NOT NULL,
    PRIMARY KEY (user_id, group_name)
);

-- Browser sessions of the service (the cookie holds a random id; only its hash is stored).
CREATE TABLE kit_session (
    id_hash     TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES kit_user (id) ON DELETE CASCADE,
    idp_sid     TEXT,                       -- the identity server's session (`sid`), for back-channel logout
    id_token    TEXT,                       -- for RP-initiated logout's id_token_hint
    csrf        TEXT NOT NULL,
    via         TEXT NOT NULL,              -- 'sso' or 'local'
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX kit_session_user ON kit_session (user_id);
CREATE INDEX kit_session_sid ON kit_session (idp_sid);

-- Logins in progress (state → nonce, PKCE verifier, where to go back); single use.
CREATE TABLE kit_login (
    state_hash     TEXT PRIMARY KEY,
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    return_to      TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
