//! Claim sets against Keycloak 26's: a realm imported with the real built-in client scopes
//! (`portcullis_model::defaults`, via `import::build`), tokens built for its users, and the
//! full claim sets compared as JSON text so claim order is checked too.

#![allow(clippy::expect_used)] // tests may panic on failure

use base64::Engine;
use portcullis_model::import::{BuildContext, build};
use portcullis_model::records::{
    ClientRecord, ProtocolMapperRecord, RealmImage, RoleRecord, UserImage,
};
use portcullis_model::repr::RealmRepresentation;
use portcullis_oidc::claims::{self, RefreshInput, TokenInput};
use portcullis_oidc::mappers::Target;
use serde_json::Value;
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};

const ISSUER: &str = "http://localhost:8080/realms/myrealm";
const ALICE: &str = "8a4f4c8e-3c1e-4c55-9d44-0e4bbd6f1a01";
const DORA: &str = "8a4f4c8e-3c1e-4c55-9d44-0e4bbd6f1a02";
const SVC: &str = "8a4f4c8e-3c1e-4c55-9d44-0e4bbd6f1a03";
const BOB: &str = "8a4f4c8e-3c1e-4c55-9d44-0e4bbd6f1a04";
const SID: &str = "5d8c2f7a-1b0e-4d3b-a6a1-3f0f4b9e2c10";
const NOW: i64 = 1_750_000_000;

/// A small realm in the style of `examples/import/myrealm-realm.json`: nested groups, composite
/// realm roles, roles of two clients, the platform's group mapper with `full.path: false`.
const REALM: &str = r#"{
  "realm": "myrealm",
  "enabled": true,
  "roles": {
    "realm": [
      { "name": "viewer" },
      { "name": "editor", "composite": true, "composites": { "realm": ["viewer"] } },
      { "name": "admin", "composite": true,
        "composites": { "realm": ["editor"], "client": { "myclient": ["manage-content"] } } }
    ],
    "client": {
      "myclient": [ { "name": "manage-content" } ],
      "reports": [ { "name": "read-reports" }, { "name": "export-reports" } ]
    }
  },
  "groups": [
    { "name": "staff", "attributes": { "dept": ["engineering"], "site": ["berlin", "remote"] },
      "subGroups": [
        { "name": "editors", "realmRoles": ["editor"] },
        { "name": "admins", "realmRoles": ["admin"], "attributes": { "site": ["hq"] },
          "subGroups": [ { "name": "superusers", "clientRoles": { "reports": ["read-reports"] } } ] }
      ] },
    { "name": "viewers", "realmRoles": ["viewer"] }
  ],
  "clients": [
    { "clientId": "myclient", "secret": "my-client-secret",
      "redirectUris": ["http://localhost:8000/*", "https://app.example.com/*"],
      "webOrigins": ["+"],
      "protocolMappers": [
        { "name": "groups", "protocol": "openid-connect",
          "protocolMapper": "oidc-group-membership-mapper",
          "config": { "claim.name": "groups", "full.path": "false", "id.token.claim": "true",
                      "access.token.claim": "true", "userinfo.token.claim": "true",
                      "introspection.token.claim": "true" } }
      ] },
    { "clientId": "reports", "bearerOnly": true },
    { "clientId": "bare", "secret": "bare-secret", "redirectUris": ["https://bare.example.com/cb"],
      "defaultClientScopes": ["web-origins", "acr", "profile", "roles", "email"] },
    { "clientId": "svc", "secret": "svc-secret", "serviceAccountsEnabled": true,
      "standardFlowEnabled": false }
  ],
  "users": [
    { "id": "8a4f4c8e-3c1e-4c55-9d44-0e4bbd6f1a01", "username": "alice",
      "email": "alice@example.com", "firstName": "Alice", "lastName": "Liddell",
      "enabled": true, "emailVerified": true,
      "attributes": { "phoneNumber": ["+49 30 1234567"], "nickname": ["ali", "al"],
                      "street": ["1 Main St"], "locality": ["Berlin"], "country": ["DE"] },
      "realmRoles": ["default-roles-myrealm"],
      "groups": ["/staff/admins/superusers", "/viewers"] },
    { "id": "8a4f4c8e-3c1e-4c55-9d44-0e4bbd6f1a02", "username": "dora",
      "email": "dora@example.com", "firstName": "Dora", "enabled": true,
      "realmRoles": ["default-roles-myrealm"] },
    { "id": "8a4f4c8e-3c1e-4c55-9d44-0e4bbd6f1a03", "username": "service-account-svc",
      "enabled": true, "serviceAccountClientId": "svc",
      "realmRoles": ["default-roles-myrealm"], "clientRoles": { "reports": ["export-reports"] } },
    { "id": "8a4f4c8e-3c1e-4c55-9d44-0e4bbd6f1a04", "username": "bob",
      "email": "bob@example.com", "firstName": "Bob", "lastName": "Builder",
      "enabled": true, "emailVerified": false,
      "realmRoles": ["default-roles-myrealm"], "groups": ["/staff/editors"] }
  ]
}"#;

struct Fixture {
    image: RealmImage,
}

impl Fixture {
    fn new() -> Fixture {
        let rep: RealmRepresentation = serde_json::from_str(REALM).expect("realm JSON");
        let built = build(rep, &BuildContext { now_ms: 0 }).expect("realm imports");
        Fixture { image: built.image }
    }

    fn client(&self, client_id: &str) -> &ClientRecord {
        self.image
            .clients
            .iter()
            .find(|c| c.client_id == client_id)
            .expect("client")
    }

