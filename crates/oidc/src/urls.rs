//! Which URLs a realm advertises and stamps into tokens (Keycloak's hostname v2 rules, compat
//! §6.3 and §1.4 "Frontend vs backend URLs").
//!
//! Invariants:
//! - [`realm_urls`] is a pure function of the configured policy and what the request carried;
//!   it never panics, and a malformed header value is ignored as if absent.
//! - The issuer, authorization, end-session and check-session URLs always come from the
//!   *frontend* base; token, introspection, userinfo, JWKS and revocation from the *backend*
//!   base, which equals the frontend unless `backchannel_dynamic` is set.
//! - Forwarded headers count only when the matching [`ProxyHeaderMode`] is configured: an
//!   untrusted `X-Forwarded-Host` must never be able to choose the issuer.

use std::fmt;

use url::Url;

/// `--hostname`: a full URL (fixes scheme, host, port and path) or a bare host (fixes the host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostnameSpec {
    FullUrl(Url),
    Host(String),
}

impl HostnameSpec {
    /// `https://sso.example/auth` → [`HostnameSpec::FullUrl`]; `sso.example` →
    /// [`HostnameSpec::Host`]. A URL must be http(s) without query, fragment or credentials.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.contains("://") {
            let url = Url::parse(value).map_err(|e| format!("hostname {value:?}: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(format!("hostname {value:?}: scheme must be http or https"));
            }
            if url.host_str().is_none()
                || url.query().is_some()
                || url.fragment().is_some()
                || !url.username().is_empty()
                || url.password().is_some()
            {
                return Err(format!(
                    "hostname {value:?}: only scheme, host, port and path are allowed"
                ));
            }
            Ok(HostnameSpec::FullUrl(url))
        } else {
            let (host, port) = parse_host_port(value)
                .ok_or_else(|| format!("hostname {value:?} is not a valid host name"))?;
            Ok(HostnameSpec::Host(match port {
                Some(p) => format!("{host}:{p}"),
                None => host,
            }))
        }
    }
}

/// `--proxy-headers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyHeaderMode {
    /// RFC 7239 `Forwarded`.
    Forwarded,
    /// `X-Forwarded-Proto`, `X-Forwarded-Host`, `X-Forwarded-Port`.
    XForwarded,
}

/// The hostname settings (what runs, not what was read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostnamePolicy {
    pub hostname: Option<HostnameSpec>,
    /// `--hostname-strict`. Keycloak refuses to start when strict and no hostname is set;
    /// [`HostnamePolicy::validate`] reports that, [`realm_urls`] then falls back to the request.
    pub strict: bool,
    /// `--hostname-backchannel-dynamic`: backend URLs follow the request.
    pub backchannel_dynamic: bool,
    pub proxy_headers: Option<ProxyHeaderMode>,
    /// `--http-relative-path` (e.g. `/auth`), appended to request-derived bases.
    pub relative_path: String,
}

impl Default for HostnamePolicy {
    /// `start-dev`: no hostname, not strict, no proxy headers, relative path `/`.
    fn default() -> Self {
        Self {
            hostname: None,
            strict: false,
            backchannel_dynamic: false,
            proxy_headers: None,
            relative_path: "/".into(),
        }
    }
}

impl HostnamePolicy {
    /// The combinations Keycloak refuses at startup.
    pub fn validate(&self) -> Result<(), String> {
        if self.strict && self.hostname.is_none() {
            return Err("hostname-strict is on but no hostname is configured".into());
        }
        if self.backchannel_dynamic && !matches!(self.hostname, Some(HostnameSpec::FullUrl(_))) {
            return Err("hostname-backchannel-dynamic requires hostname to be a full URL".into());
        }
        Ok(())
    }
}

/// What the request carried, as received (header values unparsed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// Scheme of the connection (`http` or `https`).
    pub scheme: String,
    /// `Host` (or HTTP/2 `:authority`).
    pub host_header: Option<String>,
    pub forwarded: Option<String>,
    pub x_forwarded_proto: Option<String>,
    pub x_forwarded_host: Option<String>,
    pub x_forwarded_port: Option<String>,
}

