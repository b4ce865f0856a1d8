//! Finding the role a path names, and the rights it takes, for every endpoint that addresses
//! one role: by realm-role name (`/roles/{role-name}`), by client and name
//! (`/clients/{id}/roles/{role-name}`) or by id (`/roles-by-id/{role-id}`).
//!
//! As in Keycloak: a realm role is read with `view-realm` and changed with `manage-realm`, a
//! client role read with `view-clients` and changed with `manage-clients`. When the path says
//! which kind of role it is, the right is checked before the lookup (403 before 404); by id
//! the kind is only known once the role is found. Missing things answer Keycloak's 404s:
//! `Could not find client`, `Could not find role`, `Could not find role with id`.

use crate::admin::auth::Action;
use crate::admin::http;
use crate::admin::{Context, context, db};
use crate::app::AppState;
use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_model::records::{ClientRecord, RoleRecord};
use portcullis_store::RoleDetails;

/// Where a path points.
#[derive(Debug, Clone, Copy)]
pub enum RoleAt<'a> {
    /// A realm role by name.
    Realm(&'a str),
    /// A client role: the client's internal id and the role name.
    Client(&'a str, &'a str),
    /// Any role of the realm by id.
    Id(&'a str),
}

/// Reading or changing the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    View,
    Manage,
}

/// The right `intent` on `role` needs.
pub fn action_for(role: &RoleRecord, intent: Intent) -> Action {
    match (role.client_id.is_some(), intent) {
        (false, Intent::View) => Action::ViewRoles,
        (false, Intent::Manage) => Action::ManageRoles,
        (true, Intent::View) => Action::ViewClientRoles,
        (true, Intent::Manage) => Action::ManageClients,
    }
}

/// A client of the realm by internal id, or 404 `Could not find client`.
pub async fn client(s: &AppState, realm_id: &str, id: &str) -> Result<ClientRecord, Response> {
    db(s.store.client_by_id(realm_id, id).await)?
        .ok_or_else(|| http::not_found("Could not find client"))
}

/// Authenticate, find the role `at` points to and check the right `intent` on it needs.
pub async fn open(
    s: &AppState,
    headers: &HeaderMap,
    realm: &str,
    at: RoleAt<'_>,
    intent: Intent,
) -> Result<(Context, RoleDetails), Response> {
    let c = context(s, headers, realm, Action::SeeRealm).await?;
    let role = match at {
        RoleAt::Realm(name) => {
            c.require(match intent {
                Intent::View => Action::ViewRoles,
                Intent::Manage => Action::ManageRoles,
            })?;
            db(s.store.realm_role_details(&c.realm.id, name).await)?
                .ok_or_else(|| http::not_found("Could not find role"))?
        }
        RoleAt::Client(client_uuid, name) => {
            c.require(match intent {
                Intent::View => Action::ViewClientRoles,
                Intent::Manage => Action::ManageClients,
            })?;
            let cl = client(s, &c.realm.id, client_uuid).await?;
            db(s.store.client_role_details(&cl.id, name).await)?
                .ok_or_else(|| http::not_found("Could not find role"))?
        }
        RoleAt::Id(id) => {
            let found = db(s.store.role_details_by_id(&c.realm.id, id).await)?;
            // Without the view right on realm roles, an unknown id is 403 like a known one.
            let probe = found
                .as_ref()
                .map(|d| action_for(&d.role, intent))
                .unwrap_or(match intent {
                    Intent::View => Action::ViewRoles,
                    Intent::Manage => Action::ManageRoles,
                });
            c.require(probe)?;
            found.ok_or_else(|| http::not_found("Could not find role with id"))?
        }
    };
    Ok((c, role))
}

/// 404 `Role not found`: a role named in a body does not exist.
pub fn body_role_missing() -> Response {
    http::not_found("Role not found")
}
