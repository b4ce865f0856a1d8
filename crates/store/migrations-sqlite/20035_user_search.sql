-- SQLite only (applied after the shared migrations, tracked in their own table).
-- User search (`GET /admin/realms/{realm}/users?search=`): one index per searchable column,
-- each carrying username and id so a search's arm can be answered from the index, and partial
-- (service accounts are never listed). Username and email are stored lower-cased; first and
-- last names are matched through LOWER().
CREATE INDEX user_search_username ON user_entity (realm_id, username, id)
    WHERE service_account_client_id IS NULL;
CREATE INDEX user_search_email ON user_entity (realm_id, email, username, id)
    WHERE service_account_client_id IS NULL;
CREATE INDEX user_search_first_name ON user_entity (realm_id, LOWER(first_name), username, id)
    WHERE service_account_client_id IS NULL;
CREATE INDEX user_search_last_name ON user_entity (realm_id, LOWER(last_name), username, id)
    WHERE service_account_client_id IS NULL;
