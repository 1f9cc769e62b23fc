// Evidence as a control owner's manager uses it: a control implemented but without evidence
// counts only in part; uploading evidence (drag and drop, progress, API) makes it fresh and
// the requirement implemented.

import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  test,
  startAttest,
  launchBrowser,
  newPage,
  afterTest,
  assert,
  assertEqual,
  expectAt,
  expectH1,
  firstSignIn,
} from './harness.mjs';

const ORG = 'Proof Cloud';
const OWNER = 'owner@proof.test';
const PASSWORD = 'granite harbour violet 19';

async function statusOf(page, url, framework, requirement) {
  await page.goto(`${url}/coverage/${framework}`);
  const row = page.locator('tbody tr').filter({
    has: page.locator(`a[href="/frameworks/${framework}/requirements/${requirement}"]`),
  });
  return {
    status: (await row.locator('.badge').innerText()).trim(),
    why: (await row.locator('td').nth(2).innerText()).trim(),
  };
}

test('upload evidence and see the control become fresh', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attest-evidence-'));
  afterTest(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'access-review-2026-q4.txt');
  await writeFile(file, 'Quarterly access review: 42 accounts reviewed, 3 revoked.\n');

  const attest = await startAttest();
  const page = await newPage(await launchBrowser());
  await firstSignIn(attest, page, { org: ORG, email: OWNER, password: PASSWORD });

  // A framework in use and an implemented control linked to A.5.15.
  await page.goto(`${attest.url}/frameworks`);
  const iso = page.locator('tbody tr').filter({ has: page.getByRole('link', { name: 'ISO/IEC 27001:2022', exact: true }) });
  await iso.getByRole('button', { name: 'Use', exact: true }).click();
  await iso.locator('.badge', { hasText: 'in use' }).waitFor();
  await page.goto(`${attest.url}/controls`);
  await page.fill('#ref', 'AC-02');
  await page.fill('#title', 'Quarterly access review');
  await page.selectOption('#frequency', 'quarterly');
  await page.selectOption('#status', 'implemented');
  await page.getByRole('button', { name: 'Create control', exact: true }).click();
  await page.waitForURL(/\/controls\/[0-9a-f-]{36}$/);
  const controlId = page.url().split('/').pop();
  await page.selectOption('#l-fw', 'iso27001-2022');
  await page.fill('#l-req', 'A.5.15');
  await page.getByRole('button', { name: 'Link', exact: true }).click();
  await page.locator('table').first().locator('tbody tr', { hasText: 'A.5.15' }).waitFor();

  let a515 = await statusOf(page, attest.url, 'iso27001-2022', 'A.5.15');
  assertEqual(a515.status, 'Partial', 'A.5.15 without evidence');
  assert(a515.why.includes('no evidence covering today'), a515.why);

  // The overdue list names the control.
  await page.locator('nav#sidenav').getByRole('link', { name: 'Evidence', exact: true }).click();
  await expectAt(page, '/evidence');
  await page.getByRole('link', { name: 'Overdue and due', exact: true }).click();
  await expectAt(page, '/evidence/due');
  const overdue = page.locator('table').first().locator('tbody tr', { hasText: 'AC-02' });
  await overdue.locator('.badge', { hasText: 'no evidence yet' }).waitFor();
  await overdue.getByRole('link', { name: 'Add evidence', exact: true }).click();
  await page.waitForURL(new RegExp(`/evidence\\?control=${controlId}#upload$`));

  // Upload: the control is preselected; the file goes through the drop zone's input.
  assertEqual(await page.locator('#u-controls').inputValue(), controlId, 'preselected control');
  await page.fill('#u-title', 'Access review Q4 2026');
  await page.setInputFiles('#u-file', file);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.waitForURL(/\/evidence\/[0-9a-f-]{36}\?notice=added$/);
  await expectH1(page, 'Access review Q4 2026');
  const facts = await page.locator('dl.facts').innerText();
  assert(facts.includes('access-review-2026-q4.txt'), facts);
  assert(facts.includes('text/plain'), facts);
  assert(/[0-9a-f]{64}/.test(facts), `the SHA-256 is shown: ${facts}`);
  const preview = await page.locator('pre.preview').innerText();
  assert(preview.includes('42 accounts reviewed'), preview);

  // Download is an attachment.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download', exact: true }).click(),
  ]);
  assertEqual(download.suggestedFilename(), 'access-review-2026-q4.txt', 'download name');

  // The requirement is now implemented and nothing is overdue.
  a515 = await statusOf(page, attest.url, 'iso27001-2022', 'A.5.15');
  assertEqual(a515.status, 'Implemented', 'A.5.15 with fresh evidence');
  await page.goto(`${attest.url}/evidence/due`);
  await page.locator('table').first().locator('td.empty', { hasText: 'Nothing is overdue.' }).waitFor();
});

test('set the evidence retention rule in settings', async () => {
  const attest = await startAttest();
  const page = await newPage(await launchBrowser());
  await firstSignIn(attest, page, { org: 'Keep Co', email: 'owner@keep.test', password: 'amber kettle meadow 29' });
  await page.goto(`${attest.url}/settings`);
  const card = page.locator('#retention');
  assert((await card.innerText()).includes('No retention rule'), 'no rule at first');
  // The field itself refuses less than a year (the API's refusal is tested in Rust).
  assertEqual(await page.locator('#keep-days').getAttribute('min'), '365', 'a year at least');
  await page.fill('#keep-days', '730');
  await page.getByRole('button', { name: 'Save rule', exact: true }).click();
  await page.locator('.notice', { hasText: 'Retention rule saved.' }).waitFor();
  assert((await card.innerText()).includes('disposed of 730 days after'), 'rule shown');
  await page.getByRole('button', { name: 'Dispose of evidence past the rule now', exact: true }).click();
  await page.locator('.notice', { hasText: 'Retention rule applied' }).waitFor();
  assertEqual(await page.locator('#keep-days').inputValue(), '730', 'rule kept');
});
