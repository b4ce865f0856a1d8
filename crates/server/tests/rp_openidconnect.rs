//! Full OpenID Connect flows over real HTTP against the spawned server, with the Rust
//! `openidconnect` crate as the relying party: discovery, authorization code with PKCE,
//! ID token verification against the JWKS, UserInfo, refresh rotation and reuse detection,
//! SSO across two clients, RP-initiated logout, `prompt=none` and code replay.
//!
//! The browser is a `reqwest` client with a cookie store that never follows redirects: it
//! fetches the login page, posts the form and reads the callback from `Location`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::*;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessToken, AccessTokenHash, AdditionalClaims, AuthorizationCode, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndSessionUrl, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IdToken, IdTokenClaims, IdTokenFields, IdTokenVerifier,
    IntrospectionUrl, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, PostLogoutRedirectUrl, RedirectUrl, RefreshToken, RequestTokenError,
    RevocationUrl, Scope, StandardErrorResponse, StandardTokenResponse, SubjectIdentifier,
    TokenIntrospectionResponse, TokenResponse, UserInfoClaims,
};
use reqwest::header::LOCATION;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::str::FromStr;
use url::Url;

const CB: &str = "http://127.0.0.1:9/cb";

/// The claims beyond the standard ones that these tests read: the session id and the
/// group-membership mapper's `groups`.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct RpClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<String>>,
}
impl AdditionalClaims for RpClaims {}

type RpIdToken =
    IdToken<RpClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
type RpIdTokenClaims = IdTokenClaims<RpClaims, CoreGenderClaim>;
type RpTokenResponse = StandardTokenResponse<
    IdTokenFields<
        RpClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;
type RpError = StandardErrorResponse<CoreErrorResponseType>;
/// A client from discovery (token and UserInfo endpoints "maybe set"), with the
/// introspection and revocation endpoints set from the discovery document.
type RpClient = Client<
    RpClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    RpError,
    RpTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointSet,
    EndpointSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

fn realm_json(name: &str, rotating: bool) -> String {
    let mut realm = json!({
        "realm": name,
        "enabled": true,
        "groups": [{"name": "editors"}],
        "clients": [
            {"clientId": "app", "enabled": true, "publicClient": false, "secret": "app-secret",
             "redirectUris": [CB],
             "attributes": {"post.logout.redirect.uris": "+"},
             "protocolMappers": [{
                 "name": "groups",
                 "protocol": "openid-connect",
                 "protocolMapper": "oidc-group-membership-mapper",
                 "config": {
                     "claim.name": "groups",
                     "full.path": "false",
                     "id.token.claim": "true",
                     "access.token.claim": "true",
                     "userinfo.token.claim": "true"
                 }
             }]},
            {"clientId": "app2", "enabled": true, "publicClient": false, "secret": "app2-secret",
             "redirectUris": [CB],
             "attributes": {"post.logout.redirect.uris": "+"}}
        ],
        "users": [
            {"username": "alice", "enabled": true, "email": "alice@example.com",
             "emailVerified": true, "firstName": "Alice", "lastName": "Liddell",
             "credentials": [{"type": "password", "value": "alice-pw"}],
             "groups": ["/editors"]}
        ]
    });
    if rotating {
        realm["revokeRefreshToken"] = json!(true);
        realm["refreshTokenMaxReuse"] = json!(0);
    }
    realm.to_string()
}

struct Env {
    _w: Workdir,
    server: Server,
}

impl Env {
    async fn start() -> Env {
        let w = Workdir::new();
        w.write("data/import/rp-realm.json", &realm_json("rp", false));
        w.write(
            "data/import/rotating-realm.json",
            &realm_json("rotating", true),
        );
        let server =
            Server::start(w.path(), &["start-dev", "--import-realm"], &[]).expect("server starts");
        Env { _w: w, server }
    }

    fn issuer(&self, realm: &str) -> String {
        format!("{}/realms/{realm}", self.server.origin())
    }

