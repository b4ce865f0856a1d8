//! The token endpoint (RFC 6749 §3.2): `authorization_code`, `refresh_token`,
//! `client_credentials` and `password` grants, with Keycloak's response fields and error texts.

use crate::app::{AppState, enabled_realm};
use crate::error::internal_any;
use crate::events::{self, Event};
use crate::oidc::brute_force;
use crate::oidc::credentials::{self, AuthedClient, PasswordCheck};
use crate::oidc::http::{self, now_ms, sha256_b64};
use crate::oidc::issue::{self, SessionRef};
use crate::oidc::keys::RealmKeys;
use anyhow::Result;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portcullis_model::events::EventType;
use portcullis_model::records::{ClientRecord, RealmRecord};
use portcullis_oidc::OAuthError;
use portcullis_oidc::authorize::Params;
use portcullis_oidc::pkce::{self, ChallengeMethod};
use portcullis_store::{CodeRedemption, RefreshOutcome};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

type Outcome = std::result::Result<Value, OAuthError>;

pub async fn token(
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
    let ip = http::client_address(&s, &headers).or_else(|| Some(peer.ip().to_string()));
    let grant_type = params.one("grant_type").ok().flatten().unwrap_or("");
    let authed = match credentials::authenticate_client(&s, &realm, &headers, &params).await {
        Ok(Ok(c)) => c,
        Ok(Err((e, basic))) => {
            if let Some(kind) = grant_event(grant_type) {
                let mut ev = Event::new(kind)
                    .ip(ip.as_deref())
                    .detail("grant_type", grant_type)
                    .error("invalid_client_credentials");
                ev.client_id = params.one("client_id").ok().flatten().map(str::to_owned);
                events::emit(&s, &realm, ev).await;
            }
            return http::oauth_error(&e, basic);
        }
        Err(e) => return internal_any(e),
    };
    let mut ev = grant_event(grant_type).map(|kind| {
        Event::new(kind)
            .client(&authed.client.client_id)
            .ip(ip.as_deref())
            .detail("grant_type", grant_type)
            .detail(
                "client_auth_method",
                if authed.client.public_client() {
                    "none"
                } else {
                    "client-secret"
                },
            )
    });
    let outcome = grant(&s, &realm, &authed, &params, &headers, ip, ev.as_mut()).await;
    if let (Some(mut ev), Ok(result)) = (ev, &outcome) {
        if let Err(e) = result
            && ev.error.is_none()
        {
            ev.error = Some(grant_error(ev.kind, e).to_owned());
        }
        events::emit(&s, &realm, ev).await;
    }
    let mut resp = match outcome {
        Ok(Ok(body)) => http::json(StatusCode::OK, body),
        Ok(Err(e)) => {
            let mut r = http::oauth_error(&e, authed.used_basic);
            // Keycloak answers a failed password grant with 401 (python-keycloak keys on it).
            if e.description == OAuthError::invalid_user_credentials().description {
                *r.status_mut() = StatusCode::UNAUTHORIZED;
            }
            r
        }
        Err(e) => return internal_any(e),
    };
    let c = &authed.client;
    let allowed = portcullis_model::redirect::allowed_origins(
        c.web_origins(),
        c.redirect_uris(),
        c.repr.root_url.as_deref(),
    );
    http::cors(&mut resp, http::origin(&headers), &allowed);
    resp
}

/// The event a grant type records; none for unknown grant types.
fn grant_event(grant_type: &str) -> Option<EventType> {
    match grant_type {
        "authorization_code" => Some(EventType::CodeToToken),
        "refresh_token" => Some(EventType::RefreshToken),
        "client_credentials" => Some(EventType::ClientLogin),
        "password" => Some(EventType::Login),
        _ => None,
    }
}

