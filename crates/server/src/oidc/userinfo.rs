//! UserInfo (OIDC Core §5.3), token introspection (RFC 7662) and revocation (RFC 7009).

use crate::app::{AppState, enabled_realm};
use crate::error::internal_any;
use crate::events::{self, Event};
use crate::oidc::credentials;
use crate::oidc::http::{self, now_ms};
use crate::oidc::issue::{self, ActiveToken};
use anyhow::Result;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use portcullis_model::events::EventType;
use portcullis_model::records::RealmRecord;
use portcullis_oidc::claims::{self, TokenInput};
use portcullis_oidc::jose::Algorithm;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;

fn bearer_error(realm: &str, status: StatusCode, error: Option<(&str, &str)>) -> Response {
    let mut challenge = format!("Bearer realm=\"{realm}\"");
    let body = match error {
        Some((code, description)) => {
            challenge.push_str(&format!(
                ", error=\"{code}\", error_description=\"{description}\""
            ));
            json!({"error": code, "error_description": description})
        }
        None => json!({"error": "invalid_request", "error_description": "Missing token"}),
    };
    let mut resp = http::json(status, body);
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// The data claims for an active token are built from, with the scopes its session holds.
async fn token_input_parts(
    s: &AppState,
    t: &ActiveToken,
) -> Result<Option<(portcullis_oidc::scopes::Granted, issue::ClaimData)>> {
    let scope_text = match &t.user_session {
        Some(us) => match s.store.client_session_for(&us.id, &t.client.id).await? {
            Some(cs) => cs.scope,
            None => return Ok(None),
        },
        None => t
            .claims
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    };
    let Ok(granted) = issue::grant_scopes(s, &t.client, &scope_text, None).await? else {
        return Ok(None);
    };
    let data = issue::claim_data(s, &t.client, &t.user, &granted).await?;
    Ok(Some((granted, data)))
}

fn input<'a>(
    realm: &'a RealmRecord,
    issuer: &'a str,
    t: &'a ActiveToken,
    granted: &'a portcullis_oidc::scopes::Granted,
    data: &'a issue::ClaimData,
    notes: &'a BTreeMap<String, String>,
) -> TokenInput<'a> {
    let c = &t.claims;
    TokenInput {
        issuer,
        realm,
        client: &t.client,
        user: &t.user,
        user_attributes: &data.source.attributes,
        group_attributes: &data.source.group_attributes,
        effective_roles: data.effective_roles(),
        client_ids_by_uuid: &data.client_ids_by_uuid,
        direct_groups: &data.source.direct_groups,
        mappers: &data.mappers,
        granted_scope: &granted.token_scope,
        session_id: c.get("sid").and_then(Value::as_str).unwrap_or(""),
        session_notes: notes,
        auth_time_s: t
            .user_session
            .as_ref()
            .map(|u| u.auth_time_s)
            .or_else(|| c.get("auth_time").and_then(Value::as_i64))
            .unwrap_or(0),
        nonce: None,
        acr: c.get("acr").and_then(Value::as_str).unwrap_or("1"),
        now_s: c.get("iat").and_then(Value::as_i64).unwrap_or(0),
        access_lifespan_s: 0,
        jti: c.get("jti").and_then(Value::as_str).unwrap_or(""),
    }
}

/// GET or POST `/realms/{realm}/protocol/openid-connect/userinfo`.
pub async fn userinfo(
    State(s): State<AppState>,
    Path(realm_name): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let realm = match enabled_realm(&s, &realm_name).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let form_token = if method == Method::POST && !body.is_empty() {
        match http::form(&headers, &body) {
            Ok(p) => p.one("access_token").ok().flatten().map(str::to_owned),
            Err(resp) => return resp,
        }
    } else {
        None
    };
    let token = match (http::bearer(&headers), form_token) {
        (Some(_), Some(_)) => {
            return bearer_error(
                &realm.name,
                StatusCode::BAD_REQUEST,
                Some(("invalid_request", "Token sent in more than one way")),
            );
        }
        (Some(t), None) => t.to_owned(),
        (None, Some(t)) => t,
        (None, None) => return bearer_error(&realm.name, StatusCode::UNAUTHORIZED, None),
    };
    let ip = http::client_address(&s, &headers).or_else(|| Some(peer.ip().to_string()));
    match userinfo_inner(&s, &realm, &headers, &token, ip.as_deref()).await {
        Ok(r) => r,
        Err(e) => internal_any(e),
    }
}