/// The URLs of one realm for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealmUrls {
    /// `{frontend}/realms/{realm}`; no trailing slash.
    pub issuer: String,
    /// Frontend base including the path (`https://public.example/auth`).
    pub frontend_base: String,
    /// Backend base including the path.
    pub backend_base: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub introspection_endpoint: String,
    pub userinfo_endpoint: String,
    pub end_session_endpoint: String,
    pub jwks_uri: String,
    pub revocation_endpoint: String,
    pub check_session_iframe: String,
    /// `{frontend}/realms/{realm}/login-actions` (login form targets, email links).
    pub login_actions: String,
    /// `{frontend}/realms/{realm}/account`.
    pub account: String,
}

// ---------------------------------------------------------------------------------------------
// Origins
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("http") {
            Some(Scheme::Http)
        } else if s.eq_ignore_ascii_case("https") {
            Some(Scheme::Https)
        } else {
            None
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// scheme://host[:port] + path, rendered with default ports omitted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Base {
    scheme: Scheme,
    /// Normalised: lower-case domain, dotted IPv4 or bracketed IPv6.
    host: String,
    port: Option<u16>,
    /// Empty or `/segment...` without a trailing slash.
    path: String,
}

impl fmt::Display for Base {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if let Some(p) = self.port
            && p != self.scheme.default_port()
        {
            write!(f, ":{p}")?;
        }
        f.write_str(&self.path)
    }
}

/// `/auth/`, `auth`, `/auth` → `/auth`; `/`, `` → ``.
fn normalise_path(path: &str) -> String {
    let trimmed = path.trim().trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

/// `host[:port]` as found in `Host`, `X-Forwarded-Host` or `Forwarded: host=`; IPv6 literals
/// in brackets. Returns the normalised host and the port, or `None` when malformed.
fn parse_host_port(value: &str) -> Option<(String, Option<u16>)> {
    let value = value.trim();
    if value.is_empty() || value.len() > 255 {
        return None;
    }
    let (host, port) = if value.starts_with('[') {
        let close = value.find(']')?;
        let (h, rest) = value.split_at(close + 1);
        match rest {
            "" => (h, None),
            r => (h, Some(r.strip_prefix(':')?)),
        }
    } else {
        match value.split_once(':') {
            None => (value, None),
            Some((h, p)) => (h, Some(p)),
        }
    };
    let port = match port {
        None => None,
        Some(p) => Some(parse_port(p)?),
    };
    // Only plain host characters; url's parser then normalises (and rejects the rest).
    if host.is_empty()
        || !host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'[' | b']' | b':')
        })
    {
        return None;
    }
    let parsed = url::Host::parse(host).ok()?;
    Some((parsed.to_string(), port))
}

/// A TCP port, 1..=65535, digits only.
fn parse_port(value: &str) -> Option<u16> {
    let value = value.trim();
    if value.is_empty() || value.len() > 5 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse::<u16>().ok().filter(|&p| p != 0)
}

/// The first element of a comma-separated header (proxies append their own hop).
fn first_element(value: &str) -> &str {
    value.split(',').next().unwrap_or("").trim()
}

/// RFC 7239 §4: the first `forwarded-element`'s `proto` and `host` parameters (names are
/// case-insensitive; values may be quoted strings).
fn parse_forwarded(value: &str) -> (Option<Scheme>, Option<(String, Option<u16>)>) {
    let mut proto = None;
    let mut host = None;
    for pair in first_element(value).split(';') {
        let Some((name, val)) = pair.split_once('=') else {
            continue;
        };
        let val = val.trim();
        let val = val
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(val);
        match name.trim().to_ascii_lowercase().as_str() {
            "proto" => proto = Scheme::parse(val),
            "host" => host = parse_host_port(val),
            _ => {}
        }
    }
    (proto, host)
}

/// Where the client thinks it is talking to: the connection, corrected by the forwarded
/// headers of the configured mode. A forwarded scheme resets the port to that scheme's default
/// (the `Host` port is the proxy's hop), unless a forwarded host or port supplies one.
fn request_origin(policy: &HostnamePolicy, req: &RequestInfo) -> (Scheme, String, Option<u16>) {
    let mut scheme = Scheme::parse(&req.scheme).unwrap_or(Scheme::Http);
    let (mut host, mut port) = req
        .host_header
        .as_deref()
        .and_then(parse_host_port)
        .unwrap_or_else(|| ("localhost".to_owned(), None));

    match policy.proxy_headers {
        None => {}
        Some(ProxyHeaderMode::Forwarded) => {
            if let Some(fwd) = req.forwarded.as_deref() {
                let (f_proto, f_host) = parse_forwarded(fwd);
                if let Some(s) = f_proto {
                    scheme = s;
                    port = None;
                }
                if let Some((h, p)) = f_host {
                    host = h;
                    port = p;
                }
            }
        }
        Some(ProxyHeaderMode::XForwarded) => {
            if let Some(s) = req
                .x_forwarded_proto
                .as_deref()
                .and_then(|v| Scheme::parse(first_element(v)))
            {
                scheme = s;
                port = None;
            }
            if let Some((h, p)) = req
                .x_forwarded_host
                .as_deref()
                .and_then(|v| parse_host_port(first_element(v)))
            {
                host = h;
                port = p;
            }
            if let Some(p) = req
                .x_forwarded_port
                .as_deref()
                .and_then(|v| parse_port(first_element(v)))
            {
                port = Some(p);
            }
        }
    }
    (scheme, host, port)
}

