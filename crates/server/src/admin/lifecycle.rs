//! Account lifecycle endpoints of the admin API: `POST /testSMTPConnection` (manage-realm),
//! `PUT /users/{id}/execute-actions-email` and `PUT /users/{id}/send-verify-email`
//! (manage-users), with Keycloak's answers.

use crate::admin::auth::{Action, role};
use crate::admin::http::{self, Answer};
use crate::admin::params::Query;
use crate::admin::{bad_param, context, db, users};
use crate::app::AppState;
use crate::events::{self, Event};
use crate::mail::{self, MailKind, SmtpSettings};
use crate::oidc::action_token::{self, ActionToken};
use crate::oidc::http::now_s;
use crate::oidc::lifecycle::SUPPORTED_ACTIONS;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use portcullis_model::events::EventType;
use portcullis_model::records::new_id;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What Keycloak's admin console sends instead of a stored SMTP password it does not show.
const MASKED_SECRET: &str = "**********";

fn server_error(message: &str) -> axum::response::Response {
    http::json(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"errorMessage": message}),
    )
}

/// POST `/testSMTPConnection` with the `smtpServer` map to try: a test mail to the calling
/// administrator's address. 204, or 500 with `errorMessage`.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/testSMTPConnection",
    tag = "realms",
    params(crate::admin::openapi::RealmP),
    request_body(content = BTreeMap<String, String>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
        (status = 500, description = "The settings are unusable or the mail could not be sent", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn test_smtp_connection(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewRealm).await?;
    if !c.access.has(role::MANAGE_REALM) {
        return Err(http::forbidden());
    }
    let raw: BTreeMap<String, Value> = http::read_json(&headers, body).await?;
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in raw {
        let v = match v {
            Value::String(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Null => continue,
            _ => return Err(http::bad_request(&format!("Invalid value for '{k}'"))),
        };
        map.insert(k, v);
    }
    if map.get("password").map(String::as_str) == Some(MASKED_SECRET) {
        match c
            .realm
            .settings
            .smtp_server
            .as_ref()
            .and_then(|m| m.get("password"))
        {
            Some(stored) => map.insert("password".into(), stored.clone()),
            None => map.remove("password"),
        };
    }
    let settings = SmtpSettings::from_map(&map).map_err(|e| server_error(&e))?;
    let Some(to) = c.caller.user.email.clone() else {
        return Err(server_error("Logged in user does not have an e-mail."));
    };
    let m = mail::render(&s, &c.realm, MailKind::Test, &to, "", 0, &[])
        .map_err(crate::error::internal_any)?;
    if !mail::send_logged(&settings, &c.realm.name, &m).await {
        return Err(server_error("Failed to send email"));
    }
    http::no_content()
}

/// PUT `/users/{id}/execute-actions-email?lifespan=&client_id=&redirect_uri=` with a JSON
/// array of required actions: a mail whose link runs them. 204; 400 for unknown actions, a
/// user without email or disabled, an unknown client or a redirect URI it does not allow;
/// 500 when the mail cannot be sent.
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/users/{id}/execute-actions-email",
    tag = "users",
    params(crate::admin::openapi::IdP, crate::admin::openapi::MailLink),
    request_body(content = Vec<String>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
        (status = 500, description = "The mail could not be sent", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn execute_actions_email(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageUsers).await?;
    let actions: Vec<String> = http::read_json(&headers, body).await?;
    let user = users::find(&s, &c, &id).await?.user;
    if actions.is_empty()
        || actions
            .iter()
            .any(|a| !SUPPORTED_ACTIONS.contains(&a.as_str()))
    {
        return Err(http::bad_request("Provided invalid required actions"));
    }
    send_link(&s, &c, &headers, raw.as_deref(), &user, actions).await
}

/// PUT `/users/{id}/send-verify-email?lifespan=&client_id=&redirect_uri=`: a verification
/// mail whose link marks the address verified. Same answers as `execute-actions-email`.
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/users/{id}/send-verify-email",
    tag = "users",
    params(crate::admin::openapi::IdP, crate::admin::openapi::MailLink),
    responses(
        (status = 204, description = "Done"),
        (status = 500, description = "The mail could not be sent", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn send_verify_email(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageUsers).await?;
    let user = users::find(&s, &c, &id).await?.user;
    send_link(&s, &c, &headers, raw.as_deref(), &user, Vec::new()).await
}

/// Mail `user` a link made by an administrator: `execute-actions` for `actions`, or
/// `verify-email` when there are none.
async fn send_link(
    s: &AppState,
    c: &crate::admin::Context,
    headers: &HeaderMap,
    raw: Option<&str>,
    user: &portcullis_model::records::UserRecord,
    actions: Vec<String>,
) -> Answer {
    let verify = actions.is_empty();
    let typ = if verify {
        action_token::VERIFY_EMAIL
    } else {
        action_token::EXECUTE_ACTIONS
    };
    let failed = if verify {
        "Failed to send verify email"
    } else {
        "Failed to send execute actions email"
    };
    let q = Query::parse(raw);
    let lifespan = match q.text("lifespan").map_err(bad_param)? {
        None => action_token::lifespan(&c.realm, typ, true),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n > 0 => n,
            _ => return Err(http::bad_request("Invalid lifespan")),
        },
    };
    let client_id = q.text("client_id").map_err(bad_param)?.map(str::to_owned);
    let redirect_uri = q
        .text("redirect_uri")
        .map_err(bad_param)?
        .map(str::to_owned);
    if !user.enabled {
        return Err(http::bad_request("User is disabled"));
    }
    let Some(email) = user.email.clone() else {
        return Err(http::bad_request("User email missing"));
    };
    if redirect_uri.is_some() && client_id.is_none() {
        return Err(http::bad_request("Client id missing"));
    }
    let client_id =
        client_id.unwrap_or_else(|| portcullis_model::defaults::ACCOUNT_CLIENT.to_owned());
    let client = match db(s.store.client_by_client_id(&c.realm.id, &client_id).await)? {
        Some(cl) => cl,
        None => return Err(http::bad_request("Client doesn't exist")),
    };
    if !client.enabled() {
        return Err(http::bad_request("Client is not enabled"));
    }
    let redirect_uri = match redirect_uri {
        None => None,
        Some(uri) => match portcullis_model::redirect::match_redirect_uri(
            client.redirect_uris(),
            client.repr.root_url.as_deref(),
            &uri,
        ) {
            Some(_) => Some(uri),
            None => return Err(http::bad_request("Invalid redirect uri.")),
        },
    };
    let Some(settings) = SmtpSettings::of_realm(&c.realm).ok().flatten() else {
        tracing::warn!(realm = %c.realm.name, "cannot send email: no usable SMTP settings");
        return Err(server_error(failed));
    };
    let issuer = crate::oidc::authorize::Frontend::new(s, headers, &c.realm.name)
        .urls
        .issuer;
    let token = ActionToken {
        jti: new_id(),
        typ: typ.to_owned(),
        sub: user.id.clone(),
        exp: now_s().saturating_add(lifespan),
        azp: Some(client.client_id.clone()),
        email: verify.then(|| email.clone()),
        actions: actions.clone(),
        redirect_uri,
    };
    let key = action_token::issue(s, &c.realm, &issuer, &token)
        .await
        .map_err(crate::error::internal_any)?;
    let link = action_token::link(&issuer, &key, Some(&client.client_id), None);
    let kind = if verify {
        MailKind::EmailVerification
    } else {
        MailKind::ExecuteActions
    };
    let m = mail::render(s, &c.realm, kind, &email, &link, lifespan, &actions)
        .map_err(crate::error::internal_any)?;
    let sent = mail::send_logged(&settings, &c.realm.name, &m).await;
    let kind = if verify {
        EventType::SendVerifyEmail
    } else {
        EventType::ExecuteActions
    };
    let mut event = Event::new(kind)
        .client(&client.client_id)
        .user(&user.id)
        .detail("email", email.as_str());
    if !verify {
        event = event.detail("actions", actions.join(","));
    }
    if !sent {
        event = event.error("email_send_failed");
    }
    events::emit(s, &c.realm, event).await;
    if !sent {
        return Err(server_error(failed));
    }
    http::no_content()
}
