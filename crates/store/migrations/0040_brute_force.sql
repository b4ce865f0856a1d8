-- Brute-force detection: one row per user with counted login failures (Keycloak's
-- UserLoginFailureModel). Times are milliseconds since the epoch; 0 means none.
CREATE TABLE brute_force_failure (
    user_id                TEXT PRIMARY KEY REFERENCES user_entity(id) ON DELETE CASCADE,
    realm_id               TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    num_failures           BIGINT NOT NULL,
    num_temporary_lockouts BIGINT NOT NULL,
    last_failure           BIGINT NOT NULL,
    last_ip_failure        TEXT,
    locked_until           BIGINT NOT NULL,
    permanent              BIGINT NOT NULL
);
CREATE INDEX brute_force_failure_realm ON brute_force_failure (realm_id);
