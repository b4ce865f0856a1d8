//! Users: search (paged), create, profile, password reset, groups, realm role mappings and
//! sessions.

use super::{PAGE_SIZE, Page, checked, field, first, pager, required, time_ms};
use crate::admin::auth::Action;
use crate::console::Admin;
use crate::console::api::{realm_path, seg};
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, Method};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Longest search text accepted.
const MAX_SEARCH: usize = 255;

fn user_api(realm: &str, id: &str) -> String {
    format!("{}/users/{}", realm_path(realm), seg(id))
}

/// GET `.../users?search=&first=`.
pub async fn list(
    admin: Admin,
    Path(realm): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let first = first(&admin, &q)?;
    let search = q.get("search").map(|s| s.trim()).unwrap_or("");
    if search.chars().count() > MAX_SEARCH {
        return Err(admin.bad_input("The search text is longer than 255 characters."));
    }
    let filter = if search.is_empty() {
        String::new()
    } else {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("search", search)
            .finish()
    };
    let base = realm_path(&realm);
    let mut users = admin
        .get(&format!(
            "{base}/users?{filter}&first={first}&max={}&briefRepresentation=true",
            PAGE_SIZE + 1
        ))
        .await?;
    let total = admin.get(&format!("{base}/users/count?{filter}")).await?;
    let rows = users.as_array_mut().map(std::mem::take).unwrap_or_default();
    let has_more = rows.len() as i64 > PAGE_SIZE;
    let rows: Vec<Value> = rows.into_iter().take(PAGE_SIZE as usize).collect();
    Ok(admin.page(
        "users.html",
        Some(&realm),
        "users",
        json!({ "users": rows, "search": search, "search_query": filter, "total": total, "pager": pager(first, has_more) }),
    ))
}

/// GET `.../users/new`.
pub async fn new_form(admin: Admin, Path(realm): Path<String>) -> Page {
    Ok(admin.page("user-new.html", Some(&realm), "users", json!({})))
}

/// The profile fields of a form as a partial user representation.
fn profile(p: &portcullis_oidc::authorize::Params) -> Result<Value, String> {
    let text = |name: &str, label: &str| -> Result<Value, String> {
        let v = field(p, name)?;
        if v.chars().count() > 255 {
            return Err(format!("{label} is longer than 255 characters."));
        }
        Ok(Value::String(v.to_owned()))
    };
    Ok(json!({
        "email": text("email", "Email")?,
        "firstName": text("firstName", "First name")?,
        "lastName": text("lastName", "Last name")?,
        "enabled": checked(p, "enabled"),
        "emailVerified": checked(p, "emailVerified"),
    }))
}

/// POST `.../users`: create, then the new user's page.
pub async fn create(
    admin: Admin,
    Path(realm): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    let p = admin.form(&headers, &body)?;
    let back = admin.realm_url(&realm, "/users/new");
    let mut rep = match profile(&p) {
        Ok(r) => r,
        Err(m) => return Ok(admin.back_with_error(&m, &back)),
    };
    let username = match required(&p, "username", "Username", 255) {
        Ok(u) => u,
        Err(m) => return Ok(admin.back_with_error(&m, &back)),
    };
    rep["username"] = Value::String(username.to_owned());
    let path = format!("{}/users", realm_path(&realm));
    match admin.write(Method::POST, &path, Some(rep)).await? {
        Ok(reply) => {
            let id = reply
                .location
                .as_deref()
                .and_then(|l| l.rsplit('/').next())
                .unwrap_or_default()
                .to_owned();
            admin.flash("success", format!("User {username} created."));
            Ok(crate::console::see_other(
                &admin.realm_url(&realm, &format!("/users/{}", seg(&id))),
                admin.https,
            ))
        }
        Err(m) => Ok(admin.back_with_error(&m, &back)),
    }
}

