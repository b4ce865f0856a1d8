//! The events page. Admin events are not recorded yet: [`admin_events`] is the one place a
//! later change fills in (a store query, paged), and the page then lists them.

use super::Page;
use crate::admin::auth::Action;
use crate::console::Admin;
use axum::extract::Path;
use serde_json::{Value, json};

/// The realm's admin events, newest first; None while the server does not record them.
async fn admin_events(
    _admin: &Admin,
    _ctx: &crate::admin::Context,
) -> Result<Option<Vec<Value>>, axum::response::Response> {
    Ok(None)
}

/// GET `.../events`.
pub async fn list(admin: Admin, Path(realm): Path<String>) -> Page {
    let ctx = admin.authorize(&realm, Action::ViewRealm).await?;
    let events = admin_events(&admin, &ctx).await?;
    Ok(admin.page(
        "events.html",
        Some(&realm),
        "events",
        json!({ "events": events }),
    ))
}
