//! The account console's pages. Each one reads through the account REST API and each form
//! POST writes through it (in process, as the signed-in user), then redirects (303) to a page
//! that shows one flash message.

use super::console::Account;
use super::rest::Rights;
use super::{AccountConsole, wants_json};
use crate::console::pages::time_ms;
use crate::oidc::lifecycle;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::{Value as Mj, context};
use portcullis_oidc::authorize::Params;
use serde_json::{Value, json};

pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "layout.html",
        include_str!("../../templates/account/layout.html"),
    ),
    (
        "error.html",
        include_str!("../../templates/account/error.html"),
    ),
    (
        "signin-failed.html",
        include_str!("../../templates/account/signin-failed.html"),
    ),
    (
        "personal-info.html",
        include_str!("../../templates/account/personal-info.html"),
    ),
    (
        "signing-in.html",
        include_str!("../../templates/account/signing-in.html"),
    ),
    (
        "password.html",
        include_str!("../../templates/account/password.html"),
    ),
    (
        "totp.html",
        include_str!("../../templates/account/totp.html"),
    ),
    (
        "totp-remove.html",
        include_str!("../../templates/account/totp-remove.html"),
    ),
    (
        "device-activity.html",
        include_str!("../../templates/account/device-activity.html"),
    ),
    (
        "applications.html",
        include_str!("../../templates/account/applications.html"),
    ),
];

/// The stylesheet: the admin console's, then the account console's few additions.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        concat!(
            include_str!("../../templates/console/console.css"),
            include_str!("../../templates/account/account.css")
        ),
    )
        .into_response()
}

impl Account {
    /// A page in the shared frame; `section` marks the current navigation entry.
    fn page(&self, template: &str, section: &str, rights: Rights, ctx: Value) -> Response {
        let frame = context! {
            base => self.base.as_str(),
            csrf => self.session.csrf.as_str(),
            me => self.session.username.as_str(),
            realm => self.realm.as_str(),
            flash => self.session.take_flash().map(|f| Mj::from(minijinja::value::Serde(f))),
            section => section,
            can_manage => rights.manage_account,
        };
        let body = self.console.views.render(
            template,
            context! { ..frame, ..Mj::from(minijinja::value::Serde(ctx)) },
        );
        crate::console::html(StatusCode::OK, body, self.https)
    }

    /// `{base}{rest}`: a console URL.
    fn url(&self, rest: &str) -> String {
        format!("{}{rest}", self.base)
    }

    /// After a write: the flash message, then back to `rest`.
    fn after(&self, outcome: Result<(), String>, done: &str, rest: &str) -> Response {
        match outcome {
            Ok(()) => self.flash("success", done),
            Err(m) => self.flash("error", m),
        }
        crate::console::see_other(&self.url(rest), self.https)
    }

    /// The write refused: the user lacks `manage-account`.
    fn read_only(&self) -> Response {
        self.error_page(
            StatusCode::FORBIDDEN,
            "Your account may view but not change these settings (the “manage-account” role of the “account” client is missing).",
        )
    }
}

fn field<'a>(p: &'a Params, name: &str) -> &'a str {
    p.one(name).ok().flatten().unwrap_or("")
}

