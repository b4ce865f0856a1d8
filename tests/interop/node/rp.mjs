// A relying party built on openid-client (v6) against Portcullis: discovery, authorization code
// with PKCE S256 + state + nonce, a browser login driven with fetch (cookies kept by hand), the
// callback with ID-token validation, UserInfo, refresh; for a confidential client also
// introspection, access-token revocation, SSO and RP-initiated logout, for a public client
// refresh-token revocation.
//
// Usage: node rp.mjs '{"issuer": ..., "clientId": ..., "clientSecret": null | "...",
//   "redirectUri": ..., "username": ..., "password": ..., "email": ..., "groups": [...],
//   "postLogoutRedirectUri": null | "..."}'
// Exits non-zero on the first mismatch.
import assert from 'node:assert/strict';
import * as client from 'openid-client';

const cfg = JSON.parse(process.argv[2]);
const step = (name) => console.log(`ok - ${name}`);

// --- a minimal browser: one cookie jar (all requests go to one host), no redirects followed ---
const jar = new Map();
async function browse(url, init = {}) {
  const headers = new Headers(init.headers);
  if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';');
    const name = pair.slice(0, pair.indexOf('=')).trim();
    const value = pair.slice(pair.indexOf('=') + 1).trim();
    const expired = attrs.some((a) => /^\s*max-age\s*=\s*(0|-)/i.test(a)) || value === '';
    if (expired) jar.delete(name);
    else jar.set(name, value);
  }
  return res;
}

const unescape = (s) => s
  .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
  .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
  .replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'")
  .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const attrs = (tag) => Object.fromEntries(
  [...tag.matchAll(/([\w-]+)\s*=\s*"([^"]*)"/g)].map(([, k, v]) => [k.toLowerCase(), unescape(v)]));

async function loginForm(authUrl) {
  const page = await browse(authUrl);
  const html = await page.text();
  assert.equal(page.status, 200, `authorization endpoint: ${page.status} ${html.slice(0, 300)}`);
  const form = html.match(/<form\b[^>]*\bid="kc-form-login"[^>]*>([\s\S]*?)<\/form>/i);
  assert.ok(form, 'login page has <form id="kc-form-login">');
  const formAttrs = attrs(form[0].slice(0, form[0].indexOf('>') + 1));
  assert.equal(formAttrs.method?.toLowerCase(), 'post');
  const fields = {};
  for (const [input] of form[1].matchAll(/<input\b[^>]*>/gi)) {
    const a = attrs(input);
    const unchecked = ['checkbox', 'radio'].includes(a.type) && !/\bchecked\b/i.test(input);
    if (a.name && !unchecked) fields[a.name] = a.value ?? '';
  }
  assert.ok('username' in fields && 'password' in fields, 'form has username and password');
  return { action: new URL(formAttrs.action, page.url || authUrl), fields };
}

// --- the relying party ---
const auth = cfg.clientSecret ? client.ClientSecretPost(cfg.clientSecret) : client.None();
const config = await client.discovery(new URL(cfg.issuer), cfg.clientId, undefined, auth,
  { execute: [client.allowInsecureRequests] });
const meta = config.serverMetadata();
assert.equal(meta.issuer, cfg.issuer);
step('discovery (issuer matches)');

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: cfg.redirectUri,
  scope: 'openid profile email',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});
assert.ok(authUrl.href.startsWith(meta.authorization_endpoint + '?'));

const { action, fields } = await loginForm(authUrl);
const posted = await browse(action, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ ...fields, username: cfg.username, password: cfg.password }),
});
if (posted.status !== 302) {
  assert.fail(`login POST: ${posted.status} ${(await posted.text()).slice(0, 500)}`);
}
const callback = new URL(posted.headers.get('location'));
assert.equal(callback.origin + callback.pathname, cfg.redirectUri);
assert.equal(callback.searchParams.get('iss'), cfg.issuer);
step('login form submitted, redirected back with code, state and iss');

// Checks state, iss, the code exchange with the PKCE verifier, the ID token's signature (JWKS),
// iss, aud, exp, iat and nonce.
const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
});
const claims = tokens.claims();
assert.equal(claims.iss, cfg.issuer);
assert.equal(claims.aud, cfg.clientId);
assert.equal(claims.azp, cfg.clientId);
assert.equal(claims.nonce, nonce);
assert.equal(claims.preferred_username, cfg.username);
assert.equal(tokens.token_type.toLowerCase(), 'bearer');
assert.equal(tokens.session_state, claims.sid);
assert.ok(tokens.refresh_token);
step('authorization code grant, ID token validated');

const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
assert.equal(info.email, cfg.email);
assert.equal(info.preferred_username, cfg.username);
assert.deepEqual([...info.groups].sort(), [...cfg.groups].sort());
step('userinfo (subject matches the ID token)');

const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
assert.notEqual(refreshed.access_token, tokens.access_token);
assert.equal(refreshed.claims()?.sub, claims.sub);
step('refresh token grant (new ID token has the same subject)');

if (cfg.clientSecret) {
  const intro = await client.tokenIntrospection(config, refreshed.access_token);
  assert.equal(intro.active, true);
  assert.equal(intro.sub, claims.sub);
  assert.equal(intro.client_id, cfg.clientId);
  step('introspection');

  // Revoking an access token puts its id on the revoked list; the session lives on.
  await client.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' });
  assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false);
  assert.equal((await client.tokenIntrospection(config, refreshed.access_token)).active, true);
  step('revocation of an access token');
}

if (cfg.postLogoutRedirectUri) {
  const sso = await browse(client.buildAuthorizationUrl(config, {
    redirect_uri: cfg.redirectUri, scope: 'openid', state: client.randomState(),
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  }));
  assert.equal(sso.status, 302, 'single sign-on: no login form while the session lives');
  step('single sign-on from the session cookie');

  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: refreshed.id_token ?? tokens.id_token,
    post_logout_redirect_uri: cfg.postLogoutRedirectUri,
    state: 'bye',
  });
  assert.ok(endSession.href.startsWith(meta.end_session_endpoint + '?'));
  const out = await browse(endSession);
  assert.equal(out.status, 302, `end session: ${out.status}`);
  const back = new URL(out.headers.get('location'));
  assert.equal(back.origin + back.pathname, cfg.postLogoutRedirectUri);
  assert.equal(back.searchParams.get('state'), 'bye');
  await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token),
    (err) => err.error === 'invalid_grant');
  const again = await browse(authUrl);
  assert.equal(again.status, 200, 'after logout the login form is shown again');
  step('RP-initiated logout ends the session (refresh refused, login form again)');
} else {
  // Revoking a refresh token ends the client's session.
  await client.tokenRevocation(config, refreshed.refresh_token,
    { token_type_hint: 'refresh_token' });
  await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token),
    (err) => err.error === 'invalid_grant');
  step('revocation of a refresh token: refresh refused');
}
console.log('openid-client: all checks passed');
