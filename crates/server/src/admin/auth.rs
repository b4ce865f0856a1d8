//! Who is calling the admin API, and what they may do in the realm they address.
//!
//! A caller presents `Authorization: Bearer <access token>`. The token must be one we issued
//! and still active: signed by its realm's keys, issued by that realm for this request's
//! issuer URL, not revoked, its SSO session alive, its user enabled (the same checks as
//! UserInfo, [`crate::oidc::issue::check_access_token`]). Rights then come from the roles the
//! user holds *now* in the database (composites and groups included), never from the token's
//! claims, so removing a role takes effect without waiting for the token to expire.
//!
//! Rights in a realm are Keycloak's management roles (`view-users`, `manage-realm`, ...):
//! - a `master` user holding master's `admin` realm role may do everything in every realm;
//! - a `master` user holding roles of master's `{realm}-realm` client has those rights in
//!   `{realm}`;
//! - a user of any other realm holding roles of its own `realm-management` client has those
//!   rights in its own realm only (`realm-admin` is all of them);
//! - nobody else has any right in a realm.
//!
//! The decisions ([`management_client`], [`access`], [`Access::allows`],
//! [`may_grant`]) are pure functions over loaded records, unit-tested below; ADR 0010 explains
//! the mapping of endpoints to roles.

use crate::admin::http;
use crate::app::AppState;
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_model::defaults::{
    ADMIN_ROLE, CREATE_REALM_ROLE, MASTER_REALM, REALM_ADMIN_ROLE, REALM_MANAGEMENT_CLIENT,
};
use portcullis_model::records::{RealmRecord, RoleRecord, UserRecord};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

/// Management role names (Keycloak's `AdminRoles`) the first slice of the API checks.
pub mod role {
    pub const VIEW_REALM: &str = "view-realm";
    pub const MANAGE_REALM: &str = "manage-realm";
    pub const QUERY_USERS: &str = "query-users";
    pub const VIEW_USERS: &str = "view-users";
    pub const MANAGE_USERS: &str = "manage-users";
    pub const QUERY_GROUPS: &str = "query-groups";
    pub const QUERY_CLIENTS: &str = "query-clients";
    pub const QUERY_REALMS: &str = "query-realms";
    pub const VIEW_CLIENTS: &str = "view-clients";
    pub const MANAGE_CLIENTS: &str = "manage-clients";
    pub const VIEW_EVENTS: &str = "view-events";
    pub const MANAGE_EVENTS: &str = "manage-events";
}

/// Longest bearer token looked at; ours are far shorter.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// What the admin API can be asked to do; each endpoint needs exactly one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See that the realm exists (its name in `GET /admin/realms`, the reduced representation).
    SeeRealm,
    /// Read the realm's settings.
    ViewRealm,
    /// List, search and count users.
    QueryUsers,
    /// Read one user, its groups and role mappings.
    ViewUsers,
    /// Create, change, delete users; set passwords; group membership.
    ManageUsers,
    /// List and count groups.
    ListGroups,
    /// Read one group, its children and members.
    ViewGroups,
    /// Create, change and delete groups.
    ManageGroups,
    /// List realm roles.
    ListRoles,
    /// Read one realm role.
    ViewRoles,
    /// Read one client role (`roles-by-id` of a client role).
    ViewClientRoles,
    /// Create, change and delete realm roles.
    ManageRoles,
    /// Grant and remove a user's roles (each role is checked again by [`may_grant`]).
    MapRoles,
    /// List and search clients.
    QueryClients,
    /// Read one client (its secret included).
    ViewClients,
    /// Create, change and delete clients, their secrets, roles and mappers.
    ManageClients,
    /// Change or delete the realm itself (`PUT`/`DELETE /admin/realms/{realm}`).
    ManageRealm,
    /// Read admin events and the events configuration.
    ViewEvents,
    /// Change the events configuration, delete events.
    ManageEvents,
}

