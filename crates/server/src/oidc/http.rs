//! HTTP plumbing shared by the OpenID Connect endpoints: OAuth JSON errors, HTML pages with
//! the browser security headers, cookies, form bodies, CORS, random values and the clock.

use crate::app::AppState;
use aws_lc_rs::rand::SecureRandom;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_oidc::authorize::Params;
use portcullis_oidc::{ErrorCode, OAuthError};
use sha2::Digest;

pub fn now_ms() -> i64 {
    crate::realms::now_ms()
}

pub fn now_s() -> i64 {
    now_ms() / 1000
}

/// `n` random bytes, base64url without padding (cookie values, codes, CSRF tokens).
pub fn random_token(state: &AppState, n: usize) -> String {
    let mut buf = vec![0u8; n];
    // The system RNG failing is not recoverable; an all-zero value must never be used.
    if state.keys.rng().fill(&mut buf).is_err() {
        tracing::error!("system random number generator failed");
        std::process::abort();
    }
    URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of `value`, base64url (codes and session handles are stored only as hashes).
pub fn sha256_b64(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(value.as_bytes()))
}

/// Headers every API answer of the token family carries (RFC 6749 §5.1).
fn no_store(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// A JSON answer with `Cache-Control: no-store`.
pub fn json(status: StatusCode, body: serde_json::Value) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    no_store(&mut resp);
    resp
}

/// An OAuth error as JSON: 401 for `invalid_client` (with `WWW-Authenticate: Basic` when the
/// client used that header), 400 otherwise. The private detail goes to the debug log.
pub fn oauth_error(err: &OAuthError, used_basic: bool) -> Response {
    if let Some(d) = &err.detail {
        tracing::debug!(error = err.code.as_str(), detail = %d, "oauth error");
    }
    let status = if err.code == ErrorCode::InvalidClient {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut resp = json(status, err.body());
    if err.code == ErrorCode::InvalidClient && used_basic {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"token\""),
        );
    }
    resp
}

/// The browser security headers Keycloak sends with every page (UI-2).
pub fn security_headers(resp: &mut Response, https: bool) {
    let h = resp.headers_mut();
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-src 'self'; frame-ancestors 'self'; object-src 'none';"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("none"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

/// An HTML page with the security headers.
pub fn page(status: StatusCode, html: String, https: bool) -> Response {
    let mut resp = (status, Html(html)).into_response();
    security_headers(&mut resp, https);
    resp
}

/// The friendly error page: status 400 (or as given), no `Location`, the message escaped.
pub fn error_page(state: &AppState, status: StatusCode, message: &str, https: bool) -> Response {
    let html = state.themes.render(
        "error.html",
        minijinja::context! { message => message, realm_display_name => "" },
    );
    page(status, html, https)
}

/// A `Set-Cookie` value: HttpOnly unless stated, SameSite=Lax, Secure on HTTPS frontends,
/// limited to `path`. `max_age` None is a session cookie; Some(0) deletes.
pub fn cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: Option<i64>,
    secure: bool,
) -> Option<HeaderValue> {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={}", age.max(0)));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).ok()
}

/// The value of cookie `name` (the last one, if the browser sent several).
pub fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .next_back()
        .filter(|v| !v.is_empty() && v.len() <= 4096)
}

/// A form body's parameters; refuses another content type (415).
pub fn form(headers: &HeaderMap, body: &[u8]) -> Result<Params, Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(json(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            OAuthError::invalid_request("Content-Type must be application/x-www-form-urlencoded")
                .body(),
        ));
    }
    Ok(Params::parse(body))
}

/// CORS for the token family of endpoints: the request's `Origin` is echoed only when the
/// client allows it (AZ-9). `allowed` is the client's resolved web origins.
pub fn cors(resp: &mut Response, origin: Option<&str>, allowed: &[String]) {
    let Some(origin) = origin else { return };
    let ok = allowed.iter().any(|a| a == "*" || a == origin);
    if ok && let Ok(v) = HeaderValue::from_str(origin) {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// A CORS preflight answer (Fetch standard §3.2.2) for the endpoints browsers call from
/// scripts (token, UserInfo, introspection, revocation, logout). The preflight cannot know the
/// client yet, so it echoes any origin, as Keycloak does; the actual response then carries
/// `Access-Control-Allow-Origin` only for the client's web origins ([`cors`]).
pub fn preflight(headers: &HeaderMap) -> Response {
    let mut resp = StatusCode::OK.into_response();
    let h = resp.headers_mut();
    if let Some(v) = origin(headers).and_then(|o| HeaderValue::from_str(o).ok()) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "Origin, Accept, X-Requested-With, Content-Type, Access-Control-Request-Method, Access-Control-Request-Headers, Authorization, DPoP",
            ),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("3600"),
        );
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    resp
}

/// Route handler for `OPTIONS` on the script-facing endpoints.
pub async fn preflight_handler(headers: HeaderMap) -> Response {
    preflight(&headers)
}

/// The `Origin` header.
pub fn origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

/// The bearer token of an `Authorization: Bearer ...` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// The client's IP address as the request says (forwarded headers are trusted only when the
/// server is told to; otherwise none is recorded).
pub fn client_address(state: &AppState, headers: &HeaderMap) -> Option<String> {
    state.hostname.proxy_headers?;
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().chars().take(64).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_and_written() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; B=2; a=3"));
        assert_eq!(read_cookie(&h, "a").as_deref(), Some("3"));
        assert_eq!(read_cookie(&h, "B").as_deref(), Some("2"));
        assert_eq!(read_cookie(&h, "c"), None);
        let c = cookie("X", "v", "/auth/realms/r/", Some(10), true).unwrap();
        assert_eq!(
            c.to_str().unwrap(),
            "X=v; Path=/auth/realms/r/; HttpOnly; SameSite=Lax; Max-Age=10; Secure"
        );
    }

    #[test]
    fn bearer_header() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
    }
}
