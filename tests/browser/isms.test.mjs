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
  statusLogged,
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

test('raise a nonconformity and close it only after verification', async () => {
  const attest = await startAttest();
  const page = await newPage(await launchBrowser(), { allowConsole: [statusLogged(422)] });
  await firstSignIn(attest, page, { org: 'Finding Co', email: 'owner@finding.test', password: 'saffron meadow pylon 17' });
  await page.locator('nav#sidenav').getByRole('link', { name: 'Nonconformities', exact: true }).click();
  await expectAt(page, '/nonconformities');
  await page.fill('#nc-title', 'Access review skipped in Q2');
  await page.selectOption('#nc-source', 'internal-audit');
  await page.selectOption('#nc-severity', 'minor');
  await page.fill('#nc-fw', 'iso27001-2022');
  await page.fill('#nc-req', 'A.5.18');
  await page.getByRole('button', { name: 'Raise', exact: true }).click();
  await page.waitForURL(/\/nonconformities\/[0-9a-f-]{36}$/);
  await expectH1(page, 'NC-001 Access review skipped in Q2');
  const url = page.url();
  await page.locator('#nc-blocker', { hasText: 'record the root cause first' }).waitFor();
  await page.goto(`${attest.url}/`);
  const tile = page.locator('#glance .card', { hasText: 'Open nonconformities' });
  assertEqual((await tile.locator('.stat').innerText()).trim(), '1', 'dashboard counts it');
  await page.goto(url);

  // Closing now is refused with the reason.
  await page.getByRole('button', { name: 'Close', exact: true }).click();
  await page.locator('.notice.error', { hasText: 'cannot be closed' }).waitFor();

  await page.goto(url);
  await page.fill('#nc-cause', 'The reviewer left and nobody was assigned');
  await page.fill('#nc-action', 'A deputy reviewer for every review');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expectAt(page, new URL(url).pathname);
  await page.locator('#nc-blocker', { hasText: 'verify the effectiveness' }).waitFor();
  await page.fill('#nc-verify', 'The Q3 review was done on time by the deputy');
  await page.getByRole('button', { name: 'Record verification', exact: true }).click();
  await expectAt(page, new URL(url).pathname);
  assertEqual(await page.locator('#nc-blocker').count(), 0, 'nothing blocks closure');
  await page.getByRole('button', { name: 'Close', exact: true }).click();
  await expectAt(page, new URL(url).pathname);
  await page.locator('.badge', { hasText: 'Closed' }).waitFor();
  await page.goto(`${attest.url}/nonconformities`);
  assert((await page.locator('#nc-list tbody tr', { hasText: 'NC-001' }).innerText()).includes('Closed'), 'closed in the list');
});
