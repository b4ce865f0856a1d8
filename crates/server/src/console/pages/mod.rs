//! The console's pages, one module per resource. Each handler: the [`Admin`] extractor (signed
//! in, or off to sign in), then admin API calls (or, for what the API does not offer yet, an
//! authorization check and a store read), then a template. POST handlers check the CSRF value
//! first, make one API write, set a flash message and redirect (303) to a page.

pub mod clients;
pub mod events;
pub mod groups;
pub mod realms;
pub mod roles;
pub mod sessions;
pub mod users;

use super::Admin;
use super::api::Reply;
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_oidc::authorize::Params;
use serde_json::json;
use std::collections::HashMap;

/// Rows per page of every paginated list.
pub const PAGE_SIZE: i64 = 20;
/// Largest `first` accepted.
const MAX_FIRST: i64 = 1_000_000;

/// A page handler's answer: the page, or the page that answers instead (sign-in, error).
pub type Page = Result<Response, Response>;

impl Admin {
    /// Console URL of a realm page: `{console}/realms/{realm}{rest}`.
    pub fn realm_url(&self, realm: &str, rest: &str) -> String {
        format!(
            "{}/realms/{}{rest}",
            self.console.prefix,
            super::api::seg(realm)
        )
    }

    /// 400 error page for a bad query or form value.
    pub fn bad_input(&self, message: &str) -> Response {
        self.console
            .error_page(StatusCode::BAD_REQUEST, message, self.https)
    }

    /// After a write: flash the outcome, go to `location`.
    pub fn after(&self, outcome: Result<Reply, String>, done: &str, location: &str) -> Response {
        match outcome {
            Ok(_) => self.flash("success", done),
            Err(message) => self.flash("error", message),
        }
        super::see_other(location, self.https)
    }

    /// Flash an input problem and go back to `location`.
    pub fn back_with_error(&self, message: &str, location: &str) -> Response {
        self.flash("error", message);
        super::see_other(location, self.https)
    }
}

/// `first` of a paginated list: a non-negative integer (0 when absent).
pub fn first(admin: &Admin, q: &HashMap<String, String>) -> Result<i64, Response> {
    match q.get("first").map(String::as_str) {
        None | Some("") => Ok(0),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (0..=MAX_FIRST).contains(&n) => Ok(n),
            _ => Err(admin
                .bad_input("The page position (first) must be a whole number from 0 to 1000000.")),
        },
    }
}

/// Previous/next page positions, for the templates.
pub fn pager(first: i64, has_more: bool) -> serde_json::Value {
    json!({ "first": first, "prev": (first > 0).then(|| (first - PAGE_SIZE).max(0)), "next": has_more.then_some(first + PAGE_SIZE), "from": first + 1 })
}

/// A text field of a form (empty when absent), trimmed; a repeated field is an error.
pub fn field<'a>(p: &'a Params, name: &str) -> Result<&'a str, String> {
    p.one(name)
        .map(|v| v.unwrap_or("").trim())
        .map_err(|_| format!("The field {name} was sent more than once."))
}

/// A checkbox: present (any value) is true.
pub fn checked(p: &Params, name: &str) -> bool {
    matches!(p.one(name), Ok(Some(_)))
}

/// A required field: present, not empty, at most `max` characters.
pub fn required<'a>(p: &'a Params, name: &str, label: &str, max: usize) -> Result<&'a str, String> {
    let v = field(p, name)?;
    if v.is_empty() {
        return Err(format!("{label} is required."));
    }
    if v.chars().count() > max {
        return Err(format!("{label} is longer than {max} characters."));
    }
    Ok(v)
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn time_ms(ms: i64) -> String {
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| ms.to_string())
}