impl Action {
    /// Every action, for tests and documentation.
    pub const ALL: [Action; 19] = [
        Action::SeeRealm,
        Action::ViewRealm,
        Action::QueryUsers,
        Action::ViewUsers,
        Action::ManageUsers,
        Action::ListGroups,
        Action::ViewGroups,
        Action::ManageGroups,
        Action::ListRoles,
        Action::ViewRoles,
        Action::ViewClientRoles,
        Action::ManageRoles,
        Action::MapRoles,
        Action::QueryClients,
        Action::ViewClients,
        Action::ManageClients,
        Action::ManageRealm,
        Action::ViewEvents,
        Action::ManageEvents,
    ];
}

/// The rights of one caller in one realm: the management roles it holds there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// Master's `admin`, or the realm's `realm-admin`: every right.
    all: bool,
    roles: BTreeSet<String>,
}

impl Access {
    /// No right at all.
    pub fn none() -> Access {
        Access::default()
    }

    /// Every right (master's `admin`).
    pub fn full() -> Access {
        Access {
            all: true,
            roles: BTreeSet::new(),
        }
    }

    /// The rights of these management role names (`realm-admin` is all of them).
    pub fn from_roles<'a>(names: impl IntoIterator<Item = &'a str>) -> Access {
        let roles: BTreeSet<String> = names.into_iter().map(str::to_owned).collect();
        Access {
            all: roles.contains(REALM_ADMIN_ROLE),
            roles,
        }
    }

    /// Whether every right is held (`realm-admin` or master's `admin`).
    pub fn is_full(&self) -> bool {
        self.all
    }

    /// Whether the management role `name` is held (directly or as part of all rights).
    pub fn has(&self, name: &str) -> bool {
        self.all || self.roles.contains(name)
    }

    /// Whether any management role is held: the caller is an administrator of the realm.
    pub fn is_admin(&self) -> bool {
        self.all || !self.roles.is_empty()
    }

    fn any(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.has(n))
    }

    /// Whether `action` is allowed. Keycloak's rules (without fine-grained permissions):
    /// `manage-x` implies `view-x`, `view-users` implies `query-users` and `query-groups`;
    /// groups are governed by the user roles; realm roles by the realm roles, listed with any
    /// `query-*` role too; client roles by the client roles.
    pub fn allows(&self, action: Action) -> bool {
        use role::*;
        match action {
            Action::SeeRealm => self.is_admin(),
            Action::ViewRealm | Action::ViewRoles => self.any(&[VIEW_REALM, MANAGE_REALM]),
            Action::QueryUsers => self.any(&[QUERY_USERS, VIEW_USERS, MANAGE_USERS]),
            Action::ViewUsers | Action::ViewGroups => self.any(&[VIEW_USERS, MANAGE_USERS]),
            Action::ManageUsers | Action::ManageGroups | Action::MapRoles => self.has(MANAGE_USERS),
            Action::ListGroups => self.any(&[QUERY_GROUPS, VIEW_USERS, MANAGE_USERS]),
            Action::ListRoles => self.any(&[
                VIEW_REALM,
                MANAGE_REALM,
                QUERY_USERS,
                QUERY_GROUPS,
                QUERY_CLIENTS,
                QUERY_REALMS,
            ]),
            Action::ViewClientRoles | Action::ViewClients => {
                self.any(&[VIEW_CLIENTS, MANAGE_CLIENTS])
            }
            Action::QueryClients => self.any(&[QUERY_CLIENTS, VIEW_CLIENTS, MANAGE_CLIENTS]),
            Action::ManageClients => self.has(MANAGE_CLIENTS),
            Action::ManageRoles | Action::ManageRealm => self.has(MANAGE_REALM),
            Action::ViewEvents => self.any(&[VIEW_EVENTS, MANAGE_EVENTS]),
            Action::ManageEvents => self.has(MANAGE_EVENTS),
        }
    }
}

