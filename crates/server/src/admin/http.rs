//! The admin API's answers in Keycloak's shapes, decided here and nowhere else: 401/403 with
//! `{"error":"HTTP 401 Unauthorized"}`-style bodies, 404 `{"error":"User not found"}`, 409
//! `{"errorMessage":"User exists with same username"}`, 400 for unreadable bodies and
//! parameters, 413 for bodies over [`MAX_ADMIN_BODY`], 415 for bodies that are not JSON,
//! 201 with `Location` for creations, 204 for changes. Every JSON answer is `no-store`.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Largest admin request body (a user, group or role representation is a few KiB).
pub const MAX_ADMIN_BODY: usize = 1024 * 1024;

/// A handler's result: the answer, or an early answer (an error).
pub type Answer = Result<Response, Response>;

pub fn json(status: StatusCode, body: Value) -> Response {
    crate::oidc::http::json(status, body)
}

pub fn ok(body: impl serde::Serialize) -> Answer {
    match serde_json::to_value(body) {
        Ok(v) => Ok(json(StatusCode::OK, v)),
        Err(e) => Err(crate::error::internal_any(e.into())),
    }
}

pub fn no_content() -> Answer {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// 201 with `Location: {location}` and no body.
pub fn created(location: &str) -> Answer {
    let mut resp = StatusCode::CREATED.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

pub fn unauthorized() -> Response {
    json(
        StatusCode::UNAUTHORIZED,
        json!({"error": "HTTP 401 Unauthorized"}),
    )
}

pub fn forbidden() -> Response {
    json(
        StatusCode::FORBIDDEN,
        json!({"error": "HTTP 403 Forbidden"}),
    )
}

/// 404 with Keycloak's message for the missing thing (`User not found`, ...).
pub fn not_found(message: &str) -> Response {
    json(StatusCode::NOT_FOUND, json!({"error": message}))
}

/// 409 with Keycloak's `errorMessage`.
pub fn conflict(message: &str) -> Response {
    json(StatusCode::CONFLICT, json!({"errorMessage": message}))
}

/// 400 for input we cannot use; the message is in both keys Keycloak clients read.
pub fn bad_request(message: &str) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        json!({"error": message, "errorMessage": message}),
    )
}

/// 400 naming the field, as Keycloak's user-profile validation does.
pub fn field_error(field: &str, message: &str, params: &[&str]) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        json!({"field": field, "errorMessage": message, "params": params}),
    )
}

/// Percent-encode one path segment (names in `Location` headers).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether the request says its body is JSON.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .is_some_and(|m| {
            m.eq_ignore_ascii_case("application/json") || m.to_ascii_lowercase().ends_with("+json")
        })
}

/// 413; `close` when the body was not read to its end (the connection cannot be reused).
pub fn too_large(close: bool) -> Response {
    let mut resp = json(
        StatusCode::PAYLOAD_TOO_LARGE,
        json!({"error": "HTTP 413 Payload Too Large"}),
    );
    if close {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

/// Read a JSON body into `T`: 415 unless it is JSON, 413 above [`MAX_ADMIN_BODY`], 400 with
/// the position (syntax) or the field path (types) otherwise.
pub async fn read_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
) -> Result<T, Response> {
    read_json_up_to(headers, body, MAX_ADMIN_BODY).await
}

/// [`read_json`] with another size limit (a whole realm in `POST /admin/realms` may be as
/// large as the server-wide limit).
pub async fn read_json_up_to<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<T, Response> {
    if !is_json(headers) {
        return Err(json(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"error": "HTTP 415 Unsupported Media Type"}),
        ));
    }
    // Read up to the server-wide limit, then judge: a body left half-read would make the
    // connection unusable and could reset it before the client sees the 413.
    let bytes = match axum::body::to_bytes(body, crate::app::MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return Err(too_large(true)),
    };
    if bytes.len() > limit {
        return Err(too_large(false));
    }
    parse_json(&bytes).map_err(|m| bad_request(&m))
}

/// Parse JSON text into `T`; the error names the line and column, or the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() && path != "." {
            format!("Invalid value for '{path}': {}", strip_position(&inner))
        } else {
            format!("Unable to parse JSON body: {inner}")
        }
    })
}

/// serde's message without its " at line x column y" tail.
fn strip_position(e: &serde_json::Error) -> String {
    let m = e.to_string();
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_string(),
        None => m,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_model::repr::UserRepresentation;

    #[test]
    fn bodies_are_parsed_with_useful_errors() {
        let u: UserRepresentation = parse_json(br#"{"username":"a"}"#).unwrap();
        assert_eq!(u.username.as_deref(), Some("a"));
        let e = parse_json::<UserRepresentation>(b"{\"username\":").unwrap_err();
        assert!(e.starts_with("Unable to parse JSON body"), "{e}");
        assert!(e.contains("line 1"), "{e}");
        let e = parse_json::<UserRepresentation>(br#"{"enabled":"yes"}"#).unwrap_err();
        assert!(e.contains("'enabled'"), "{e}");
        assert!(!e.contains("line"), "{e}");
        let e = parse_json::<Vec<UserRepresentation>>(br#"[{"enabled":1}]"#).unwrap_err();
        assert!(e.contains("[0].enabled"), "{e}");
        let e = parse_json::<UserRepresentation>(b"[]").unwrap_err();
        assert!(!e.is_empty());
    }

    #[test]
    fn content_type_must_be_json() {
        let mut h = HeaderMap::new();
        assert!(!is_json(&h));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(!is_json(&h));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(is_json(&h));
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(segment("a b/c%é"), "a%20b%2Fc%25%C3%A9");
        assert_eq!(segment("role-1_x.y~"), "role-1_x.y~");
    }
}
