//! Login (user) event types as Keycloak names them, and the realm rule deciding which events
//! are stored.
//!
//! Every type comes in a success and an error form (`LOGIN` / `LOGIN_ERROR`). A realm stores
//! events only with `eventsEnabled`; then the types in `enabledEventTypes`, or, when that list
//! is empty or absent, the types Keycloak saves by default (token refreshes, introspection and
//! UserInfo requests are not among them: they are frequent and rarely audited).

use crate::repr::RealmRepresentation;

/// A user event type (the success form; [`EventType::name`] gives either form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    Login,
    Register,
    Logout,
    CodeToToken,
    ClientLogin,
    RefreshToken,
    IntrospectToken,
    UserInfoRequest,
    RevokeGrant,
    UpdateProfile,
    UpdateEmail,
    UpdatePassword,
    UpdateTotp,
    RemoveTotp,
    VerifyEmail,
    SendVerifyEmail,
    SendResetPassword,
    ResetPassword,
    ExecuteActions,
    ExecuteActionToken,
}

/// Every type with its name and whether its success and error forms are saved by default.
const TABLE: &[(EventType, &str, bool)] = &[
    (EventType::Login, "LOGIN", true),
    (EventType::Register, "REGISTER", true),
    (EventType::Logout, "LOGOUT", true),
    (EventType::CodeToToken, "CODE_TO_TOKEN", true),
    (EventType::ClientLogin, "CLIENT_LOGIN", true),
    (EventType::RefreshToken, "REFRESH_TOKEN", false),
    (EventType::IntrospectToken, "INTROSPECT_TOKEN", false),
    (EventType::UserInfoRequest, "USER_INFO_REQUEST", false),
    (EventType::RevokeGrant, "REVOKE_GRANT", true),
    (EventType::UpdateProfile, "UPDATE_PROFILE", true),
    (EventType::UpdateEmail, "UPDATE_EMAIL", true),
    (EventType::UpdatePassword, "UPDATE_PASSWORD", true),
    (EventType::UpdateTotp, "UPDATE_TOTP", true),
    (EventType::RemoveTotp, "REMOVE_TOTP", true),
    (EventType::VerifyEmail, "VERIFY_EMAIL", true),
    (EventType::SendVerifyEmail, "SEND_VERIFY_EMAIL", true),
    (EventType::SendResetPassword, "SEND_RESET_PASSWORD", true),
    (EventType::ResetPassword, "RESET_PASSWORD", true),
    (EventType::ExecuteActions, "EXECUTE_ACTIONS", true),
    (EventType::ExecuteActionToken, "EXECUTE_ACTION_TOKEN", true),
];

impl EventType {
    /// Every type, in Keycloak's order.
    pub fn all() -> impl Iterator<Item = EventType> {
        TABLE.iter().map(|(t, _, _)| *t)
    }

    fn row(self) -> &'static (EventType, &'static str, bool) {
        // The table lists every variant (unit test `every_variant_is_in_the_table`).
        TABLE
            .iter()
            .find(|(t, _, _)| *t == self)
            .unwrap_or(&TABLE[0])
    }

    /// The stored name: `LOGIN`, or `LOGIN_ERROR` for a failure.
    pub fn name(self, error: bool) -> String {
        let base = self.row().1;
        if error {
            format!("{base}_ERROR")
        } else {
            base.to_owned()
        }
    }

    /// The name in the metric's `event` label: `login` for both forms (the error is a label).
    pub fn metric_name(self) -> String {
        self.row().1.to_ascii_lowercase()
    }

    /// Whether a realm without `enabledEventTypes` stores this type.
    pub fn saved_by_default(self) -> bool {
        self.row().2
    }

    /// The type a stored name (either form) belongs to.
    pub fn parse(name: &str) -> Option<(EventType, bool)> {
        let (base, error) = match name.strip_suffix("_ERROR") {
            Some(b) => (b, true),
            None => (name, false),
        };
        TABLE
            .iter()
            .find(|(_, n, _)| *n == base)
            .map(|(t, _, _)| (*t, error))
    }

    /// The type a metric event name (`login`, `code_to_token`) names.
    pub fn from_metric_name(name: &str) -> Option<EventType> {
        TABLE
            .iter()
            .find(|(_, n, _)| n.eq_ignore_ascii_case(name))
            .map(|(t, _, _)| *t)
    }
}

