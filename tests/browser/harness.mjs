// The browser-test harness: starts Attest servers, drives Debian's Chromium through
// playwright-core, computes TOTP codes, and runs tests one after another. No test framework:
// `test(name, fn)` registers a test and `run()` runs them all.

import { spawn, execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const here = fileURLToPath(new URL('.', import.meta.url));
/** The binary under test: `$ATTEST_BIN`, else the debug build of this repository. */
export const ATTEST_BIN = process.env.ATTEST_BIN || join(here, '..', '..', 'target', 'debug', 'attest');
const ARTIFACTS = join(here, 'artifacts');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const TEST_TIMEOUT_MS = 120_000;
const ACTION_TIMEOUT_MS = 10_000;

// The test now running. Servers, browsers and pages started during a test register here, so
// the runner can screenshot pages and stop everything even when the test body threw.
let current = null;

function track(cleanup) {
  if (current) current.cleanups.push(cleanup);
}

/**
 * Runs `cleanup` (async) when the running test ends, passed or failed, before the servers and
 * browsers it started earlier are stopped (cleanups run newest first).
 */
export function afterTest(cleanup) {
  track(cleanup);
}

// ---------------------------------------------------------------------------------------------
// Attest servers

async function freePort() {
  // Bind to port 0 so the kernel picks a free port, then release it for Attest to take.
  // Another process could grab it in between; on loopback in a test run that is rare enough.
  const srv = createServer();
  await new Promise((resolve, reject) => srv.listen(0, '127.0.0.1', resolve).on('error', reject));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `attest serve` on a free loopback port with a fresh data directory and waits until
 * `/healthz` answers 200. Returns `{url, dataDir, stop(), init(org, email), cli(args)}`.
 */
export async function startAttest({ mail = false } = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'attest-browser-'));
  // With `mail`, Attest writes the mail it sends as .eml files into `mailDir`.
  const mailDir = join(dataDir, 'mail');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // ATTEST_BIN is ours, not Attest's: Attest reads every ATTEST_* variable as configuration
  // and refuses to start on one it does not know.
  const { ATTEST_BIN: _, ...inherited } = process.env;
  const env = { ...inherited, ATTEST_LOG: 'warn' };
  if (mail) {
    await mkdir(mailDir, { recursive: true });
    env.ATTEST_MAIL_URL = `file://${mailDir}`;
  }
  const child = spawn(ATTEST_BIN, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    cwd: dataDir,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-20_000);
  });
  let exited = null;
  const exit = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve((exited = { code, signal })));
    child.on('error', (err) => resolve((exited = { error: err })));
  });

  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(t);
    }
    await rm(dataDir, { recursive: true, force: true });
  }
  track(stop);

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`attest serve ended before answering (${JSON.stringify(exited)}):\n${stderr}`);
    }
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`attest serve did not answer /healthz with 200 within 30 s:\n${stderr}`);
    }
    await sleep(100);
  }

  /** Runs `attest init` on this server's data and returns the owner's one-time password. */
  async function init(org, email) {
    const { stdout } = await promisify(execFile)(
      ATTEST_BIN,
      ['init', '--org', org, '--email', email, '--data-dir', dataDir],
      { cwd: dataDir, env },
    );
    const m = stdout.match(/^ {2}one-time password: (\S+)$/m);
    if (!m) throw new Error(`no one-time password in the output of attest init:\n${stdout}`);
    return m[1];
  }

  /** Runs an `attest` command on this server's data directory; returns its stdout. */
  async function cli(args) {
    const { stdout } = await promisify(execFile)(ATTEST_BIN, [...args, '--data-dir', dataDir], {
      cwd: dataDir,
      env,
    });
    return stdout;
  }

  return { url, dataDir, mailDir, stop, init, cli };
}

// ---------------------------------------------------------------------------------------------
// Browser

/** Launches Debian's headless Chromium (never a downloaded browser). */
export async function launchBrowser({ hostMap } = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\``);
  }
  // playwright-core gives every launch a fresh temporary profile (--user-data-dir) and
  // deletes it on close; it refuses a --user-data-dir in `args`.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      // Without these Chromium keeps calling Google's hosts, which this network refuses.
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
      // A host name of the test's own resolved to this machine (a portal's own host name).
      ...(hostMap ? [`--host-resolver-rules=MAP ${hostMap} 127.0.0.1`] : []),
    ],
  });
  track(() => browser.close());
  return browser;
}

/**
 * Opens a page in a new browser context (its own cookies). Console errors and uncaught page
 * errors fail the running test; a CSP violation is such a console error.
 * Options: `viewport`, and `allowConsole`, regular expressions for console errors a test
 * expects (Chromium logs every 4xx/5xx load as one).
 */
export async function newPage(browser, { viewport, allowConsole = [] } = {}) {
  const context = await browser.newContext(viewport ? { viewport } : {});
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  const page = await context.newPage();
  const errors = current ? current.errors : [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (allowConsole.some((re) => re.test(text))) return;
    errors.push(`console error on ${page.url()}: ${text}`);
  });
  page.on('pageerror', (err) => errors.push(`page error on ${page.url()}: ${err.message}`));
  if (current) current.pages.push(page);
  return page;
}

// ---------------------------------------------------------------------------------------------
// Pages: where a page is, what it shows, and the steps every test takes

const STEP_MS = 5_000;

/** Path and query of the page's URL. */
export function at(page) {
  const u = new URL(page.url());
  return u.pathname + u.search;
}

/** Text of the page's only h1 (fails if there is none or more than one). */
export async function h1(page) {
  return (await page.locator('h1').innerText()).trim();
}

