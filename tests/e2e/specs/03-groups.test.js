// The group tree: nesting, create (top level and child), rename, members, delete with a
// confirmation page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { browser, signIn, shot, flash, api, CONSOLE } from '../helpers.js';

let b;
const groups = `${CONSOLE}/realms/myrealm/groups`;
before(async () => { b = await browser(); await signIn(b.page); });
after(async () => { await b.close(); });

test('the tree shows nested groups', async () => {
  const { page } = b;
  await page.goto(groups);
  // superusers is drawn inside admins' list.
  const nested = page.locator('#group-tree > li:has(> a:text-is("admins")) ul a:text-is("superusers")');
  assert.equal(await nested.count(), 1);
  await shot(page, '20-group-tree');
});

test('create a top-level group and a child group, then rename the child', async () => {
  const { page } = b;
  await page.goto(groups);
  await page.fill('#name', 'e2e-team');
  await page.click('button:has-text("Create group")');
  assert.equal(await flash(page), 'Group e2e-team created.');
  await page.click('#group-tree a:text-is("e2e-team")');
  assert.equal(await page.locator('h1').textContent(), 'Group e2e-team');
  await page.fill('#child-name', 'e2e-child');
  await page.click('#create-child');
  assert.equal(await flash(page), 'Sub-group e2e-child created.');
  assert.deepEqual(await page.locator('#sub-groups a').allTextContents(), ['e2e-child']);
  await shot(page, '21-group-detail');
  const tree = await api('/myrealm/groups?search=e2e-child');
  assert.equal(tree[0].name, 'e2e-team');
  assert.equal(tree[0].subGroups[0].path, '/e2e-team/e2e-child');
  await page.click('#sub-groups a');
  await page.fill('#name', 'e2e-renamed');
  await page.click('#rename-group');
  assert.equal(await flash(page), 'Group renamed.');
  assert.match(await page.locator('.crumbs').textContent(), /\/e2e-team\/e2e-renamed/);
  // A sibling with the same name is refused with the API's message.
  await page.goto(groups);
  await page.fill('#name', 'e2e-team');
  await page.click('button:has-text("Create group")');
  assert.match(await flash(page), /already exists/);
});

test('members are listed on the group page', async () => {
  const { page } = b;
  await page.goto(groups);
  await page.click('#group-tree a:text-is("viewers")');
  // Every user gets the default group /viewers.
  assert.ok(await page.locator('#members tbody tr').count() >= 1);
});

test('delete a group after the confirmation page', async () => {
  const { page } = b;
  await page.goto(groups);
  await page.click('#group-tree a:text-is("e2e-team")');
  await page.click('text=Delete group…');
  assert.match(await page.locator('h1').textContent(), /Delete group e2e-team\?/);
  await shot(page, '22-group-delete-confirm');
  await page.click('#confirm-delete');
  assert.equal(await flash(page), 'Group deleted.');
  assert.equal(await page.locator('#group-tree a:text-is("e2e-team")').count(), 0);
  const left = await api('/myrealm/groups?search=e2e-team');
  assert.equal(left.length, 0);
});
