// The risk register as an organisation owner keeps it: add an asset and a risk that stays
// above appetite, see it flagged and counted in the residual heat map, accept it, and see the
// acceptance need renewal after the residual rating rises.

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

const ORG = 'Risk Works';
const OWNER = 'owner@risk.test';
const PASSWORD = 'granite tulip orbit 41';

/** The count shown in a heat map's cell: likelihood row label, impact column index. */
async function cell(page, map, likelihood, impactIndex) {
  const row = page
    .locator('figure.heat', { hasText: map })
    .locator('tbody tr')
    .filter({ has: page.locator('th', { hasText: new RegExp(`^${likelihood}$`) }) });
  const text = (await row.locator('td').nth(impactIndex).innerText()).trim();
  return text === '' ? 0 : parseInt(text, 10);
}

test('rate, flag, accept and renew a risk', async () => {
  const attest = await startAttest();
  // Two refusals are expected (a past expiry, a matrix too small): 422 pages.
  const page = await newPage(await launchBrowser(), { allowConsole: [statusLogged(422)] });
  await firstSignIn(attest, page, { org: ORG, email: OWNER, password: PASSWORD });

  await page.locator('nav#sidenav').getByRole('link', { name: 'Risks', exact: true }).click();
  await expectAt(page, '/risks');
  await expectH1(page, 'Risks');
  assertEqual(await page.locator('figure.heat').count(), 2, 'inherent and residual heat maps');

  // An asset first.
  await page.getByRole('link', { name: 'Assets', exact: true }).click();
  await expectAt(page, '/risks/assets');
  await page.fill('#as-name', 'Customer database');
  await page.selectOption('#as-kind', 'information');
  await page.selectOption('#as-class', 'restricted');
  await page.getByRole('button', { name: 'Add asset', exact: true }).click();
  await expectAt(page, '/risks/assets');
  await page.locator('#asset-register tbody tr', { hasText: 'Customer database' }).waitFor();

  // A risk still High after treatment: likelihood 4 (Likely) × impact 3 (Moderate) = 12.
  await page.goto(`${attest.url}/risks`);
  await page.fill('#r-ref', 'R-001');
  await page.fill('#r-title', 'Ransomware encrypts the customer database');
  await page.fill('#r-threat', 'Ransomware');
  await page.fill('#r-vuln', 'Unpatched database hosts');
  await page.selectOption('#r-il', '5');
  await page.selectOption('#r-ii', '4');
  await page.selectOption('#r-rl', '4');
  await page.selectOption('#r-ri', '3');
  await page.selectOption('#r-assets', { label: 'Customer database' });
  await page.getByRole('button', { name: 'Add risk', exact: true }).click();
  await page.waitForURL(/\/risks\/[0-9a-f-]{36}$/);
  await expectH1(page, 'R-001 Ransomware encrypts the customer database');
  const riskUrl = page.url();
  await page.locator('#needs-decision').waitFor();
  assert((await page.locator('.card').filter({ has: page.locator('h2', { hasText: 'Affected assets' }) }).innerText()).includes('Customer database'), 'asset listed');

  // The register flags it and the residual heat map counts it at Likely × Moderate.
  await page.goto(`${attest.url}/risks`);
  await page.locator('#needs-decision').waitFor();
  const row = page.locator('#risk-register tbody tr', { hasText: 'R-001' });
  assert((await row.innerText()).includes('Decision needed'), 'flagged in the register');
  assertEqual(await cell(page, 'Residual', 'Likely', 2), 1, 'residual cell');
  assertEqual(await cell(page, 'Inherent', 'Almost certain', 3), 1, 'inherent cell');

  // The treatment plan: an action past its due day is flagged until it is done.
  await page.goto(riskUrl);
  await page.fill('#ac-title', 'Patch the database hosts');
  await page.fill('#ac-due', '2020-01-31');
  await page.getByRole('button', { name: 'Add action', exact: true }).click();
  await expectAt(page, new URL(riskUrl).pathname);
  const action = page.locator('#actions tbody tr', { hasText: 'Patch the database hosts' });
  await action.locator('.badge', { hasText: 'overdue' }).waitFor();

  // The dashboard counts the risk and the late action.
  await page.goto(`${attest.url}/`);
  const tile = page.locator('#glance .card', { hasText: 'Risks above appetite' });
  assertEqual((await tile.locator('.stat').innerText()).trim(), '1', 'dashboard tile');
  assert((await tile.innerText()).includes('1 treatment action(s) overdue'), 'late action counted');

  await page.goto(riskUrl);
  await action.getByRole('button', { name: 'Done', exact: true }).click();
  await expectAt(page, new URL(riskUrl).pathname);
  assertEqual(await action.locator('.badge').count(), 0, 'no longer overdue');

  // A bad expiry is refused with the reason; then the owner accepts it.
  await page.goto(riskUrl);
  await page.fill('#a-just', 'Compensating monitoring until the hosts are replaced');
  await page.fill('#a-exp', '2020-01-01');
  await page.getByRole('button', { name: 'Accept risk', exact: true }).click();
  await page.locator('.notice.error', { hasText: 'expiry date after today' }).waitFor();
  await page.fill('#a-just', 'Compensating monitoring until the hosts are replaced');
  const nextYear = new Date(Date.now() + 300 * 86400000).toISOString().slice(0, 10);
  await page.fill('#a-exp', nextYear);
  await page.getByRole('button', { name: 'Accept risk', exact: true }).click();
  await expectAt(page, new URL(riskUrl).pathname);
  await page.locator('#acceptances tbody tr', { hasText: 'Valid' }).waitFor();
  assertEqual(await page.locator('#needs-decision').count(), 0, 'no longer flagged');

  // The residual impact rises: the acceptance needs renewal and the flag is back.
  await page.selectOption('#r-ri', '4');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expectAt(page, new URL(riskUrl).pathname);
  await page.locator('#acceptances tbody tr', { hasText: 'Needs renewal' }).waitFor();
  await page.locator('#needs-decision').waitFor();

  // The matrix page refuses a 3 × 3 matrix while the risk is rated beyond it.
  await page.goto(`${attest.url}/risks/matrix`);
  await page.fill('#m-l', 'Low\nMedium\nHigh');
  await page.fill('#m-i', 'Low\nMedium\nHigh');
  await page.fill('#m-lv', '1 Low\n5 High');
  await page.fill('#m-a', '4');
  await page.getByRole('button', { name: 'Save matrix', exact: true }).click();
  await page.locator('.notice.error', { hasText: 're-rate them first' }).waitFor();

  // A sheet imports in one go; the export offers the register back.
  await page.goto(`${attest.url}/risks`);
  await page.setInputFiles('#import-file', {
    name: 'more.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('ref,title,inherent_likelihood,inherent_impact,treatment\nR-002,Supplier outage,3,4,share\n'),
  });
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.locator('.notice', { hasText: 'Imported: 1 risk(s) added' }).waitFor();
  await page.locator('#risk-register tbody tr', { hasText: 'R-002' }).waitFor();
  const href = await page.getByRole('link', { name: 'Export CSV', exact: true }).getAttribute('href');
  const csv = await page.evaluate(async (u) => (await fetch(u)).text(), href);
  assert(csv.startsWith('ref,title,') && csv.includes('Supplier outage'), 'export has the imported risk');
});
