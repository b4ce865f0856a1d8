-- Portcullis schema, version 1: realms and everything a realm template holds.
-- Portable between SQLite and PostgreSQL: TEXT ids (UUID strings), BIGINT numbers,
-- BIGINT 0/1 flags, epoch milliseconds for times. See docs/adr/0002-storage-any-driver.md.

CREATE TABLE realm (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    enabled         BIGINT NOT NULL,
    default_role_id TEXT NOT NULL,
    settings        TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE client (
    id        TEXT PRIMARY KEY,
    realm_id  TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    secret    TEXT,
    repr      TEXT NOT NULL,
    UNIQUE (realm_id, client_id)
);

CREATE TABLE role (
    id           TEXT PRIMARY KEY,
    realm_id     TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    client_id    TEXT REFERENCES client(id) ON DELETE CASCADE,
    container_id TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT,
    attributes   TEXT NOT NULL,
    UNIQUE (container_id, name)
);
CREATE INDEX role_realm ON role (realm_id);

CREATE TABLE role_composite (
    parent_id TEXT NOT NULL REFERENCES role(id) ON DELETE CASCADE,
    child_id  TEXT NOT NULL REFERENCES role(id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX role_composite_child ON role_composite (child_id);

CREATE TABLE grp (
    id          TEXT PRIMARY KEY,
    realm_id    TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    parent_id   TEXT REFERENCES grp(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT,
    attributes  TEXT NOT NULL
);
CREATE UNIQUE INDEX grp_sibling_name ON grp (realm_id, COALESCE(parent_id, ''), name);
CREATE INDEX grp_parent ON grp (parent_id);

CREATE TABLE group_role (
    group_id TEXT NOT NULL REFERENCES grp(id) ON DELETE CASCADE,
    role_id  TEXT NOT NULL REFERENCES role(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, role_id)
);
CREATE INDEX group_role_role ON group_role (role_id);

CREATE TABLE realm_default_group (
    realm_id TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES grp(id) ON DELETE CASCADE,
    PRIMARY KEY (realm_id, group_id)
);

CREATE TABLE client_scope (
    id       TEXT PRIMARY KEY,
    realm_id TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    repr     TEXT NOT NULL,
    UNIQUE (realm_id, name)
);

CREATE TABLE protocol_mapper (
    id              TEXT PRIMARY KEY,
    realm_id        TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    client_uuid     TEXT REFERENCES client(id) ON DELETE CASCADE,
    client_scope_id TEXT REFERENCES client_scope(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    protocol        TEXT NOT NULL,
    mapper_type     TEXT NOT NULL,
    config          TEXT NOT NULL,
    CHECK ((client_uuid IS NULL) <> (client_scope_id IS NULL))
);
CREATE INDEX protocol_mapper_client ON protocol_mapper (client_uuid);
CREATE INDEX protocol_mapper_scope ON protocol_mapper (client_scope_id);

CREATE TABLE realm_default_scope (
    realm_id      TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    scope_id      TEXT NOT NULL REFERENCES client_scope(id) ON DELETE CASCADE,
    default_scope BIGINT NOT NULL,
    PRIMARY KEY (realm_id, scope_id)
);

CREATE TABLE client_scope_link (
    client_uuid   TEXT NOT NULL REFERENCES client(id) ON DELETE CASCADE,
    scope_id      TEXT NOT NULL REFERENCES client_scope(id) ON DELETE CASCADE,
    default_scope BIGINT NOT NULL,
    PRIMARY KEY (client_uuid, scope_id)
);

CREATE TABLE client_role_scope (
    client_uuid TEXT NOT NULL REFERENCES client(id) ON DELETE CASCADE,
    role_id     TEXT NOT NULL REFERENCES role(id) ON DELETE CASCADE,
    PRIMARY KEY (client_uuid, role_id)
);

CREATE TABLE client_scope_role_scope (
    scope_id TEXT NOT NULL REFERENCES client_scope(id) ON DELETE CASCADE,
    role_id  TEXT NOT NULL REFERENCES role(id) ON DELETE CASCADE,
    PRIMARY KEY (scope_id, role_id)
);

CREATE TABLE user_entity (
    id                        TEXT PRIMARY KEY,
    realm_id                  TEXT NOT NULL REFERENCES realm(id) ON DELETE CASCADE,
    username                  TEXT NOT NULL,
    email                     TEXT,
    first_name                TEXT,
    last_name                 TEXT,
    enabled                   BIGINT NOT NULL,
    email_verified            BIGINT NOT NULL,
    created_timestamp         BIGINT NOT NULL,
    not_before                BIGINT NOT NULL,
    federation_link           TEXT,
    service_account_client_id TEXT REFERENCES client(id) ON DELETE CASCADE,
    UNIQUE (realm_id, username)
);
CREATE INDEX user_entity_email ON user_entity (realm_id, email);

CREATE TABLE user_attribute (
    user_id  TEXT NOT NULL REFERENCES user_entity(id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (user_id, position)
);
CREATE INDEX user_attribute_name_value ON user_attribute (name, value);

CREATE TABLE user_required_action (
    user_id TEXT NOT NULL REFERENCES user_entity(id) ON DELETE CASCADE,
    action  TEXT NOT NULL,
    PRIMARY KEY (user_id, action)
);

CREATE TABLE credential (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES user_entity(id) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    user_label      TEXT,
    created_date    BIGINT NOT NULL,
    priority        BIGINT NOT NULL,
    secret_data     TEXT NOT NULL,
    credential_data TEXT NOT NULL
);
CREATE INDEX credential_user ON credential (user_id);

CREATE TABLE user_group (
    user_id  TEXT NOT NULL REFERENCES user_entity(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES grp(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX user_group_group ON user_group (group_id);

CREATE TABLE user_role (
    user_id TEXT NOT NULL REFERENCES user_entity(id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES role(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_role_role ON user_role (role_id);
