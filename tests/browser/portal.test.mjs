// The trust portal from the demo data set: the staff page, then the public pages in Korean
// and English (language switch), and a public SOC 3 report downloaded and read back.

import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import {
  test,
  startAttest,
  launchBrowser,
  newPage,
  assert,
  assertEqual,
  expectAt,
  expectH1,
  signIn,
  statusLogged,
} from './harness.mjs';

/** A real PNG of `w` × `h` pixels in one colour. */
function png(w, h, [r, g, b]) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: w }, () => [r, g, b]).flat())]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('the demo trust portal in Korean and English', async () => {
  const attest = await startAttest();
  const out = await attest.cli(['demo', 'load']);
  assert(out.includes('/trust/hanbit-cloud'), `the portal's address is printed: ${out}`);
  const oneTime = out.match(/one-time password: (\S+)/)[1];

  // Staff: the portal page lists the offerings and the published documents.
  const page = await newPage(await launchBrowser(), { allowConsole: [statusLogged(422)] });
  await page.goto(`${attest.url}/login`);
  await signIn(page, 'owner@hanbit-cloud.example', oneTime);
  await expectAt(page, '/account/password');
  await page.fill('#current_password', oneTime);
  await page.fill('#password', 'meadow lantern copper 59');
  await page.getByRole('button', { name: 'Change password', exact: true }).click();
  await expectAt(page, '/');
  await page.locator('nav#sidenav').getByRole('link', { name: 'Trust portal', exact: true }).click();
  await expectAt(page, '/portal');
  const offerings = await page.locator('#portal-offerings').innerText();
  assert(offerings.includes('ISO/IEC 27001 Information Security Management') && offerings.includes('published'), offerings);
  const docs = await page.locator('#portal-documents').innerText();
  assert(docs.includes('SOC 3 report') && docs.includes('public') && docs.includes('restricted'), docs);
  assert(docs.includes('Bridge letter') && docs.includes('Penetration test summary'), docs);

  // Branding: a text file is refused as a logo and the page says why; a PNG is taken.
  await page.setInputFiles('#p-logo', { name: 'logo.txt', mimeType: 'image/png', buffer: Buffer.from('not an image') });
  await page.getByRole('button', { name: 'Upload logo', exact: true }).click();
  assert((await page.locator('#portal-error').innerText()).includes('PNG or JPEG'), 'the refusal is shown');
  await page.setInputFiles('#p-logo', { name: 'logo.png', mimeType: 'image/png', buffer: png(96, 32, [15, 118, 110]) });
  await page.getByRole('button', { name: 'Upload logo', exact: true }).click();
  await expectAt(page, '/portal');
  assertEqual(await page.locator('#portal-logo img').evaluate((i) => i.naturalWidth), 96);
  // The portal's own host name.
  await page.fill('#p-host', 'trust.hanbit.example');
  await page.getByRole('button', { name: 'Save settings', exact: true }).click();
  await expectAt(page, '/portal');
  assertEqual(await page.locator('#p-host').inputValue(), 'trust.hanbit.example');

  // A bridge letter of the SOC 1 report issued as a document from its engagement page.
  await page.goto(`${attest.url}/engagements`);
  await page.getByRole('link', { name: 'ENG-001', exact: true }).click();
  await expectH1(page, 'ENG-001 SOC 1 Type 2 — Hanbit Cloud platform');
  await page.getByRole('button', { name: 'Issue as a document (for the trust portal)', exact: true }).click();
  const letters = await page.locator('#eng-letters').innerText();
  assert(letters.includes('issued as a document'), letters);
  assert((await page.locator('#eng-documents').innerText()).includes('bridge-letter'), 'listed with the documents');

  // On its own host name the portal answers at /, with the logo, and nothing else does.
  const port = new URL(attest.url).port;
  // Over plain HTTP on a name other than localhost, Chromium notes that it ignores the
  // Cross-Origin-Opener-Policy header (it applies over HTTPS, as in production).
  const own = await newPage(await launchBrowser({ hostMap: 'trust.hanbit.example' }), {
    allowConsole: [statusLogged(404), /Cross-Origin-Opener-Policy header has been ignored/],
  });
  await own.goto(`http://trust.hanbit.example:${port}/?lang=ko`);
  await expectH1(own, '한빛 클라우드 트러스트 센터');
  assert(await own.locator('#portal-logo').evaluate((i) => i.complete && i.naturalWidth === 96), 'the logo loads');
  await own.getByRole('link', { name: 'SOC(System and Organization Controls) 1, 2, 3 보고서', exact: true }).click();
  const ownSoc = await own.locator('main').innerText();
  assert(ownSoc.includes('모의해킹(침투 테스트)') && ownSoc.includes('Example Offensive Security Ltd'), ownSoc);
  const staffThere = await own.goto(`http://trust.hanbit.example:${port}/login`);
  assertEqual(staffThere.status(), 404);

  // The public home in Korean, from the browser's choice of link.
  await page.goto(`${attest.url}/trust/hanbit-cloud?lang=ko`);
  await expectH1(page, '한빛 클라우드 트러스트 센터');
  await page.getByRole('link', { name: 'SOC(System and Organization Controls) 1, 2, 3 보고서', exact: true }).click();
  await expectAt(page, '/trust/hanbit-cloud/soc?lang=ko');
  await expectH1(page, 'SOC(System and Organization Controls) 1, 2, 3 보고서');
  const ko = await page.locator('main').innerText();
  for (const want of ['개요', '적용 대상 서비스', '감사, 보고서 및 인증서', '감사 주기', '9월 30일', '적정 의견', '브리지 레터', '자주 묻는 질문', '참고 자료', '비밀유지계약(NDA)에 동의한 고객에게 제공']) {
    assert(ko.includes(want), `the Korean page shows ${want}`);
  }
  // The language switch.
  await page.locator('#lang-switch').click();
  await expectAt(page, '/trust/hanbit-cloud/soc?lang=en');
  await expectH1(page, 'System and Organization Controls (SOC) 1, 2 and 3');
  const en = await page.locator('main').innerText();
  assert(en.includes('In-scope services') && en.includes('Audit cycle') && en.includes('30 September'), en);

  // The SOC 3 report downloads without an account.
  const anon = await newPage(await launchBrowser());
  await anon.goto(`${attest.url}/trust/hanbit-cloud/soc`);
  const [download] = await Promise.all([
    anon.waitForEvent('download'),
    anon.getByRole('link', { name: 'SOC 3 report — Hanbit Cloud platform', exact: true }).first().click(),
  ]);
  const file = join(attest.dataDir, 'soc3.pdf');
  await download.saveAs(file);
  const { stdout } = await promisify(execFile)('pdftotext', [file, '-']);
  assert(stdout.includes('SOC 3 report') && stdout.includes('Hanbit Cloud'), stdout);
  // The customer checks it against the signed manifest, with the key from the verify page.
  await anon.getByRole('link', { name: 'How to check a document', exact: true }).click();
  const key = (await anon.locator('#public-key').innerText()).trim();
  const manifest = `${attest.url}/trust/hanbit-cloud/soc/manifest.json`;
  const verified = await attest.cli(['portal', 'verify', file, '--manifest', manifest, '--key', key]);
  assert(verified.includes('VERIFIED') && verified.includes('SOC 3 report'), verified);
  const altered = join(attest.dataDir, 'altered.pdf');
  await writeFile(altered, Buffer.concat([await readFile(file), Buffer.from('%% altered\n')]));
  let refused = '';
  try {
    await attest.cli(['portal', 'verify', altered, '--manifest', manifest, '--key', key]);
  } catch (e) {
    refused = String(e.stderr);
  }
  assert(refused.includes('NOT CURRENT'), `an altered copy is refused: ${refused}`);
  // The ISO page: the certificate and its next audit, in Korean.
  await anon.goto(`${attest.url}/trust/hanbit-cloud/iso-27001?lang=ko`);
  const iso = await anon.locator('main').innerText();
  assert(iso.includes('ECL-ISMS-20417') && iso.includes('사후 심사') || iso.includes('갱신 심사'), iso);
});

