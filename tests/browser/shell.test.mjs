// The staff shell as a person meets it: first sign-in, navigation, MFA, refusals, layout.
// Each test starts its own Attest with a fresh data directory.

import {
  test,
  startAttest,
  launchBrowser,
  newPage,
  totp,
  assert,
  assertEqual,
  at,
  expectAt,
  expectH1,
  signIn,
  signOut,
  sidenavLabels,
  statusLogged,
  firstSignIn as firstSignInAs,
} from './harness.mjs';

const ORG = 'Acme Cloud';
const OWNER = 'owner@acme.test';
const OWNER_PASSWORD = 'orbit castle plum 42';
const VIEWER_PASSWORD = 'lantern meadow quartz 2026';

/**
 * Creates the organisation, signs its owner in with the one-time password and makes the
 * forced password change, ending on the dashboard.
 */
const firstSignIn = (attest, page) => firstSignInAs(attest, page, { org: ORG, email: OWNER, password: OWNER_PASSWORD });

test('first sign-in and the shell', async () => {
  const attest = await startAttest();
  const page = await newPage(await launchBrowser());
  await firstSignIn(attest, page);
  const title = await page.title();
  assert(title.endsWith('— Attest'), `title ${JSON.stringify(title)} should end with "— Attest"`);

  const nav = page.locator('nav#sidenav');
  const labels = await sidenavLabels(page);
  for (const l of ['Dashboard', 'Members', 'Settings', 'Audit trail']) {
    assert(labels.includes(l), `side nav ${JSON.stringify(labels)} lacks "${l}"`);
  }
  // Dashboard last, so that every click leaves the page it was on.
  for (const [label, path, heading] of [
    ['Members', '/members', 'Members'],
    ['Settings', '/settings', 'Settings'],
    ['Audit trail', '/audit-trail', 'Audit trail'],
    ['Dashboard', '/', ORG],
  ]) {
    await nav.getByRole('link', { name: label, exact: true }).click();
    await expectAt(page, path);
    assertEqual(
      await page.locator('nav#sidenav a[aria-current="page"]').allInnerTexts(),
      [label],
      `links marked aria-current="page" on ${path}`,
    );
    await expectH1(page, heading);
    if (path === '/audit-trail') {
      await page.getByRole('cell', { name: 'auth.sign_in', exact: true }).first().waitFor();
    }
  }

  await signOut(page);
  await page.getByText('You are signed out.', { exact: true }).waitFor();
});

