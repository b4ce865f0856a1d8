// Shared helpers of the browser tests: Chromium start-up, sign-in through the real login page,
// screenshots, the admin REST API (to set up and check the server's state), MailDev's REST API
// (the mails the server sent) and RFC 6238 one-time codes.
import { chromium } from 'playwright-core';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

export const BASE = process.env.PORTCULLIS_URL;
export const ADMIN = process.env.PORTCULLIS_ADMIN_USERNAME;
export const PASSWORD = process.env.PORTCULLIS_ADMIN_PASSWORD;
export const OUT = process.env.E2E_OUTPUT ?? '../../target/test-output/e2e';
export const CONSOLE = `${BASE}/admin/master/console`;
/** MailDev, started (or reused) by scripts/e2e: SMTP `host:port` and the REST API's URL. */
export const MAILDEV_SMTP = process.env.PORTCULLIS_TEST_MAILDEV_SMTP;
export const MAILDEV_API = process.env.PORTCULLIS_TEST_MAILDEV_API?.replace(/\/+$/, '');
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

/** POST, PUT or DELETE on the admin REST API with a JSON body (when given); fails the test
 * unless the answer is 2xx. Returns the status, the `Location` header and the JSON body (or
 * null when there is none). */
export async function apiSend(method, path, body) {
  const headers = { authorization: `Bearer ${await adminToken()}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${BASE}/admin/realms${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return { status: r.status, location: r.headers.get('location'), body: text ? JSON.parse(text) : null };
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

/** The mails MailDev holds for `address` (oldest first). */
export async function mailsTo(address) {
  assert.ok(MAILDEV_API, 'run through scripts/e2e (PORTCULLIS_TEST_MAILDEV_API is needed)');
  const r = await fetch(`${MAILDEV_API}/email`);
  assert.ok(r.ok, `MailDev GET /email: ${r.status}`);
  const all = await r.json();
  const want = address.toLowerCase();
  return all.filter((m) => (m.to ?? []).some((t) => t.address?.toLowerCase() === want));
}

/** Wait (20 s at most, polling every 100 ms) until `address` has `count` mails; the newest. */
export async function waitForMail(address, count = 1) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const mails = await mailsTo(address);
    if (mails.length >= count) return mails[mails.length - 1];
    assert.ok(Date.now() < deadline, `no mail #${count} for ${address} within 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The action link of a mail: the first http(s) URL of its text part. */
export function mailLink(mail) {
  const m = /https?:\/\/\S+/.exec(mail.text ?? '');
  assert.ok(m, `a link in the mail's text: ${mail.text}`);
  return m[0];
}

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(ch);
    assert.ok(v >= 0, `base32 character ${ch}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The RFC 6238 code of a base32 `secret` (spaces allowed) at `timeMs`, with 30-second steps,
 * HMAC-SHA1 and 6 digits unless told otherwise (`step` moves that many periods away). */
export function totp(secret, { timeMs = Date.now(), step = 0, period = 30, digits = 6, algorithm = 'sha1' } = {}) {
  const counter = BigInt(Math.floor(timeMs / 1000 / period) + step);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(counter);
  const mac = createHmac(algorithm, base32Decode(secret)).update(msg).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}
