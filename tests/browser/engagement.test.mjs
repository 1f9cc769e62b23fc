// A SOC 2 Type 2 from planning to an issued unqualified report, with an external auditor
// doing their part in the audit workspace (requests answered with evidence, a seeded sample,
// an exception turned into a finding, the workpapers), then a SOC 3 resting on it and a
// Korean bridge letter read back with pdftotext; the coverage timeline shows both.

import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
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
  signIn,
  statusLogged,
} from './harness.mjs';

test('issue a SOC 2 Type 2, then a SOC 3 and a bridge letter', async () => {
  const attest = await startAttest();
  const browser = await launchBrowser();
  const page = await newPage(browser, { allowConsole: [statusLogged(422)] });
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
  // A control of the owner's, in scope.
  await page.goto(`${attest.url}/controls`);
  await page.fill('#ref', 'AC-01');
  await page.fill('#title', 'Quarterly access reviews');
  await page.selectOption('#frequency', 'quarterly');
  await page.selectOption('#status', 'implemented');
  await page.getByRole('button', { name: 'Create control', exact: true }).click();
  await page.waitForURL(/\/controls\/[0-9a-f-]{36}$/);
  const controlId = new URL(page.url()).pathname.split('/').pop();

  // The compliance manager invites an external auditor to this engagement only.
  await page.goto(soc2);
  await page.getByRole('link', { name: 'Audit workspace', exact: true }).click();
  const workspace = `${new URL(soc2).pathname}/workspace`;
  await expectAt(page, workspace);
  await page.fill('#aud-email', 'lead@example-llp.test');
  await page.fill('#aud-until', '2099-12-31');
  await page.getByRole('button', { name: 'Invite auditor', exact: true }).click();
  const link = (await page.locator('#ws-invite code').innerText()).trim();
  assert(link.includes('/invitations/'), `an invitation link: ${link}`);

  // The auditor joins and lands in the engagement's workspace; nothing else is theirs.
  const aud = await newPage(browser, { allowConsole: [statusLogged(422), statusLogged(403)] });
  await aud.goto(link);
  await aud.getByText('Auditor').first().waitFor();
  await aud.fill('#display_name', 'Lee Auditor');
  await aud.fill('#password', 'granite harbour violet 27');
  await aud.getByRole('button', { name: 'Accept invitation', exact: true }).click();
  await aud.waitForURL(/\/login/);
  await signIn(aud, 'lead@example-llp.test', 'granite harbour violet 27');
  await expectAt(aud, workspace);
  assert((await aud.locator('h1').innerText()).startsWith('Audit workspace: ENG-001'), 'the workspace of ENG-001');
  const refused = await aud.goto(`${attest.url}/engagements`);
  assert(refused.status() === 403, `the engagement list is not the auditor's: ${refused.status()}`);
  await aud.goto(`${attest.url}${workspace}`);

  // The auditor asks for evidence, assigned to the control's owner.
  await aud.fill('#req-title', 'Access reviews of the period');
  await aud.selectOption('#req-control', controlId);
  await aud.selectOption('#req-assignee', { index: 1 });
  await aud.fill('#req-due', '2026-05-15');
  await aud.getByRole('button', { name: 'Add request', exact: true }).click();
  await expectAt(aud, workspace);
  assert((await aud.locator('#req-REQ-001').innerText()).includes('open'), 'REQ-001 is open');

  // A seeded sample: one item passes, one is an exception that becomes a finding and stays.
  await aud.fill('#test-control', 'AC-01');
  await aud.fill('#test-pop', '4');
  await aud.getByRole('button', { name: 'Draw the sample', exact: true }).click();
  await expectAt(aud, workspace);
  const row = aud.locator('#test-AC-01');
  assert((await row.innerText()).includes('seed'), 'the seed is recorded');
  await row.getByRole('button', { name: 'Record result', exact: true }).click();
  await expectAt(aud, workspace);
  assert((await aud.locator('#test-AC-01').innerText()).includes('pass'), 'a result');
  await aud.locator('#test-AC-01 select[name=item]').selectOption({ index: 1 });
  await aud.locator('#test-AC-01 select[name=result]').selectOption('exception');
  await aud.locator('#test-AC-01 input[name=note]').fill('Review not signed off');
  await aud.locator('#test-AC-01').getByRole('button', { name: 'Record result', exact: true }).click();
  await expectAt(aud, workspace);
  assert((await aud.locator('#ws-findings').innerText()).includes('Exception in testing AC-01'), 'the exception is a finding');
  await aud.locator('#test-AC-01 select[name=item]').selectOption({ index: 1 });
  await aud.locator('#test-AC-01').getByRole('button', { name: 'Record result', exact: true }).click();
  await aud.locator('#ws-error', { hasText: 'stays an exception' }).waitFor();
  await aud.goto(`${attest.url}${workspace}`);
  await aud.fill('#test-control', 'AC-01');
  await aud.fill('#test-pop', '4');
  await aud.getByRole('button', { name: 'Draw the sample', exact: true }).click();
  await aud.locator('#ws-error', { hasText: 'not drawn again' }).waitFor();

  // The owner answers the request with evidence of the period and submits it.
  const reviewFile = join(attest.dataDir, 'access-review-q3.txt');
  await writeFile(reviewFile, 'Q3 2025 access review: 42 accounts reviewed, 3 removed.\n');
  await page.goto(`${attest.url}/evidence?control=${controlId}#upload`);
  await page.fill('#u-title', 'Access review Q3 2025');
  await page.fill('#u-from', '2025-07-01');
  await page.fill('#u-until', '2025-09-30');
  await page.setInputFiles('#u-file', reviewFile);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.waitForURL(/\/evidence\/[0-9a-f-]{36}\?notice=added$/);
  await page.locator('nav#sidenav').getByRole('link', { name: 'Audit requests', exact: true }).click();
  await expectAt(page, '/requests');
  const mine = page.locator('#myreq-REQ-001');
  await mine.getByRole('button', { name: 'Attach', exact: true }).click();
  await expectAt(page, '/requests');
  assert((await page.locator('#myreq-REQ-001').innerText()).includes('Access review Q3 2025'), 'attached');
  await page.locator('#myreq-REQ-001').getByRole('button', { name: 'Submit to the auditor', exact: true }).click();
  await expectAt(page, '/requests');
  assert((await page.locator('#myreq-REQ-001').innerText()).includes('submitted'), 'submitted');

  // The auditor opens the evidence, accepts the request and comments.
  await aud.goto(`${attest.url}${workspace}`);
  const [evidence] = await Promise.all([
    aud.waitForEvent('download'),
    aud.locator('#req-REQ-001').getByRole('link', { name: 'Access review Q3 2025', exact: true }).click(),
  ]);
  const got = join(attest.dataDir, 'got.txt');
  await evidence.saveAs(got);
  const text = await readFile(got, 'utf8');
  assert(text.includes('42 accounts reviewed'), 'the auditor reads the evidence');
  await aud.locator('#req-REQ-001').getByRole('button', { name: 'Accept', exact: true }).click();
  await expectAt(aud, workspace);
  assert((await aud.locator('#req-REQ-001').innerText()).includes('accepted'), 'accepted');
  assert((await aud.locator('#ws-summary').innerText()).includes('1 accepted'), 'summary');
  await aud.fill('#c-body', 'Fieldwork complete; one exception noted on AC-01.');
  await aud.getByRole('button', { name: 'Comment', exact: true }).click();
  await expectAt(aud, workspace);
  assert((await aud.locator('#ws-comments').innerText()).includes('Lee Auditor'), 'the comment names the auditor');

  // The workpapers: a ZIP with its index, the OSCAL exports and the evidence.
  const [zip] = await Promise.all([
    aud.waitForEvent('download'),
    aud.locator('#ws-zip').click(),
  ]);
  const zipFile = join(attest.dataDir, 'workpapers.zip');
  await zip.saveAs(zipFile);
  const { stdout: listing } = await promisify(execFile)('python3', ['-c',
    'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', zipFile]);
  for (const want of ['index.html', 'index.csv', 'requests.csv', 'tests.csv', 'findings.csv', 'oscal/assessment-results.json', 'oscal/poam.json', 'evidence/REQ-001/']) {
    assert(listing.includes(want), `the workpapers hold ${want}: ${listing}`);
  }

  await page.goto(soc2);
  await page.selectOption('#eng-opinion', 'unqualified');
  await page.getByRole('button', { name: 'Record opinion', exact: true }).click();
  await expectAt(page, new URL(soc2).pathname);
  await page.getByRole('button', { name: 'Issue the report', exact: true }).click();
  await expectAt(page, new URL(soc2).pathname);
  const state = await page.locator('#eng-state').innerText();
  assert(state.includes('Issued') && state.includes('Unqualified'), `issued: ${state}`);
  const ended = await aud.goto(`${attest.url}${workspace}`);
  assert(ended.status() === 403, `the auditor's access ended with the report: ${ended.status()}`);
  assert((await aud.locator('body').innerText()).includes('ended'), 'the auditor is told why');
  await aud.goto(`${attest.url}/`);
  await expectAt(aud, '/account?notice=audit-ended');
  assert((await aud.locator('body').innerText()).includes('Your access as an auditor has ended'), 'the landing says why');

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

  // The report the auditor handed over is kept with the engagement, as a PDF.
  await page.goto(soc2);
  await page.fill('#doc-title', 'SOC 2 Type 2 report 2025-2026');
  await page.setInputFiles('#doc-file', file);
  await page.getByRole('button', { name: 'Add document', exact: true }).click();
  await expectAt(page, new URL(soc2).pathname);
  const docs = await page.locator('#eng-documents').innerText();
  assert(docs.includes('SOC 2 Type 2 report 2025-2026') && /[0-9a-f]{64}/.test(docs), docs);

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