// A customer's whole way to a restricted report: from the public page through sign-up (the
// confirmation link read from the mail Attest sent), the NDA, an access request, the
// compliance manager's approval, to a download stamped with the customer's name.
test('a customer signs up, accepts the NDA, is granted access and downloads a stamped report', async () => {
  const attest = await startAttest({ mail: true });
  const out = await attest.cli(['demo', 'load']);
  const oneTime = out.match(/one-time password: (\S+)/)[1];

  // The public SOC page lists the SOC 2 report as restricted; its link leads to sign-in.
  // The refused sign-up (422) and the used link (403) are expected.
  const customer = await newPage(await launchBrowser(), { allowConsole: [statusLogged(422), statusLogged(403)] });
  await customer.goto(`${attest.url}/trust/hanbit-cloud/soc?lang=en`);
  await customer.locator('a.restricted-doc', { hasText: 'SOC 2 Type 2 report — Hanbit Cloud platform' }).first().click();
  await expectAt(customer, '/trust/hanbit-cloud/signin?lang=en');
  await customer.locator('#signup-link').click();
  await expectAt(customer, '/trust/hanbit-cloud/signup?lang=en');
  // A malformed sign-up is refused with the field named, and nothing is lost.
  await customer.fill('#s-name', 'Jiwoo Park 박지우');
  await customer.fill('#s-company', 'Customer Co');
  await customer.fill('#s-email', 'jiwoo@customer.example');
  await customer.fill('#s-password', 'short-pass1');
  await customer.evaluate(() => document.querySelector('#s-password').removeAttribute('minlength'));
  await customer.locator('#signup-submit').click();
  const refused = await customer.locator('#customer-error').innerText();
  assert(refused.includes('12'), refused);
  assertEqual(await customer.inputValue('#s-name'), 'Jiwoo Park 박지우', 'the name is kept');
  await customer.fill('#s-password', 'correct horse battery staple');
  await customer.locator('#signup-submit').click();
  await expectH1(customer, 'Check your e-mail');

  // The confirmation link, from the mail Attest wrote.
  const files = await readdir(attest.mailDir);
  assertEqual(files.length, 1, 'one mail');
  const mail = (await readFile(join(attest.mailDir, files[0]), 'utf8')).replace(/=\r?\n/g, '');
  assert(mail.includes('To: ') && mail.includes('jiwoo@customer.example'), mail);
  const link = mail.match(/https?:\/\/\S+\/trust\/hanbit-cloud\/verify-email\/[A-Za-z0-9_-]+/)[0];
  await customer.goto(link.replace(/^https?:\/\/[^/]+/, attest.url));
  await customer.locator('#verify-submit').click();
  const verified = await customer.locator('#customer-notice').innerText();
  assert(verified.includes('confirmed'), verified);
  await customer.fill('#c-password', 'correct horse battery staple');
  await customer.locator('#signin-submit').click();
  await expectAt(customer, '/trust/hanbit-cloud/account?lang=en');
  assert((await customer.locator('#signed-in-as').innerText()).includes('Jiwoo Park 박지우'));

  // The NDA: read, accepted; then the request for the SOC 2 report.
  const nda = await customer.locator('#nda-text').innerText();
  assert(nda.includes('non-disclosure'), nda);
  await customer.locator('#nda-accept').click();
  assert((await customer.locator('#customer-notice').innerText()).includes('NDA is recorded'));
  assert((await customer.locator('#nda-accepted').innerText()).includes('version 1'));
  await customer.locator('.request-doc').first().waitFor();
  await customer.getByLabel('SOC 2 Type 2 report — Hanbit Cloud platform').check();
  await customer.fill('#r-reason', 'Annual vendor risk review of Hanbit Cloud');
  await customer.fill('#r-days', '30');
  await customer.locator('#request-submit').click();
  assert((await customer.locator('#requests').innerText()).includes('waiting for approval'));
  assertEqual(await customer.locator('.doc-download').count(), 0, 'nothing to download before approval');

  // The compliance manager approves it from the request queue.
  const staff = await newPage(await launchBrowser());
  await staff.goto(`${attest.url}/login`);
  await signIn(staff, 'owner@hanbit-cloud.example', oneTime);
  await expectAt(staff, '/account/password');
  await staff.fill('#current_password', oneTime);
  await staff.fill('#password', 'meadow lantern copper 59');
  await staff.getByRole('button', { name: 'Change password', exact: true }).click();
  await expectAt(staff, '/');
  await staff.goto(`${attest.url}/portal`);
  await staff.locator('#portal-customers-link').click();
  await expectAt(staff, '/portal/customers');
  const row = staff.locator('tr.access-request[data-state="requested"]');
  const asked = await row.innerText();
  assert(asked.includes('jiwoo@customer.example') && asked.includes('Annual vendor risk review') && asked.includes('current'), asked);
  await row.locator('button.approve').click();
  await expectAt(staff, '/portal/customers');
  await staff.locator('tr.access-request[data-state="approved"]').waitFor();

  // The customer downloads it: every page stamped with their name, e-mail and company.
  await customer.reload();
  const [download] = await Promise.all([
    customer.waitForEvent('download'),
    customer.locator('.doc-download').first().click(),
  ]);
  const file = join(attest.dataDir, 'soc2-stamped.pdf');
  await download.saveAs(file);
  const { stdout } = await promisify(execFile)('pdftotext', [file, '-']);
  for (const want of ['SOC 2 Type 2 report', 'Jiwoo Park 박지우', 'jiwoo@customer.example', 'Customer Co', 'Confidential']) {
    assert(stdout.includes(want), `the stamped copy shows ${want}: ${stdout}`);
  }
  // The same link does not work twice.
  const again = await customer.goto(download.url());
  assertEqual(again.status(), 403, 'a used link');

  // Staff see it in the download log, its chart and its CSV export.
  await staff.goto(`${attest.url}/portal/downloads`);
  const log = await staff.locator('#download-log').innerText();
  assert(log.includes('jiwoo@customer.example') && log.includes('served') && log.includes('link-used'), log);
  assert((await staff.locator('#by-company').innerText()).includes('Customer Co'));
  assertEqual(await staff.locator('svg.chart rect.bar-served').count(), 30, 'a bar per day');
  const [csv] = await Promise.all([
    staff.waitForEvent('download'),
    staff.locator('#downloads-csv').click(),
  ]);
  const csvFile = join(attest.dataDir, 'downloads.csv');
  await csv.saveAs(csvFile);
  const csvText = await readFile(csvFile, 'utf8');
  assert(csvText.startsWith('id,at,account_id') && csvText.includes('jiwoo@customer.example,Customer Co'), csvText);

  // Later the customer forgets the password: a mailed one-time link lets them choose another.
  await customer.goto(`${attest.url}/trust/hanbit-cloud/account?lang=en`);
  await customer.locator('#signout').click();
  await customer.goto(`${attest.url}/trust/hanbit-cloud/signin?lang=en`);
  await customer.locator('#forgot-link').click();
  await expectH1(customer, 'Reset your password');
  await customer.fill('#f-email', 'jiwoo@customer.example');
  await customer.locator('#forgot-submit').click();
  assert((await customer.locator('#customer-notice').innerText()).includes('If this address has an account'));
  let resetLink = null;
  for (const f of await readdir(attest.mailDir)) {
    const m = (await readFile(join(attest.mailDir, f), 'utf8')).replace(/=\r?\n/g, '').match(/https?:\/\/\S+\/trust\/hanbit-cloud\/reset\/[A-Za-z0-9_-]+/);
    if (m) resetLink = m[0];
  }
  assert(resetLink, 'the reset mail was sent');
  await customer.goto(resetLink.replace(/^https?:\/\/[^/]+/, attest.url));
  await expectH1(customer, 'Choose a new password');
  await customer.fill('#reset-password', 'another horse battery staple');
  await customer.locator('#reset-submit').click();
  assert((await customer.locator('#customer-notice').innerText()).includes('Your password was changed'));
  await customer.fill('#c-password', 'another horse battery staple');
  await customer.locator('#signin-submit').click();
  await expectAt(customer, '/trust/hanbit-cloud/account?lang=en');
});
