// End-to-end tests: Debian's Chromium (through playwright-core) against the real
// `authenticon serve`, on a throwaway SQLite database. Screenshots of each page go to
// test-artifacts/e2e/ at the repository root; each account page is also checked at 1280,
// 390 and 320 px wide (no sideways scroll) and with axe-core (no serious or critical
// violations).
//
// Run by `make test-e2e` (AUTHENTICON_BIN names the binary). Uses node's test runner.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  PASSWORD, apiClient, axeCheck, checkPage, mails, onPage, shot, sleep, startStack, watchErrors, writeAxeFindings,
} from './support.mjs';

const ACCESS_LIFETIME_S = 4;
// What the app says (src/features/auth/LoginPage.tsx, src/lib/auth.tsx).
const SESSION_ENDED = 'Your session ended; sign in again to continue.';
const SIGNED_OUT_UNTOLD = 'You are signed out here, but the server could not be told';

let stack;
let mailDir;
let baseUrl;
let browser;
let tokenFor;
let apiAs;
let registerUser;

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
    const all = mails(mailDir);
    if (all.length >= n) return all[n - 1];
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
  // Not emptied first: the admin console's tests (admin.mjs) keep their screenshots here too.
  stack = await startStack('e2e', { AUTHENTICON_ACCESS_TOKEN_LIFETIME: `${ACCESS_LIFETIME_S}s` });
  ({ baseUrl, browser, mailDir } = stack);
  ({ tokenFor, apiAs, registerUser } = apiClient(baseUrl));
});

after(async () => {
  writeAxeFindings('axe-findings.json');
  await stack?.stop();
});

/** Waits out the access token's lifetime, so the next API call needs a refresh. */
const expireAccessToken = () => sleep(ACCESS_LIFETIME_S * 1000 + 1200);

/**
 * A new browser profile ("device") with one tab, phone-sized when asked. `localhost`
 * opens the app by that name instead of 127.0.0.1: WebAuthn wants a domain.
 */
