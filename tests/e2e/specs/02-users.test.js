// Users: search, create, edit, reset password, groups, realm role mapping, sessions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browser, signIn, shot, flash, api, adminToken, userByName, passwordLogin, CONSOLE, BASE } from '../helpers.js';

let b;
const users = `${CONSOLE}/realms/myrealm/users`;
before(async () => { b = await browser(); await signIn(b.page); });
after(async () => { await b.close(); });

test('create a user', async () => {
  const { page } = b;
  await page.goto(users);
  await page.click('text=Create user');
  await shot(page, '10-user-create');
  await page.fill('#username', 'e2e-alice');
  await page.fill('#email', 'alice@e2e.example');
  await page.fill('#firstName', 'Alice');
  await page.fill('#lastName', 'Liddell');
  await page.click('button:has-text("Create")');
  assert.equal(await flash(page), 'User e2e-alice created.');
  assert.equal(await page.locator('h1').textContent(), 'User e2e-alice');
  const u = await userByName('myrealm', 'e2e-alice');
  assert.equal(u.email, 'alice@e2e.example');
  assert.equal(u.enabled, true);
});

test('a duplicate username is refused with the API message', async () => {
  const { page } = b;
  await page.goto(`${users}/new`);
  await page.fill('#username', 'e2e-alice');
  await page.click('button:has-text("Create")');
  assert.match(await flash(page), /exists/i);
  assert.equal(await page.locator('h1').textContent(), 'Create user');
});

test('search users (paginated list)', async () => {
  const { page } = b;
  await page.goto(users);
  await page.fill('#search', 'liddell');
  await page.click('button:has-text("Search")');
  assert.equal(new URL(page.url()).searchParams.get('search'), 'liddell');
  const names = await page.locator('#users tbody td:first-child').allTextContents();
  assert.deepEqual(names, ['e2e-alice']);
  assert.match(await page.locator('#user-count').textContent(), /1 user match/);
  await shot(page, '11-users-search');
  await page.goto(`${users}?search=no-such-user-anywhere`);
  assert.equal(await page.locator('#users').count(), 0);
  assert.match(await page.locator('main').textContent(), /No users\./);
});

test('edit a user: profile fields, enabled, email verified', async () => {
  const { page } = b;
  await page.goto(`${users}?search=e2e-alice`);
  await page.click('#users a:text-is("e2e-alice")');
  await page.fill('#firstName', 'Alicia');
  await page.check('#emailVerified');
  await page.uncheck('#enabled');
  await page.click('#save-user');
  assert.equal(await flash(page), 'User saved.');
  assert.equal(await page.inputValue('#firstName'), 'Alicia');
  await shot(page, '12-user-details');
  const u = await userByName('myrealm', 'e2e-alice');
  assert.equal(u.firstName, 'Alicia');
  assert.equal(u.emailVerified, true);
  assert.equal(u.enabled, false);
  await page.check('#enabled');
  await page.click('#save-user');
  assert.equal((await userByName('myrealm', 'e2e-alice')).enabled, true);
});

test('reset a password: temporary sets UPDATE_PASSWORD; a permanent one signs in', async () => {
  const { page } = b;
  await page.fill('#password', 'Temporary-pass-1');
  await page.fill('#confirm', 'Temporary-pass-1');
  await page.click('#reset-password');
  assert.equal(await flash(page), 'Password reset.');
  let u = await userByName('myrealm', 'e2e-alice');
  assert.deepEqual(u.requiredActions, ['UPDATE_PASSWORD']);
  // Mismatched confirmation is refused before anything is sent.
  await page.fill('#password', 'one-password-1');
  await page.fill('#confirm', 'other-password-1');
  await page.click('#reset-password');
  assert.equal(await flash(page), 'The two passwords differ.');
  // A permanent password: the user can sign in with it.
  await page.fill('#password', 'Permanent-pass-1');
  await page.fill('#confirm', 'Permanent-pass-1');
  await page.uncheck('#temporary');
  await page.click('#reset-password');
  assert.equal(await flash(page), 'Password reset.');
  u = await userByName('myrealm', 'e2e-alice');
  assert.deepEqual(u.requiredActions, [], 'a permanent password clears UPDATE_PASSWORD');
  await shot(page, '12b-user-password-reset');
});

