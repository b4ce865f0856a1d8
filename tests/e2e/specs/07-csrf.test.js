// CSRF: every state-changing request needs the session's token; GET never changes state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browser, signIn, shot, userByName, CONSOLE } from '../helpers.js';

let b;
before(async () => { b = await browser(); await signIn(b.page); });
after(async () => { await b.close(); });

async function post(page, path, fields) {
  return page.evaluate(async ({ url, fields }) => {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
    return { status: r.status, url: r.url, redirected: r.redirected, text: await r.text() };
  }, { url: `${CONSOLE}${path}`, fields });
}

test('a POST without or with a wrong CSRF token is refused and changes nothing', async () => {
  const { page } = b;
  await page.goto(`${CONSOLE}/realms/myrealm/users`);
  const fields = { username: 'e2e-csrf-victim', enabled: 'on' };
  const missing = await post(page, '/realms/myrealm/users', fields);
  assert.equal(missing.status, 403);
  assert.match(missing.text, /CSRF/);
  const wrong = await post(page, '/realms/myrealm/users', { ...fields, csrf: 'not-the-token' });
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
  const ok = await post(page, '/realms/myrealm/users', { username: 'e2e-csrf-ok', enabled: 'on', csrf });
  assert.equal(ok.status, 200);
  assert.ok(ok.redirected && /\/realms\/myrealm\/users\/[0-9a-f-]+$/.test(ok.url), ok.url);
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
