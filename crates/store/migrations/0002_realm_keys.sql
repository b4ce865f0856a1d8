-- Realm signing keys (RS256/ES256/EdDSA for ID and access tokens, HS512 for refresh tokens).
CREATE TABLE realm_key (
    id              TEXT PRIMARY KEY,
    realm_id        TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    kid             TEXT NOT NULL,
    algorithm       TEXT NOT NULL,
    key_use         TEXT NOT NULL,
    private_der     TEXT NOT NULL,
    certificate_der TEXT,
    enabled         BIGINT NOT NULL,
    active          BIGINT NOT NULL,
    priority        BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (realm_id, kid)
);
CREATE INDEX realm_key_realm ON realm_key (realm_id);
-- At most one active key per algorithm: the one that signs. Rotation deactivates the old key
-- (it stays enabled, so tokens it signed still verify) and inserts the new one in one
-- transaction. Also makes concurrent first-key creation safe on PostgreSQL.
CREATE UNIQUE INDEX realm_key_one_active ON realm_key (realm_id, algorithm) WHERE active = 1;
