-- Admin events (Keycloak's AdminEvent): one row per successful admin API write of a realm
-- whose `adminEventsEnabled` is on. `representation` is the redacted request body, kept only
-- with `adminEventsDetailsEnabled`. Deleting the realm deletes its events.
CREATE TABLE admin_event (
    id              TEXT PRIMARY KEY,
    realm_id        TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    time            BIGINT NOT NULL,
    operation_type  TEXT NOT NULL,
    resource_type   TEXT NOT NULL,
    resource_path   TEXT NOT NULL,
    auth_realm_id   TEXT,
    auth_client_id  TEXT,
    auth_user_id    TEXT,
    ip_address      TEXT,
    representation  TEXT,
    error           TEXT
);
CREATE INDEX admin_event_realm_time ON admin_event (realm_id, time);

-- A protocol mapper's name is unique per owner (client or client scope) and protocol, as
-- import already checks; the admin API relies on it for its 409.
CREATE UNIQUE INDEX protocol_mapper_owner_name
    ON protocol_mapper (COALESCE(client_uuid, client_scope_id), protocol, name);
