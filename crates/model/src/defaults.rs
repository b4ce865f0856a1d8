//! Keycloak 26's built-in realm content, as representations: the client scopes a new realm gets,
//! the realm's default scope lists, the built-in clients (`account`, `account-console`,
//! `admin-cli`, `broker`, `realm-management`, `security-admin-console`, and in `master` one
//! `{realm}-realm` client per realm), their client roles, the built-in realm roles and the
//! default role, plus the two built-in scope mappings.
//!
//! Import uses these to fill a realm whose template leaves them out, and to add the management
//! client and roles of a new realm to `master`. The values follow what a realm created by
//! Keycloak 26.6 exports (field values, attribute keys, mapper configs and i18n keys such as
//! `${profileScopeConsentText}`); list order follows the order Keycloak creates things in.
//!
//! Invariants: pure data, no I/O; no `id` or `containerId` is ever set (ids are assigned when a
//! realm is imported); every composite or scope name used here refers to a role or scope defined
//! here.

use crate::repr::{
    ClientRepresentation, ClientScopeRepresentation, CompositesRepresentation,
    ProtocolMapperRepresentation, RoleRepresentation, ScopeMappingRepresentation,
};
use std::collections::BTreeMap;

/// Protocol name of OpenID Connect clients, scopes and mappers.
pub const OIDC: &str = "openid-connect";
/// Protocol name of SAML clients, scopes and mappers.
pub const SAML: &str = "saml";

/// Name of the administration realm.
pub const MASTER_REALM: &str = "master";

/// clientId of the account management client.
pub const ACCOUNT_CLIENT: &str = "account";
/// clientId of the account console (the SPA at `/realms/{realm}/account/`).
pub const ACCOUNT_CONSOLE_CLIENT: &str = "account-console";
/// clientId of the public client used for admin password-grant logins.
pub const ADMIN_CLI_CLIENT: &str = "admin-cli";
/// clientId of the identity-brokering client (holds `read-token`).
pub const BROKER_CLIENT: &str = "broker";
/// clientId of the client holding a realm's own management roles (absent in `master`).
pub const REALM_MANAGEMENT_CLIENT: &str = "realm-management";
/// clientId of the admin console.
pub const SECURITY_ADMIN_CONSOLE_CLIENT: &str = "security-admin-console";

/// Realm role granting offline tokens.
pub const OFFLINE_ACCESS_ROLE: &str = "offline_access";
/// Realm role Keycloak creates for user-managed access.
pub const UMA_AUTHORIZATION_ROLE: &str = "uma_authorization";
/// The `realm-management` role that is a composite of all the others.
pub const REALM_ADMIN_ROLE: &str = "realm-admin";
/// The master realm's super-administrator role.
pub const ADMIN_ROLE: &str = "admin";
/// The master realm role that allows creating realms.
pub const CREATE_REALM_ROLE: &str = "create-realm";

/// Realm default-default client scopes of a new Keycloak 26 realm, in export order. `role_list`
/// and `saml_organization` are SAML scopes and are only attached to SAML clients.
pub const DEFAULT_DEFAULT_CLIENT_SCOPES: &[&str] = &[
    "role_list",
    "saml_organization",
    "profile",
    "email",
    "roles",
    "web-origins",
    "acr",
    "basic",
];

/// Realm default-optional client scopes of a new Keycloak 26 realm, in export order.
pub const DEFAULT_OPTIONAL_CLIENT_SCOPES: &[&str] = &[
    "offline_access",
    "address",
    "phone",
    "microprofile-jwt",
    "organization",
];

/// The default scopes Keycloak attaches to each built-in OIDC client, in export order.
pub const BUILTIN_CLIENT_DEFAULT_SCOPES: &[&str] =
    &["web-origins", "acr", "profile", "roles", "basic", "email"];

/// The optional scopes Keycloak attaches to each built-in OIDC client, in export order.
pub const BUILTIN_CLIENT_OPTIONAL_SCOPES: &[&str] = &[
    "address",
    "phone",
    "organization",
    "offline_access",
    "microprofile-jwt",
];

/// The management roles of a `realm-management` client, `realm-admin` first.
pub const REALM_MANAGEMENT_ROLES: &[&str] = &[
    REALM_ADMIN_ROLE,
    "create-client",
    "impersonation",
    "manage-authorization",
    "manage-clients",
    "manage-events",
    "manage-identity-providers",
    "manage-realm",
    "manage-users",
    "query-clients",
    "query-groups",
    "query-realms",
    "query-users",
    "view-authorization",
    "view-clients",
    "view-events",
    "view-identity-providers",
    "view-realm",
    "view-users",
];

/// The client roles of the `account` client.
pub const ACCOUNT_ROLES: &[&str] = &[
    "manage-account",
    "view-profile",
    "manage-account-links",
    "view-applications",
    "view-consent",
    "manage-consent",
    "delete-account",
    "view-groups",
];

// ---------------------------------------------------------------------------------------------
// Small builders
// ---------------------------------------------------------------------------------------------

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn string_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The four token-inclusion flags, all on (ID token, access token, UserInfo, introspection).
const ALL_TOKENS: &[(&str, &str)] = &[
    ("id.token.claim", "true"),
    ("access.token.claim", "true"),
    ("userinfo.token.claim", "true"),
    ("introspection.token.claim", "true"),
];

/// Only the access token and introspection (Keycloak's choice for `sub`, roles and origins).
const ACCESS_TOKEN_ONLY: &[(&str, &str)] = &[
    ("access.token.claim", "true"),
    ("introspection.token.claim", "true"),
];

