// End-to-end tests: Debian's Chromium (through playwright-core) against the real
// `authenticon serve`, on a throwaway SQLite database. Screenshots of each page go to
// test-artifacts/e2e/ at the repository root.
//
// Run by `make test-e2e` (AUTHENTICON_BIN names the binary). Uses node's test runner.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const BIN = resolve(process.env.AUTHENTICON_BIN ?? '../target/debug/authenticon');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = resolve('../test-artifacts/e2e');
const PASSWORD = 'a long passphrase';
const ACCESS_LIFETIME_S = 4;

let server;
let smtp;
let mailDir;
let baseUrl;
let browser;
let dir;

function env() {
  return {
    PATH: process.env.PATH,
    AUTHENTICON_DATABASE_URL: `sqlite://${join(dir, 'e2e.db')}`,
    AUTHENTICON_SECRET_KEY: 'e2e-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
    AUTHENTICON_ACCESS_TOKEN_LIFETIME: `${ACCESS_LIFETIME_S}s`,
    AUTHENTICON_BIND: '127.0.0.1:0',
    AUTHENTICON_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
  };
}

/** A real SMTP server (aiosmtpd from the project's virtualenv) writing mails as JSON. */
async function startSmtp() {
  mailDir = join(dir, 'mail');
  const python = resolve(process.env.PYTHON ?? '../.venv/bin/python');
  const proc = spawn(python, [resolve('../tests/support/smtp_sink.py'), mailDir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((ok, fail) => {
    proc.stdout.once('data', (chunk) => ok(Number(String(chunk).trim())));
    proc.on('exit', (code) => fail(new Error(`SMTP sink exited ${code}`)));
  });
  return { proc, port };
}

/** RFC 6238 with SHA-1, 6 digits, 30 s steps: what an authenticator app shows. */
function totp(base32, offsetSteps = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + offsetSteps));
  const mac = createHmac('sha1', key).update(counter).digest();
  const o = mac[19] & 15;
  const n = ((mac[o] & 127) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

/** Waits for mail number `n` (1-based) and returns it. */
async function mail(n) {
  for (let i = 0; i < 300; i++) {
    const names = readdirSync(mailDir).filter((f) => f.endsWith('.json')).sort();
    if (names.length >= n) return JSON.parse(readFileSync(join(mailDir, names[n - 1]), 'utf8'));
    await sleep(50);
  }
  throw new Error(`mail ${n} never arrived`);
}

/** The path and query of the link to `page` in a mail. */
function linkIn(message, page) {
  const m = new RegExp(`https?://[^/\\s]+(/${page}\\?token=\\S+)`).exec(message.body);
  assert.ok(m, `no ${page} link in ${message.body}`);
  return m[1];
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'authenticon-e2e-'));
  smtp = await startSmtp();
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  execFileSync(BIN, ['createsuperuser', '--username', 'root', '--no-input'], {
    env: { ...env(), AUTHENTICON_SUPERUSER_PASSWORD: PASSWORD },
  });
  server = spawn(BIN, ['serve'], { env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
  baseUrl = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('server did not start')), 30_000);
    let log = '';
    server.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    server.on('exit', (code) => fail(new Error(`server exited ${code}: ${log}`)));
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-gpu', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  smtp?.proc.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits out the access token's lifetime, so the next API call needs a refresh. */
const expireAccessToken = () => sleep(ACCESS_LIFETIME_S * 1000 + 1200);

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/**
 * A new browser profile ("device") with one tab, phone-sized when asked. `localhost`
 * opens the app by that name instead of 127.0.0.1: WebAuthn wants a domain.
 */
async function device({ phone = false, userAgent, localhost = false } = {}) {
  const context = await browser.newContext({
    baseURL: localhost ? baseUrl.replace('127.0.0.1', 'localhost') : baseUrl,
    viewport: phone ? { width: 390, height: 844 } : { width: 1200, height: 800 },
    userAgent,
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && !/status of 40[0-9]/.test(m.text()) && errors.push(m.text()));
  return { context, page, errors };
}

async function signIn(page, username) {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByTestId('username').waitFor();
}

/** The audit log, read over the API as the superuser. */
async function audit(query) {
  const tokens = await (await fetch(`${baseUrl}/api/token/`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'root', password: PASSWORD }),
  })).json();
  const res = await fetch(`${baseUrl}/api/audit/?page_size=100&${query}`, {
    headers: { Authorization: `Bearer ${tokens.access}` },
  });
  return (await res.json()).results;
}

