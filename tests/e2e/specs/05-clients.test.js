// Clients: list, detail, redirect URIs and web origins, the secret and its regeneration,
// protocol mappers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browser, signIn, shot, flash, api, CONSOLE } from '../helpers.js';

let b;
before(async () => { b = await browser(); await signIn(b.page); });
after(async () => { await b.close(); });

test('the clients list and a client with its mappers', async () => {
  const { page } = b;
  await page.goto(`${CONSOLE}/realms/myrealm/clients`);
  const ids = await page.locator('#clients tbody td:first-child').allTextContents();
  assert.ok(ids.includes('myclient') && ids.includes('admin-cli'), ids.join());
  await shot(page, '40-clients');
  await page.fill('#search', 'myc');
  await page.click('button:has-text("Search")');
  assert.deepEqual(await page.locator('#clients tbody td:first-child').allTextContents(), ['myclient']);
  await page.click('#clients a:text-is("myclient")');
  assert.equal(await page.locator('h1').textContent(), 'Client myclient');
  const mappers = await page.locator('#mappers tbody td:first-child').allTextContents();
  assert.ok(mappers.includes('groups') && mappers.includes('myclient-audience'), mappers.join());
  await shot(page, '41-client-detail');
});

test("edit a client's redirect URIs and web origins", async () => {
  const { page } = b;
  const uris = 'http://localhost:8000/*\nhttps://e2e.example/callback';
  await page.fill('#redirectUris', uris);
  await page.fill('#webOrigins', 'https://e2e.example');
  await page.click('#save-client');
  assert.equal(await flash(page), 'Client saved.');
  assert.equal(await page.inputValue('#redirectUris'), uris);
  const [c] = await api('/myrealm/clients?clientId=myclient');
  assert.deepEqual(c.redirectUris.sort(), ['http://localhost:8000/*', 'https://e2e.example/callback']);
  assert.deepEqual(c.webOrigins, ['https://e2e.example']);
});

test('show the secret and regenerate it after confirmation', async () => {
  const { page } = b;
  await page.click('summary:has-text("Show the secret")');
  const before = (await page.locator('#client-secret').textContent()).trim();
  assert.equal(before, 'my-client-secret');
  await shot(page, '42-client-secret-shown');
  await page.click('text=Regenerate secret…');
  assert.match(await page.locator('h1').textContent(), /Regenerate the secret of myclient\?/);
  await shot(page, '43-client-secret-confirm');
  await page.click('#confirm-regenerate');
  assert.match(await flash(page), /new secret was generated/);
  await page.click('summary:has-text("Show the secret")');
  const after = (await page.locator('#client-secret').textContent()).trim();
  assert.notEqual(after, before);
  const [c] = await api('/myrealm/clients?clientId=myclient');
  const secret = await api(`/myrealm/clients/${c.id}/client-secret`);
  assert.equal(secret.value, after);
});