fn mapper(
    protocol: &str,
    name: &str,
    provider: &str,
    flags: &[(&str, &str)],
    extra: &[(&str, &str)],
) -> ProtocolMapperRepresentation {
    let mut config = string_map(flags);
    config.extend(string_map(extra));
    ProtocolMapperRepresentation {
        id: None,
        name: Some(name.to_owned()),
        protocol: Some(protocol.to_owned()),
        protocol_mapper: Some(provider.to_owned()),
        consent_required: Some(false),
        consent_text: None,
        config: Some(config),
    }
}

/// `oidc-usermodel-attribute-mapper` into every token kind.
fn attribute_mapper(
    name: &str,
    user_attribute: &str,
    claim: &str,
    json_type: &str,
) -> ProtocolMapperRepresentation {
    mapper(
        OIDC,
        name,
        "oidc-usermodel-attribute-mapper",
        ALL_TOKENS,
        &[
            ("user.attribute", user_attribute),
            ("claim.name", claim),
            ("jsonType.label", json_type),
        ],
    )
}

/// `oidc-usersessionmodel-note-mapper` into every token kind.
fn session_note_mapper(
    name: &str,
    note: &str,
    claim: &str,
    json_type: &str,
) -> ProtocolMapperRepresentation {
    mapper(
        OIDC,
        name,
        "oidc-usersessionmodel-note-mapper",
        ALL_TOKENS,
        &[
            ("user.session.note", note),
            ("claim.name", claim),
            ("jsonType.label", json_type),
        ],
    )
}

fn scope(
    name: &str,
    description: &str,
    protocol: &str,
    attributes: &[(&str, &str)],
    mappers: Option<Vec<ProtocolMapperRepresentation>>,
) -> ClientScopeRepresentation {
    ClientScopeRepresentation {
        id: None,
        name: Some(name.to_owned()),
        description: Some(description.to_owned()),
        protocol: Some(protocol.to_owned()),
        attributes: Some(string_map(attributes)),
        protocol_mappers: mappers,
    }
}

// ---------------------------------------------------------------------------------------------
// Client scopes
// ---------------------------------------------------------------------------------------------

/// Keycloak 26's built-in client scopes with their attributes and protocol mappers, in the order
/// Keycloak creates them: `offline_access`, the SAML scopes, then the OIDC ones.
pub fn builtin_client_scopes() -> Vec<ClientScopeRepresentation> {
    vec![
        scope(
            "offline_access",
            "OpenID Connect built-in scope: offline_access",
            OIDC,
            &[
                ("consent.screen.text", "${offlineAccessScopeConsentText}"),
                ("display.on.consent.screen", "true"),
            ],
            None,
        ),
        scope(
            "role_list",
            "SAML role list",
            SAML,
            &[
                ("consent.screen.text", "${samlRoleListScopeConsentText}"),
                ("display.on.consent.screen", "true"),
            ],
            Some(vec![mapper(
                SAML,
                "role list",
                "saml-role-list-mapper",
                &[],
                &[
                    ("single", "false"),
                    ("attribute.nameformat", "Basic"),
                    ("attribute.name", "Role"),
                ],
            )]),
        ),
        scope(
            "saml_organization",
            "Organization Membership",
            SAML,
            &[("display.on.consent.screen", "false")],
            Some(vec![mapper(
                SAML,
                "organization",
                "saml-organization-membership-mapper",
                &[],
                &[],
            )]),
        ),
        profile_scope(),
        scope(
            "email",
            "OpenID Connect built-in scope: email",
            OIDC,
            &[
                ("include.in.token.scope", "true"),
                ("consent.screen.text", "${emailScopeConsentText}"),
                ("display.on.consent.screen", "true"),
            ],
            Some(vec![
                attribute_mapper("email", "email", "email", "String"),
                mapper(
                    OIDC,
                    "email verified",
                    "oidc-usermodel-property-mapper",
                    ALL_TOKENS,
                    &[
                        ("user.attribute", "emailVerified"),
                        ("claim.name", "email_verified"),
                        ("jsonType.label", "boolean"),
                    ],
                ),
            ]),
        ),
        scope(
            "address",
            "OpenID Connect built-in scope: address",
            OIDC,
            &[
                ("include.in.token.scope", "true"),
                ("consent.screen.text", "${addressScopeConsentText}"),
                ("display.on.consent.screen", "true"),
            ],
            Some(vec![mapper(
                OIDC,
                "address",
                "oidc-address-mapper",
                ALL_TOKENS,
                &[
                    ("user.attribute.formatted", "formatted"),
                    ("user.attribute.country", "country"),
                    ("user.attribute.postal_code", "postal_code"),
                    ("user.attribute.street", "street"),
                    ("user.attribute.region", "region"),
                    ("user.attribute.locality", "locality"),
                ],
            )]),
        ),
        scope(
            "phone",
            "OpenID Connect built-in scope: phone",
            OIDC,
            &[
                ("include.in.token.scope", "true"),
                ("consent.screen.text", "${phoneScopeConsentText}"),
                ("display.on.consent.screen", "true"),
            ],
            Some(vec![
                attribute_mapper("phone number", "phoneNumber", "phone_number", "String"),
                attribute_mapper(
                    "phone number verified",
                    "phoneNumberVerified",
                    "phone_number_verified",
                    "boolean",
                ),
            ]),
        ),
        scope(
            "roles",
            "OpenID Connect scope for add user roles to the access token",
            OIDC,
            &[
                ("include.in.token.scope", "false"),
                ("consent.screen.text", "${rolesScopeConsentText}"),
                ("display.on.consent.screen", "true"),
            ],
            Some(vec![
                // Keycloak stores the placeholder `user.attribute: foo` on both role mappers.
                mapper(
                    OIDC,
                    "realm roles",
                    "oidc-usermodel-realm-role-mapper",
                    ACCESS_TOKEN_ONLY,
                    &[
                        ("user.attribute", "foo"),
                        ("claim.name", "realm_access.roles"),
                        ("jsonType.label", "String"),
                        ("multivalued", "true"),
                    ],
                ),
                mapper(
                    OIDC,
                    "client roles",
                    "oidc-usermodel-client-role-mapper",
                    ACCESS_TOKEN_ONLY,
                    &[
                        ("user.attribute", "foo"),
                        ("claim.name", "resource_access.${client_id}.roles"),
                        ("jsonType.label", "String"),
                        ("multivalued", "true"),
                    ],
                ),
                mapper(
                    OIDC,
                    "audience resolve",
                    "oidc-audience-resolve-mapper",
                    ACCESS_TOKEN_ONLY,
                    &[],
                ),
            ]),
        ),
        scope(
            "web-origins",
            "OpenID Connect scope for add allowed web origins to the access token",
            OIDC,
            &[
                ("include.in.token.scope", "false"),
                ("consent.screen.text", ""),
                ("display.on.consent.screen", "false"),
            ],
            Some(vec![mapper(
                OIDC,
                "allowed web origins",
                "oidc-allowed-origins-mapper",
                ACCESS_TOKEN_ONLY,
                &[],
            )]),
        ),
        scope(
            "microprofile-jwt",
            "Microprofile - JWT built-in scope",
            OIDC,
            &[
                ("include.in.token.scope", "true"),
                ("display.on.consent.screen", "false"),
            ],
            Some(vec![
                attribute_mapper("upn", "username", "upn", "String"),
                // The `groups` claim of this scope carries realm roles, not groups.
                mapper(
                    OIDC,
                    "groups",
                    "oidc-usermodel-realm-role-mapper",
                    ALL_TOKENS,
                    &[
                        ("user.attribute", "foo"),
                        ("claim.name", "groups"),
                        ("jsonType.label", "String"),
                        ("multivalued", "true"),
                    ],
                ),
            ]),
        ),
        scope(
            "acr",
            "OpenID Connect scope for add acr (authentication context class reference) to the token",
            OIDC,
            &[
                ("include.in.token.scope", "false"),
                ("display.on.consent.screen", "false"),
            ],
            Some(vec![mapper(
                OIDC,
                "acr loa level",
                "oidc-acr-mapper",
                ALL_TOKENS,
                &[],
            )]),
        ),
        scope(
            "basic",
            "OpenID Connect scope for add all basic claims to the token",
            OIDC,
            &[
                ("include.in.token.scope", "false"),
                ("display.on.consent.screen", "false"),
            ],
            Some(vec![
                session_note_mapper("auth_time", "AUTH_TIME", "auth_time", "long"),
                mapper(OIDC, "sub", "oidc-sub-mapper", ACCESS_TOKEN_ONLY, &[]),
            ]),
        ),
        scope(
            "service_account",
            "Specific scope for a client enabled for service accounts",
            OIDC,
            &[
                ("include.in.token.scope", "false"),
                ("display.on.consent.screen", "false"),
            ],
            Some(vec![
                session_note_mapper("Client ID", "client_id", "client_id", "String"),
                session_note_mapper("Client Host", "clientHost", "clientHost", "String"),
                session_note_mapper(
                    "Client IP Address",
                    "clientAddress",
                    "clientAddress",
                    "String",
                ),
            ]),
        ),
        scope(
            "organization",
            "Additional claims about the organization a subject belongs to",
            OIDC,
            &[
                ("include.in.token.scope", "true"),
                ("consent.screen.text", "${organizationScopeConsentText}"),
                ("display.on.consent.screen", "true"),
            ],
            Some(vec![mapper(
                OIDC,
                "organization",
                "oidc-organization-membership-mapper",
                ALL_TOKENS,
                &[
                    ("claim.name", "organization"),
                    ("jsonType.label", "String"),
                    ("multivalued", "true"),
                ],
            )]),
        ),
    ]
}