/// GET `/realms/{realm}/account` (no slash): the API's profile for JSON callers, otherwise
/// the console's address with the slash.
pub async fn bare_root(
    State(c): State<AccountConsole>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Response {
    if wants_json(&headers) {
        return match super::rest::profile(State(c.app.clone()), Path(realm), headers).await {
            Ok(r) | Err(r) => r,
        };
    }
    let https = c.relying_party(&realm).https(&c.app, &headers);
    let mut resp = crate::console::see_other(&format!("{}/", c.prefix(&realm)), https);
    *resp.status_mut() = StatusCode::FOUND;
    resp
}

/// GET `/realms/{realm}/account/`: the profile (JSON) or the Personal info page.
pub async fn personal_info(
    State(c): State<AccountConsole>,
    Path(params): Path<Vec<(String, String)>>,
    headers: HeaderMap,
    req: axum::extract::Request,
) -> Response {
    let realm = params
        .into_iter()
        .next()
        .map(|(_, v)| v)
        .unwrap_or_default();
    if wants_json(&headers) {
        return match super::rest::profile(State(c.app.clone()), Path(realm), headers).await {
            Ok(r) | Err(r) => r,
        };
    }
    let (mut parts, _) = req.into_parts();
    let a =
        match <Account as axum::extract::FromRequestParts<_>>::from_request_parts(&mut parts, &c)
            .await
        {
            Ok(a) => a,
            Err(r) => return r,
        };
    personal_info_page(&a, None).await.unwrap_or_else(|r| r)
}

/// The Personal info page; after a refused update, the values typed and the message (shown
/// in place, nothing saved).
async fn personal_info_page(
    a: &Account,
    refused: Option<(&Value, &str)>,
) -> Result<Response, Response> {
    let rights = a.rights().await?;
    let mut user = a.get("/").await?;
    let mut message = None;
    if let Some((typed, m)) = refused {
        for k in ["username", "email", "firstName", "lastName"] {
            if let Some(v) = typed.get(k) {
                user[k] = v.clone();
            }
        }
        message = Some(m);
    }
    let realm = crate::app::enabled_realm(&a.console.app, &a.realm)
        .await
        .map_err(|_| a.error_page(StatusCode::NOT_FOUND, "Realm not found."))?;
    Ok(a.page(
        "personal-info.html",
        "personal-info",
        rights,
        json!({
            "user": user,
            "edit_username": super::rest::username_editable(&realm),
            "email_as_username": realm.settings.registration_email_as_username.unwrap_or(false),
            "message": message,
        }),
    ))
}

/// POST `/realms/{realm}/account/personal-info`.
pub async fn save_personal_info(a: Account, headers: HeaderMap, body: Bytes) -> Response {
    let form = match a.form(&headers, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let mut input = json!({
        "email": field(&form, "email"),
        "firstName": field(&form, "firstName"),
        "lastName": field(&form, "lastName"),
    });
    if let Ok(Some(u)) = form.one("username") {
        input["username"] = json!(u);
    }
    match a.write(Method::POST, "/", Some(input.clone())).await {
        Ok(Ok(_)) => a.after(Ok(()), "Your account has been updated.", "/"),
        Ok(Err(m)) => personal_info_page(&a, Some((&input, &m)))
            .await
            .unwrap_or_else(|r| r),
        Err(r) if r.status() == StatusCode::FORBIDDEN => a.read_only(),
        Err(r) => r,
    }
}

/// GET `.../account-security/signing-in`: the password and the authenticators.
pub async fn signing_in(a: Account) -> Response {
    let run = async {
        let rights = a.rights().await?;
        let containers = a.get("/credentials").await?;
        let list = |t: &str| -> Vec<Value> {
            containers
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["type"] == t)
                .flat_map(|c| {
                    c["userCredentialMetadatas"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .map(|m| {
                    let cred = &m["credential"];
                    json!({
                        "id": cred["id"],
                        "label": cred["userLabel"],
                        "created": time_ms(cred["createdDate"].as_i64().unwrap_or(0)),
                    })
                })
                .collect()
        };
        Ok::<_, Response>(a.page(
            "signing-in.html",
            "signing-in",
            rights,
            json!({"passwords": list("password"), "otps": list("otp")}),
        ))
    };
    run.await.unwrap_or_else(|r| r)
}

/// GET `.../account-security/password`: the change-password form.
pub async fn password_form(a: Account) -> Response {
    match a.rights().await {
        Ok(r) if r.manage_account => a.page("password.html", "signing-in", r, json!({})),
        Ok(_) => a.read_only(),
        Err(resp) => resp,
    }
}

/// POST `.../account-security/password`: change the password through the API.
pub async fn change_password(a: Account, headers: HeaderMap, body: Bytes) -> Response {
    let form = match a.form(&headers, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let input = json!({
        "currentPassword": field(&form, "password"),
        "newPassword": field(&form, "password-new"),
        "confirmation": field(&form, "password-confirm"),
        "logoutOtherSessions": field(&form, "logout-sessions") == "on",
    });
    match a
        .write(Method::POST, "/credentials/password", Some(input))
        .await
    {
        Ok(Ok(_)) => a.after(
            Ok(()),
            "Your password has been updated.",
            "/account-security/signing-in",
        ),
        Ok(Err(m)) => a.after(Err(m), "", "/account-security/password"),
        Err(r) if r.status() == StatusCode::FORBIDDEN => a.read_only(),
        Err(r) => r,
    }
}

/// The TOTP set-up page for `key` (a new one unless given back after a refused code).
async fn totp_page(a: &Account, rights: Rights, key: &[u8], message: Option<&str>) -> Response {
    let realm = match crate::app::enabled_realm(&a.console.app, &a.realm).await {
        Ok(r) => r,
        Err(_) => return a.error_page(StatusCode::NOT_FOUND, "Realm not found."),
    };
    let setup = lifecycle::totp_setup(&realm, &a.session.username, key);
    let policy = lifecycle::otp_policy(&realm);
    // The QR code is an SVG element the server made from the otpauth URI (no script, no image
    // request, allowed by the CSP); the template marks it safe.
    a.page(
        "totp.html",
        "signing-in",
        rights,
        json!({
            "secret": setup.secret,
            "secret_spaced": setup.secret_spaced,
            "policy_text": setup.policy_text,
            "digits": policy.digits,
            "message": message,
            "qr_svg": setup.qr_svg,
        }),
    )
}

/// GET `.../account-security/totp`: set up an authenticator.
pub async fn totp_form(a: Account) -> Response {
    match a.rights().await {
        Ok(r) if r.manage_account => {
            totp_page(&a, r, &portcullis_model::totp::new_secret(), None).await
        }
        Ok(_) => a.read_only(),
        Err(resp) => resp,
    }
}

/// POST `.../account-security/totp`: save the authenticator once its code is right.
pub async fn save_totp(a: Account, headers: HeaderMap, body: Bytes) -> Response {
    let form = match a.form(&headers, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let secret = field(&form, "totpSecret");
    let input = json!({
        "secret": secret,
        "code": field(&form, "totp"),
        "userLabel": field(&form, "userLabel"),
    });
    match a.write(Method::POST, "/credentials/otp", Some(input)).await {
        Ok(Ok(_)) => a.after(
            Ok(()),
            "Your authenticator application has been set up.",
            "/account-security/signing-in",
        ),
        Ok(Err(m)) => {
            // The same secret again, so the app already scanned keeps working.
            match portcullis_model::totp::base32_decode(secret) {
                Some(key) if (16..=64).contains(&key.len()) => match a.rights().await {
                    Ok(r) => totp_page(&a, r, &key, Some(&m)).await,
                    Err(resp) => resp,
                },
                _ => a.after(Err(m), "", "/account-security/totp"),
            }
        }
        Err(r) if r.status() == StatusCode::FORBIDDEN => a.read_only(),
        Err(r) => r,
    }
}

/// GET `.../account-security/totp/{id}/remove`: the confirmation.
pub async fn confirm_remove_totp(a: Account) -> Response {
    let run = async {
        let rights = a.rights().await?;
        if !rights.manage_account {
            return Err(a.read_only());
        }
        let id = a.params.get("id").cloned().unwrap_or_default();
        let containers = a.get("/credentials").await?;
        let found = containers
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["type"] == "otp")
            .flat_map(|c| {
                c["userCredentialMetadatas"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .find(|m| m["credential"]["id"] == id.as_str());
        let Some(m) = found else {
            return Err(a.error_page(StatusCode::NOT_FOUND, "No such authenticator."));
        };
        Ok(a.page(
            "totp-remove.html",
            "signing-in",
            rights,
            json!({"id": id, "label": m["credential"]["userLabel"]}),
        ))
    };
    run.await.unwrap_or_else(|r| r)
}

/// POST `.../account-security/totp/{id}/remove`: remove the authenticator.
pub async fn remove_totp(a: Account, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = a.form(&headers, &body) {
        return r;
    }
    let id = a.params.get("id").cloned().unwrap_or_default();
    let path = format!("/credentials/{}", crate::admin::http::segment(&id));
    match a.write(Method::DELETE, &path, None).await {
        Ok(outcome) => a.after(
            outcome.map(|_| ()),
            "The authenticator has been removed.",
            "/account-security/signing-in",
        ),
        Err(r) if r.status() == StatusCode::FORBIDDEN => a.read_only(),
        Err(r) => r,
    }
}

/// GET `.../account-security/device-activity`: the user's sessions.
pub async fn device_activity(a: Account) -> Response {
    let run = async {
        let rights = a.rights().await?;
        let sessions = a.get("/sessions").await?;
        let rows: Vec<Value> = sessions
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                let secs = |k: &str| minutes(s[k].as_i64().unwrap_or(0));
                json!({
                    "id": s["id"],
                    "ip": s["ipAddress"],
                    "started": secs("started"),
                    "last": secs("lastAccess"),
                    "expires": secs("expires"),
                    "current": s["current"],
                    "clients": s["clients"].as_array().into_iter().flatten()
                        .filter_map(|c| c["clientId"].as_str()).collect::<Vec<_>>(),
                })
            })
            .collect();
        let others = rows.iter().filter(|r| r["current"] != true).count();
        Ok::<_, Response>(a.page(
            "device-activity.html",
            "device-activity",
            rights,
            json!({"sessions": rows, "others": others}),
        ))
    };
    run.await.unwrap_or_else(|r| r)
}

/// A time in seconds as `YYYY-MM-DD HH:MM` (UTC, said by the column header).
fn minutes(secs: i64) -> String {
    let full = time_ms(secs.saturating_mul(1000));
    full.get(..16).map_or(full.clone(), str::to_owned)
}

/// POST `.../account-security/device-activity`: sign out one session (`session`) or all the
/// others (`all-others`).
pub async fn sign_out_sessions(a: Account, headers: HeaderMap, body: Bytes) -> Response {
    let form = match a.form(&headers, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let session = field(&form, "session");
    let (path, done) = if field(&form, "all-others") == "on" {
        (
            "/sessions".to_owned(),
            "Your other sessions have been signed out.",
        )
    } else if !session.is_empty() && session.len() <= 64 {
        if a.session.sid.as_deref() == Some(session) {
            return a.after(
                Err("Use “Sign out” to end this session.".into()),
                "",
                "/account-security/device-activity",
            );
        }
        (
            format!("/sessions/{}", crate::admin::http::segment(session)),
            "The session has been signed out.",
        )
    } else {
        return a.after(
            Err("Choose a session to sign out.".into()),
            "",
            "/account-security/device-activity",
        );
    };
    match a.write(Method::DELETE, &path, None).await {
        Ok(outcome) => a.after(
            outcome.map(|_| ()),
            done,
            "/account-security/device-activity",
        ),
        Err(r) if r.status() == StatusCode::FORBIDDEN => a.read_only(),
        Err(r) => r,
    }
}

/// A built-in client's display name (Keycloak's `${client_...}` message keys in English).
pub fn display_name(client_id: &str, name: Option<&str>) -> String {
    match name {
        Some("${client_account}") => "Account".to_owned(),
        Some("${client_account-console}") => "Account Console".to_owned(),
        Some("${client_security-admin-console}") => "Security Admin Console".to_owned(),
        Some("${client_admin-cli}") => "Admin CLI".to_owned(),
        Some("${client_broker}") => "Broker".to_owned(),
        Some(n) if !n.is_empty() && !n.starts_with("${") => n.to_owned(),
        _ => client_id.to_owned(),
    }
}

/// Whether `url` may be a link (http or https only).
fn linkable(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// GET `/realms/{realm}/account/applications`: the API's list (JSON) or the page.
pub async fn applications(
    State(c): State<AccountConsole>,
    Path(realm): Path<String>,
    headers: HeaderMap,
    req: axum::extract::Request,
) -> Response {
    if wants_json(&headers) {
        return match super::rest::applications(State(c.app.clone()), Path(realm), headers).await {
            Ok(r) | Err(r) => r,
        };
    }
    let (mut parts, _) = req.into_parts();
    let a =
        match <Account as axum::extract::FromRequestParts<_>>::from_request_parts(&mut parts, &c)
            .await
        {
            Ok(a) => a,
            Err(r) => return r,
        };
    let run = async {
        let rights = a.rights().await?;
        if !rights.allows(super::rest::Need::ViewApplications) {
            return Err(a.error_page(
                StatusCode::FORBIDDEN,
                "Your account may not list its applications (the “view-applications” or “manage-account” role of the “account” client is missing).",
            ));
        }
        let apps = a.get("/applications").await?;
        let rows: Vec<Value> = apps
            .as_array()
            .into_iter()
            .flatten()
            .map(|app| {
                let id = app["clientId"].as_str().unwrap_or("");
                json!({
                    "client_id": id,
                    "name": display_name(id, app["clientName"].as_str()),
                    "url": app["effectiveUrl"].as_str().filter(|u| linkable(u)),
                    "in_use": app["inUse"],
                })
            })
            .collect();
        Ok::<_, Response>(a.page(
            "applications.html",
            "applications",
            rights,
            json!({"apps": rows}),
        ))
    };
    run.await.unwrap_or_else(|r| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_times_to_the_minute() {
        assert_eq!(minutes(1_700_000_000), "2023-11-14 22:13");
    }

    #[test]
    fn built_in_names_and_links() {
        assert_eq!(
            display_name("account-console", Some("${client_account-console}")),
            "Account Console"
        );
        assert_eq!(display_name("app", Some("${client_app}")), "app");
        assert_eq!(display_name("app", Some("My app")), "My app");
        assert_eq!(display_name("app", None), "app");
        assert!(linkable("https://x/") && !linkable("javascript:alert(1)"));
    }

    #[test]
    fn every_template_compiles_and_escapes() {
        let v = crate::console::view::Views::try_load(TEMPLATES).unwrap();
        let html = v.render(
            "error.html",
            context! { base => "/auth/realms/r/account", message => "<script>x</script>" },
        );
        assert!(html.contains("&lt;script&gt;x&lt;"), "{html}");
        assert!(!html.contains("<script"));
        assert!(html.contains("href=\"#main\""), "skip link");
    }
}