/// GET `.../users/{id}`: profile form and password reset.
pub async fn detail(admin: Admin, Path((realm, id)): Path<(String, String)>) -> Page {
    let user = admin.get(&user_api(&realm, &id)).await?;
    Ok(admin.page(
        "user.html",
        Some(&realm),
        "users",
        json!({ "user": user, "tab": "details" }),
    ))
}

/// POST `.../users/{id}`: save the profile.
pub async fn update(
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    let p = admin.form(&headers, &body)?;
    let back = admin.realm_url(&realm, &format!("/users/{}", seg(&id)));
    let rep = match profile(&p) {
        Ok(r) => r,
        Err(m) => return Ok(admin.back_with_error(&m, &back)),
    };
    let outcome = admin
        .write(Method::PUT, &user_api(&realm, &id), Some(rep))
        .await?;
    Ok(admin.after(outcome, "User saved.", &back))
}

/// POST `.../users/{id}/reset-password`.
pub async fn reset_password(
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    let p = admin.form(&headers, &body)?;
    let back = admin.realm_url(&realm, &format!("/users/{}", seg(&id)));
    let password = match p.one("password") {
        Ok(Some(v)) if !v.is_empty() => v,
        _ => return Ok(admin.back_with_error("Enter the new password.", &back)),
    };
    if p.one("confirm").ok().flatten() != Some(password) {
        return Ok(admin.back_with_error("The two passwords differ.", &back));
    }
    let rep = json!({"type": "password", "value": password, "temporary": checked(&p, "temporary")});
    let outcome = admin
        .write(
            Method::PUT,
            &format!("{}/reset-password", user_api(&realm, &id)),
            Some(rep),
        )
        .await?;
    Ok(admin.after(outcome, "Password reset.", &back))
}

/// Every group of the realm with its path, for the "join" choice (None without the right).
async fn all_groups(
    admin: &Admin,
    realm: &str,
) -> Result<Option<Vec<Value>>, axum::response::Response> {
    let Ok(ctx) = admin.authorize(realm, Action::ListGroups).await else {
        return Ok(None);
    };
    let nodes = admin
        .store()
        .group_outline(&ctx.realm.id, super::groups::MAX_GROUPS)
        .await
        .map_err(|_| admin.internal())?;
    let mut out: Vec<Value> = super::groups::paths(&nodes)
        .into_iter()
        .map(|(id, path)| json!({"id": id, "path": path}))
        .collect();
    out.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    Ok(Some(out))
}

/// GET `.../users/{id}/groups`.
pub async fn groups(admin: Admin, Path((realm, id)): Path<(String, String)>) -> Page {
    let user = admin.get(&user_api(&realm, &id)).await?;
    let member_of = admin
        .get(&format!(
            "{}/groups?first=0&max=1000",
            user_api(&realm, &id)
        ))
        .await?;
    let joined: Vec<&str> = member_of
        .as_array()
        .map(|a| a.iter().filter_map(|g| g["id"].as_str()).collect())
        .unwrap_or_default();
    let candidates = all_groups(&admin, &realm).await?.map(|mut all| {
        all.retain(|g| g["id"].as_str().is_some_and(|id| !joined.contains(&id)));
        all
    });
    Ok(admin.page(
        "user-groups.html",
        Some(&realm),
        "users",
        json!({ "user": user, "member_of": member_of, "candidates": candidates, "tab": "groups" }),
    ))
}

/// POST `.../users/{id}/groups`: `action=join|leave`, `group`.
pub async fn change_group(
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    let p = admin.form(&headers, &body)?;
    let back = admin.realm_url(&realm, &format!("/users/{}/groups", seg(&id)));
    let group = match required(&p, "group", "Group", 64) {
        Ok(g) => g,
        Err(m) => return Ok(admin.back_with_error(&m, &back)),
    };
    let (method, done) = match field(&p, "action") {
        Ok("join") => (Method::PUT, "Joined the group."),
        Ok("leave") => (Method::DELETE, "Left the group."),
        _ => return Ok(admin.back_with_error("Choose to join or leave.", &back)),
    };
    let path = format!("{}/groups/{}", user_api(&realm, &id), seg(group));
    let outcome = admin.write(method, &path, None).await?;
    Ok(admin.after(outcome, done, &back))
}