test('register with live and server feedback, then land on the dashboard', async () => {
  const { page, errors, context } = await device({ phone: true });
  await page.goto('/signup');
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('short');
  await page.getByText('This password is too short. It must contain at least 8 characters.').waitFor();
  await shot(page, '01-register-live-feedback');
  await page.getByLabel('Password').fill('password123');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText('This password is too common.').waitFor();
  await shot(page, '02-register-server-errors');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByTestId('protected-message').waitFor();
  assert.match(await page.getByTestId('protected-message').innerText(), /Hello, alice!/);
  assert.equal(await page.getByTestId('roles').innerText(), 'none');
  await shot(page, '03-dashboard-phone');
  // Nothing auth-related is readable by script.
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
  assert.equal(stored, '{}{}');
  assert.deepEqual(errors, []);
  await context.close();
});

test('sign in, reload keeps the session, an expired access token is refreshed transparently', async () => {
  const { page, errors, context } = await device({ userAgent: 'Desktop Browser/1.0' });
  await page.goto('/login');
  await shot(page, '04-login');
  await signIn(page, 'alice');
  await page.reload();
  await page.getByTestId('username').waitFor();
  assert.equal(await page.getByTestId('username').innerText(), 'alice');

  await expireAccessToken();
  const refreshes = [];
  page.on('request', (r) => r.url().endsWith('/api/session/refresh/') && refreshes.push(r));
  await page.getByRole('link', { name: 'My sessions' }).click();
  await page.getByText('This session').waitFor();
  assert.equal(refreshes.length, 1, 'one refresh for the expired token');
  await shot(page, '05-sessions');
  assert.deepEqual(errors, []);
  await context.close();
});

test('two tabs refreshing at once make one rotation and raise no reuse alarm', async () => {
  const { page: tab1, context } = await device();
  await signIn(tab1, 'alice');
  const tab2 = await context.newPage();
  await tab2.goto('/');
  await tab2.getByTestId('username').waitFor();
  const rotationsBefore = (await audit('user=alice&event=refresh')).length;

  await expireAccessToken();
  await Promise.all([
    tab1.getByRole('link', { name: 'My sessions' }).click(),
    tab2.getByRole('link', { name: 'My sessions' }).click(),
  ]);
  await Promise.all([tab1.getByText('This session').waitFor(), tab2.getByText('This session').waitFor()]);
  const rotationsAfter = (await audit('user=alice&event=refresh')).length;
  assert.equal(rotationsAfter - rotationsBefore, 1, 'exactly one rotation');
  assert.equal((await audit('user=alice&event=refresh_reuse_detected')).length, 0, 'no reuse alarm');
  await context.close();
});

test('a session revoked from another device ends there; logout everywhere ends every tab', async () => {
  const laptop = await device({ userAgent: 'Laptop Browser/1.0' });
  const phone = await device({ phone: true, userAgent: 'Phone Browser/2.0' });
  await signIn(laptop.page, 'alice');
  await signIn(phone.page, 'alice');

  await laptop.page.goto('/sessions');
  const phoneRow = laptop.page.locator('li', { has: laptop.page.locator('[title="Phone Browser/2.0"]') });
  await phoneRow.getByRole('button', { name: 'Revoke' }).click();
  await phoneRow.waitFor({ state: 'detached' });
  await shot(laptop.page, '06-sessions-after-revoke');

  // At once: the revoked session's access token is refused, and so is its refresh.
  await phone.page.getByRole('link', { name: 'My sessions' }).click();
  await phone.page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor({ timeout: 3000 });
  await shot(phone.page, '07-phone-signed-out');

  const secondTab = await laptop.context.newPage();
  await secondTab.goto('/');
  await secondTab.getByTestId('username').waitFor();
  await laptop.page.getByRole('button', { name: 'Log out everywhere' }).click();
  await laptop.page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
  // The other tab follows at once (BroadcastChannel), without waiting for a request.
  await secondTab.getByRole('heading', { name: 'Sign in', exact: true }).waitFor({ timeout: 5000 });
  await laptop.context.close();
  await phone.context.close();
});

