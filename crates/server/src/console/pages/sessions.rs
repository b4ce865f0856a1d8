//! A realm's SSO sessions (paged, newest first), each can be signed out.

use super::{PAGE_SIZE, Page, first, pager, required, time_ms};
use crate::admin::auth::Action;
use crate::console::Admin;
use crate::console::api::Reply;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashMap;

/// GET `.../sessions`.
pub async fn list(
    admin: Admin,
    Path(realm): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let first = first(&admin, &q)?;
    let ctx = admin.authorize(&realm, Action::ViewUsers).await?;
    let rows = admin
        .store()
        .realm_sessions(&ctx.realm.id, first, PAGE_SIZE + 1)
        .await
        .map_err(|_| admin.internal())?;
    let has_more = rows.len() as i64 > PAGE_SIZE;
    let now = crate::oidc::http::now_ms();
    // Expired sessions not purged yet (housekeeping runs every minute) are not shown.
    let sessions: Vec<Value> = rows
        .iter()
        .take(PAGE_SIZE as usize)
        .filter(|l| crate::oidc::issue::session_alive(&ctx.realm, &l.session, now))
        .map(|l| {
            json!({
                "id": l.session.id,
                "user_id": l.session.user_id,
                "username": l.username,
                "ip": l.session.ip_address,
                "started": time_ms(l.session.started),
                "last": time_ms(l.session.last_refresh),
            })
        })
        .collect();
    Ok(admin.page(
        "sessions.html",
        Some(&realm),
        "sessions",
        json!({ "sessions": sessions, "pager": pager(first, has_more) }),
    ))
}

/// POST `.../sessions`: sign out one session (`session`).
pub async fn end(admin: Admin, Path(realm): Path<String>, headers: HeaderMap, body: Bytes) -> Page {
    let p = admin.form(&headers, &body)?;
    let back = admin.realm_url(&realm, "/sessions");
    let sid = match required(&p, "session", "Session", 128) {
        Ok(s) => s,
        Err(m) => return Ok(admin.back_with_error(&m, &back)),
    };
    let ended = sign_out(&admin, &realm, sid, None).await?;
    Ok(admin.after(ended, "Session signed out.", &back))
}

/// End SSO session `sid` of `realm` (and of `user`, when given) as the logout endpoint does
/// (back-channel logout to its clients). Needs `manage-users`.
pub async fn sign_out(
    admin: &Admin,
    realm: &str,
    sid: &str,
    user: Option<&str>,
) -> Result<Result<Reply, String>, Response> {
    let ctx = admin.authorize(realm, Action::ManageUsers).await?;
    let found = admin
        .store()
        .user_session(sid)
        .await
        .map_err(|_| admin.internal())?
        .filter(|s| s.realm_id == ctx.realm.id && user.is_none_or(|u| s.user_id == u));
    let Some(us) = found else {
        return Ok(Err("That session has already ended.".to_owned()));
    };
    let issuer = crate::oidc::urls(admin.app(), &admin.forward, &ctx.realm.name).issuer;
    crate::oidc::logout::end_session(admin.app(), &ctx.realm, &issuer, &us)
        .await
        .map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "console session sign-out failed");
            admin.internal()
        })?;
    Ok(Ok(Reply {
        status: StatusCode::NO_CONTENT,
        body: Value::Null,
        location: None,
    }))
}
