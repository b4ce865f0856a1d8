#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

//! The realm import rules (`portcullis_model::import`) and the export that undoes them
//! (`portcullis_model::export`), as pure tests: realm JSON in, a built image or an error out.
//!
//! Most rules are checked through small tables run by [`check`]: a realm JSON snippet and the
//! outcome it must have (built, or an error whose message contains a given text).

use portcullis_model::export::{Names, UsersInRealm, realm_representation, user_representation};
use portcullis_model::import::{
    BuildContext, Built, ImportError, ParseError, build, canonical_required_action, check_cycles,
    master_link, parse_document, placeholder_in,
};
use portcullis_model::password::{Algorithm, HashPolicy, hash_password};
use portcullis_model::records::{
    ClientRecord, CredentialSecret, RealmImage, RoleRecord, UserImage,
};
use portcullis_model::repr::RealmRepresentation;
use portcullis_model::subst::substitute;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const NOW_MS: i64 = 1_700_000_000_000;

fn ctx() -> BuildContext {
    BuildContext { now_ms: NOW_MS }
}

/// A fast password policy, so that hashing in tests costs next to nothing.
fn fast_policy() -> HashPolicy {
    HashPolicy::new(Algorithm::Pbkdf2Sha256, Some(1000))
}

/// `{"realm": "test", "enabled": true}` with the fields of `extra` added or replaced.
fn realm(extra: Value) -> Value {
    let mut doc = json!({"realm": "test", "enabled": true});
    if let (Some(base), Value::Object(extra)) = (doc.as_object_mut(), extra) {
        base.extend(extra);
    }
    doc
}

/// Small extension to edit a JSON value inline.
trait Tap: Sized {
    fn tap(self, f: impl FnOnce(&mut Self)) -> Self;
}

impl Tap for Value {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}