    fn user(&self, id: &str) -> &UserImage {
        self.image
            .users
            .iter()
            .find(|u| u.user.id == id)
            .expect("user")
    }

    fn group_path(&self, id: &str) -> String {
        let g = self
            .image
            .groups
            .iter()
            .find(|g| g.id == id)
            .expect("group");
        match &g.parent_id {
            Some(p) => format!("{}/{}", self.group_path(p), g.name),
            None => format!("/{}", g.name),
        }
    }

    /// Direct roles, roles of the user's groups and their ancestors, closed over composites.
    fn effective_roles(&self, user: &UserImage) -> Vec<RoleRecord> {
        let mut todo: Vec<String> = user.role_ids.clone();
        for gid in &user.group_ids {
            let mut cur = Some(gid.clone());
            while let Some(g) = cur {
                todo.extend(
                    self.image
                        .group_roles
                        .iter()
                        .filter(|(gr, _)| *gr == g)
                        .map(|(_, r)| r.clone()),
                );
                cur = self
                    .image
                    .groups
                    .iter()
                    .find(|x| x.id == g)
                    .and_then(|x| x.parent_id.clone());
            }
        }
        let mut seen = BTreeSet::new();
        while let Some(r) = todo.pop() {
            if seen.insert(r.clone()) {
                todo.extend(
                    self.image
                        .composites
                        .iter()
                        .filter(|(c, _)| *c == r)
                        .map(|(_, m)| m.clone()),
                );
            }
        }
        // Keycloak resolves roles into hash sets; the input order only matters for ties.
        let mut roles: Vec<RoleRecord> = self
            .image
            .roles
            .iter()
            .filter(|r| seen.contains(&r.id))
            .cloned()
            .collect();
        roles.sort_by(|a, b| (&a.client_id, &a.name).cmp(&(&b.client_id, &b.name)));
        roles
    }

    /// Mappers of the requested optional scopes, the client, and its default scopes.
    fn mappers(&self, client: &ClientRecord, optional: &[&str]) -> Vec<ProtocolMapperRecord> {
        let scope_id = |name: &str| {
            self.image
                .client_scopes
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.id.clone())
                .expect("scope")
        };
        let mut owners: Vec<String> = optional.iter().map(|n| scope_id(n)).collect();
        owners.push(client.id.clone());
        owners.extend(
            self.image
                .scope_links
                .iter()
                .filter(|l| l.owner_id == client.id && l.default_scope)
                .map(|l| l.scope_id.clone()),
        );
        owners
            .iter()
            .flat_map(|o| self.image.mappers.iter().filter(move |m| &m.owner_id == o))
            .cloned()
            .collect()
    }
}

/// Everything a [`TokenInput`] borrows, owned.
struct Parts<'f> {
    fx: &'f Fixture,
    client: ClientRecord,
    user: &'f UserImage,
    roles: Vec<RoleRecord>,
    client_ids: BTreeMap<String, String>,
    groups: Vec<(String, String)>,
    group_attributes: BTreeMap<String, Vec<(String, String)>>,
    mappers: Vec<ProtocolMapperRecord>,
    scope: String,
    notes: BTreeMap<String, String>,
    acr: &'static str,
}

impl<'f> Parts<'f> {
    fn new(fx: &'f Fixture, client_id: &str, user_id: &str, optional: &[&str]) -> Parts<'f> {
        let client = fx.client(client_id).clone();
        let mappers = fx.mappers(&client, optional);
        let user = fx.user(user_id);
        let client_ids = fx
            .image
            .clients
            .iter()
            .map(|c| (c.id.clone(), c.client_id.clone()))
            .collect();
        let groups = user
            .group_ids
            .iter()
            .map(|g| {
                let path = fx.group_path(g);
                let name = path.rsplit('/').next().unwrap_or_default().to_string();
                (name, path)
            })
            .collect();
        let group_attributes = fx
            .image
            .groups
            .iter()
            .map(|g| {
                let attrs = g
                    .attributes
                    .iter()
                    .flat_map(|(k, vs)| vs.0.iter().map(move |v| (k.clone(), v.clone())))
                    .collect();
                (fx.group_path(&g.id), attrs)
            })
            .collect();
        Parts {
            fx,
            client,
            user,
            roles: fx.effective_roles(user),
            client_ids,
            groups,
            group_attributes,
            mappers,
            scope: "openid email profile".into(),
            notes: BTreeMap::new(),
            acr: "1",
        }
    }

    fn with_mapper(mut self, name: &str, mapper_type: &str, config: &[(&str, &str)]) -> Self {
        self.mappers.push(mapper(name, mapper_type, config));
        self
    }

    fn input(&self) -> TokenInput<'_> {
        TokenInput {
            issuer: ISSUER,
            realm: &self.fx.image.realm,
            client: &self.client,
            user: &self.user.user,
            user_attributes: &self.user.attributes,
            group_attributes: &self.group_attributes,
            effective_roles: &self.roles,
            client_ids_by_uuid: &self.client_ids,
            direct_groups: &self.groups,
            mappers: &self.mappers,
            granted_scope: &self.scope,
            session_id: SID,
            session_notes: &self.notes,
            auth_time_s: NOW - 5,
            nonce: Some("n-0S6_WzA2Mj"),
            acr: self.acr,
            now_s: NOW,
            access_lifespan_s: 300,
            jti: "onrtac:2f1e0c3a-77d4-4a55-9f3e-0d5a7c1b9e21",
        }
    }
}