test('MFA enrolment and sign-in with TOTP', async () => {
  const attest = await startAttest();
  // The wrong code below is answered 422.
  const page = await newPage(await launchBrowser(), { allowConsole: [statusLogged(422)] });
  await firstSignIn(attest, page);

  await page.goto(`${attest.url}/account`);
  await page.getByRole('link', { name: 'Set up', exact: true }).click();
  await expectAt(page, '/account/mfa');
  const secret = (await page.locator('#totp-secret').innerText()).trim();
  await page.fill('#code', totp(secret, Date.now() / 1000));
  await page.getByRole('button', { name: 'Turn on', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Second factor is on' }).waitFor();
  assertEqual(await page.locator('#recovery-codes li').count(), 10, 'recovery codes shown');

  await page.getByRole('link', { name: 'Continue', exact: true }).click();
  await expectAt(page, '/');
  await signOut(page);
  await signIn(page, OWNER, OWNER_PASSWORD);
  await expectAt(page, '/login/mfa');

  await page.fill('#code', '000000');
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await page.locator('[role=alert]', { hasText: 'that code is not right' }).waitFor();
  assertEqual(new URL(page.url()).pathname, '/login/mfa', 'path after a wrong code');

  // The current step's code was spent at enrolment (a replay is refused); the server
  // accepts one step of drift, so the next step's code is good now.
  await page.fill('#code', totp(secret, Date.now() / 1000 + 30));
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  await expectAt(page, '/');
  await expectH1(page, ORG);
});

test('refused access', async () => {
  const attest = await startAttest();
  const browser = await launchBrowser();
  const owner = await newPage(browser);
  await firstSignIn(attest, owner);

  await owner.goto(`${attest.url}/members`);
  await owner.fill('#invite-email', 'viewer@acme.test');
  await owner.selectOption('#invite-role', 'viewer');
  await owner.getByRole('button', { name: 'Create invitation link', exact: true }).click();
  const link = new URL((await owner.locator('#new-link').innerText()).trim(), attest.url).href;

  // A separate context: the viewer shares no cookies with the owner. The refused password
  // (422) and the refused pages (403) below are expected.
  const viewer = await newPage(browser, { allowConsole: [statusLogged(422), statusLogged(403)] });
  await viewer.goto(link);
  await expectH1(viewer, `Join ${ORG}`);
  await viewer.fill('#display_name', 'Vera Viewer');
  // A password containing the address's local part ("viewer") is refused by design.
  await viewer.fill('#password', 'viewer password 2026');
  await viewer.getByRole('button', { name: 'Accept invitation', exact: true }).click();
  await viewer.locator('[role=alert]', { hasText: 'must not contain the name part of your e-mail address' }).waitFor();
  assertEqual(await viewer.inputValue('#display_name'), 'Vera Viewer', 'name kept after a refused password');
  await viewer.fill('#password', VIEWER_PASSWORD);
  await viewer.getByRole('button', { name: 'Accept invitation', exact: true }).click();
  await expectAt(viewer, '/login?notice=joined');
  await signIn(viewer, 'viewer@acme.test', VIEWER_PASSWORD);
  await expectAt(viewer, '/');

  const labels = await sidenavLabels(viewer);
  assert(labels.includes('Dashboard'), `viewer's side nav ${JSON.stringify(labels)} lacks "Dashboard"`);
  for (const hidden of ['Members', 'Audit trail']) {
    assert(!labels.includes(hidden), `viewer's side nav ${JSON.stringify(labels)} shows "${hidden}"`);
  }
  for (const path of ['/members', '/audit-trail']) {
    const resp = await viewer.goto(`${attest.url}${path}`);
    assertEqual(resp.status(), 403, `status of ${path} for a viewer`);
    await expectH1(viewer, 'Not allowed');
  }
  // page.request carries the viewer's session cookie.
  const api = await viewer.request.get(`${attest.url}/api/v1/members`);
  assertEqual(api.status(), 403, 'status of GET /api/v1/members for a viewer');
  const body = await api.json();
  assertEqual(body?.error?.code, 'forbidden', `error code in ${JSON.stringify(body)}`);
});

/** Checks every page should pass: main#main, and an alt attribute on every image. */
async function checkPageBasics(page) {
  assertEqual(await page.locator('main#main').count(), 1, `main#main on ${at(page)}`);
  const noAlt = await page.$$eval('img:not([alt])', (imgs) => imgs.map((i) => i.outerHTML.slice(0, 120)));
  assertEqual(noAlt, [], `images without alt on ${at(page)}`);
}

/** Checks a staff-shell page: the basics, plus a working skip link first in tab order. */
async function checkShellPage(page) {
  await checkPageBasics(page);
  const skip = page.getByRole('link', { name: 'Skip to content', exact: true });
  assertEqual(await skip.getAttribute('href'), '#main', `skip link target on ${at(page)}`);
  await page.keyboard.press('Tab');
  assertEqual(
    await page.evaluate(() => document.activeElement?.textContent?.trim()),
    'Skip to content',
    `first element in tab order on ${at(page)}`,
  );
  assert(await skip.isVisible(), `skip link is not visible when focused on ${at(page)}`);
}

test('layout is responsive and accessible basics', async () => {
  const attest = await startAttest();
  const page = await newPage(await launchBrowser(), { viewport: { width: 390, height: 844 } });
  await page.goto(`${attest.url}/login`);
  await checkPageBasics(page);
  await firstSignIn(attest, page);

  const sidenav = page.locator('nav#sidenav');
  const toggle = page.locator('.navtoggle');
  assert(!(await sidenav.isVisible()), 'side nav is visible at 390 px before "Menu" is clicked');
  assertEqual((await toggle.innerText()).trim(), 'Menu', 'nav toggle text');
  assertEqual(await toggle.getAttribute('aria-expanded'), 'false', 'aria-expanded before the click');
  await toggle.click();
  await sidenav.waitFor({ state: 'visible' });
  assertEqual(await toggle.getAttribute('aria-expanded'), 'true', 'aria-expanded after the click');

  for (const path of ['/', '/members', '/settings', '/audit-trail', '/account', '/account/tokens']) {
    const resp = await page.goto(`${attest.url}${path}`);
    assertEqual(resp.status(), 200, `status of ${path}`);
    await checkShellPage(page);
  }
  for (const path of ['/account/mfa', '/account/password']) {
    const resp = await page.goto(`${attest.url}${path}`);
    assertEqual(resp.status(), 200, `status of ${path}`);
    await checkPageBasics(page);
  }

  // On a wide screen the side nav shows by itself and the toggle is gone.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${attest.url}/`);
  assert(await sidenav.isVisible(), 'side nav is hidden at 1280 px');
  assert(!(await toggle.isVisible()), '"Menu" toggle is visible at 1280 px');
});