async fn userinfo_inner(
    s: &AppState,
    realm: &RealmRecord,
    headers: &HeaderMap,
    token: &str,
    ip: Option<&str>,
) -> Result<Response> {
    let issuer = crate::oidc::urls(s, headers, &realm.name).issuer;
    let keys = s.keys.get(&s.store, realm).await?;
    let invalid = || {
        bearer_error(
            &realm.name,
            StatusCode::UNAUTHORIZED,
            Some(("invalid_token", "Token verification failed")),
        )
    };
    let t = match issue::check_access_token(s, realm, &keys, &issuer, token).await? {
        Ok(t) => t,
        Err(why) => {
            tracing::debug!(reason = ?why, "userinfo: token refused");
            let event = Event::new(EventType::UserInfoRequest)
                .ip(ip)
                .error("invalid_token");
            events::emit(s, realm, event).await;
            return Ok(invalid());
        }
    };
    let mut event = Event::new(EventType::UserInfoRequest)
        .client(&t.client.client_id)
        .user(&t.user.id)
        .ip(ip)
        .detail("auth_method", "validate_access_token");
    if let Some(us) = &t.user_session {
        event = event.session(&us.id);
    }
    events::emit(s, realm, event).await;
    let has_openid = t
        .claims
        .get("scope")
        .and_then(Value::as_str)
        .is_some_and(|sc| sc.split_ascii_whitespace().any(|w| w == "openid"));
    if !has_openid {
        return Ok(bearer_error(
            &realm.name,
            StatusCode::FORBIDDEN,
            Some(("insufficient_scope", "Missing openid scope")),
        ));
    }
    let Some((granted, data)) = token_input_parts(s, &t).await? else {
        return Ok(invalid());
    };
    let notes = BTreeMap::new();
    let body = claims::userinfo(&input(realm, &issuer, &t, &granted, &data, &notes));
    let mut resp = http::json(StatusCode::OK, body);
    cors_for(&mut resp, headers, &t.client);
    Ok(resp)
}

fn cors_for(resp: &mut Response, headers: &HeaderMap, c: &portcullis_model::records::ClientRecord) {
    let allowed = portcullis_model::redirect::allowed_origins(
        c.web_origins(),
        c.redirect_uris(),
        c.repr.root_url.as_deref(),
    );
    http::cors(resp, http::origin(headers), &allowed);
}

/// POST `/realms/{realm}/protocol/openid-connect/token/introspect`.
pub async fn introspect(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let realm = match enabled_realm(&s, &realm).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let params = match http::form(&headers, &body) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let _caller = match credentials::authenticate_client(&s, &realm, &headers, &params).await {
        Ok(Ok(c)) => c,
        Ok(Err((e, basic))) => return http::oauth_error(&e, basic),
        Err(e) => return internal_any(e),
    };
    let token = match params.one("token") {
        Ok(Some(t)) => t,
        Ok(None) => {
            return http::oauth_error(
                &portcullis_oidc::OAuthError::missing_parameter("token"),
                false,
            );
        }
        Err(e) => return http::oauth_error(&e, false),
    };
    match introspect_inner(&s, &realm, &headers, token).await {
        Ok(v) => http::json(StatusCode::OK, v),
        Err(e) => internal_any(e),
    }
}

async fn introspect_inner(
    s: &AppState,
    realm: &RealmRecord,
    headers: &HeaderMap,
    token: &str,
) -> Result<Value> {
    let issuer = crate::oidc::urls(s, headers, &realm.name).issuer;
    let keys = s.keys.get(&s.store, realm).await?;
    if let Ok(t) = issue::check_access_token(s, realm, &keys, &issuer, token).await? {
        let Some((granted, data)) = token_input_parts(s, &t).await? else {
            return Ok(claims::inactive_introspection());
        };
        let notes = BTreeMap::new();
        return Ok(claims::introspection(
            &input(realm, &issuer, &t, &granted, &data, &notes),
            &t.claims,
        ));
    }
    // A refresh token of a live session is active too (Keycloak introspects both).
    if let Ok(c) = issue::verify_refresh_token(&keys, &issuer, token)
        && refresh_token_live(s, realm, &c).await?
    {
        let mut out = c.as_object().cloned().unwrap_or_default();
        if let Some(azp) = c.get("azp") {
            out.insert("client_id".into(), azp.clone());
        }
        out.insert("token_type".into(), json!("Refresh"));
        out.insert("active".into(), json!(true));
        return Ok(Value::Object(out));
    }
    Ok(claims::inactive_introspection())
}