/**
 * Waits until the page is at `want`, else fails saying where it is. A `want` with a query
 * must match path and query; one without matches the path alone (so `/` accepts a notice
 * such as `/?notice=password-changed`). `origin`, if given, must match too (a page that
 * passes through another server, such as an identity provider).
 */
export async function expectAt(page, want, { origin, timeout = STEP_MS } = {}) {
  const matches = (u) =>
    (want.includes('?') ? u.pathname + u.search : u.pathname) === want && (!origin || u.origin === origin);
  try {
    await page.waitForURL(matches, { timeout });
  } catch {
    const alert = await page.locator('[role=alert]').allInnerTexts().catch(() => []);
    const heading = await page.locator('h1').allInnerTexts().catch(() => []);
    const where = origin ? page.url() : at(page);
    throw new Error(`expected to be at ${origin ?? ''}${want}, but at ${where} (h1: ${JSON.stringify(heading)}, alerts: ${JSON.stringify(alert)})`);
  }
}

export async function expectH1(page, want) {
  assertEqual(await h1(page), want, `h1 of ${at(page)}`);
}

/** Fills and submits the password sign-in form of /login. */
export async function signIn(page, email, password) {
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

export async function signOut(page) {
  await page.locator('header.topbar').getByRole('button', { name: 'Sign out', exact: true }).click();
  await expectAt(page, '/login?notice=signed-out');
}

/**
 * Creates the organisation `org` with its owner `email`, signs the owner in with the one-time
 * password and makes the forced password change to `password`, ending on the dashboard.
 */
export async function firstSignIn(attest, page, { org, email, password }) {
  const oneTime = await attest.init(org, email);
  await page.goto(`${attest.url}/`);
  await expectAt(page, '/login?next=%2F');
  await signIn(page, email, oneTime);
  await expectAt(page, '/account/password');
  await expectH1(page, 'Change your password');
  await page.fill('#current_password', oneTime);
  await page.fill('#password', password);
  await page.getByRole('button', { name: 'Change password', exact: true }).click();
  await expectAt(page, '/');
  await expectH1(page, org);
}

/** The labels of the side nav's links. */
export const sidenavLabels = (page) => page.locator('nav#sidenav a').allInnerTexts();

/**
 * The console error Chromium logs for any response with this status, documents included.
 * A test that expects such a response (a refused form, a 403 page) allows it on its page.
 */
export const statusLogged = (status) =>
  new RegExp(`^Failed to load resource: the server responded with a status of ${status} \\(`);

// ---------------------------------------------------------------------------------------------
// TOTP (RFC 6238 over RFC 4226)

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Decode(s) {
  const clean = s.replace(/[\s=]/g, '').toUpperCase();
  const out = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${JSON.stringify(ch)}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The TOTP code (HMAC-SHA1, 30 s steps) of a base32 secret at a Unix time in seconds. */
export function totp(base32Secret, timeSeconds = Date.now() / 1000, digits = 6) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(timeSeconds / 30)));
  const mac = createHmac('sha1', base32Decode(base32Secret)).update(counter).digest();
  // Dynamic truncation: the low nibble of the last byte picks 4 bytes; drop their top bit.
  const offset = mac[mac.length - 1] & 0x0f;
  const code = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(code % 10 ** digits).padStart(digits, '0');
}

// ---------------------------------------------------------------------------------------------
// Runner

const tests = [];

/** Registers a test; `fn` is async and throws to fail. */
export function test(name, fn) {
  tests.push({ name, fn });
}

/** Fails with `message` unless `cond` holds. */
export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** Fails unless `actual` equals `expected` (compared as JSON). */
export function assertEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

const slug = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

async function screenshots(name, pages) {
  await mkdir(ARTIFACTS, { recursive: true });
  // The last page opened is usually the one that failed: it gets the plain name.
  const open = pages.filter((p) => !p.isClosed()).reverse();
  for (const [i, page] of open.entries()) {
    const file = join(ARTIFACTS, `${slug(name)}${i === 0 ? '' : `-${i + 1}`}.png`);
    try {
      await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
      console.log(`  screenshot: ${file} (${page.url()})`);
    } catch (e) {
      console.log(`  no screenshot of ${page.url()}: ${e.message.split('\n')[0]}`);
    }
  }
}

/**
 * Runs the registered tests one after another (those whose name contains `filter`, if
 * given), prints one line each and a summary, and returns the number of failures.
 */
export async function run(filter = '') {
  let passed = 0;
  let failed = 0;
  for (const t of tests.filter((t) => t.name.includes(filter))) {
    current = { errors: [], pages: [], cleanups: [] };
    const started = Date.now();
    let error = null;
    let timer;
    try {
      const body = Promise.resolve().then(() => t.fn());
      // After a timeout the body may still reject later; that must not crash the run.
      body.catch(() => {});
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${TEST_TIMEOUT_MS / 1000} s`)), TEST_TIMEOUT_MS);
      });
      await Promise.race([body, timeout]);
    } catch (e) {
      error = String(e.stack || e);
    } finally {
      clearTimeout(timer);
    }
    if (current.errors.length) {
      error = [error, ...current.errors].filter(Boolean).join('\n');
    }
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (error) {
      failed++;
      console.log(`FAILED ${t.name}: ${error}`);
      await screenshots(t.name, current.pages);
    } else {
      passed++;
      console.log(`ok ${t.name} (${secs} s)`);
    }
    for (const cleanup of current.cleanups.reverse()) {
      await cleanup().catch((e) => console.log(`  cleanup failed: ${e.message}`));
    }
    current = null;
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}
