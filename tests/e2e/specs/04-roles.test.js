// Realm roles with their composite hierarchy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browser, signIn, shot, CONSOLE } from '../helpers.js';

let b;
before(async () => { b = await browser(); await signIn(b.page); });
after(async () => { await b.close(); });

test('composites are shown as a nested hierarchy', async () => {
  const { page } = b;
  await page.goto(`${CONSOLE}/realms/myrealm/roles`);
  const admin = page.locator('ul.tree[data-role="admin"]');
  // admin → editor → viewer, and admin → myclient › manage-content.
  assert.equal(await admin.locator(':scope > li').count(), 2);
  const editor = admin.locator(':scope > li').filter({ hasText: 'editor' });
  assert.equal((await editor.locator('ul > li').first().textContent()).trim(), 'viewer');
  assert.ok((await admin.textContent()).includes('myclient › manage-content'));
  assert.equal(await page.locator('ul.tree[data-role="viewer"]').count(), 0, 'viewer is not composite');
  await shot(page, '30-roles-hierarchy');
});

test('the hierarchy can be folded and unfolded with the keyboard', async () => {
  const { page } = b;
  const summary = page.locator('summary:has-text("Composite hierarchy of admin")');
  await summary.focus();
  await page.keyboard.press('Enter');
  assert.equal(await summary.evaluate((s) => s.parentElement.open), false);
  await page.keyboard.press('Enter');
  assert.equal(await summary.evaluate((s) => s.parentElement.open), true);
});

test("master's admin role expands to the management roles", async () => {
  const { page } = b;
  await page.goto(`${CONSOLE}/realms/master/roles`);
  const text = await page.locator('ul.tree[data-role="admin"]').textContent();
  assert.ok(text.includes('create-realm'));
  assert.ok(text.includes('myrealm-realm › manage-users'));
  await shot(page, '31-master-roles');
});