/// Is the session of a (verified) refresh token still there with its client?
async fn refresh_token_live(s: &AppState, realm: &RealmRecord, c: &Value) -> Result<bool> {
    let (Some(sid), Some(azp)) = (
        c.get("sid").and_then(Value::as_str),
        c.get("azp").and_then(Value::as_str),
    ) else {
        return Ok(false);
    };
    let Some(us) = s.store.user_session(sid).await? else {
        return Ok(false);
    };
    if !issue::session_alive(realm, &us, now_ms()) {
        return Ok(false);
    }
    let Some(client) = s.caches.client(&s.store, &realm.id, azp).await? else {
        return Ok(false);
    };
    Ok(s.store
        .client_session_for(&us.id, &client.id)
        .await?
        .is_some())
}

/// POST `/realms/{realm}/protocol/openid-connect/revoke`: a refresh token ends its client
/// session; an access token's id is remembered as revoked until it expires. Tokens of other
/// clients and garbage are ignored (200 either way, RFC 7009 §2.2).
pub async fn revoke(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let realm = match enabled_realm(&s, &realm).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let params = match http::form(&headers, &body) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let caller = match credentials::authenticate_client(&s, &realm, &headers, &params).await {
        Ok(Ok(c)) => c,
        Ok(Err((e, basic))) => return http::oauth_error(&e, basic),
        Err(e) => return internal_any(e),
    };
    let token = match params.one("token") {
        Ok(Some(t)) => t,
        Ok(None) => {
            return http::oauth_error(
                &portcullis_oidc::OAuthError::missing_parameter("token"),
                false,
            );
        }
        Err(e) => return http::oauth_error(&e, false),
    };
    let done = revoke_inner(&s, &realm, &headers, &caller.client, token).await;
    match done {
        Ok(()) => {
            let ip = http::client_address(&s, &headers).or_else(|| Some(peer.ip().to_string()));
            let event = Event::new(EventType::RevokeGrant)
                .client(&caller.client.client_id)
                .ip(ip.as_deref());
            events::emit(&s, &realm, event).await;
            let mut resp = http::json(StatusCode::OK, json!({}));
            cors_for(&mut resp, &headers, &caller.client);
            resp
        }
        Err(e) => internal_any(e),
    }
}

async fn revoke_inner(
    s: &AppState,
    realm: &RealmRecord,
    headers: &HeaderMap,
    client: &portcullis_model::records::ClientRecord,
    token: &str,
) -> Result<()> {
    let issuer = crate::oidc::urls(s, headers, &realm.name).issuer;
    let keys = s.keys.get(&s.store, realm).await?;
    if let Ok(v) = keys.verifier.verify(token, &[Algorithm::HS512]) {
        let c = v.claims;
        if c.get("iss").and_then(Value::as_str) == Some(issuer.as_str())
            && c.get("azp").and_then(Value::as_str) == Some(client.client_id.as_str())
            && let Some(sid) = c.get("sid").and_then(Value::as_str)
            && let Some(cs) = s.store.client_session_for(sid, &client.id).await?
        {
            s.store.delete_client_session(&cs.id).await?;
        }
        return Ok(());
    }
    if let Ok(v) = keys.verifier.verify(token, issue::ASYMMETRIC) {
        let c = v.claims;
        if c.get("iss").and_then(Value::as_str) == Some(issuer.as_str())
            && c.get("azp").and_then(Value::as_str) == Some(client.client_id.as_str())
            && let (Some(jti), Some(exp)) = (
                c.get("jti").and_then(Value::as_str),
                c.get("exp").and_then(Value::as_i64),
            )
        {
            s.store
                .revoke_token_id(&realm.id, jti, exp.saturating_mul(1000))
                .await?;
        }
    }
    Ok(())
}
