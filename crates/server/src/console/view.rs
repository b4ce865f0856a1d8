//! The console's templates (compiled in, auto-escaped) and the page frame every page shares.

use super::Admin;
use anyhow::{Context as _, Result};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Environment, Value, context};

/// The admin console's templates.
pub const CONSOLE_TEMPLATES: &[(&str, &str)] = &[
    (
        "layout.html",
        include_str!("../../templates/console/layout.html"),
    ),
    (
        "error.html",
        include_str!("../../templates/console/error.html"),
    ),
    (
        "signin-failed.html",
        include_str!("../../templates/console/signin-failed.html"),
    ),
    (
        "realms.html",
        include_str!("../../templates/console/realms.html"),
    ),
    (
        "overview.html",
        include_str!("../../templates/console/overview.html"),
    ),
    (
        "users.html",
        include_str!("../../templates/console/users.html"),
    ),
    (
        "user-new.html",
        include_str!("../../templates/console/user-new.html"),
    ),
    (
        "user.html",
        include_str!("../../templates/console/user.html"),
    ),
    (
        "user-tabs.html",
        include_str!("../../templates/console/user-tabs.html"),
    ),
    (
        "session-table.html",
        include_str!("../../templates/console/session-table.html"),
    ),
    (
        "user-groups.html",
        include_str!("../../templates/console/user-groups.html"),
    ),
    (
        "user-roles.html",
        include_str!("../../templates/console/user-roles.html"),
    ),
    (
        "user-sessions.html",
        include_str!("../../templates/console/user-sessions.html"),
    ),
    (
        "groups.html",
        include_str!("../../templates/console/groups.html"),
    ),
    (
        "group.html",
        include_str!("../../templates/console/group.html"),
    ),
    (
        "group-delete.html",
        include_str!("../../templates/console/group-delete.html"),
    ),
    (
        "roles.html",
        include_str!("../../templates/console/roles.html"),
    ),
    (
        "clients.html",
        include_str!("../../templates/console/clients.html"),
    ),
    (
        "client.html",
        include_str!("../../templates/console/client.html"),
    ),
    (
        "client-secret.html",
        include_str!("../../templates/console/client-secret.html"),
    ),
    (
        "sessions.html",
        include_str!("../../templates/console/sessions.html"),
    ),
    (
        "events.html",
        include_str!("../../templates/console/events.html"),
    ),
];

pub struct Views {
    env: Environment<'static>,
}

impl Views {
    /// The compiled-in templates. One that does not compile is logged and left out (its pages
    /// then answer the minimal error page); a unit test keeps them all compiling.
    pub fn load(templates: &[(&'static str, &'static str)]) -> Views {
        match Self::try_load(templates) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "console templates");
                Views {
                    env: Environment::new(),
                }
            }
        }
    }

    pub fn try_load(templates: &[(&'static str, &'static str)]) -> Result<Views> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        for (name, source) in templates {
            env.add_template(name, source)
                .with_context(|| format!("console template {name}"))?;
        }
        Ok(Views { env })
    }

    /// Render a template; a failure is logged and replaced by a minimal safe page.
    pub fn render(&self, name: &str, ctx: Value) -> String {
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => html,
            Err(e) => {
                tracing::error!(template = name, error = %format!("{e:#}"), "console template failed");
                "<!doctype html><title>Error</title><p>An internal error occurred.</p>".to_owned()
            }
        }
    }
}

impl Admin {
    /// A console page in the shared frame: `realm` selects the realm navigation, `section`
    /// marks the current entry.
    pub fn page(
        &self,
        template: &str,
        realm: Option<&str>,
        section: &str,
        ctx: serde_json::Value,
    ) -> Response {
        let c = &self.console;
        let realm_base = realm.map(|r| format!("{}/realms/{}", c.prefix, super::api::seg(r)));
        let frame = context! {
            base => c.prefix.as_str(),
            csrf => self.session.csrf.as_str(),
            me => self.session.username.as_str(),
            console_sid => self.session.sid.as_deref(),
            flash => self.take_flash().map(|f| Value::from(minijinja::value::Serde(f))),
            realm => realm,
            realm_base => realm_base,
            section => section,
        };
        let body = c.views.render(
            template,
            context! { ..frame, ..Value::from(minijinja::value::Serde(ctx)) },
        );
        super::html(StatusCode::OK, body, self.https)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_escapes() {
        let v = Views::try_load(CONSOLE_TEMPLATES).unwrap();
        let html = v.render(
            "error.html",
            context! { base => "/auth/admin/master/console", message => "<script>x</script>" },
        );
        assert!(html.contains("&lt;script&gt;x&lt;"), "{html}");
        assert!(!html.contains("<script"));
        assert!(html.contains("href=\"#main\""), "skip link");
    }
}