test('an admin assigns a role and the user is offered the new screens', async () => {
  const user = await device();
  await signIn(user.page, 'alice');
  assert.equal(await user.page.getByRole('link', { name: 'Users' }).count(), 0);

  const admin = await device();
  await signIn(admin.page, 'root');
  await admin.page.getByRole('link', { name: 'Roles' }).click();
  await admin.page.getByLabel('Name').fill('support');
  await admin.page.getByLabel('Permissions').fill('users.view, audit.view');
  await admin.page.getByRole('button', { name: 'Create role' }).click();
  await admin.page.getByText('support', { exact: true }).waitFor();
  await shot(admin.page, '08-roles');

  await admin.page.getByRole('link', { name: 'Users' }).click();
  await admin.page.getByLabel('Search').fill('ali');
  await admin.page.getByRole('button', { name: 'Search' }).click();
  const row = admin.page.locator('tr[data-username="alice"]');
  // The box follows the server: it turns checked once the assignment is saved.
  await row.getByLabel('support').click();
  await row.locator('input[type="checkbox"]:checked').waitFor();
  await shot(admin.page, '09-users');

  await admin.page.getByRole('link', { name: 'Audit log' }).click();
  await admin.page.getByTestId('audit-rows').locator('tr').first().waitFor();
  await shot(admin.page, '10-audit');

  // The user's next page load shows the screens the role opens.
  await user.page.goto('/');
  await user.page.getByRole('link', { name: 'Users' }).waitFor();
  assert.equal(await user.page.getByTestId('roles').innerText(), 'support');
  assert.equal(await user.page.getByRole('link', { name: 'Roles' }).count(), 0);
  await user.page.getByRole('link', { name: 'Audit log' }).click();
  await user.page.getByTestId('audit-rows').waitFor();
  await shot(user.page, '11-user-with-support-role');
  assert.deepEqual(user.errors, []);
  assert.deepEqual(admin.errors, []);
  await user.context.close();
  await admin.context.close();
});

test('forgot password: the mailed link sets a new password once; the email is verified by its link', async () => {
  const { page, errors, context } = await device();
  const mailsBefore = readdirSync(mailDir).filter((f) => f.endsWith('.json')).length;
  const res = await fetch(`${baseUrl}/register/`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'rita', password: PASSWORD, email: 'rita@example.com' }),
  });
  assert.equal(res.status, 201);
  const verification = await mail(mailsBefore + 1);
  assert.deepEqual(verification.to, ['rita@example.com']);
  // Reset links go only to a verified address.
  await page.goto(linkIn(verification, 'verify-email'));
  await page.getByText('Email address verified.').waitFor();

  await page.goto('/login');
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await page.getByLabel('Email').fill('rita@example.com');
  await page.getByRole('button', { name: 'Send the link' }).click();
  await page.getByText('If an account with this email address exists').waitFor();
  await shot(page, '12-forgot-password');

  const reset = await mail(mailsBefore + 2);
  assert.equal(reset.subject, 'Reset your password');
  const link = linkIn(reset, 'reset-password');
  await page.goto(link);
  await page.getByLabel('New password', { exact: true }).fill('rita');
  await page.getByLabel('New password again').fill('rita');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await page.getByText('This password is too short. It must contain at least 8 characters.').waitFor();
  await shot(page, '13-reset-password-rules');
  const fresh = 'a brand new passphrase';
  await page.getByLabel('New password', { exact: true }).fill(fresh);
  await page.getByLabel('New password again').fill(fresh);
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await page.getByText('Your password has been reset.').waitFor();
  await shot(page, '14-reset-password-done');

  // The link is spent.
  await page.goto(link);
  await page.getByLabel('New password', { exact: true }).fill('yet another passphrase');
  await page.getByLabel('New password again').fill('yet another passphrase');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await page.getByText('This link is invalid or has expired.').waitFor();

  // Signed in with the new password, the banner asks for verification until the link is used.
  await page.goto('/login');
  await page.getByLabel('Username').fill('rita');
  await page.getByLabel('Password').fill(fresh);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByTestId('username').waitFor();
  // The reset link proved the address already: no banner.
  assert.equal(await page.getByText('is not verified yet').count(), 0);
  await context.close();

  // A second account, unverified: the banner shows, the verification link clears it.
  const second = await device({ phone: true });
  const mailsNow = readdirSync(mailDir).filter((f) => f.endsWith('.json')).length;
  await fetch(`${baseUrl}/register/`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'sam', password: PASSWORD, email: 'sam@example.com' }),
  });
  const samMail = await mail(mailsNow + 1);
  await signIn(second.page, 'sam');
  await second.page.getByText('is not verified yet').waitFor();
  await shot(second.page, '15-unverified-banner-phone');
  await second.page.goto(linkIn(samMail, 'verify-email'));
  await second.page.getByText('Email address verified.').waitFor();
  await shot(second.page, '16-email-verified-phone');
  await second.page.getByRole('link', { name: 'Continue to Authenticon' }).click();
  await second.page.getByTestId('username').waitFor();
  assert.equal(await second.page.getByText('is not verified yet').count(), 0);
  const events = (await audit('user=rita')).map((e) => e.event);
  for (const e of ['password_reset_requested', 'password_reset']) assert.ok(events.includes(e), `${e} in ${events}`);
  assert.deepEqual(errors, []);
  assert.deepEqual(second.errors, []);
  await second.context.close();
});