test('join a group and leave it', async () => {
  const { page } = b;
  const u = await userByName('myrealm', 'e2e-alice');
  await page.goto(`${users}/${u.id}/groups`);
  await page.selectOption('#group', { label: '/admins/superusers' });
  await page.click('#join-group');
  assert.equal(await flash(page), 'Joined the group.');
  assert.ok((await page.locator('#member-of').textContent()).includes('/admins/superusers'));
  await shot(page, '13-user-groups');
  let groups = await api(`/myrealm/users/${u.id}/groups`);
  assert.ok(groups.some((g) => g.path === '/admins/superusers'));
  await page.selectOption('#group', { label: '/editors' });
  await page.click('#join-group');
  await page.click('button[aria-label="Leave /editors"]');
  assert.equal(await flash(page), 'Left the group.');
  groups = await api(`/myrealm/users/${u.id}/groups`);
  assert.deepEqual(groups.map((g) => g.path).sort(), ['/admins/superusers', '/viewers']);
});

test('assign a realm role and remove it; effective roles include composites', async () => {
  const { page } = b;
  const u = await userByName('myrealm', 'e2e-alice');
  await page.goto(`${users}/${u.id}/roles`);
  await page.selectOption('#role', 'editor');
  await page.click('#assign-role');
  assert.equal(await flash(page), 'Role assigned.');
  assert.ok((await page.locator('#assigned-roles').textContent()).includes('editor'));
  const effective = await page.locator('#effective-roles').textContent();
  assert.ok(effective.includes('viewer') && effective.includes('admin'), effective);
  await shot(page, '14-user-roles');
  let mapped = await api(`/myrealm/users/${u.id}/role-mappings/realm`);
  assert.ok(mapped.some((r) => r.name === 'editor'));
  await page.click('button[aria-label="Remove editor"]');
  assert.equal(await flash(page), 'Role removed.');
  mapped = await api(`/myrealm/users/${u.id}/role-mappings/realm`);
  assert.ok(!mapped.some((r) => r.name === 'editor'));
});

test("see a user's session and sign it out", async () => {
  const { page } = b;
  const u = await userByName('myrealm', 'e2e-alice');
  const login = await passwordLogin('myrealm', 'e2e-alice', 'Permanent-pass-1');
  assert.equal(login.status, 200, JSON.stringify(login.body));
  await page.goto(`${users}/${u.id}/sessions`);
  assert.equal(await page.locator('#sessions tbody tr').count(), 1);
  await shot(page, '15-user-sessions');
  await page.click('#sessions button:has-text("Sign out")');
  assert.equal(await flash(page), 'Session signed out.');
  assert.match(await page.locator('main').textContent(), /No active sessions\./);
  // The refresh token of that session no longer works.
  const r = await fetch(`${process.env.PORTCULLIS_URL}/realms/myrealm/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'admin-cli', refresh_token: login.body.refresh_token }),
  });
  assert.equal(r.status, 400);
});

test('the users list is paginated', async () => {
  const { page } = b;
  for (let i = 0; i < 21; i++) {
    const r = await fetch(`${BASE}/admin/realms/myrealm/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await adminToken()}` },
      body: JSON.stringify({ username: `e2e-page-${String(i).padStart(2, '0')}`, enabled: true }),
    });
    assert.equal(r.status, 201);
  }
  await page.goto(`${users}?search=e2e-page`);
  assert.equal(await page.locator('#users tbody tr').count(), 20);
  assert.match(await page.locator('#user-count').textContent(), /21 users/);
  await page.click('a[rel="next"]');
  assert.equal(new URL(page.url()).searchParams.get('first'), '20');
  assert.deepEqual(await page.locator('#users tbody td:first-child').allTextContents(), ['e2e-page-20']);
  await shot(page, '16-users-page-2');
  await page.click('a[rel="prev"]');
  assert.equal(await page.locator('#users tbody tr').count(), 20);
  // A bad page position is a clear 400, not a crash.
  const bad = await page.goto(`${users}?first=-3`);
  assert.equal(bad.status(), 400);
  assert.match(await page.locator('#error-message').textContent(), /whole number/);
});
