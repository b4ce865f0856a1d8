//! service-a: a demo service built only on the Portcullis kit. A JSON API (`/api/me`,
//! `/api/articles`) and htmx pages (dashboard, editor, admin), each guarded by a permission
//! that comes from the user's groups at the identity server.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use portcullis_kit::{Auth, Kit, require_permission};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};

/// An article of the demo (kept in memory).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Article {
    pub title: String,
    pub author: String,
}

#[derive(Clone, Default)]
pub struct Articles(Arc<RwLock<Vec<Article>>>);

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn layout(title: &str, auth: &Auth, body: &str) -> Html<String> {
    let who = auth
        .user
        .as_ref()
        .map(|u| u.username.clone())
        .unwrap_or_default();
    let logout = auth
        .csrf
        .as_ref()
        .map(|c| {
            format!(
                "<form method=\"post\" action=\"/logout\" style=\"display:inline\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">Sign out</button></form>",
                esc(c)
            )
        })
        .unwrap_or_default();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} · service-a</title>\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<script src=\"https://unpkg.com/htmx.org@2.0.4\" defer></script></head>\
<body><header><nav><a href=\"/\">Dashboard</a> · <a href=\"/editor\">Editor</a> · <a href=\"/admin\">Admin</a></nav>\
<p>Signed in as <strong>{who}</strong> {logout}</p></header><main><h1>{t}</h1>{body}</main></body></html>",
        t = esc(title),
        who = esc(&who),
    ))
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    let li: String = items
        .into_iter()
        .map(|i| format!("<li>{}</li>", esc(&i)))
        .collect();
    format!("<ul>{li}</ul>")
}

async fn dashboard(auth: Auth) -> Html<String> {
    let c = &auth.context;
    let body = format!(
        "<section><h2>Primary role</h2><p id=\"primary-role\">{}</p></section>\
<section><h2>Roles</h2><div id=\"roles\">{}</div></section>\
<section><h2>Permissions</h2><div id=\"permissions\" hx-get=\"/fragments/permissions\" hx-trigger=\"every 30s\">{}</div></section>\
<p>staff: {} · superuser: {}</p>",
        esc(c.primary_role.as_deref().unwrap_or("none")),
        list(c.user_roles.iter().cloned()),
        list(c.user_permissions.iter().cloned()),
        c.is_staff,
        c.is_superuser
    );
    layout("Dashboard", &auth, &body)
}

async fn permissions_fragment(auth: Auth) -> Html<String> {
    Html(list(auth.context.user_permissions.iter().cloned()))
}

async fn editor(auth: Auth, State(articles): State<Articles>) -> Html<String> {
    let items = articles
        .0
        .read()
        .map(|a| {
            a.iter()
                .map(|x| format!("{} — {}", x.title, x.author))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let body = format!(
        "<form method=\"post\" action=\"/editor\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<label>Title <input name=\"title\" required maxlength=\"200\"></label> <button type=\"submit\">Publish</button></form>\
<div id=\"articles\">{}</div>",
        esc(auth.csrf.as_deref().unwrap_or("")),
        list(items)
    );
    layout("Editor", &auth, &body)
}

#[derive(Deserialize)]
struct ArticleForm {
    csrf: Option<String>,
    title: Option<String>,
}

/// The editor's no-JavaScript form post (CSRF-checked).
async fn editor_post(
    auth: Auth,
    State(articles): State<Articles>,
    Form(f): Form<ArticleForm>,
) -> Response {
    let ok = matches!((&auth.csrf, &f.csrf), (Some(a), Some(b)) if a == b);
    if !ok {
        return (StatusCode::FORBIDDEN, "invalid form").into_response();
    }
    match valid_title(f.title.as_deref()) {
        Some(title) => {
            add(&articles, &auth, title);
            axum::response::Redirect::to("/editor").into_response()
        }
        None => (StatusCode::BAD_REQUEST, "a title of 1 to 200 characters").into_response(),
    }
}

async fn admin(auth: Auth) -> Html<String> {
    let body = "<p>Only administrators see this page.</p>";
    layout("Admin", &auth, body)
}

async fn me(auth: Auth) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "username": auth.user.as_ref().map(|u| u.username.clone()),
        "user_roles": auth.context.user_roles,
        "user_permissions": auth.context.user_permissions,
        "primary_role": auth.context.primary_role,
        "is_staff": auth.context.is_staff,
        "is_superuser": auth.context.is_superuser,
    }))
}

async fn list_articles(State(articles): State<Articles>) -> Json<Vec<Article>> {
    Json(articles.0.read().map(|a| a.clone()).unwrap_or_default())
}

#[derive(Deserialize)]
struct NewArticle {
    title: Option<String>,
}

fn valid_title(t: Option<&str>) -> Option<&str> {
    t.map(str::trim)
        .filter(|t| !t.is_empty() && t.chars().count() <= 200)
}

fn add(articles: &Articles, auth: &Auth, title: &str) {
    let author = match (&auth.user, &auth.via) {
        (Some(u), _) => u.username.clone(),
        (None, portcullis_kit::AuthVia::Bearer { subject }) => subject.clone(),
        _ => String::new(),
    };
    if let Ok(mut a) = articles.0.write() {
        a.push(Article {
            title: title.to_owned(),
            author,
        });
    }
}

async fn create_article(
    auth: Auth,
    State(articles): State<Articles>,
    body: Result<Json<NewArticle>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if !auth.context.has_permission("article.edit") {
        return (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({"error": "forbidden", "required_permission": "article.edit"})),
        )
            .into_response();
    }
    let Ok(Json(body)) = body else {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": "expected JSON {\"title\": ...}"})),
        )
            .into_response();
    };
    match valid_title(body.title.as_deref()) {
        Some(title) => {
            add(&articles, &auth, title);
            (
                StatusCode::CREATED,
                Json(serde_json::json!({"title": title})),
            )
                .into_response()
        }
        None => (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": "a title of 1 to 200 characters"})),
        )
            .into_response(),
    }
}

/// The service's router with the kit attached.
pub fn app(kit: &Kit) -> Router {
    let articles = Articles::default();
    let viewer = Router::new()
        .route("/", get(dashboard))
        .route("/fragments/permissions", get(permissions_fragment))
        .route("/api/me", get(me))
        .route_layer(require_permission("dashboard.view"));
    // Reading needs article.view (the guard); creating checks article.edit in the handler.
    let read = Router::new()
        .route("/api/articles", get(list_articles).post(create_article))
        .route_layer(require_permission("article.view"));
    let write = Router::new()
        .route("/editor", get(editor).post(editor_post))
        .route_layer(require_permission("article.edit"));
    let admin = Router::new()
        .route("/admin", get(admin))
        .route_layer(require_permission("admin.access"));
    let app = Router::new()
        .merge(viewer)
        .merge(read)
        .merge(write)
        .merge(admin)
        .route("/health", get(|| async { "ok" }))
        .with_state(articles);
    kit.attach(app)
}
