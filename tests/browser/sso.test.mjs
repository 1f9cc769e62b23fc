// Single sign-on end to end: Attest against a real OpenID provider (panva's oidc-provider on
// loopback), through the provider's own login and consent pages in the browser. Each test
// starts its own provider and its own Attest with a fresh data directory.

import { randomBytes } from 'node:crypto';

import {
  test,
  startAttest,
  launchBrowser,
  newPage,
  afterTest,
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
import { startProvider, withoutWebFonts } from './oidc.mjs';

const ORG = 'Acme Cloud';
const ORG_SLUG = 'acme-cloud';
const OWNER = 'owner@acme.test';
const OWNER_PASSWORD = 'orbit castle plum 42';
const VIEWER_PASSWORD = 'lantern meadow quartz 2026';
const CLIENT_ID = 'attest-acme';

/** The provider's people: the key is the login name at its login page, and the `sub`. */
const ACCOUNTS = {
  alice: { email: 'alice@acme.test', email_verified: true, name: 'Alice Admin', groups: ['attest-admins'] },
};

// The round trip through the provider (discovery, token, keys) may take longer than a click.
const SSO_MS = 15_000;

const firstSignIn = (attest, page) => firstSignInAs(attest, page, { org: ORG, email: OWNER, password: OWNER_PASSWORD });

/** Starts Attest, a provider that knows Attest as a client, and a browser. */
async function startAll() {
  const attest = await startAttest();
  const clientSecret = randomBytes(24).toString('hex');
  const provider = await startProvider({
    clientId: CLIENT_ID,
    clientSecret,
    redirectUri: `${attest.url}/sso/callback`,
    accounts: ACCOUNTS,
  });
  afterTest(provider.stop);
  const browser = await launchBrowser();
  return { attest, provider, clientSecret, browser };
}

/** A page whose provider pages load without the web font this network refuses. */
async function ssoPage(browser, options) {
  const page = await newPage(browser, options);
  await withoutWebFonts(page);
  return page;
}

/**
 * As the signed-in owner, fills the "Single sign-on" section of /settings for the provider,
 * turns it on (and makes it required, if asked) and saves it.
 */
async function configureSso(page, { attest, provider, clientSecret }, { required = false } = {}) {
  await page.goto(`${attest.url}/settings`);
  const section = page.locator('section#sso');
  await section.getByRole('heading', { name: 'Single sign-on (OpenID Connect)', exact: true }).waitFor();
  const codes = (await section.locator('code').allInnerTexts()).map((c) => c.trim());
  assert(
    codes.includes(`${attest.url}/sso/callback`),
    `the SSO section's <code>s ${JSON.stringify(codes)} lack the redirect URI ${attest.url}/sso/callback`,
  );
  await page.fill('#issuer', provider.issuer);
  await page.fill('#client_id', CLIENT_ID);
  await page.fill('#client_secret', clientSecret);
  await page.selectOption('#default_role', 'viewer');
  await page.fill('#group_claim', 'groups');
  await page.fill('#group_roles', 'attest-admins = compliance-manager');
  await section.locator('input[name=enabled]').check();
  if (required) await section.locator('input[name=required]').check();
  await section.getByRole('button', { name: 'Save single sign-on', exact: true }).click();
  try {
    await page.getByText('Single sign-on saved.', { exact: true }).waitFor({ timeout: SSO_MS });
  } catch {
    const alerts = await page.locator('[role=alert]').allInnerTexts().catch(() => []);
    throw new Error(`single sign-on was not saved (at ${at(page)}, alerts: ${JSON.stringify(alerts)})`);
  }
}

/** On /login, starts a single sign-on with the organisation; ends at the provider's login page. */
async function startSsoSignIn(page, { attest, provider }) {
  await page.goto(`${attest.url}/login`);
  await page.getByText("Sign in with your organisation's single sign-on", { exact: true }).click();
  await page.fill('#org', ORG_SLUG);
  await page.getByRole('button', { name: 'Continue to single sign-on', exact: true }).click();
  try {
    await page.waitForURL((u) => u.origin === provider.issuer, { timeout: SSO_MS });
  } catch {
    const alerts = await page.locator('[role=alert]').allInnerTexts().catch(() => []);
    throw new Error(`expected to be at the provider ${provider.issuer}, but at ${page.url()} (alerts: ${JSON.stringify(alerts)})`);
  }
  // The provider's development login page.
  await page.locator('input[name=login]').waitFor();
}

/**
 * At the provider: signs in as `login` (any password will do), then grants Attest access at
 * the consent page. Ends when the browser is back at Attest.
 */
async function finishAtProvider(page, { attest, provider }, login) {
  assertEqual(new URL(page.url()).origin, provider.issuer, 'origin of the provider login page');
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any password at all');
  await page.getByRole('button', { name: 'Sign-in', exact: true }).click();
  // The consent page ("Authorize") lists what Attest asks for.
  await page.getByRole('heading', { level: 1, name: 'Authorize', exact: true }).waitFor({ timeout: SSO_MS });
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await page.waitForURL((u) => u.origin === attest.url && u.pathname !== '/sso/callback', { timeout: SSO_MS }).catch(async () => {
    const alerts = await page.locator('[role=alert]').allInnerTexts().catch(() => []);
    throw new Error(`expected to be back at Attest, but at ${page.url()} (alerts: ${JSON.stringify(alerts)})`);
  });
}

/** Fails unless the page shows an alert containing `text`. */
async function expectAlert(page, text) {
  try {
    await page.locator('[role=alert]', { hasText: text }).first().waitFor();
  } catch {
    const alerts = await page.locator('[role=alert]').allInnerTexts().catch(() => []);
    throw new Error(`expected an alert containing ${JSON.stringify(text)} on ${at(page)}, got ${JSON.stringify(alerts)}`);
  }
}

test('SSO sign-in with just-in-time account and group role', async () => {
  const env = await startAll();
  const { attest } = env;
  const page = await ssoPage(env.browser);
  await firstSignIn(attest, page);
  await configureSso(page, env);
  await signOut(page);

  await startSsoSignIn(page, env);
  await finishAtProvider(page, env, 'alice');
  await expectAt(page, '/');
  await expectH1(page, ORG);

  const who = page.locator('header.topbar .usermenu');
  assertEqual((await who.locator('.badge').innerText()).trim(), 'Compliance manager', 'role badge of alice');
  const whoText = await who.locator('.who').innerText();
  assert(whoText.includes('Alice Admin'), `top bar ${JSON.stringify(whoText)} lacks the name "Alice Admin"`);
  const labels = await sidenavLabels(page);
  assert(labels.includes('Members'), `side nav ${JSON.stringify(labels)} of a compliance manager lacks "Members"`);

  await page.goto(`${attest.url}/audit-trail`);
  await expectH1(page, 'Audit trail');
  for (const action of ['sso.account_create', 'member.join', 'auth.sign_in_sso']) {
    try {
      await page.getByRole('cell', { name: action, exact: true }).first().waitFor();
    } catch {
      const shown = await page.locator('tbody tr td:nth-child(4)').allInnerTexts();
      throw new Error(`no "${action}" entry in the audit trail (actions shown: ${JSON.stringify(shown)})`);
    }
  }
});

test('SSO: tampered or replayed state is refused', async () => {
  const env = await startAll();
  const { attest, browser } = env;
  // The refused callbacks below are answered 401.
  const page = await ssoPage(browser, { allowConsole: [statusLogged(401)] });
  await firstSignIn(attest, page);
  await configureSso(page, env);
  await signOut(page);

  // A state Attest never issued, while a real sign-in waits at the provider.
  await startSsoSignIn(page, env);
  let resp = await page.goto(`${attest.url}/sso/callback?state=forged&code=whatever`);
  assertEqual(resp.status(), 401, 'status of /sso/callback with a forged state');
  await expectAlert(page, 'unknown, already used or expired');
  await page.goto(`${attest.url}/`);
  await expectAt(page, '/login?next=%2F');

  // A real sign-in, noting where the provider sent the browser back to.
  const callbacks = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.origin === attest.url && u.pathname === '/sso/callback') callbacks.push(r.url());
  });
  await startSsoSignIn(page, env);
  await finishAtProvider(page, env, 'alice');
  await expectAt(page, '/');
  await expectH1(page, ORG);
  assertEqual(callbacks.length, 1, `callbacks seen (${JSON.stringify(callbacks)})`);
  const callback = new URL(callbacks[0]);
  assert(
    callback.searchParams.get('state') && callback.searchParams.get('code'),
    `the provider's callback ${callbacks[0]} lacks a state or a code`,
  );
  await signOut(page);

  // The same answer again, from a browser that never started a sign-in.
  const replay = await newPage(browser, { allowConsole: [statusLogged(401)] });
  resp = await replay.goto(callbacks[0]);
  assertEqual(resp.status(), 401, 'status of a replayed /sso/callback');
  await expectAlert(replay, 'unknown, already used or expired');
  await replay.goto(`${attest.url}/`);
  await expectAt(replay, '/login?next=%2F');

  // The provider's refusal (a person cancelled at the provider).
  resp = await replay.goto(`${attest.url}/sso/callback?error=access_denied&error_description=User+cancelled`);
  assertEqual(resp.status(), 401, 'status of /sso/callback with error=access_denied');
  await expectAlert(replay, 'refused the sign-in');
  await expectAlert(replay, 'User cancelled');
});