/// GET `.../users/{id}/roles`: direct and effective realm roles, and the ones to assign.
pub async fn roles(admin: Admin, Path((realm, id)): Path<(String, String)>) -> Page {
    let user = admin.get(&user_api(&realm, &id)).await?;
    let mappings = format!("{}/role-mappings/realm", user_api(&realm, &id));
    let direct = admin.get(&mappings).await?;
    let effective = admin.get(&format!("{mappings}/composite")).await?;
    let all = admin
        .get(&format!("{}/roles?first=0&max=1000", realm_path(&realm)))
        .await?;
    let held: Vec<&str> = direct
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["id"].as_str()).collect())
        .unwrap_or_default();
    let available: Vec<&Value> = all
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["id"].as_str().is_some_and(|id| !held.contains(&id)))
                .collect()
        })
        .unwrap_or_default();
    Ok(admin.page(
        "user-roles.html",
        Some(&realm),
        "users",
        json!({ "user": user, "direct": direct, "effective": effective, "available": available, "tab": "roles" }),
    ))
}

/// POST `.../users/{id}/roles`: `action=add|remove`, `role` (a realm role's name).
pub async fn change_role(
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    let p = admin.form(&headers, &body)?;
    let back = admin.realm_url(&realm, &format!("/users/{}/roles", seg(&id)));
    let role = match required(&p, "role", "Role", 255) {
        Ok(r) => r,
        Err(m) => return Ok(admin.back_with_error(&m, &back)),
    };
    let (method, done) = match field(&p, "action") {
        Ok("add") => (Method::POST, "Role assigned."),
        Ok("remove") => (Method::DELETE, "Role removed."),
        _ => return Ok(admin.back_with_error("Choose to assign or remove.", &back)),
    };
    let path = format!("{}/role-mappings/realm", user_api(&realm, &id));
    let outcome = admin
        .write(method, &path, Some(json!([{ "name": role }])))
        .await?;
    Ok(admin.after(outcome, done, &back))
}

/// GET `.../users/{id}/sessions`.
pub async fn sessions(admin: Admin, Path((realm, id)): Path<(String, String)>) -> Page {
    let user = admin.get(&user_api(&realm, &id)).await?;
    let ctx = admin.authorize(&realm, Action::ViewUsers).await?;
    let list = admin
        .store()
        .user_sessions_of_user(&id)
        .await
        .map_err(|_| admin.internal())?;
    let now = crate::oidc::http::now_ms();
    let rows: Vec<Value> = list
        .iter()
        .filter(|s| crate::oidc::issue::session_alive(&ctx.realm, s, now))
        .map(|s| {
            json!({
                "id": s.id,
                "ip": s.ip_address,
                "started": time_ms(s.started),
                "last": time_ms(s.last_refresh),
            })
        })
        .collect();
    Ok(admin.page(
        "user-sessions.html",
        Some(&realm),
        "users",
        json!({ "user": user, "sessions": rows, "tab": "sessions" }),
    ))
}

/// POST `.../users/{id}/sessions`: sign out one session (`session`).
pub async fn end_session(
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    let p = admin.form(&headers, &body)?;
    let back = admin.realm_url(&realm, &format!("/users/{}/sessions", seg(&id)));
    let sid = match required(&p, "session", "Session", 128) {
        Ok(s) => s,
        Err(m) => return Ok(admin.back_with_error(&m, &back)),
    };
    let ended = super::sessions::sign_out(&admin, &realm, sid, Some(&id)).await?;
    Ok(admin.after(ended, "Session signed out.", &back))
}