    /// A relying party for `client` of `realm`, configured from discovery.
    async fn rp(&self, realm: &str, client: &str, secret: &str) -> Rp {
        let issuer = self.issuer(realm);
        let http = backchannel();
        let metadata =
            CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.clone()).unwrap(), &http)
                .await
                .expect("discovery");
        assert_eq!(metadata.issuer().as_str(), issuer);
        let auth_methods: Vec<String> = metadata
            .token_endpoint_auth_methods_supported()
            .expect("token_endpoint_auth_methods_supported")
            .iter()
            .map(|m| {
                serde_json::to_value(m)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        for m in ["client_secret_basic", "client_secret_post"] {
            assert!(
                auth_methods.iter().any(|a| a == m),
                "{m} in {auth_methods:?}"
            );
        }
        assert!(
            !metadata.jwks().keys().is_empty(),
            "discovery fetched the JWKS"
        );

        // The endpoints that the core metadata type does not carry, from the same document.
        let doc: Value = http
            .get(format!("{issuer}/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let endpoint = |name: &str| doc[name].as_str().expect(name).to_string();
        assert_eq!(
            endpoint("introspection_endpoint"),
            format!("{issuer}/protocol/openid-connect/token/introspect")
        );
        assert_eq!(
            endpoint("revocation_endpoint"),
            format!("{issuer}/protocol/openid-connect/revoke")
        );
        assert_eq!(
            endpoint("end_session_endpoint"),
            format!("{issuer}/protocol/openid-connect/logout")
        );
        assert_eq!(
            metadata.token_endpoint().map(|u| u.as_str().to_string()),
            Some(format!("{issuer}/protocol/openid-connect/token"))
        );

        let jwks = metadata.jwks().clone();
        let client: RpClient = Client::from_provider_metadata(
            metadata,
            ClientId::new(client.to_string()),
            Some(ClientSecret::new(secret.to_string())),
        )
        .set_redirect_uri(RedirectUrl::new(CB.to_string()).unwrap())
        .set_introspection_url(IntrospectionUrl::new(endpoint("introspection_endpoint")).unwrap())
        .set_revocation_url(RevocationUrl::new(endpoint("revocation_endpoint")).unwrap());
        Rp {
            client,
            http,
            issuer,
            jwks,
            end_session: EndSessionUrl::new(endpoint("end_session_endpoint")).unwrap(),
        }
    }
}

/// The relying party's own HTTP client (back channel): no redirects, as openidconnect advises.
fn backchannel() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

struct Rp {
    client: RpClient,
    http: reqwest::Client,
    issuer: String,
    jwks: CoreJsonWebKeySet,
    end_session: EndSessionUrl,
}

/// An authorization request as the RP built it, with what it keeps until the callback.
struct Pending {
    url: Url,
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
}

/// The parameters of a redirect to the callback.
#[derive(Debug)]
struct Callback {
    location: String,
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    session_state: Option<String>,
    iss: Option<String>,
}

impl Callback {
    fn parse(location: &str) -> Callback {
        assert!(
            location.starts_with(&format!("{CB}?")),
            "redirect to the callback: {location}"
        );
        let url = Url::parse(location).unwrap();
        let get = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        Callback {
            location: location.to_string(),
            code: get("code"),
            state: get("state"),
            error: get("error"),
            session_state: get("session_state"),
            iss: get("iss"),
        }
    }

    /// The code of a successful answer to `pending`, after checking state and issuer.
    fn code_for(&self, rp: &Rp, pending: &Pending) -> AuthorizationCode {
        assert_eq!(self.error, None, "{}", self.location);
        assert_eq!(
            self.state.as_deref(),
            Some(pending.state.secret().as_str()),
            "state comes back: {}",
            self.location
        );
        assert_eq!(
            self.iss.as_deref(),
            Some(rp.issuer.as_str()),
            "iss: {}",
            self.location
        );
        assert!(self.session_state.is_some(), "{}", self.location);
        AuthorizationCode::new(self.code.clone().expect("code"))
    }
}

impl Rp {
    fn authorize(&self, prompt_none: bool) -> Pending {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".to_string()))
            .add_scope(Scope::new("email".to_string()))
            .set_pkce_challenge(challenge);
        if prompt_none {
            request = request.add_prompt(CoreAuthPrompt::None);
        }
        let (url, state, nonce) = request.url();
        Pending {
            url,
            state,
            nonce,
            verifier,
        }
    }

    async fn exchange(
        &self,
        code: AuthorizationCode,
        verifier: PkceCodeVerifier,
    ) -> Result<RpTokenResponse, CoreErrorResponseType> {
        self.client
            .exchange_code(code)
            .expect("token endpoint")
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .map_err(grant_error)
    }

    async fn refresh(
        &self,
        token: &RefreshToken,
    ) -> Result<RpTokenResponse, CoreErrorResponseType> {
        self.client
            .exchange_refresh_token(token)
            .expect("token endpoint")
            .request_async(&self.http)
            .await
            .map_err(grant_error)
    }

    async fn introspect(&self, token: &AccessToken) -> CoreTokenIntrospectionResponse {
        self.client
            .introspect(token)
            .request_async(&self.http)
            .await
            .expect("introspection")
    }

    async fn user_info(
        &self,
        token: &AccessToken,
        subject: &SubjectIdentifier,
    ) -> UserInfoClaims<RpClaims, CoreGenderClaim> {
        self.client
            .user_info(token.clone(), Some(subject.clone()))
            .expect("userinfo endpoint")
            .request_async(&self.http)
            .await
            .expect("userinfo")
    }

    /// The verified claims of the response's ID token, with the nonce of `pending` (or none
    /// expected, for a refresh), and `at_hash` checked against the access token.
    fn verify(&self, tokens: &RpTokenResponse, nonce: Option<&Nonce>) -> RpIdTokenClaims {
        let id_token = tokens.id_token().expect("an ID token");
        let verifier = self.client.id_token_verifier();
        let claims = match nonce {
            Some(n) => id_token.claims(&verifier, n),
            None => id_token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
        }
        .unwrap_or_else(|e| panic!("ID token verifies: {e:?}"))
        .clone();
        let alg = id_token.signing_alg().unwrap();
        let key = id_token
            .signing_key(&verifier)
            .expect("signing key in JWKS");
        let expected = AccessTokenHash::from_token(tokens.access_token(), alg, key).unwrap();
        assert_eq!(
            claims.access_token_hash(),
            Some(&expected),
            "at_hash matches the access token"
        );
        claims
    }
}

/// The OAuth error code of a failed token request.
fn grant_error<RE: std::error::Error + 'static>(
    e: RequestTokenError<RE, RpError>,
) -> CoreErrorResponseType {
    match e {
        RequestTokenError::ServerResponse(r) => r.error().clone(),
        other => panic!("expected an OAuth error response, got {other:?}"),
    }
}

/// A user agent with a cookie jar that never follows redirects.
struct Browser {
    http: reqwest::Client,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// GET; returns status, `Location` and body.
    async fn get(&self, url: &str) -> (u16, Option<String>, String) {
        let r = self.http.get(url).send().await.unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        (status, location, r.text().await.unwrap())
    }

    /// An authorization request answered straight away with a redirect (SSO, prompt=none).
    async fn redirected(&self, pending: &Pending) -> Callback {
        let (status, location, body) = self.get(pending.url.as_str()).await;
        assert_eq!(status, 302, "no login form expected: {body}");
        Callback::parse(&location.expect("Location"))
    }

    /// The authorization request answered with the login form, filled in and posted.
    async fn login(&self, pending: &Pending, user: &str, password: &str) -> Callback {
        let (status, _, html) = self.get(pending.url.as_str()).await;
        assert_eq!(status, 200, "login page: {html}");
        let (action, csrf) = login_form(&html);
        let r = self
            .http
            .post(&action)
            .form(&[
                ("username", user),
                ("password", password),
                ("csrf_token", csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let body = r.text().await.unwrap();
        assert_eq!(status, 302, "login succeeds: {body}");
        Callback::parse(&location.expect("Location"))
    }
}

/// The action and CSRF token of the `kc-form-login` form.
fn login_form(html: &str) -> (String, String) {
    let form = html
        .split("<form")
        .find(|f| f.contains("id=\"kc-form-login\""))
        .expect("kc-form-login form");
    let attr = |text: &str, marker: &str| {
        text.split(marker)
            .nth(1)
            .and_then(|r| r.split('"').next())
            .map(unescape)
    };
    let action = attr(form, "action=\"").expect("form action");
    assert!(form.contains("method=\"post\""), "POST form");
    let csrf = attr(form, "name=\"csrf_token\" value=\"").expect("csrf_token input");
    (action, csrf)
}

/// Undo the template's HTML escaping of an attribute value.
fn unescape(v: &str) -> String {
    v.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A fresh browser logged in as alice to `rp`: (browser, tokens, verified ID token claims).
async fn alice_logs_in(rp: &Rp) -> (Browser, RpTokenResponse, RpIdTokenClaims) {
    let browser = Browser::new();
    let pending = rp.authorize(false);
    let callback = browser.login(&pending, "alice", "alice-pw").await;
    let code = callback.code_for(rp, &pending);
    let tokens = rp
        .exchange(code, pending.verifier)
        .await
        .expect("code exchange");
    let claims = rp.verify(&tokens, Some(&pending.nonce));
    (browser, tokens, claims)
}

#[tokio::test(flavor = "multi_thread")]
async fn code_flow_with_pkce_verifies_the_id_token_and_reads_userinfo() {
    let env = Env::start().await;
    let rp = env.rp("rp", "app", "app-secret").await;
    let browser = Browser::new();

    let pending = rp.authorize(false);
    let query: Vec<(String, String)> = pending
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert!(
        query
            .iter()
            .any(|(k, v)| k == "code_challenge_method" && v == "S256"),
        "{query:?}"
    );
    let callback = browser.login(&pending, "alice", "alice-pw").await;
    let code = callback.code_for(&rp, &pending);

    let tokens = rp
        .exchange(code, pending.verifier)
        .await
        .expect("code exchange");
    assert_eq!(*tokens.token_type(), CoreTokenType::Bearer);
    assert!(tokens.refresh_token().is_some());
    let scopes: Vec<String> = tokens
        .scopes()
        .map(|s| s.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    assert!(scopes.iter().any(|s| s == "openid"), "{scopes:?}");

    // Nonce, signature against the JWKS, issuer, audience, expiry (and at_hash).
    let claims = rp.verify(&tokens, Some(&pending.nonce));
    assert_eq!(claims.issuer().as_str(), rp.issuer);
    assert_eq!(
        claims
            .audiences()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        ["app"]
    );
    assert_eq!(
        claims.nonce().map(|n| n.secret()),
        Some(pending.nonce.secret())
    );
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        Some("alice")
    );
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        Some("alice@example.com")
    );
    assert_eq!(
        claims.additional_claims().groups.as_deref(),
        Some(&["editors".to_string()][..])
    );
    assert!(claims.additional_claims().sid.is_some(), "sid in ID token");
    assert_eq!(
        callback.session_state,
        claims.additional_claims().sid,
        "session_state is the session id"
    );

    // The same token is refused by a verifier for another audience, another issuer, or with
    // another nonce; a token with a changed signature is refused.
    let id_token = tokens.id_token().unwrap();
    let app2 = env.rp("rp", "app2", "app2-secret").await;
    assert!(
        id_token
            .claims(&app2.client.id_token_verifier(), &pending.nonce)
            .is_err(),
        "audience is checked"
    );
    let other_issuer = IdTokenVerifier::new_confidential_client(
        ClientId::new("app".to_string()),
        ClientSecret::new("app-secret".to_string()),
        IssuerUrl::new(env.issuer("other")).unwrap(),
        rp.jwks.clone(),
    );
    assert!(
        id_token.claims(&other_issuer, &pending.nonce).is_err(),
        "issuer is checked"
    );
    assert!(
        id_token
            .claims(
                &rp.client.id_token_verifier(),
                &Nonce::new("another".to_string())
            )
            .is_err(),
        "nonce is checked"
    );
    let text = id_token.to_string();
    let (signed, signature) = text.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let tampered = RpIdToken::from_str(&format!("{signed}.{flipped}{}", &signature[1..])).unwrap();
    assert!(
        tampered
            .claims(&rp.client.id_token_verifier(), &pending.nonce)
            .is_err(),
        "signature is checked"
    );
    let no_keys = IdTokenVerifier::new_confidential_client(
        ClientId::new("app".to_string()),
        ClientSecret::new("app-secret".to_string()),
        IssuerUrl::new(rp.issuer.clone()).unwrap(),
        CoreJsonWebKeySet::new(vec![]),
    );
    assert!(
        id_token.claims(&no_keys, &pending.nonce).is_err(),
        "the key comes from the JWKS"
    );

    // UserInfo with the access token: same subject, the mapper's groups, profile and email.
    let info = rp.user_info(tokens.access_token(), claims.subject()).await;
    assert_eq!(info.subject(), claims.subject());
    assert_eq!(
        info.additional_claims().groups.as_deref(),
        Some(&["editors".to_string()][..])
    );
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(info.email_verified(), Some(true));
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));
    assert_eq!(
        info.given_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str()),
        Some("Alice")
    );
    assert_eq!(
        info.family_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str()),
        Some("Liddell")
    );

    // Introspection of the live access token.
    let intro = rp.introspect(tokens.access_token()).await;
    assert!(intro.active());
    assert_eq!(intro.client_id().map(|c| c.as_str()), Some("app"));
    assert_eq!(intro.sub(), Some(claims.subject().as_str()));

    // A second code from the same session without the PKCE verifier is refused.
    let pending2 = rp.authorize(false);
    let code2 = browser.redirected(&pending2).await.code_for(&rp, &pending2);
    let wrong = PkceCodeVerifier::new("x".repeat(43));
    assert_eq!(
        rp.exchange(code2, wrong).await.err(),
        Some(CoreErrorResponseType::InvalidGrant),
        "a wrong PKCE verifier is refused"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let env = Env::start().await;

    // Realm rp: a refresh answers new tokens for the same user; revocation ends the token.
    let rp = env.rp("rp", "app", "app-secret").await;
    let (_browser, first, claims) = alice_logs_in(&rp).await;
    let rt0 = first.refresh_token().unwrap().clone();
    let refreshed = rp.refresh(&rt0).await.expect("refresh");
    assert_ne!(
        refreshed.access_token().secret(),
        first.access_token().secret()
    );
    let rt1 = refreshed
        .refresh_token()
        .expect("a new refresh token")
        .clone();
    assert_ne!(rt1.secret(), rt0.secret());
    let again = rp.verify(&refreshed, None);
    assert_eq!(again.subject(), claims.subject());
    assert_eq!(
        again.additional_claims().sid,
        claims.additional_claims().sid
    );
    assert!(rp.introspect(refreshed.access_token()).await.active());

    // openidconnect refuses to revoke over plain HTTP (RFC 7009 asks for TLS), so this one
    // request is posted by hand, with client_secret_post.
    let r = rp
        .http
        .post(rp.client.revocation_url().as_str())
        .form(&[
            ("client_id", "app"),
            ("client_secret", "app-secret"),
            ("token", rt1.secret().as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "revocation");
    assert_eq!(
        rp.refresh(&rt1).await.err(),
        Some(CoreErrorResponseType::InvalidGrant),
        "a revoked refresh token is refused"
    );

    // Realm rotating: each refresh token is good once; reusing one revokes the family.
    let rot = env.rp("rotating", "app", "app-secret").await;
    let (_browser, first, _) = alice_logs_in(&rot).await;
    let rt0 = first.refresh_token().unwrap().clone();
    let second = rot.refresh(&rt0).await.expect("first refresh");
    let rt1 = second.refresh_token().unwrap().clone();
    assert_ne!(rt1.secret(), rt0.secret());
    let third = rot
        .refresh(&rt1)
        .await
        .expect("refresh with the newest token");
    let rt2 = third.refresh_token().unwrap().clone();
    assert_eq!(
        rot.refresh(&rt0).await.err(),
        Some(CoreErrorResponseType::InvalidGrant),
        "reuse of a rotated refresh token"
    );
    assert_eq!(
        rot.refresh(&rt2).await.err(),
        Some(CoreErrorResponseType::InvalidGrant),
        "after a reuse the newest refresh token is revoked too"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sso_gives_a_second_client_a_code_without_the_form() {
    let env = Env::start().await;
    let app = env.rp("rp", "app", "app-secret").await;
    let app2 = env.rp("rp", "app2", "app2-secret").await;

    let (browser, tokens, claims) = alice_logs_in(&app).await;
    let sid = claims.additional_claims().sid.clone().expect("sid");

    let pending = app2.authorize(false);
    let callback = browser.redirected(&pending).await;
    let code = callback.code_for(&app2, &pending);
    assert_eq!(callback.session_state.as_deref(), Some(sid.as_str()));
    let tokens2 = app2
        .exchange(code, pending.verifier)
        .await
        .expect("code exchange for app2");
    let claims2 = app2.verify(&tokens2, Some(&pending.nonce));
    assert_eq!(
        claims2
            .audiences()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        ["app2"]
    );
    assert_eq!(claims2.subject(), claims.subject());
    assert_eq!(
        claims2.additional_claims().sid.as_deref(),
        Some(sid.as_str())
    );
    assert_eq!(
        claims2.additional_claims().groups,
        None,
        "the group mapper belongs to app only"
    );

    // Both clients' tokens stay usable.
    assert!(app.introspect(tokens.access_token()).await.active());
    assert!(app2.introspect(tokens2.access_token()).await.active());
    app.refresh(tokens.refresh_token().unwrap())
        .await
        .expect("app refresh");
    app2.refresh(tokens2.refresh_token().unwrap())
        .await
        .expect("app2 refresh");
}

#[tokio::test(flavor = "multi_thread")]
async fn rp_initiated_logout_ends_the_session() {
    let env = Env::start().await;
    let rp = env.rp("rp", "app", "app-secret").await;
    let (browser, tokens, _) = alice_logs_in(&rp).await;
    assert!(rp.introspect(tokens.access_token()).await.active());

    let state = CsrfToken::new_random();
    let logout_url = LogoutRequest::from(rp.end_session.clone())
        .set_id_token_hint(tokens.id_token().unwrap())
        .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(CB.to_string()).unwrap())
        .set_state(state.clone())
        .http_get_url();
    let (status, location, body) = browser.get(logout_url.as_str()).await;
    assert_eq!(status, 302, "logout redirects: {body}");
    let location = Url::parse(&location.expect("Location")).unwrap();
    assert_eq!(
        format!(
            "{}://{}{}",
            location.scheme(),
            location.host_str().unwrap(),
            location.port().map(|p| format!(":{p}")).unwrap_or_default()
        ) + location.path(),
        CB
    );
    assert_eq!(
        location
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned()),
        Some(state.secret().clone())
    );

    assert_eq!(
        rp.refresh(tokens.refresh_token().unwrap()).await.err(),
        Some(CoreErrorResponseType::InvalidGrant),
        "the refresh token dies with the session"
    );
    assert!(
        !rp.introspect(tokens.access_token()).await.active(),
        "the access token is no longer active"
    );

    let pending = rp.authorize(true);
    let callback = browser.redirected(&pending).await;
    assert_eq!(callback.error.as_deref(), Some("login_required"));
    assert_eq!(callback.code, None);
    assert_eq!(
        callback.state.as_deref(),
        Some(pending.state.secret().as_str())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn prompt_none_without_a_session_is_login_required() {
    let env = Env::start().await;
    let rp = env.rp("rp", "app", "app-secret").await;
    let browser = Browser::new();
    let pending = rp.authorize(true);
    let callback = browser.redirected(&pending).await;
    assert_eq!(
        callback.error.as_deref(),
        Some("login_required"),
        "{}",
        callback.location
    );
    assert_eq!(callback.code, None);
    assert_eq!(
        callback.state.as_deref(),
        Some(pending.state.secret().as_str()),
        "the error carries the state"
    );
    assert_eq!(callback.iss.as_deref(), Some(rp.issuer.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_code_fails_and_revokes_the_first_exchange() {
    let env = Env::start().await;
    let rp = env.rp("rp", "app", "app-secret").await;
    let browser = Browser::new();
    let pending = rp.authorize(false);
    let callback = browser.login(&pending, "alice", "alice-pw").await;
    let code = callback.code_for(&rp, &pending);
    let verifier = pending.verifier.secret().clone();

    let tokens = rp
        .exchange(code.clone(), PkceCodeVerifier::new(verifier.clone()))
        .await
        .expect("first exchange");
    rp.verify(&tokens, Some(&pending.nonce));

    assert_eq!(
        rp.exchange(code, PkceCodeVerifier::new(verifier))
            .await
            .err(),
        Some(CoreErrorResponseType::InvalidGrant),
        "the code is good once"
    );
    assert_eq!(
        rp.refresh(tokens.refresh_token().unwrap()).await.err(),
        Some(CoreErrorResponseType::InvalidGrant),
        "the replay revokes what the first exchange issued"
    );
}
