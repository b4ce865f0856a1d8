// The realm's sessions (see, sign out) and the events page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browser, signIn, shot, flash, passwordLogin, adminToken, BASE, CONSOLE } from '../helpers.js';

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

test('the events page shows that a realm does not record admin events, then lists them once it does', async () => {
  const { page } = b;
  await page.goto(`${CONSOLE}/realms/myrealm/events`);
  assert.match((await page.locator('#events-off').textContent()).trim(), /does not record admin events/);

  // Turn recording on through the admin API, then change something in the console.
  const put = await fetch(`${BASE}/admin/realms/myrealm/events/config`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${await adminToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ adminEventsEnabled: true, adminEventsDetailsEnabled: false }),
  });
  assert.equal(put.status, 204);
  await page.goto(`${CONSOLE}/realms/myrealm/groups`);
  await page.locator('form[aria-labelledby="create-heading"] #name').fill('e2e-audited');
  await page.getByRole('button', { name: 'Create group' }).click();

  await page.goto(`${CONSOLE}/realms/myrealm/events`);
  assert.equal(await page.locator('#events-off').count(), 0);
  const first = page.locator('#admin-events tbody tr').first();
  assert.equal((await first.locator('td').nth(1).textContent()).trim(), 'CREATE');
  assert.match((await first.locator('td').nth(2).textContent()).trim(), /^groups\//);
  await shot(page, '51-events');
});

test('the events page lists user events once the realm records them', async () => {
  const { page } = b;
  await page.goto(`${CONSOLE}/realms/myrealm/events`);
  assert.match((await page.locator('#user-events-off').textContent()).trim(), /does not record user events/);
  const put = await fetch(`${BASE}/admin/realms/myrealm/events/config`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${await adminToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ eventsEnabled: true }),
  });
  assert.equal(put.status, 204);
  // A failed password login of a user that does not exist: a LOGIN_ERROR.
  const failed = await passwordLogin('myrealm', 'e2e-nobody', 'not-a-password');
  assert.notEqual(failed.status, 200);

  await page.goto(`${CONSOLE}/realms/myrealm/events`);
  assert.equal(await page.locator('#user-events-off').count(), 0);
  const first = page.locator('#user-events tbody tr').first();
  assert.equal((await first.locator('td').nth(1).textContent()).trim(), 'LOGIN_ERROR');
  assert.equal((await first.locator('td').nth(3).textContent()).trim(), 'e2e-nobody');
  assert.equal((await first.locator('td').nth(5).textContent()).trim(), 'user_not_found');
  await shot(page, '52-user-events');
});
