// The account console at /realms/myrealm/account/: a user signs in on the real login page (as
// account-console, PKCE), edits the profile, changes the password, sets up TOTP (the code
// computed here per RFC 6238), signs out, signs in again with password + OTP, removes TOTP and
// signs out another session. Screenshots 90-account-*.png of every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { browser, shot, flash, adminToken, userByName, BASE } from '../helpers.js';

const REALM = 'myrealm';
const ACCOUNT = `${BASE}/realms/${REALM}/account`;
const USERNAME = `acct-${randomBytes(4).toString('hex')}`;
const FIRST_PASSWORD = 'first-pw-1';
const SECOND_PASSWORD = 'second-pw-2';

// --- helpers of this spec (helpers.js is shared and left alone) ---

/** RFC 4648 base32 (no padding) to bytes. */
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const i = alphabet.indexOf(ch);
    assert.ok(i >= 0, `base32 character ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP: HMAC-SHA1, 30 s steps, 6 digits (the realm's default OTP policy). */
function totp(secret, nowMs = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(nowMs / 1000 / 30)));
  const h = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const off = h[h.length - 1] & 0x0f;
  const bin = ((h[off] & 0x7f) << 24) | (h[off + 1] << 16) | (h[off + 2] << 8) | h[off + 3];
  return String(bin % 1_000_000).padStart(6, '0');
}

/** Create the spec's user through the admin API (default roles: view-profile, manage-account). */
async function createUser() {
  const r = await fetch(`${BASE}/admin/realms/${REALM}/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await adminToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      username: USERNAME, enabled: true, email: `${USERNAME}@example.com`, emailVerified: true,
      firstName: 'Ada', lastName: 'Lovelace',
      credentials: [{ type: 'password', value: FIRST_PASSWORD, temporary: false }],
    }),
  });
  assert.equal(r.status, 201, `create user: ${r.status} ${await r.text()}`);
}

/** One-time codes already used (the server accepts each once). */
const spentCodes = [];

/** Sign in to the account console on the real login page (with an OTP code when asked). */
async function signInToAccount(page, password, secret) {
  await page.goto(`${ACCOUNT}/`);
  await page.locator('#kc-form-login').waitFor();
  await page.fill('#username', USERNAME);
  await page.fill('#password', password);
  await page.click('#kc-login');
  if (secret) {
    await page.locator('#kc-otp-login-form').waitFor();
    await shot(page, '90-account-otp-login');
    // Each code works once (the set-up spent one): take another code of the accepted window.
    const code = [0, 30_000, -30_000].map((d) => totp(secret, Date.now() + d)).find((c) => !spentCodes.includes(c));
    spentCodes.push(code);
    await page.fill('#otp', code);
    await page.click('#kc-login');
  }
  await page.locator('#sign-out').waitFor();
  assert.equal(new URL(page.url()).pathname, `/auth/realms/${REALM}/account/`);
}

let b;
let other;
let secret;
before(async () => {
  await createUser();
  b = await browser();
});
after(async () => {
  await b.close();
  if (other) await other.close();
});

test('account: an unauthenticated visit goes to the realm login as account-console with PKCE', async () => {
  const { page } = b;
  await page.goto(`${ACCOUNT}`);
  const url = new URL(page.url());
  assert.equal(url.pathname, `/auth/realms/${REALM}/protocol/openid-connect/auth`);
  assert.equal(url.searchParams.get('client_id'), 'account-console');
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(url.searchParams.get('code_challenge') && url.searchParams.get('state') && url.searchParams.get('nonce'));
  assert.equal(url.searchParams.get('redirect_uri'), `${ACCOUNT}/callback`);
  await page.locator('#kc-form-login').waitFor();
  await shot(page, '90-account-login');
});