test('SSO required: password sign-in refused except for owners', async () => {
  const env = await startAll();
  const { attest, browser } = env;
  const owner = await ssoPage(browser);
  await firstSignIn(attest, owner);
  await configureSso(owner, env, { required: true });
  assert(
    await owner.locator('section#sso input[name=required]').isChecked(),
    '"Require it" is not checked after saving',
  );

  await owner.goto(`${attest.url}/members`);
  await owner.fill('#invite-email', 'viewer@acme.test');
  await owner.selectOption('#invite-role', 'viewer');
  await owner.getByRole('button', { name: 'Create invitation link', exact: true }).click();
  const link = new URL((await owner.locator('#new-link').innerText()).trim(), attest.url).href;

  // The viewer's refused password sign-in is answered 401.
  const viewer = await newPage(browser, { allowConsole: [statusLogged(401)] });
  await viewer.goto(link);
  await expectH1(viewer, `Join ${ORG}`);
  await viewer.fill('#display_name', 'Vera Viewer');
  await viewer.fill('#password', VIEWER_PASSWORD);
  await viewer.getByRole('button', { name: 'Accept invitation', exact: true }).click();
  await expectAt(viewer, '/login?notice=joined');
  await signIn(viewer, 'viewer@acme.test', VIEWER_PASSWORD);
  await expectAlert(viewer, 'requires single sign-on');
  assertEqual(new URL(viewer.url()).pathname, '/login', 'path after the refused password sign-in');
  await viewer.goto(`${attest.url}/`);
  await expectAt(viewer, '/login?next=%2F');

  // Owners keep their password as a way in.
  await signOut(owner);
  await signIn(owner, OWNER, OWNER_PASSWORD);
  await expectAt(owner, '/');
  await expectH1(owner, ORG);
});