/// Whether a user of `caller_realm` with these effective roles may create realms
/// (`POST /admin/realms`): master users holding master's `admin` or `create-realm` realm role.
pub fn may_create_realm(caller_realm: &str, effective: &[RoleRecord]) -> bool {
    caller_realm == MASTER_REALM
        && effective
            .iter()
            .any(|r| r.client_id.is_none() && (r.name == ADMIN_ROLE || r.name == CREATE_REALM_ROLE))
}

/// Which client's roles (by `clientId`, in the caller's own realm) give a user of
/// `caller_realm` rights in `target_realm`: master's `{target}-realm` for master users, the
/// realm's own `realm-management` for its users; None when the caller's realm cannot manage
/// the target at all.
pub fn management_client(caller_realm: &str, target_realm: &str) -> Option<String> {
    if caller_realm == MASTER_REALM {
        Some(portcullis_model::defaults::master_admin_client_id(
            target_realm,
        ))
    } else if caller_realm == target_realm {
        Some(REALM_MANAGEMENT_CLIENT.to_owned())
    } else {
        None
    }
}

/// The rights in `target_realm` of a user of `caller_realm` holding `effective` roles (its
/// effective roles, composites and groups included). `client_uuid` is the internal id of the
/// [`management_client`] in the caller's realm, when it exists.
pub fn access(
    caller_realm: &str,
    target_realm: &str,
    effective: &[RoleRecord],
    client_uuid: Option<&str>,
) -> Access {
    if caller_realm == MASTER_REALM
        && effective
            .iter()
            .any(|r| r.client_id.is_none() && r.name == ADMIN_ROLE)
    {
        return Access::full();
    }
    let (Some(_), Some(uuid)) = (management_client(caller_realm, target_realm), client_uuid) else {
        return Access::none();
    };
    Access::from_roles(
        effective
            .iter()
            .filter(|r| r.client_id.as_deref() == Some(uuid))
            .map(|r| r.name.as_str()),
    )
}

/// What granting a role means for administration rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant<'a> {
    /// An ordinary role.
    Plain,
    /// A management role of the target realm's `realm-management` client (by name).
    Management(&'a str),
    /// One of master's administration roles (`admin`, `create-realm`, the roles of a
    /// `{realm}-realm` client), by id.
    MasterAdmin(&'a str),
}

/// Classify a role of `target_realm` for [`may_grant`]. `client_id` is the `clientId` of the
/// role's client (None for realm roles).
pub fn classify<'a>(
    target_realm: &str,
    role: &'a RoleRecord,
    client_id: Option<&str>,
) -> Grant<'a> {
    match client_id {
        Some(REALM_MANAGEMENT_CLIENT) if target_realm != MASTER_REALM => {
            Grant::Management(&role.name)
        }
        Some(c) if target_realm == MASTER_REALM && c.ends_with("-realm") => {
            Grant::MasterAdmin(&role.id)
        }
        None if target_realm == MASTER_REALM
            && (role.name == ADMIN_ROLE || role.name == CREATE_REALM_ROLE) =>
        {
            Grant::MasterAdmin(&role.id)
        }
        _ => Grant::Plain,
    }
}

