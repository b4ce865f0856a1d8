//! The authorization request (OIDC Core §3.1.2.1, RFC 6749 §4.1.1), decided in two stages as
//! the security checklist requires:
//!
//! 1. [`identify`]: the client and the redirect URI. Until both are known to be valid nothing may
//!    be sent to the redirect URI, so every problem here is an [`PageError`] (an HTML error
//!    page, never a redirect: AZ-1, AZ-3).
//! 2. [`validate`]: everything else. Problems are [`RedirectError`]s: an error redirect to the
//!    validated URI carrying the request's `state` byte for byte (AZ-4).
//!
//! A parameter sent twice is refused (AZ-6); unknown parameters are ignored. Only
//! `response_type=code` is served (AZ-5).

use crate::error::OAuthError;
use crate::pkce::{self, ChallengeMethod};
use serde::{Deserialize, Serialize};

/// Longest value accepted for any one parameter (a `state` of 128+ characters must work).
pub const MAX_PARAM_LEN: usize = 4096;

/// The request's parameters in the order received (query string or form body).
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Params { pairs }
    }

    /// Parses `application/x-www-form-urlencoded` text (a query string or a form body).
    pub fn parse(encoded: &[u8]) -> Self {
        Params {
            pairs: url::form_urlencoded::parse(encoded).into_owned().collect(),
        }
    }

    fn all<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The single value of `name`: `Ok(None)` when absent or empty, an error when repeated.
    pub fn one(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut it = self.all(name);
        let first = it.next();
        if it.next().is_some() {
            return Err(OAuthError::invalid_request(format!(
                "Duplicated parameter: {name}"
            )));
        }
        match first {
            Some(v) if v.len() > MAX_PARAM_LEN => Err(OAuthError::invalid_request(format!(
                "Invalid parameter: {name}"
            ))),
            Some("") | None => Ok(None),
            Some(v) => Ok(Some(v)),
        }
    }
}

/// How the authorization response is delivered (OAuth 2.0 Multiple Response Types §2.1,
/// Form Post Response Mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    #[default]
    Query,
    Fragment,
    FormPost,
}

impl ResponseMode {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "query" => Some(ResponseMode::Query),
            "fragment" => Some(ResponseMode::Fragment),
            "form_post" => Some(ResponseMode::FormPost),
            _ => None,
        }
    }
}

/// A problem found before the redirect URI was validated: shown as an HTML page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    /// The human message (Keycloak's wording).
    pub message: &'static str,
    /// Private detail for the log.
    pub detail: String,
}

fn page(message: &'static str, detail: impl Into<String>) -> PageError {
    PageError {
        message,
        detail: detail.into(),
    }
}

/// A problem found after the redirect URI was validated: sent there as an error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    pub error: OAuthError,
    pub mode: ResponseMode,
}

/// Stage 1: the `client_id` and raw `redirect_uri`, each present once.
pub fn identify(params: &Params) -> Result<(String, String), PageError> {
    let client_id = params
        .one("client_id")
        .map_err(|e| page("Invalid Request", e.description))?
        .ok_or_else(|| page("Invalid Request", "Missing parameter: client_id"))?;
    let redirect_uri = params
        .one("redirect_uri")
        .map_err(|_| page("Invalid parameter: redirect_uri", "duplicated redirect_uri"))?
        .ok_or_else(|| page("Invalid parameter: redirect_uri", "missing redirect_uri"))?;
    Ok((client_id.to_owned(), redirect_uri.to_owned()))
}

/// What stage 2 needs to know about the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientFacts {
    pub standard_flow_enabled: bool,
    pub implicit_flow_enabled: bool,
    pub public_client: bool,
    /// The client's `pkce.code.challenge.method` attribute: `Some` makes PKCE mandatory with
    /// that method. Public clients without the attribute must use S256 (beyond Keycloak).
    pub pkce_method: Option<ChallengeMethod>,
}

impl ClientFacts {
    /// The facts from the client's `pkce.code.challenge.method` attribute value.
    pub fn pkce_from_attribute(value: Option<&str>) -> Option<ChallengeMethod> {
        match value.map(str::trim) {
            Some("S256") => Some(ChallengeMethod::S256),
            Some("plain") => Some(ChallengeMethod::Plain),
            _ => None,
        }
    }
}

/// `prompt` values we act on (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
}

