"""python-keycloak's KeycloakAdmin against Portcullis: the admin REST API (realms, users,
passwords, groups, realm and client roles, composites, user and group role mappings, sessions)
as a provisioning script uses it, logged in as start-dev's development admin (admin / admin) on
master's admin-cli; the changes show in tokens of realm `interop` at once."""

import pytest
from keycloak import KeycloakAdmin, KeycloakOpenID
from keycloak.exceptions import KeycloakGetError, KeycloakPostError

REALM, CLIENT, SECRET = "interop", "backend", "backend-secret"


@pytest.fixture(scope="module")
def admin(server):
    return KeycloakAdmin(server_url=server.base + "/", username="admin", password="admin",
                         realm_name=REALM, user_realm_name="master")


@pytest.fixture(scope="module")
def oidc(server):
    return KeycloakOpenID(server_url=server.base + "/", realm_name=REALM, client_id=CLIENT,
                          client_secret_key=SECRET)


def claims_of(oidc, username, password):
    return oidc.decode_token(oidc.token(username, password)["access_token"])


def test_realms_are_listed(admin):
    names = {r["realm"] for r in admin.get_realms()}
    assert {"master", "interop", "myrealm"} <= names
    realm = admin.get_realm(REALM)
    assert realm["realm"] == REALM
    assert realm["enabled"] is True


def test_user_lifecycle(admin, oidc):
    uid = admin.create_user({"username": "pk-user", "email": "pk@example.com", "enabled": True,
                             "firstName": "Py", "lastName": "Keycloak"})
    assert admin.get_user_id("pk-user") == uid
    with pytest.raises(KeycloakPostError) as duplicate:
        admin.create_user({"username": "pk-user"})
    assert duplicate.value.response_code == 409
    assert admin.create_user({"username": "pk-user"}, exist_ok=True) == uid

    assert admin.users_count({"search": "pk"}) == 1
    assert [u["username"] for u in admin.get_users({"search": "pk"})] == ["pk-user"]
    assert [u["username"] for u in admin.get_users({"email": "pk@example.com", "exact": True})] \
        == ["pk-user"]

    admin.update_user(uid, {"firstName": "Python"})
    user = admin.get_user(uid)
    assert user["firstName"] == "Python"
    assert user["lastName"] == "Keycloak"

    admin.set_user_password(uid, "pk-password", temporary=False)
    assert claims_of(oidc, "pk-user", "pk-password")["preferred_username"] == "pk-user"

    admin.delete_user(uid)
    with pytest.raises(KeycloakGetError) as gone:
        admin.get_user(uid)
    assert gone.value.response_code == 404


def test_groups_roles_and_tokens(admin, oidc):
    uid = admin.create_user({"username": "pk-member", "enabled": True, "credentials": [
        {"type": "password", "value": "pk-member-pw", "temporary": False}]})
    parent = admin.create_group({"name": "pk-parent"})
    child = admin.create_group({"name": "pk-child"}, parent=parent)
    assert admin.get_group(child)["path"] == "/pk-parent/pk-child"
    assert [g["name"] for g in admin.get_group_children(parent)] == ["pk-child"]
    assert "pk-parent" in [g["name"] for g in admin.get_groups()]

    admin.group_user_add(uid, child)
    assert [m["username"] for m in admin.get_group_members(child)] == ["pk-member"]
    assert [g["path"] for g in admin.get_user_groups(uid)] == ["/pk-parent/pk-child"]

    admin.create_realm_role({"name": "pk-role", "description": "made by python-keycloak"})
    role = admin.get_realm_role("pk-role")
    assert role["description"] == "made by python-keycloak"
    admin.assign_realm_roles(uid, [role])
    assert "pk-role" in [r["name"] for r in admin.get_realm_roles_of_user(uid)]
    assert "pk-role" in [r["name"] for r in admin.get_composite_realm_roles_of_user(uid)]

    claims = claims_of(oidc, "pk-member", "pk-member-pw")
    assert "pk-role" in claims["realm_access"]["roles"]
    assert claims["groups"] == ["pk-child"]  # the client's mapper has full.path false

    admin.delete_realm_roles_of_user(uid, [role])
    admin.group_user_remove(uid, child)
    claims = claims_of(oidc, "pk-member", "pk-member-pw")
    assert "pk-role" not in claims.get("realm_access", {}).get("roles", [])
    assert not claims.get("groups")

    admin.delete_realm_role("pk-role")
    admin.delete_group(parent)
    admin.delete_user(uid)
    with pytest.raises(KeycloakGetError) as gone:
        admin.get_group(child)
    assert gone.value.response_code == 404