/// The event error of a refused grant, in Keycloak's terms, when the grant did not name one.
fn grant_error(kind: EventType, e: &OAuthError) -> &'static str {
    match (e.code.as_str(), kind) {
        ("invalid_grant", EventType::CodeToToken) => "invalid_code",
        ("invalid_grant", EventType::RefreshToken) => "invalid_token",
        ("invalid_grant", EventType::Login) => "invalid_user_credentials",
        ("invalid_grant", _) => "invalid_request",
        ("unauthorized_client", _) => "not_allowed",
        ("invalid_scope", _) => "invalid_scope",
        ("invalid_client", _) => "invalid_client_credentials",
        _ => "invalid_request",
    }
}

/// Note who a grant concerns on its event (when there is one).
fn note_user(ev: &mut Option<&mut Event>, user_id: &str, session_id: Option<&str>) {
    if let Some(ev) = ev {
        ev.user_id = Some(user_id.to_owned());
        ev.session_id = session_id.map(str::to_owned);
    }
}

async fn grant(
    s: &AppState,
    realm: &RealmRecord,
    authed: &AuthedClient,
    params: &Params,
    headers: &HeaderMap,
    ip: Option<String>,
    mut ev: Option<&mut Event>,
) -> Result<Outcome> {
    let client = &authed.client;
    let grant_type = match params.one("grant_type") {
        Ok(Some(g)) => g,
        Ok(None) => return Ok(Err(OAuthError::missing_parameter("grant_type"))),
        Err(e) => return Ok(Err(e)),
    };
    if client.bearer_only() {
        return Ok(Err(OAuthError::unauthorized_client(
            "Bearer-only not allowed",
        )));
    }
    let issuer = crate::oidc::urls(s, headers, &realm.name).issuer;
    let keys = issue::keys_for(s, realm, client).await?;
    let g = Grant {
        s,
        realm,
        client,
        params,
        issuer: &issuer,
        keys: &keys,
        ip,
    };
    match grant_type {
        "authorization_code" => authorization_code(&g, &mut ev).await,
        "refresh_token" => refresh(&g, &mut ev).await,
        "client_credentials" => client_credentials(&g, &mut ev).await,
        "password" => password(&g, &mut ev).await,
        _ => Ok(Err(OAuthError::unsupported_grant_type(
            "Unsupported grant_type",
        ))),
    }
}

/// What every grant works with.
struct Grant<'a> {
    s: &'a AppState,
    realm: &'a RealmRecord,
    client: &'a ClientRecord,
    params: &'a Params,
    issuer: &'a str,
    keys: &'a Arc<RealmKeys>,
    /// The caller's address (forwarded when trusted).
    ip: Option<String>,
}

fn param<'a>(params: &'a Params, name: &str) -> std::result::Result<&'a str, OAuthError> {
    params
        .one(name)?
        .ok_or_else(|| OAuthError::missing_parameter(name))
}

macro_rules! try_oauth {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        }
    };
}