/// A validated authorization request; stored with the login in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The raw `scope` parameter (resolved against the client's scopes by the caller).
    pub scope: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub id_token_hint: Option<String>,
}

impl AuthRequest {
    /// Does the request ask for an ID token (`openid` in `scope`)?
    pub fn is_openid(&self) -> bool {
        self.scope.split_ascii_whitespace().any(|s| s == "openid")
    }
}

/// Response types of other flows: refused with `unauthorized_client` as Keycloak does when the
/// client has no implicit/hybrid flow, rather than `unsupported_response_type`.
const OTHER_FLOW_TYPES: &[&str] = &["token", "id_token", "none"];

/// Stage 2, after the caller matched `redirect_uri` against the client's registered URIs.
pub fn validate(
    params: &Params,
    client_id: &str,
    redirect_uri: &str,
    client: ClientFacts,
) -> Result<AuthRequest, RedirectError> {
    // The response mode first: every later error is delivered with it.
    let mode_param = params.one("response_mode").map_err(|error| RedirectError {
        error,
        mode: ResponseMode::Query,
    })?;
    let mode = match mode_param {
        None => ResponseMode::Query,
        Some(m) => ResponseMode::parse(m).ok_or_else(|| RedirectError {
            error: OAuthError::invalid_request("Invalid parameter: response_mode"),
            mode: ResponseMode::Query,
        })?,
    };
    let fail = |error: OAuthError| RedirectError { error, mode };
    let one = |name: &str| params.one(name).map_err(fail);

    let state = one("state")?.map(str::to_owned);
    let response_type = one("response_type")?
        .ok_or_else(|| fail(OAuthError::missing_parameter("response_type")))?;
    let mut types: Vec<&str> = response_type.split_ascii_whitespace().collect();
    types.sort_unstable();
    types.dedup();
    match types.as_slice() {
        ["code"] => {
            if !client.standard_flow_enabled {
                return Err(fail(OAuthError::unauthorized_client(
                    "Client is not allowed to initiate browser login with given response_type. Standard flow is disabled for the client.",
                )));
            }
        }
        t if !t.is_empty()
            && t.iter()
                .all(|x| *x == "code" || OTHER_FLOW_TYPES.contains(x)) =>
        {
            let description = if client.implicit_flow_enabled {
                "Client is not allowed to initiate browser login with given response_type. Only the code flow is supported."
            } else {
                "Client is not allowed to initiate browser login with given response_type. Implicit flow is disabled for the client."
            };
            return Err(fail(OAuthError::unauthorized_client(description)));
        }
        _ => {
            return Err(fail(OAuthError::unsupported_response_type(
                "Unsupported response_type",
            )));
        }
    }

    let scope = one("scope")?.unwrap_or_default().to_owned();
    let nonce = one("nonce")?.map(str::to_owned);

    let mut prompt = Prompt::default();
    if let Some(p) = one("prompt")? {
        for v in p.split_ascii_whitespace() {
            match v {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" | "select_account" => {}
                _ => {
                    return Err(fail(OAuthError::invalid_request(
                        "Invalid parameter: prompt",
                    )));
                }
            }
        }
        if prompt.none && p.split_ascii_whitespace().count() > 1 {
            return Err(fail(OAuthError::invalid_request(
                "Invalid parameter: prompt",
            )));
        }
    }

    let max_age = match one("max_age")? {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| fail(OAuthError::invalid_request("Invalid parameter: max_age")))?,
        ),
    };

    // PKCE (RFC 7636 §4.3, §4.4.1).
    let challenge = one("code_challenge")?;
    let method_param = one("code_challenge_method")?;
    let required = client.pkce_method.or(if client.public_client {
        Some(ChallengeMethod::S256)
    } else {
        None
    });
    let (code_challenge, code_challenge_method) = match challenge {
        None => {
            if let Some(req) = required {
                let missing = if method_param.is_none() {
                    "code_challenge_method"
                } else {
                    "code_challenge"
                };
                return Err(fail(OAuthError::missing_parameter(missing).with_detail(
                    format!("client requires PKCE with {}", req.as_str()),
                )));
            }
            if method_param.is_some() {
                return Err(fail(OAuthError::missing_parameter("code_challenge")));
            }
            (None, None)
        }
        Some(c) => {
            let method = ChallengeMethod::from_param(method_param).map_err(fail)?;
            if let Some(req) = required
                && req != method
            {
                return Err(fail(OAuthError::invalid_request(
                    "Invalid parameter: code_challenge_method",
                )));
            }
            pkce::check_challenge_syntax(method, c).map_err(fail)?;
            (Some(c.to_owned()), Some(method.as_str().to_owned()))
        }
    };

    Ok(AuthRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        response_mode: mode,
        state,
        nonce,
        scope,
        code_challenge,
        code_challenge_method,
        prompt,
        max_age,
        login_hint: one("login_hint")?.map(str::to_owned),
        id_token_hint: one("id_token_hint")?.map(str::to_owned),
    })
}

