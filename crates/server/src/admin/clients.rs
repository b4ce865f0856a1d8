//! Clients: `GET /clients`, `GET /clients/{id}`.
//!
//! As in Keycloak: listing needs `query-clients` (or `view-clients`/`manage-clients`), reading
//! one client needs `view-clients`. Secrets are never part of these answers.

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::params::{MAX_PAGE, Query};
use crate::admin::{bad_param, context, db, repr};
use crate::app::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use portcullis_store::{Match, TextFilter};

/// GET `/clients` (`clientId`, `search`: infix instead of exact match, `first`, `max`).
pub async fn list(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::QueryClients).await?;
    let q = Query::parse(raw.as_deref());
    let infix = q.flag("search").map_err(bad_param)?.unwrap_or(false);
    let filter = q
        .text("clientId")
        .map_err(bad_param)?
        .map(|v| TextFilter::new(v, if infix { Match::Infix } else { Match::Exact }));
    let page = q.page(MAX_PAGE).map_err(bad_param)?;
    let clients = db(s
        .store
        .clients_page(&c.realm.id, filter.as_ref(), page)
        .await)?;
    http::ok(clients.iter().map(repr::client_repr).collect::<Vec<_>>())
}

/// GET `/clients/{id}` (the internal id).
pub async fn get(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewClients).await?;
    let client = db(s.store.client_by_id(&c.realm.id, &id).await)?
        .ok_or_else(|| http::not_found("Could not find client"))?;
    http::ok(repr::client_repr(&client))
}