async function device({ phone = false, userAgent, localhost = false } = {}) {
  const context = await browser.newContext({
    baseURL: localhost ? baseUrl.replace('127.0.0.1', 'localhost') : baseUrl,
    viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 800 },
    userAgent,
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  return { context, page, errors: watchErrors(page) };
}

async function signIn(page, username) {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByTestId('username').waitFor();
}

/** A link of the main navigation. */
const navLink = (page, name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

/** The audit log, read over the API as the superuser. */
async function audit(query) {
  return (await apiAs('root', 'GET', `/api/audit/?page_size=100&${query}`)).results;
}

const mailCount = () => mails(mailDir).length;

/** Saves the recovery codes shown (copy, download, tick, Done); the codes. */
async function saveRecoveryCodes(page, name) {
  const step = page.getByTestId('recovery-step');
  await step.waitFor();
  const codes = await page.getByTestId('recovery-codes').locator('li').allInnerTexts();
  await step.getByRole('button', { name: 'Copy all codes' }).click();
  await step.getByText(`Copied ${codes.length} codes.`).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), codes.join('\n'));
  const [download] = await Promise.all([
    page.waitForEvent('download'), step.getByRole('button', { name: 'Download as a .txt file' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'authenticon-recovery-codes.txt');
  const file = readFileSync(await download.path(), 'utf8');
  for (const c of codes) assert.ok(file.includes(c), `${c} in the downloaded file`);
  // Not before "I have saved them" is ticked.
  await step.getByRole('button', { name: 'Done' }).click();
  await step.getByText('Tick the box once the codes are saved').waitFor();
  assert.equal(await step.isVisible(), true);
  if (name) await checkPage(page, name);
  await step.getByLabel('I have saved these codes somewhere safe').check();
  await step.getByRole('button', { name: 'Done' }).click();
  await step.waitFor({ state: 'detached' });
  return codes;
}

test('register with live and server feedback, then land on the dashboard', async () => {
  const { page, errors, context } = await device({ phone: true });
  await page.goto('/signup');
  await onPage(page, 'Create an account');
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password', { exact: true }).fill('short');
  const rules = page.getByTestId('password-rules');
  await rules.locator('[data-rule="length"][data-state="failed"]').waitFor();
  await shot(page, '01-register-live-feedback');
  // The browser refuses what it can check without a round trip, in the server's words.
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText('This password is too short. It must contain at least 8 characters.').waitFor();
  await page.getByLabel('Password', { exact: true }).fill('password123');
  await rules.locator('[data-rule="length"][data-state="met"]').waitFor();
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText('This password is too common.').waitFor();
  await shot(page, '02-register-server-errors');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByTestId('greeting').waitFor();
  assert.equal(await page.getByTestId('greeting').innerText(), 'Hello, alice.');
  assert.equal(await page.getByText('You have accessed a protected resource').count(), 0);
  assert.equal(await page.getByTestId('roles').innerText(), 'none');
  await onPage(page, 'Dashboard');
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
  await onPage(page, 'Sign in');
  await shot(page, '04-login');
  await signIn(page, 'alice');
  await page.reload();
  await page.getByTestId('username').waitFor();
  assert.equal(await page.getByTestId('username').innerText(), 'alice');

  await expireAccessToken();
  const refreshes = [];
  page.on('request', (r) => r.url().endsWith('/api/session/refresh/') && refreshes.push(r));
  await navLink(page, 'My sessions').click();
  await page.getByText('This session').waitFor();
  assert.equal(refreshes.length, 1, 'one refresh for the expired token');
  // After navigating, the new page's heading has focus and names the tab.
  await onPage(page, 'My sessions');
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1');
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
    navLink(tab1, 'My sessions').click(),
    navLink(tab2, 'My sessions').click(),
  ]);
  await Promise.all([tab1.getByText('This session').waitFor(), tab2.getByText('This session').waitFor()]);
  const rotationsAfter = (await audit('user=alice&event=refresh')).length;
  assert.equal(rotationsAfter - rotationsBefore, 1, 'exactly one rotation');
  assert.equal((await audit('user=alice&event=refresh_reuse_detected')).length, 0, 'no reuse alarm');
  await context.close();
});

test('a session revoked elsewhere ends with a message and returns after sign-in; logout everywhere ends every tab', async () => {
  const laptop = await device({ userAgent: 'Laptop Browser/1.0' });
  const phone = await device({ phone: true, userAgent: 'Phone Browser/2.0' });
  await signIn(laptop.page, 'alice');
  await signIn(phone.page, 'alice');
  await phone.page.goto('/password');
  await onPage(phone.page, 'Change password');

  await laptop.page.goto('/sessions');
  const phoneRow = laptop.page.locator('li', { has: laptop.page.locator('[title="Phone Browser/2.0"]') });
  await phoneRow.getByRole('button', { name: 'Revoke' }).click();
  await phoneRow.waitFor({ state: 'detached' });
  await shot(laptop.page, '06-sessions-after-revoke');

  // At once: the revoked session's access token is refused, and so is its refresh. The
  // phone says why, and keeps where it was for after the sign-in.
  await navLink(phone.page, 'My sessions').click();
  await phone.page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor({ timeout: 3000 });
  await phone.page.getByText(SESSION_ENDED).waitFor();
  assert.equal(new URL(phone.page.url()).search, '?next=%2Fsessions');
  assert.equal(await phone.page.getByLabel('Username').inputValue(), 'alice');
  await shot(phone.page, '07-phone-session-ended');
  await phone.page.getByLabel('Password').fill(PASSWORD);
  await phone.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await onPage(phone.page, 'My sessions');
  assert.equal(new URL(phone.page.url()).pathname, '/sessions');

  const secondTab = await laptop.context.newPage();
  await secondTab.goto('/');
  await secondTab.getByTestId('username').waitFor();
  await laptop.page.getByRole('button', { name: 'Log out everywhere' }).click();
  const confirm = laptop.page.getByRole('alertdialog', { name: 'Log out everywhere?' });
  await shot(laptop.page, '06b-confirm-logout-everywhere');
  await axeCheck(laptop.page, 'confirm dialog');
  await confirm.getByRole('button', { name: 'Log out everywhere' }).click();
  await laptop.page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
  // The other tab follows at once (BroadcastChannel), without waiting for a request.
  await secondTab.getByRole('heading', { name: 'Sign in', exact: true }).waitFor({ timeout: 5000 });
  await laptop.context.close();
  await phone.context.close();
});

test('?next= returns to the page after sign-in, and only to a page of this site', async () => {
  const { page, errors, context } = await device();
  await page.goto('/two-factor');
  await onPage(page, 'Sign in');
  assert.equal(new URL(page.url()).search, '?next=%2Ftwo-factor');
  // Arriving without a session is not an expiry: no message.
  assert.equal(await page.getByText(SESSION_ENDED).count(), 0);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await onPage(page, 'Two-factor authentication');
  assert.equal(new URL(page.url()).pathname, '/two-factor');
  await page.getByRole('button', { name: 'Log out' }).click();
  await onPage(page, 'Sign in');
  assert.equal(new URL(page.url()).search, '', 'a logout does not come back here');

  for (const next of ['//example.com/x', 'https://example.com/', '/\\example.com', 'javascript:alert(1)']) {
    await page.goto(`/login?next=${encodeURIComponent(next)}`);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await onPage(page, 'Dashboard');
    const url = new URL(page.url());
    assert.equal(url.origin, new URL(baseUrl).origin, `stayed on the site for ${next}`);
    assert.equal(url.pathname, '/', `dashboard for ${next}`);
    await page.getByRole('button', { name: 'Log out' }).click();
    await onPage(page, 'Sign in');
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('what was typed survives a session that ends mid-work', async () => {
  const { page, errors, context } = await device();
  await registerUser('dora');
  await signIn(page, 'dora');
  await navLink(page, 'Two-factor').click();
  await onPage(page, 'Two-factor authentication');
  await page.getByLabel('Passkey name').fill('Work laptop');
  // Every session of dora ends (from another device, over the API).
  await apiAs('dora', 'POST', '/api/me/sessions/revoke-all/');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.getByText(SESSION_ENDED).waitFor();
  assert.equal(new URL(page.url()).search, '?next=%2Ftwo-factor');
  await checkPage(page, 'login-session-ended');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await onPage(page, 'Two-factor authentication');
  assert.equal(await page.getByLabel('Passkey name').inputValue(), 'Work laptop');
  assert.deepEqual(errors.filter((e) => !/401/.test(e)), []);
  await context.close();
});

test('a logout the server could not hear of is said, and settled before the next load signs in', async () => {
  const { page, context } = await device();
  await registerUser('lena');
  await signIn(page, 'lena');
  const cookie = (await context.cookies()).find((c) => c.httpOnly);
  assert.ok(cookie, 'the refresh cookie');

  // The server cannot be reached for the logout.
  await page.route('**/api/session/logout/', (route) => route.abort('connectionrefused'));
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByText(SIGNED_OUT_UNTOLD).waitFor();
  await checkPage(page, 'login-logout-untold');
  assert.deepEqual(await page.evaluate(() => ({ ...localStorage })), { 'authenticon.logout-pending': '1' });

  // A reload while it is still down does not sign back in: no refresh is even tried.
  const sent = [];
  page.on('request', (r) => r.url().includes('/api/') && sent.push(new URL(r.url()).pathname));
  await page.goto('/');
  await onPage(page, 'Sign in');
  await page.getByText(SIGNED_OUT_UNTOLD).waitFor();
  assert.ok(!sent.includes('/api/session/refresh/'), `no refresh while the logout is owed: ${sent}`);

  // Reachable again: the next load tells the server first, and the old cookie is dead.
  await page.unroute('**/api/session/logout/');
  sent.length = 0;
  await page.goto('/');
  await onPage(page, 'Sign in');
  assert.equal(sent[0], '/api/session/logout/', `logout first: ${sent}`);
  assert.ok(!sent.includes('/api/session/refresh/'), `no refresh from the ended cookie: ${sent}`);
  await page.waitForFunction(() => localStorage.length === 0);
  assert.equal(await page.getByText(SIGNED_OUT_UNTOLD).count(), 0);
  const reused = await fetch(`${baseUrl}/api/session/refresh/`, {
    method: 'POST', headers: { Cookie: `${cookie.name}=${cookie.value}`, 'X-Requested-With': 'XMLHttpRequest' },
  });
  assert.equal(reused.status, 401, 'the session ended on the server');
  await context.close();
});

test('too many failed sign-ins say when to try again, in words', async () => {
  const { page, context } = await device();
  await page.goto('/login');
  await page.getByLabel('Username').fill('nobody-at-all');
  // Five failures per username and address in 15 minutes; the next is throttled.
  for (let i = 0, status = 0; status !== 429; i++) {
    assert.ok(i < 10, 'throttled by the tenth attempt');
    await page.getByLabel('Password').fill(`wrong ${i}`);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/session/login/')),
      page.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ]);
    status = res.status();
  }
  await page.getByText('Too many attempts. Try again in 15 minutes.').waitFor();
  assert.equal(await page.getByText(/Expected available/).count(), 0);
  await shot(page, '04b-login-throttled');
  await context.close();
});

test('admin screens are offered to holders of their permission only', async () => {
  const user = await device();
  await signIn(user.page, 'alice');
  const nav = user.page.getByRole('navigation', { name: 'Main' });
  for (const name of ['Users', 'Roles', 'Audit log', 'Overview']) assert.equal(await nav.getByRole('link', { name }).count(), 0);
  // The admin console's own pages are its tests' business (admin.mjs): the role is made over the API.
  await apiAs('root', 'POST', '/api/roles/', { name: 'support', permissions: ['users.view', 'audit.view'] });
  const alice = (await apiAs('root', 'GET', '/api/users/?search=alice')).results.find((u) => u.username === 'alice');
  await apiAs('root', 'PUT', `/api/users/${alice.id}/roles/`, { roles: ['support'] });

  // The user's next page load shows the screens the role opens.
  await user.page.goto('/');
  await nav.getByRole('link', { name: 'Users' }).waitFor();
  assert.equal(await user.page.getByTestId('roles').innerText(), 'support');
  assert.equal(await nav.getByRole('link', { name: 'Roles' }).count(), 0);
  assert.equal(await nav.getByRole('link', { name: 'Audit log' }).count(), 1);
  await shot(user.page, '11-user-with-support-role');
  // A page the role does not open says so, with a title and a way back.
  await user.page.goto('/roles');
  await onPage(user.page, 'Roles');
  await user.page.getByText('You do not have permission to see this page.').waitFor();
  await checkPage(user.page, 'no-access');
  await user.page.goto('/no/such/page');
  await onPage(user.page, 'Page not found');
  await checkPage(user.page, 'not-found');
  assert.deepEqual(user.errors, []);
  await user.context.close();
});

test('forgot password: the link is checked before its form, sets a password once; the email is verified by its link', async () => {
  const { page, errors, context } = await device();
  const mailsBefore = mailCount();
  await registerUser('rita', 'rita@example.com');
  const verification = await mail(mailsBefore + 1);
  assert.deepEqual(verification.to, ['rita@example.com']);
  // Reset links go only to a verified address.
  await page.goto(linkIn(verification, 'verify-email'));
  await page.getByText('Email address verified.').waitFor();
  await onPage(page, 'Email verification');
  await checkPage(page, 'verify-email');

  await page.goto('/login');
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await onPage(page, 'Forgot your password?');
  await page.getByLabel('Email').fill('rita@example.com');
  await page.getByRole('button', { name: 'Send the link' }).click();
  await page.getByText('If an account with this email address exists').waitFor();
  await checkPage(page, '12-forgot-password');

  const reset = await mail(mailsBefore + 2);
  assert.equal(reset.subject, 'Reset your password');
  const link = linkIn(reset, 'reset-password');
  const checks = [];
  page.on('request', (r) => r.url().endsWith('/api/password-reset/check/') && checks.push(r.postDataJSON()));
  await page.goto(link);
  await onPage(page, 'Choose a password');
  await page.getByLabel('Password', { exact: true }).waitFor();
  assert.equal(checks.length, 1, 'the link was checked before the form showed');
  await page.getByLabel('Password', { exact: true }).fill('rita');
  await page.getByLabel('Password again').fill('rita');
  await page.getByRole('button', { name: 'Save password' }).click();
  await page.getByText('This password is too short. It must contain at least 8 characters.').waitFor();
  await checkPage(page, '13-reset-password-rules');
  const fresh = 'a brand new passphrase';
  await page.getByLabel('Password', { exact: true }).fill(fresh);
  await page.getByLabel('Password again').fill(fresh);
  await page.getByRole('button', { name: 'Save password' }).click();
  await page.getByText('Your password is saved.').waitFor();
  await onPage(page, 'Password saved');
  await shot(page, '14-reset-password-done');

  // The link is spent: the page says so at once, with no form, and offers a new one.
  await page.goto(link);
  await page.getByTestId('dead-link').waitFor();
  await onPage(page, 'This link no longer works', 'Link no longer works');
  assert.equal(await page.getByLabel('Password', { exact: true }).count(), 0);
  await checkPage(page, '14b-reset-link-dead');
  await page.getByRole('link', { name: 'Ask for a new link' }).click();
  await onPage(page, 'Forgot your password?');
  // A made-up link is refused the same way.
  await page.goto('/reset-password?token=not.a-real-token');
  await page.getByTestId('dead-link').waitFor();

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
  const mailsNow = mailCount();
  await registerUser('sam', 'sam@example.com');
  const samMail = await mail(mailsNow + 1);
  await signIn(second.page, 'sam');
  await second.page.getByText('is not verified yet').waitFor();
  await shot(second.page, '15-unverified-banner-phone');
  await axeCheck(second.page, 'unverified banner');
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

test('change password follows the rules live, in the server\'s words', async () => {
  const { page, errors, context } = await device();
  await registerUser('carl', 'carljones@example.com');
  await signIn(page, 'carl');
  await navLink(page, 'Password').click();
  await onPage(page, 'Change password');
  const rules = page.getByTestId('password-rules');
  await page.getByLabel('New password').fill('carljones1');
  await rules.locator('[data-rule="similar"][data-state="failed"]').waitFor();
  await rules.locator('[data-rule="length"][data-state="met"]').waitFor();
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('The password is too similar to the email address.').waitFor();
  await checkPage(page, 'password-rules');
  await page.getByLabel('New password').fill('another long passphrase');
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('Password changed.').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('turn on an authenticator app, save the recovery codes, then signing in asks for its code', async () => {
  const { page, errors, context } = await device();
  await registerUser('tina');
  await signIn(page, 'tina');
  await checkPage(page, 'dashboard');
  await navLink(page, 'My sessions').click();
  await page.getByText('This session').waitFor();
  await checkPage(page, 'sessions');
  await navLink(page, 'Two-factor').click();
  await onPage(page, 'Two-factor authentication');
  await checkPage(page, 'two-factor');
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  // A factor is added only with a fresh proof: the app asks for the password first.
  const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
  await dialog.getByLabel('Your current password').fill('not my password');
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await dialog.getByText('Your password was entered incorrectly. Please enter it again.').waitFor();
  await shot(page, '17a-reauth-dialog');
  await axeCheck(page, 'reauth dialog');
  await dialog.getByLabel('Your current password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await page.getByAltText('QR code for your authenticator app').waitFor();
  assert.equal(await dialog.isVisible(), false);
  const secret = await page.getByTestId('totp-secret').innerText();
  await checkPage(page, '17-totp-enrol');
  await page.getByLabel('Code', { exact: true }).fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.getByText('Two-factor authentication is on.').waitFor();
  assert.match(await page.getByTestId('mfa-state').innerText(), /^On/);
  // The codes come first: the rest of the page waits until they are saved.
  assert.equal(await page.getByRole('button', { name: 'New recovery codes' }).count(), 0);
  const codes = await saveRecoveryCodes(page, '18-totp-on-recovery-codes');
  assert.equal(codes.length, 10);
  await page.getByRole('button', { name: 'New recovery codes' }).waitFor();
  await page.getByRole('button', { name: 'Log out' }).click();

  await page.goto('/login');
  await page.getByLabel('Username').fill('tina');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByLabel('Code').waitFor();
  await page.getByLabel('Code').fill('000000' === totp(secret, 1) ? '111111' : '000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByText('Invalid code.').waitFor();
  await checkPage(page, '19-login-second-step');
  // A saved recovery code works in place of the app.
  await page.getByLabel('Code').fill(codes[0]);
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
  await registerUser('pat');
  await signIn(page, 'pat');
  await navLink(page, 'Two-factor').click();
  await page.getByLabel('Passkey name').fill('Laptop');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
  await dialog.getByLabel('Your current password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await page.getByText('Passkey added.').waitFor();
  assert.equal((await saveRecoveryCodes(page)).length, 10);
  assert.match(await page.getByTestId('passkeys').innerText(), /Laptop/);
  assert.match(await page.getByTestId('mfa-state').innerText(), /^On: signing in asks for a passkey/);
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true, 'a discoverable credential');
  await checkPage(page, '20-passkey-added');
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

  // Removing it is confirmed first, then takes a fresh proof (this session began with the
  // passkey alone): a wrong password is refused, the passkey itself proves it; then the
  // password alone signs in.
  await navLink(page, 'Two-factor').click();
  await page.getByRole('button', { name: 'Remove passkey Laptop' }).click();
  await page.getByRole('alertdialog', { name: 'Remove the passkey “Laptop”?' })
    .getByRole('button', { name: 'Remove passkey', exact: true }).click();
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

test('a personal access token is made after confirming it is you, shown once, used, and revoked', async () => {
  await registerUser('scripter');
  const { page, errors, context } = await device();
  await signIn(page, 'scripter');
  await navLink(page, 'Tokens').click();
  await onPage(page, 'Personal access tokens');
  await page.getByLabel('Name').fill('nightly export');
  await page.getByLabel('Expires after').selectOption('7');
  await page.getByRole('button', { name: 'Create token' }).click();
  // Making a token is a sensitive change: the password first.
  const confirm = page.getByRole('dialog', { name: 'Confirm it is you' });
  await confirm.getByLabel('Your current password').fill(PASSWORD);
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  const shown = page.getByTestId('token-shown');
  await shown.waitFor();
  const token = await page.getByTestId('new-token').innerText();
  assert.match(token, /^atn_[0-9A-Za-z]{38}$/);
  await shown.getByRole('button', { name: 'Copy token' }).click();
  await shown.getByText('The token is on the clipboard.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
  await checkPage(page, 'tokens-shown-once');
  // A script uses it as its user.
  const me = await fetch(`${baseUrl}/api/me/`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(me.status, 200);
  assert.equal((await me.json()).username, 'scripter');
  await shown.getByLabel('I have saved this token somewhere safe').check();
  await shown.getByRole('button', { name: 'Done' }).click();
  await shown.waitFor({ state: 'detached' });
  const list = await page.getByTestId('tokens').innerText();
  assert.match(list, /nightly export/);
  assert.ok(!list.includes(token.slice(8)), 'the secret is not shown again');
  await checkPage(page, 'tokens');
  await page.getByRole('button', { name: 'Revoke nightly export' }).click();
  await page.getByRole('alertdialog', { name: 'Revoke “nightly export”?' })
    .getByRole('button', { name: 'Revoke', exact: true }).click();
  await page.getByText('“nightly export” is revoked: it stops working at once.').waitFor();
  const after = await fetch(`${baseUrl}/api/me/`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(after.status, 401);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the public pages pass the checks at every width', async () => {
  const { page, errors, context } = await device();
  for (const [path, heading, name] of [
    ['/login', 'Sign in', 'login'],
    ['/signup', 'Create an account', 'signup'],
    ['/forgot-password', 'Forgot your password?', 'forgot-password'],
  ]) {
    await page.goto(path);
    await onPage(page, heading);
    await checkPage(page, name);
  }
  await page.goto('/signup');
  await page.getByLabel('Password', { exact: true }).fill('1234');
  await checkPage(page, 'signup-rules');
  assert.deepEqual(errors, []);
  await context.close();
});