async fn authorization_code(g: &Grant<'_>, ev: &mut Option<&mut Event>) -> Result<Outcome> {
    let Grant {
        s,
        realm,
        client,
        params,
        issuer,
        keys,
        ..
    } = *g;
    let code = try_oauth!(param(params, "code"));
    let redirect_uri = try_oauth!(params.one("redirect_uri"));
    let verifier = try_oauth!(params.one("code_verifier"));
    let now = now_ms();
    let c = match s.store.redeem_code(&sha256_b64(code), now).await? {
        CodeRedemption::Redeemed(c) => c,
        CodeRedemption::Replayed(c) => {
            // CODE-2: a replay revokes what the first redemption issued.
            s.store.delete_client_session(&c.client_session_id).await?;
            tracing::warn!(
                realm = %realm.name,
                client = %client.client_id,
                "authorization code replayed; its client session was revoked"
            );
            return Ok(Err(
                OAuthError::code_not_valid().with_detail("code replayed")
            ));
        }
        CodeRedemption::Expired => {
            return Ok(Err(OAuthError::code_not_valid().with_detail("code expired")));
        }
        CodeRedemption::Unknown => return Ok(Err(OAuthError::code_not_valid())),
    };
    if c.realm_id != realm.id || c.client_id != client.id {
        return Ok(Err(
            OAuthError::code_not_valid().with_detail("code issued to another client")
        ));
    }
    if redirect_uri != Some(c.redirect_uri.as_str()) {
        return Ok(Err(OAuthError::invalid_grant("Incorrect redirect_uri")));
    }
    match (&c.code_challenge, verifier) {
        (Some(challenge), v) => {
            let method = match c.code_challenge_method.as_deref() {
                Some("S256") => ChallengeMethod::S256,
                _ => ChallengeMethod::Plain,
            };
            try_oauth!(pkce::verify(method, challenge, v));
        }
        (None, Some(_)) => {
            // PKCE-2: a verifier for a code requested without a challenge is a downgrade.
            return Ok(Err(OAuthError::invalid_grant(
                "PKCE verification failed: Code challenge not specified in the authorization request",
            )));
        }
        (None, None) => {}
    }
    if let Some(ev) = ev {
        ev.details
            .insert("code_id".into(), c.client_session_id.clone());
        ev.details
            .insert("redirect_uri".into(), c.redirect_uri.clone());
        ev.session_id = Some(c.user_session_id.clone());
    }
    let Some(us) = s.store.user_session(&c.user_session_id).await? else {
        return Ok(Err(OAuthError::session_not_active()));
    };
    note_user(ev, &us.user_id, Some(&us.id));
    if !issue::session_alive(realm, &us, now) {
        return Ok(Err(OAuthError::session_not_active()));
    }
    // A concurrent replay of this code may already have revoked the client session (CODE-2):
    // the exchange still answers (exactly one redemption wins, CODE-3), and what it issues is
    // dead on arrival.
    let generation = s
        .store
        .client_session(&c.client_session_id)
        .await?
        .map_or(0, |cs| cs.refresh_generation);
    let Some(user) = s.store.user_by_id(&realm.id, &us.user_id).await? else {
        return Ok(Err(OAuthError::invalid_grant("User not found")));
    };
    if !user.enabled {
        return Ok(Err(OAuthError::account_disabled()));
    }
    let granted = try_oauth!(issue::grant_scopes(s, client, &c.scope, None).await?);
    let acr = if c.acr == "0" { "0" } else { "1" };
    let body = issue::issue_for(
        s,
        keys,
        realm,
        client,
        &user,
        issuer,
        &granted,
        Some(SessionRef {
            user_session: &us,
            generation,
        }),
        c.nonce.as_deref(),
        c.auth_time_s,
        acr,
        &BTreeMap::new(),
    )
    .await?;
    Ok(Ok(body))
}

