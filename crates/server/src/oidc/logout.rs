//! Logout: RP-initiated (OpenID Connect RP-Initiated Logout 1.0), the non-browser form with a
//! refresh token, and back-channel logout tokens to the clients of the ended session
//! (OpenID Connect Back-Channel Logout 1.0).

use crate::app::{AppState, enabled_realm};
use crate::error::internal_any;
use crate::events::{self, Event};
use crate::oidc::authorize::{self, Frontend, IDENTITY_COOKIE};
use crate::oidc::credentials;
use crate::oidc::http::{self, now_s, sha256_b64};
use crate::oidc::issue;
use anyhow::{Context as _, Result};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use portcullis_model::events::EventType;
use portcullis_model::records::{ClientRecord, RealmRecord, UserSessionRecord};
use portcullis_oidc::OAuthError;
use portcullis_oidc::authorize::Params;
use portcullis_oidc::claims;
use serde_json::Value;
use std::net::SocketAddr;

/// The CSRF value of the logout confirmation: derived from the browser's identity cookie,
/// which a cross-site page can neither read nor guess.
fn logout_csrf(identity: &str) -> String {
    sha256_b64(&format!("logout-confirmation.{identity}"))
}

/// GET or POST `/realms/{realm}/protocol/openid-connect/logout`.
pub async fn logout(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fe = Frontend::new(&s, &headers, &realm);
    let realm = match enabled_realm(&s, &realm).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let params = if method == Method::POST {
        match http::form(&headers, &body) {
            Ok(p) => p,
            Err(resp) => return resp,
        }
    } else {
        Params::parse(query.unwrap_or_default().as_bytes())
    };
    let ip = http::client_address(&s, &headers).or_else(|| Some(peer.ip().to_string()));
    let result = if method == Method::POST && matches!(params.one("refresh_token"), Ok(Some(_))) {
        api_logout(&s, &realm, &headers, &params, ip.as_deref()).await
    } else {
        browser_logout(&s, &fe, &realm, &method, &headers, &params, ip.as_deref()).await
    };
    match result {
        Ok(r) => r,
        Err(e) => internal_any(e),
    }
}

/// The non-browser logout: client credentials plus the refresh token; 204.
async fn api_logout(
    s: &AppState,
    realm: &RealmRecord,
    headers: &HeaderMap,
    params: &Params,
    ip: Option<&str>,
) -> Result<Response> {
    let caller = match credentials::authenticate_client(s, realm, headers, params).await? {
        Ok(c) => c,
        Err((e, basic)) => return Ok(http::oauth_error(&e, basic)),
    };
    let token = params.one("refresh_token").ok().flatten().unwrap_or("");
    let issuer = crate::oidc::urls(s, headers, &realm.name).issuer;
    let keys = s.keys.get(&s.store, realm).await?;
    let claims = match issue::verify_refresh_token(&keys, &issuer, token) {
        Ok(c) => c,
        Err(e) => {
            return Ok(http::oauth_error(
                &OAuthError::invalid_refresh_token().with_detail(e.to_string()),
                false,
            ));
        }
    };
    if claims.get("azp").and_then(Value::as_str) != Some(caller.client.client_id.as_str()) {
        return Ok(http::oauth_error(
            &OAuthError::invalid_grant("Invalid refresh token"),
            false,
        ));
    }
    let Some(sid) = claims.get("sid").and_then(Value::as_str) else {
        return Ok(http::oauth_error(&OAuthError::session_not_active(), false));
    };
    let Some(us) = s.store.user_session(sid).await? else {
        return Ok(http::oauth_error(&OAuthError::session_not_active(), false));
    };
    end_session(s, realm, &issuer, &us).await?;
    let event = Event::new(EventType::Logout)
        .client(&caller.client.client_id)
        .user(&us.user_id)
        .session(&us.id)
        .ip(ip);
    events::emit(s, realm, event).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The post-logout redirect URIs a client registered (`+` = its redirect URIs).
fn post_logout_uri_allowed(client: &ClientRecord, root_url: Option<&str>, uri: &str) -> bool {
    let configured = client.attribute("post.logout.redirect.uris").unwrap_or("");
    let mut list: Vec<String> = Vec::new();
    for entry in configured
        .split("##")
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        if entry == "+" {
            list.extend(client.redirect_uris().iter().cloned());
        } else {
            list.push(entry.to_owned());
        }
    }
    portcullis_model::redirect::match_redirect_uri(&list, root_url, uri).is_some()
}

