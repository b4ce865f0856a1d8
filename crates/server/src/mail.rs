//! Outgoing mail: the realm's `smtpServer` settings, mails rendered from the theme's text and
//! HTML templates, and sending with lettre over tokio (rustls; implicit TLS with `ssl`,
//! STARTTLS with `starttls`, plain SMTP otherwise).
//!
//! Sending never logs a password, a link or a token: a failure is logged with the SMTP host,
//! the mail's kind and lettre's error text (which holds no credentials). Callers that must not
//! reveal whether an account exists make and send the mail in a background task; the others
//! wait for the answer and show Keycloak's "Failed to send email" message.

use crate::app::AppState;
use anyhow::{Context as _, Result, anyhow};
use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use portcullis_model::records::RealmRecord;
use std::collections::BTreeMap;
use std::time::Duration;
use zeroize::Zeroizing;

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// A realm's `smtpServer` settings, validated.
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub envelope_from: Option<lettre::Address>,
    pub ssl: bool,
    pub starttls: bool,
    pub credentials: Option<(String, Zeroizing<String>)>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("ssl", &self.ssl)
            .field("starttls", &self.starttls)
            .field("auth", &self.credentials.is_some())
            .finish_non_exhaustive()
    }
}

fn flag(map: &BTreeMap<String, String>, key: &str) -> bool {
    map.get(key)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

fn text<'a>(map: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    map.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn mailbox(name: Option<&str>, address: &str, key: &str) -> Result<Mailbox, String> {
    let address: lettre::Address = address
        .parse()
        .map_err(|_| format!("Invalid email address in {key}"))?;
    Ok(Mailbox::new(name.map(str::to_owned), address))
}

impl SmtpSettings {
    /// Read Keycloak's `smtpServer` map. The error says which key is wrong (never a value).
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<SmtpSettings, String> {
        let host = text(map, "host").ok_or("SMTP host is not configured")?;
        let ssl = flag(map, "ssl");
        let port = match text(map, "port") {
            Some(p) => p.parse::<u16>().map_err(|_| "Invalid SMTP port")?,
            None if ssl => 465,
            None => 25,
        };
        let from = mailbox(
            text(map, "fromDisplayName"),
            text(map, "from").ok_or("SMTP from address is not configured")?,
            "from",
        )?;
        let reply_to = text(map, "replyTo")
            .map(|a| mailbox(text(map, "replyToDisplayName"), a, "replyTo"))
            .transpose()?;
        let envelope_from = text(map, "envelopeFrom")
            .map(|a| {
                a.parse()
                    .map_err(|_| "Invalid email address in envelopeFrom")
            })
            .transpose()?;
        let credentials = if flag(map, "auth") {
            let user = text(map, "user").ok_or("SMTP user is not configured")?;
            let password = map.get("password").cloned().unwrap_or_default();
            Some((user.to_owned(), Zeroizing::new(password)))
        } else {
            None
        };
        Ok(SmtpSettings {
            host: host.to_owned(),
            port,
            from,
            reply_to,
            envelope_from,
            ssl,
            starttls: flag(map, "starttls"),
            credentials,
        })
    }

    /// The realm's settings; None when the realm has no SMTP host.
    pub fn of_realm(realm: &RealmRecord) -> Result<Option<SmtpSettings>, String> {
        match &realm.settings.smtp_server {
            Some(map) if text(map, "host").is_some() => SmtpSettings::from_map(map).map(Some),
            _ => Ok(None),
        }
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
        let tls = || TlsParameters::new(self.host.clone()).context("TLS parameters");
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port)
            .timeout(Some(SMTP_TIMEOUT));
        if self.ssl {
            b = b.tls(Tls::Wrapper(tls()?));
        } else if self.starttls {
            b = b.tls(Tls::Required(tls()?));
        }
        if let Some((user, password)) = &self.credentials {
            b = b.credentials(Credentials::new(user.clone(), password.to_string()));
        }
        Ok(b.build())
    }
}

/// Which mail: the template name (Keycloak's) and its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    EmailVerification,
    PasswordReset,
    ExecuteActions,
    Test,
}

impl MailKind {
    pub fn template(self) -> &'static str {
        match self {
            MailKind::EmailVerification => "email-verification",
            MailKind::PasswordReset => "password-reset",
            MailKind::ExecuteActions => "executeActions",
            MailKind::Test => "email-test",
        }
    }

    fn subject(self, realm_name: &str) -> String {
        match self {
            MailKind::EmailVerification => "Verify email".to_owned(),
            MailKind::PasswordReset => "Reset password".to_owned(),
            MailKind::ExecuteActions => "Update Your Account".to_owned(),
            MailKind::Test => format!("[{realm_name}] - SMTP test message"),
        }
    }
}