def test_client_roles_group_mappings_and_sessions(admin, oidc):
    uid = admin.create_user({"username": "pk-roles", "enabled": True, "credentials": [
        {"type": "password", "value": "pk-roles-pw", "temporary": False}]})
    backend = admin.get_client_id(CLIENT)

    # Client roles: create (name from Location), 409 on a duplicate, a composite of two.
    assert admin.create_client_role(backend, {"name": "pk-app-admin",
                                              "description": "made by python-keycloak"}) \
        == "pk-app-admin"
    with pytest.raises(KeycloakPostError) as duplicate:
        admin.create_client_role(backend, {"name": "pk-app-admin"})
    assert duplicate.value.response_code == 409
    assert admin.create_client_role(backend, {"name": "pk-app-admin"}, skip_exists=True) \
        == "pk-app-admin"
    admin.create_client_role(backend, {"name": "pk-app-read"})
    parent = admin.get_client_role(backend, "pk-app-admin")
    assert parent["description"] == "made by python-keycloak"
    assert parent["clientRole"] is True and parent["containerId"] == backend
    admin.add_composite_client_roles_to_role(backend, "pk-app-admin",
                                             [admin.get_client_role(backend, "pk-app-read")])
    assert admin.get_client_role(backend, "pk-app-admin")["composite"] is True

    # A client role for the user, directly; its composite's member comes with it.
    admin.assign_client_role(uid, backend, [parent])
    assert [r["name"] for r in admin.get_client_roles_of_user(uid, backend)] == ["pk-app-admin"]
    assert {r["name"] for r in admin.get_composite_client_roles_of_user(uid, backend)} \
        == {"pk-app-admin", "pk-app-read"}
    assert "pk-app-admin" not in \
        [r["name"] for r in admin.get_available_client_roles_of_user(uid, backend)]
    assert [u["username"] for u in admin.get_client_role_members(backend, "pk-app-admin")] \
        == ["pk-roles"]

    # A realm role for a group the user joins: effective for the user through the group.
    group = admin.create_group({"name": "pk-writers"})
    admin.assign_group_realm_roles(group, [admin.get_realm_role("writer")])
    assert [r["name"] for r in admin.get_group_realm_roles(group)] == ["writer"]
    admin.group_user_add(uid, group)
    assert {"writer", "reader"} <= \
        {r["name"] for r in admin.get_composite_realm_roles_of_user(uid)}

    tokens = oidc.token("pk-roles", "pk-roles-pw")
    claims = oidc.decode_token(tokens["access_token"])
    assert set(claims["resource_access"][CLIENT]["roles"]) >= {"pk-app-admin", "pk-app-read"}
    assert {"writer", "reader"} <= set(claims["realm_access"]["roles"])

    # The login is a session of the user with the client in it; logging the user out ends it
    # and its refresh token.
    sessions = admin.get_sessions(uid)
    assert [s["id"] for s in sessions] == [tokens["session_state"]]
    assert sessions[0]["clients"] == {backend: CLIENT}
    assert sessions[0]["username"] == "pk-roles"
    admin.user_logout(uid)
    assert admin.get_sessions(uid) == []
    with pytest.raises(KeycloakPostError) as refused:
        oidc.refresh_token(tokens["refresh_token"])
    assert refused.value.response_code == 400

    # Taking the mappings away shows in the next token.
    admin.delete_group_realm_roles(group, [admin.get_realm_role("writer")])
    admin.delete_client_roles_of_user(uid, backend, [parent])
    claims = oidc.decode_token(oidc.token("pk-roles", "pk-roles-pw")["access_token"])
    assert "writer" not in claims.get("realm_access", {}).get("roles", [])
    assert CLIENT not in claims.get("resource_access", {})

    admin.delete_client_role(backend, "pk-app-admin")
    admin.delete_client_role(backend, "pk-app-read")
    admin.delete_group(group)
    admin.delete_user(uid)


def test_a_realm_user_without_admin_roles_is_refused(server):
    dave = KeycloakAdmin(server_url=server.base + "/", username="dave", password="dave-password",
                         realm_name=REALM, user_realm_name=REALM)
    with pytest.raises(KeycloakGetError) as refused:
        dave.get_users({})
    assert refused.value.response_code == 403


# Client scopes, protocol mappers, service accounts, realms and admin events.

def hardcoded_mapper(name, value):
    return {"name": name, "protocol": "openid-connect",
            "protocolMapper": "oidc-hardcoded-claim-mapper",
            "config": {"claim.name": name, "claim.value": value, "jsonType.label": "String",
                       "access.token.claim": "true", "id.token.claim": "true"}}