/// The `profile` scope: the standard OIDC profile claims, each from a user attribute.
fn profile_scope() -> ClientScopeRepresentation {
    scope(
        "profile",
        "OpenID Connect built-in scope: profile",
        OIDC,
        &[
            ("include.in.token.scope", "true"),
            ("consent.screen.text", "${profileScopeConsentText}"),
            ("display.on.consent.screen", "true"),
        ],
        Some(vec![
            mapper(OIDC, "full name", "oidc-full-name-mapper", ALL_TOKENS, &[]),
            attribute_mapper("family name", "lastName", "family_name", "String"),
            attribute_mapper("given name", "firstName", "given_name", "String"),
            attribute_mapper("middle name", "middleName", "middle_name", "String"),
            attribute_mapper("nickname", "nickname", "nickname", "String"),
            attribute_mapper("username", "username", "preferred_username", "String"),
            attribute_mapper("profile", "profile", "profile", "String"),
            attribute_mapper("picture", "picture", "picture", "String"),
            attribute_mapper("website", "website", "website", "String"),
            attribute_mapper("gender", "gender", "gender", "String"),
            attribute_mapper("birthdate", "birthdate", "birthdate", "String"),
            attribute_mapper("zoneinfo", "zoneinfo", "zoneinfo", "String"),
            attribute_mapper("locale", "locale", "locale", "String"),
            attribute_mapper("updated at", "updatedAt", "updated_at", "long"),
        ]),
    )
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

/// The fields every built-in client shares, as an export shows them.
fn base_client(client_id: &str, name: &str) -> ClientRepresentation {
    ClientRepresentation {
        client_id: Some(client_id.to_owned()),
        name: Some(name.to_owned()),
        surrogate_auth_required: Some(false),
        enabled: Some(true),
        always_display_in_console: Some(false),
        client_authenticator_type: Some("client-secret".to_owned()),
        redirect_uris: Some(Vec::new()),
        web_origins: Some(Vec::new()),
        not_before: Some(0),
        bearer_only: Some(false),
        consent_required: Some(false),
        standard_flow_enabled: Some(true),
        implicit_flow_enabled: Some(false),
        direct_access_grants_enabled: Some(false),
        service_accounts_enabled: Some(false),
        public_client: Some(false),
        frontchannel_logout: Some(false),
        protocol: Some(OIDC.to_owned()),
        attributes: Some(BTreeMap::new()),
        authentication_flow_binding_overrides: Some(BTreeMap::new()),
        full_scope_allowed: Some(false),
        node_re_registration_timeout: Some(0),
        default_client_scopes: Some(strings(BUILTIN_CLIENT_DEFAULT_SCOPES)),
        optional_client_scopes: Some(strings(BUILTIN_CLIENT_OPTIONAL_SCOPES)),
        ..ClientRepresentation::default()
    }
}

/// A bearer-only client that only carries roles (`broker`, `realm-management`, `{realm}-realm`).
fn role_holder_client(client_id: &str, name: &str) -> ClientRepresentation {
    ClientRepresentation {
        bearer_only: Some(true),
        attributes: Some(string_map(&[
            ("realm_client", "true"),
            ("post.logout.redirect.uris", "+"),
        ])),
        ..base_client(client_id, name)
    }
}

/// A public browser client served by the server itself (`account`, `account-console`).
fn account_client(client_id: &str, realm: &str, pkce: bool) -> ClientRepresentation {
    let mut attributes = string_map(&[
        ("realm_client", "false"),
        ("post.logout.redirect.uris", "+"),
    ]);
    if pkce {
        attributes.insert("pkce.code.challenge.method".to_owned(), "S256".to_owned());
    }
    ClientRepresentation {
        root_url: Some("${authBaseUrl}".to_owned()),
        base_url: Some(format!("/realms/{realm}/account/")),
        redirect_uris: Some(vec![format!("/realms/{realm}/account/*")]),
        public_client: Some(true),
        attributes: Some(attributes),
        ..base_client(client_id, &format!("${{client_{client_id}}}"))
    }
}

/// Keycloak's built-in clients of `realm`, ordered by clientId. `realm-management` is left out
/// for `master`, whose realms are managed through [`master_realm_clients`] instead. No client
/// gets a `secret`: all confidential ones are bearer-only.
pub fn builtin_clients(realm: &str) -> Vec<ClientRepresentation> {
    let mut clients = vec![
        account_client(ACCOUNT_CLIENT, realm, false),
        ClientRepresentation {
            // Unlike the `roles` scope's mapper of the same name, this one has an empty config.
            protocol_mappers: Some(vec![mapper(
                OIDC,
                "audience resolve",
                "oidc-audience-resolve-mapper",
                &[],
                &[],
            )]),
            ..account_client(ACCOUNT_CONSOLE_CLIENT, realm, true)
        },
        ClientRepresentation {
            standard_flow_enabled: Some(false),
            direct_access_grants_enabled: Some(true),
            public_client: Some(true),
            full_scope_allowed: Some(true),
            attributes: Some(string_map(&[
                ("realm_client", "false"),
                ("client.use.lightweight.access.token.enabled", "true"),
                ("post.logout.redirect.uris", "+"),
            ])),
            ..base_client(ADMIN_CLI_CLIENT, "${client_admin-cli}")
        },
        role_holder_client(BROKER_CLIENT, "${client_broker}"),
    ];
    if realm != MASTER_REALM {
        clients.push(role_holder_client(
            REALM_MANAGEMENT_CLIENT,
            "${client_realm-management}",
        ));
    }
    clients.push(ClientRepresentation {
        root_url: Some("${authAdminUrl}".to_owned()),
        base_url: Some(format!("/admin/{realm}/console/")),
        redirect_uris: Some(vec![format!("/admin/{realm}/console/*")]),
        web_origins: Some(vec!["+".to_owned()]),
        public_client: Some(true),
        full_scope_allowed: Some(true),
        attributes: Some(string_map(&[
            ("realm_client", "false"),
            ("client.use.lightweight.access.token.enabled", "true"),
            ("post.logout.redirect.uris", "+"),
            ("pkce.code.challenge.method", "S256"),
        ])),
        protocol_mappers: Some(vec![attribute_mapper(
            "locale", "locale", "locale", "String",
        )]),
        ..base_client(
            SECURITY_ADMIN_CONSOLE_CLIENT,
            "${client_security-admin-console}",
        )
    });
    clients
}

/// clientId of the client in `master` that holds the management roles of `realm`.
pub fn master_admin_client_id(realm: &str) -> String {
    format!("{realm}-realm")
}

/// The clients of `master` that hold each realm's management roles: one bearer-only
/// `{realm}-realm` client (named `{realm} Realm`) per entry of `realms`, `master` included.
/// Keycloak leaves `protocol` unset on these.
pub fn master_realm_clients(realms: &[&str]) -> Vec<ClientRepresentation> {
    realms
        .iter()
        .map(|realm| ClientRepresentation {
            protocol: None,
            ..role_holder_client(&master_admin_client_id(realm), &format!("{realm} Realm"))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------------

fn role(
    name: &str,
    client_role: bool,
    composites: Option<CompositesRepresentation>,
) -> RoleRepresentation {
    RoleRepresentation {
        id: None,
        name: Some(name.to_owned()),
        description: Some(format!("${{role_{name}}}")),
        composite: Some(composites.is_some()),
        composites,
        client_role: Some(client_role),
        container_id: None,
        attributes: Some(BTreeMap::new()),
    }
}

/// Composites made only of roles of one client.
fn client_composites(client_id: &str, roles: &[&str]) -> CompositesRepresentation {
    CompositesRepresentation {
        realm: None,
        client: Some(BTreeMap::from([(client_id.to_owned(), strings(roles))])),
    }
}

/// The management roles as a client called `client_id` holds them; `with_realm_admin` adds the
/// `realm-admin` composite (present in `realm-management`, absent in master's `{realm}-realm`).
fn management_roles(client_id: &str, with_realm_admin: bool) -> Vec<RoleRepresentation> {
    REALM_MANAGEMENT_ROLES
        .iter()
        .filter(|name| with_realm_admin || **name != REALM_ADMIN_ROLE)
        .map(|name| {
            let composites = match *name {
                REALM_ADMIN_ROLE => {
                    Some(client_composites(client_id, &REALM_MANAGEMENT_ROLES[1..]))
                }
                "view-clients" => Some(client_composites(client_id, &["query-clients"])),
                "view-users" => Some(client_composites(
                    client_id,
                    &["query-users", "query-groups"],
                )),
                _ => None,
            };
            role(name, true, composites)
        })
        .collect()
}

fn account_roles() -> Vec<RoleRepresentation> {
    ACCOUNT_ROLES
        .iter()
        .map(|name| {
            let composites = match *name {
                "manage-account" => {
                    Some(client_composites(ACCOUNT_CLIENT, &["manage-account-links"]))
                }
                "manage-consent" => Some(client_composites(ACCOUNT_CLIENT, &["view-consent"])),
                _ => None,
            };
            role(name, true, composites)
        })
        .collect()
}

/// The client roles of the built-in clients of `realm`, keyed by clientId. Only clients that
/// have roles appear (`account`, `broker` and, outside `master`, `realm-management`); the
/// `{realm}-realm` clients of `master` get theirs from [`master_admin_client_roles`].
pub fn builtin_client_roles(realm: &str) -> BTreeMap<String, Vec<RoleRepresentation>> {
    let mut roles = BTreeMap::new();
    roles.insert(ACCOUNT_CLIENT.to_owned(), account_roles());
    roles.insert(
        BROKER_CLIENT.to_owned(),
        vec![role("read-token", true, None)],
    );
    if realm != MASTER_REALM {
        roles.insert(
            REALM_MANAGEMENT_CLIENT.to_owned(),
            management_roles(REALM_MANAGEMENT_CLIENT, true),
        );
    }
    roles
}

/// The roles of the `{realm}-realm` client in `master`: the management roles without
/// `realm-admin` (master's `admin` role plays that part, see [`master_admin_composites`]).
pub fn master_admin_client_roles(realm: &str) -> Vec<RoleRepresentation> {
    management_roles(&master_admin_client_id(realm), false)
}

/// The realm's default role `default-roles-{realm}`, granted to every new user.
pub fn default_role(realm: &str) -> RoleRepresentation {
    RoleRepresentation {
        description: Some("${role_default-roles}".to_owned()),
        ..role(
            &format!("default-roles-{realm}"),
            false,
            Some(CompositesRepresentation {
                realm: Some(strings(&[OFFLINE_ACCESS_ROLE, UMA_AUTHORIZATION_ROLE])),
                client: Some(BTreeMap::from([(
                    ACCOUNT_CLIENT.to_owned(),
                    strings(&["view-profile", "manage-account"]),
                )])),
            }),
        )
    }
}

/// The built-in realm roles of every realm: `offline_access`, `uma_authorization` and the
/// default role. `master` also has [`master_realm_roles`].
pub fn builtin_realm_roles(realm: &str) -> Vec<RoleRepresentation> {
    vec![
        RoleRepresentation {
            description: Some("${role_offline-access}".to_owned()),
            ..role(OFFLINE_ACCESS_ROLE, false, None)
        },
        role(UMA_AUTHORIZATION_ROLE, false, None),
        default_role(realm),
    ]
}

/// The composites of master's `admin` role: `create-realm` plus every management role of the
/// `{realm}-realm` client of each entry of `realms`.
pub fn master_admin_composites(realms: &[&str]) -> CompositesRepresentation {
    CompositesRepresentation {
        realm: Some(strings(&[CREATE_REALM_ROLE])),
        client: Some(
            realms
                .iter()
                .map(|realm| {
                    (
                        master_admin_client_id(realm),
                        strings(&REALM_MANAGEMENT_ROLES[1..]),
                    )
                })
                .collect(),
        ),
    }
}

/// The realm roles only `master` has: `admin` and `create-realm`. The `admin` composites cover
/// the master realm alone; whoever knows the full list of realms replaces them with
/// [`master_admin_composites`] of that list.
pub fn master_realm_roles() -> Vec<RoleRepresentation> {
    vec![
        role(
            ADMIN_ROLE,
            false,
            Some(master_admin_composites(&[MASTER_REALM])),
        ),
        role(CREATE_REALM_ROLE, false, None),
    ]
}

// ---------------------------------------------------------------------------------------------
// Scope mappings
// ---------------------------------------------------------------------------------------------

/// Realm-role scope mappings of a new realm (`scopeMappings`): the `offline_access` client scope
/// carries the `offline_access` role.
pub fn builtin_scope_mappings() -> Vec<ScopeMappingRepresentation> {
    vec![ScopeMappingRepresentation {
        client: None,
        client_scope: Some("offline_access".to_owned()),
        roles: Some(strings(&[OFFLINE_ACCESS_ROLE])),
    }]
}

/// Client-role scope mappings of a new realm (`clientScopeMappings`, keyed by the clientId owning
/// the roles): `account-console`, which has no full scope, may carry `account`'s
/// `manage-account` and `view-groups`.
pub fn builtin_client_scope_mappings() -> BTreeMap<String, Vec<ScopeMappingRepresentation>> {
    BTreeMap::from([(
        ACCOUNT_CLIENT.to_owned(),
        vec![ScopeMappingRepresentation {
            client: Some(ACCOUNT_CONSOLE_CLIENT.to_owned()),
            client_scope: None,
            roles: Some(strings(&["manage-account", "view-groups"])),
        }],
    )])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use serde_json::Value;
    use std::collections::BTreeSet;
    use std::fmt::Debug;

    const REALMS: &[&str] = &["master", "acme"];

    fn names<'a, I: IntoIterator<Item = &'a Option<String>>>(items: I) -> Vec<&'a str> {
        items
            .into_iter()
            .map(|n| n.as_deref().expect("every built-in item is named"))
            .collect()
    }

    fn scope_by_name(name: &str) -> ClientScopeRepresentation {
        builtin_client_scopes()
            .into_iter()
            .find(|s| s.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no built-in scope {name}"))
    }

    fn all_roles(realm: &str) -> Vec<RoleRepresentation> {
        let mut roles = builtin_realm_roles(realm);
        roles.extend(builtin_client_roles(realm).into_values().flatten());
        if realm == MASTER_REALM {
            roles.extend(master_realm_roles());
            for r in REALMS {
                roles.extend(master_admin_client_roles(r));
            }
        }
        roles
    }

    #[test]
    fn defaults_scope_names_and_counts() {
        let scopes = builtin_client_scopes();
        assert_eq!(
            names(scopes.iter().map(|s| &s.name)),
            [
                "offline_access",
                "role_list",
                "saml_organization",
                "profile",
                "email",
                "address",
                "phone",
                "roles",
                "web-origins",
                "microprofile-jwt",
                "acr",
                "basic",
                "service_account",
                "organization",
            ]
        );
        let mapper_counts: Vec<(&str, usize)> = scopes
            .iter()
            .map(|s| {
                (
                    s.name.as_deref().unwrap_or_default(),
                    s.protocol_mappers.as_ref().map_or(0, Vec::len),
                )
            })
            .collect();
        assert_eq!(
            mapper_counts,
            [
                ("offline_access", 0),
                ("role_list", 1),
                ("saml_organization", 1),
                ("profile", 14),
                ("email", 2),
                ("address", 1),
                ("phone", 2),
                ("roles", 3),
                ("web-origins", 1),
                ("microprofile-jwt", 2),
                ("acr", 1),
                ("basic", 2),
                ("service_account", 3),
                ("organization", 1),
            ]
        );
        let saml: Vec<&str> = names(
            scopes
                .iter()
                .filter(|s| s.protocol.as_deref() == Some(SAML))
                .map(|s| &s.name),
        );
        assert_eq!(saml, ["role_list", "saml_organization"]);
    }

    #[test]
    fn defaults_profile_claims() {
        let profile = scope_by_name("profile");
        let claims: BTreeSet<&str> = profile
            .protocol_mappers
            .iter()
            .flatten()
            .filter_map(|m| m.config.as_ref()?.get("claim.name").map(String::as_str))
            .collect();
        let expected: BTreeSet<&str> = [
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ]
        .into_iter()
        .collect();
        assert_eq!(claims, expected);
        let attrs = profile.attributes.unwrap_or_default();
        assert_eq!(
            attrs.get("consent.screen.text").map(String::as_str),
            Some("${profileScopeConsentText}")
        );
    }

    #[test]
    fn defaults_default_scope_lists_name_builtin_scopes() {
        let scopes = builtin_client_scopes();
        let known: BTreeSet<&str> = names(scopes.iter().map(|s| &s.name)).into_iter().collect();
        for list in [
            DEFAULT_DEFAULT_CLIENT_SCOPES,
            DEFAULT_OPTIONAL_CLIENT_SCOPES,
            BUILTIN_CLIENT_DEFAULT_SCOPES,
            BUILTIN_CLIENT_OPTIONAL_SCOPES,
        ] {
            for name in list {
                assert!(known.contains(name), "unknown scope {name}");
            }
        }
        assert_eq!(DEFAULT_DEFAULT_CLIENT_SCOPES.len(), 8);
        assert_eq!(DEFAULT_OPTIONAL_CLIENT_SCOPES.len(), 5);
        let default: BTreeSet<_> = DEFAULT_DEFAULT_CLIENT_SCOPES.iter().collect();
        assert!(
            DEFAULT_OPTIONAL_CLIENT_SCOPES
                .iter()
                .all(|s| !default.contains(s))
        );
        // The built-in OIDC clients get the realm lists minus the SAML scopes.
        let oidc_default: BTreeSet<&str> = DEFAULT_DEFAULT_CLIENT_SCOPES
            .iter()
            .copied()
            .filter(|s| scope_by_name(s).protocol.as_deref() == Some(OIDC))
            .collect();
        assert_eq!(
            oidc_default,
            BUILTIN_CLIENT_DEFAULT_SCOPES.iter().copied().collect()
        );
        assert_eq!(
            DEFAULT_OPTIONAL_CLIENT_SCOPES
                .iter()
                .collect::<BTreeSet<_>>(),
            BUILTIN_CLIENT_OPTIONAL_SCOPES.iter().collect()
        );
    }

    #[test]
    fn defaults_oidc_mappers_carry_token_flags() {
        // Keycloak puts these mappers only into the access token (and introspection).
        let access_only = [
            "realm roles",
            "client roles",
            "audience resolve",
            "allowed web origins",
            "sub",
        ];
        let flags = [
            "id.token.claim",
            "access.token.claim",
            "userinfo.token.claim",
            "introspection.token.claim",
        ];
        let mut seen = 0;
        for scope in builtin_client_scopes() {
            for m in scope.protocol_mappers.unwrap_or_default() {
                assert_eq!(m.consent_required, Some(false));
                assert_eq!(
                    m.protocol, scope.protocol,
                    "mapper protocol follows its scope"
                );
                if m.protocol.as_deref() != Some(OIDC) {
                    continue;
                }
                seen += 1;
                let name = m.name.clone().unwrap_or_default();
                let config = m.config.unwrap_or_default();
                let expected: &[&str] = if access_only.contains(&name.as_str()) {
                    &["access.token.claim", "introspection.token.claim"]
                } else {
                    &flags
                };
                for flag in flags {
                    let want = expected.contains(&flag);
                    assert_eq!(
                        config.get(flag).map(String::as_str),
                        want.then_some("true"),
                        "{}/{name}: {flag}",
                        scope.name.as_deref().unwrap_or_default()
                    );
                }
            }
        }
        assert_eq!(seen, 32);
    }

    #[test]
    fn defaults_client_names_and_fields() {
        let clients = builtin_clients("acme");
        assert_eq!(
            names(clients.iter().map(|c| &c.client_id)),
            [
                "account",
                "account-console",
                "admin-cli",
                "broker",
                "realm-management",
                "security-admin-console",
            ]
        );
        let master = builtin_clients(MASTER_REALM);
        assert_eq!(master.len(), 5);
        assert!(
            master
                .iter()
                .all(|c| c.client_id.as_deref() != Some(REALM_MANAGEMENT_CLIENT))
        );

        let by_id: BTreeMap<&str, &ClientRepresentation> = clients
            .iter()
            .map(|c| (c.client_id.as_deref().unwrap_or_default(), c))
            .collect();
        let account = by_id["account"];
        assert_eq!(account.name.as_deref(), Some("${client_account}"));
        assert_eq!(account.root_url.as_deref(), Some("${authBaseUrl}"));
        assert_eq!(account.base_url.as_deref(), Some("/realms/acme/account/"));
        assert_eq!(
            account.redirect_uris,
            Some(vec!["/realms/acme/account/*".to_owned()])
        );
        assert_eq!(account.public_client, Some(true));
        let console = by_id["account-console"];
        assert_eq!(
            console
                .attributes
                .as_ref()
                .and_then(|a| a.get("pkce.code.challenge.method"))
                .map(String::as_str),
            Some("S256")
        );
        assert_eq!(
            console
                .protocol_mappers
                .as_ref()
                .map(|m| names(m.iter().map(|m| &m.name))),
            Some(vec!["audience resolve"])
        );
        let cli = by_id["admin-cli"];
        assert_eq!(cli.direct_access_grants_enabled, Some(true));
        assert_eq!(cli.standard_flow_enabled, Some(false));
        assert_eq!(cli.full_scope_allowed, Some(true));
        for id in ["broker", "realm-management"] {
            let c = by_id[id];
            assert_eq!(c.bearer_only, Some(true));
            assert_eq!(c.public_client, Some(false));
            assert_eq!(
                c.attributes
                    .as_ref()
                    .and_then(|a| a.get("realm_client"))
                    .map(String::as_str),
                Some("true")
            );
        }
        let admin = by_id["security-admin-console"];
        assert_eq!(admin.root_url.as_deref(), Some("${authAdminUrl}"));
        assert_eq!(admin.base_url.as_deref(), Some("/admin/acme/console/"));
        assert_eq!(admin.web_origins, Some(vec!["+".to_owned()]));
        assert_eq!(
            admin
                .protocol_mappers
                .as_ref()
                .map(|m| names(m.iter().map(|m| &m.name))),
            Some(vec!["locale"])
        );
        assert!(clients.iter().all(|c| c.secret.is_none()));
        // Every confidential built-in is bearer-only.
        assert!(
            clients
                .iter()
                .all(|c| c.public_client == Some(true) || c.bearer_only == Some(true))
        );
    }

    #[test]
    fn defaults_master_realm_clients() {
        let clients = master_realm_clients(REALMS);
        assert_eq!(
            names(clients.iter().map(|c| &c.client_id)),
            ["master-realm", "acme-realm"]
        );
        assert_eq!(
            names(clients.iter().map(|c| &c.name)),
            ["master Realm", "acme Realm"]
        );
        assert!(clients.iter().all(|c| c.bearer_only == Some(true)
            && c.secret.is_none()
            && c.full_scope_allowed == Some(false)));
    }

    #[test]
    fn defaults_client_roles() {
        let roles = builtin_client_roles("acme");
        assert_eq!(
            roles.keys().map(String::as_str).collect::<Vec<_>>(),
            ["account", "broker", "realm-management"]
        );
        assert_eq!(
            names(roles["account"].iter().map(|r| &r.name)),
            ACCOUNT_ROLES
        );
        assert_eq!(
            names(roles["broker"].iter().map(|r| &r.name)),
            ["read-token"]
        );
        assert_eq!(
            names(roles["realm-management"].iter().map(|r| &r.name)),
            REALM_MANAGEMENT_ROLES
        );
        assert_eq!(roles["realm-management"].len(), 19);
        assert!(!builtin_client_roles(MASTER_REALM).contains_key(REALM_MANAGEMENT_CLIENT));

        let manage_account = &roles["account"][0];
        assert_eq!(
            manage_account.description.as_deref(),
            Some("${role_manage-account}")
        );
        assert_eq!(
            manage_account.composites,
            Some(client_composites("account", &["manage-account-links"]))
        );
        for role in roles.values().flatten() {
            assert_eq!(role.client_role, Some(true));
            assert_eq!(role.composite, Some(role.composites.is_some()));
        }

        let master_roles = master_admin_client_roles("acme");
        assert_eq!(master_roles.len(), 18);
        assert!(
            master_roles
                .iter()
                .all(|r| r.name.as_deref() != Some(REALM_ADMIN_ROLE))
        );
        let view_users = master_roles
            .iter()
            .find(|r| r.name.as_deref() == Some("view-users"))
            .and_then(|r| r.composites.clone());
        assert_eq!(
            view_users,
            Some(client_composites(
                "acme-realm",
                &["query-users", "query-groups"]
            ))
        );
    }

    #[test]
    fn defaults_realm_admin_contains_every_other_management_role() {
        let roles = &builtin_client_roles("acme")[REALM_MANAGEMENT_CLIENT];
        let admin = roles
            .iter()
            .find(|r| r.name.as_deref() == Some(REALM_ADMIN_ROLE))
            .expect("realm-admin exists");
        let members: BTreeSet<&str> = admin
            .composites
            .as_ref()
            .and_then(|c| c.client.as_ref())
            .and_then(|c| c.get(REALM_MANAGEMENT_CLIENT))
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let others: BTreeSet<&str> = names(roles.iter().map(|r| &r.name))
            .into_iter()
            .filter(|n| *n != REALM_ADMIN_ROLE)
            .collect();
        assert_eq!(members, others);
        assert_eq!(members.len(), 18);
    }

    #[test]
    fn defaults_realm_roles() {
        let roles = builtin_realm_roles("acme");
        assert_eq!(
            names(roles.iter().map(|r| &r.name)),
            ["offline_access", "uma_authorization", "default-roles-acme"]
        );
        assert_eq!(
            roles[0].description.as_deref(),
            Some("${role_offline-access}")
        );
        assert_eq!(
            roles[1].description.as_deref(),
            Some("${role_uma_authorization}")
        );
        let default = default_role("acme");
        assert_eq!(roles[2], default);
        assert_eq!(
            default.description.as_deref(),
            Some("${role_default-roles}")
        );
        assert_eq!(default.composite, Some(true));
        assert!(roles.iter().all(|r| r.client_role == Some(false)));

        let master = master_realm_roles();
        assert_eq!(
            names(master.iter().map(|r| &r.name)),
            ["admin", "create-realm"]
        );
        assert_eq!(master[0].description.as_deref(), Some("${role_admin}"));
        assert_eq!(
            master[1].description.as_deref(),
            Some("${role_create-realm}")
        );

        let composites = master_admin_composites(REALMS);
        assert_eq!(composites.realm, Some(vec![CREATE_REALM_ROLE.to_owned()]));
        let client = composites.client.unwrap_or_default();
        assert_eq!(
            client.keys().map(String::as_str).collect::<BTreeSet<_>>(),
            ["acme-realm", "master-realm"].into_iter().collect()
        );
        assert!(client.values().all(|v| v.len() == 18));
    }

    /// Every composite names a role that the built-in data defines.
    #[test]
    fn defaults_composites_resolve() {
        for realm in ["acme", MASTER_REALM] {
            let realm_roles: BTreeSet<String> = builtin_realm_roles(realm)
                .into_iter()
                .chain(if realm == MASTER_REALM {
                    master_realm_roles()
                } else {
                    Vec::new()
                })
                .filter_map(|r| r.name)
                .collect();
            let mut client_roles: BTreeMap<String, BTreeSet<String>> = builtin_client_roles(realm)
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().filter_map(|r| r.name).collect()))
                .collect();
            if realm == MASTER_REALM {
                for r in REALMS {
                    client_roles.insert(
                        master_admin_client_id(r),
                        master_admin_client_roles(r)
                            .into_iter()
                            .filter_map(|r| r.name)
                            .collect(),
                    );
                }
            }
            let mut checked = 0;
            for role in all_roles(realm) {
                let composites = if role.name.as_deref() == Some(ADMIN_ROLE) {
                    Some(master_admin_composites(REALMS))
                } else {
                    role.composites
                };
                let Some(c) = composites else { continue };
                for name in c.realm.iter().flatten() {
                    assert!(realm_roles.contains(name), "{realm}: no realm role {name}");
                    checked += 1;
                }
                for (client, names) in c.client.iter().flatten() {
                    for name in names {
                        assert!(
                            client_roles.get(client).is_some_and(|s| s.contains(name)),
                            "{realm}: no role {client}/{name}"
                        );
                        checked += 1;
                    }
                }
            }
            assert!(checked > 0);
        }
    }

    #[test]
    fn defaults_scope_mappings_resolve() {
        let mappings = builtin_scope_mappings();
        assert_eq!(mappings[0].client_scope.as_deref(), Some("offline_access"));
        let account = &builtin_client_scope_mappings()[ACCOUNT_CLIENT];
        let account_roles: BTreeSet<&str> = ACCOUNT_ROLES.iter().copied().collect();
        for m in account {
            assert_eq!(m.client.as_deref(), Some(ACCOUNT_CONSOLE_CLIENT));
            for r in m.roles.iter().flatten() {
                assert!(account_roles.contains(r.as_str()));
            }
        }
    }

    fn assert_no_ids(value: &Value, at: &str) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    assert!(k != "id" && k != "containerId", "{k} set at {at}");
                    assert_no_ids(v, &format!("{at}.{k}"));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    assert_no_ids(v, &format!("{at}[{i}]"));
                }
            }
            _ => {}
        }
    }

    fn check_json<T: Serialize + DeserializeOwned + PartialEq + Debug>(item: &T, at: &str) {
        let value = serde_json::to_value(item).expect("serialises");
        assert_no_ids(&value, at);
        let back: T = serde_json::from_value(value).expect("parses back");
        assert_eq!(&back, item, "round trip of {at}");
    }

    #[test]
    fn defaults_no_ids_and_json_round_trip() {
        for s in builtin_client_scopes() {
            check_json(&s, "scope");
        }
        for realm in ["acme", MASTER_REALM] {
            for c in builtin_clients(realm) {
                check_json(&c, "client");
            }
            for r in all_roles(realm) {
                check_json(&r, "role");
            }
            check_json(&builtin_client_roles(realm), "client roles");
        }
        for c in master_realm_clients(REALMS) {
            check_json(&c, "master client");
        }
        check_json(&master_admin_composites(REALMS), "admin composites");
        check_json(&builtin_scope_mappings(), "scope mappings");
        check_json(&builtin_client_scope_mappings(), "client scope mappings");
    }
}
