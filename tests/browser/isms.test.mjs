// The ISMS scope and context as a compliance manager writes it: a first version, a second,
// and the first still readable from the history.

import {
  test,
  startAttest,
  launchBrowser,
  newPage,
  assert,
  assertEqual,
  expectAt,
  expectH1,
  firstSignIn,
} from './harness.mjs';

test('write the ISMS scope in versions', async () => {
  const attest = await startAttest();
  const page = await newPage(await launchBrowser());
  await firstSignIn(attest, page, { org: 'Scope Co', email: 'owner@scope.test', password: 'cedar lantern violet 63' });
  await page.locator('nav#sidenav').getByRole('link', { name: 'ISMS scope', exact: true }).click();
  await expectAt(page, '/isms/scope');
  await expectH1(page, 'ISMS scope and context');
  assert((await page.locator('.lede').first().innerText()).includes('Not written yet'), 'empty at first');

  await page.fill('#sc-statement', 'The ISMS covers the Scope Co platform and its operations.');
  await page.fill('#sc-locations', 'Seoul office\nAWS ap-northeast-2');
  await page.fill('#sc-parties', 'Customers: a SOC 2 report every year\nRegulator: breach notice in 72 hours');
  await page.fill('#sc-note', 'First scope');
  await page.getByRole('button', { name: 'Save new version', exact: true }).click();
  await expectAt(page, '/isms/scope');
  assert((await page.locator('.lede').first().innerText()).includes('Version 1'), 'version 1');
  assertEqual(await page.locator('#scope-document table tbody tr').count(), 2, 'two parties');

  await page.fill('#sc-locations', 'Seoul office\nAWS ap-northeast-2\nBusan office');
  await page.fill('#sc-note', 'Busan office opened');
  await page.getByRole('button', { name: 'Save new version', exact: true }).click();
  await expectAt(page, '/isms/scope');
  assert((await page.locator('.lede').first().innerText()).includes('Version 2'), 'version 2');
  assertEqual(await page.locator('#scope-history tbody tr').count(), 2, 'two versions');

  await page.getByRole('link', { name: '1', exact: true }).click();
  await expectAt(page, '/isms/scope?version=1');
  assert((await page.locator('.lede').first().innerText()).includes('an earlier version'), 'marked as earlier');
  assert(!(await page.locator('#scope-document').innerText()).includes('Busan'), 'version 1 has no Busan office');
  assertEqual(await page.locator('#sc-statement').count(), 0, 'no edit form on an earlier version');
});