// ---------------------------------------------------------------------------------------------
// Realm URLs
// ---------------------------------------------------------------------------------------------

/// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The frontend and backend bases for a request (compat §6.3):
/// - full-URL hostname: frontend = that URL (its own path; the relative path is not added);
/// - bare hostname: the request's scheme and port with the configured host, plus the
///   relative path;
/// - no hostname: everything from the request, plus the relative path;
/// - backend = the request-derived base when `backchannel_dynamic`, else the frontend.
pub fn bases(policy: &HostnamePolicy, request: &RequestInfo) -> (String, String) {
    let (f, b) = base_pair(policy, request);
    (f.to_string(), b.to_string())
}

fn base_pair(policy: &HostnamePolicy, request: &RequestInfo) -> (Base, Base) {
    let (scheme, host, port) = request_origin(policy, request);
    let from_request = Base {
        scheme,
        host,
        port,
        path: normalise_path(&policy.relative_path),
    };
    let frontend = match &policy.hostname {
        Some(HostnameSpec::FullUrl(url)) => {
            let scheme = Scheme::parse(url.scheme()).unwrap_or(Scheme::Https);
            Base {
                scheme,
                host: url
                    .host()
                    .map(|h| h.to_string())
                    .unwrap_or_else(|| from_request.host.clone()),
                port: url.port(),
                path: normalise_path(url.path()),
            }
        }
        Some(HostnameSpec::Host(h)) => match parse_host_port(h) {
            Some((host, fixed_port)) => Base {
                host,
                port: fixed_port.or(from_request.port),
                ..from_request.clone()
            },
            None => from_request.clone(),
        },
        None => from_request.clone(),
    };
    let backend = if policy.backchannel_dynamic {
        from_request
    } else {
        frontend.clone()
    };
    (frontend, backend)
}

