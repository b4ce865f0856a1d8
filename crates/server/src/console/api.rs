//! In-process calls to this server's own token endpoint and admin REST API.
//!
//! A call is an `http::Request` handed to the API router (`tower::ServiceExt::oneshot`): no
//! socket, no serialisation beyond the JSON bodies, and exactly the checks an outside client
//! meets (bearer token verification, ADR 0010's rights, body validation, one transaction per
//! write, cache invalidation). The browser's `Host` and forwarding headers go along, so URLs
//! and the issuer are the ones the browser sees.

use super::Admin;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::Response;
use serde_json::Value;
use std::net::SocketAddr;
use tower::ServiceExt as _;

/// Largest API answer read (the console pages ask for bounded pages).
const MAX_ANSWER: usize = 8 * 1024 * 1024;

/// An admin API answer.
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub location: Option<String>,
}

impl Reply {
    /// Keycloak's error text of a 4xx answer, for the page.
    pub fn message(&self) -> String {
        let m = |k: &str| self.body.get(k).and_then(Value::as_str).map(str::to_owned);
        m("errorMessage")
            .or_else(|| m("error_description"))
            .or_else(|| m("error"))
            .unwrap_or_else(|| format!("The request was refused ({}).", self.status.as_u16()))
    }
}

/// Hand `req` to `api` and read its answer.
pub async fn send(api: &Router, req: Request<Body>) -> anyhow::Result<Reply> {
    let resp = api.clone().oneshot(req).await?;
    let status = resp.status();
    let location = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(resp.into_body(), MAX_ANSWER).await?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    Ok(Reply {
        status,
        body,
        location,
    })
}

/// A request carrying the browser's forwarding headers and peer address.
pub fn request(
    method: Method,
    path: &str,
    forward: &HeaderMap,
    peer: SocketAddr,
    body: Body,
) -> anyhow::Result<Request<Body>> {
    let mut req = Request::builder().method(method).uri(path).body(body)?;
    req.headers_mut().extend(forward.clone());
    req.extensions_mut().insert(ConnectInfo(peer));
    Ok(req)
}

/// A GET's reply as a page sees it: the document on 2xx, else the page `refused` makes.
pub fn document(r: Reply, refused: impl FnOnce(&Reply) -> Response) -> Result<Value, Response> {
    if r.status.is_success() {
        Ok(r.body)
    } else {
        Err(refused(&r))
    }
}

/// A write's reply as a page sees it: Ok(reply) on 2xx, Err(page) on 403 (the page `refused`
/// makes), else Ok(Err(message)) for the user.
pub fn outcome(
    r: Reply,
    refused: impl FnOnce(&Reply) -> Response,
) -> Result<Result<Reply, String>, Response> {
    if r.status.is_success() {
        Ok(Ok(r))
    } else if r.status == StatusCode::FORBIDDEN {
        Err(refused(&r))
    } else {
        Ok(Err(r.message()))
    }
}

/// Where an in-process API call comes from: the browser's forwarding headers and address.
pub struct Origin<'a> {
    pub forward: &'a HeaderMap,
    pub peer: SocketAddr,
}

/// Call an in-process API as the bearer of `token`, with a JSON `body` when given (and
/// `Accept: application/json` when `json_answer`). The reply as it came; the caller decides
/// what a 401 or a 5xx means for its pages.
pub async fn call_with_token(
    api: &Router,
    origin: Origin<'_>,
    method: Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
    json_answer: bool,
) -> anyhow::Result<Reply> {
    let payload = body.map_or_else(Body::empty, |v| Body::from(v.to_string()));
    let mut req = request(method, path, origin.forward, origin.peer, payload)?;
    let auth = super::signin::bearer(token)
        .ok_or_else(|| anyhow::anyhow!("token is not a header value"))?;
    let json = axum::http::HeaderValue::from_static("application/json");
    req.headers_mut().insert(header::AUTHORIZATION, auth);
    if json_answer {
        req.headers_mut().insert(header::ACCEPT, json.clone());
    }
    if body.is_some() {
        req.headers_mut().insert(header::CONTENT_TYPE, json);
    }
    send(api, req).await
}