async fn refresh(g: &Grant<'_>, ev: &mut Option<&mut Event>) -> Result<Outcome> {
    let Grant {
        s,
        realm,
        client,
        params,
        issuer,
        keys,
        ..
    } = *g;
    let token = try_oauth!(param(params, "refresh_token"));
    let requested_scope = try_oauth!(params.one("scope")).unwrap_or("");
    let claims = match issue::verify_refresh_token(keys, issuer, token) {
        Ok(c) => c,
        Err(e) => {
            return Ok(Err(
                OAuthError::invalid_refresh_token().with_detail(e.to_string())
            ));
        }
    };
    let text = |k: &str| claims.get(k).and_then(Value::as_str);
    if text("azp") != Some(client.client_id.as_str()) {
        return Ok(Err(OAuthError::invalid_grant(
            "Invalid refresh token. Token client and authorized client don't match",
        )));
    }
    let (Some(sid), Some(generation)) = (text("sid"), issue::refresh_generation(&claims)) else {
        return Ok(Err(OAuthError::invalid_refresh_token()));
    };
    if let Some(sub) = text("sub") {
        note_user(ev, sub, Some(sid));
    }
    let now = now_ms();
    let Some(us) = s.store.user_session(sid).await? else {
        return Ok(Err(OAuthError::session_not_active()));
    };
    if !issue::session_alive(realm, &us, now) {
        return Ok(Err(OAuthError::session_not_active()));
    }
    let Some(cs) = s.store.client_session_for(&us.id, &client.id).await? else {
        return Ok(Err(OAuthError::session_not_active()));
    };
    let Some(user) = s.store.user_by_id(&realm.id, &us.user_id).await? else {
        return Ok(Err(OAuthError::invalid_grant("User not found")));
    };
    if !user.enabled {
        return Ok(Err(OAuthError::account_disabled()));
    }
    let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or(0);
    let not_before = realm
        .settings
        .not_before
        .unwrap_or(0)
        .max(client.repr.not_before.unwrap_or(0))
        .max(user.not_before);
    if iat < not_before {
        return Ok(Err(OAuthError::invalid_grant("Stale token")));
    }
    let enforce = realm.settings.revoke_refresh_token.unwrap_or(false);
    let max_reuse = realm.settings.refresh_token_max_reuse.unwrap_or(0);
    // Without revokeRefreshToken any refresh token of the client session stays valid, so
    // nothing needs writing: the new token carries the current generation (RFC 6749 §6 lets
    // the server keep issuing from the same grant).
    let outcome = if enforce {
        s.store
            .use_refresh_token(&cs.id, generation, enforce, max_reuse)
            .await?
    } else if generation <= cs.refresh_generation {
        RefreshOutcome::Rotated {
            new_generation: cs.refresh_generation,
        }
    } else {
        RefreshOutcome::Stale
    };
    let new_generation = match outcome {
        RefreshOutcome::Rotated { new_generation } => new_generation,
        RefreshOutcome::Stale => {
            if enforce {
                // RT-3: reuse of a rotated token revokes the whole family.
                s.store.delete_client_session(&cs.id).await?;
                tracing::warn!(
                    realm = %realm.name,
                    client = %client.client_id,
                    "refresh token reused after rotation; client session revoked"
                );
            }
            return Ok(Err(OAuthError::invalid_grant("Stale token")));
        }
        RefreshOutcome::SessionGone => return Ok(Err(OAuthError::session_not_active())),
    };
    let mut us = us;
    if issue::needs_touch(realm, &us, now) {
        s.store.touch_user_session(&us.id, now).await?;
        us.last_refresh = us.last_refresh.max(now);
    }
    let granted_before: Vec<String> = cs
        .scope
        .split_ascii_whitespace()
        .map(str::to_owned)
        .collect();
    let granted =
        try_oauth!(issue::grant_scopes(s, client, requested_scope, Some(&granted_before)).await?);
    let body = issue::issue_for(
        s,
        keys,
        realm,
        client,
        &user,
        issuer,
        &granted,
        Some(SessionRef {
            user_session: &us,
            generation: new_generation,
        }),
        None,
        us.auth_time_s,
        "1",
        &BTreeMap::new(),
    )
    .await?;
    Ok(Ok(body))
}

async fn client_credentials(g: &Grant<'_>, ev: &mut Option<&mut Event>) -> Result<Outcome> {
    let Grant {
        s,
        realm,
        client,
        params,
        issuer,
        keys,
        ..
    } = *g;
    let ip = g.ip.clone();
    if client.public_client() {
        return Ok(Err(OAuthError::unauthorized_client(
            "Public client not allowed to retrieve service account",
        )));
    }
    if !client.service_accounts_enabled() {
        return Ok(Err(OAuthError::unauthorized_client(
            "Client not enabled to retrieve service account",
        )));
    }
    let scope = try_oauth!(params.one("scope")).unwrap_or("");
    let Some(user) = issue::service_account(s, realm, &client.id).await? else {
        return Ok(Err(OAuthError::unauthorized_client(
            "Client not enabled to retrieve service account",
        )
        .with_detail("no service-account user")));
    };
    note_user(ev, &user.id, None);
    if !user.enabled {
        return Ok(Err(OAuthError::invalid_grant("User is disabled")));
    }
    let granted = try_oauth!(issue::grant_scopes(s, client, scope, None).await?);
    let addr = ip.unwrap_or_default();
    let notes = BTreeMap::from([
        ("client_id".to_string(), client.client_id.clone()),
        ("clientHost".to_string(), addr.clone()),
        ("clientAddress".to_string(), addr),
    ]);
    let body = issue::issue_for(
        s,
        keys,
        realm,
        client,
        &user,
        issuer,
        &granted,
        None,
        None,
        http::now_s(),
        "1",
        &notes,
    )
    .await?;
    Ok(Ok(body))
}

