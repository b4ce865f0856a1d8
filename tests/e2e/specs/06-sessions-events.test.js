// The realm's sessions (see, sign out) and the events page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browser, signIn, shot, flash, passwordLogin, CONSOLE } from '../helpers.js';

let b;
before(async () => { b = await browser(); await signIn(b.page); });
after(async () => { await b.close(); });

test('the master realm lists the console\'s own session; another session can be signed out', async () => {
  const { page } = b;
  const other = await passwordLogin('master', process.env.PORTCULLIS_ADMIN_USERNAME, process.env.PORTCULLIS_ADMIN_PASSWORD);
  assert.equal(other.status, 200);
  await page.goto(`${CONSOLE}/realms/master/sessions`);
  const rows = page.locator('#sessions tbody tr');
  assert.ok(await rows.count() >= 2);
  assert.equal(await page.locator('#sessions .badge:text-is("this console")').count(), 1);
  await shot(page, '50-sessions');
  const before = await rows.count();
  // Newest first: the password-grant session is on top.
  await rows.first().locator('button:has-text("Sign out")').click();
  assert.equal(await flash(page), 'Session signed out.');
  assert.equal(await page.locator('#sessions tbody tr').count(), before - 1);
  const r = await fetch(`${process.env.PORTCULLIS_URL}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'admin-cli', refresh_token: other.body.refresh_token }),
  });
  assert.equal(r.status, 400, 'the signed-out session no longer refreshes');
  // The console itself still works (its own session was not the one signed out).
  await page.goto(`${CONSOLE}/realms/myrealm/sessions`);
  assert.equal(await page.locator('h1').textContent(), 'Sessions');
});

test('the events page says admin events are not recorded yet', async () => {
  const { page } = b;
  await page.goto(`${CONSOLE}/realms/myrealm/events`);
  assert.equal((await page.locator('#no-events').textContent()).trim(), 'Admin events are not recorded yet.');
  await shot(page, '51-events');
});
