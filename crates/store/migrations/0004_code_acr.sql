-- The level of assurance of the login a code was minted from: '1' after credentials were
-- entered, '0' when the SSO cookie satisfied the request (the tokens' `acr`).
ALTER TABLE auth_code ADD COLUMN acr TEXT NOT NULL DEFAULT '1';