fn mapper(name: &str, mapper_type: &str, config: &[(&str, &str)]) -> ProtocolMapperRecord {
    ProtocolMapperRecord {
        id: format!("id-{name}"),
        owner_id: "test".into(),
        name: name.into(),
        protocol: "openid-connect".into(),
        mapper_type: mapper_type.into(),
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// Every token-inclusion flag on.
const ALL_FLAGS: &[(&str, &str)] = &[
    ("id.token.claim", "true"),
    ("access.token.claim", "true"),
    ("userinfo.token.claim", "true"),
    ("introspection.token.claim", "true"),
];

fn flags_and(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    ALL_FLAGS.iter().chain(extra).copied().collect()
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("serialises")
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// Run `build` for each case and compare one claim (absent = `None`).
fn check(cases: &[(&str, Value, Option<Value>)], build: impl Fn(&Value) -> Value, claim: &str) {
    for (label, setup, want) in cases {
        let got = build(setup);
        assert_eq!(got.get(claim), want.as_ref(), "{label}: {}", pretty(&got));
    }
}

// ---------------------------------------------------------------------------------------------
// Full claim sets
// ---------------------------------------------------------------------------------------------

/// Keycloak 26's access-token claims for a browser login with the default scopes (compat §2.2),
/// with `groups` where the Java map puts it.
const KEYCLOAK_ACCESS_TOKEN_CLAIMS: &[&str] = &[
    "exp",
    "iat",
    "auth_time",
    "jti",
    "iss",
    "aud",
    "sub",
    "typ",
    "azp",
    "sid",
    "acr",
    "allowed-origins",
    "realm_access",
    "resource_access",
    "scope",
    "email_verified",
    "name",
    "groups",
    "preferred_username",
    "given_name",
    "family_name",
    "email",
];

#[test]
fn browser_login_access_token_has_keycloaks_claims_in_keycloaks_order() {
    let fx = Fixture::new();
    let p = Parts::new(&fx, "myclient", BOB, &[]);
    let at = claims::access_token(&p.input());
    assert_eq!(keys(&at), KEYCLOAK_ACCESS_TOKEN_CLAIMS);
    assert_eq!(
        pretty(&at),
        r#"{
  "exp": 1750000300,
  "iat": 1750000000,
  "auth_time": 1749999995,
  "jti": "onrtac:2f1e0c3a-77d4-4a55-9f3e-0d5a7c1b9e21",
  "iss": "http://localhost:8080/realms/myrealm",
  "aud": "account",
  "sub": "8a4f4c8e-3c1e-4c55-9d44-0e4bbd6f1a04",
  "typ": "Bearer",
  "azp": "myclient",
  "sid": "5d8c2f7a-1b0e-4d3b-a6a1-3f0f4b9e2c10",
  "acr": "1",
  "allowed-origins": [
    "https://app.example.com",
    "http://localhost:8000"
  ],
  "realm_access": {
    "roles": [
      "default-roles-myrealm",
      "editor",
      "viewer",
      "offline_access",
      "uma_authorization"
    ]
  },
  "resource_access": {
    "account": {
      "roles": [
        "manage-account",
        "manage-account-links",
        "view-profile"
      ]
    }
  },
  "scope": "openid email profile",
  "email_verified": false,
  "name": "Bob Builder",
  "groups": [
    "editors"
  ],
  "preferred_username": "bob",
  "given_name": "Bob",
  "family_name": "Builder",
  "email": "bob@example.com"
}"#
    );
    assert!(claims::skipped_mappers(&p.input(), Target::AccessToken).is_empty());
}

const ALICE_ACCESS_TOKEN: &str = r#"{
  "exp": 1750000300,
  "iat": 1750000000,
  "auth_time": 1749999995,
  "jti": "onrtac:2f1e0c3a-77d4-4a55-9f3e-0d5a7c1b9e21",
  "iss": "http://localhost:8080/realms/myrealm",
  "aud": [
    "reports",
    "account"
  ],
  "sub": "8a4f4c8e-3c1e-4c55-9d44-0e4bbd6f1a01",
  "typ": "Bearer",
  "azp": "myclient",
  "sid": "5d8c2f7a-1b0e-4d3b-a6a1-3f0f4b9e2c10",
  "acr": "1",
  "allowed-origins": [
    "https://app.example.com",
    "http://localhost:8000"
  ],
  "realm_access": {
    "roles": [
      "default-roles-myrealm",
      "editor",
      "viewer",
      "offline_access",
      "admin",
      "uma_authorization"
    ]
  },
  "resource_access": {
    "reports": {
      "roles": [
        "read-reports"
      ]
    },
    "myclient": {
      "roles": [
        "manage-content"
      ]
    },
    "account": {
      "roles": [
        "manage-account",
        "manage-account-links",
        "view-profile"
      ]
    }
  },
  "scope": "openid email profile",
  "email_verified": true,
  "name": "Alice Liddell",
  "nickname": "ali",
  "groups": [
    "superusers",
    "viewers"
  ],
  "preferred_username": "alice",
  "given_name": "Alice",
  "family_name": "Liddell",
  "email": "alice@example.com"
}"#;

#[test]
fn nested_groups_composites_and_client_roles_in_the_access_token() {
    // Alice is in /staff/admins/superusers (admin -> editor -> viewer, admin ->
    // myclient/manage-content, superusers -> reports/read-reports) and /viewers. `aud` lists
    // the other clients she holds roles of, never the token's own client.
    let fx = Fixture::new();
    let p = Parts::new(&fx, "myclient", ALICE, &[]);
    assert_eq!(
        pretty(&claims::access_token(&p.input())),
        ALICE_ACCESS_TOKEN
    );
}

#[test]
fn id_token_and_userinfo_of_a_browser_login() {
    let fx = Fixture::new();
    let p = Parts::new(&fx, "myclient", ALICE, &[]);
    assert_eq!(
        pretty(&claims::id_token(
            &p.input(),
            Some("77QmUPtjPfzWtF2AnpK9RQ")
        )),
        r#"{
  "exp": 1750000300,
  "iat": 1750000000,
  "auth_time": 1749999995,
  "jti": "onrtac:2f1e0c3a-77d4-4a55-9f3e-0d5a7c1b9e21",
  "iss": "http://localhost:8080/realms/myrealm",
  "aud": "myclient",
  "sub": "8a4f4c8e-3c1e-4c55-9d44-0e4bbd6f1a01",
  "typ": "ID",
  "azp": "myclient",
  "nonce": "n-0S6_WzA2Mj",
  "sid": "5d8c2f7a-1b0e-4d3b-a6a1-3f0f4b9e2c10",
  "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
  "acr": "1",
  "email_verified": true,
  "name": "Alice Liddell",
  "nickname": "ali",
  "groups": [
    "superusers",
    "viewers"
  ],
  "preferred_username": "alice",
  "given_name": "Alice",
  "family_name": "Liddell",
  "email": "alice@example.com"
}"#
    );
    // UserInfo: no acr, auth_time, roles or origins (their mappers are off for UserInfo or,
    // like acr, cannot write to it); `groups` for django-allauth.
    assert_eq!(
        pretty(&claims::userinfo(&p.input())),
        r#"{
  "sub": "8a4f4c8e-3c1e-4c55-9d44-0e4bbd6f1a01",
  "email_verified": true,
  "name": "Alice Liddell",
  "nickname": "ali",
  "groups": [
    "superusers",
    "viewers"
  ],
  "preferred_username": "alice",
  "given_name": "Alice",
  "family_name": "Liddell",
  "email": "alice@example.com"
}"#
    );
}

