//! Network-shaped values of the configuration: URL path prefixes, the public hostname, and the
//! IP ranges trusted to send forwarding headers.
//!
//! Each parser returns the reason as a sentence for the caller to wrap in an error that names
//! the option; nothing here knows where a value came from.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use url::Url;

/// Normalises a URL path prefix (`http-relative-path`, `http-management-relative-path`): it must
/// start with `/`; repeated slashes are collapsed; a trailing slash is dropped except for the
/// root; `.` and `..` segments, whitespace, `?`, `#` and `%` are refused.
pub fn normalise_relative_path(raw: &str) -> Result<String, String> {
    if !raw.starts_with('/') {
        return Err("Expected a path starting with '/', e.g. '/' or '/auth'.".to_owned());
    }
    if let Some(c) = raw
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '%' | '\\'))
    {
        return Err(format!(
            "Expected a plain path; {:?} is not allowed in it.",
            c
        ));
    }
    let segments: Vec<&str> = raw.split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Err("Expected a plain path; '.' and '..' segments are not allowed.".to_owned());
    }
    Ok(format!("/{}", segments.join("/")))
}

/// The public address given by `hostname`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hostname {
    /// A full URL: scheme, host, port and path are fixed (the issuer never varies).
    Url(Url),
    /// A bare host: scheme, port and path come from the request.
    Host(String),
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hostname::Url(url) => f.write_str(url.as_str()),
            Hostname::Host(host) => f.write_str(host),
        }
    }
}

impl Hostname {
    /// Parses `hostname`: a full `http`/`https` URL when it contains `://`, otherwise a host name
    /// or IP address without scheme, port or path.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.contains("://") {
            return parse_public_url(raw).map(Hostname::Url);
        }
        if raw.contains('/') || raw.contains(':') && !raw.starts_with('[') {
            return Err(
                "Expected a host name (e.g. 'sso.example.com') or a full URL (e.g. 'https://sso.example.com/auth'); a port or path needs the full URL form."
                    .to_owned(),
            );
        }
        match url::Host::parse(raw) {
            Ok(host) => Ok(Hostname::Host(host.to_string())),
            Err(e) => Err(format!("Expected a host name or a full URL ({e}).")),
        }
    }
}

/// Parses a full public URL (`hostname` as URL, `hostname-admin`): `http` or `https`, a host, no
/// user info, query or fragment; a trailing slash on the path is dropped.
pub fn parse_public_url(raw: &str) -> Result<Url, String> {
    let mut url = Url::parse(raw).map_err(|e| format!("Expected a full URL ({e})."))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "Expected an http or https URL, not '{}'.",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("Expected a URL with a host.".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Expected a URL without user name or password.".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("Expected a URL without query ('?') or fragment ('#').".to_owned());
    }
    let path = normalise_relative_path(url.path())?;
    url.set_path(&path);
    Ok(url)
}

/// An IP address range: an address and the number of leading bits that must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    /// The network address (host bits cleared).
    pub addr: IpAddr,
    /// Prefix length: 0-32 for IPv4, 0-128 for IPv6.
    pub prefix_len: u8,
}

impl IpNet {
    /// True when `ip` lies in the range; IPv4-mapped IPv6 peers (`::ffff:a.b.c.d`) match IPv4
    /// ranges.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask32(u32::from(ip), self.prefix_len) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask128(u128::from(ip), self.prefix_len) == u128::from(net)
            }
            _ => false,
        }
    }
}

fn mask32(bits: u32, prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => bits & (u32::MAX << (32 - u32::from(p.min(32)))),
    }
}

fn mask128(bits: u128, prefix: u8) -> u128 {
    match prefix {
        0 => 0,
        p => bits & (u128::MAX << (128 - u32::from(p.min(128)))),
    }
}

impl FromStr for IpNet {
    type Err = String;

