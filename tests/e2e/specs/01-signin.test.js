// Sign-in through the real login page, the realm picker, a realm's overview, keyboard use,
// the security headers, and logout through master's RP-initiated logout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browser, signIn, shot, CONSOLE, BASE, ADMIN, PASSWORD } from '../helpers.js';

let b;
before(async () => { b = await browser(); });
after(async () => { await b.close(); });

test('an unauthenticated visit goes to the login page of master, as security-admin-console', async () => {
  const { page } = b;
  await page.goto(`${BASE}/admin/`);
  const url = new URL(page.url());
  assert.equal(url.pathname, '/auth/realms/master/protocol/openid-connect/auth');
  assert.equal(url.searchParams.get('client_id'), 'security-admin-console');
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(url.searchParams.get('state') && url.searchParams.get('nonce'));
  assert.equal(url.searchParams.get('redirect_uri'), `${CONSOLE}/callback`);
  await page.locator('#kc-form-login').waitFor();
  await shot(page, '01-login-page');
});

test('signing in shows the realm picker with both realms', async () => {
  const { page } = b;
  await signIn(page);
  assert.equal(new URL(page.url()).pathname, '/auth/admin/master/console/');
  assert.equal(await page.locator('h1').textContent(), 'Realms');
  assert.match(await page.locator('.who').textContent(), new RegExp(`Signed in as\\s+${ADMIN}`));
  const realms = await page.locator('table a').allTextContents();
  assert.deepEqual(realms.sort(), ['master', 'myrealm']);
  await shot(page, '02-realms');
});

test('the realm overview shows settings and counts', async () => {
  const { page } = b;
  await page.click('text=myrealm');
  assert.equal(await page.locator('h1').textContent(), 'Realm myrealm');
  assert.match(await page.locator('main').textContent(), /My Realm/);
  assert.match(await page.locator('main').textContent(), /\d+ users/);
  assert.match(await page.locator('main').textContent(), /4 groups/);
  await shot(page, '03-realm-overview');
});

test('console pages carry the security headers', async () => {
  const { page } = b;
  const resp = await page.goto(`${CONSOLE}/realms/myrealm/`);
  const h = resp.headers();
  assert.match(h['content-security-policy'], /default-src 'none'/);
  assert.match(h['content-security-policy'], /frame-ancestors 'none'/);
  assert.doesNotMatch(h['content-security-policy'], /script-src/);
  assert.equal(h['x-frame-options'], 'DENY');
  assert.equal(h['referrer-policy'], 'no-referrer');
  assert.equal(h['cache-control'], 'no-store');
  const cookies = await b.context.cookies(`${CONSOLE}/`);
  const session = cookies.find((c) => c.name === 'PORTCULLIS_CONSOLE');
  assert.ok(session, 'session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');
  assert.equal(session.path, '/auth/admin/master/console/');
});

test('keyboard: Tab reaches the skip link first, Enter moves to the main content; the nav works with Enter', async () => {
  const { page } = b;
  await page.goto(`${CONSOLE}/realms/myrealm/`);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Skip to main content');
  assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'none', 'focus is visible');
  await shot(page, '04-skip-link-focused');
  await page.keyboard.press('Enter');
  assert.equal(new URL(page.url()).hash, '#main');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  // From the top again: Tab through the header to the main navigation's "Users" entry.
  await page.goto(`${CONSOLE}/realms/myrealm/`);
  let label = '';
  for (let i = 0; i < 15 && label !== 'Users'; i++) {
    await page.keyboard.press('Tab');
    label = await page.evaluate(() => document.activeElement.textContent.trim());
  }
  assert.equal(label, 'Users', 'Tab reaches the Users entry of the navigation');
  assert.equal(await page.evaluate(() => !!document.activeElement.closest('nav[aria-label="Main"]')), true);
  await shot(page, '05-nav-focused');
  await Promise.all([page.waitForURL(/\/users$/), page.keyboard.press('Enter')]);
  assert.equal(await page.locator('h1').textContent(), 'Users');
});

test('logout ends the console session and the SSO session', async () => {
  const { page } = b;
  await page.goto(`${CONSOLE}/`);
  await page.click('#sign-out');
  await page.locator('#kc-form-login').waitFor();
  assert.equal(new URL(page.url()).pathname, '/auth/realms/master/protocol/openid-connect/auth');
  await shot(page, '06-after-logout');
  // The old console pages now ask for a login again.
  await page.goto(`${CONSOLE}/realms/myrealm/users?search=admin`);
  assert.equal(await page.locator('#kc-form-login').count(), 1);
  // Signing in again comes back to the page that was asked for.
  await page.fill('#username', ADMIN);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(/\/console\/realms\/myrealm\/users\?search=admin$/), page.click('#kc-login')]);
  assert.equal(await page.locator('h1').textContent(), 'Users');
});