async fn password(g: &Grant<'_>, ev: &mut Option<&mut Event>) -> Result<Outcome> {
    let Grant {
        s,
        realm,
        client,
        params,
        issuer,
        keys,
        ..
    } = *g;
    let ip = g.ip.clone();
    if !client.repr.direct_access_grants_enabled.unwrap_or(false) {
        return Ok(Err(OAuthError::unauthorized_client(
            "Client not allowed for direct access grants",
        )));
    }
    let username = try_oauth!(param(params, "username"));
    let password = try_oauth!(param(params, "password"));
    let scope = try_oauth!(params.one("scope")).unwrap_or("");
    let granted = try_oauth!(issue::grant_scopes(s, client, scope, None).await?);
    if let Some(ev) = ev {
        let shown: String = username.chars().take(255).collect();
        ev.details.insert("username".into(), shown);
        ev.details
            .insert("auth_method".into(), "openid-connect".into());
    }
    let checked = brute_force::check_password(s, realm, username, password, ip.as_deref()).await?;
    if let (Some(r), Some(ev)) = (checked.refusal(), ev.as_deref_mut()) {
        ev.user_id = r.user_id;
        ev.error = Some(r.error.to_owned());
    }
    let user = match checked {
        PasswordCheck::Valid(u) => u,
        PasswordCheck::Invalid(_) => return Ok(Err(OAuthError::invalid_user_credentials())),
        PasswordCheck::Disabled(_) => return Ok(Err(OAuthError::account_disabled())),
    };
    note_user(ev, &user.id, None);
    // A user with a one-time-code credential sends the current code as `totp` (Keycloak's
    // direct grant); without it the answer is the same as for a wrong password.
    if !crate::oidc::lifecycle::otp_keys(s, &user.id)
        .await?
        .is_empty()
    {
        let code = params.one("totp").ok().flatten().unwrap_or("");
        if !crate::oidc::lifecycle::otp_valid(s, realm, &user.id, code).await? {
            brute_force::record_failure(s, realm, &user, ip.as_deref()).await?;
            if let Some(ev) = ev.as_deref_mut() {
                ev.error = Some("invalid_user_credentials".into());
            }
            return Ok(Err(OAuthError::invalid_user_credentials()));
        }
    }
    brute_force::succeeded(s, realm, &user.id).await?;
    // Pending required actions, the realm's email verification included (TOK-6).
    if !s.store.required_actions(&user.id).await?.is_empty()
        || crate::oidc::lifecycle::must_verify_email(realm, &user)
    {
        if let Some(ev) = ev.as_deref_mut() {
            ev.error = Some("resolve_required_actions".into());
        }
        return Ok(Err(OAuthError::account_not_fully_set_up()));
    }
    let (us, cs) =
        credentials::start_session(s, realm, &user, client, &granted.names, None, ip).await?;
    note_user(ev, &user.id, Some(&us.id));
    let body = issue::issue_for(
        s,
        keys,
        realm,
        client,
        &user,
        issuer,
        &granted,
        Some(SessionRef {
            user_session: &us,
            generation: cs.refresh_generation,
        }),
        None,
        us.auth_time_s,
        "1",
        &BTreeMap::new(),
    )
    .await?;
    Ok(Ok(body))
}
