// The controls hub as a compliance manager uses it: choose frameworks, create a control, link
// it to ISO/IEC 27001:2022 A.5.15, accept what the mappings propose, and watch SOC 2 coverage
// change.

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

const ORG = 'Hub Cloud';
const OWNER = 'owner@hub.test';
const PASSWORD = 'copper violin harbour 77';

/** The status badge and the reasons of one requirement on a framework's coverage page. */
async function coverageOf(page, url, framework, requirement) {
  await page.goto(`${url}/coverage/${framework}`);
  const row = page.locator('tbody tr').filter({
    has: page.locator(`a[href="/frameworks/${framework}/requirements/${requirement}"]`),
  });
  assertEqual(await row.count(), 1, `rows for ${requirement}`);
  return {
    status: (await row.locator('.badge').innerText()).trim(),
    why: (await row.locator('td').nth(2).innerText()).trim(),
  };
}

/** The "implemented" percentage shown for a framework on the coverage dashboard. */
async function percentOf(page, url, name) {
  await page.goto(`${url}/coverage`);
  const card = page.locator('section.card').filter({ has: page.getByRole('link', { name, exact: true }) });
  const stat = await card.locator('.stat').innerText();
  return parseInt(stat, 10);
}

test('link a control and see coverage change', async () => {
  const attest = await startAttest();
  const page = await newPage(await launchBrowser());
  await firstSignIn(attest, page, { org: ORG, email: OWNER, password: PASSWORD });

  // Choose the frameworks the organisation answers to.
  await page.locator('nav#sidenav').getByRole('link', { name: 'Frameworks', exact: true }).click();
  await expectAt(page, '/frameworks');
  for (const name of ['ISO/IEC 27001:2022', 'SOC 2 Trust Services Criteria (2017)']) {
    const row = page.locator('tbody tr').filter({ has: page.getByRole('link', { name, exact: true }) });
    assertEqual(await row.count(), 1, `rows for ${name}`);
    await row.getByRole('button', { name: 'Use', exact: true }).click();
    await expectAt(page, '/frameworks');
    await row.locator('.badge', { hasText: 'in use' }).waitFor();
  }

  const before = await coverageOf(page, attest.url, 'soc2-tsc-2017', 'CC6.1');
  assertEqual(before.status, 'Not covered', 'CC6.1 before any control');
  const percentBefore = await percentOf(page, attest.url, 'ISO/IEC 27001:2022');

  // A new control, implemented.
  await page.locator('nav#sidenav').getByRole('link', { name: 'Controls', exact: true }).click();
  await expectAt(page, '/controls');
  await page.fill('#ref', 'AC-01');
  await page.fill('#title', 'Access control policy and reviews');
  await page.selectOption('#status', 'implemented');
  await page.getByRole('button', { name: 'Create control', exact: true }).click();
  await page.waitForURL(/\/controls\/[0-9a-f-]{36}$/);
  await expectH1(page, 'AC-01 Access control policy and reviews');
  const controlUrl = page.url();

  // Link it to A.5.15; the mapping sets propose SOC 2 criteria.
  await page.selectOption('#l-fw', 'iso27001-2022');
  await page.fill('#l-req', 'A.5.15');
  await page.getByRole('button', { name: 'Link', exact: true }).click();
  const linked = page.locator('table').first().locator('tbody tr', { hasText: 'A.5.15' });
  await linked.waitFor();
  const proposal = page
    .locator('table')
    .nth(1)
    .locator('tbody tr')
    .filter({ hasText: /^\s*SOC 2/ })
    .filter({ hasText: 'CC6.1' });
  assertEqual(await proposal.count(), 1, 'CC6.1 proposals');
  const because = await proposal.locator('td').nth(3).innerText();
  assert(/intersects-with/.test(because), `the proposal says why: ${because}`);
  assert(/iso27001-2022_to_soc2-tsc-2017|ISO/.test(because), `the proposal says where from: ${because}`);

  // Not coverage until accepted.
  assertEqual((await coverageOf(page, attest.url, 'soc2-tsc-2017', 'CC6.1')).status, 'Not covered', 'CC6.1 before acceptance');
  await page.goto(controlUrl);
  await expectH1(page, 'AC-01 Access control policy and reviews');
  const accept = page
    .locator('table')
    .nth(1)
    .locator('tbody tr')
    .filter({ hasText: 'CC6.1' })
    .getByRole('button', { name: 'Accept', exact: true });
  await accept.click();
  await page.locator('table').first().locator('tbody tr', { hasText: 'CC6.1' }).waitFor();

  const after = await coverageOf(page, attest.url, 'soc2-tsc-2017', 'CC6.1');
  assertEqual(after.status, 'Partial', 'CC6.1 after acceptance');
  assert(after.why.includes('AC-01'), `the reasons name the control: ${after.why}`);
  // Implemented, but no evidence yet: A.5.15 counts only in part until evidence covers today.
  const iso = await coverageOf(page, attest.url, 'iso27001-2022', 'A.5.15');
  assertEqual(iso.status, 'Partial', 'A.5.15 without evidence');
  assert(iso.why.includes('no evidence covering today'), `the reason names the evidence: ${iso.why}`);
  const percentAfter = await percentOf(page, attest.url, 'ISO/IEC 27001:2022');
  assert(percentAfter >= percentBefore, `ISO coverage ${percentBefore}% -> ${percentAfter}%`);
  // The chart shows the change: a partial segment on the SOC 2 bar.
  const soc2Chart = page.locator('section.card').filter({ hasText: 'SOC 2' }).locator('svg.chart');
  const label = await soc2Chart.getAttribute('aria-label');
  assert(/partial/i.test(label), `the SOC 2 chart counts partial coverage: ${label}`);
});
