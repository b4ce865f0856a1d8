//! What a login tells the service about its user, and the pure decision of which local
//! account it belongs to.

use crate::store::LocalUser;
use serde_json::Value;
use std::collections::BTreeSet;

/// The identity server's view of a user at login (ID token merged with UserInfo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Group names as the token says (a leading `/` of a full path is removed).
    pub groups: BTreeSet<String>,
    /// The identity server's SSO session (`sid`).
    pub sid: Option<String>,
}

impl Identity {
    /// From ID-token claims, with UserInfo's fields winning where present (django-allauth
    /// reads the profile and `groups` from UserInfo, so mapper switches apply the same way).
    pub fn from_claims(id_token: &Value, userinfo: Option<&Value>) -> Option<Identity> {
        let pick = |k: &str| {
            userinfo
                .and_then(|u| u.get(k))
                .filter(|v| !v.is_null())
                .or_else(|| id_token.get(k))
        };
        let text = |k: &str| pick(k).and_then(Value::as_str).map(str::to_owned);
        let subject = id_token.get("sub").and_then(Value::as_str)?.to_owned();
        // UserInfo's sub must be the ID token's (OIDC Core §5.3.2).
        if let Some(u) = userinfo
            && u.get("sub").and_then(Value::as_str) != Some(subject.as_str())
        {
            return None;
        }
        let groups = match pick("groups") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(|g| g.trim_start_matches('/').to_owned())
                .filter(|g| !g.is_empty())
                .collect(),
            Some(Value::String(s)) => [s.trim_start_matches('/').to_owned()]
                .into_iter()
                .filter(|g| !g.is_empty())
                .collect(),
            _ => BTreeSet::new(),
        };
        Some(Identity {
            username: text("preferred_username").unwrap_or_else(|| subject.clone()),
            email: text("email"),
            email_verified: pick("email_verified")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            first_name: text("given_name"),
            last_name: text("family_name"),
            groups,
            sid: id_token
                .get("sid")
                .and_then(Value::as_str)
                .map(str::to_owned),
            subject,
        })
    }
}

/// Which local account a login belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkPlan {
    /// Already linked by subject.
    Existing(String),
    /// A local account with the same verified email, not linked to anyone yet: link it.
    Link(String),
    /// Nobody: create an account.
    Create,
}

/// Decide the account: by subject; else the one unlinked local account with this email when
/// the identity server says the email is verified (two candidates are ambiguous: create);
/// else a new account.
pub fn plan_link(
    by_subject: Option<&LocalUser>,
    unlinked_same_email: &[LocalUser],
    identity: &Identity,
) -> LinkPlan {
    if let Some(u) = by_subject {
        return LinkPlan::Existing(u.id.clone());
    }
    if identity.email_verified
        && identity.email.is_some()
        && let [only] = unlinked_same_email
        && only.subject.is_none()
    {
        return LinkPlan::Link(only.id.clone());
    }
    LinkPlan::Create
}

/// The result of a sync; also the payload of the `UserGroupsSynced` event.
#[derive(Debug, Clone)]
pub struct SyncOutcome {
    pub user: LocalUser,
    pub groups: BTreeSet<String>,
    pub added: BTreeSet<String>,
    pub removed: BTreeSet<String>,
    pub created: bool,
    pub linked: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn local(id: &str, subject: Option<&str>) -> LocalUser {
        LocalUser {
            id: id.into(),
            subject: subject.map(Into::into),
            username: id.into(),
            email: Some("a@example.com".into()),
            email_verified: false,
            first_name: None,
            last_name: None,
            is_active: true,
            is_staff: false,
            is_superuser: false,
        }
    }

    fn identity(verified: bool) -> Identity {
        Identity::from_claims(
            &json!({"sub": "s1", "preferred_username": "alice", "email": "a@example.com",
                    "email_verified": verified, "groups": ["/editors", "viewers"], "sid": "x"}),
            None,
        )
        .unwrap()
    }

    #[test]
    fn claims_become_an_identity() {
        let i = identity(true);
        assert_eq!(i.username, "alice");
        assert_eq!(
            i.groups,
            BTreeSet::from(["editors".to_string(), "viewers".to_string()])
        );
        assert_eq!(i.sid.as_deref(), Some("x"));
        // UserInfo wins for profile and groups; a different sub is refused.
        let ui = json!({"sub": "s1", "groups": ["admins"], "given_name": "Al"});
        let j = Identity::from_claims(&json!({"sub": "s1", "groups": ["x"]}), Some(&ui)).unwrap();
        assert_eq!(j.groups, BTreeSet::from(["admins".to_string()]));
        assert_eq!(j.first_name.as_deref(), Some("Al"));
        let evil = json!({"sub": "s2"});
        assert!(Identity::from_claims(&json!({"sub": "s1"}), Some(&evil)).is_none());
        assert!(Identity::from_claims(&json!({}), None).is_none());
    }

    #[test]
    fn linking_needs_a_verified_unambiguous_email() {
        let linked = local("u0", Some("s1"));
        assert_eq!(
            plan_link(Some(&linked), &[], &identity(true)),
            LinkPlan::Existing("u0".into())
        );
        let candidate = local("u1", None);
        assert_eq!(
            plan_link(None, std::slice::from_ref(&candidate), &identity(true)),
            LinkPlan::Link("u1".into())
        );
        assert_eq!(
            plan_link(None, std::slice::from_ref(&candidate), &identity(false)),
            LinkPlan::Create
        );
        let two = [local("u1", None), local("u2", None)];
        assert_eq!(plan_link(None, &two, &identity(true)), LinkPlan::Create);
        // Already linked to someone else: never taken over.
        assert_eq!(
            plan_link(None, &[local("u3", Some("other"))], &identity(true)),
            LinkPlan::Create
        );
    }
}