test('turn on an authenticator app, then signing in asks for its code', async () => {
  const { page, errors, context } = await device();
  await fetch(`${baseUrl}/register/`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'tina', password: PASSWORD }),
  });
  await signIn(page, 'tina');
  await page.getByRole('link', { name: 'Two-factor' }).click();
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  // A factor is added only with a fresh proof: the app asks for the password first.
  const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
  await dialog.getByLabel('Your current password').fill('not my password');
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await dialog.getByText('Your password was entered incorrectly. Please enter it again.').waitFor();
  await shot(page, '17a-reauth-dialog');
  await dialog.getByLabel('Your current password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await page.getByAltText('QR code for your authenticator app').waitFor();
  assert.equal(await dialog.isVisible(), false);
  const secret = await page.getByTestId('totp-secret').innerText();
  await shot(page, '17-totp-enrol');
  await page.getByLabel('Code', { exact: true }).fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.getByText('Two-factor authentication is on.').waitFor();
  assert.equal(await page.getByTestId('recovery-codes').locator('li').count(), 10);
  assert.match(await page.getByTestId('mfa-state').innerText(), /^On/);
  await shot(page, '18-totp-on-recovery-codes');
  await page.getByRole('button', { name: 'Log out' }).click();

  await page.goto('/login');
  await page.getByLabel('Username').fill('tina');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByLabel('Code').waitFor();
  await page.getByLabel('Code').fill('000000' === totp(secret, 1) ? '111111' : '000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByText('Invalid code.').waitFor();
  await shot(page, '19-login-second-step');
  await page.getByLabel('Code').fill(totp(secret, 1));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByTestId('username').waitFor();
  assert.equal(await page.getByTestId('username').innerText(), 'tina');
  const events = (await audit('user=tina')).map((e) => e.event);
  for (const e of ['mfa_enabled', 'mfa_failed', 'mfa_used']) assert.ok(events.includes(e), `${e} in ${events}`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('add a passkey, then sign in with it: as the second step, and without a password', async () => {
  const { page, errors, context } = await device({ localhost: true });
  // A platform authenticator that verifies its user (as a fingerprint reader would).
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  await fetch(`${baseUrl}/register/`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'pat', password: PASSWORD }),
  });
  await signIn(page, 'pat');
  await page.getByRole('link', { name: 'Two-factor' }).click();
  await page.getByLabel('Passkey name').fill('Laptop');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
  await dialog.getByLabel('Your current password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await page.getByText('Passkey added.').waitFor();
  assert.equal(await page.getByTestId('recovery-codes').locator('li').count(), 10);
  assert.match(await page.getByTestId('passkeys').innerText(), /Laptop/);
  assert.match(await page.getByTestId('mfa-state').innerText(), /^On: signing in asks for a passkey/);
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true, 'a discoverable credential');
  await shot(page, '20-passkey-added');
  await page.getByRole('button', { name: 'Log out' }).click();

  // The password is no longer enough: the passkey is the second step.
  await page.goto('/login');
  await page.getByLabel('Username').fill('pat');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('button', { name: 'Use your passkey' }).waitFor();
  await shot(page, '21-login-passkey-step');
  await page.getByRole('button', { name: 'Use your passkey' }).click();
  await page.getByTestId('username').waitFor();
  assert.equal(await page.getByTestId('username').innerText(), 'pat');
  await page.getByRole('button', { name: 'Log out' }).click();

  // Or the passkey alone: it names its user.
  await page.goto('/login');
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.getByTestId('username').waitFor();
  assert.equal(await page.getByTestId('username').innerText(), 'pat');
  const used = (await audit('user=pat&event=mfa_used')).map((e) => e.detail.passwordless);
  assert.deepEqual(used.sort(), [false, true]);

  // Removing it takes a fresh proof (this session began with the passkey alone): a wrong
  // password is refused, the passkey itself proves it; then the password alone signs in.
  await page.getByRole('link', { name: 'Two-factor' }).click();
  await page.getByRole('button', { name: 'Remove passkey Laptop' }).click();
  await page.getByRole('button', { name: 'Remove passkey', exact: true }).click();
  const confirm = page.getByRole('dialog', { name: 'Confirm it is you' });
  await confirm.getByLabel('Your current password').fill('not my password');
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  await confirm.getByText('Your password was entered incorrectly. Please enter it again.').waitFor();
  await shot(page, '22-passkey-remove-reauth');
  assert.match(await page.getByTestId('passkeys').innerText(), /Laptop/);
  await confirm.getByRole('button', { name: 'Use a passkey' }).click();
  await page.getByText('Passkey “Laptop” removed.').waitFor();
  assert.equal(await page.getByTestId('passkeys').count(), 0);
  assert.match(await page.getByTestId('mfa-state').innerText(), /^Off: signing in needs only your password/);
  await page.getByRole('button', { name: 'Log out' }).click();
  await signIn(page, 'pat');
  assert.equal(await page.getByTestId('username').innerText(), 'pat');
  assert.deepEqual(errors, []);
  await context.close();
});