#[test]
fn introspection_of_an_active_token() {
    let fx = Fixture::new();
    let p = Parts::new(&fx, "myclient", ALICE, &[]);
    let at = claims::access_token(&p.input());
    let resp = claims::introspection(&p.input(), &at);
    // The access token's claims (all its mappers are on for introspection), then the RFC 7662
    // members.
    let want = format!(
        "{},\n  \"client_id\": \"myclient\",\n  \"username\": \"alice\",\n  \"token_type\": \"Bearer\",\n  \"active\": true\n}}",
        ALICE_ACCESS_TOKEN.trim_end_matches("\n}")
    );
    assert_eq!(pretty(&resp), want);
    assert_eq!(
        claims::inactive_introspection(),
        serde_json::json!({"active": false})
    );
}

#[test]
fn refresh_and_offline_tokens() {
    let fx = Fixture::new();
    let p = Parts::new(&fx, "myclient", ALICE, &[]);
    let rt = claims::refresh_token(
        &p.input(),
        &RefreshInput {
            jti: "8f0c7b1e-refresh",
            exp_s: Some(NOW + 1800),
            offline: false,
        },
    );
    assert_eq!(
        pretty(&rt),
        r#"{
  "exp": 1750001800,
  "iat": 1750000000,
  "jti": "8f0c7b1e-refresh",
  "iss": "http://localhost:8080/realms/myrealm",
  "aud": "http://localhost:8080/realms/myrealm",
  "sub": "8a4f4c8e-3c1e-4c55-9d44-0e4bbd6f1a01",
  "typ": "Refresh",
  "azp": "myclient",
  "sid": "5d8c2f7a-1b0e-4d3b-a6a1-3f0f4b9e2c10",
  "scope": "openid email profile"
}"#
    );
    let offline = claims::refresh_token(
        &p.input(),
        &RefreshInput {
            jti: "o1",
            exp_s: None,
            offline: true,
        },
    );
    assert_eq!(offline.get("typ"), Some(&Value::from("Offline")));
    assert_eq!(offline.get("exp"), None);
}

