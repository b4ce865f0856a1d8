// CSRF: every state-changing request needs the session's token; GET never changes state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browser, signIn, shot, userByName, CONSOLE } from '../helpers.js';

let b;
before(async () => { b = await browser(); await signIn(b.page); });
after(async () => { await b.close(); });

/** A form POST with the browser's cookies (the console's CSP forbids scripts on its pages,
 * fetch included, so the request is made beside the page, as another site's form would). */
async function post(path, fields) {
  const r = await b.context.request.post(`${CONSOLE}${path}`, { form: fields, maxRedirects: 0 });
  return { status: r.status(), location: r.headers().location, text: await r.text() };
}

test('page scripts cannot send requests: the CSP blocks fetch', async () => {
  const { page } = b;
  await page.goto(`${CONSOLE}/realms/myrealm/users`);
  const outcome = await page.evaluate(async () => {
    try { await fetch(location.href); return 'sent'; } catch { return 'blocked'; }
  });
  assert.equal(outcome, 'blocked');
});

test('a POST without or with a wrong CSRF token is refused and changes nothing', async () => {
  const { page } = b;
  await page.goto(`${CONSOLE}/realms/myrealm/users`);
  const fields = { username: 'e2e-csrf-victim', enabled: 'on' };
  const missing = await post('/realms/myrealm/users', fields);
  assert.equal(missing.status, 403);
  assert.match(missing.text, /CSRF/);
  const wrong = await post('/realms/myrealm/users', { ...fields, csrf: 'not-the-token' });
  assert.equal(wrong.status, 403);
  assert.equal(await userByName('myrealm', 'e2e-csrf-victim'), undefined);
  // The refusal page, as a browser would show it.
  await page.setContent(wrong.text.replace('<head>', `<head><base href="${CONSOLE}/">`));
  await shot(page, '60-csrf-refused');
});

test('the same POST with the page\'s token succeeds', async () => {
  const { page } = b;
  await page.goto(`${CONSOLE}/realms/myrealm/users/new`);
  const csrf = await page.locator('input[name="csrf"]').first().inputValue();
  const ok = await post('/realms/myrealm/users', { username: 'e2e-csrf-ok', enabled: 'on', csrf });
  assert.equal(ok.status, 303);
  assert.match(ok.location, /\/realms\/myrealm\/users\/[0-9a-f-]+$/);
  assert.ok(await userByName('myrealm', 'e2e-csrf-ok'));
});

test('a POST without a console session is refused', async () => {
  const r = await fetch(`${CONSOLE}/realms/myrealm/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'username=e2e-no-session&csrf=x',
    redirect: 'manual',
  });
  assert.equal(r.status, 403);
  assert.equal(await userByName('myrealm', 'e2e-no-session'), undefined);
});
