//! The events page: the realm's latest user (login) events and admin events, read through the
//! admin API.

use super::Page;
use crate::admin::auth::Action;
use crate::console::Admin;
use axum::extract::Path;
use serde_json::{Value, json};

/// The latest hundred events of one kind (`events` or `admin-events`), newest first, each with
/// its time as text; through the admin API, so the caller needs `view-events`.
async fn latest(
    admin: &Admin,
    realm: &str,
    kind: &str,
) -> Result<Vec<Value>, axum::response::Response> {
    let base = crate::console::api::realm_path(realm);
    let events = admin.get(&format!("{base}/{kind}?first=0&max=100")).await?;
    let mut list = events.as_array().cloned().unwrap_or_default();
    for e in &mut list {
        if let Some(ms) = e["time"].as_i64() {
            e["when"] = Value::String(utc_text(ms));
        }
    }
    Ok(list)
}

/// GET `.../events`: user events, then admin events, with whether the realm records each now.
pub async fn list(admin: Admin, Path(realm): Path<String>) -> Page {
    admin.authorize(&realm, Action::ViewEvents).await?;
    let base = crate::console::api::realm_path(&realm);
    let config = admin.get(&format!("{base}/events/config")).await?;
    let user_events = latest(&admin, &realm, "events").await?;
    let events = latest(&admin, &realm, "admin-events").await?;
    Ok(admin.page(
        "events.html",
        Some(&realm),
        "events",
        json!({
            "user_events": user_events,
            "user_recording": config["eventsEnabled"] == Value::Bool(true),
            "events": events,
            "recording": config["adminEventsEnabled"] == Value::Bool(true),
        }),
    ))
}

/// `2026-11-29 10:58:03 UTC` for milliseconds since the epoch (the raw number when out of range).
fn utc_text(ms: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn event_times_read_as_utc() {
        assert_eq!(super::utc_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(
            super::utc_text(1_795_949_538_115),
            "2026-11-29 10:52:18 UTC"
        );
    }
}