test('account: sign in shows Personal info with the security headers and cookie flags', async () => {
  const { page } = b;
  await signInToAccount(page, FIRST_PASSWORD);
  const resp = await page.goto(`${ACCOUNT}/`);
  const h = resp.headers();
  assert.match(h['content-security-policy'], /default-src 'none'/);
  assert.match(h['content-security-policy'], /frame-ancestors 'none'/);
  assert.doesNotMatch(h['content-security-policy'], /script-src/);
  assert.equal(h['x-frame-options'], 'DENY');
  assert.equal(h['cache-control'], 'no-store');
  const cookies = await b.context.cookies(`${ACCOUNT}/`);
  const session = cookies.find((c) => c.name === 'PORTCULLIS_ACCOUNT');
  assert.ok(session, 'session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');
  assert.equal(session.path, `/auth/realms/${REALM}/account/`);
  assert.equal(await page.locator('h1').textContent(), 'Personal info');
  assert.equal(await page.inputValue('#username'), USERNAME);
  assert.equal(await page.getAttribute('#username', 'readonly'), '', 'username is read-only');
  assert.equal(await page.evaluate(() => document.scripts.length), 0, 'no script');
  await shot(page, '90-account-personal-info');
});

test('account: keyboard reaches the skip link first, with a visible focus', async () => {
  const { page } = b;
  await page.goto(`${ACCOUNT}/`);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Skip to main content');
  assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'none');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
});

test('account: the profile is edited; a bad email is refused with the message', async () => {
  const { page } = b;
  await page.goto(`${ACCOUNT}/`);
  await page.fill('#email', 'not-an-email@');
  await page.evaluate(() => { document.querySelector('#email').type = 'text'; });
  await page.click('#save-profile');
  assert.equal((await page.locator('#profile-error').textContent()).trim(), 'Invalid email address.');
  assert.equal(await page.inputValue('#email'), 'not-an-email@', 'the value typed stays');
  await shot(page, '90-account-personal-info-error');
  await page.fill('#firstName', 'Augusta Ada');
  await page.fill('#email', `${USERNAME}@example.org`);
  await page.click('#save-profile');
  assert.equal(await flash(page), 'Your account has been updated.');
  assert.equal(await page.inputValue('#firstName'), 'Augusta Ada');
  assert.match(await page.locator('#email-hint').textContent(), /not verified/);
  const user = await userByName(REALM, USERNAME);
  assert.equal(user.firstName, 'Augusta Ada');
  assert.equal(user.email, `${USERNAME}@example.org`);
  assert.equal(user.emailVerified, false);
  await shot(page, '90-account-personal-info-saved');
});

test('account: the password change needs the current password and follows the policy', async () => {
  const { page } = b;
  await page.click('nav >> text=Signing in');
  assert.equal(await page.locator('h1').textContent(), 'Signing in');
  await shot(page, '90-account-signing-in');
  await page.click('#update-password');
  await shot(page, '90-account-password');
  await page.fill('#password', 'wrong-pw-0');
  await page.fill('#password-new', SECOND_PASSWORD);
  await page.fill('#password-confirm', SECOND_PASSWORD);
  await page.click('#save-password');
  assert.equal(await flash(page), 'Invalid existing password.');
  await shot(page, '90-account-password-wrong-current');
  await page.fill('#password', FIRST_PASSWORD);
  await page.fill('#password-new', 'short');
  await page.fill('#password-confirm', 'short');
  await page.click('#save-password');
  assert.equal(await flash(page), 'Invalid password: minimum length 8.');
  await page.fill('#password', FIRST_PASSWORD);
  await page.fill('#password-new', SECOND_PASSWORD);
  await page.fill('#password-confirm', SECOND_PASSWORD);
  await page.click('#save-password');
  assert.equal(await flash(page), 'Your password has been updated.');
  assert.equal(await page.locator('h1').textContent(), 'Signing in');
});

test('account: an authenticator is set up with a code computed from the page', async () => {
  const { page } = b;
  await page.click('#set-up-totp');
  assert.equal(await page.locator('.qr svg').count(), 1, 'QR code');
  secret = (await page.locator('#totp-secret').textContent()).replace(/\s/g, '');
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await shot(page, '90-account-totp-setup');
  await page.fill('#totp', '000000' === totp(secret) ? '111111' : '000000');
  await page.click('#save-totp');
  assert.match(await page.locator('#totp-error').textContent(), /Invalid authenticator code/);
  const setupCode = totp(secret);
  spentCodes.push(setupCode);
  await page.fill('#totp', setupCode);
  await page.fill('#userLabel', 'My phone');
  await page.click('#save-totp');
  assert.equal(await flash(page), 'Your authenticator application has been set up.');
  assert.match(await page.locator('#authenticators').textContent(), /My phone/);
  await shot(page, '90-account-signing-in-totp');
});