/// Where the authorization response goes and how: for `query` and `fragment` the URL to
/// redirect to; for `form_post` the target and the fields of the auto-submitting form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Redirect(String),
    FormPost {
        action: String,
        fields: Vec<(String, String)>,
    },
}

/// Builds the authorization response (success fields or error fields) to `redirect_uri`.
/// `iss` is always added (RFC 9207); `state` when the request had one.
pub fn deliver(
    redirect_uri: &str,
    mode: ResponseMode,
    mut fields: Vec<(String, String)>,
    state: Option<&str>,
    issuer: &str,
) -> Delivery {
    if let Some(s) = state {
        fields.push(("state".into(), s.to_owned()));
    }
    fields.push(("iss".into(), issuer.to_owned()));
    match mode {
        ResponseMode::FormPost => Delivery::FormPost {
            action: redirect_uri.to_owned(),
            fields,
        },
        ResponseMode::Query | ResponseMode::Fragment => {
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields.iter())
                .finish();
            let (base, sep) = if mode == ResponseMode::Fragment {
                // Any fragment of the registered URI is replaced (fragments are refused at
                // registration matching anyway).
                let base = redirect_uri.split('#').next().unwrap_or(redirect_uri);
                (base, '#')
            } else {
                let base = redirect_uri.split('#').next().unwrap_or(redirect_uri);
                (base, if base.contains('?') { '&' } else { '?' })
            };
            Delivery::Redirect(format!("{base}{sep}{encoded}"))
        }
    }
}

