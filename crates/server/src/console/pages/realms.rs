//! The realm picker (the console's home) and a realm's overview.

use super::Page;
use crate::admin::auth::Action;
use crate::console::Admin;
use crate::console::api::realm_path;
use axum::extract::Path;
use axum::http::Method;
use serde_json::{Value, json};

/// GET `{console}/`: the realms this administrator may see.
pub async fn list(admin: Admin) -> Page {
    // Someone without any management role is refused the list: they administer no realm.
    let r = admin.call(Method::GET, "/admin/realms", None).await?;
    let realms = match r.status {
        s if s.is_success() => r.body,
        axum::http::StatusCode::FORBIDDEN => Value::Array(Vec::new()),
        _ => return Err(admin.refused(&r)),
    };
    Ok(admin.page("realms.html", None, "realms", json!({ "realms": realms })))
}

/// GET `{console}/realms/{realm}/`: settings and counts.
pub async fn overview(admin: Admin, Path(realm): Path<String>) -> Page {
    let base = realm_path(&realm);
    let rep = admin.get(&base).await?;
    let count = |path: String| {
        let admin = &admin;
        async move {
            match admin.call(Method::GET, &path, None).await {
                // `/users/count` answers a number, `/groups/count` `{"count": n}`.
                Ok(r) if r.status.is_success() => {
                    Ok(r.body.as_i64().or_else(|| r.body["count"].as_i64()))
                }
                Ok(_) => Ok(None),
                Err(resp) => Err(resp),
            }
        }
    };
    let users = count(format!("{base}/users/count")).await?;
    let groups = count(format!("{base}/groups/count")).await?;
    let sessions = match admin.authorize(&realm, Action::ViewUsers).await {
        Ok(ctx) => admin
            .store()
            .count_user_sessions(&ctx.realm.id)
            .await
            .map_err(|_| admin.internal())
            .map(Some)?,
        Err(_) => None,
    };
    let s = |k: &str| rep.get(k).cloned().unwrap_or(Value::Null);
    Ok(admin.page(
        "overview.html",
        Some(&realm),
        "overview",
        json!({ "rep": rep, "display_name": s("displayName"), "enabled": s("enabled"), "users": users, "groups": groups, "sessions": sessions }),
    ))
}
