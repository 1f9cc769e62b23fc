// The trust portal from the demo data set: the staff page, then the public pages in Korean
// and English (language switch), and a public SOC 3 report downloaded and read back.

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
  signIn,
} from './harness.mjs';

test('the demo trust portal in Korean and English', async () => {
  const attest = await startAttest();
  const out = await attest.cli(['demo', 'load']);
  assert(out.includes('/trust/hanbit-cloud'), `the portal's address is printed: ${out}`);
  const oneTime = out.match(/one-time password: (\S+)/)[1];

  // Staff: the portal page lists the offerings and the published documents.
  const page = await newPage(await launchBrowser());
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