/// The fields of an error response.
pub fn error_fields(error: &OAuthError) -> Vec<(String, String)> {
    vec![
        ("error".into(), error.code.as_str().to_owned()),
        ("error_description".into(), error.description.clone()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn p(q: &str) -> Params {
        Params::parse(q.as_bytes())
    }

    const CONFIDENTIAL: ClientFacts = ClientFacts {
        standard_flow_enabled: true,
        implicit_flow_enabled: false,
        public_client: false,
        pkce_method: None,
    };

    fn ok(q: &str) -> AuthRequest {
        validate(&p(q), "c", "https://app/cb", CONFIDENTIAL).unwrap()
    }

    fn err(q: &str, facts: ClientFacts) -> RedirectError {
        validate(&p(q), "c", "https://app/cb", facts).unwrap_err()
    }

    #[test]
    fn identify_needs_one_client_and_one_redirect_uri() {
        assert_eq!(
            identify(&p("client_id=a&redirect_uri=https%3A%2F%2Fx%2Fcb")).unwrap(),
            ("a".to_string(), "https://x/cb".to_string())
        );
        assert!(identify(&p("redirect_uri=x")).is_err());
        assert!(identify(&p("client_id=a")).is_err());
        assert!(identify(&p("client_id=a&client_id=b&redirect_uri=x")).is_err());
        assert!(identify(&p("client_id=a&redirect_uri=x&redirect_uri=y")).is_err());
    }

    #[test]
    fn code_flow_with_everything() {
        let r = ok(
            "response_type=code&scope=openid%20email&state=s1&nonce=n1&prompt=login&max_age=10&login_hint=alice&unknown=1",
        );
        assert_eq!(r.state.as_deref(), Some("s1"));
        assert_eq!(r.nonce.as_deref(), Some("n1"));
        assert!(r.prompt.login && !r.prompt.none);
        assert_eq!(r.max_age, Some(10));
        assert_eq!(r.login_hint.as_deref(), Some("alice"));
        assert!(r.is_openid());
        assert_eq!(r.response_mode, ResponseMode::Query);
    }

    #[test]
    fn response_types_other_than_code_are_refused_like_keycloak() {
        assert_eq!(
            err("response_type=token", CONFIDENTIAL).error.code,
            ErrorCode::UnauthorizedClient
        );
        assert_eq!(
            err("response_type=code%20id_token", CONFIDENTIAL)
                .error
                .code,
            ErrorCode::UnauthorizedClient
        );
        assert_eq!(
            err("response_type=banana", CONFIDENTIAL).error.code,
            ErrorCode::UnsupportedResponseType
        );
        let missing = err("state=x", CONFIDENTIAL);
        assert_eq!(missing.error.code, ErrorCode::InvalidRequest);
        assert_eq!(
            missing.error.description,
            "Missing parameter: response_type"
        );
        let no_standard = ClientFacts {
            standard_flow_enabled: false,
            ..CONFIDENTIAL
        };
        assert_eq!(
            err("response_type=code", no_standard).error.code,
            ErrorCode::UnauthorizedClient
        );
    }

    #[test]
    fn duplicates_and_bad_values_are_invalid_request_in_the_chosen_mode() {
        let e = err("response_type=code&state=a&state=b", CONFIDENTIAL);
        assert_eq!(e.error.code, ErrorCode::InvalidRequest);
        let e = err(
            "response_mode=fragment&response_type=code&max_age=-1",
            CONFIDENTIAL,
        );
        assert_eq!(e.mode, ResponseMode::Fragment);
        assert_eq!(e.error.code, ErrorCode::InvalidRequest);
        assert_eq!(
            err("response_type=code&response_mode=jwt", CONFIDENTIAL).mode,
            ResponseMode::Query
        );
        assert_eq!(
            err("response_type=code&prompt=none%20login", CONFIDENTIAL)
                .error
                .code,
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn pkce_rules() {
        let s256 = ClientFacts {
            pkce_method: Some(ChallengeMethod::S256),
            ..CONFIDENTIAL
        };
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let e = err("response_type=code", s256);
        assert_eq!(
            e.error.description,
            "Missing parameter: code_challenge_method"
        );
        let e = err(
            &format!("response_type=code&code_challenge={challenge}&code_challenge_method=plain"),
            s256,
        );
        assert_eq!(e.error.code, ErrorCode::InvalidRequest);
        let r = validate(
            &p(&format!(
                "response_type=code&code_challenge={challenge}&code_challenge_method=S256"
            )),
            "c",
            "u",
            s256,
        )
        .unwrap();
        assert_eq!(r.code_challenge_method.as_deref(), Some("S256"));
        // Any client may send a valid pair; plain is the default method.
        let r = ok(&format!("response_type=code&code_challenge={challenge}"));
        assert_eq!(r.code_challenge_method.as_deref(), Some("plain"));
        // Public clients must use S256 unless configured otherwise.
        let public = ClientFacts {
            public_client: true,
            ..CONFIDENTIAL
        };
        assert!(validate(&p("response_type=code"), "c", "u", public).is_err());
        // A malformed challenge is refused.
        assert!(
            validate(
                &p("response_type=code&code_challenge=short&code_challenge_method=S256"),
                "c",
                "u",
                CONFIDENTIAL
            )
            .is_err()
        );
    }

    #[test]
    fn long_state_survives_and_delivery_adds_iss() {
        let state = "s".repeat(300);
        let r = ok(&format!("response_type=code&state={state}"));
        assert_eq!(r.state.as_deref(), Some(state.as_str()));
        let d = deliver(
            "https://app/cb?x=1",
            ResponseMode::Query,
            vec![("code".into(), "abc".into())],
            r.state.as_deref(),
            "https://sso/realms/r",
        );
        let Delivery::Redirect(url) = d else {
            panic!("expected a redirect")
        };
        assert!(url.starts_with("https://app/cb?x=1&code=abc&state=sss"));
        assert!(url.ends_with("&iss=https%3A%2F%2Fsso%2Frealms%2Fr"));
        let Delivery::Redirect(frag) = deliver(
            "https://app/cb",
            ResponseMode::Fragment,
            vec![("code".into(), "abc".into())],
            None,
            "i",
        ) else {
            panic!("expected a redirect")
        };
        assert_eq!(frag, "https://app/cb#code=abc&iss=i");
        assert!(matches!(
            deliver("https://app/cb", ResponseMode::FormPost, vec![], Some("s"), "i"),
            Delivery::FormPost { ref fields, .. } if fields.len() == 2
        ));
    }
}
