// Shared helpers of the console's browser tests: Chromium start-up, sign-in through the real
// login page, screenshots, and the admin REST API (to check the server's state).
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

export const BASE = process.env.PORTCULLIS_URL;
export const ADMIN = process.env.PORTCULLIS_ADMIN_USERNAME;
export const PASSWORD = process.env.PORTCULLIS_ADMIN_PASSWORD;
export const OUT = process.env.E2E_OUTPUT ?? '../../target/test-output/e2e';
export const CONSOLE = `${BASE}/admin/master/console`;
assert.ok(BASE && ADMIN && PASSWORD, 'run through scripts/e2e (PORTCULLIS_URL and the admin credentials are needed)');
mkdirSync(OUT, { recursive: true });

/** Debian's Chromium, headless, with a fresh profile; `close()` removes the profile. */
export async function browser() {
  const profile = mkdtempSync(join(tmpdir(), 'portcullis-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 860 },
  });
  const page = context.pages()[0] ?? await context.newPage();
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Open the console; sign in on the real login page when it asks. */
export async function signIn(page, path = '/') {
  await page.goto(`${CONSOLE}${path}`);
  if (await page.locator('#kc-form-login').count()) {
    await page.fill('#username', ADMIN);
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/auth/admin/master/console')), page.click('#kc-login')]);
  }
  await page.locator('#sign-out').waitFor();
}

/** A full-page screenshot under the output folder. */
export async function shot(page, name) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

/** The text of the page's flash message. */
export async function flash(page) {
  return (await page.locator('.alert').first().textContent()).trim();
}

let token;
let tokenAt = 0;
/** An admin API token (master's admin-cli, password grant), reused for 30 s (master's access
 * tokens live 60 s). */
export async function adminToken() {
  if (token && Date.now() - tokenAt < 30_000) return token;
  tokenAt = Date.now();
  const r = await fetch(`${BASE}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: ADMIN, password: PASSWORD }),
  });
  const body = await r.json();
  assert.equal(r.status, 200, `admin token: ${JSON.stringify(body)}`);
  token = body.access_token;
  return token;
}

/** GET from the admin REST API. */
export async function api(path) {
  const r = await fetch(`${BASE}/admin/realms${path}`, { headers: { authorization: `Bearer ${await adminToken()}` } });
  assert.ok(r.ok, `GET ${path}: ${r.status}`);
  return r.json();
}

/** The user of `realm` named exactly `username`. */
export async function userByName(realm, username) {
  const list = await api(`/${realm}/users?exact=true&username=${encodeURIComponent(username)}`);
  return list[0];
}

/** Sign `username` in to `realm` with a password grant (admin-cli): a new SSO session. */
export async function passwordLogin(realm, username, password) {
  const r = await fetch(`${BASE}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username, password }),
  });
  return { status: r.status, body: await r.json() };
}