#[test]
fn service_account_token_carries_the_service_account_scope_notes() {
    let fx = Fixture::new();
    let mut p = Parts::new(&fx, "svc", SVC, &["service_account"]);
    p.notes = [
        ("client_id", "svc"),
        ("clientHost", "10.0.0.7"),
        ("clientAddress", "10.0.0.7"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    p.scope = "email profile".into();
    let at = claims::access_token(&p.input());
    assert_eq!(
        pretty(&at),
        r#"{
  "exp": 1750000300,
  "iat": 1750000000,
  "auth_time": 1749999995,
  "jti": "onrtac:2f1e0c3a-77d4-4a55-9f3e-0d5a7c1b9e21",
  "iss": "http://localhost:8080/realms/myrealm",
  "aud": [
    "reports",
    "account"
  ],
  "sub": "8a4f4c8e-3c1e-4c55-9d44-0e4bbd6f1a03",
  "typ": "Bearer",
  "azp": "svc",
  "sid": "5d8c2f7a-1b0e-4d3b-a6a1-3f0f4b9e2c10",
  "acr": "1",
  "realm_access": {
    "roles": [
      "default-roles-myrealm",
      "offline_access",
      "uma_authorization"
    ]
  },
  "resource_access": {
    "reports": {
      "roles": [
        "export-reports"
      ]
    },
    "account": {
      "roles": [
        "manage-account",
        "manage-account-links",
        "view-profile"
      ]
    }
  },
  "scope": "email profile",
  "clientHost": "10.0.0.7",
  "email_verified": false,
  "preferred_username": "service-account-svc",
  "clientAddress": "10.0.0.7",
  "client_id": "svc"
}"#
    );
    // Introspection keeps the `client_id` claim where it is.
    let resp = claims::introspection(&p.input(), &at);
    let k = keys(&resp);
    assert_eq!(
        k[k.len() - 5..],
        [
            "clientAddress",
            "client_id",
            "username",
            "token_type",
            "active"
        ]
    );
}

#[test]
fn optional_scopes_address_phone_and_microprofile() {
    let fx = Fixture::new();
    let p = Parts::new(
        &fx,
        "myclient",
        ALICE,
        &["address", "phone", "microprofile-jwt"],
    );
    let ui = claims::userinfo(&p.input());
    // microprofile-jwt's `groups` holds realm roles; the realm-role mapper runs after the group
    // mapper and appends to its list, as in Keycloak.
    assert_eq!(
        pretty(&ui),
        r#"{
  "sub": "8a4f4c8e-3c1e-4c55-9d44-0e4bbd6f1a01",
  "upn": "alice",
  "address": {
    "street_address": "1 Main St",
    "locality": "Berlin",
    "country": "DE"
  },
  "email_verified": true,
  "name": "Alice Liddell",
  "nickname": "ali",
  "groups": [
    "superusers",
    "viewers",
    "default-roles-myrealm",
    "editor",
    "viewer",
    "offline_access",
    "admin",
    "uma_authorization"
  ],
  "phone_number": "+49 30 1234567",
  "preferred_username": "alice",
  "given_name": "Alice",
  "family_name": "Liddell",
  "email": "alice@example.com"
}"#
    );
}

// ---------------------------------------------------------------------------------------------
// The `basic` scope gotcha
// ---------------------------------------------------------------------------------------------

#[test]
fn client_without_basic_scope_gets_no_sub_or_auth_time() {
    let fx = Fixture::new();
    let p = Parts::new(&fx, "bare", ALICE, &[]);
    let at = claims::access_token(&p.input());
    assert_eq!(
        keys(&at),
        [
            "exp",
            "iat",
            "jti",
            "iss",
            "aud",
            "typ",
            "azp",
            "sid",
            "acr",
            "realm_access",
            "resource_access",
            "scope",
            "email_verified",
            "name",
            "nickname",
            "preferred_username",
            "given_name",
            "family_name",
            "email"
        ]
    );
    // `bare` holds no roles itself, so every client Alice has roles of is an audience.
    assert_eq!(
        at.get("aud"),
        Some(&serde_json::json!(["reports", "myclient", "account"]))
    );
    // Keycloak still puts `sub` in the ID token (not `auth_time`), and UserInfo always has it;
    // the refresh token copies the access token's (missing) `sub`.
    let id = claims::id_token(&p.input(), None);
    assert_eq!(id.get("sub"), Some(&Value::from(ALICE)));
    assert_eq!(id.get("auth_time"), None);
    assert_eq!(
        claims::userinfo(&p.input()).get("sub"),
        Some(&Value::from(ALICE))
    );
    let rt = claims::refresh_token(
        &p.input(),
        &RefreshInput {
            jti: "r",
            exp_s: Some(NOW + 60),
            offline: false,
        },
    );
    assert_eq!(rt.get("sub"), None);
}

// ---------------------------------------------------------------------------------------------
// Mapper semantics
// ---------------------------------------------------------------------------------------------

/// Alice's tokens from `myclient` with the platform group mapper's config replaced by `config`.
fn with_group_config(fx: &Fixture, user: &str, config: &Value) -> Parts<'static> {
    // The fixture outlives the test body; leak it to keep the helper simple.
    let fx: &'static Fixture = Box::leak(Box::new(Fixture {
        image: fx.image.clone(),
    }));
    let mut p = Parts::new(fx, "myclient", user, &[]);
    let m = p
        .mappers
        .iter_mut()
        .find(|m| m.name == "groups")
        .expect("platform groups mapper");
    m.config = config
        .as_object()
        .expect("config object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    p
}

