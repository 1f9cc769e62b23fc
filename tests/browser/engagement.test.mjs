// A SOC 2 Type 2 from planning to an issued unqualified report, then a SOC 3 resting on it
// and a Korean bridge letter read back with pdftotext; the coverage timeline shows both.
// (The auditor's part of the engagement is not built yet.)

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import {
  test,
  startAttest,
  launchBrowser,
  newPage,
  assert,
  expectAt,
  expectH1,
  firstSignIn,
  statusLogged,
} from './harness.mjs';

test('issue a SOC 2 Type 2, then a SOC 3 and a bridge letter', async () => {
  const attest = await startAttest();
  const page = await newPage(await launchBrowser(), { allowConsole: [statusLogged(422)] });
  await firstSignIn(attest, page, { org: '한빛 Cloud', email: 'owner@hanbit-eng.test', password: 'pebble summit tulip 84' });
  await page.locator('nav#sidenav').getByRole('link', { name: 'Engagements', exact: true }).click();
  await expectAt(page, '/engagements');
  await expectH1(page, 'Audit engagements');

  // A period longer than 12 months is refused with the rule.
  await page.selectOption('#eng-kind', 'soc2-type2');
  await page.fill('#eng-firm', 'Example LLP');
  await page.fill('#eng-start', '2025-04-01');
  await page.fill('#eng-end', '2026-04-01');
  await page.getByRole('button', { name: 'Plan engagement', exact: true }).click();
  await page.locator('#eng-error', { hasText: 'at most 12 months' }).waitFor();

  await page.selectOption('#eng-kind', 'soc2-type2');
  await page.fill('#eng-firm', 'Example LLP');
  await page.fill('#eng-start', '2025-04-01');
  await page.fill('#eng-end', '2026-03-31');
  await page.selectOption('#eng-cats', 'availability');
  await page.getByRole('button', { name: 'Plan engagement', exact: true }).click();
  await page.waitForURL(/\/engagements\/[0-9a-f-]{36}$/);
  const soc2 = page.url();
  assert((await page.locator('#eng-state').innerText()).includes('Planning'), 'planning');
  await page.getByRole('button', { name: 'Start fieldwork', exact: true }).click();
  await expectAt(page, new URL(soc2).pathname);
  await page.getByRole('button', { name: 'Move to reporting', exact: true }).click();
  await expectAt(page, new URL(soc2).pathname);
  await page.getByRole('button', { name: 'Issue the report', exact: true }).click();
  await page.locator('#eng-error', { hasText: 'opinion' }).waitFor();
  await page.goto(soc2);
  await page.fill('#cuec-text', 'Customers review the access of their own users');
  await page.getByRole('button', { name: 'Add CUEC', exact: true }).click();
  await expectAt(page, new URL(soc2).pathname);
  assert((await page.locator('#eng-cuecs').innerText()).includes('CUEC-1 Customers review the access of their own users'), 'CUEC listed');
  await page.fill('#sub-name', 'Cloud Host Inc.');
  await page.fill('#sub-csocs', 'Physical access to data centres is restricted');
  await page.getByRole('button', { name: 'Add subservice organisation', exact: true }).click();
  await expectAt(page, new URL(soc2).pathname);
  assert((await page.locator('#eng-subservice').innerText()).includes('Cloud Host Inc. (carve-out)'), 'subservice listed');
  // A control tested on a seeded sample; drawing again is refused.
  await page.goto(`${attest.url}/controls`);
  await page.fill('#ref', 'AC-01');
  await page.fill('#title', 'Quarterly access reviews');
  await page.selectOption('#status', 'implemented');
  await page.getByRole('button', { name: 'Create control', exact: true }).click();
  await page.waitForURL(/\/controls\/[0-9a-f-]{36}$/);
  await page.goto(soc2);
  await page.fill('#test-control', 'AC-01');
  await page.fill('#test-pop', '4');
  await page.getByRole('button', { name: 'Draw the sample', exact: true }).click();
  await expectAt(page, new URL(soc2).pathname);
  const row = page.locator('#test-AC-01');
  assert((await row.innerText()).includes('seed'), 'the seed is recorded');
  await row.getByRole('button', { name: 'Record result', exact: true }).click();
  await expectAt(page, new URL(soc2).pathname);
  assert((await page.locator('#test-AC-01').innerText()).includes('pass'), 'a result');
  await page.fill('#test-control', 'AC-01');
  await page.fill('#test-pop', '4');
  await page.getByRole('button', { name: 'Draw the sample', exact: true }).click();
  await page.locator('#eng-error', { hasText: 'not drawn again' }).waitFor();
  await page.goto(soc2);
  await page.selectOption('#eng-opinion', 'unqualified');
  await page.getByRole('button', { name: 'Record opinion', exact: true }).click();
  await expectAt(page, new URL(soc2).pathname);
  await page.getByRole('button', { name: 'Issue the report', exact: true }).click();
  await expectAt(page, new URL(soc2).pathname);
  const state = await page.locator('#eng-state').innerText();
  assert(state.includes('Issued') && state.includes('Unqualified'), `issued: ${state}`);

  // A Korean bridge letter from 1 April; a longer one is refused.
  await page.fill('#bl-until', '2026-07-31');
  await page.fill('#bl-signer', '김민지, CISO');
  await page.getByRole('button', { name: 'Write bridge letter', exact: true }).click();
  await page.locator('#eng-error', { hasText: 'at most 3 months' }).waitFor();
  await page.goto(soc2);
  await page.fill('#bl-until', '2026-06-30');
  await page.fill('#bl-signer', '김민지, CISO');
  await page.selectOption('#bl-lang', 'ko');
  await page.getByRole('button', { name: 'Write bridge letter', exact: true }).click();
  await expectAt(page, new URL(soc2).pathname);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('#eng-letters').getByRole('link', { name: 'PDF', exact: true }).click(),
  ]);
  const file = join(attest.dataDir, 'bridge.pdf');
  await download.saveAs(file);
  const { stdout } = await promisify(execFile)('pdftotext', [file, '-']);
  for (const want of ['브리지 레터', '한빛 Cloud', 'Example LLP', '2026-04-01', '2026-06-30', '김민지']) {
    assert(stdout.includes(want), `the letter says ${want}`);
  }

  // A SOC 3 over the same period rests on the SOC 2.
  await page.goto(`${attest.url}/engagements`);
  await page.selectOption('#eng-kind', 'soc3');
  await page.fill('#eng-firm', 'Example LLP');
  await page.fill('#eng-start', '2025-04-01');
  await page.fill('#eng-end', '2026-03-31');
  await page.getByRole('button', { name: 'Plan engagement', exact: true }).click();
  await page.waitForURL(/\/engagements\/[0-9a-f-]{36}$/);
  await page.getByText('Rests on ENG-001 (rule 2).').waitFor();

  // A certificate beyond three years is refused; a valid one lists its audits due.
  await page.goto(`${attest.url}/engagements`);
  await page.fill('#cert-number', 'IS 123456');
  await page.fill('#cert-body', 'Example Certification');
  await page.fill('#cert-issued', '2025-01-10');
  await page.fill('#cert-expires', '2028-01-10');
  await page.fill('#cert-scope', 'The platform and its operations');
  await page.getByRole('button', { name: 'Record certificate', exact: true }).click();
  await page.locator('#eng-error', { hasText: 'three years' }).waitFor();
  await page.goto(`${attest.url}/engagements`);
  await page.fill('#cert-number', 'IS 123456');
  await page.fill('#cert-body', 'Example Certification');
  await page.fill('#cert-issued', '2025-01-10');
  await page.fill('#cert-expires', '2028-01-09');
  await page.fill('#cert-scope', 'The platform and its operations');
  await page.getByRole('button', { name: 'Record certificate', exact: true }).click();
  await expectAt(page, '/engagements');
  assert((await page.locator('#certificates').innerText()).includes('surveillance-1 2026-01-10'), 'audits due');

  // A cadence lays out the next periods after the last report.
  await page.getByRole('button', { name: 'Save cadence', exact: true }).click();
  await expectAt(page, '/engagements');
  assert((await page.locator('#programs').innerText()).includes('2026-04-01 – 2027-03-31'), 'next period');

  // The timeline: the report period and the bridge letter, gaps around them.
  await page.goto(`${attest.url}/engagements`);
  const segments = await page.locator('#timeline-segments').innerText();
  assert(segments.includes('2025-04-01 – 2026-03-31: report period'), segments);
  assert(segments.includes('2026-04-01 – 2026-06-30: bridge letter'), segments);
  assert(segments.includes('gap'), segments);
});
