-- Account lifecycle: single-use action tokens (email links), password history and the state
-- of a login-actions flow that is not an ordinary login (a link opened from an email).
-- Portable between SQLite and PostgreSQL (ADR 0002): TEXT ids, BIGINT numbers, epoch ms.

-- Action tokens already used, by their `jti`, kept until the token would have expired anyway.
CREATE TABLE action_token_used (
    jti        TEXT PRIMARY KEY,
    realm_id   TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX action_token_used_realm ON action_token_used (realm_id);
CREATE INDEX action_token_used_expires ON action_token_used (expires_at);

-- Previous password hashes of a user (`passwordHistory(n)`), newest by created_date.
CREATE TABLE password_history (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES user_entity(id) ON DELETE CASCADE,
    created_date    BIGINT NOT NULL,
    secret_data     TEXT NOT NULL,
    credential_data TEXT NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, created_date);

-- What a login-actions flow still has to do beyond the user's own required actions (actions
-- named in an execute-actions email, the new password of a reset), and where it ends.
CREATE TABLE login_flow (
    auth_session_id TEXT PRIMARY KEY REFERENCES auth_session(id) ON DELETE CASCADE,
    actions         TEXT NOT NULL,
    redirect_uri    TEXT,
    kind            TEXT NOT NULL
);
