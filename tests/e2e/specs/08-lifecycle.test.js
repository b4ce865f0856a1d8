// The account lifecycle on the real login pages, with the real mails caught by MailDev:
// self-registration with email verification, "forgot password", TOTP set-up and the one-time
// code at the next login, and an administrator's execute-actions mail. The spec creates a realm
// of its own through the admin API (SMTP pointing at MailDev) and a small loopback HTTP server
// standing in for the application that receives the authorization code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import {
  browser, shot, api, apiSend, userByName, passwordLogin, mailsTo, waitForMail, mailLink, totp,
  BASE, MAILDEV_SMTP,
} from '../helpers.js';

const RUN = randomBytes(4).toString('hex');
const REALM = `life-${RUN}`;
const CLIENT = 'e2e-app';
const POLICY_ERROR_LENGTH = 'Invalid password: minimum length 8.';
const POLICY_ERROR_DIGITS = 'Invalid password: must contain at least 1 numerical digits.';
const EMAIL_SENT = 'You should receive an email shortly with further instructions.';
const INVALID_OTP = 'Invalid authenticator code.';
/** A recipient address of this run only (MailDev may be shared with other suites). */
const address = (tag) => `${tag}-${RUN}@example.test`;

let app; // the stand-in application: it answers every request with a plain page
let CB;
const callbacks = [];

before(async () => {
  assert.ok(MAILDEV_SMTP, 'run through scripts/e2e (PORTCULLIS_TEST_MAILDEV_SMTP is needed)');
  app = createServer((req, res) => {
    callbacks.push(req.url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Application</title><h1>Application callback</h1>');
  });
  await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve));
  CB = `http://127.0.0.1:${app.address().port}/cb`;
  const [host, port] = MAILDEV_SMTP.split(':');
  await apiSend('POST', '', {
    realm: REALM,
    displayName: 'Lifecycle E2E',
    enabled: true,
    registrationAllowed: true,
    resetPasswordAllowed: true,
    verifyEmail: true,
    loginWithEmailAllowed: true,
    passwordPolicy: 'length(8) and digits(1)',
    smtpServer: { host, port, from: 'noreply@portcullis.test', fromDisplayName: 'Portcullis E2E' },
    clients: [{
      clientId: CLIENT, enabled: true, publicClient: true, standardFlowEnabled: true,
      redirectUris: [CB], attributes: { 'post.logout.redirect.uris': CB },
    }],
  });
});

after(async () => {
  await apiSend('DELETE', `/${REALM}`);
  await new Promise((resolve) => app.close(resolve));
});

/** A user of the realm made by the admin API (email verified, a password). */
async function makeUser(username, password, extra = {}) {
  const { location } = await apiSend('POST', `/${REALM}/users`, {
    username, enabled: true, email: address(username), emailVerified: true,
    firstName: username, lastName: 'Tester',
    credentials: [{ type: 'password', value: password, temporary: false }],
    ...extra,
  });
  return location.split('/').pop();
}

