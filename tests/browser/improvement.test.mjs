// The improvement loop as a compliance manager runs it: an objective measured from the data,
// an internal audit whose finding becomes a nonconformity, and a management review closed
// with its decisions.

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

test('set an objective, run an internal audit and a management review', async () => {
  const attest = await startAttest();
  const page = await newPage(await launchBrowser(), { allowConsole: [statusLogged(422)] });
  await firstSignIn(attest, page, { org: 'Loop Co', email: 'owner@loop.test', password: 'harbor velvet maple 29' });

  // An objective on a computed metric: met while nothing is open.
  await page.locator('nav#sidenav').getByRole('link', { name: 'Objectives', exact: true }).click();
  await expectAt(page, '/objectives');
  await page.fill('#obj-title', 'No open nonconformities at year end');
  await page.selectOption('#obj-metric', 'open-nonconformities');
  await page.selectOption('#obj-direction', 'at-most');
  await page.fill('#obj-target', '0');
  await page.getByRole('button', { name: 'Add objective', exact: true }).click();
  await expectAt(page, '/objectives');
  const row = page.locator('#obj-OBJ-001');
  assert((await row.innerText()).includes('Met'), 'met at first');
  assertEqual(await row.locator('svg.trend').count(), 1, 'a trend line');

  // ISO/IEC 27001:2022 in use, then an audit of two requirements.
  await page.goto(`${attest.url}/frameworks`);
  const fw = page.locator('tbody tr').filter({ has: page.getByRole('link', { name: 'ISO/IEC 27001:2022', exact: true }) });
  await fw.getByRole('button', { name: 'Use', exact: true }).click();
  await fw.locator('.badge', { hasText: 'in use' }).waitFor();
  await page.locator('nav#sidenav').getByRole('link', { name: 'Internal audits', exact: true }).click();
  await expectAt(page, '/audits');
  await page.fill('#ia-title', 'Access management audit');
  await page.fill('#ia-scope', 'Joiners, movers and leavers');
  await page.selectOption('#ia-fw', 'iso27001-2022');
  await page.fill('#ia-reqs', 'A.5.15, A.5.18');
  await page.fill('#ia-auditor', 'Internal audit team');
  await page.fill('#ia-start', '2026-11-02');
  await page.fill('#ia-end', '2026-11-03');
  await page.getByRole('button', { name: 'Plan audit', exact: true }).click();
  await page.waitForURL(/\/audits\/[0-9a-f-]{36}$/);
  await expectH1(page, 'IA-001 Access management audit');
  const auditUrl = page.url();

  await page.selectOption('#ia-A\\.5\\.15 select', 'conforming');
  await page.locator('#ia-A\\.5\\.15').getByRole('button', { name: 'Record', exact: true }).click();
  await expectAt(page, new URL(auditUrl).pathname);
  await page.selectOption('#ia-A\\.5\\.18 select', 'minor');
  await page.fill('#ia-A\\.5\\.18 input[name="notes"]', 'Two leavers kept access for a week');
  await page.locator('#ia-A\\.5\\.18').getByRole('button', { name: 'Record', exact: true }).click();
  await expectAt(page, new URL(auditUrl).pathname);

  // Completion is refused until the finding is raised.
  await page.fill('#ia-concl', 'Effective, with one minor finding');
  await page.getByRole('button', { name: 'Complete audit', exact: true }).click();
  await page.locator('#ia-error', { hasText: 'raise the nonconformities found on A.5.18' }).waitFor();
  await page.goto(auditUrl);
  await page.locator('#ia-A\\.5\\.18').getByRole('button', { name: 'Raise nonconformity', exact: true }).click();
  await expectAt(page, new URL(auditUrl).pathname);
  await page.locator('#ia-A\\.5\\.18').getByRole('link', { name: 'NC-001', exact: true }).waitFor();
  await page.fill('#ia-concl', 'Effective, with one minor finding');
  await page.getByRole('button', { name: 'Complete audit', exact: true }).click();
  await expectAt(page, new URL(auditUrl).pathname);
  assert((await page.locator('#ia-state').innerText()).includes('Completed'), 'completed');

  // The objective now shows the open nonconformity.
  await page.goto(`${attest.url}/objectives`);
  assert((await page.locator('#obj-OBJ-001').innerText()).includes('Not met yet'), 'objective follows the data');

  // A management review with the audit among its inputs, closed with a decision.
  await page.locator('nav#sidenav').getByRole('link', { name: 'Management reviews', exact: true }).click();
  await expectAt(page, '/management-reviews');
  await page.fill('#mr-att', 'CEO, CTO, compliance manager');
  await page.getByRole('button', { name: 'Plan review', exact: true }).click();
  await page.waitForURL(/\/management-reviews/);
  const review = page.locator('section#MR-001');
  assert((await review.locator('.mr-inputs').innerText()).includes('IA-001 Access management audit: 1 finding(s)'), 'the audit is an input');
  await page.getByRole('button', { name: 'Close the review', exact: true }).click();
  await page.locator('#mr-error', { hasText: 'record the review' }).waitFor();
  await page.goto(`${attest.url}/management-reviews`);
  await page.fill('#mr-dec-MR-001', 'Automate leaver access removal | CTO | 2027-01-31');
  await page.locator('section#MR-001').getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(/\/management-reviews/);
  await page.locator('section#MR-001').getByRole('button', { name: 'Close the review', exact: true }).click();
  await page.waitForURL(/\/management-reviews/);
  await page.locator('section#MR-001 .badge', { hasText: 'Closed' }).waitFor();
  assert((await page.locator('section#MR-001 .mr-decisions').innerText()).includes('Automate leaver access removal — CTO, by 2027-01-31'), 'decision recorded');
});