    /// `10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`; host bits of a range are cleared.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("'{s}' is not an IP address or CIDR range."))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix_len = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("'{s}' has an invalid prefix length (0-{max}).")),
            },
        };
        let addr = match addr {
            IpAddr::V4(a) => IpAddr::V4(mask32(u32::from(a), prefix_len).into()),
            IpAddr::V6(a) => IpAddr::V6(mask128(u128::from(a), prefix_len).into()),
        };
        Ok(IpNet { addr, prefix_len })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let check = |raw: &str, want: Result<&str, &str>| {
            let got = normalise_relative_path(raw);
            match want {
                Ok(w) => assert_eq!(got.as_deref(), Ok(w), "{raw}"),
                Err(fragment) => {
                    let msg = got.err().unwrap_or_default();
                    assert!(msg.contains(fragment), "{raw}: {msg}");
                }
            }
        };
        check("/", Ok("/"));
        check("/auth", Ok("/auth"));
        check("/auth/", Ok("/auth"));
        check("//auth//x/", Ok("/auth/x"));
        check("auth", Err("starting with '/'"));
        check("", Err("starting with '/'"));
        check("/a/../b", Err("'..'"));
        check("/a/./b", Err("'..'"));
        check("/a b", Err("' '"));
        check("/a?x", Err("'?'"));
        check("/a#x", Err("'#'"));
    }

    #[test]
    fn hostnames() {
        let check = |raw: &str, want: Result<&str, &str>| {
            let got = Hostname::parse(raw).map(|h| match h {
                Hostname::Url(u) => format!("url {u}"),
                Hostname::Host(h) => format!("host {h}"),
            });
            match want {
                Ok(w) => assert_eq!(got.as_deref(), Ok(w), "{raw}"),
                Err(fragment) => {
                    let msg = got.err().unwrap_or_default();
                    assert!(msg.contains(fragment), "{raw}: {msg}");
                }
            }
        };
        check("sso.example.com", Ok("host sso.example.com"));
        check("SSO.Example.com", Ok("host sso.example.com"));
        check("10.0.0.1", Ok("host 10.0.0.1"));
        check("[::1]", Ok("host [::1]"));
        check(
            "https://sso.example.com/auth",
            Ok("url https://sso.example.com/auth"),
        );
        check(
            "https://sso.example.com/auth/",
            Ok("url https://sso.example.com/auth"),
        );
        check("http://sso:8080", Ok("url http://sso:8080/"));
        check("sso.example.com:8443", Err("full URL form"));
        check("sso.example.com/auth", Err("full URL form"));
        check("ftp://sso.example.com", Err("http or https"));
        check("https://sso.example.com/auth?x=1", Err("query"));
        check("https://sso.example.com/#x", Err("fragment"));
        check("https://u:p@sso.example.com/", Err("user name"));
        check("https://", Err("full URL"));
        check("bad host!", Err("host name"));
    }

    #[test]
    fn ip_ranges() {
        let net = |s: &str| s.parse::<IpNet>();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        assert_eq!(
            net("10.1.2.3/8").map(|n| n.to_string()),
            Ok("10.0.0.0/8".to_owned())
        );
        assert_eq!(net("::1").map(|n| n.to_string()), Ok("::1/128".to_owned()));
        assert!(net("10.0.0.0/33").is_err());
        assert!(net("fd00::/129").is_err());
        assert!(net("example.com").is_err());
        let ten = net("10.0.0.0/8").unwrap_or(IpNet {
            addr: ip("255.255.255.255"),
            prefix_len: 32,
        });
        assert!(ten.contains(ip("10.9.8.7")));
        assert!(ten.contains(ip("::ffff:10.9.8.7")));
        assert!(!ten.contains(ip("11.0.0.1")));
        assert!(!ten.contains(ip("fd00::1")));
        let any = net("0.0.0.0/0").unwrap_or(ten);
        assert!(any.contains(ip("1.2.3.4")));
        let v6 = net("fd00::/8").unwrap_or(ten);
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
    }
}