def test_client_with_mappers_and_service_account(admin, server):
    cid = admin.create_client({"clientId": "pk-svc", "secret": "pk-svc-secret",
                               "serviceAccountsEnabled": True, "directAccessGrantsEnabled": True,
                               "protocolMappers": [hardcoded_mapper("pk_created", "yes")]})
    assert admin.get_client_id("pk-svc") == cid
    assert [m["name"] for m in admin.get_mappers_from_client(cid)] == ["pk_created"]
    admin.add_mapper_to_client(cid, hardcoded_mapper("pk_added", "also"))
    with pytest.raises(KeycloakPostError) as duplicate:
        admin.add_mapper_to_client(cid, hardcoded_mapper("pk_added", "again"))
    assert duplicate.value.response_code == 409

    svc = KeycloakOpenID(server_url=server.base + "/", realm_name=REALM, client_id="pk-svc",
                         client_secret_key="pk-svc-secret")
    claims = svc.decode_token(svc.token(grant_type="client_credentials")["access_token"])
    assert (claims["pk_created"], claims["pk_added"]) == ("yes", "also")
    assert admin.get_client_service_account_user(cid)["username"] == "service-account-pk-svc"
    admin.delete_client(cid)


def test_client_scopes_reach_tokens(admin, oidc):
    sid = admin.create_client_scope({"name": "pk-scope", "protocol": "openid-connect"})
    assert admin.create_client_scope({"name": "pk-scope", "protocol": "openid-connect"},
                                     skip_exists=True) == sid
    assert admin.get_client_scope(sid)["name"] == "pk-scope"
    assert "pk-scope" in [s["name"] for s in admin.get_client_scopes()]
    admin.add_mapper_to_client_scope(sid, hardcoded_mapper("pk_scoped", "on"))
    admin.update_client_scope(sid, {"description": "from python-keycloak"})
    assert admin.get_client_scope(sid)["description"] == "from python-keycloak"

    backend = admin.get_client_id(CLIENT)
    admin.add_client_default_client_scope(backend, sid, {})
    assert "pk-scope" in [s["name"] for s in admin.get_client_default_client_scopes(backend)]
    user = admin.create_user({"username": "pk-scoped", "enabled": True, "credentials": [
        {"type": "password", "value": "pk-scoped-pw", "temporary": False}]})
    assert claims_of(oidc, "pk-scoped", "pk-scoped-pw")["pk_scoped"] == "on"
    admin.delete_client_default_client_scope(backend, sid)
    assert "pk_scoped" not in claims_of(oidc, "pk-scoped", "pk-scoped-pw")

    admin.add_default_default_client_scope(sid)
    assert "pk-scope" in [s["name"] for s in admin.get_default_default_client_scopes()]
    admin.delete_client_scope(sid)
    assert "pk-scope" not in [s["name"] for s in admin.get_default_default_client_scopes()]
    admin.delete_user(user)


def test_realm_create_update_export_events_delete(server):
    admin = KeycloakAdmin(server_url=server.base + "/", username="admin", password="admin",
                          realm_name="master", user_realm_name="master")
    admin.create_realm({"realm": "pk-realm", "enabled": True, "displayName": "PK",
                        "clients": [{"clientId": "pk-app", "secret": "pk-app-secret"}]})
    admin.create_realm({"realm": "pk-realm"}, skip_exists=True)
    admin.update_realm("pk-realm", {"displayName": "PK 2", "registrationAllowed": True})
    assert admin.get_realm("pk-realm")["displayName"] == "PK 2"

    admin.change_current_realm("pk-realm")
    admin.set_events({"adminEventsEnabled": True, "adminEventsDetailsEnabled": True})
    uid = admin.create_user({"username": "pk-audited", "enabled": True, "credentials": [
        {"type": "password", "value": "pk-audited-pw", "temporary": False}]})
    events = admin.get_admin_events({"resourceTypes": "USER"})
    assert [(e["operationType"], e["resourcePath"]) for e in events] == \
        [("CREATE", f"users/{uid}")]
    assert "pk-audited-pw" not in str(events)

    exported = admin.export_realm(export_clients=True, export_groups_and_role=True)
    app = next(c for c in exported["clients"] if c["clientId"] == "pk-app")
    assert app["secret"] == "**********"
    assert "users" not in exported

    admin.change_current_realm("master")
    admin.delete_realm("pk-realm")
    assert "pk-realm" not in [r["realm"] for r in admin.get_realms()]
