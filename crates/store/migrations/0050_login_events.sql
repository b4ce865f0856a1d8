-- Login (user) events, Keycloak's EVENT_ENTITY: one row per event of a realm whose
-- `eventsEnabled` is on and whose `enabledEventTypes` (or, when empty, the types saved by
-- default) include the event's type. `client_id` is the client's clientId as Keycloak shows it;
-- `details` is a JSON object of strings. Deleting the realm deletes its events.
CREATE TABLE login_event (
    id          TEXT PRIMARY KEY,
    realm_id    TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    time        BIGINT NOT NULL,
    type        TEXT NOT NULL,
    client_id   TEXT,
    user_id     TEXT,
    session_id  TEXT,
    ip_address  TEXT,
    error       TEXT,
    details     TEXT
);
-- Newest-first pages of a realm, expiry by time, and a user's own history.
CREATE INDEX login_event_realm_time ON login_event (realm_id, time);
CREATE INDEX login_event_realm_user ON login_event (realm_id, user_id, time);