/// A rendered mail for one recipient.
pub struct Mail {
    pub kind: MailKind,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// "5 minutes", "12 hours", "1 day": how long a link stays valid, in words.
pub fn lifespan_words(seconds: i64) -> String {
    let (n, unit) = if seconds % 86_400 == 0 && seconds >= 86_400 {
        (seconds / 86_400, "day")
    } else if seconds % 3600 == 0 && seconds >= 3600 {
        (seconds / 3600, "hour")
    } else if seconds % 60 == 0 && seconds >= 60 {
        (seconds / 60, "minute")
    } else {
        (seconds.max(0), "second")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// Render `kind` for `to` from the theme, with `link` valid for `lifespan_s`.
pub fn render(
    s: &AppState,
    realm: &RealmRecord,
    kind: MailKind,
    to: &str,
    link: &str,
    lifespan_s: i64,
    required_actions: &[String],
) -> Result<Mail> {
    let realm_name = realm
        .settings
        .display_name
        .clone()
        .unwrap_or_else(|| realm.name.clone());
    let ctx = || {
        minijinja::context! {
            realm_name => realm_name.as_str(),
            link => link,
            link_expiration => lifespan_words(lifespan_s),
            required_actions => required_actions.iter().map(|a| action_label(a)).collect::<Vec<_>>().join(", "),
        }
    };
    let t = kind.template();
    Ok(Mail {
        kind,
        to: to.to_owned(),
        subject: kind.subject(&realm_name),
        text: s.themes.try_render(&format!("email/text/{t}.txt"), ctx())?,
        html: s
            .themes
            .try_render(&format!("email/html/{t}.html"), ctx())?,
    })
}

/// How a required action is named in mails.
fn action_label(action: &str) -> &str {
    match action {
        "UPDATE_PASSWORD" => "Update Password",
        "UPDATE_PROFILE" => "Update Profile",
        "VERIFY_EMAIL" => "Verify Email",
        "CONFIGURE_TOTP" => "Configure OTP",
        other => other,
    }
}

/// Send one mail and wait for the server's answer.
pub async fn send(settings: &SmtpSettings, mail: &Mail) -> Result<()> {
    let to: lettre::Address = mail
        .to
        .parse()
        .map_err(|_| anyhow!("recipient address is invalid"))?;
    let mut b = Message::builder()
        .from(settings.from.clone())
        .to(Mailbox::new(None, to.clone()))
        .subject(mail.subject.clone());
    if let Some(r) = &settings.reply_to {
        b = b.reply_to(r.clone());
    }
    if let Some(env_from) = &settings.envelope_from {
        b = b.envelope(lettre::address::Envelope::new(
            Some(env_from.clone()),
            vec![to],
        )?);
    }
    let message = b.multipart(
        MultiPart::alternative()
            .singlepart(
                lettre::message::SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.text.clone()),
            )
            .singlepart(
                lettre::message::SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(mail.html.clone()),
            ),
    )?;
    settings.transport()?.send(message).await?;
    Ok(())
}

/// Send and log the outcome (no secrets, no link). Returns whether the mail was accepted.
pub async fn send_logged(settings: &SmtpSettings, realm: &str, mail: &Mail) -> bool {
    match send(settings, mail).await {
        Ok(()) => {
            tracing::debug!(realm, kind = mail.kind.template(), "mail sent");
            true
        }
        Err(e) => {
            tracing::warn!(realm, kind = mail.kind.template(), smtp_host = %settings.host, error = %e, "failed to send email");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn smtp_settings_are_read_like_keycloak() {
        let s = SmtpSettings::from_map(&map(&[
            ("host", "mail.example"),
            ("from", "noreply@example.com"),
            ("fromDisplayName", "Example"),
            ("replyTo", "help@example.com"),
            ("envelopeFrom", "bounce@example.com"),
            ("auth", "true"),
            ("user", "u"),
            ("password", "secret"),
            ("starttls", "true"),
        ]))
        .unwrap();
        assert_eq!(s.port, 25);
        assert!(s.starttls && !s.ssl);
        assert_eq!(s.from.to_string(), "Example <noreply@example.com>");
        assert!(!format!("{s:?}").contains("secret"));
        let s = SmtpSettings::from_map(&map(&[("host", "h"), ("from", "a@b.c"), ("ssl", "true")]))
            .unwrap();
        assert_eq!(s.port, 465);
        for bad in [
            map(&[("from", "a@b.c")]),
            map(&[("host", "h")]),
            map(&[("host", "h"), ("from", "not an address")]),
            map(&[("host", "h"), ("from", "a@b.c"), ("port", "99999")]),
            map(&[("host", "h"), ("from", "a@b.c"), ("auth", "true")]),
        ] {
            assert!(SmtpSettings::from_map(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lifespans_in_words() {
        assert_eq!(lifespan_words(300), "5 minutes");
        assert_eq!(lifespan_words(43200), "12 hours");
        assert_eq!(lifespan_words(86400), "1 day");
        assert_eq!(lifespan_words(61), "61 seconds");
        assert_eq!(lifespan_words(60), "1 minute");
    }
}