async fn browser_logout(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    method: &Method,
    headers: &HeaderMap,
    params: &Params,
    ip: Option<&str>,
) -> Result<Response> {
    let one = |name: &str| params.one(name);
    let (hint, redirect, state, client_id) = match (
        one("id_token_hint"),
        one("post_logout_redirect_uri"),
        one("state"),
        one("client_id"),
    ) {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
        _ => return Ok(page_error(s, fe, "Invalid Request")),
    };
    let hint_claims = match hint {
        Some(h) => match authorize::verify_id_token_hint(s, realm, &fe.urls.issuer, h).await? {
            Some(c) => Some(c),
            None => return Ok(page_error(s, fe, "Invalid IDToken")),
        },
        None => None,
    };
    let hint_client = hint_claims
        .as_ref()
        .and_then(|c| c.get("azp").and_then(Value::as_str));
    if let (Some(a), Some(b)) = (hint_client, client_id)
        && a != b
    {
        return Ok(page_error(
            s,
            fe,
            "Parameter client_id does not match the id_token_hint",
        ));
    }
    let client = match hint_client.or(client_id) {
        Some(id) => match s.caches.client(&s.store, &realm.id, id).await? {
            Some(c) if c.enabled() => Some(c),
            _ => return Ok(page_error(s, fe, "Client not found.")),
        },
        None => None,
    };
    if let Some(uri) = redirect {
        let Some(c) = &client else {
            return Ok(page_error(
                s,
                fe,
                "Either the parameter client_id or id_token_hint is required when post_logout_redirect_uri is used.",
            ));
        };
        if !post_logout_uri_allowed(c, crate::oidc::root_url(c, &fe.urls).as_deref(), uri) {
            return Ok(page_error(s, fe, "Invalid redirect uri"));
        }
    }

    let identity = http::read_cookie(headers, IDENTITY_COOKIE);
    // Without an ID token hint a person confirms first (OUT-3); the POST carries a CSRF value
    // bound to the identity cookie.
    if hint_claims.is_none() && identity.is_some() {
        let confirmed = *method == Method::POST
            && matches!(params.one("confirmLogout"), Ok(Some(_)))
            && match (params.one("csrf_token"), &identity) {
                (Ok(Some(t)), Some(id)) => {
                    portcullis_oidc::client_auth::secret_matches(&logout_csrf(id), t)
                }
                _ => false,
            };
        if !confirmed {
            let mut hidden: Vec<(String, String)> = Vec::new();
            for (k, v) in [
                ("post_logout_redirect_uri", redirect),
                ("state", state),
                ("client_id", client_id),
            ] {
                if let Some(v) = v {
                    hidden.push((k.to_owned(), v.to_owned()));
                }
            }
            let html = s.themes.render(
                "logout-confirm.html",
                context! {
                    realm_display_name => realm.settings.display_name.clone().unwrap_or_else(|| realm.name.clone()),
                    logout_action => format!("{}/protocol/openid-connect/logout", fe.urls.issuer),
                    csrf_token => identity.as_deref().map(logout_csrf),
                    hidden => hidden,
                },
            );
            return Ok(http::page(StatusCode::OK, html, fe.https));
        }
    }

    // The session to end: the browser's, else the one the hint names.
    let session = match authorize::current_session(s, fe, realm, headers).await? {
        Some((us, _)) => Some(us),
        None => match hint_claims
            .as_ref()
            .and_then(|c| c.get("sid").and_then(Value::as_str))
        {
            Some(sid) => s.store.user_session(sid).await?,
            None => None,
        },
    };
    if let Some(us) = &session {
        let same_user = hint_claims
            .as_ref()
            .and_then(|c| c.get("sub").and_then(Value::as_str))
            .is_none_or(|sub| sub == us.user_id);
        if same_user {
            end_session(s, realm, &fe.urls.issuer, us).await?;
            let mut event = Event::new(EventType::Logout)
                .user(&us.user_id)
                .session(&us.id)
                .ip(ip);
            if let Some(c) = &client {
                event = event.client(&c.client_id);
            }
            if let Some(uri) = redirect {
                event = event.detail("redirect_uri", uri);
            }
            events::emit(s, realm, event).await;
        }
    }

    let mut resp = match redirect {
        Some(uri) => {
            let mut target = uri.to_owned();
            if let Some(st) = state {
                let q = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("state", st)
                    .finish();
                target.push(if target.contains('?') { '&' } else { '?' });
                target.push_str(&q);
            }
            let mut r = StatusCode::FOUND.into_response();
            match HeaderValue::from_str(&target) {
                Ok(v) => {
                    r.headers_mut().insert(header::LOCATION, v);
                }
                Err(_) => return Ok(page_error(s, fe, "Invalid redirect uri")),
            }
            r
        }
        None => {
            let html = s.themes.render(
                "logged-out.html",
                context! { realm_display_name => realm.settings.display_name.clone().unwrap_or_else(|| realm.name.clone()) },
            );
            http::page(StatusCode::OK, html, fe.https)
        }
    };
    if let Some(v) = http::cookie(IDENTITY_COOKIE, "", &fe.cookie_path, Some(0), fe.https) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

fn page_error(s: &AppState, fe: &Frontend, message: &str) -> Response {
    http::error_page(s, StatusCode::BAD_REQUEST, message, fe.https)
}

/// End an SSO session: its clients with a back-channel logout URL get a logout token, then the
/// session, its client sessions and codes are deleted.
pub async fn end_session(
    s: &AppState,
    realm: &RealmRecord,
    issuer: &str,
    us: &UserSessionRecord,
) -> Result<()> {
    let sessions = s.store.client_sessions_of(&us.id).await?;
    let ids: Vec<String> = sessions.iter().map(|c| c.client_id.clone()).collect();
    let clients = s.store.clients_by_ids(&ids).await?;
    s.store.delete_user_session(&us.id).await?;
    for client in clients {
        let Some(url) = client
            .attribute("backchannel.logout.url")
            .map(str::trim)
            .filter(|u| !u.is_empty())
        else {
            continue;
        };
        if let Err(e) = send_logout_token(s, realm, issuer, &client, url, us).await {
            tracing::warn!(realm = %realm.name, client = %client.client_id, error = %format!("{e:#}"), "back-channel logout failed");
        }
    }
    Ok(())
}

async fn send_logout_token(
    s: &AppState,
    realm: &RealmRecord,
    issuer: &str,
    client: &ClientRecord,
    url: &str,
    us: &UserSessionRecord,
) -> Result<()> {
    let keys = issue::keys_for(s, realm, client).await?;
    let alg = issue::algorithm(realm, client, "id.token.signed.response.alg");
    let signer = keys.signer(alg).context("no signing key")?;
    let with_sid = client
        .attribute("backchannel.logout.session.required")
        .is_none_or(|v| v == "true");
    let jti = uuid::Uuid::new_v4().to_string();
    let sid = with_sid.then_some(us.id.as_str());
    let token = if client.attribute("backchannel.logout.revoke.offline.tokens") == Some("true") {
        claims::logout_token_revoking_offline(
            issuer,
            &client.client_id,
            &us.user_id,
            sid,
            &jti,
            now_s(),
        )
    } else {
        claims::logout_token(issuer, &client.client_id, &us.user_id, sid, &jti, now_s())
    };
    let jwt = signer.sign_jwt("logout+jwt", &token, s.keys.rng())?;
    let resp = s
        .http
        .post(url)
        .form(&[("logout_token", jwt)])
        .send()
        .await
        .context("sending the logout token")?;
    if !resp.status().is_success() {
        anyhow::bail!("the client answered {}", resp.status());
    }
    Ok(())
}
