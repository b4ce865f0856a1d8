"""django-allauth's `openid_connect` provider logging users in through Portcullis (realm
`myrealm`, confidential client `myclient` from the platform's own template)."""

import os
from urllib.parse import urlsplit

import pytest
import requests

from browser import browser, login, query

CALLBACK = "http://localhost:8000/accounts/oidc/{}/login/callback/"


@pytest.fixture(scope="module")
def django_site(server, platform_server):
    os.environ["DJANGO_SETTINGS_MODULE"] = "django_rp.settings"
    os.environ["INTEROP_SERVER_URL"] = server.realm("myrealm")
    os.environ["INTEROP_PLATFORM_SERVER_URL"] = platform_server.realm("myrealm")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def allauth_login(provider_id: str, issuer: str, username: str, password: str, session=None):
    """The whole browser round trip; returns the Django test client, logged in, and the browser."""
    from django.test import Client

    client = Client(HTTP_HOST="localhost:8000")
    start = client.get(f"/accounts/oidc/{provider_id}/login/")
    assert start.status_code == 302, start.content[:500]
    auth_url = start["Location"]
    assert auth_url.startswith(issuer + "/protocol/openid-connect/auth?"), auth_url
    sent = query(auth_url)
    assert sent["client_id"] == "myclient"
    assert sent["redirect_uri"] == CALLBACK.format(provider_id)
    assert sent["response_type"] == "code"

    session = session or browser()
    back = login(session, auth_url, username, password)
    assert back.startswith(sent["redirect_uri"] + "?"), back
    got = query(back)
    assert got["state"] == sent["state"]
    assert got["iss"] == issuer
    assert got["code"] and got["session_state"]

    # Django exchanges the code over HTTP with the real server, checks the ID token, calls UserInfo.
    done = client.get(urlsplit(back).path + "?" + urlsplit(back).query)
    assert done.status_code == 302, done.content.decode()[:3000]
    assert done["Location"] == "/welcome/"
    return client, session


def check_account(client, provider_id, realm_url, issuer, username, email, groups):
    """realm_url: where the service reaches the realm; issuer: the public issuer."""
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount, SocialToken
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(email=email)
    assert user.username == username
    assert client.session["_auth_user_id"] == str(user.pk)  # logged in
    account = SocialAccount.objects.get(user=user, provider=provider_id)
    userinfo, id_token = account.extra_data["userinfo"], account.extra_data["id_token"]
    assert account.uid == userinfo["sub"] == id_token["sub"]
    assert id_token["iss"] == issuer
    assert id_token["aud"] == "myclient"
    assert userinfo["groups"] == groups
    assert userinfo["email"] == email
    assert EmailAddress.objects.get(user=user, email=email).verified
    # The stored access token carries the same subject and the realm roles.
    access = SocialToken.objects.get(account=account).token
    claims = requests.post(realm_url + "/protocol/openid-connect/token/introspect",
                           data={"token": access, "client_id": "myclient",
                                 "client_secret": "my-client-secret"}).json()
    assert claims["active"] is True
    assert claims["sub"] == account.uid
    return user


def test_login_creates_and_signs_in_the_user(django_site, server):
    issuer = server.realm("myrealm")
    client, _ = allauth_login("keycloak", issuer, "alice", "password")
    user = check_account(client, "keycloak", issuer, issuer, "alice", "alice@example.com",
                         ["editors"])
    assert (user.first_name, user.last_name) == ("Alice", "Editor")


def test_returning_user_single_sign_on(django_site, server):
    """A second login from the same browser: Portcullis's SSO cookie skips the form and
    allauth finds the existing account."""
    from django.contrib.auth import get_user_model

    issuer = server.realm("myrealm")
    _, session = allauth_login("keycloak", issuer, "bob", "password")
    users = get_user_model().objects.count()

    from django.test import Client

    client = Client(HTTP_HOST="localhost:8000")
    auth_url = client.get("/accounts/oidc/keycloak/login/")["Location"]
    sso = session.get(auth_url, allow_redirects=False)
    assert sso.status_code == 302, f"expected an SSO redirect, got {sso.status_code}"
    back = sso.headers["Location"]
    assert query(back)["state"] == query(auth_url)["state"]
    done = client.get(urlsplit(back).path + "?" + urlsplit(back).query)
    assert done.status_code == 302 and done["Location"] == "/welcome/"
    assert get_user_model().objects.count() == users
    check_account(client, "keycloak", issuer, issuer, "bob", "bob@example.com", ["viewers"])


def test_platform_public_issuer_internal_backchannel(django_site, platform_server):
    """The platform's case: allauth's server_url is the internal address; discovery gives the
    public issuer and authorization URL and internal token/userinfo/JWKS URLs."""
    internal = platform_server.realm("myrealm")
    public = internal.replace("127.0.0.1", "localhost")
    wk = requests.get(internal + "/.well-known/openid-configuration").json()
    assert wk["issuer"] == public
    assert wk["authorization_endpoint"] == public + "/protocol/openid-connect/auth"
    assert wk["end_session_endpoint"] == public + "/protocol/openid-connect/logout"
    for key, path in [("token_endpoint", "token"), ("userinfo_endpoint", "userinfo"),
                      ("jwks_uri", "certs")]:
        assert wk[key] == internal + "/protocol/openid-connect/" + path

    client, _ = allauth_login("keycloak-platform", public, "dev-admin", "admin")
    check_account(client, "keycloak-platform", internal, public, "dev-admin",
                  "dev-admin@example.com", ["superusers"])
