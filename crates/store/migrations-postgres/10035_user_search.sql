-- PostgreSQL only (applied after the shared migrations, tracked in their own table).
-- User search (`GET /admin/realms/{realm}/users?search=`): one index per searchable column,
-- partial (service accounts are never listed) and carrying username and id. Searches compare
-- bytewise (COLLATE "C"): a prefix is a B-tree range only in a bytewise order, whatever
-- collation the database was created with.
CREATE INDEX user_search_username ON user_entity (realm_id, username COLLATE "C")
    INCLUDE (id) WHERE service_account_client_id IS NULL;
CREATE INDEX user_search_email ON user_entity (realm_id, email COLLATE "C")
    INCLUDE (username, id) WHERE service_account_client_id IS NULL;
CREATE INDEX user_search_first_name ON user_entity (realm_id, (LOWER(first_name)) COLLATE "C")
    INCLUDE (username, id) WHERE service_account_client_id IS NULL;
CREATE INDEX user_search_last_name ON user_entity (realm_id, (LOWER(last_name)) COLLATE "C")
    INCLUDE (username, id) WHERE service_account_client_id IS NULL;
