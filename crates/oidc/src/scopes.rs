//! Which client scopes a request gets, as Keycloak decides it: every default scope of the
//! client, plus the optional scopes named in the `scope` parameter; `openid` is a marker, not
//! a client scope. A name that is neither is refused with `invalid_scope` (AZ-4). On refresh
//! the requested scope may only narrow what the session was granted (RT-1).

use crate::error::OAuthError;

/// One client scope attached to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedScope {
    pub id: String,
    pub name: String,
    /// Attached as a default scope (always granted) rather than an optional one.
    pub default: bool,
    /// The scope's `include.in.token.scope` attribute (Keycloak's default: true).
    pub include_in_token_scope: bool,
}

/// The outcome: the granted scopes (ids in application order: defaults first, then optional,
/// each by name) and the `scope` text of the token and token response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub scope_ids: Vec<String>,
    /// `openid` (when requested) then the granted scopes that are included in the token scope.
    pub token_scope: String,
    /// Names of the granted scopes, `openid` included when requested (stored with the session;
    /// a refresh may narrow them).
    pub names: Vec<String>,
}

/// Resolve a `scope` parameter. `limit`, when given (a refresh), is the set of names granted
/// before: anything outside it is refused, and default scopes outside it are not re-granted.
pub fn resolve(
    requested: &str,
    attached: &[AttachedScope],
    limit: Option<&[String]>,
) -> Result<Granted, OAuthError> {
    let mut words: Vec<&str> = requested.split_ascii_whitespace().collect();
    words.dedup();
    let openid_requested = words.contains(&"openid")
        || (limit.is_some()
            && words.is_empty()
            && limit.is_some_and(|l| l.iter().any(|n| n == "openid")));
    let mut unknown = Vec::new();
    for w in &words {
        if *w == "openid" {
            continue;
        }
        let known = attached.iter().any(|a| a.name == *w);
        let allowed = limit.is_none_or(|l| l.iter().any(|n| n == w));
        if !known || !allowed {
            unknown.push(*w);
        }
    }
    if let Some(l) = limit
        && words.contains(&"openid")
        && !l.iter().any(|n| n == "openid")
    {
        unknown.push("openid");
    }
    if !unknown.is_empty() {
        return Err(OAuthError::invalid_scopes(&unknown.join(" ")));
    }
    let mut chosen: Vec<&AttachedScope> = attached
        .iter()
        .filter(|a| {
            let asked = words.contains(&a.name.as_str());
            match limit {
                // A refresh without `scope` keeps what was granted; with `scope`, defaults
                // still granted before stay, optional ones only when asked again.
                Some(l) => {
                    l.iter().any(|n| n == &a.name) && (words.is_empty() || a.default || asked)
                }
                None => a.default || asked,
            }
        })
        .collect();
    chosen.sort_by(|a, b| (!a.default, &a.name).cmp(&(!b.default, &b.name)));
    let mut names = Vec::new();
    let mut token_words = Vec::new();
    if openid_requested {
        names.push("openid".to_string());
        token_words.push("openid");
    }
    for a in &chosen {
        names.push(a.name.clone());
    }
    // Keycloak lists the included scopes after `openid` in name order.
    let mut included: Vec<&str> = chosen
        .iter()
        .filter(|a| a.include_in_token_scope)
        .map(|a| a.name.as_str())
        .collect();
    included.sort_unstable();
    token_words.extend(included);
    Ok(Granted {
        scope_ids: chosen.iter().map(|a| a.id.clone()).collect(),
        token_scope: token_words.join(" "),
        names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn scope(name: &str, default: bool, include: bool) -> AttachedScope {
        AttachedScope {
            id: format!("id-{name}"),
            name: name.into(),
            default,
            include_in_token_scope: include,
        }
    }

    fn attached() -> Vec<AttachedScope> {
        vec![
            scope("profile", true, true),
            scope("email", true, true),
            scope("roles", true, false),
            scope("basic", true, false),
            scope("web-origins", true, false),
            scope("acr", true, false),
            scope("address", false, true),
            scope("offline_access", false, true),
        ]
    }

    #[test]
    fn defaults_always_optional_on_request() {
        let g = resolve("openid", &attached(), None).unwrap();
        assert_eq!(g.token_scope, "openid email profile");
        assert!(!g.scope_ids.contains(&"id-address".to_string()));
        let g = resolve("openid address", &attached(), None).unwrap();
        assert_eq!(g.token_scope, "openid address email profile");
        assert_eq!(g.scope_ids.last().map(String::as_str), Some("id-address"));
        let g = resolve("", &attached(), None).unwrap();
        assert_eq!(g.token_scope, "email profile");
        assert!(!g.names.contains(&"openid".to_string()));
    }

    #[test]
    fn unknown_scope_is_invalid_scope() {
        let e = resolve("openid payroll", &attached(), None).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidScope);
        assert_eq!(e.description, "Invalid scopes: payroll");
    }

    #[test]
    fn refresh_only_narrows() {
        let first = resolve("openid address", &attached(), None).unwrap();
        let same = resolve("", &attached(), Some(&first.names)).unwrap();
        assert_eq!(same.token_scope, first.token_scope);
        let narrowed = resolve("openid", &attached(), Some(&first.names)).unwrap();
        assert_eq!(narrowed.token_scope, "openid email profile");
        let without = resolve("openid", &attached(), None).unwrap();
        assert!(resolve("openid address", &attached(), Some(&without.names)).is_err());
        let no_openid = resolve("", &attached(), None).unwrap();
        assert!(resolve("openid", &attached(), Some(&no_openid.names)).is_err());
    }
}