/// POST to `realm`'s token endpoint; the JSON answer of a 200, an error otherwise.
pub async fn token_request(
    api: &Router,
    realm: &str,
    forward: &HeaderMap,
    peer: SocketAddr,
    form: &[(&str, &str)],
) -> anyhow::Result<Value> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut req = request(
        Method::POST,
        &format!(
            "/realms/{}/protocol/openid-connect/token",
            crate::admin::http::segment(realm)
        ),
        forward,
        peer,
        Body::from(body),
    )?;
    req.headers_mut().insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let reply = send(api, req).await?;
    if reply.status == StatusCode::OK {
        Ok(reply.body)
    } else {
        anyhow::bail!(
            "token endpoint answered {}: {}",
            reply.status,
            reply.message()
        )
    }
}

/// `/admin/realms/{realm}` with the realm name as one path segment.
pub fn realm_path(realm: &str) -> String {
    format!("/admin/realms/{}", crate::admin::http::segment(realm))
}

/// One path segment, percent-encoded.
pub fn seg(s: &str) -> String {
    crate::admin::http::segment(s)
}

impl Admin {
    /// Call the admin API as this administrator. A 401 (the administrator's SSO session ended)
    /// ends the console session and answers the sign-in redirect; an internal failure answers
    /// the error page.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Reply, Response> {
        let token = self.access_token().await?;
        let origin = Origin {
            forward: &self.forward,
            peer: self.peer,
        };
        let reply = call_with_token(
            &self.console.api,
            origin,
            method,
            path,
            &token,
            body.as_ref(),
            false,
        )
        .await;
        match reply {
            Ok(r) if r.status == StatusCode::UNAUTHORIZED => Err(self.signed_out()),
            Ok(r) if r.status.is_server_error() => Err(self.internal()),
            Ok(r) => Ok(r),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "console API call failed");
                Err(self.internal())
            }
        }
    }

    /// GET a JSON document; a refusal (403, 404, ...) becomes the error page.
    pub async fn get(&self, path: &str) -> Result<Value, Response> {
        let r = self.call(Method::GET, path, None).await?;
        document(r, |r| self.refused(r))
    }

    /// A write: Ok(reply) on 2xx, Err(Ok(message)) when the API refused it with a message
    /// for the user, Err(Err(page)) when the page itself must answer.
    pub async fn write(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Result<Reply, String>, Response> {
        let r = self.call(method, path, body).await?;
        outcome(r, |r| self.refused(r))
    }

    /// The error page for an API refusal.
    pub fn refused(&self, r: &Reply) -> Response {
        let message = match r.status {
            StatusCode::FORBIDDEN => "You do not have the rights to see or change this.".to_owned(),
            StatusCode::NOT_FOUND => format!("Not found: {}", r.message()),
            _ => r.message(),
        };
        let status = if r.status.is_client_error() {
            r.status
        } else {
            StatusCode::BAD_GATEWAY
        };
        self.console.error_page(status, &message, self.https)
    }

    pub fn internal(&self) -> Response {
        self.console.error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An internal error occurred.",
            self.https,
        )
    }

    /// ADR 0010's decision for a read the admin API does not offer yet (the console then
    /// reads the store itself): 403/404 as the error page.
    pub async fn authorize(
        &self,
        realm: &str,
        action: crate::admin::auth::Action,
    ) -> Result<crate::admin::Context, Response> {
        let token = self.access_token().await?;
        let mut headers = self.forward.clone();
        if let Some(v) = super::signin::bearer(&token) {
            headers.insert(header::AUTHORIZATION, v);
        }
        match crate::admin::context(&self.console.app, &headers, realm, action).await {
            Ok(ctx) => Ok(ctx),
            Err(resp) => {
                let status = resp.status();
                if status == StatusCode::UNAUTHORIZED {
                    return Err(self.signed_out());
                }
                let bytes = axum::body::to_bytes(resp.into_body(), MAX_ANSWER)
                    .await
                    .unwrap_or_default();
                let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                Err(self.refused(&Reply {
                    status,
                    body,
                    location: None,
                }))
            }
        }
    }

    /// Whether the administrator may do `action` in `realm` (for showing or hiding a part).
    pub async fn may(&self, realm: &str, action: crate::admin::auth::Action) -> bool {
        self.authorize(realm, action).await.is_ok()
    }

    /// The store, for the reads the admin API does not offer yet (after [`Admin::authorize`]).
    pub fn store(&self) -> &portcullis_store::Store {
        &self.console.app.store
    }

    /// The server's state.
    pub fn app(&self) -> &crate::app::AppState {
        &self.console.app
    }
}