/// Whether a caller may hand out roles whose effective closure (the roles themselves and
/// everything they contain; for a group, everything its members get) is `grants`: nobody
/// gives away administration rights they do not have. A management role needs the same right
/// (`realm-admin` needs all rights); a master administration role needs the caller to hold
/// that very role (`held`: the caller's effective role ids).
pub fn may_grant(access: &Access, held: &HashSet<&str>, grants: &[Grant<'_>]) -> bool {
    grants.iter().all(|g| match g {
        Grant::Plain => true,
        Grant::Management(name) if *name == REALM_ADMIN_ROLE => access.is_full(),
        Grant::Management(name) => access.has(name),
        Grant::MasterAdmin(id) => held.contains(id),
    })
}

/// The realm a token says it comes from: the last path segment after `/realms/` of its `iss`
/// claim, read without verification (verification follows with that realm's keys).
pub fn token_realm(token: &str) -> Option<String> {
    if token.len() > MAX_TOKEN_BYTES {
        return None;
    }
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let iss = claims.get("iss")?.as_str()?;
    let (_, name) = iss.rsplit_once("/realms/")?;
    (!name.is_empty() && !name.contains('/')).then(|| name.to_owned())
}

/// An authenticated caller.
pub struct Caller {
    pub realm: Arc<RealmRecord>,
    pub user: UserRecord,
    /// The user's effective roles now (composites and groups included).
    pub roles: Vec<RoleRecord>,
}

impl Caller {
    /// The caller's effective role ids.
    pub fn role_ids(&self) -> HashSet<&str> {
        self.roles.iter().map(|r| r.id.as_str()).collect()
    }
}

/// Authenticate the bearer token of an admin request: 401 when there is none or it is not an
/// active token of ours.
pub async fn authenticate(s: &AppState, headers: &HeaderMap) -> Result<Caller, Response> {
    let Some(token) = crate::oidc::http::bearer(headers) else {
        return Err(http::unauthorized());
    };
    let Some(name) = token_realm(token) else {
        return Err(http::unauthorized());
    };
    let realm = match s.caches.realm(&s.store, &name).await {
        Ok(Some(r)) if r.enabled => r,
        Ok(_) => return Err(http::unauthorized()),
        Err(e) => return Err(crate::error::internal_any(e)),
    };
    let issuer = crate::oidc::urls(s, headers, &realm.name).issuer;
    let keys = s
        .keys
        .get(&s.store, &realm)
        .await
        .map_err(crate::error::internal_any)?;
    let active =
        match crate::oidc::issue::check_access_token(s, &realm, &keys, &issuer, token).await {
            Ok(Ok(t)) => t,
            Ok(Err(why)) => {
                tracing::debug!(reason = ?why, "admin API: token refused");
                return Err(http::unauthorized());
            }
            Err(e) => return Err(crate::error::internal_any(e)),
        };
    let claims = s
        .caches
        .user_claims(&s.store, &active.user.id)
        .await
        .map_err(crate::error::internal_any)?;
    crate::admin::events::note_caller(crate::admin::events::AuthDetails {
        realm_id: realm.id.clone(),
        client_id: active.client.id.clone(),
        user_id: active.user.id.clone(),
        ip_address: crate::oidc::http::client_address(s, headers),
    });
    Ok(Caller {
        realm,
        user: active.user,
        roles: claims.effective_roles.clone(),
    })
}

/// The caller's rights in `target`.
pub async fn access_in(
    s: &AppState,
    caller: &Caller,
    target: &RealmRecord,
) -> Result<Access, Response> {
    let client_uuid = match management_client(&caller.realm.name, &target.name) {
        Some(client_id) => s
            .caches
            .client(&s.store, &caller.realm.id, &client_id)
            .await
            .map_err(crate::error::internal_any)?
            .map(|c| c.id.clone()),
        None => None,
    };
    Ok(access(
        &caller.realm.name,
        &target.name,
        &caller.roles,
        client_uuid.as_deref(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: &str, name: &str, client: Option<&str>) -> RoleRecord {
        RoleRecord {
            id: id.into(),
            realm_id: "r".into(),
            client_id: client.map(str::to_owned),
            name: name.into(),
            description: None,
            attributes: Default::default(),
        }
    }

    /// The matrix: which single management role allows which action.
    #[test]
    fn each_role_allows_exactly_its_actions() {
        use Action::*;
        let cases: &[(&str, &[Action])] = &[
            ("view-realm", &[SeeRealm, ViewRealm, ViewRoles, ListRoles]),
            (
                "manage-realm",
                &[
                    SeeRealm,
                    ViewRealm,
                    ViewRoles,
                    ListRoles,
                    ManageRoles,
                    ManageRealm,
                ],
            ),
            ("query-users", &[SeeRealm, QueryUsers, ListRoles]),
            (
                "view-users",
                &[SeeRealm, QueryUsers, ViewUsers, ViewGroups, ListGroups],
            ),
            (
                "manage-users",
                &[
                    SeeRealm,
                    QueryUsers,
                    ViewUsers,
                    ManageUsers,
                    ViewGroups,
                    ListGroups,
                    ManageGroups,
                    MapRoles,
                ],
            ),
            ("query-groups", &[SeeRealm, ListGroups, ListRoles]),
            ("query-clients", &[SeeRealm, ListRoles, QueryClients]),
            ("query-realms", &[SeeRealm, ListRoles]),
            (
                "view-clients",
                &[SeeRealm, ViewClientRoles, QueryClients, ViewClients],
            ),
            (
                "manage-clients",
                &[
                    SeeRealm,
                    ViewClientRoles,
                    QueryClients,
                    ViewClients,
                    ManageClients,
                ],
            ),
            ("view-events", &[SeeRealm, ViewEvents]),
            ("manage-events", &[SeeRealm, ViewEvents, ManageEvents]),
            ("impersonation", &[SeeRealm]),
        ];
        for (name, allowed) in cases {
            let a = Access::from_roles([*name]);
            for action in Action::ALL {
                assert_eq!(
                    a.allows(action),
                    allowed.contains(&action),
                    "{name} / {action:?}"
                );
            }
        }
    }

    #[test]
    fn no_role_allows_nothing_and_admin_roles_allow_everything() {
        for action in Action::ALL {
            assert!(!Access::none().allows(action), "{action:?}");
            assert!(Access::full().allows(action), "{action:?}");
            assert!(
                Access::from_roles(["realm-admin"]).allows(action),
                "{action:?}"
            );
        }
        assert!(!Access::none().is_admin());
        assert!(Access::from_roles(["view-events"]).is_admin());
    }

    #[test]
    fn realm_creators_are_master_admins_and_creators() {
        let admin = role("1", "admin", None);
        let create = role("2", "create-realm", None);
        let client_admin = role("3", "admin", Some("c"));
        assert!(may_create_realm("master", std::slice::from_ref(&admin)));
        assert!(may_create_realm("master", std::slice::from_ref(&create)));
        assert!(!may_create_realm("master", &[client_admin]));
        assert!(!may_create_realm("acme", &[admin, create]));
        assert!(!may_create_realm("master", &[]));
    }

    #[test]
    fn management_client_by_caller_realm() {
        assert_eq!(
            management_client("master", "acme").as_deref(),
            Some("acme-realm")
        );
        assert_eq!(
            management_client("master", "master").as_deref(),
            Some("master-realm")
        );
        assert_eq!(
            management_client("acme", "acme").as_deref(),
            Some("realm-management")
        );
        assert_eq!(management_client("acme", "other"), None);
        assert_eq!(management_client("acme", "master"), None);
    }

    #[test]
    fn access_from_effective_roles() {
        let mgmt = "rm-uuid";
        let roles = vec![
            role("1", "view-users", Some(mgmt)),
            role("2", "manage-realm", Some("other-client")),
            role("3", "admin", None),
        ];
        // A realm's own user: only roles of its realm-management client count; a realm role
        // named `admin` outside master means nothing.
        let a = access("acme", "acme", &roles, Some(mgmt));
        assert!(a.allows(Action::ViewUsers));
        assert!(!a.allows(Action::ManageRoles));
        assert!(!a.is_full());
        // The same roles give nothing in another realm.
        assert_eq!(access("acme", "other", &roles, Some(mgmt)), Access::none());
        // Without the client nothing counts.
        assert_eq!(access("acme", "acme", &roles, None), Access::none());
        // Master's admin role: everything everywhere.
        assert!(access("master", "acme", &roles, None).is_full());
        assert!(access("master", "master", &roles, None).is_full());
        // A master user with roles of `acme-realm`.
        let scoped = vec![role("4", "manage-users", Some("acme-realm-uuid"))];
        let a = access("master", "acme", &scoped, Some("acme-realm-uuid"));
        assert!(a.allows(Action::ManageUsers));
        assert!(!a.allows(Action::ViewRealm));
        assert_eq!(
            access("master", "other", &scoped, Some("other-realm-uuid")),
            Access::none()
        );
        // realm-admin through composites is every right.
        let admin = vec![role("5", "realm-admin", Some(mgmt))];
        assert!(access("acme", "acme", &admin, Some(mgmt)).is_full());
    }

    #[test]
    fn granting_administration_rights_needs_them() {
        let manage_users = role("m", "manage-users", Some("rm"));
        let realm_admin = role("ra", "realm-admin", Some("rm"));
        assert_eq!(
            classify("acme", &realm_admin, Some("realm-management")),
            Grant::Management("realm-admin")
        );
        let plain = role("p", "editor", None);
        let master_admin = role("ma", "admin", None);
        let acme_realm_role = role("ar", "view-users", Some("acme-realm-uuid"));
        assert_eq!(classify("acme", &plain, None), Grant::Plain);
        assert_eq!(
            classify("acme", &manage_users, Some("realm-management")),
            Grant::Management("manage-users")
        );
        assert_eq!(classify("acme", &master_admin, None), Grant::Plain);
        assert_eq!(
            classify("master", &master_admin, None),
            Grant::MasterAdmin("ma")
        );
        assert_eq!(
            classify("master", &acme_realm_role, Some("acme-realm")),
            Grant::MasterAdmin("ar")
        );
        assert_eq!(classify("master", &plain, Some("account")), Grant::Plain);

        let held: HashSet<&str> = HashSet::new();
        let users_admin = Access::from_roles(["manage-users"]);
        assert!(may_grant(&users_admin, &held, &[Grant::Plain]));
        assert!(may_grant(
            &users_admin,
            &held,
            &[Grant::Management("manage-users")]
        ));
        assert!(!may_grant(
            &users_admin,
            &held,
            &[Grant::Plain, Grant::Management("manage-realm")]
        ));
        assert!(!may_grant(
            &users_admin,
            &held,
            &[Grant::Management("realm-admin")]
        ));
        assert!(may_grant(
            &Access::from_roles(["realm-admin"]),
            &held,
            &[Grant::Management("realm-admin")]
        ));
        assert!(!may_grant(
            &Access::full(),
            &held,
            &[Grant::MasterAdmin("ma")]
        ));
        let held: HashSet<&str> = ["ma"].into_iter().collect();
        assert!(may_grant(
            &Access::full(),
            &held,
            &[Grant::MasterAdmin("ma")]
        ));
        assert!(may_grant(&users_admin, &held, &[]));
    }

    fn jwt(claims: &Value) -> String {
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    #[test]
    fn token_realm_reads_the_issuer() {
        let t = jwt(&serde_json::json!({"iss": "http://h:8080/auth/realms/acme"}));
        assert_eq!(token_realm(&t).as_deref(), Some("acme"));
        let t = jwt(&serde_json::json!({"iss": "http://h/realms/a/realms/master"}));
        assert_eq!(token_realm(&t).as_deref(), Some("master"));
        for bad in [
            jwt(&serde_json::json!({"iss": "http://h/realms/"})),
            jwt(&serde_json::json!({"iss": "http://h/realms/a/b"})),
            jwt(&serde_json::json!({"iss": 5})),
            jwt(&serde_json::json!({})),
            "a.b".to_string(),
            "a.b.c.d".to_string(),
            "a.!!!.c".to_string(),
            format!("a.{}.c", "A".repeat(MAX_TOKEN_BYTES)),
        ] {
            assert_eq!(token_realm(&bad), None, "{bad:.40}");
        }
    }
}