/// All URLs of `realm` as seen by this request.
pub fn realm_urls(policy: &HostnamePolicy, request: &RequestInfo, realm: &str) -> RealmUrls {
    let (frontend, backend) = base_pair(policy, request);
    let realm = encode_segment(realm);
    let fe_realm = format!("{frontend}/realms/{realm}");
    let be_realm = format!("{backend}/realms/{realm}");
    let fe_oidc = format!("{fe_realm}/protocol/openid-connect");
    let be_oidc = format!("{be_realm}/protocol/openid-connect");
    RealmUrls {
        authorization_endpoint: format!("{fe_oidc}/auth"),
        token_endpoint: format!("{be_oidc}/token"),
        introspection_endpoint: format!("{be_oidc}/token/introspect"),
        userinfo_endpoint: format!("{be_oidc}/userinfo"),
        end_session_endpoint: format!("{fe_oidc}/logout"),
        jwks_uri: format!("{be_oidc}/certs"),
        revocation_endpoint: format!("{be_oidc}/revoke"),
        check_session_iframe: format!("{fe_oidc}/login-status-iframe.html"),
        login_actions: format!("{fe_realm}/login-actions"),
        account: format!("{fe_realm}/account"),
        frontend_base: frontend.to_string(),
        backend_base: backend.to_string(),
        issuer: fe_realm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(u: &str) -> Option<HostnameSpec> {
        Some(HostnameSpec::parse(u).unwrap())
    }

    /// The platform recipe (compat §6.3): public full-URL hostname, backchannel dynamic,
    /// X-Forwarded-* from the gateway, relative path /auth.
    fn recipe(hostname: &str) -> HostnamePolicy {
        HostnamePolicy {
            hostname: full(hostname),
            strict: true,
            backchannel_dynamic: true,
            proxy_headers: Some(ProxyHeaderMode::XForwarded),
            relative_path: "/auth".into(),
        }
    }

    /// The service reference's dev flags: no hostname, not strict, backchannel dynamic.
    fn dev_permissive() -> HostnamePolicy {
        HostnamePolicy {
            hostname: None,
            strict: false,
            backchannel_dynamic: true,
            proxy_headers: Some(ProxyHeaderMode::XForwarded),
            relative_path: "/auth".into(),
        }
    }

    fn req(scheme: &str, host: &str) -> RequestInfo {
        RequestInfo {
            scheme: scheme.into(),
            host_header: Some(host.into()),
            ..Default::default()
        }
    }

    fn xf(
        mut r: RequestInfo,
        proto: Option<&str>,
        host: Option<&str>,
        port: Option<&str>,
    ) -> RequestInfo {
        r.x_forwarded_proto = proto.map(Into::into);
        r.x_forwarded_host = host.map(Into::into);
        r.x_forwarded_port = port.map(Into::into);
        r
    }

    fn via_gateway(public: &str) -> RequestInfo {
        xf(req("http", public), Some("https"), None, Some("443"))
    }

    fn direct() -> RequestInfo {
        req("http", "keycloak.local:8080")
    }

    struct Case {
        name: &'static str,
        policy: HostnamePolicy,
        request: RequestInfo,
        issuer: &'static str,
        token: &'static str,
    }

    fn check(cases: Vec<Case>) {
        for c in cases {
            let u = realm_urls(&c.policy, &c.request, "myrealm");
            assert_eq!(u.issuer, c.issuer, "{}: issuer", c.name);
            assert_eq!(
                u.token_endpoint,
                format!("{}/protocol/openid-connect/token", c.token),
                "{}: token endpoint",
                c.name
            );
            // Frontend-only URLs always follow the issuer; backend ones follow the token URL.
            assert_eq!(
                u.authorization_endpoint,
                format!("{}/protocol/openid-connect/auth", c.issuer),
                "{}",
                c.name
            );
            assert_eq!(
                u.end_session_endpoint,
                format!("{}/protocol/openid-connect/logout", c.issuer)
            );
            assert_eq!(
                u.jwks_uri,
                format!("{}/protocol/openid-connect/certs", c.token),
                "{}",
                c.name
            );
            assert_eq!(
                u.userinfo_endpoint,
                format!("{}/protocol/openid-connect/userinfo", c.token)
            );
        }
    }

    #[test]
    fn platform_setups() {
        const PUBLIC: &str = "https://public.example/auth/realms/myrealm";
        const INTERNAL: &str = "http://keycloak.local:8080/auth/realms/myrealm";
        check(vec![
            Case {
                name: "recipe, browser through the gateway",
                policy: recipe("https://public.example/auth"),
                request: via_gateway("public.example"),
                issuer: PUBLIC,
                token: PUBLIC,
            },
            Case {
                name: "recipe, service on the backchannel",
                policy: recipe("https://public.example/auth"),
                request: direct(),
                issuer: PUBLIC,
                token: INTERNAL,
            },
            Case {
                name: "recipe, gateway sets X-Forwarded-Host and rewrites Host",
                policy: recipe("https://public.example/auth"),
                request: xf(direct(), Some("https"), Some("public.example"), None),
                issuer: PUBLIC,
                token: PUBLIC,
            },
            Case {
                name: "prod, direct, backchannel dynamic",
                policy: recipe("https://app.example.com/auth"),
                request: direct(),
                issuer: "https://app.example.com/auth/realms/myrealm",
                token: INTERNAL,
            },
            Case {
                name: "prod, direct, backchannel fixed",
                policy: HostnamePolicy {
                    backchannel_dynamic: false,
                    ..recipe("https://app.example.com/auth")
                },
                request: direct(),
                issuer: "https://app.example.com/auth/realms/myrealm",
                token: "https://app.example.com/auth/realms/myrealm",
            },
            Case {
                name: "prod, X-Forwarded-Host moves backend URLs only, never the issuer",
                policy: recipe("https://app.example.com/auth"),
                request: xf(
                    req("http", "app.example.com"),
                    Some("https"),
                    Some("evil.example"),
                    None,
                ),
                issuer: "https://app.example.com/auth/realms/myrealm",
                token: "https://evil.example/auth/realms/myrealm",
            },
            // Keycloak's permissive dev mode: the issuer follows the request, so tokens
            // minted on the backchannel carry the internal issuer (why the recipe exists).
            Case {
                name: "dev permissive, through the gateway",
                policy: dev_permissive(),
                request: via_gateway("public.example"),
                issuer: PUBLIC,
                token: PUBLIC,
            },
            Case {
                name: "dev permissive, backchannel",
                policy: dev_permissive(),
                request: direct(),
                issuer: INTERNAL,
                token: INTERNAL,
            },
        ]);
    }

    #[test]
    fn bare_hostname_fixes_only_the_host() {
        let policy = HostnamePolicy {
            hostname: Some(HostnameSpec::parse("sso.example").unwrap()),
            strict: true,
            backchannel_dynamic: false,
            proxy_headers: Some(ProxyHeaderMode::XForwarded),
            relative_path: "/auth/".into(),
        };
        check(vec![
            Case {
                name: "bare host, direct",
                policy: policy.clone(),
                request: direct(),
                issuer: "http://sso.example:8080/auth/realms/myrealm",
                token: "http://sso.example:8080/auth/realms/myrealm",
            },
            Case {
                name: "bare host, via proxy",
                policy: policy.clone(),
                request: xf(direct(), Some("https"), Some("other.example"), None),
                issuer: "https://sso.example/auth/realms/myrealm",
                token: "https://sso.example/auth/realms/myrealm",
            },
        ]);
    }

    #[test]
    fn forwarded_headers_need_their_mode() {
        let mut policy = HostnamePolicy {
            relative_path: "/".into(),
            ..HostnamePolicy::default()
        };
        let mut r = xf(direct(), Some("https"), Some("x.example"), Some("8443"));
        r.forwarded =
            Some("for=10.0.0.1;proto=https;host=\"f.example:9443\", proto=http;host=evil".into());
        let issuer = |p: &HostnamePolicy| realm_urls(p, &r, "myrealm").issuer;

        policy.proxy_headers = None;
        assert_eq!(issuer(&policy), "http://keycloak.local:8080/realms/myrealm");
        policy.proxy_headers = Some(ProxyHeaderMode::XForwarded);
        assert_eq!(issuer(&policy), "https://x.example:8443/realms/myrealm");
        policy.proxy_headers = Some(ProxyHeaderMode::Forwarded);
        assert_eq!(issuer(&policy), "https://f.example:9443/realms/myrealm");
    }

    #[test]
    fn x_forwarded_details() {
        let policy = HostnamePolicy {
            proxy_headers: Some(ProxyHeaderMode::XForwarded),
            ..HostnamePolicy::default()
        };
        let base = |r: RequestInfo| bases(&policy, &r).0;
        // X-Forwarded-Host may carry a port; X-Forwarded-Port overrides it.
        assert_eq!(
            base(xf(direct(), None, Some("h.example:8443"), None)),
            "http://h.example:8443"
        );
        assert_eq!(
            base(xf(
                direct(),
                Some("https"),
                Some("h.example:8443"),
                Some("9443")
            )),
            "https://h.example:9443"
        );
        // A forwarded scheme drops the Host header's (internal) port.
        assert_eq!(
            base(xf(direct(), Some("https"), None, None)),
            "https://keycloak.local"
        );
        // Default ports are omitted.
        assert_eq!(
            base(xf(direct(), Some("https"), Some("h.example:443"), None)),
            "https://h.example"
        );
        assert_eq!(
            base(xf(direct(), Some("http"), Some("h.example"), Some("80"))),
            "http://h.example"
        );
        // Lists: the first element is the client-facing hop.
        assert_eq!(
            base(xf(
                direct(),
                Some("https, http"),
                Some("a.example, b.internal"),
                Some("443, 80")
            )),
            "https://a.example"
        );
        // Case-insensitive scheme and host.
        assert_eq!(
            base(xf(direct(), Some("HTTPS"), Some("Public.Example"), None)),
            "https://public.example"
        );
        // IPv6 literal.
        assert_eq!(base(req("http", "[::1]:8080")), "http://[::1]:8080");
    }

    #[test]
    fn malformed_values_are_ignored() {
        let policy = HostnamePolicy {
            proxy_headers: Some(ProxyHeaderMode::XForwarded),
            ..HostnamePolicy::default()
        };
        let base = |r: RequestInfo| bases(&policy, &r).0;
        let d = "http://keycloak.local:8080";
        for proto in ["javascript", "", "https://x", "ftp"] {
            assert_eq!(base(xf(direct(), Some(proto), None, None)), d, "{proto:?}");
        }
        for host in [
            "evil.example/path",
            "user@evil.example",
            "evil.example:abc",
            "a b",
            "",
            "evil.example:99999",
            "evil.example:0",
            "::1",
            "[::1",
            "[::1]x",
            "evil.example\r\nX: y",
            "évil.example",
            "%65vil.example",
        ] {
            assert_eq!(base(xf(direct(), None, Some(host), None)), d, "{host:?}");
        }
        for port in ["abc", "0", "70000", "-1", "", "443x"] {
            assert_eq!(base(xf(direct(), None, None, Some(port))), d, "{port:?}");
        }
        // Bad Host header and no Host at all: a fixed fallback, never a panic.
        assert_eq!(base(req("http", "bad host")), "http://localhost");
        assert_eq!(base(RequestInfo::default()), "http://localhost");
        assert_eq!(base(req("gopher", "h.example")), "http://h.example");
        // Forwarded with junk.
        let policy = HostnamePolicy {
            proxy_headers: Some(ProxyHeaderMode::Forwarded),
            ..HostnamePolicy::default()
        };
        for fwd in [
            "",
            ";;;",
            "proto",
            "proto=\"",
            "host=\"a b\";proto=gopher",
            "=,=;=",
        ] {
            let mut r = direct();
            r.forwarded = Some(fwd.into());
            assert_eq!(bases(&policy, &r).0, d, "{fwd:?}");
        }
    }

    #[test]
    fn relative_path_and_realm_encoding() {
        for (rp, want) in [
            ("/", ""),
            ("", ""),
            ("/auth", "/auth"),
            ("auth/", "/auth"),
            ("/a/b/", "/a/b"),
        ] {
            let policy = HostnamePolicy {
                relative_path: rp.into(),
                ..HostnamePolicy::default()
            };
            assert_eq!(
                bases(&policy, &req("http", "h")).0,
                format!("http://h{want}")
            );
        }
        let u = realm_urls(
            &HostnamePolicy::default(),
            &req("https", "h.example"),
            "my realm/x",
        );
        assert_eq!(u.issuer, "https://h.example/realms/my%20realm%2Fx");
        // The full-URL hostname keeps its own path and ignores the relative path.
        let policy = HostnamePolicy {
            hostname: full("https://sso.example:8443/kc/"),
            relative_path: "/auth".into(),
            ..HostnamePolicy::default()
        };
        let u = realm_urls(&policy, &direct(), "r");
        assert_eq!(u.issuer, "https://sso.example:8443/kc/realms/r");
        assert_eq!(u.frontend_base, "https://sso.example:8443/kc");
        assert_eq!(u.backend_base, "https://sso.example:8443/kc");
        assert_eq!(
            u.check_session_iframe,
            "https://sso.example:8443/kc/realms/r/protocol/openid-connect/login-status-iframe.html"
        );
        assert_eq!(
            u.login_actions,
            "https://sso.example:8443/kc/realms/r/login-actions"
        );
        assert_eq!(
            u.introspection_endpoint,
            "https://sso.example:8443/kc/realms/r/protocol/openid-connect/token/introspect"
        );
        assert_eq!(
            u.revocation_endpoint,
            "https://sso.example:8443/kc/realms/r/protocol/openid-connect/revoke"
        );
        assert_eq!(u.account, "https://sso.example:8443/kc/realms/r/account");
    }

    #[test]
    fn hostname_spec_parsing_and_policy_validation() {
        assert!(matches!(
            HostnameSpec::parse("https://a.example/auth"),
            Ok(HostnameSpec::FullUrl(_))
        ));
        assert_eq!(
            HostnameSpec::parse("A.Example"),
            Ok(HostnameSpec::Host("a.example".into()))
        );
        assert_eq!(
            HostnameSpec::parse("a.example:8443"),
            Ok(HostnameSpec::Host("a.example:8443".into()))
        );
        for bad in [
            "ftp://a.example",
            "https://a.example/?x=1",
            "https://u:p@a.example",
            "https://a.example/#f",
            "a b",
            "a/b",
            "",
        ] {
            assert!(HostnameSpec::parse(bad).is_err(), "{bad:?}");
        }
        assert!(recipe("https://public.example/auth").validate().is_ok());
        assert!(dev_permissive().validate().is_err()); // backchannel dynamic without a full URL
        assert!(
            HostnamePolicy {
                strict: true,
                ..HostnamePolicy::default()
            }
            .validate()
            .is_err()
        );
        assert!(HostnamePolicy::default().validate().is_ok());
    }
}
