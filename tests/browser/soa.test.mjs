// The Statement of Applicability from an empty organisation to an approved PDF: a control
// linked to Annex A, a risk it treats, decisions on every control (one exclusion), approval
// refused while incomplete, then approved and exported; the PDF read back with pdftotext.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
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

test('take an empty organisation to an approved SoA PDF', async () => {
  const attest = await startAttest();
  const page = await newPage(await launchBrowser(), { allowConsole: [statusLogged(422)] });
  await firstSignIn(attest, page, { org: '한빛 Cloud', email: 'owner@hanbit.test', password: 'amber tidal quartz 58' });

  // ISO/IEC 27001:2022 in use; a control linked to A.8.13 (backup).
  await page.goto(`${attest.url}/frameworks`);
  const fw = page.locator('tbody tr').filter({ has: page.getByRole('link', { name: 'ISO/IEC 27001:2022', exact: true }) });
  await fw.getByRole('button', { name: 'Use', exact: true }).click();
  await fw.locator('.badge', { hasText: 'in use' }).waitFor();
  await page.goto(`${attest.url}/controls`);
  await page.fill('#ref', 'BK-01');
  await page.fill('#title', 'Daily encrypted backups');
  await page.selectOption('#status', 'implemented');
  await page.getByRole('button', { name: 'Create control', exact: true }).click();
  await page.waitForURL(/\/controls\/[0-9a-f-]{36}$/);
  await page.selectOption('#l-fw', 'iso27001-2022');
  await page.fill('#l-req', 'A.8.13');
  await page.getByRole('button', { name: 'Link', exact: true }).click();
  await page.locator('table').first().locator('tbody tr', { hasText: 'A.8.13' }).waitFor();

  // A risk that control treats.
  await page.goto(`${attest.url}/risks`);
  await page.fill('#r-ref', 'R-001');
  await page.fill('#r-title', '랜섬웨어로 고객 데이터 손실');
  await page.selectOption('#r-il', '4');
  await page.selectOption('#r-ii', '4');
  await page.selectOption('#r-rl', '2');
  await page.selectOption('#r-ri', '2');
  await page.selectOption('#r-controls', { label: 'BK-01 Daily encrypted backups' });
  await page.getByRole('button', { name: 'Add risk', exact: true }).click();
  await page.waitForURL(/\/risks\/[0-9a-f-]{36}$/);

  // The statement, derived: 93 controls, none decided, A.8.13 backed by the control and risk
  // (partial: implemented, but no evidence covers today yet).
  await page.locator('nav#sidenav').getByRole('link', { name: 'Statement of Applicability', exact: true }).click();
  await expectAt(page, '/soa');
  await expectH1(page, 'Statement of Applicability');
  assertEqual(await page.locator('#soa-table tbody tr[id^="soa-A."]').count(), 93, '93 Annex A controls');
  const a813 = await page.locator('#soa-A\\.8\\.13').innerText();
  assert(a813.includes('BK-01') && a813.includes('R-001') && a813.includes('Partial'), `A.8.13 shows what is behind it: ${a813}`);

  // Decide everything: applicable for best practice, A.7.4 excluded with no justification yet.
  await page.evaluate(() => {
    for (const s of document.querySelectorAll('#soa-decisions select[name^="d."]')) {
      const id = s.name.slice(2);
      s.value = id === 'A.7.4' ? 'excluded' : 'applicable';
      if (id !== 'A.7.4') {
        document.querySelector(`input[name="r.${id}"][value="best-practice"]`).checked = true;
      }
    }
  });
  await page.getByRole('button', { name: 'Save decisions', exact: true }).first().click();
  await expectAt(page, '/soa');
  assert((await page.locator('#soa-heading').innerText()).includes('Version 1 · draft'), 'draft 1 opened');
  assert((await page.locator('#soa-A\\.8\\.13').innerText()).includes('Risk treatment'), 'risk treatment derived') ;

  // Approval is refused while the exclusion has no justification.
  await page.getByRole('button', { name: 'Approve this version', exact: true }).click();
  await page.locator('#soa-error', { hasText: 'A.7.4 is excluded without a justification' }).waitFor();

  await page.goto(`${attest.url}/soa`);
  await page.fill('textarea[name="j.A.7.4"]', '사무실 없음: no premises of our own to monitor');
  await page.getByRole('button', { name: 'Save decisions', exact: true }).first().click();
  await expectAt(page, '/soa');
  await page.locator('#soa-complete').waitFor();
  await page.fill('#soa-note', 'Approved at the management review');
  await page.getByRole('button', { name: 'Approve this version', exact: true }).click();
  await expectAt(page, '/soa');
  const heading = await page.locator('#soa-heading').innerText();
  assert(heading.includes('Version 1 · approved'), `approved: ${heading}`);
  assertEqual((await page.locator('#soa-hash').innerText()).length, 64, 'content hash shown');
  assertEqual(await page.locator('#soa-decisions').count(), 0, 'an approved version has no decisions form');

  // The PDF, read back.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('#soa-exports').getByRole('link', { name: 'PDF', exact: true }).click(),
  ]);
  assertEqual(download.suggestedFilename(), 'statement-of-applicability-v1.pdf', 'file name');
  const file = join(attest.dataDir, 'soa.pdf');
  await download.saveAs(file);
  const { stdout } = await promisify(execFile)('pdftotext', ['-layout', file, '-']);
  for (const want of [
    '한빛 Cloud',
    'Statement of Applicability',
    'ISO/IEC 27001:2022',
    'Approved',
    'A.8.13',
    'BK-01',
    'R-001',
    '사무실 없음',
    'Excluded',
    'Page 2 of',
  ]) {
    assert(stdout.includes(want), `the PDF says ${want}`);
  }
});
