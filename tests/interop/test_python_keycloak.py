"""python-keycloak's KeycloakOpenID against Portcullis, realm `interop`, confidential client
`backend` (password grant and service account allowed)."""

import json

import pytest
import requests
from jwcrypto import jwk
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakAuthenticationError, KeycloakError, KeycloakPostError

REALM, CLIENT, SECRET = "interop", "backend", "backend-secret"
USER, PASSWORD = "dave", "dave-password"


@pytest.fixture(scope="module")
def kc(server):
    return KeycloakOpenID(server_url=server.base + "/", realm_name=REALM, client_id=CLIENT,
                          client_secret_key=SECRET)


@pytest.fixture(scope="module")
def issuer(server):
    return server.realm(REALM)


@pytest.fixture(scope="module")
def tokens(kc):
    return kc.token(USER, PASSWORD)


def error_of(exc: KeycloakError) -> str:
    return json.loads(exc.response_body)["error"]


def test_well_known(kc, issuer):
    wk = kc.well_known()
    oidc = issuer + "/protocol/openid-connect"
    assert wk["issuer"] == issuer
    assert wk["authorization_endpoint"] == oidc + "/auth"
    assert wk["token_endpoint"] == oidc + "/token"
    assert wk["userinfo_endpoint"] == oidc + "/userinfo"
    assert wk["introspection_endpoint"] == oidc + "/token/introspect"
    assert wk["revocation_endpoint"] == oidc + "/revoke"
    assert wk["end_session_endpoint"] == oidc + "/logout"
    assert wk["jwks_uri"] == oidc + "/certs"
    assert {"client_secret_post", "client_secret_basic"} <= set(
        wk["token_endpoint_auth_methods_supported"])
    assert "RS256" in wk["id_token_signing_alg_values_supported"]
    assert "S256" in wk["code_challenge_methods_supported"]
    assert {"authorization_code", "password", "client_credentials", "refresh_token"} <= set(
        wk["grant_types_supported"])


def test_public_key_is_the_jwks_signing_key(kc):
    key = jwk.JWK.from_pem(
        f"-----BEGIN PUBLIC KEY-----\n{kc.public_key()}\n-----END PUBLIC KEY-----".encode())
    signing = [k for k in kc.certs()["keys"] if k.get("use") == "sig" and k.get("alg") == "RS256"]
    assert len(signing) == 1
    assert key.export_public(as_dict=True)["n"] == signing[0]["n"]


def test_password_grant_response(tokens):
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 300
    assert tokens["refresh_expires_in"] == 1800
    assert tokens["not-before-policy"] == 0
    assert {"openid", "profile", "email"} <= set(tokens["scope"].split())
    assert tokens["access_token"] and tokens["refresh_token"] and tokens["id_token"]
    assert tokens["session_state"]


def test_access_token_claims(kc, tokens, issuer):
    claims = kc.decode_token(tokens["access_token"])  # signature checked against the JWKS
    pem = f"-----BEGIN PUBLIC KEY-----\n{kc.public_key()}\n-----END PUBLIC KEY-----"
    assert kc.decode_token(tokens["access_token"], key=jwk.JWK.from_pem(pem.encode())) == claims
    assert claims["iss"] == issuer
    assert claims["azp"] == CLIENT
    assert claims["typ"] == "Bearer"
    assert claims["preferred_username"] == USER
    assert claims["email"] == "dave@example.com"
    assert claims["email_verified"] is True
    assert claims["name"] == "Dave Builder"
    assert sorted(claims["groups"]) == ["engineering", "staff"]
    assert {"writer", "reader", "default-roles-interop", "offline_access"} <= set(
        claims["realm_access"]["roles"])
    assert claims["sid"] == tokens["session_state"]
    assert claims["exp"] - claims["iat"] == 300
    assert claims["sub"]


def test_id_and_refresh_tokens(kc, tokens, issuer):
    access = kc.decode_token(tokens["access_token"])
    id_token = kc.decode_token(tokens["id_token"])
    assert id_token["typ"] == "ID"
    assert id_token["iss"] == issuer
    assert id_token["aud"] == CLIENT
    assert id_token["azp"] == CLIENT
    assert id_token["sub"] == access["sub"]
    assert id_token["sid"] == access["sid"]
    assert id_token["email"] == "dave@example.com"
    assert sorted(id_token["groups"]) == ["engineering", "staff"]
    # The refresh token is opaque to clients (HS512, kid not in the JWKS): read without checking.
    refresh = kc.decode_token(tokens["refresh_token"], validate=False)
    assert refresh["typ"] == "Refresh"
    assert refresh["azp"] == CLIENT
    assert refresh["sid"] == access["sid"]