#[test]
fn groups_claim_follows_the_mapper_flags() {
    use serde_json::json;
    let fx = Fixture::new();
    let names = Some(json!(["superusers", "viewers"]));
    let platform = json!({"claim.name": "groups", "full.path": "false", "id.token.claim": "true",
        "access.token.claim": "true", "userinfo.token.claim": "true",
        "introspection.token.claim": "true"});
    let id_only = json!({"claim.name": "groups", "id.token.claim": "true"});
    let userinfo_off = json!({"claim.name": "groups", "id.token.claim": "true",
        "access.token.claim": "true", "userinfo.token.claim": "false"});
    let access_only = json!({"claim.name": "groups", "access.token.claim": "true"});
    let no_flags = json!({"claim.name": "groups"});
    let at = |c: &Value| claims::access_token(&with_group_config(&fx, ALICE, c).input());
    let id = |c: &Value| claims::id_token(&with_group_config(&fx, ALICE, c).input(), None);
    let ui = |c: &Value| claims::userinfo(&with_group_config(&fx, ALICE, c).input());
    let intro = |c: &Value| {
        let p = with_group_config(&fx, ALICE, c);
        claims::introspection(&p.input(), &claims::access_token(&p.input()))
    };
    check(
        &[
            ("platform", platform.clone(), names.clone()),
            ("id only", id_only.clone(), None),
            ("userinfo off", userinfo_off.clone(), names.clone()),
            ("access only", access_only.clone(), names.clone()),
            ("no flags", no_flags.clone(), None),
        ],
        at,
        "groups",
    );
    check(
        &[
            ("platform", platform.clone(), names.clone()),
            ("id only", id_only.clone(), names.clone()),
            ("userinfo off", userinfo_off.clone(), names.clone()),
            ("access only", access_only.clone(), None),
        ],
        id,
        "groups",
    );
    check(
        &[
            ("platform", platform.clone(), names.clone()),
            // userinfo.token.claim absent: falls back to id.token.claim.
            ("id only", id_only.clone(), names.clone()),
            // "false" wins over id.token.claim "true".
            ("userinfo off", userinfo_off.clone(), None),
            ("access only", access_only.clone(), None),
        ],
        ui,
        "groups",
    );
    check(
        &[
            ("platform", platform.clone(), names.clone()),
            ("id only", id_only, None),
            // introspection.token.claim absent: falls back to access.token.claim.
            ("access only", access_only, names.clone()),
        ],
        intro,
        "groups",
    );
    // full.path: "true" gives paths; absent or anything else gives bare names.
    check(
        &[
            (
                "full path",
                json!({"claim.name": "groups", "full.path": "true", "access.token.claim": "true"}),
                Some(json!(["/staff/admins/superusers", "/viewers"])),
            ),
            (
                "full.path absent",
                json!({"claim.name": "groups", "access.token.claim": "true"}),
                names.clone(),
            ),
            (
                "full.path True",
                json!({"claim.name": "groups", "full.path": "True", "access.token.claim": "true"}),
                names,
            ),
        ],
        at,
        "groups",
    );
    // A user without groups gets no claim at all (Keycloak 22+), not an empty list.
    let dora = claims::access_token(&with_group_config(&fx, DORA, &platform).input());
    assert_eq!(dora.get("groups"), None);
}

fn access_claims(p: &Parts<'_>) -> Value {
    claims::access_token(&p.input())
}

#[test]
fn role_mappers_prefixes_restrictions_and_merging() {
    use serde_json::json;
    let fx = Fixture::new();
    let base = || Parts::new(&fx, "myclient", ALICE, &[]);

    // Restricted to one client, under a custom claim, with a prefix.
    let p = base().with_mapper(
        "reports roles",
        "oidc-usermodel-client-role-mapper",
        &[
            ("claim.name", "reports_roles"),
            ("usermodel.clientRoleMapping.clientId", "reports"),
            ("usermodel.clientRoleMapping.rolePrefix", "rep:"),
            ("multivalued", "true"),
            ("access.token.claim", "true"),
        ],
    );
    assert_eq!(
        access_claims(&p).get("reports_roles"),
        Some(&json!(["rep:read-reports"]))
    );

    // ${client_id} in a custom claim: one nested entry per client; the dotted clientId would
    // be escaped.
    let p = base().with_mapper(
        "roles by client",
        "oidc-usermodel-client-role-mapper",
        &[
            ("claim.name", "app.${client_id}"),
            ("usermodel.clientRoleMapping.clientId", "myclient"),
            ("multivalued", "true"),
            ("access.token.claim", "true"),
        ],
    );
    assert_eq!(
        access_claims(&p).get("app"),
        Some(&json!({"myclient": ["manage-content"]}))
    );

    // A second client-role mapper into resource_access adds to the same role sets.
    let p = base().with_mapper(
        "prefixed client roles",
        "oidc-usermodel-client-role-mapper",
        &[
            ("claim.name", "resource_access.${client_id}.roles"),
            ("usermodel.clientRoleMapping.clientId", "reports"),
            ("usermodel.clientRoleMapping.rolePrefix", "x-"),
            ("multivalued", "true"),
            ("access.token.claim", "true"),
        ],
    );
    assert_eq!(
        access_claims(&p).pointer("/resource_access/reports/roles"),
        Some(&json!(["read-reports", "x-read-reports"]))
    );

    // Realm roles with a prefix into a custom claim; without `multivalued` only the first role
    // (in Keycloak's hash-set order) is kept, as a string.
    let p = base()
        .with_mapper(
            "prefixed realm roles",
            "oidc-usermodel-realm-role-mapper",
            &[
                ("claim.name", "realm_roles"),
                ("usermodel.realmRoleMapping.rolePrefix", "realm:"),
                ("multivalued", "true"),
                ("access.token.claim", "true"),
            ],
        )
        .with_mapper(
            "one realm role",
            "oidc-usermodel-realm-role-mapper",
            &[("claim.name", "a_role"), ("access.token.claim", "true")],
        );
    let at = access_claims(&p);
    assert_eq!(
        at.get("realm_roles"),
        Some(&json!([
            "realm:admin",
            "realm:default-roles-myrealm",
            "realm:editor",
            "realm:offline_access",
            "realm:viewer",
            "realm:uma_authorization"
        ]))
    );
    assert_eq!(at.get("a_role"), Some(&json!("default-roles-myrealm")));

    // In an ID token roles are plain nested claims; two client-role mappers merge into one
    // `resource_access` object.
    let p = base()
        .with_mapper(
            "id client roles",
            "oidc-usermodel-client-role-mapper",
            &[
                ("claim.name", "resource_access.${client_id}.roles"),
                ("multivalued", "true"),
                ("id.token.claim", "true"),
            ],
        )
        .with_mapper(
            "id extra",
            "oidc-usermodel-client-role-mapper",
            &[
                ("claim.name", "resource_access.${client_id}.extra"),
                ("usermodel.clientRoleMapping.clientId", "reports"),
                ("multivalued", "true"),
                ("id.token.claim", "true"),
            ],
        );
    assert_eq!(
        pretty(
            claims::id_token(&p.input(), None)
                .get("resource_access")
                .expect("claim")
        ),
        r#"{
  "reports": {
    "roles": [
      "read-reports"
    ],
    "extra": [
      "read-reports"
    ]
  },
  "myclient": {
    "roles": [
      "manage-content"
    ]
  },
  "account": {
    "roles": [
      "manage-account",
      "manage-account-links",
      "view-profile"
    ]
  }
}"#
    );
}