/// Every stored event name (both forms), for validating `enabledEventTypes` and `type` filters
/// against and for listing in consoles.
pub fn all_names() -> Vec<String> {
    EventType::all()
        .flat_map(|t| [t.name(false), t.name(true)])
        .collect()
}

/// Whether a realm with these settings stores an event of type `t` (`error`: its error form).
pub fn stored(settings: &RealmRepresentation, t: EventType, error: bool) -> bool {
    if !settings.events_enabled.unwrap_or(false) {
        return false;
    }
    match settings.enabled_event_types.as_deref() {
        Some(list) if !list.is_empty() => {
            let name = t.name(error);
            list.contains(&name)
        }
        _ => t.saved_by_default(),
    }
}

/// How long a realm keeps its events, in milliseconds (`eventsExpiration`, seconds); `None`:
/// forever.
pub fn expiry_ms(settings: &RealmRepresentation) -> Option<i64> {
    settings
        .events_expiration
        .filter(|s| *s > 0)
        .map(|s| s.saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_is_in_the_table() {
        use EventType as E;
        for t in [
            E::Login,
            E::Register,
            E::Logout,
            E::CodeToToken,
            E::ClientLogin,
            E::RefreshToken,
            E::IntrospectToken,
            E::UserInfoRequest,
            E::RevokeGrant,
            E::UpdateProfile,
            E::UpdateEmail,
            E::UpdatePassword,
            E::UpdateTotp,
            E::RemoveTotp,
            E::VerifyEmail,
            E::SendVerifyEmail,
            E::SendResetPassword,
            E::ResetPassword,
            E::ExecuteActions,
            E::ExecuteActionToken,
        ] {
            assert_eq!(t.row().0, t, "{t:?} missing from TABLE");
            assert_eq!(EventType::parse(&t.name(false)), Some((t, false)));
            assert_eq!(EventType::parse(&t.name(true)), Some((t, true)));
            assert_eq!(EventType::from_metric_name(&t.metric_name()), Some(t));
        }
        assert_eq!(all_names().len(), TABLE.len() * 2);
    }

    #[test]
    fn names_in_both_forms() {
        assert_eq!(EventType::Login.name(false), "LOGIN");
        assert_eq!(EventType::Login.name(true), "LOGIN_ERROR");
        assert_eq!(EventType::CodeToToken.metric_name(), "code_to_token");
        assert_eq!(EventType::parse("NOPE"), None);
        assert_eq!(EventType::parse("_ERROR"), None);
    }

    #[test]
    fn which_events_a_realm_stores() {
        let mut rep = RealmRepresentation::default();
        assert!(!stored(&rep, EventType::Login, false), "off by default");
        rep.events_enabled = Some(true);
        assert!(stored(&rep, EventType::Login, false));
        assert!(stored(&rep, EventType::Login, true));
        assert!(
            !stored(&rep, EventType::RefreshToken, false),
            "not by default"
        );
        rep.enabled_event_types = Some(vec![]);
        assert!(
            stored(&rep, EventType::CodeToToken, false),
            "empty list = defaults"
        );
        rep.enabled_event_types = Some(vec!["REFRESH_TOKEN".into(), "LOGIN_ERROR".into()]);
        assert!(stored(&rep, EventType::RefreshToken, false));
        assert!(stored(&rep, EventType::Login, true));
        assert!(!stored(&rep, EventType::Login, false));
        rep.events_enabled = Some(false);
        assert!(!stored(&rep, EventType::RefreshToken, false));
    }

    #[test]
    fn expiry_in_milliseconds() {
        let mut rep = RealmRepresentation::default();
        assert_eq!(expiry_ms(&rep), None);
        rep.events_expiration = Some(3600);
        assert_eq!(expiry_ms(&rep), Some(3_600_000));
        rep.events_expiration = Some(0);
        assert_eq!(expiry_ms(&rep), None);
    }
}