/** Open the login page of the test client (authorization code with PKCE). */
async function openLogin(page) {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const q = new URLSearchParams({
    client_id: CLIENT, redirect_uri: CB, response_type: 'code', scope: 'openid', state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  await page.goto(`${BASE}/realms/${REALM}/protocol/openid-connect/auth?${q}`);
  await page.locator('#kc-form-login').waitFor();
  return state;
}

/** Submit the login form. */
async function submitLogin(page, username, password) {
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#kc-login');
}

/** Wait for the redirect back to the application with a code for `state`. */
async function expectCode(page, state) {
  await page.waitForURL((u) => u.href.startsWith(CB));
  const url = new URL(page.url());
  assert.ok(url.searchParams.get('code'), `a code in ${url}`);
  assert.equal(url.searchParams.get('state'), state);
  assert.equal(url.searchParams.get('error'), null);
  assert.ok(callbacks.some((c) => c.includes(`state=${state}`)), 'the application received the callback');
}

/** The page's alert text (`#input-error`, the page-level message). */
async function alertText(page) {
  return (await page.locator('#input-error').textContent()).trim();
}

/** Render a mail's HTML part in a page of its own, check that its link is the text part's
 * link, and take a screenshot. */
async function shotMail(b, mail, name) {
  const p = await b.context.newPage();
  await p.setContent(mail.html);
  assert.equal(await p.locator('a').count(), 1, 'one link in the HTML part');
  assert.equal(await p.locator('a').getAttribute('href'), mailLink(mail), 'the HTML and text parts carry the same link');
  await shot(p, name);
  await p.close();
}

/** Check the mail's envelope and return its link, which must lead to this realm's action-token
 * endpoint. */
function checkMail(mail, to) {
  assert.equal(mail.from[0].address, 'noreply@portcullis.test');
  assert.equal(mail.to[0].address, to);
  assert.ok(mail.subject?.trim(), 'a subject');
  const link = mailLink(mail);
  assert.ok(link.startsWith(`${BASE}/realms/${REALM}/login-actions/action-token?key=`), link);
  return link;
}

test('lifecycle: register with a policy-checked password, verify the email, land logged in', async () => {
  const b = await browser();
  try {
    const { page } = b;
    const state = await openLogin(page);
    await shot(page, '80-login-with-register-link');
    await page.click('#kc-register-link');
    await page.locator('#kc-register-form').waitFor();
    assert.equal((await page.locator('h1').textContent()).trim(), 'Register');
    const email = address('newbie');
    await page.fill('#username', `newbie-${RUN}`);
    await page.fill('#email', email);
    await page.fill('#firstName', 'New');
    await page.fill('#lastName', 'Bie');
    await page.fill('#password', 'short1');
    await page.fill('#password-confirm', 'short1');
    await shot(page, '80-register-form');
    await page.click('#kc-register-form button[type=submit]');
    await page.locator('#input-error').waitFor();
    assert.equal(await alertText(page), POLICY_ERROR_LENGTH);
    // The profile fields are kept; the passwords are not.
    assert.equal(await page.inputValue('#email'), email);
    assert.equal(await page.inputValue('#password'), '');
    await shot(page, '80-register-policy-error');
    // Long enough but no digit: the second rule.
    await page.fill('#password', 'longenough');
    await page.fill('#password-confirm', 'longenough');
    await page.click('#kc-register-form button[type=submit]');
    await page.locator('#input-error').waitFor();
    assert.equal(await alertText(page), POLICY_ERROR_DIGITS);
    assert.equal(await userByName(REALM, `newbie-${RUN}`), undefined, 'no account made yet');

    await page.fill('#password', 'newbie-pass-1');
    await page.fill('#password-confirm', 'newbie-pass-1');
    await page.click('#kc-register-form button[type=submit]');
    await page.locator('#kc-verify-email-form').waitFor();
    assert.equal((await page.locator('h1').textContent()).trim(), 'Email verification');
    assert.match(await page.locator('main').textContent(), new RegExp(email.replace(/[.]/g, '\\.')));
    await shot(page, '80-verify-email-page');
    let user = await userByName(REALM, `newbie-${RUN}`);
    assert.equal(user.emailVerified, false);

    await waitForMail(email);
    // "Re-send email" sends a second mail and stays on the page.
    await page.click('#kc-verify-email-form button[type=submit]');
    await page.locator('#kc-verify-email-form').waitFor();
    assert.equal(await page.locator('.alert-error').count(), 0, 'no error after re-sending');
    const mail = await waitForMail(email, 2);
    const link = checkMail(mail, email);
    assert.notEqual(link, mailLink((await mailsTo(email))[0]), 'a new link');
    await shotMail(b, mail, '80-mail-verify-email');
    // The newest link, opened in the same browser, finishes the login of this tab.
    await page.goto(link);
    await expectCode(page, state);
    user = await userByName(REALM, `newbie-${RUN}`);
    assert.equal(user.emailVerified, true);
    assert.equal(user.email, email);
    // The new account signs in with the password it chose.
    assert.equal((await passwordLogin(REALM, `newbie-${RUN}`, 'newbie-pass-1')).status, 200);
  } finally {
    await b.close();
  }
});

test('lifecycle: forgot password, same answer for an unknown address, reset through the mail, link works once', async () => {
  const username = 'forgetful';
  const email = address(username);
  await makeUser(username, 'old-pass-1');
  const nobody = address('nobody');
  const b = await browser();
  try {
    const { page } = b;
    const state = await openLogin(page);
    await page.click('#kc-forgot-password');
    await page.locator('#kc-reset-password-form').waitFor();
    await shot(page, '80-reset-form');

    await page.fill('#username', nobody);
    await page.click('#kc-reset-password-form button[type=submit]');
    await page.locator('#kc-form-login').waitFor();
    assert.equal(await alertText(page), EMAIL_SENT);
    const unknownPage = (await page.locator('main').textContent()).replace(/\s+/g, ' ');
    await shot(page, '80-reset-sent');

    await page.click('#kc-forgot-password');
    await page.fill('#username', email);
    await page.click('#kc-reset-password-form button[type=submit]');
    await page.locator('#kc-form-login').waitFor();
    assert.equal(await alertText(page), EMAIL_SENT);
    assert.equal((await page.locator('main').textContent()).replace(/\s+/g, ' '), unknownPage,
      'the page says the same for a known and an unknown address');

    const mail = await waitForMail(email);
    assert.deepEqual(await mailsTo(nobody), [], 'no mail for the unknown address');
    const link = checkMail(mail, email);
    await shotMail(b, mail, '80-mail-reset');

    await page.goto(link);
    await page.locator('#kc-passwd-update-form').waitFor();
    await shot(page, '80-reset-new-password');
    await page.fill('#password-new', 'nodigits');
    await page.fill('#password-confirm', 'nodigits');
    await page.click('#kc-passwd-update-form button[type=submit]');
    await page.locator('#input-error').waitFor();
    assert.equal(await alertText(page), POLICY_ERROR_DIGITS);
    await shot(page, '80-reset-policy-error');
    await page.fill('#password-new', 'new-pass-2');
    await page.fill('#password-confirm', 'new-pass-3');
    await page.click('#kc-passwd-update-form button[type=submit]');
    await page.locator('#input-error').waitFor();
    assert.equal(await alertText(page), "Passwords don't match.");
    await page.fill('#password-new', 'new-pass-2');
    await page.fill('#password-confirm', 'new-pass-2');
    await page.click('#kc-passwd-update-form button[type=submit]');
    await expectCode(page, state);

    // The link works once: opened again it shows the "expired" page and changes nothing.
    const again = await page.goto(link);
    assert.equal(again.status(), 400);
    await page.locator('#kc-error-message').waitFor();
    assert.equal((await page.locator('#kc-error-message').textContent()).trim(),
      'This link has expired or has already been used. If you still need it, request a new one.');
    assert.equal(await page.locator('#kc-passwd-update-form').count(), 0);
    await shot(page, '80-reset-link-used');
  } finally {
    await b.close();
  }
  // In a fresh browser: the new password signs in, the old one does not.
  const fresh = await browser();
  try {
    const { page } = fresh;
    const state = await openLogin(page);
    await submitLogin(page, username, 'old-pass-1');
    await page.locator('#input-error').waitFor();
    assert.equal(await alertText(page), 'Invalid username or password.');
    await shot(page, '80-reset-old-password-refused');
    await submitLogin(page, username, 'new-pass-2');
    await expectCode(page, state);
  } finally {
    await fresh.close();
  }
});

test('lifecycle: a reset link mailed before the password changed no longer works', async () => {
  const username = 'twice';
  const email = address(username);
  await makeUser(username, 'twice-pass-1');
  const b = await browser();
  try {
    const { page } = b;
    const state = await openLogin(page);
    // Two "forgot password" mails, one after the other.
    for (const n of [1, 2]) {
      await page.click('#kc-forgot-password');
      await page.fill('#username', username);
      await page.click('#kc-reset-password-form button[type=submit]');
      await page.locator('#kc-form-login').waitFor();
      await waitForMail(email, n);
    }
    const [first, second] = (await mailsTo(email)).map(mailLink);
    assert.notEqual(first, second);
    // The newer one sets the password.
    await page.goto(second);
    await page.fill('#password-new', 'twice-pass-2');
    await page.fill('#password-confirm', 'twice-pass-2');
    await page.click('#kc-passwd-update-form button[type=submit]');
    await expectCode(page, state);
    // The older one, never used, was made for the password that is gone: refused.
    const resp = await page.goto(first);
    assert.equal(resp.status(), 400);
    assert.equal((await page.locator('#kc-error-message').textContent()).trim(),
      'This link has expired or has already been used. If you still need it, request a new one.');
    assert.equal(await page.locator('#kc-passwd-update-form').count(), 0);
    await shot(page, '80-reset-older-link-refused');
  } finally {
    await b.close();
  }
  assert.equal((await passwordLogin(REALM, username, 'twice-pass-2')).status, 200);
});

/** A code the realm's window (one period either side) accepts now and that is not in `spent`
 * (each code works once; the one that proved the set-up is spent too). */
function unspentCode(secret, spent) {
  const code = [0, 1, -1].map((step) => totp(secret, { step })).find((c) => !spent.includes(c));
  assert.ok(code, 'a code of the window is still unspent');
  return code;
}

/** A 6-digit code that the realm's window (one period either side) does not accept now. */
function wrongCode(secret) {
  const near = new Set([-1, 0, 1].map((step) => totp(secret, { step })));
  for (let step = 100; ; step++) {
    const c = totp(secret, { step });
    if (!near.has(c)) return c;
  }
}

test('lifecycle: an administrator asks for TOTP; set-up with a wrong then a right code (then spent); the next login asks for the code, which works once', async () => {
  const username = 'otp';
  const id = await makeUser(username, 'otp-pass-1');
  await apiSend('PUT', `/${REALM}/users/${id}`, { requiredActions: ['CONFIGURE_TOTP'] });
  assert.deepEqual((await api(`/${REALM}/users/${id}`)).requiredActions, ['CONFIGURE_TOTP']);
  const b = await browser();
  try {
    const { page } = b;
    let state = await openLogin(page);
    await submitLogin(page, username, 'otp-pass-1');
    await page.locator('#kc-totp-settings-form').waitFor();
    const qr = page.locator('#kc-totp-secret-qr-code');
    assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml;base64,/);
    assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code is displayed');
    const secret = (await page.locator('#kc-totp-secret-key').textContent()).replace(/\s+/g, '');
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    await shot(page, '80-totp-setup');

    await page.fill('#totp', wrongCode(secret));
    await page.click('#kc-totp-settings-form button[type=submit]');
    await page.locator('#input-error').waitFor();
    assert.equal(await alertText(page), INVALID_OTP);
    // The same secret is offered again.
    assert.equal((await page.locator('#kc-totp-secret-key').textContent()).replace(/\s+/g, ''), secret);
    await shot(page, '80-totp-setup-wrong-code');
    const setupCode = totp(secret);
    await page.fill('#totp', setupCode);
    await page.fill('#userLabel', 'Test phone');
    await page.click('#kc-totp-settings-form button[type=submit]');
    await expectCode(page, state);
    const user = await api(`/${REALM}/users/${id}`);
    assert.deepEqual(user.requiredActions, []);
    const creds = await api(`/${REALM}/users/${id}/credentials`);
    assert.deepEqual(creds.map((c) => c.type).sort(), ['otp', 'password']);
    assert.equal(creds.find((c) => c.type === 'otp').userLabel, 'Test phone');

    // RP-initiated logout, confirmed on the server's page.
    await page.goto(`${BASE}/realms/${REALM}/protocol/openid-connect/logout`);
    await page.locator('#kc-logout-confirm').waitFor();
    await shot(page, '80-logout-confirm');
    await page.click('#kc-logout');
    await page.locator('h1', { hasText: 'You are logged out' }).waitFor();
    await shot(page, '80-logged-out');

    // The next login asks for the code after the password.
    state = await openLogin(page);
    await submitLogin(page, username, 'otp-pass-1');
    await page.locator('#kc-otp-login-form').waitFor();
    await shot(page, '80-otp-step');
    await page.fill('#otp', wrongCode(secret));
    await page.click('#kc-otp-login-form button[type=submit]');
    await page.locator('#input-error').waitFor();
    assert.equal(await alertText(page), INVALID_OTP);
    await shot(page, '80-otp-wrong-code');
    // The set-up code is spent; another code of the window works.
    await page.fill('#otp', setupCode);
    await page.click('#kc-otp-login-form button[type=submit]');
    await page.locator('#input-error').waitFor();
    assert.equal(await alertText(page), INVALID_OTP);
    const code = unspentCode(secret, [setupCode]);
    await page.fill('#otp', code);
    await page.click('#kc-otp-login-form button[type=submit]');
    await expectCode(page, state);

    // A code works once: after another logout, the same code is refused; the next one works.
    await page.goto(`${BASE}/realms/${REALM}/protocol/openid-connect/logout`);
    await page.click('#kc-logout');
    await page.locator('h1', { hasText: 'You are logged out' }).waitFor();
    state = await openLogin(page);
    await submitLogin(page, username, 'otp-pass-1');
    await page.locator('#kc-otp-login-form').waitFor();
    await page.fill('#otp', code);
    await page.click('#kc-otp-login-form button[type=submit]');
    await page.locator('#input-error').waitFor();
    assert.equal(await alertText(page), INVALID_OTP);
    const next = unspentCode(secret, [setupCode, code]);
    assert.notEqual(next, code);
    await page.fill('#otp', next);
    await page.click('#kc-otp-login-form button[type=submit]');
    await expectCode(page, state);
  } finally {
    await b.close();
  }
});

test('lifecycle: execute-actions mail from an administrator: UPDATE_PASSWORD through the link, then a login with the new password', async () => {
  const username = 'exec';
  const email = address(username);
  const id = await makeUser(username, 'exec-pass-1');
  const q = new URLSearchParams({ client_id: CLIENT, redirect_uri: CB });
  await apiSend('PUT', `/${REALM}/users/${id}/execute-actions-email?${q}`, ['UPDATE_PASSWORD']);
  const mail = await waitForMail(email);
  const link = checkMail(mail, email);
  assert.match(mail.text, /password/i, 'the mail names the action');
  const b = await browser();
  try {
    const { page } = b;
    await shotMail(b, mail, '80-mail-execute-actions');
    // Opened in a browser with no login in progress.
    await page.goto(link);
    await page.locator('#kc-passwd-update-form').waitFor();
    await shot(page, '80-execute-update-password');
    await page.fill('#password-new', 'exec');
    await page.fill('#password-confirm', 'exec');
    await page.click('#kc-passwd-update-form button[type=submit]');
    await page.locator('#input-error').waitFor();
    assert.equal(await alertText(page), POLICY_ERROR_LENGTH);
    await page.fill('#password-new', 'exec-pass-2');
    await page.fill('#password-confirm', 'exec-pass-2');
    await page.click('#kc-passwd-update-form button[type=submit]');
    // The administrator's redirect URI follows.
    await page.waitForURL((u) => u.href.startsWith(CB));

    const state = await openLogin(page);
    await submitLogin(page, username, 'exec-pass-1');
    await page.locator('#input-error').waitFor();
    assert.equal(await alertText(page), 'Invalid username or password.');
    await submitLogin(page, username, 'exec-pass-2');
    await expectCode(page, state);
  } finally {
    await b.close();
  }
});

test('lifecycle: execute-actions mail without a redirect URI: profile then password, ending on the information page', async () => {
  const username = 'exec2';
  const email = address(username);
  const id = await makeUser(username, 'exec2-pass-1');
  await apiSend('PUT', `/${REALM}/users/${id}/execute-actions-email`, ['UPDATE_PASSWORD', 'UPDATE_PROFILE']);
  const link = checkMail(await waitForMail(email), email);
  const b = await browser();
  try {
    const { page } = b;
    await page.goto(link);
    // Keycloak's order: the password first, then the profile.
    await page.locator('#kc-passwd-update-form').waitFor();
    await page.fill('#password-new', 'exec2-pass-2');
    await page.fill('#password-confirm', 'exec2-pass-2');
    await page.click('#kc-passwd-update-form button[type=submit]');
    await page.locator('#kc-update-profile-form').waitFor();
    assert.equal(await page.inputValue('#email'), email);
    await page.fill('#firstName', '');
    await page.click('#kc-update-profile-form button[type=submit]');
    await page.locator('#input-error').waitFor();
    assert.equal(await alertText(page), 'Please specify first name.');
    await shot(page, '80-execute-update-profile-error');
    await page.fill('#firstName', 'Renamed');
    await page.fill('#lastName', 'Person');
    await page.click('#kc-update-profile-form button[type=submit]');
    await page.locator('#kc-info-message').waitFor();
    assert.equal((await page.locator('#kc-info-message').textContent()).trim(), 'Your account has been updated.');
    await shot(page, '80-execute-done-info');
  } finally {
    await b.close();
  }
  const user = await api(`/${REALM}/users/${id}`);
  assert.equal(user.firstName, 'Renamed');
  assert.equal(user.lastName, 'Person');
  assert.deepEqual(user.requiredActions, []);
  assert.equal((await passwordLogin(REALM, username, 'exec2-pass-2')).status, 200);
});