#[test]
fn audience_mappers() {
    use serde_json::json;
    let fx = Fixture::new();
    let p = Parts::new(&fx, "myclient", BOB, &[])
        .with_mapper(
            "api audience",
            "oidc-audience-mapper",
            &[
                ("included.custom.audience", "https://api.example.com"),
                ("access.token.claim", "true"),
                ("id.token.claim", "true"),
            ],
        )
        .with_mapper(
            "reports audience",
            "oidc-audience-mapper",
            &[
                ("included.client.audience", "reports"),
                ("included.custom.audience", "ignored-when-a-client-is-set"),
                ("access.token.claim", "true"),
            ],
        )
        .with_mapper(
            "account again",
            "oidc-audience-mapper",
            &[
                ("included.client.audience", "account"),
                ("access.token.claim", "true"),
            ],
        );
    // Audience mappers run before `audience resolve` (priority 30); no duplicates.
    assert_eq!(
        access_claims(&p).get("aud"),
        Some(&json!(["https://api.example.com", "reports", "account"]))
    );
    assert_eq!(
        claims::id_token(&p.input(), None).get("aud"),
        Some(&json!(["myclient", "https://api.example.com"]))
    );
    // Audience mappers never write to UserInfo.
    assert_eq!(claims::userinfo(&p.input()).get("aud"), None);
    // A token with no audience at all has no `aud` claim.
    let mut p = Parts::new(&fx, "myclient", DORA, &[]);
    p.roles.retain(|r| r.client_id.is_none());
    assert_eq!(access_claims(&p).get("aud"), None);
}

#[test]
fn hardcoded_claims_and_json_types() {
    use serde_json::json;
    let fixture = Fixture::new();
    let fx = &fixture;
    let hardcoded = |claim: &'static str, value: &'static str, json_type: &'static str| {
        move |_: &Value| {
            let p = Parts::new(fx, "myclient", BOB, &[]).with_mapper(
                "hardcoded",
                "oidc-hardcoded-claim-mapper",
                &flags_and(&[
                    ("claim.name", claim),
                    ("claim.value", value),
                    ("jsonType.label", json_type),
                ]),
            );
            access_claims(&p)
        }
    };
    for (label, value, json_type, want) in [
        ("long", "1700000000", "long", Some(json!(1_700_000_000_i64))),
        ("int", "42", "int", Some(json!(42))),
        ("boolean", "true", "boolean", Some(json!(true))),
        ("boolean other", "yes", "boolean", Some(json!(false))),
        ("string", "42", "String", Some(json!("42"))),
        (
            "JSON",
            r#"{"tier":"gold","limits":[1,2]}"#,
            "JSON",
            Some(json!({"tier": "gold", "limits": [1, 2]})),
        ),
        ("bad long", "soon", "long", None),
        ("bad JSON", "{", "JSON", None),
    ] {
        check(
            &[(label, Value::Null, want)],
            hardcoded("hc", value, json_type),
            "hc",
        );
    }
    // JSON values keep their own member order.
    let at = hardcoded("hc", r#"{"z":1,"a":2}"#, "JSON")(&Value::Null);
    assert_eq!(keys(at.get("hc").expect("claim")), ["z", "a"]);
    // A value that does not convert is reported, not emitted.
    let p = Parts::new(fx, "myclient", BOB, &[]).with_mapper(
        "bad",
        "oidc-hardcoded-claim-mapper",
        &flags_and(&[
            ("claim.name", "n"),
            ("claim.value", "x"),
            ("jsonType.label", "long"),
        ]),
    );
    assert_eq!(
        claims::skipped_mappers(&p.input(), Target::AccessToken),
        ["bad"]
    );
    // Mappers may set `sub`, `acr`, `aud`, ... but never the server's own claims.
    let p = Parts::new(fx, "myclient", BOB, &[])
        .with_mapper(
            "iss",
            "oidc-hardcoded-claim-mapper",
            &flags_and(&[
                ("claim.name", "iss"),
                ("claim.value", "https://evil.example"),
            ]),
        )
        .with_mapper(
            "acr",
            "oidc-hardcoded-claim-mapper",
            &flags_and(&[("claim.name", "acr"), ("claim.value", "gold")]),
        );
    let at = access_claims(&p);
    assert_eq!(at.get("iss"), Some(&json!(ISSUER)));
    assert_eq!(at.get("acr"), Some(&json!("gold")));
}