test('account: sign out, then sign in again with the new password and an OTP code', async () => {
  const { page } = b;
  await page.click('#sign-out');
  await page.locator('#kc-form-login').waitFor();
  await shot(page, '90-account-signed-out');
  await signInToAccount(page, SECOND_PASSWORD, secret);
  assert.match(await page.locator('#me').textContent(), new RegExp(USERNAME));
});

test('account: the authenticator is removed after a confirmation', async () => {
  const { page } = b;
  await page.goto(`${ACCOUNT}/account-security/signing-in`);
  await page.click('#authenticators >> text=Remove');
  assert.match(await page.locator('h1').textContent(), /Remove the authenticator/);
  await shot(page, '90-account-totp-remove');
  await page.click('#confirm-remove');
  assert.equal(await flash(page), 'The authenticator has been removed.');
  await page.locator('#no-authenticator').waitFor();
});

test('account: applications list the console in use with its link', async () => {
  const { page } = b;
  await page.click('nav >> text=Applications');
  const row = page.locator('#applications tr', { hasText: 'account-console' });
  assert.match(await row.textContent(), /In use/);
  assert.equal(await row.locator('a').getAttribute('href'), `${ACCOUNT}/`);
  await shot(page, '90-account-applications');
});

test('account: another session is signed out from Device activity', async () => {
  other = await browser();
  await signInToAccount(other.page, SECOND_PASSWORD);
  const { page } = b;
  await page.click('nav >> text=Device activity');
  const rows = page.locator('#sessions tbody tr');
  assert.ok(await rows.count() >= 2, 'both sessions are listed');
  await shot(page, '90-account-device-activity');
  await page.locator('#sessions tbody tr:not(.current) button').first().click();
  assert.equal(await flash(page), 'The session has been signed out.');
  await shot(page, '90-account-device-activity-after');
  // The other browser's session is gone: its next page asks to sign in.
  await other.page.goto(`${ACCOUNT}/applications`);
  await other.page.locator('#kc-form-login').waitFor();
});

test('account: a user without the account roles gets a clear 403 page and can sign out', async () => {
  // A second user, then its default roles (view-profile, manage-account) taken away.
  const name = `${USERNAME}-none`;
  const headers = { authorization: `Bearer ${await adminToken()}`, 'content-type': 'application/json' };
  let r = await fetch(`${BASE}/admin/realms/${REALM}/users`, {
    method: 'POST', headers,
    body: JSON.stringify({ username: name, enabled: true, email: `${name}@example.com`, firstName: 'No', lastName: 'Roles',
      credentials: [{ type: 'password', value: FIRST_PASSWORD, temporary: false }] }),
  });
  assert.equal(r.status, 201);
  const id = (await userByName(REALM, name)).id;
  const role = await (await fetch(`${BASE}/admin/realms/${REALM}/roles/default-roles-${REALM}`, { headers })).json();
  r = await fetch(`${BASE}/admin/realms/${REALM}/users/${id}/role-mappings/realm`, {
    method: 'DELETE', headers, body: JSON.stringify([{ id: role.id, name: role.name }]),
  });
  assert.equal(r.status, 204);
  const c = await browser();
  try {
    const { page } = c;
    await page.goto(`${ACCOUNT}/`);
    await page.fill('#username', name);
    await page.fill('#password', FIRST_PASSWORD);
    await page.click('#kc-login');
    await page.locator('#error-message').waitFor();
    assert.equal(await page.locator('h1').textContent(), 'No access');
    assert.match(await page.locator('#error-message').textContent(), /manage-account/);
    await shot(page, '90-account-no-access');
    await page.click('#sign-out');
    await page.locator('#kc-form-login').waitFor();
  } finally {
    await c.close();
  }
});
