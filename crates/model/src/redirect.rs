//! Redirect URI and web origin rules for clients, as Keycloak applies them, with the
//! look-alike defences of the security checklist (AZ-1, AZ-2).
//!
//! A requested `redirect_uri` is allowed when it equals a registered one exactly, or when a
//! registered one ends in `*` and the request extends its prefix — on the same scheme, host and
//! port, with no user information and no `..` path segment. Relative registered URIs are resolved
//! against the client's `rootUrl`. Pure functions; the authorization endpoint calls them.

/// Does `requested` match one of `registered` (after resolving relative entries against
/// `root_url`)? Returns the registered entry that matched.
pub fn match_redirect_uri<'a>(
    registered: &'a [String],
    root_url: Option<&str>,
    requested: &str,
) -> Option<&'a str> {
    if !is_acceptable(requested) {
        return None;
    }
    registered
        .iter()
        .find(|r| matches_one(r, root_url, requested))
        .map(String::as_str)
}

fn matches_one(registered: &str, root_url: Option<&str>, requested: &str) -> bool {
    let resolved = resolve(registered, root_url);
    match resolved.strip_suffix('*') {
        None => resolved == requested,
        Some(prefix) => {
            if !requested.starts_with(prefix) {
                return false;
            }
            // The wildcard may not move the request to another origin: compare origins.
            match (origin_of(prefix), origin_of(requested)) {
                (Some(a), Some(b)) => a == b || prefix_is_bare_scheme(prefix),
                // A custom scheme (`myapp:/callback*`) or a bare `*`: prefix is enough.
                _ => true,
            }
        }
    }
}

fn prefix_is_bare_scheme(prefix: &str) -> bool {
    // `https://*` style entries are not origin-bound by construction; Keycloak allows them.
    prefix.ends_with("://")
}

fn resolve(registered: &str, root_url: Option<&str>) -> String {
    if registered.starts_with('/') {
        match root_url {
            Some(root) if !root.is_empty() => {
                format!("{}{}", root.trim_end_matches('/'), registered)
            }
            _ => registered.to_string(),
        }
    } else {
        registered.to_string()
    }
}

/// Refuse URIs a client must never be redirected to, whatever is registered.
fn is_acceptable(uri: &str) -> bool {
    if uri.is_empty() || uri.len() > 4096 || uri.chars().any(|c| c.is_control() || c == ' ') {
        return false;
    }
    if uri.contains('#') {
        return false; // OAuth 2.0 §3.1.2: no fragment.
    }
    let (scheme, rest) = match uri.split_once(':') {
        Some(x) => x,
        None => return false,
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return false;
    }
    if let Some(after) = rest.strip_prefix("//") {
        let authority_end = after.find(['/', '?']).unwrap_or(after.len());
        let authority = &after[..authority_end];
        if authority.contains('@') || authority.is_empty() {
            return false;
        }
        let path = &after[authority_end..];
        let path = path.split('?').next().unwrap_or("");
        if path
            .split('/')
            .any(|seg| seg == ".." || seg.eq_ignore_ascii_case("%2e%2e"))
        {
            return false;
        }
    }
    true
}

/// `scheme://host[:port]` of an absolute http(s) URI, lower-cased.
pub fn origin_of(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    ))
}

/// The web origins a client allows for CORS: `+` means the origins of its redirect URIs,
/// `*` any origin; otherwise the listed origins.
pub fn allowed_origins(
    web_origins: &[String],
    redirect_uris: &[String],
    root_url: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    for o in web_origins {
        if o == "+" {
            for r in redirect_uris {
                if let Some(origin) = origin_of(&resolve(r, root_url)) {
                    out.push(origin);
                }
            }
        } else {
            out.push(o.trim_end_matches('/').to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(registered: &[&str], root: Option<&str>, cases: &[(&str, bool)]) {
        let reg: Vec<String> = registered.iter().map(|s| s.to_string()).collect();
        for (uri, want) in cases {
            assert_eq!(
                match_redirect_uri(&reg, root, uri).is_some(),
                *want,
                "{registered:?} vs {uri}"
            );
        }
    }

    #[test]
    fn exact_match_only_without_wildcard() {
        check(
            &["https://app.example/cb"],
            None,
            &[
                ("https://app.example/cb", true),
                ("https://app.example/cb/", false),
                ("https://app.example/cb?x=1", false),
                ("https://app.example/cb#f", false),
                ("http://app.example/cb", false),
                ("https://app.example:8443/cb", false),
                ("https://app.example.evil.test/cb", false),
                ("https://APP.example/cb", false),
            ],
        );
    }

    #[test]
    fn trailing_wildcard_is_a_prefix_on_the_same_origin() {
        check(
            &["https://app.example/*"],
            None,
            &[
                ("https://app.example/", true),
                ("https://app.example/a/b?c=d", true),
                ("https://app.example.evil.test/", false),
                ("https://app.example@evil.test/", false),
                ("https://app.example/../admin", false),
                ("https://app.example/a/%2e%2e/b", false),
                ("http://app.example/x", false),
                ("https://app.example/x#frag", false),
            ],
        );
        check(
            &["http://localhost:8000/*"],
            None,
            &[
                ("http://localhost:8000/accounts/cb", true),
                ("http://localhost:8001/x", false),
                ("http://127.0.0.1:8000/x", false),
            ],
        );
    }

    #[test]
    fn relative_entries_resolve_against_root_url() {
        check(
            &["/callback/*"],
            Some("https://svc.example/"),
            &[
                ("https://svc.example/callback/x", true),
                ("https://other.example/callback/x", false),
            ],
        );
        check(
            &["/callback"],
            None,
            &[("https://svc.example/callback", false)],
        );
    }

    #[test]
    fn custom_schemes_and_bare_wildcard() {
        check(
            &["com.example.app:/oauth*"],
            None,
            &[
                ("com.example.app:/oauth/cb", true),
                ("com.other:/oauth", false),
            ],
        );
        check(
            &["*"],
            None,
            &[
                ("https://anything.example/x", true),
                ("https://u@evil.test/", false),
            ],
        );
    }

    #[test]
    fn malformed_requests_never_match() {
        check(
            &["*"],
            None,
            &[
                ("", false),
                ("no-scheme", false),
                ("https://a.example/ x", false),
                ("https:///path", false),
            ],
        );
    }

    #[test]
    fn web_origins_plus_and_literal() {
        let w = vec!["+".to_string(), "https://extra.example/".to_string()];
        let r = vec![
            "https://app.example/*".to_string(),
            "http://localhost:8000/cb".to_string(),
        ];
        assert_eq!(
            allowed_origins(&w, &r, None),
            vec![
                "http://localhost:8000",
                "https://app.example",
                "https://extra.example"
            ]
        );
    }
}
