//! Clients: list (paged, search by clientId), detail (enabled, redirect URIs, web origins),
//! the secret (shown on request, regenerated after a confirmation page) and protocol mappers.

use super::{PAGE_SIZE, Page, checked, field, first, pager};
use crate::admin::auth::Action;
use crate::console::Admin;
use crate::console::api::{realm_path, seg};
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, Method};
use serde_json::{Value, json};
use std::collections::HashMap;

/// At most this many redirect URIs or web origins in one form.
const MAX_URIS: usize = 100;

fn client_api(realm: &str, id: &str) -> String {
    format!("{}/clients/{}", realm_path(realm), seg(id))
}

/// GET `.../clients?search=&first=`.
pub async fn list(
    admin: Admin,
    Path(realm): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let first = first(&admin, &q)?;
    let search = q.get("search").map(|s| s.trim()).unwrap_or("");
    if search.chars().count() > 255 {
        return Err(admin.bad_input("The search text is longer than 255 characters."));
    }
    let (filter, search_query) = if search.is_empty() {
        (String::new(), String::new())
    } else {
        let enc = |pairs: &[(&str, &str)]| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
        };
        (
            enc(&[("clientId", search), ("search", "true")]),
            enc(&[("search", search)]),
        )
    };
    let mut clients = admin
        .get(&format!(
            "{}/clients?{filter}&first={first}&max={}",
            realm_path(&realm),
            PAGE_SIZE + 1
        ))
        .await?;
    let rows = clients
        .as_array_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let has_more = rows.len() as i64 > PAGE_SIZE;
    let rows: Vec<Value> = rows.into_iter().take(PAGE_SIZE as usize).collect();
    Ok(admin.page(
        "clients.html",
        Some(&realm),
        "clients",
        json!({ "clients": rows, "search": search, "search_query": search_query, "pager": pager(first, has_more) }),
    ))
}

/// GET `.../clients/{id}`.
pub async fn detail(admin: Admin, Path((realm, id)): Path<(String, String)>) -> Page {
    let client = admin.get(&client_api(&realm, &id)).await?;
    let confidential = !client["publicClient"].as_bool().unwrap_or(false)
        && !client["bearerOnly"].as_bool().unwrap_or(false);
    let secret = if confidential {
        admin
            .get(&format!("{}/client-secret", client_api(&realm, &id)))
            .await?
            .get("value")
            .cloned()
    } else {
        None
    };
    // Protocol mappers: not in the admin API yet; read after the same check (view-clients).
    admin.authorize(&realm, Action::ViewClients).await?;
    let uuid = client["id"].as_str().unwrap_or_default().to_owned();
    let mappers: Vec<Value> = admin
        .store()
        .mappers_of(std::slice::from_ref(&uuid))
        .await
        .map_err(|_| admin.internal())?
        .into_iter()
        .map(|m| json!({"name": m.name, "type": m.mapper_type, "protocol": m.protocol, "config": m.config}))
        .collect();
    let lines = |k: &str| {
        client[k]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    };
    Ok(admin.page(
        "client.html",
        Some(&realm),
        "clients",
        json!({ "client": client, "confidential": confidential, "secret": secret, "mappers": mappers, "redirect_uris": lines("redirectUris"), "web_origins": lines("webOrigins") }),
    ))
}

/// One entry per non-empty line; no control characters, at most [`MAX_URIS`] of 2048 chars.
fn uri_lines(text: &str, label: &str) -> Result<Vec<String>, String> {
    let list: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if list.len() > MAX_URIS {
        return Err(format!("At most {MAX_URIS} {label} are accepted."));
    }
    if let Some(bad) = list
        .iter()
        .find(|l| l.len() > 2048 || l.chars().any(|c| c.is_control() || c == ' '))
    {
        return Err(format!(
            "{label}: \"{}\" is not a valid entry (no spaces, at most 2048 characters).",
            bad.chars().take(80).collect::<String>()
        ));
    }
    Ok(list)
}

/// POST `.../clients/{id}`: enabled, redirect URIs, web origins.
pub async fn update(
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    let p = admin.form(&headers, &body)?;
    let back = admin.realm_url(&realm, &format!("/clients/{}", seg(&id)));
    let parsed = field(&p, "redirectUris")
        .and_then(|t| uri_lines(t, "Redirect URIs"))
        .and_then(|r| {
            field(&p, "webOrigins")
                .and_then(|t| uri_lines(t, "Web origins"))
                .map(|w| (r, w))
        });
    let (redirects, origins) = match parsed {
        Ok(v) => v,
        Err(m) => return Ok(admin.back_with_error(&m, &back)),
    };
    let rep = json!({
        "enabled": checked(&p, "enabled"),
        "redirectUris": redirects,
        "webOrigins": origins,
    });
    let outcome = admin
        .write(Method::PUT, &client_api(&realm, &id), Some(rep))
        .await?;
    Ok(admin.after(outcome, "Client saved.", &back))
}

/// GET `.../clients/{id}/secret`: confirm the regeneration.
pub async fn confirm_secret(admin: Admin, Path((realm, id)): Path<(String, String)>) -> Page {
    let client = admin.get(&client_api(&realm, &id)).await?;
    Ok(admin.page(
        "client-secret.html",
        Some(&realm),
        "clients",
        json!({ "client": client }),
    ))
}

/// POST `.../clients/{id}/secret`: regenerate, back to the client.
pub async fn regenerate_secret(
    admin: Admin,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    admin.form(&headers, &body)?;
    let back = admin.realm_url(&realm, &format!("/clients/{}", seg(&id)));
    let outcome = admin
        .write(
            Method::POST,
            &format!("{}/client-secret", client_api(&realm, &id)),
            None,
        )
        .await?;
    Ok(admin.after(
        outcome,
        "A new secret was generated; the old one no longer works.",
        &back,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_lines_are_trimmed_and_checked() {
        assert_eq!(
            uri_lines(" https://a/*\r\n\n+\n", "x").unwrap(),
            ["https://a/*", "+"]
        );
        assert!(uri_lines("https://a b", "x").is_err());
        assert!(uri_lines(&"a\n".repeat(101), "x").is_err());
    }
}