#[test]
fn multivalued_attributes_and_group_attribute_inheritance() {
    use serde_json::json;
    let fx = Fixture::new();
    let attr = |name: &'static str, extra: &'static [(&'static str, &'static str)]| {
        let mut config = flags_and(&[("user.attribute", name), ("claim.name", "c")]);
        config.extend_from_slice(extra);
        let p = Parts::new(&fx, "myclient", ALICE, &[]).with_mapper(
            "attr",
            "oidc-usermodel-attribute-mapper",
            &config,
        );
        access_claims(&p).get("c").cloned()
    };
    // `multivalued` absent: first value only.
    assert_eq!(attr("nickname", &[]), Some(json!("ali")));
    assert_eq!(
        attr("nickname", &[("multivalued", "false")]),
        Some(json!("ali"))
    );
    assert_eq!(
        attr("nickname", &[("multivalued", "true")]),
        Some(json!(["ali", "al"]))
    );
    // Model properties read through the attribute mapper.
    assert_eq!(attr("firstName", &[]), Some(json!("Alice")));
    assert_eq!(attr("missing", &[]), None);
    // Not set on the user: the nearest group up the tree that has it.
    assert_eq!(
        attr("site", &[("multivalued", "true")]),
        Some(json!(["hq"]))
    );
    assert_eq!(attr("dept", &[]), Some(json!("engineering")));
    // aggregate.attrs: the user's and every group's values, as a set.
    assert_eq!(
        attr(
            "site",
            &[("multivalued", "true"), ("aggregate.attrs", "true")]
        ),
        Some(json!(["hq", "remote", "berlin"]))
    );
    // Property mapper: booleans as JSON booleans.
    let p = Parts::new(&fx, "myclient", ALICE, &[]).with_mapper(
        "verified",
        "oidc-usermodel-property-mapper",
        &flags_and(&[
            ("user.attribute", "EmailVerified"),
            ("claim.name", "ev"),
            ("jsonType.label", "boolean"),
        ]),
    );
    assert_eq!(access_claims(&p).get("ev"), Some(&json!(true)));
}

#[test]
fn dotted_and_escaped_claim_names() {
    use serde_json::json;
    let fx = Fixture::new();
    let hc = |name: &'static str, claim: &'static str, value: &'static str| {
        (
            name,
            "oidc-hardcoded-claim-mapper",
            flags_and(&[("claim.name", claim), ("claim.value", value)]),
        )
    };
    let mut p = Parts::new(&fx, "myclient", BOB, &[]);
    for (name, t, config) in [
        hc("nested a", "org.unit.name", "platform"),
        hc("nested b", "org.unit.id", "7"),
        hc("nested c", "org.region", "eu"),
        hc("escaped", r"app\.example\.com/tier", "gold"),
        hc("mixed", r"x\.y.z", "1"),
    ] {
        p = p.with_mapper(name, t, &config);
    }
    let at = access_claims(&p);
    assert_eq!(
        at.get("org"),
        Some(&json!({"region": "eu", "unit": {"name": "platform", "id": "7"}}))
    );
    assert_eq!(at.get("app.example.com/tier"), Some(&json!("gold")));
    assert_eq!(at.get("x.y"), Some(&json!({"z": "1"})));
    // Nested objects are Java hash maps too: `unit` comes before `region`.
    assert_eq!(keys(at.get("org").expect("org")), ["unit", "region"]);
}

#[test]
fn unknown_and_unsupported_mappers_are_skipped() {
    let fx = Fixture::new();
    let mut p = Parts::new(&fx, "myclient", BOB, &[])
        .with_mapper(
            "hardcoded role",
            "oidc-hardcoded-role-mapper",
            &[("role", "admin")],
        )
        .with_mapper("script", "oidc-script-based-protocol-mapper", ALL_FLAGS);
    let mut saml = mapper("saml attr", "saml-user-attribute-mapper", &[]);
    saml.protocol = "saml".into();
    p.mappers.push(saml);
    let before = access_claims(&Parts::new(&fx, "myclient", BOB, &[]));
    assert_eq!(access_claims(&p), before);
    assert_eq!(
        claims::skipped_mappers(&p.input(), Target::IdToken),
        ["saml attr", "hardcoded role", "script"]
    );
}

#[test]
fn lightweight_access_tokens_keep_only_lightweight_claims() {
    let fx = Fixture::new();
    let mut p = Parts::new(&fx, "myclient", ALICE, &[]).with_mapper(
        "tenant",
        "oidc-hardcoded-claim-mapper",
        &flags_and(&[
            ("claim.name", "tenant"),
            ("claim.value", "acme"),
            ("lightweight.claim", "true"),
        ]),
    );
    p.client
        .repr
        .attributes
        .get_or_insert_with(BTreeMap::new)
        .insert(claims::LIGHTWEIGHT_ATTRIBUTE.into(), "true".into());
    let at = claims::access_token(&p.input());
    assert_eq!(
        keys(&at),
        [
            "exp", "iat", "jti", "iss", "typ", "azp", "sid", "scope", "tenant"
        ]
    );
    // Introspection restores the full claim set.
    let resp = claims::introspection(&p.input(), &at);
    assert_eq!(resp.get("sub"), Some(&Value::from(ALICE)));
    assert!(resp.get("realm_access").is_some() && resp.get("groups").is_some());
}

#[test]
fn at_hash_is_the_left_half_of_sha256_for_rs256() {
    let fx = Fixture::new();
    let p = Parts::new(&fx, "myclient", ALICE, &[]);
    // Any compact JWS will do; build one from the access token's claims.
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let token = format!(
        "{}.{}.c2lnbmF0dXJl",
        b64.encode(br#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#),
        b64.encode(serde_json::to_vec(&claims::access_token(&p.input())).expect("json"))
    );
    let digest = sha2::Sha256::digest(token.as_bytes());
    let want = b64.encode(&digest[..16]);
    assert_eq!(claims::at_hash(&token, "RS256"), want);
    assert_eq!(want.len(), 22);
    // OpenID Connect Core 1.0, Appendix A.3.
    assert_eq!(
        claims::at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "RS256"),
        "77QmUPtjPfzWtF2AnpK9RQ"
    );
    let id = claims::id_token(&p.input(), Some(&want));
    assert_eq!(id.get("at_hash"), Some(&Value::from(want)));
}
