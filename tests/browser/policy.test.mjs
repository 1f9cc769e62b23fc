// A policy from a template to staff acknowledgement: created with its owner as approver,
// refused publication before approval, approved, published, read and acknowledged from the
// dashboard, and its PDF read back with pdftotext.

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

test('publish a policy from a template and acknowledge it', async () => {
  const attest = await startAttest();
  const page = await newPage(await launchBrowser(), { allowConsole: [statusLogged(422)] });
  await firstSignIn(attest, page, { org: 'Rulebook Co', email: 'owner@rulebook.test', password: 'walnut copper signal 42' });
  await page.locator('nav#sidenav').getByRole('link', { name: 'Policies', exact: true }).click();
  await expectAt(page, '/policies');
  await expectH1(page, 'Policies and procedures');

  await page.selectOption('#pol-template', 'access-control-policy');
  await page.selectOption('#pol-approvers', { index: 0 });
  await page.getByRole('button', { name: 'Create draft', exact: true }).click();
  await page.waitForURL(/\/policies\/[0-9a-f-]{36}$/);
  await expectH1(page, 'POL-001 Access control policy');
  const url = page.url();
  assert((await page.locator('#pol-text').innerText()).includes('Least privilege'), 'the template text');
  await page.locator('#pol-blocker', { hasText: 'waiting for the approval' }).waitFor();

  // Publishing before approval is refused with the reason.
  await page.getByRole('button', { name: 'Publish', exact: true }).click();
  await page.locator('#pol-error', { hasText: 'waiting for the approval' }).waitFor();

  await page.goto(url);
  await page.getByRole('button', { name: 'Approve this text', exact: true }).click();
  await expectAt(page, new URL(url).pathname);
  assertEqual(await page.locator('#pol-blocker').count(), 0, 'nothing blocks publication');
  await page.getByRole('button', { name: 'Publish', exact: true }).click();
  await expectAt(page, new URL(url).pathname);
  assert((await page.locator('#pol-state').innerText()).includes('Published'), 'published');

  // The dashboard asks the owner to read it; acknowledging clears that.
  await page.goto(`${attest.url}/`);
  await page.locator('#to-read').getByRole('link', { name: 'Access control policy', exact: true }).click();
  await expectAt(page, new URL(url).pathname);
  await page.getByRole('button', { name: 'I have read this version', exact: true }).click();
  await expectAt(page, new URL(url).pathname);
  assertEqual(await page.locator('#pol-ack-needed').count(), 0, 'acknowledged');
  assert((await page.locator('#pol-acks').innerText()).includes('1 of 1'), 'counted');
  await page.goto(`${attest.url}/`);
  assertEqual(await page.locator('#to-read').count(), 0, 'nothing left to read');

  // The PDF of the version in force.
  await page.goto(url);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#pol-pdf').click()]);
  assertEqual(download.suggestedFilename(), 'pol-001-v1.pdf', 'file name');
  const file = join(attest.dataDir, 'policy.pdf');
  await download.saveAs(file);
  const { stdout } = await promisify(execFile)('pdftotext', ['-layout', file, '-']);
  for (const want of ['Rulebook Co', 'Access control policy', 'POL-001', 'Least privilege', 'Page 1 of']) {
    assert(stdout.includes(want), `the PDF says ${want}`);
  }
});