def test_userinfo(kc, tokens):
    info = kc.userinfo(tokens["access_token"])
    assert info["sub"] == kc.decode_token(tokens["access_token"])["sub"]
    assert info["preferred_username"] == USER
    assert info["email"] == "dave@example.com"
    assert sorted(info["groups"]) == ["engineering", "staff"]


def test_refresh_token(kc, tokens):
    fresh = kc.refresh_token(tokens["refresh_token"])
    assert fresh["access_token"] != tokens["access_token"]
    assert fresh["refresh_token"]
    assert fresh["session_state"] == tokens["session_state"]
    old, new = (kc.decode_token(t) for t in (tokens["access_token"], fresh["access_token"]))
    assert new["sub"] == old["sub"] and new["sid"] == old["sid"]
    assert kc.userinfo(fresh["access_token"])["preferred_username"] == USER


def test_introspect(kc, tokens):
    info = kc.introspect(tokens["access_token"])
    assert info["active"] is True
    assert info["username"] == USER
    assert info["client_id"] == CLIENT
    assert info["token_type"] == "Bearer"
    assert info["sub"] == kc.decode_token(tokens["access_token"])["sub"]
    assert sorted(info["groups"]) == ["engineering", "staff"]
    assert kc.introspect("not-a-token") == {"active": False}


def test_client_credentials(kc, issuer):
    tokens = kc.token(grant_type="client_credentials")
    assert tokens["token_type"] == "Bearer"
    assert "refresh_token" not in tokens
    claims = kc.decode_token(tokens["access_token"])
    assert claims["iss"] == issuer
    assert claims["azp"] == CLIENT
    assert claims["typ"] == "Bearer"
    assert claims["preferred_username"] == f"service-account-{CLIENT}"
    assert kc.introspect(tokens["access_token"])["active"] is True


def test_logout_ends_the_session(kc):
    tokens = kc.token(USER, PASSWORD)
    assert kc.logout(tokens["refresh_token"]) == {}  # 204 No Content
    with pytest.raises(KeycloakPostError) as refused:
        kc.refresh_token(tokens["refresh_token"])
    assert refused.value.response_code == 400
    assert error_of(refused.value) == "invalid_grant"
    assert kc.introspect(tokens["access_token"])["active"] is False
    with pytest.raises(KeycloakAuthenticationError):  # 401
        kc.userinfo(tokens["access_token"])


def test_wrong_password(kc):
    with pytest.raises(KeycloakAuthenticationError) as refused:  # Keycloak answers 401
        kc.token(USER, "wrong-password")
    assert refused.value.response_code == 401
    assert json.loads(refused.value.response_body) == {
        "error": "invalid_grant", "error_description": "Invalid user credentials"}


def test_disabled_user(kc):
    with pytest.raises(KeycloakPostError) as refused:
        kc.token("erin", "erin-password")
    assert refused.value.response_code == 400
    assert json.loads(refused.value.response_body) == {
        "error": "invalid_grant", "error_description": "Account disabled"}


def test_wrong_client_secret(server):
    bad = KeycloakOpenID(server_url=server.base + "/", realm_name=REALM, client_id=CLIENT,
                         client_secret_key="not-the-secret")
    with pytest.raises(KeycloakAuthenticationError) as refused:
        bad.token(USER, PASSWORD)
    # Keycloak says `unauthorized_client` here; RFC 6749 §5.2 (and the security checklist,
    # TOK-3) says `invalid_client`. Clients key on the 401, which both send.
    assert refused.value.response_code == 401
    assert error_of(refused.value) == "invalid_client"


def test_refresh_token_reuse_allowed_by_default(server, kc):
    """Keycloak's default (revokeRefreshToken false): a refresh token stays usable after a
    refresh; the token response is not cacheable."""
    tokens = kc.token(USER, PASSWORD)
    kc.refresh_token(tokens["refresh_token"])
    r = requests.post(server.realm(REALM) + "/protocol/openid-connect/token",
                      data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                            "client_id": CLIENT, "client_secret": SECRET})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert "no-store" in r.headers.get("Cache-Control", "")