/// The one realm of a document that must parse.
fn parse_one(text: &str) -> RealmRepresentation {
    let mut doc = parse_document(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(doc.realms.len(), 1, "one realm expected");
    doc.realms.remove(0)
}

fn try_build(doc: &Value) -> Result<Built, ImportError> {
    build(parse_one(&doc.to_string()), &ctx())
}

fn built(doc: &Value) -> Built {
    try_build(doc).unwrap_or_else(|e| panic!("{e}\n{doc}"))
}

fn image(doc: &Value) -> RealmImage {
    built(doc).image
}

/// What a table case expects of `build`.
#[derive(Debug)]
enum Want {
    /// The realm builds.
    Ok,
    /// The build fails with a message containing this text.
    Err(&'static str),
}

/// Run a table of (label, realm JSON, expected outcome); report every mismatch at once.
fn check(cases: &[(&str, Value, Want)]) {
    let mut failures = Vec::new();
    for (label, doc, want) in cases {
        let got = try_build(doc);
        let ok = match (&got, want) {
            (Ok(_), Want::Ok) => true,
            (Err(e), Want::Err(text)) => e.to_string().contains(text),
            _ => false,
        };
        if !ok {
            let got = match got {
                Ok(_) => "built".to_string(),
                Err(e) => format!("error: {e}"),
            };
            failures.push(format!("- {label}: want {want:?}, got {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn client<'a>(img: &'a RealmImage, client_id: &str) -> &'a ClientRecord {
    img.clients
        .iter()
        .find(|c| c.client_id == client_id)
        .unwrap_or_else(|| panic!("no client '{client_id}'"))
}

fn user<'a>(img: &'a RealmImage, username: &str) -> &'a UserImage {
    img.users
        .iter()
        .find(|u| u.user.username == username)
        .unwrap_or_else(|| panic!("no user '{username}'"))
}

/// The id of a realm role (`client` None) or of a client role.
fn role_id(img: &RealmImage, client: Option<&str>, name: &str) -> String {
    let owner = client.map(|c| self::client(img, c).id.clone());
    img.roles
        .iter()
        .find(|r| r.name == name && r.client_id == owner)
        .map(|r| r.id.clone())
        .unwrap_or_else(|| panic!("no role {client:?}/{name}"))
}

/// `name` for a realm role, `clientId/name` for a client role.
fn role_label(img: &RealmImage, id: &str) -> String {
    let r = img.roles.iter().find(|r| r.id == id).expect("role id");
    match &r.client_id {
        None => r.name.clone(),
        Some(cid) => {
            let c = img.clients.iter().find(|c| &c.id == cid).expect("client");
            format!("{}/{}", c.client_id, r.name)
        }
    }
}

fn labels<'a>(img: &RealmImage, ids: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
    ids.into_iter().map(|id| role_label(img, id)).collect()
}

fn composites_of(img: &RealmImage, client: Option<&str>, name: &str) -> BTreeSet<String> {
    let parent = role_id(img, client, name);
    labels(
        img,
        img.composites
            .iter()
            .filter(|(p, _)| *p == parent)
            .map(|(_, c)| c),
    )
}

/// Names of the client scopes linked to `owner` (a client's or the realm's id).
fn scope_names(img: &RealmImage, owner: &str, default_scope: bool) -> BTreeSet<String> {
    img.scope_links
        .iter()
        .filter(|l| l.owner_id == owner && l.default_scope == default_scope)
        .map(|l| {
            img.client_scopes
                .iter()
                .find(|s| s.id == l.scope_id)
                .expect("linked scope")
                .name
                .clone()
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn export_json(img: &RealmImage) -> String {
    serde_json::to_string_pretty(&realm_representation(img, UsersInRealm::Include)).unwrap()
}

/// A stored PBKDF2 credential for `password`, as (secretData, credentialData).
fn stored_hash(password: &str) -> (String, String) {
    hash_password(password, &fast_policy())
        .unwrap()
        .to_keycloak()
}

fn hash_credentials(img: &mut RealmImage) {
    for u in &mut img.users {
        for c in &mut u.credentials {
            c.hash_if_plain(&fast_policy()).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// parse_document
// ---------------------------------------------------------------------------------------------

#[test]
fn parse_accepts_one_realm_or_an_array_of_realms() {
    let one = parse_document(r#"{"realm": "a", "enabled": true}"#).unwrap();
    assert_eq!(one.realms.len(), 1);
    assert_eq!(one.realms[0].realm.as_deref(), Some("a"));
    assert_eq!(one.realms[0].enabled, Some(true));
    assert!(one.unknown_fields.is_empty());

    let many = parse_document("\n  [{\"realm\": \"a\"}, {\"realm\": \"b\"}]  \n").unwrap();
    let names: Vec<_> = many.realms.iter().map(|r| r.realm.as_deref()).collect();
    assert_eq!(names, [Some("a"), Some("b")]);

    assert!(parse_document("[]").unwrap().realms.is_empty());
    // Trailing whitespace is fine.
    assert_eq!(parse_document("{}\n\n").unwrap().realms.len(), 1);
}

#[test]
fn parse_reports_malformed_json_with_line_and_column() {
    // (document, line, column of the error)
    let cases: &[(&str, usize, usize)] = &[
        ("{\n  \"realm\": \"a\",\n  \"enabled\": trux\n}", 3, 17),
        ("{\n  \"realm\": \"a\"\n  \"enabled\": true\n}", 3, 3),
        ("{\"realm\": \"a\",}", 1, 15),
        ("{\"realm\": \"a\"", 1, 13),
        ("", 1, 0),
        // Trailing garbage after the realm object.
        ("{\"realm\": \"a\"}\nx", 2, 1),
        ("{\"realm\": \"a\"} {\"realm\": \"b\"}", 1, 16),
        ("[{\"realm\": \"a\"}] ]", 1, 18),
    ];
    let mut failures = Vec::new();
    for (text, line, column) in cases {
        match parse_document(text) {
            Err(ParseError::Syntax {
                line: l, column: c, ..
            }) if (l, c) == (*line, *column) => {}
            other => failures.push(format!("{text:?}: want {line}:{column}, got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let e = parse_document("{\"realm\": \"a\"} x").unwrap_err();
    assert!(e.to_string().contains("line 1, column"), "{e}");
}

#[test]
fn parse_reports_wrong_types_with_their_json_path() {
    // (document, path of the bad value)
    let cases: &[(Value, &str)] = &[
        (
            realm(json!({"users": [{"username": "a"}, {"username": "b", "enabled": "yes"}]})),
            "users[1].enabled",
        ),
        (
            realm(json!({"clients": [{"clientId": "a", "redirectUris": "https://x/*"}]})),
            "clients[0].redirectUris",
        ),
        (
            realm(json!({"accessTokenLifespan": "300s"})),
            "accessTokenLifespan",
        ),
        (realm(json!({"enabled": 1})), "enabled"),
        (
            realm(json!({"roles": {"realm": [{"name": "r", "composites": {"realm": "x"}}]}})),
            "roles.realm[0].composites.realm",
        ),
        (
            realm(json!({"groups": [{"name": "g", "subGroups": [{"name": 7}]}]})),
            "groups[0].subGroups[0].name",
        ),
        (
            realm(json!({"smtpServer": {"port": 25}})),
            "smtpServer.port",
        ),
        (
            realm(json!({"users": [{"username": "a", "credentials": [{"temporary": "no"}]}]})),
            "users[0].credentials[0].temporary",
        ),
        (
            json!([{"realm": "a"}, {"realm": "b", "enabled": "no"}]),
            "[1].enabled",
        ),
    ];
    for (doc, path) in cases {
        match parse_document(&serde_json::to_string_pretty(doc).unwrap()) {
            Err(ParseError::Type {
                path: p,
                line,
                column,
                ..
            }) => {
                assert_eq!(p, *path, "{doc}");
                assert!(line >= 1 && column >= 1, "{doc}: at {line}:{column}");
            }
            other => panic!("{doc}: expected a type error at {path}, got {other:?}"),
        }
    }
    // A document that is valid JSON but not a realm object is not a path error.
    assert!(matches!(
        parse_document("\"realm\""),
        Err(ParseError::Syntax { .. })
    ));
}

#[test]
fn parse_collects_unknown_fields_with_their_paths() {
    let doc = realm(json!({
        "bogusTop": 1,
        "clients": [{"clientId": "a", "bogus": true}],
        "users": [
            {"username": "u"},
            {"username": "v", "credentials": [{"type": "password", "value": "x", "extra": 1}]}
        ],
        "roles": {"realm": [{"name": "r", "colour": "red"}]},
    }));
    let parsed = parse_document(&doc.to_string()).unwrap();
    let got: BTreeSet<&str> = parsed.unknown_fields.iter().map(String::as_str).collect();
    // Unknown fields are reported with the same JSON paths as type errors (`clients[0].bogus`).
    let want: BTreeSet<&str> = [
        "bogusTop",
        "clients[0].bogus",
        "users[1].credentials[0].extra",
        "roles.realm[0].colour",
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
}

#[test]
fn parse_does_not_report_known_but_unmodelled_keycloak_fields() {
    let doc = realm(json!({
        "authenticationFlows": [{"alias": "browser", "topLevel": true, "authenticationExecutions": [
            {"authenticator": "auth-cookie", "requirement": "ALTERNATIVE", "priority": 10}
        ]}],
        "authenticatorConfig": [{"alias": "x", "config": {"a": "b"}}],
        "components": {"org.keycloak.keys.KeyProvider": [{"name": "rsa", "config": {"priority": ["100"]}}]},
        "identityProviders": [{"alias": "github", "providerId": "github", "config": {"clientId": "x"}}],
        "identityProviderMappers": [],
        "requiredActions": [{"alias": "VERIFY_EMAIL", "enabled": true, "priority": 50}],
        "clientPolicies": {"policies": []},
        "clientProfiles": {"profiles": []},
    }));
    let parsed = parse_document(&doc.to_string()).unwrap();
    assert!(
        parsed.unknown_fields.is_empty(),
        "{:?}",
        parsed.unknown_fields
    );
    // They are kept verbatim and come back in an export.
    let img = build(parsed.realms.into_iter().next().unwrap(), &ctx())
        .unwrap()
        .image;
    let out = serde_json::to_value(realm_representation(&img, UsersInRealm::Exclude)).unwrap();
    for key in [
        "authenticationFlows",
        "authenticatorConfig",
        "components",
        "identityProviders",
        "requiredActions",
    ] {
        assert_eq!(out[key], doc[key], "{key}");
    }
}

// ---------------------------------------------------------------------------------------------
// build: defaults
// ---------------------------------------------------------------------------------------------

#[test]
fn realm_and_users_are_disabled_unless_enabled_is_true() {
    let img = image(&json!({"realm": "test"}));
    assert!(!img.realm.enabled, "realm 'enabled' absent means disabled");
    assert!(image(&realm(json!({})),).realm.enabled);

    let img = image(&realm(json!({"users": [
        {"username": "absent"},
        {"username": "off", "enabled": false},
        {"username": "on", "enabled": true},
    ]})));
    assert!(!user(&img, "absent").user.enabled);
    assert!(!user(&img, "off").user.enabled);
    assert!(user(&img, "on").user.enabled);
}

#[test]
fn usernames_and_emails_are_lower_cased() {
    let img = image(&realm(json!({"users": [
        {"username": "Alice.Smith", "email": "Alice.Smith@Example.COM", "firstName": "Alice"},
        {"username": " Bob ", "email": ""},
    ]})));
    let alice = user(&img, "alice.smith");
    assert_eq!(alice.user.email.as_deref(), Some("alice.smith@example.com"));
    assert_eq!(
        alice.user.first_name.as_deref(),
        Some("Alice"),
        "names keep case"
    );
    assert_eq!(alice.user.created_timestamp, NOW_MS);
    assert_eq!(
        user(&img, "bob").user.email,
        None,
        "empty email is no email"
    );
}

const BUILTIN_CLIENTS: &[&str] = &[
    "account",
    "account-console",
    "admin-cli",
    "broker",
    "realm-management",
    "security-admin-console",
];

#[test]
fn builtin_clients_are_added_when_absent_and_not_duplicated() {
    let img = image(&realm(json!({"clients": [{"clientId": "app"}]})));
    let ids: BTreeSet<&str> = img.clients.iter().map(|c| c.client_id.as_str()).collect();
    let mut want: BTreeSet<&str> = BUILTIN_CLIENTS.iter().copied().collect();
    want.insert("app");
    assert_eq!(ids, want);
    // Their roles come with them.
    assert_eq!(
        composites_of(&img, Some("account"), "manage-account"),
        set(&["account/manage-account-links"])
    );
    role_id(&img, Some("broker"), "read-token");
    let admin = composites_of(&img, Some("realm-management"), "realm-admin");
    assert_eq!(admin.len(), 18);
    assert!(admin.contains("realm-management/manage-users"));

    // A template that defines built-in clients keeps its own definition, once.
    let img = image(&realm(json!({"clients": [
        {"clientId": "account", "rootUrl": "https://accounts.example", "publicClient": true},
        {"clientId": "realm-management", "bearerOnly": true},
    ]})));
    assert_eq!(img.clients.len(), BUILTIN_CLIENTS.len());
    for cid in BUILTIN_CLIENTS {
        let n = img.clients.iter().filter(|c| c.client_id == *cid).count();
        assert_eq!(n, 1, "{cid}");
    }
    assert_eq!(
        client(&img, "account").repr.root_url.as_deref(),
        Some("https://accounts.example")
    );
    // ... and still gets the built-in roles it does not define.
    role_id(&img, Some("account"), "view-profile");
    role_id(&img, Some("realm-management"), "realm-admin");
}

const OIDC_DEFAULTS: &[&str] = &["acr", "basic", "email", "profile", "roles", "web-origins"];
const OIDC_OPTIONALS: &[&str] = &[
    "address",
    "microprofile-jwt",
    "offline_access",
    "organization",
    "phone",
];

#[test]
fn builtin_client_scopes_and_realm_default_lists() {
    let img = image(&realm(json!({})));
    let names: BTreeSet<&str> = img.client_scopes.iter().map(|s| s.name.as_str()).collect();
    for s in [
        "profile",
        "email",
        "roles",
        "web-origins",
        "acr",
        "basic",
        "address",
        "phone",
        "offline_access",
        "microprofile-jwt",
        "organization",
        "service_account",
        "role_list",
        "saml_organization",
    ] {
        assert!(names.contains(s), "built-in scope {s} missing: {names:?}");
    }
    let mut want_defaults = set(OIDC_DEFAULTS);
    want_defaults.extend(set(&["role_list", "saml_organization"]));
    assert_eq!(scope_names(&img, &img.realm.id, true), want_defaults);
    assert_eq!(scope_names(&img, &img.realm.id, false), set(OIDC_OPTIONALS));

    // Scopes given by the template replace the built-ins; the realm lists come from the
    // template too.
    let b = built(&realm(json!({
        "clientScopes": [{"name": "mine", "protocol": "openid-connect"}, {"name": "extra"}],
        "defaultDefaultClientScopes": ["mine"],
        "defaultOptionalClientScopes": ["extra", "gone"],
    })));
    assert!(
        b.warnings
            .iter()
            .any(|w| w.contains("defaultOptionalClientScopes") && w.contains("'gone'")),
        "{:?}",
        b.warnings
    );
    let img = b.image;
    let names: BTreeSet<&str> = img.client_scopes.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["extra", "mine"].into_iter().collect());
    assert_eq!(scope_names(&img, &img.realm.id, true), set(&["mine"]));
    assert_eq!(scope_names(&img, &img.realm.id, false), set(&["extra"]));
}

#[test]
fn client_scopes_of_clients() {
    let b = built(&realm(json!({"clients": [
        {"clientId": "plain"},
        {"clientId": "sp", "protocol": "saml"},
        {"clientId": "listed", "defaultClientScopes": ["basic", "nope"], "optionalClientScopes": ["phone"]},
        {"clientId": "optional-only", "optionalClientScopes": ["offline_access"]},
        {"clientId": "default-only", "defaultClientScopes": ["roles"]},
        {"clientId": "empty", "defaultClientScopes": []},
    ]})));
    let img = &b.image;
    let of = |cid: &str, default_scope: bool| scope_names(img, &client(img, cid).id, default_scope);
    // Neither list: the realm defaults of the client's protocol.
    assert_eq!(of("plain", true), set(OIDC_DEFAULTS));
    assert_eq!(of("plain", false), set(OIDC_OPTIONALS));
    assert_eq!(of("sp", true), set(&["role_list", "saml_organization"]));
    assert_eq!(of("sp", false), set(&[]));
    // Either list: only what is listed, unknown names skipped with a warning.
    assert_eq!(of("listed", true), set(&["basic"]));
    assert_eq!(of("listed", false), set(&["phone"]));
    assert_eq!(of("optional-only", true), set(&[]));
    assert_eq!(of("optional-only", false), set(&["offline_access"]));
    assert_eq!(of("default-only", true), set(&["roles"]));
    assert_eq!(of("default-only", false), set(&[]));
    assert_eq!(of("empty", true), set(&[]));
    assert_eq!(of("empty", false), set(&[]));
    let warned: Vec<_> = b.warnings.iter().filter(|w| w.contains("nope")).collect();
    assert_eq!(warned.len(), 1, "{:?}", b.warnings);
    assert!(warned[0].contains("client 'listed'"), "{}", warned[0]);
    // Built-in clients get Keycloak's lists.
    assert_eq!(of("account-console", true), set(OIDC_DEFAULTS));
}

#[test]
fn default_role_and_its_composites() {
    let img = image(&json!({"realm": "MyRealm", "enabled": true, "users": [{"username": "u"}]}));
    let default_role = img
        .roles
        .iter()
        .find(|r| r.id == img.realm.default_role_id)
        .unwrap();
    assert_eq!(default_role.name, "default-roles-myrealm");
    assert_eq!(default_role.client_id, None);
    assert_eq!(
        composites_of(&img, None, "default-roles-myrealm"),
        set(&[
            "offline_access",
            "uma_authorization",
            "account/view-profile",
            "account/manage-account",
        ])
    );
    // Imported users do not get the default role (Keycloak gotcha #2).
    assert!(user(&img, "u").role_ids.is_empty());
    assert!(user(&img, "u").required_actions.is_empty());

    // Listing it explicitly grants it.
    let img = image(&realm(json!({
        "users": [{"username": "u", "realmRoles": ["default-roles-test"]}]
    })));
    assert_eq!(
        user(&img, "u").role_ids,
        std::slice::from_ref(&img.realm.default_role_id)
    );

    // The legacy `defaultRoles` list is folded into the default role.
    let img = image(&realm(json!({
        "roles": {"realm": [{"name": "viewer"}]},
        "defaultRoles": ["viewer", "offline_access"],
    })));
    assert_eq!(
        composites_of(&img, None, "default-roles-test"),
        set(&[
            "viewer",
            "offline_access",
            "uma_authorization",
            "account/view-profile",
            "account/manage-account",
        ])
    );

    // A template that defines the default role decides its composites.
    let img = image(&realm(json!({
        "roles": {"realm": [
            {"name": "viewer"},
            {"name": "default-roles-test", "composite": true, "composites": {"realm": ["viewer"]}},
        ]},
        "defaultRole": {"name": "default-roles-test"},
    })));
    assert_eq!(
        composites_of(&img, None, "default-roles-test"),
        set(&["viewer"])
    );
}

#[test]
fn required_actions_and_temporary_passwords() {
    let img = image(&realm(json!({"users": [
        {"username": "a", "requiredActions": [
            "verify_email", "Update_Profile", "my-custom-action", "WEBAUTHN-REGISTER", "VERIFY_EMAIL"
        ]},
        {"username": "t", "credentials": [{"type": "password", "value": "pw", "temporary": true}]},
        {"username": "f", "credentials": [{"type": "password", "value": "pw", "temporary": false}]},
        {"username": "both", "requiredActions": ["update_password"],
         "credentials": [{"type": "password", "value": "pw", "temporary": true}]},
    ]})));
    assert_eq!(
        user(&img, "a").required_actions,
        [
            "VERIFY_EMAIL",
            "UPDATE_PROFILE",
            "my-custom-action",
            "webauthn-register"
        ]
    );
    assert_eq!(user(&img, "t").required_actions, ["UPDATE_PASSWORD"]);
    assert!(user(&img, "f").required_actions.is_empty());
    assert_eq!(user(&img, "both").required_actions, ["UPDATE_PASSWORD"]);

    for (given, canonical) in [
        ("verify_email", "VERIFY_EMAIL"),
        ("Configure_Totp", "CONFIGURE_TOTP"),
        ("TERMS_AND_CONDITIONS", "TERMS_AND_CONDITIONS"),
        ("DELETE_ACCOUNT", "delete_account"),
        ("Update_User_Locale", "update_user_locale"),
        ("custom-thing", "custom-thing"),
        ("Custom-Thing", "Custom-Thing"),
    ] {
        assert_eq!(canonical_required_action(given), canonical, "{given}");
    }
}

#[test]
fn client_secrets() {
    let img = image(&realm(json!({"clients": [
        {"clientId": "confidential"},
        {"clientId": "confidential2", "publicClient": false},
        {"clientId": "given", "secret": "s3cr3t"},
        {"clientId": "public", "publicClient": true},
        {"clientId": "public-with-secret", "publicClient": true, "secret": "ignored"},
        {"clientId": "bearer", "bearerOnly": true},
    ]})));
    let secret = |cid: &str| client(&img, cid).secret.as_ref().map(|s| s.to_string());
    for cid in ["confidential", "confidential2"] {
        let s = secret(cid).unwrap_or_else(|| panic!("{cid} has no secret"));
        assert_eq!(s.len(), 32, "{cid}");
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()), "{cid}: {s}");
    }
    assert_ne!(secret("confidential"), secret("confidential2"));
    assert_eq!(secret("given").as_deref(), Some("s3cr3t"));
    assert_eq!(secret("public"), None);
    assert_eq!(secret("public-with-secret"), None);
    assert_eq!(secret("bearer"), None);
    // Built-in clients: public or bearer-only, so none has a secret.
    for cid in BUILTIN_CLIENTS {
        assert_eq!(secret(cid), None, "{cid}");
    }
}

#[test]
fn service_account_users() {
    let img = image(&realm(json!({"clients": [
        {"clientId": "Worker", "serviceAccountsEnabled": true},
        {"clientId": "listed", "serviceAccountsEnabled": true},
        {"clientId": "no-sa"},
    ], "users": [
        {"username": "service-account-listed", "enabled": true, "serviceAccountClientId": "listed",
         "realmRoles": ["offline_access"]},
    ]})));
    let worker = user(&img, "service-account-worker");
    assert_eq!(
        worker.user.service_account_client_id.as_deref(),
        Some(client(&img, "Worker").id.as_str())
    );
    assert!(worker.user.enabled);
    assert_eq!(
        worker.role_ids,
        std::slice::from_ref(&img.realm.default_role_id)
    );
    // The template's own service-account user is used, not doubled.
    let listed: Vec<_> = img
        .users
        .iter()
        .filter(|u| {
            u.user.service_account_client_id.as_deref() == Some(client(&img, "listed").id.as_str())
        })
        .collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].user.username, "service-account-listed");
    assert_eq!(labels(&img, &listed[0].role_ids), set(&["offline_access"]));
    assert_eq!(img.users.len(), 2);
}

#[test]
fn master_and_other_realms() {
    let m = image(&json!({"realm": "master", "enabled": true}));
    assert_eq!(m.realm.settings.access_token_lifespan, Some(60));
    assert_eq!(m.realm.access_token_lifespan(), 60);
    role_id(&m, None, "admin");
    role_id(&m, None, "create-realm");
    role_id(&m, None, "default-roles-master");
    let ids: BTreeSet<&str> = m.clients.iter().map(|c| c.client_id.as_str()).collect();
    assert!(ids.contains("master-realm"), "{ids:?}");
    assert!(!ids.contains("realm-management"), "{ids:?}");
    assert!(client(&m, "master-realm").bearer_only());
    let admin = composites_of(&m, None, "admin");
    assert!(admin.contains("create-realm"), "{admin:?}");
    assert!(admin.contains("master-realm/manage-users"), "{admin:?}");
    assert!(
        !admin.iter().any(|r| r.ends_with("realm-admin")),
        "{admin:?}"
    );

    let r = image(&realm(json!({})));
    assert_eq!(r.realm.settings.access_token_lifespan, Some(300));
    let ids: BTreeSet<&str> = r.clients.iter().map(|c| c.client_id.as_str()).collect();
    assert!(ids.contains("realm-management"));
    assert!(!ids.iter().any(|c| c.ends_with("-realm")), "{ids:?}");
    assert!(
        !r.roles
            .iter()
            .any(|x| x.name == "admin" || x.name == "create-realm")
    );

    // A template value wins over the master default.
    let m = image(&json!({"realm": "master", "accessTokenLifespan": 120}));
    assert_eq!(m.realm.access_token_lifespan(), 120);
}

#[test]
fn realm_settings_defaults() {
    let img = image(&realm(json!({"failureFactor": 5, "displayName": "Test"})));
    let s = &img.realm.settings;
    assert_eq!(img.realm.name, "test");
    assert_eq!(s.ssl_required.as_deref(), Some("external"));
    assert_eq!(s.brute_force_protected, Some(false));
    assert_eq!(s.brute_force_strategy.as_deref(), Some("MULTIPLE"));
    assert_eq!(s.failure_factor, Some(5), "template value kept");
    assert_eq!(s.wait_increment_seconds, Some(60));
    assert_eq!(s.max_failure_wait_seconds, Some(900));
    assert_eq!(s.minimum_quick_login_wait_seconds, Some(60));
    assert_eq!(s.quick_login_check_milli_seconds, Some(1000));
    assert_eq!(s.max_delta_time_seconds, Some(43200));
    assert_eq!(s.permanent_lockout, Some(false));
    assert_eq!(s.max_temporary_lockouts, Some(0));
    assert_eq!(s.default_signature_algorithm.as_deref(), Some("RS256"));
    assert_eq!(s.sso_session_idle_timeout, Some(1800));
    assert_eq!(s.sso_session_max_lifespan, Some(36000));
    assert_eq!(s.offline_session_idle_timeout, Some(2_592_000));
    assert_eq!(s.access_code_lifespan, Some(60));
    assert_eq!(s.access_code_lifespan_user_action, Some(300));
    assert_eq!(s.access_code_lifespan_login, Some(1800));
    assert_eq!(s.login_with_email_allowed, Some(true));
    assert_eq!(s.duplicate_emails_allowed, Some(false));
    for flag in [
        s.registration_allowed,
        s.registration_email_as_username,
        s.remember_me,
        s.verify_email,
        s.reset_password_allowed,
        s.edit_username_allowed,
        s.events_enabled,
        s.admin_events_enabled,
        s.revoke_refresh_token,
    ] {
        assert_eq!(flag, Some(false));
    }
    assert_eq!(s.events_listeners, Some(vec!["jboss-logging".to_string()]));
    assert_eq!(s.display_name.as_deref(), Some("Test"));
    assert_eq!(s.password_policy, None);
    assert_eq!(img.realm.password_policy(), "");
    // The settings row holds no entity collections.
    assert!(s.realm.is_none() && s.id.is_none() && s.enabled.is_none());
    assert!(s.roles.is_none() && s.users.is_none() && s.clients.is_none());
    assert!(s.groups.is_none() && s.client_scopes.is_none() && s.default_role.is_none());
}

#[test]
fn ssl_required_is_case_insensitive() {
    // Keycloak reads `sslRequired` case-insensitively, so "EXTERNAL" or "None" import fine
    // (and export as lower case).
    for (given, stored) in [("EXTERNAL", "external"), ("None", "none"), ("all", "all")] {
        let img = try_build(&realm(json!({"sslRequired": given})))
            .unwrap_or_else(|e| panic!("sslRequired {given}: {e}"))
            .image;
        assert_eq!(
            img.realm.settings.ssl_required.as_deref(),
            Some(stored),
            "{given}"
        );
    }
}

#[test]
fn builtin_scope_mappings_are_created() {
    // Keycloak gives a new realm two role scope mappings: the `offline_access` client scope
    // carries the `offline_access` role, and `account-console` (fullScopeAllowed false) carries
    // `account`'s manage-account and view-groups.
    let img = image(&realm(json!({})));
    assert_eq!(
        client(&img, "account-console").repr.full_scope_allowed,
        Some(false)
    );
    let mapped = |owner: &str| -> BTreeSet<String> {
        labels(
            &img,
            img.scope_mappings
                .iter()
                .filter(|(o, _)| o == owner)
                .map(|(_, r)| r),
        )
    };
    let offline_scope = img
        .client_scopes
        .iter()
        .find(|s| s.name == "offline_access")
        .unwrap();
    assert_eq!(mapped(&offline_scope.id), set(&["offline_access"]));
    assert_eq!(
        mapped(&client(&img, "account-console").id),
        set(&["account/manage-account", "account/view-groups"])
    );
}

// ---------------------------------------------------------------------------------------------
// build: errors
// ---------------------------------------------------------------------------------------------

#[test]
fn build_checks_realm_names() {
    check(&[
        (
            "no name",
            json!({"enabled": true}),
            Want::Err("the realm has no 'realm' name"),
        ),
        (
            "blank name",
            json!({"realm": "  "}),
            Want::Err("realm name is empty"),
        ),
        (
            "slash",
            json!({"realm": "a/b"}),
            Want::Err("realm name 'a/b' is not allowed"),
        ),
        (
            "backslash",
            json!({"realm": "a\\b"}),
            Want::Err("is not allowed"),
        ),
        (
            "percent",
            json!({"realm": "a%2Fb"}),
            Want::Err("is not allowed"),
        ),
        (
            "control",
            json!({"realm": "a\nb"}),
            Want::Err("is not allowed"),
        ),
        (
            "too long",
            json!({"realm": "x".repeat(256)}),
            Want::Err("is not allowed"),
        ),
        ("ordinary", json!({"realm": "my-realm_1.0"}), Want::Ok),
        ("upper case", json!({"realm": "MyRealm"}), Want::Ok),
        ("unicode", json!({"realm": "société"}), Want::Ok),
        ("255 bytes", json!({"realm": "x".repeat(255)}), Want::Ok),
    ]);
}

#[test]
fn build_rejects_duplicates() {
    let user = |name: &str, email: Option<&str>| json!({"username": name, "email": email});
    check(&[
        (
            "username, case-insensitive",
            realm(json!({"users": [user("Alice", None), user("alice", None)]})),
            Want::Err("duplicate username 'alice'"),
        ),
        (
            "username, surrounding spaces",
            realm(json!({"users": [user("bob", None), user(" bob ", None)]})),
            Want::Err("duplicate username 'bob'"),
        ),
        (
            "username in users and federatedUsers",
            realm(json!({"users": [user("bob", None)], "federatedUsers": [user("BOB", None)]})),
            Want::Err("duplicate username 'bob'"),
        ),
        (
            "service-account user name taken by an ordinary user",
            realm(json!({
                "clients": [{"clientId": "w", "serviceAccountsEnabled": true}],
                "users": [user("service-account-w", None)],
            })),
            Want::Err("duplicate username 'service-account-w'"),
        ),
        (
            "email, case-insensitive",
            realm(
                json!({"users": [user("a", Some("X@Example.org")), user("b", Some("x@example.ORG"))]}),
            ),
            Want::Err("duplicate email 'x@example.org'"),
        ),
        (
            "email with duplicateEmailsAllowed",
            realm(json!({
                "duplicateEmailsAllowed": true,
                "users": [user("a", Some("x@example.org")), user("b", Some("x@example.org"))],
            })),
            Want::Ok,
        ),
        (
            "users without email",
            realm(json!({"users": [user("a", None), user("b", None)]})),
            Want::Ok,
        ),
        (
            "clientId",
            realm(json!({"clients": [{"clientId": "app"}, {"clientId": "app"}]})),
            Want::Err("duplicate clientId 'app'"),
        ),
        (
            "built-in clientId defined twice",
            realm(json!({"clients": [{"clientId": "broker"}, {"clientId": "broker"}]})),
            Want::Err("duplicate clientId 'broker'"),
        ),
        (
            "clientIds differing in case",
            realm(json!({"clients": [{"clientId": "app"}, {"clientId": "App"}]})),
            Want::Ok,
        ),
        (
            "realm role",
            realm(json!({"roles": {"realm": [{"name": "r"}, {"name": "r"}]}})),
            Want::Err("duplicate realm role 'r'"),
        ),
        (
            "client role",
            realm(json!({
                "clients": [{"clientId": "app"}],
                "roles": {"client": {"app": [{"name": "r"}, {"name": "r"}]}},
            })),
            Want::Err("duplicate client role 'app/r'"),
        ),
        (
            "same role name in the realm and in two clients",
            realm(json!({
                "clients": [{"clientId": "app"}, {"clientId": "api"}],
                "roles": {"realm": [{"name": "r"}], "client": {"app": [{"name": "r"}], "api": [{"name": "r"}]}},
            })),
            Want::Ok,
        ),
        (
            "template role with a built-in role's name is the built-in",
            realm(json!({"roles": {"realm": [{"name": "offline_access", "description": "mine"}]}})),
            Want::Ok,
        ),
        (
            "top-level group",
            realm(json!({"groups": [{"name": "g"}, {"name": "g"}]})),
            Want::Err("duplicate group '/g'"),
        ),
        (
            "sibling sub-group",
            realm(json!({"groups": [{"name": "p", "subGroups": [{"name": "c"}, {"name": "c"}]}]})),
            Want::Err("duplicate group '/p/c'"),
        ),
        (
            "same group name under different parents",
            realm(json!({"groups": [
                {"name": "p", "subGroups": [{"name": "c"}]},
                {"name": "q", "subGroups": [{"name": "c"}]},
                {"name": "c"},
            ]})),
            Want::Ok,
        ),
        (
            "client scope",
            realm(json!({"clientScopes": [{"name": "s"}, {"name": "s"}]})),
            Want::Err("duplicate client scope 's'"),
        ),
        (
            "mapper name on one client",
            realm(json!({"clients": [{"clientId": "app", "protocolMappers": [
                {"name": "m", "protocolMapper": "oidc-full-name-mapper"},
                {"name": "m", "protocolMapper": "oidc-sub-mapper"},
            ]}]})),
            Want::Err("duplicate protocol mapper 'm'"),
        ),
        (
            "mapper name on one client scope",
            realm(json!({"clientScopes": [{"name": "s", "protocolMappers": [
                {"name": "m", "protocolMapper": "oidc-full-name-mapper"},
                {"name": "m", "protocolMapper": "oidc-full-name-mapper"},
            ]}]})),
            Want::Err("duplicate protocol mapper 'm'"),
        ),
        (
            "same mapper name on two clients",
            realm(json!({"clients": [
                {"clientId": "a", "protocolMappers": [{"name": "m", "protocolMapper": "oidc-sub-mapper"}]},
                {"clientId": "b", "protocolMappers": [{"name": "m", "protocolMapper": "oidc-sub-mapper"}]},
            ]})),
            Want::Ok,
        ),
    ]);
}

#[test]
fn build_rejects_unknown_references() {
    let app = || json!([{"clientId": "app"}]);
    let app_roles =
        || json!({"realm": [{"name": "viewer"}], "client": {"app": [{"name": "read"}]}});
    check(&[
        (
            "user in an unknown group",
            realm(json!({"users": [{"username": "alice", "groups": ["/nope"]}]})),
            Want::Err("user 'alice': group '/nope' does not exist"),
        ),
        (
            "user in an unknown sub-group",
            realm(json!({
                "groups": [{"name": "p"}],
                "users": [{"username": "alice", "groups": ["/p/c"]}],
            })),
            Want::Err("user 'alice': group '/p/c' does not exist"),
        ),
        (
            "user groups by full path, with or without the leading slash",
            realm(json!({
                "groups": [{"name": "p", "subGroups": [{"name": "c"}]}],
                "users": [{"username": "alice", "groups": ["/p/c", "p"]}],
            })),
            Want::Ok,
        ),
        (
            "user in a sub-group named by its bare name",
            realm(json!({
                "groups": [{"name": "p", "subGroups": [{"name": "c"}]}],
                "users": [{"username": "alice", "groups": ["/c"]}],
            })),
            Want::Err("group '/c' does not exist"),
        ),
        (
            "unknown defaultGroups",
            realm(json!({"groups": [{"name": "g"}], "defaultGroups": ["/g", "/nope"]})),
            Want::Err("defaultGroups: group '/nope' does not exist"),
        ),
        (
            "user with an unknown realm role",
            realm(json!({"users": [{"username": "alice", "realmRoles": ["nope"]}]})),
            Want::Err("user 'alice': realm role 'nope' does not exist"),
        ),
        (
            "user with an unknown client role",
            realm(json!({
                "clients": app(),
                "users": [{"username": "alice", "clientRoles": {"app": ["nope"]}}],
            })),
            Want::Err("user 'alice': client role 'app/nope' does not exist"),
        ),
        (
            "user with a role of an unknown client",
            realm(json!({"users": [{"username": "alice", "clientRoles": {"nope": ["read"]}}]})),
            Want::Err("user 'alice': client 'nope' does not exist"),
        ),
        (
            "user with known roles",
            realm(json!({
                "clients": app(), "roles": app_roles(),
                "users": [{"username": "alice", "realmRoles": ["viewer"], "clientRoles": {"app": ["read"], "account": ["view-profile"]}}],
            })),
            Want::Ok,
        ),
        (
            "user with an unknown serviceAccountClientId",
            realm(json!({"users": [{"username": "svc", "serviceAccountClientId": "nope"}]})),
            Want::Err("serviceAccountClientId 'nope' does not exist"),
        ),
        (
            "group with an unknown realm role",
            realm(json!({"groups": [{"name": "g", "realmRoles": ["nope"]}]})),
            Want::Err("group '/g': realm role 'nope' does not exist"),
        ),
        (
            "sub-group with an unknown client role",
            realm(json!({"groups": [{"name": "p", "subGroups": [
                {"name": "c", "clientRoles": {"account": ["nope"]}}
            ]}]})),
            Want::Err("group '/p/c': client role 'account/nope' does not exist"),
        ),
        (
            "group with a role of an unknown client",
            realm(json!({"groups": [{"name": "g", "clientRoles": {"nope": ["r"]}}]})),
            Want::Err("group '/g': client 'nope' does not exist"),
        ),
        (
            "composite with an unknown realm role",
            realm(json!({"roles": {"realm": [{"name": "r", "composites": {"realm": ["nope"]}}]}})),
            Want::Err("composites of realm role 'r': realm role 'nope' does not exist"),
        ),
        (
            "client-role composite with an unknown client role",
            realm(json!({
                "clients": app(),
                "roles": {"client": {"app": [{"name": "r", "composites": {"client": {"app": ["nope"]}}}]}},
            })),
            Want::Err("composites of client role 'app/r': client role 'app/nope' does not exist"),
        ),
        (
            "composite with a role of an unknown client",
            realm(
                json!({"roles": {"realm": [{"name": "r", "composites": {"client": {"nope": ["x"]}}}]}}),
            ),
            Want::Err("composites of realm role 'r': client 'nope' does not exist"),
        ),
        (
            "composites declared before their members",
            realm(json!({
                "clients": app(),
                "roles": {
                    "realm": [{"name": "r", "composites": {"realm": ["s"], "client": {"app": ["read"]}}}, {"name": "s"}],
                    "client": {"app": [{"name": "read"}]},
                },
            })),
            Want::Ok,
        ),
        (
            "client roles of an unknown client",
            realm(json!({"roles": {"client": {"nope": [{"name": "r"}]}}})),
            Want::Err("roles.client: client 'nope' does not exist"),
        ),
        (
            "legacy defaultRoles with an unknown role",
            realm(json!({"defaultRoles": ["nope"]})),
            Want::Err("realm role 'nope' does not exist"),
        ),
        (
            "scope mapping of an unknown client scope",
            realm(json!({"scopeMappings": [{"clientScope": "nope", "roles": ["offline_access"]}]})),
            Want::Err("scopeMappings: client scope 'nope' does not exist"),
        ),
        (
            "scope mapping of an unknown role",
            realm(json!({"scopeMappings": [{"client": "account", "roles": ["nope"]}]})),
            Want::Err("realm role 'nope' does not exist"),
        ),
    ]);
}

#[test]
fn build_rejects_composite_cycles() {
    let roles = |realm_roles: Value| realm(json!({"roles": {"realm": realm_roles}}));
    let composite =
        |name: &str, members: &[&str]| json!({"name": name, "composites": {"realm": members}});
    let cases: Vec<(&str, Value, Want)> = vec![
        (
            "2-cycle",
            roles(json!([composite("b", &["a"]), composite("a", &["b"])])),
            Want::Err("role composites form a cycle: a -> b -> a"),
        ),
        (
            "3-cycle, reported from the smallest name",
            roles(json!([
                composite("c", &["a"]),
                composite("a", &["b"]),
                composite("b", &["c"])
            ])),
            Want::Err("role composites form a cycle: a -> b -> c -> a"),
        ),
        (
            "self-loop",
            roles(json!([composite("x", &["x"])])),
            Want::Err("role composites form a cycle: x -> x"),
        ),
        (
            "cycle through a client role",
            realm(json!({
                "clients": [{"clientId": "app"}],
                "roles": {
                    "realm": [composite("z", &["y"]), composite("y", &[])],
                    "client": {"app": [{"name": "w", "composites": {"realm": ["z"]}}]},
                },
            }))
            .tap(|doc| {
                doc["roles"]["realm"][1]["composites"] = json!({"client": {"app": ["w"]}});
            }),
            Want::Err("role composites form a cycle: client role w -> z -> y -> client role w"),
        ),
        (
            "cycle through the default role",
            roles(json!([composite("r", &["default-roles-test"])]))
                .tap(|doc| doc["defaultRoles"] = json!(["r"])),
            Want::Err(
                "role composites form a cycle: default-roles-test -> r -> default-roles-test",
            ),
        ),
        (
            "diamond is not a cycle",
            roles(json!([
                composite("top", &["left", "right"]),
                composite("left", &["bottom"]),
                composite("right", &["bottom"]),
                composite("bottom", &[]),
            ])),
            Want::Ok,
        ),
    ];
    // Ids are random, so the search starts somewhere else each time: the report must not
    // depend on it.
    for _ in 0..10 {
        check(&cases);
    }
}

#[test]
fn build_validates_settings() {
    for field in [
        "accessTokenLifespan",
        "ssoSessionIdleTimeout",
        "ssoSessionMaxLifespan",
        "offlineSessionIdleTimeout",
        "accessCodeLifespan",
        "accessCodeLifespanUserAction",
        "accessCodeLifespanLogin",
        "actionTokenGeneratedByAdminLifespan",
        "actionTokenGeneratedByUserLifespan",
        "refreshTokenMaxReuse",
        "failureFactor",
        "waitIncrementSeconds",
        "maxFailureWaitSeconds",
        "maxDeltaTimeSeconds",
        "maxTemporaryLockouts",
    ] {
        let e = try_build(&realm(json!({field: -1})))
            .map(|_| ())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{field} must not be negative (got -1)")
        );
        try_build(&realm(json!({field: 0}))).unwrap_or_else(|e| panic!("{field} 0: {e}"));
    }
    let mut cases = Vec::new();
    cases.extend([
        (
            "sslRequired",
            realm(json!({"sslRequired": "sometimes"})),
            Want::Err("sslRequired must be one of none, external, all (got 'sometimes')"),
        ),
        ("sslRequired none", realm(json!({"sslRequired": "none"})), Want::Ok),
        (
            "bruteForceStrategy",
            realm(json!({"bruteForceStrategy": "EXPONENTIAL"})),
            Want::Err("bruteForceStrategy must be MULTIPLE or LINEAR (got 'EXPONENTIAL')"),
        ),
        (
            "bruteForceStrategy LINEAR",
            realm(json!({"bruteForceStrategy": "LINEAR"})),
            Want::Ok,
        ),
        (
            "defaultSignatureAlgorithm none",
            realm(json!({"defaultSignatureAlgorithm": "none"})),
            Want::Err("defaultSignatureAlgorithm 'none' is not supported"),
        ),
        (
            "defaultSignatureAlgorithm lower case",
            realm(json!({"defaultSignatureAlgorithm": "rs256"})),
            Want::Err("defaultSignatureAlgorithm 'rs256' is not supported"),
        ),
        (
            "defaultSignatureAlgorithm ES256",
            realm(json!({"defaultSignatureAlgorithm": "ES256"})),
            Want::Ok,
        ),
        (
            "passwordPolicy unclosed",
            realm(json!({"passwordPolicy": "length(8"})),
            Want::Err("passwordPolicy: malformed password policy item"),
        ),
        (
            "passwordPolicy junk",
            realm(json!({"passwordPolicy": "length(8) and !!"})),
            Want::Err("passwordPolicy: malformed password policy item"),
        ),
        (
            "passwordPolicy unknown hash",
            realm(json!({"passwordPolicy": "hashAlgorithm(md5)"})),
            Want::Err("passwordPolicy: hashAlgorithm(md5) names no known"),
        ),
        (
            "passwordPolicy iterations",
            realm(json!({"passwordPolicy": "hashIterations(0)"})),
            Want::Err("passwordPolicy: hashIterations(0)"),
        ),
        (
            "passwordPolicy realistic",
            realm(json!({"passwordPolicy": "length(12) and digits(1) and upperCase(1) and notUsername(undefined) and passwordHistory(3) and hashAlgorithm(pbkdf2-sha512) and hashIterations(210000)"})),
            Want::Ok,
        ),
        (
            "empty redirect URI",
            realm(json!({"clients": [{"clientId": "app", "redirectUris": ["https://a/*", " "]}]})),
            Want::Err("client 'app' has an empty redirect URI"),
        ),
        (
            "client without clientId",
            realm(json!({"clients": [{"name": "x"}]})),
            Want::Err("a client has no clientId"),
        ),
        (
            "role without name",
            realm(json!({"roles": {"realm": [{"description": "x"}]}})),
            Want::Err("a role has no name"),
        ),
        (
            "group without name",
            realm(json!({"groups": [{"path": "/x"}]})),
            Want::Err("a group has no name"),
        ),
        (
            "user without username",
            realm(json!({"users": [{"email": "x@example.org"}]})),
            Want::Err("a user has no username"),
        ),
        (
            "client scope without name",
            realm(json!({"clientScopes": [{"protocol": "openid-connect"}]})),
            Want::Err("a client scope has no name"),
        ),
        (
            "mapper without protocolMapper",
            realm(json!({"clients": [{"clientId": "app", "protocolMappers": [{"name": "m"}]}]})),
            Want::Err("client 'app' protocol mapper #0 ('m') has no protocolMapper"),
        ),
    ]);
    check(&cases);
}

#[test]
fn build_validates_stored_password_hashes() {
    let (secret_data, credential_data) = stored_hash("pw");
    let cred =
        |sd: &str, cd: &str| json!({"type": "password", "secretData": sd, "credentialData": cd});
    let with =
        |creds: Value| realm(json!({"users": [{"username": "alice", "credentials": creds}]}));
    let unknown_algorithm = credential_data.replace("pbkdf2-sha256", "md5");
    let bad_base64 = secret_data.replace("\"salt\":\"", "\"salt\":\"!!");
    check(&[
        (
            "valid hash",
            with(json!([cred(&secret_data, &credential_data)])),
            Want::Ok,
        ),
        (
            "secretData is not JSON",
            with(json!([cred("not json", &credential_data)])),
            Want::Err("user 'alice' credential #0: "),
        ),
        (
            "credentialData is not JSON",
            with(json!([cred(&secret_data, "{")])),
            Want::Err("user 'alice' credential #0: "),
        ),
        (
            "unknown algorithm",
            with(json!([cred(&secret_data, &unknown_algorithm)])),
            Want::Err("user 'alice' credential #0: "),
        ),
        (
            "salt is not base64",
            with(json!([cred(&bad_base64, &credential_data)])),
            Want::Err("user 'alice' credential #0: "),
        ),
        (
            "second credential broken",
            with(json!([
                cred(&secret_data, &credential_data),
                cred(&secret_data, "{\"algorithm\": \"pbkdf2-sha256\"}"),
            ])),
            Want::Err("user 'alice' credential #1: "),
        ),
        (
            "secretData without credentialData",
            with(json!([{"type": "password", "secretData": secret_data}])),
            Want::Err("needs either 'value' or both 'secretData' and 'credentialData'"),
        ),
        (
            "plaintext value for an OTP credential",
            with(json!([{"type": "otp", "value": "123456"}])),
            Want::Err("a plaintext value is only accepted for type 'password'"),
        ),
        (
            "plaintext value without a type",
            with(json!([{"value": "pw"}])),
            Want::Ok,
        ),
    ]);
}

#[test]
fn build_rejects_unresolved_placeholders_in_secrets() {
    check(&[
        (
            "client secret",
            realm(json!({"clients": [{"clientId": "app", "secret": "${APP_SECRET}"}]})),
            Want::Err("client 'app' secret contains the unresolved placeholder ${APP_SECRET}"),
        ),
        (
            "user password",
            realm(
                json!({"users": [{"username": "Alice", "credentials": [{"type": "password", "value": "x-${ALICE_PW}-y"}]}]}),
            ),
            Want::Err("user 'alice' password contains the unresolved placeholder ${ALICE_PW}"),
        ),
        (
            "smtpServer.password",
            realm(json!({"smtpServer": {"host": "smtp", "password": "${SMTP_PASSWORD}"}})),
            Want::Err("smtpServer.password contains the unresolved placeholder ${SMTP_PASSWORD}"),
        ),
        (
            "placeholder with a default left in",
            realm(json!({"clients": [{"clientId": "app", "secret": "${APP_SECRET:fallback}"}]})),
            Want::Err("${APP_SECRET}"),
        ),
        (
            "message keys outside secrets are fine",
            realm(json!({
                "displayName": "${realm_display}",
                "smtpServer": {"host": "${SMTP_HOST}", "password": "plain"},
                "roles": {"realm": [{"name": "r", "description": "${role_r}"}]},
                "clients": [{"clientId": "app", "name": "${client_app}", "secret": "s"}],
            })),
            Want::Ok,
        ),
    ]);
    // The error names the variable in a structured way too.
    let e = try_build(&realm(json!({"smtpServer": {"password": "${A,B:x}"}}))).unwrap_err();
    assert_eq!(
        e,
        ImportError::UnresolvedSecret {
            field: "smtpServer.password".into(),
            variable: "A".into()
        }
    );

    for (text, want) in [
        ("${X}", Some("X")),
        ("pre${X:default}post", Some("X")),
        ("${A,B}", Some("A")),
        ("${A,B:c}", Some("A")),
        ("a ${FIRST} b ${SECOND}", Some("FIRST")),
        ("plain", None),
        ("$X", None),
        ("${unterminated", None),
    ] {
        assert_eq!(placeholder_in(text).as_deref(), want, "{text}");
    }
}

#[test]
fn repeated_scope_mappings_are_stored_once() {
    // `scopeMappings` and `clientScopeMappings` entries naming the same client (or client scope)
    // and role twice collapse into one row: Keycloak's scope mappings are sets.
    let img = image(&realm(json!({
        "clients": [{"clientId": "spa", "publicClient": true, "fullScopeAllowed": false}, {"clientId": "app"}],
        "roles": {"realm": [{"name": "viewer"}, {"name": "editor"}], "client": {"app": [{"name": "read"}]}},
        "scopeMappings": [
            {"client": "spa", "roles": ["viewer"]},
            {"client": "spa", "roles": ["viewer", "editor"]},
            {"clientScope": "profile", "roles": ["viewer", "viewer"]},
        ],
        "clientScopeMappings": {"app": [
            {"client": "spa", "roles": ["read"]},
            {"client": "spa", "roles": ["read"]},
        ]},
    })));
    let rows: Vec<(String, String)> = img.scope_mappings.clone();
    let distinct: BTreeSet<(String, String)> = rows.iter().cloned().collect();
    // 4 from the template, 3 built in (offline_access scope; account-console's two account roles).
    assert_eq!(distinct.len(), 7, "{rows:?}");
    assert_eq!(rows.len(), distinct.len(), "repeated scope mapping rows");
}

#[test]
fn empty_braces_are_not_a_placeholder() {
    // `${}` is not a placeholder (substitution leaves it alone), so a secret such as "p${}w" is
    // accepted.
    assert_eq!(
        substitute("p${}w", &|_| None).unresolved,
        Vec::<String>::new()
    );
    assert_eq!(placeholder_in("p${}w"), None);
    try_build(&realm(
        json!({"clients": [{"clientId": "app", "secret": "p${}w"}]}),
    ))
    .unwrap_or_else(|e| panic!("{e}"));
}

// ---------------------------------------------------------------------------------------------
// export
// ---------------------------------------------------------------------------------------------

/// A realm using most of what a template can say, with stored (already hashed) passwords.
fn rich_realm() -> Value {
    let (sd, cd) = stored_hash("zed-password");
    json!({
        "realm": "acme",
        "enabled": true,
        "displayName": "ACME",
        "smtpServer": {"host": "smtp.example", "port": "25", "password": "smtp-pw"},
        "roles": {
            "realm": [
                {"name": "viewer", "description": "reads"},
                {"name": "editor", "composites": {"realm": ["viewer"], "client": {"app": ["read"]}},
                 "attributes": {"level": ["2"]}},
            ],
            "client": {"app": [
                {"name": "read"},
                {"name": "write", "composites": {"client": {"app": ["read"]}}},
            ]},
        },
        "groups": [
            {"name": "staff", "attributes": {"dept": ["eng", "ops"]}, "realmRoles": ["viewer"],
             "subGroups": [{"name": "admins", "clientRoles": {"app": ["write"]}}]},
            {"name": "contractors"},
        ],
        "defaultGroups": ["/contractors", "/staff"],
        "clients": [
            {"clientId": "app", "redirectUris": ["https://app.example/*"], "webOrigins": ["+"],
             "attributes": {"pkce.code.challenge.method": "S256"},
             "protocolMappers": [
                {"name": "groups", "protocol": "openid-connect", "protocolMapper": "oidc-group-membership-mapper",
                 "config": {"claim.name": "groups", "full.path": "true", "access.token.claim": "true"}},
                {"name": "audience", "protocolMapper": "oidc-audience-mapper",
                 "config": {"included.client.audience": "app"}},
             ]},
            {"clientId": "spa", "publicClient": true, "fullScopeAllowed": false,
             "defaultClientScopes": ["basic", "profile"], "optionalClientScopes": ["offline_access"]},
            {"clientId": "worker", "serviceAccountsEnabled": true, "secret": "worker-secret"},
            {"clientId": "generated"},
            {"clientId": "sp", "protocol": "saml"},
        ],
        "scopeMappings": [
            {"client": "spa", "roles": ["viewer", "editor"]},
            {"clientScope": "offline_access", "roles": ["offline_access"]},
        ],
        "clientScopeMappings": {"app": [{"client": "spa", "roles": ["read"]}]},
        "users": [
            {"username": "zed", "enabled": true, "email": "zed@example.com", "firstName": "Zed",
             "attributes": {"phone": ["1", "2"], "tz": "UTC"},
             "groups": ["/staff/admins", "/staff"],
             "realmRoles": ["editor", "default-roles-acme"], "clientRoles": {"app": ["read"]},
             "requiredActions": ["verify_email", "CONFIGURE_TOTP"],
             "credentials": [{"type": "password", "secretData": sd, "credentialData": cd, "userLabel": "main"}]},
            {"username": "amy", "enabled": true, "groups": ["/contractors"]},
            {"username": "mo", "email": "mo@example.com"},
        ],
        "authenticationFlows": [{"alias": "custom", "topLevel": true}],
    })
}

#[test]
fn export_of_a_built_image_is_deterministic() {
    // The first export fixes every id and generated secret; building it twice gives two images
    // that must export to the same document, equal to the one they came from.
    let first = export_json(&image(&rich_realm()));
    let a = image(&serde_json::from_str(&first).unwrap());
    let b = image(&serde_json::from_str(&first).unwrap());
    assert_eq!(a, b, "same representation with fixed ids, same image");
    assert_eq!(export_json(&a), export_json(&b));
    assert_eq!(export_json(&a), first);
}

#[test]
fn export_does_not_depend_on_input_order() {
    let first = export_json(&image(&rich_realm()));
    let mut doc: Value = serde_json::from_str(&first).unwrap();
    fn reverse(v: &mut Value) {
        if let Some(a) = v.as_array_mut() {
            a.reverse();
        }
    }
    for key in [
        "users",
        "clients",
        "groups",
        "clientScopes",
        "defaultDefaultClientScopes",
        "defaultOptionalClientScopes",
        "defaultGroups",
        "scopeMappings",
    ] {
        reverse(&mut doc[key]);
    }
    reverse(&mut doc["roles"]["realm"]);
    for roles in doc["roles"]["client"].as_object_mut().unwrap().values_mut() {
        reverse(roles);
    }
    for c in doc["clients"].as_array_mut().unwrap() {
        reverse(&mut c["protocolMappers"]);
        reverse(&mut c["defaultClientScopes"]);
    }
    for u in doc["users"].as_array_mut().unwrap() {
        reverse(&mut u["groups"]);
        reverse(&mut u["realmRoles"]);
        reverse(&mut u["requiredActions"]);
    }
    let again = export_json(&image(&doc));
    let (x, y): (Value, Value) = (
        serde_json::from_str(&first).unwrap(),
        serde_json::from_str(&again).unwrap(),
    );
    let differing: Vec<&String> = x
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| x[k.as_str()] != y[k.as_str()])
        .collect();
    // Users come out sorted by username, like every other collection, whatever the input order.
    assert!(
        differing.is_empty(),
        "export depends on input order in {differing:?}"
    );
}

/// The example realm with its `${VAR:default}` placeholders at their defaults and its
/// passwords hashed (quickly).
fn myrealm() -> RealmImage {
    let raw = include_str!("../../../examples/import/myrealm-realm.json");
    let substituted = substitute(raw, &|_| None);
    assert!(
        substituted.unresolved.is_empty(),
        "{:?}",
        substituted.unresolved
    );
    let parsed = parse_document(&substituted.text).unwrap();
    assert!(
        parsed.unknown_fields.is_empty(),
        "{:?}",
        parsed.unknown_fields
    );
    let rep = parsed.realms.into_iter().next().unwrap();
    let mut img = build(rep, &ctx()).unwrap().image;
    hash_credentials(&mut img);
    img
}

#[test]
fn example_realm_imports_as_documented() {
    let img = myrealm();
    assert!(img.realm.enabled);
    assert_eq!(img.realm.settings.failure_factor, Some(5));
    let smtp = img.realm.settings.smtp_server.as_ref().unwrap();
    assert_eq!(smtp.get("host").map(String::as_str), Some("localhost"));
    assert_eq!(smtp.get("port").map(String::as_str), Some("1025"));
    let app = client(&img, "myclient");
    assert_eq!(
        app.secret.as_ref().map(|s| s.as_str()),
        Some("my-client-secret")
    );
    assert_eq!(
        app.redirect_uris(),
        ["http://localhost:8000/*", "https://localhost/*"]
    );
    assert_eq!(
        composites_of(&img, None, "admin"),
        set(&["editor", "myclient/manage-content"])
    );
    assert_eq!(user(&img, "carol").required_actions, ["UPDATE_PASSWORD"]);
    // `defaultGroups` is for users created later, not imported ones.
    assert_eq!(img.default_group_ids.len(), 1);
    assert!(user(&img, "carol").group_ids.is_empty());
    assert!(user(&img, "alice").required_actions.is_empty());
    for u in &img.users {
        assert_eq!(u.role_ids, std::slice::from_ref(&img.realm.default_role_id));
        for c in &u.credentials {
            let CredentialSecret::Stored { secret_data, .. } = &c.secret else {
                panic!("{}: credential not hashed", u.user.username);
            };
            assert!(!secret_data.contains("password"));
        }
    }
}

#[test]
fn export_import_export_is_a_fixed_point() {
    let img = myrealm();
    let first = export_json(&img);
    let parsed = parse_document(&first).unwrap();
    assert!(
        parsed.unknown_fields.is_empty(),
        "an export has only known fields: {:?}",
        parsed.unknown_fields
    );
    let again = build(parsed.realms.into_iter().next().unwrap(), &ctx()).unwrap();
    assert!(again.warnings.is_empty(), "{:?}", again.warnings);
    assert_eq!(export_json(&again.image), first);

    // The same for the rich realm (service accounts, scope mappings, SAML client, ...).
    let first = export_json(&image(&rich_realm()));
    let again = export_json(&image(&serde_json::from_str(&first).unwrap()));
    assert_eq!(again, first);
}

#[test]
fn plaintext_passwords_never_appear_in_an_export() {
    const PLAIN: &str = "Plaintext-Sentinel-4242";
    let doc = realm(json!({"users": [
        {"username": "alice", "enabled": true,
         "credentials": [{"type": "password", "value": PLAIN, "temporary": true}]},
    ]}));
    let mut img = image(&doc);
    // Not hashed yet: the plaintext credential is left out.
    let out = export_json(&img);
    assert!(!out.contains(PLAIN));
    let names = Names::new(&img);
    let u = user_representation(user(&img, "alice"), &names);
    assert!(!serde_json::to_string(&u).unwrap().contains(PLAIN));
    // Hashed: exported as secretData/credentialData only.
    hash_credentials(&mut img);
    let out = export_json(&img);
    assert!(!out.contains(PLAIN));
    let v: Value = serde_json::from_str(&out).unwrap();
    let creds = v["users"][0]["credentials"].as_array().unwrap();
    assert_eq!(creds.len(), 1);
    let c = creds[0].as_object().unwrap();
    assert!(c.contains_key("secretData") && c.contains_key("credentialData"));
    assert!(!c.contains_key("value") && !c.contains_key("temporary"));
    assert_eq!(v["users"][0]["requiredActions"], json!(["UPDATE_PASSWORD"]));
    // The myrealm example's passwords ("admin", "password") are not in its export either.
    let out: Value = serde_json::from_str(&export_json(&myrealm())).unwrap();
    for u in out["users"].as_array().unwrap() {
        for c in u["credentials"].as_array().unwrap() {
            assert!(c.get("value").is_none(), "{c}");
            assert!(
                c["secretData"]
                    .as_str()
                    .unwrap()
                    .starts_with("{\"value\":\"")
            );
        }
    }
}

#[test]
fn export_shapes_groups_users_and_secrets() {
    let img = myrealm();
    let v = serde_json::to_value(realm_representation(&img, UsersInRealm::Include)).unwrap();
    // Groups as a tree with paths.
    let groups = v["groups"].as_array().unwrap();
    let names: Vec<&str> = groups.iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["admins", "editors", "viewers"]);
    let admins = &groups[0];
    assert_eq!(admins["path"], "/admins");
    assert_eq!(admins["realmRoles"], json!(["admin"]));
    let subs = admins["subGroups"].as_array().unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0]["name"], "superusers");
    assert_eq!(subs[0]["path"], "/admins/superusers");
    assert_eq!(subs[0]["parentId"], admins["id"]);
    assert_eq!(v["defaultGroups"], json!(["/viewers"]));
    // Users name their groups by path, their roles by name.
    let dev = v["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "dev-admin")
        .unwrap();
    assert_eq!(dev["groups"], json!(["/admins/superusers"]));
    assert_eq!(dev["realmRoles"], json!(["default-roles-myrealm"]));
    // Client secrets, given or generated, are exported.
    let clients = v["clients"].as_array().unwrap();
    let secret_of = |cid: &str| {
        clients
            .iter()
            .find(|c| c["clientId"] == cid)
            .unwrap()
            .get("secret")
            .cloned()
    };
    assert_eq!(secret_of("myclient"), Some(json!("my-client-secret")));
    assert_eq!(secret_of("admin-cli"), None);
    let rich = image(&rich_realm());
    let v = serde_json::to_value(realm_representation(&rich, UsersInRealm::Exclude)).unwrap();
    assert!(v.get("users").is_none());
    let generated = v["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == "generated")
        .unwrap();
    assert_eq!(
        generated["secret"].as_str(),
        client(&rich, "generated")
            .secret
            .as_ref()
            .map(|s| s.as_str())
    );
    assert_eq!(v["smtpServer"]["password"], "smtp-pw");
}

#[test]
fn master_link_gives_master_admin_the_realm_management_roles() {
    let link = master_link("master-id", "admin-id", "acme");
    assert_eq!(link.client.client_id, "acme-realm");
    assert_eq!(link.client.realm_id, "master-id");
    assert!(link.client.bearer_only());
    assert!(link.client.secret.is_none());
    let names: BTreeSet<&str> = link.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), 18);
    assert!(!names.contains("realm-admin"));
    assert!(names.contains("manage-users") && names.contains("view-realm"));
    for r in &link.roles {
        assert_eq!(r.client_id.as_deref(), Some(link.client.id.as_str()));
        assert_eq!(r.realm_id, "master-id");
        assert!(
            link.composites
                .contains(&("admin-id".to_string(), r.id.clone())),
            "admin lacks {}",
            r.name
        );
    }
    let by_id: HashMap<&str, &str> = link
        .roles
        .iter()
        .map(|r| (r.id.as_str(), r.name.as_str()))
        .collect();
    let inner: BTreeSet<(&str, &str)> = link
        .composites
        .iter()
        .filter(|(p, _)| p != "admin-id")
        .map(|(p, c)| (by_id[p.as_str()], by_id[c.as_str()]))
        .collect();
    assert_eq!(
        inner,
        [
            ("view-clients", "query-clients"),
            ("view-users", "query-groups"),
            ("view-users", "query-users"),
        ]
        .into_iter()
        .collect()
    );
    let mut roles = link.roles.clone();
    roles.push(role("admin-id", "admin"));
    check_cycles(&roles, &link.composites).unwrap();
}

// ---------------------------------------------------------------------------------------------
// check_cycles on random graphs
// ---------------------------------------------------------------------------------------------

fn role(id: &str, name: &str) -> RoleRecord {
    RoleRecord {
        id: id.to_string(),
        realm_id: "realm".to_string(),
        client_id: None,
        name: name.to_string(),
        description: None,
        attributes: BTreeMap::new(),
    }
}

/// Roles `r00`, `r01`, ... with ids `id-00`, `id-01`, ... and the composites of `edges`.
fn graph(n: usize, edges: &[(usize, usize)]) -> (Vec<RoleRecord>, Vec<(String, String)>) {
    let roles = (0..n)
        .map(|i| role(&format!("id-{i:02}"), &format!("r{i:02}")))
        .collect();
    let composites = edges
        .iter()
        .map(|(p, c)| (format!("id-{p:02}"), format!("id-{c:02}")))
        .collect();
    (roles, composites)
}

/// Whether the graph has a cycle (Kahn's algorithm: an independent oracle).
fn has_cycle(n: usize, edges: &[(usize, usize)]) -> bool {
    let mut indegree = vec![0usize; n];
    for (_, c) in edges {
        indegree[*c] += 1;
    }
    let mut ready: Vec<usize> = (0..n).filter(|i| indegree[*i] == 0).collect();
    let mut removed = 0;
    while let Some(node) = ready.pop() {
        removed += 1;
        for (p, c) in edges {
            if *p == node {
                indegree[*c] -= 1;
                if indegree[*c] == 0 {
                    ready.push(*c);
                }
            }
        }
    }
    removed < n
}

/// A random DAG: edges go from lower to higher rank, ranks being a random permutation.
fn dag() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
    (1usize..10)
        .prop_flat_map(|n| {
            (
                Just(n),
                prop::collection::vec((0..n, 0..n), 0..30),
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
            )
        })
        .prop_map(|(n, pairs, rank)| {
            let edges = pairs
                .into_iter()
                .filter(|(a, b)| a != b)
                .map(|(a, b)| (rank[a.min(b)], rank[a.max(b)]))
                .collect();
            (n, edges)
        })
}

/// Every (from, to) with `to` reachable from `from` (a node reaches itself).
fn reachable_pairs(n: usize, edges: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for from in 0..n {
        let mut seen = vec![false; n];
        let mut stack = vec![from];
        seen[from] = true;
        while let Some(x) = stack.pop() {
            out.push((from, x));
            for (p, c) in edges {
                if *p == x && !seen[*c] {
                    seen[*c] = true;
                    stack.push(*c);
                }
            }
        }
    }
    out
}

/// The reported cycle is one: consecutive names are edges, it closes, and it starts at its
/// smallest name.
fn assert_real_cycle(report: &str, edges: &[(usize, usize)]) {
    let names: Vec<&str> = report.split(" -> ").collect();
    assert!(names.len() >= 2, "{report}");
    assert_eq!(names.first(), names.last(), "{report}");
    let index = |name: &str| -> usize { name.trim_start_matches('r').parse().unwrap() };
    for pair in names.windows(2) {
        let edge = (index(pair[0]), index(pair[1]));
        assert!(edges.contains(&edge), "{report}: no edge {edge:?}");
    }
    let body = &names[..names.len() - 1];
    assert_eq!(body.iter().min(), body.first(), "{report}");
    let distinct: BTreeSet<_> = body.iter().collect();
    assert_eq!(distinct.len(), body.len(), "{report}: not a simple cycle");
}

proptest! {
    #[test]
    fn random_dags_are_accepted((n, edges) in dag()) {
        let (roles, composites) = graph(n, &edges);
        prop_assert!(check_cycles(&roles, &composites).is_ok());
    }

    #[test]
    fn a_dag_plus_one_back_edge_is_rejected(
        (n, edges) in dag(),
        pick in any::<prop::sample::Index>(),
    ) {
        let pairs = reachable_pairs(n, &edges);
        let (from, to) = *pick.get(&pairs);
        let mut edges = edges;
        edges.push((to, from));
        let (roles, composites) = graph(n, &edges);
        match check_cycles(&roles, &composites) {
            Err(ImportError::CompositeCycle(report)) => assert_real_cycle(&report, &edges),
            other => prop_assert!(false, "expected a cycle, got {:?}", other),
        }
    }

    #[test]
    fn check_cycles_accepts_exactly_the_acyclic_graphs(
        (n, edges) in (1usize..8).prop_flat_map(|n| {
            (Just(n), prop::collection::vec((0..n, 0..n), 0..20))
        }),
    ) {
        let (roles, composites) = graph(n, &edges);
        match check_cycles(&roles, &composites) {
            Ok(()) => prop_assert!(!has_cycle(n, &edges), "cycle missed in {:?}", edges),
            Err(ImportError::CompositeCycle(report)) => {
                prop_assert!(has_cycle(n, &edges));
                assert_real_cycle(&report, &edges);
            }
            Err(other) => prop_assert!(false, "unexpected error {}", other),
        }
    }
}
