//! Login pages: server-rendered templates (minijinja, auto-escaped), overridable at run time.
//!
//! The built-in `base` theme is compiled into the binary. A theme folder given with
//! `--theme-dir` (or `KC_THEME_DIR`) may hold `login/<template>.html` files that replace the
//! built-in ones of the same name, as Keycloak's theme folders do; templates that are not
//! overridden fall back to the built-in ones. Every value is HTML-escaped (UI-8).
//!
//! Mails work the same way: `email/html/<mail>.html` and `email/text/<mail>.txt` (mails
//! `email-verification`, `password-reset`, `executeActions`, `email-test`) in the theme folder
//! replace the built-in ones; `.txt` templates are rendered without HTML escaping.

use anyhow::{Context, Result};
use minijinja::Environment;
use std::path::{Path, PathBuf};

const BUILT_IN: &[(&str, &str)] = &[
    (
        "layout.html",
        include_str!("../themes/base/login/layout.html"),
    ),
    (
        "login.html",
        include_str!("../themes/base/login/login.html"),
    ),
    (
        "login-update-password.html",
        include_str!("../themes/base/login/login-update-password.html"),
    ),
    (
        "error.html",
        include_str!("../themes/base/login/error.html"),
    ),
    (
        "logout-confirm.html",
        include_str!("../themes/base/login/logout-confirm.html"),
    ),
    (
        "form-post.html",
        include_str!("../themes/base/login/form-post.html"),
    ),
    (
        "logged-out.html",
        include_str!("../themes/base/login/logged-out.html"),
    ),
    (
        "login-reset-password.html",
        include_str!("../themes/base/login/login-reset-password.html"),
    ),
    (
        "register.html",
        include_str!("../themes/base/login/register.html"),
    ),
    (
        "login-update-profile.html",
        include_str!("../themes/base/login/login-update-profile.html"),
    ),
    (
        "login-verify-email.html",
        include_str!("../themes/base/login/login-verify-email.html"),
    ),
    ("info.html", include_str!("../themes/base/login/info.html")),
    (
        "login-config-totp.html",
        include_str!("../themes/base/login/login-config-totp.html"),
    ),
    (
        "login-otp.html",
        include_str!("../themes/base/login/login-otp.html"),
    ),
    (
        "email/html/email-verification.html",
        include_str!("../themes/base/email/html/email-verification.html"),
    ),
    (
        "email/text/email-verification.txt",
        include_str!("../themes/base/email/text/email-verification.txt"),
    ),
    (
        "email/html/password-reset.html",
        include_str!("../themes/base/email/html/password-reset.html"),
    ),
    (
        "email/text/password-reset.txt",
        include_str!("../themes/base/email/text/password-reset.txt"),
    ),
    (
        "email/html/executeActions.html",
        include_str!("../themes/base/email/html/executeActions.html"),
    ),
    (
        "email/text/executeActions.txt",
        include_str!("../themes/base/email/text/executeActions.txt"),
    ),
    (
        "email/html/email-test.html",
        include_str!("../themes/base/email/html/email-test.html"),
    ),
    (
        "email/text/email-test.txt",
        include_str!("../themes/base/email/text/email-test.txt"),
    ),
];

/// The template set the server renders pages with.
pub struct Themes {
    env: Environment<'static>,
}

impl Themes {
    /// Load the built-in theme, then the overrides in `dir/login/` if a folder is given.
    pub fn load(dir: Option<&Path>) -> Result<Themes> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".txt") {
                minijinja::AutoEscape::None
            } else {
                minijinja::AutoEscape::Html
            }
        });
        for (name, source) in BUILT_IN {
            env.add_template_owned(name.to_string(), source.to_string())
                .with_context(|| format!("built-in template {name}"))?;
        }
        if let Some(dir) = dir {
            load_folder(&mut env, &dir.join("login"), "", "html")?;
            load_folder(&mut env, &dir.join("email/html"), "email/html/", "html")?;
            load_folder(&mut env, &dir.join("email/text"), "email/text/", "txt")?;
        }
        Ok(Themes { env })
    }

    /// Render a template, or the error (mails must not go out half-rendered).
    pub fn try_render(&self, name: &str, ctx: minijinja::Value) -> Result<String> {
        Ok(self.env.get_template(name)?.render(ctx)?)
    }

    /// Render a page; a template error is logged and replaced by a minimal safe page.
    pub fn render(&self, name: &str, ctx: minijinja::Value) -> String {
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => html,
            Err(e) => {
                tracing::error!(template = name, error = %e, "template rendering failed");
                "<!doctype html><title>Error</title><p>An internal error occurred.</p>".to_string()
            }
        }
    }
}

/// Add the `*.{ext}` files of `folder` (if it exists) as templates named `{prefix}{file name}`.
fn load_folder(
    env: &mut Environment<'static>,
    folder: &Path,
    prefix: &str,
    ext: &str,
) -> Result<()> {
    if !folder.is_dir() {
        return Ok(());
    }
    for entry in
        std::fs::read_dir(folder).with_context(|| format!("cannot read {}", folder.display()))?
    {
        let path: PathBuf = entry?.path();
        if path.extension().is_some_and(|e| e == ext) {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let source = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            env.add_template_owned(format!("{prefix}{name}"), source)
                .with_context(|| format!("theme template {}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn built_in_login_page_escapes_values() {
        let t = Themes::load(None).unwrap();
        let html = t.render(
            "login.html",
            context! { realm_display_name => "<b>Acme</b>", login_action => "/x?a=1&b=2", csrf_token => "t",
                       username => "\"><script>alert(1)</script>", message => "Invalid username or password.",
                       login_with_email_allowed => true },
        );
        assert!(html.contains("&lt;b&gt;Acme") && !html.contains("<b>Acme"));
        assert!(!html.contains("<script>alert(1)</script>"));
        assert!(html.contains("Username or email"));
        assert!(html.contains("name=\"csrf_token\" value=\"t\""));
    }

    #[test]
    fn a_theme_folder_overrides_one_template() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("login")).unwrap();
        std::fs::write(dir.path().join("login/error.html"), "custom: {{ message }}").unwrap();
        let t = Themes::load(Some(dir.path())).unwrap();
        assert_eq!(
            t.render("error.html", context! { message => "<x>" }),
            "custom: &lt;x&gt;"
        );
        assert!(
            t.render("login.html", context! { realm_display_name => "r" })
                .contains("Sign in")
        );
    }

    #[test]
    fn mail_templates_override_and_text_is_not_escaped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("email/text")).unwrap();
        std::fs::write(
            dir.path().join("email/text/password-reset.txt"),
            "custom {{ link }}",
        )
        .unwrap();
        let t = Themes::load(Some(dir.path())).unwrap();
        let ctx = || context! { link => "https://x/?a=1&b=2", realm_name => "<R>", link_expiration => "5 minutes" };
        assert_eq!(
            t.try_render("email/text/password-reset.txt", ctx())
                .unwrap(),
            "custom https://x/?a=1&b=2"
        );
        let html = t
            .try_render("email/html/password-reset.html", ctx())
            .unwrap();
        // Escaped for HTML (`&` and `/` as entities, which links in attributes may hold).
        assert!(html.contains("?a=1&amp;b=2\"") && html.contains("&lt;R&gt;"));
        assert!(
            t.try_render("email/text/email-verification.txt", ctx())
                .unwrap()
                .contains("https://x/?a=1&b=2")
        );
    }
}
