// End-to-end tests of the administrators' console (users, a user's page, new user,
// roles, audit log, overview): Debian's Chromium (through playwright-core) against the
// real `authenticon serve` on a throwaway SQLite database. Each console page is
// photographed at 1280 and 390 px into test-artifacts/e2e/ (as admin-*.png), must not
// scroll sideways at 390 or 320 px, and must have no serious or critical axe-core
// violation.
//
//   cd web && AUTHENTICON_BIN=... PYTHON=... node --test --test-reporter=spec e2e/admin.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const BIN = resolve(process.env.AUTHENTICON_BIN ?? '../target/debug/authenticon');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = resolve('../test-artifacts/e2e');
const PASSWORD = 'a long passphrase';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const CSV_HEADER = 'id,time,event,user_id,username,actor_id,actor_username,ip,user_agent,detail';

let server;
let smtp;
let baseUrl;
let browser;
let dir;

function env() {
  return {
    PATH: process.env.PATH,
    AUTHENTICON_DATABASE_URL: `sqlite://${join(dir, 'admin-e2e.db')}`,
    AUTHENTICON_SECRET_KEY: 'e2e-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
    AUTHENTICON_BIND: '127.0.0.1:0',
    AUTHENTICON_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
  };
}

/** A real SMTP server (aiosmtpd) for the invitation and reset mails. */
async function startSmtp() {
  const python = resolve(process.env.PYTHON ?? '../.venv/bin/python');
  const proc = spawn(python, [resolve('../tests/support/smtp_sink.py'), join(dir, 'mail')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((ok, fail) => {
    proc.stdout.once('data', (chunk) => ok(Number(String(chunk).trim())));
    proc.on('exit', (code) => fail(new Error(`SMTP sink exited ${code}`)));
  });
  return { proc, port };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'authenticon-admin-e2e-'));
  smtp = await startSmtp();
  // Only this file's pictures are replaced; the account pages' stay.
  mkdirSync(SHOTS, { recursive: true });
  for (const f of readdirSync(SHOTS)) if (f.startsWith('admin-')) rmSync(join(SHOTS, f));
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

  // What the journeys start from: roles, a help-desk administrator who may manage users
  // but holds neither reports.view nor audit.view, a user each journey changes, three
  // users to deactivate, and a role given by an administrator (for the log).
  await apiAs('root', 'POST', '/api/roles/', { name: 'editor', description: 'Writes reports', permissions: ['reports.view'] });
  await apiAs('root', 'POST', '/api/roles/', { name: 'helpdesk', description: 'Looks after accounts', permissions: ['users.view', 'users.manage', 'roles.view'] });
  await apiAs('root', 'POST', '/api/users/', { username: 'helen', password: PASSWORD, roles: ['helpdesk'] });
  await apiAs('root', 'POST', '/api/users/', { username: 'ivy', password: PASSWORD });
  await apiAs('root', 'POST', '/api/roles/', { name: 'reviewer', description: 'Reads reports', permissions: ['reports.view'] });
  await apiAs('root', 'POST', '/api/users/', { username: 'rita', password: PASSWORD, roles: ['reviewer'] });
  for (const n of [1, 2, 3]) await registerUser(`bulk${n}`);
  const erin = await apiAs('root', 'POST', '/api/users/', { username: 'erin', password: PASSWORD });
  await apiAs('root', 'PUT', `/api/users/${erin.id}/roles/`, { roles: ['editor'] });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  smtp?.proc.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** axe-core on the page as it is: fails on any serious or critical violation. */
async function axeCheck(page, name) {
  page.axeRunning = true;
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => (await globalThis.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
  })).violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) })));
  await sleep(100);
  page.axeRunning = false;
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${name}: axe found ${JSON.stringify(bad, null, 2)}`);
}

/** Nothing wider than the window: the page never scrolls sideways. */
async function noOverflow(page, name) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `${name}: ${scroll} px wide in a ${width} px window`);
}

/**
 * A page as it stands at 1280, 390 and 320 px: pictures of the first two, no sideways
 * scroll on phones, no serious axe violation at any width.
 */
async function checkPage(page, name) {
  const before = page.viewportSize();
  for (const width of [1280, 390, 320]) {
    await page.setViewportSize({ width, height: width === 1280 ? 800 : 844 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    if (width !== 1280) await noOverflow(page, `${name} at ${width}`);
    if (width !== 320) await shot(page, `${name}-${width}`);
    await axeCheck(page, `${name} at ${width}`);
  }
  await page.setViewportSize(before);
}

/** Waits until the page's <h1> reads `heading` and the document is named `title`. */
async function onPage(page, heading, title = heading) {
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  await page.waitForFunction((t) => document.title === `${t} · Authenticon`, title);
}

async function device() {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && !/status of 40[0-9]/.test(m.text())
    && !(page.axeRunning && /Applying inline style violates/.test(m.text())) && errors.push(m.text()));
  return { context, page, errors };
}

async function signIn(page, username) {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** A session of `username` made over the API (as another device would); its access token. */
async function tokenFor(username) {
  const res = await fetch(`${baseUrl}/api/token/`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'User-Agent': `Device of ${username}` },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  assert.equal(res.status, 200, `token for ${username}`);
  return (await res.json()).access;
}

/** Calls the API as `username`: the status and the JSON answer. */
async function call(username, method, path, body) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${await tokenFor(username)}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function apiAs(username, method, path, body) {
  const { status, body: answer } = await call(username, method, path, body);
  assert.ok(status < 300, `${method} ${path}: ${status} ${JSON.stringify(answer)}`);
  return answer;
}

async function registerUser(username) {
  const res = await fetch(`${baseUrl}/register/`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }),
  });
  assert.equal(res.status, 201, `register ${username}`);
}

/** Ticks a React Aria checkbox by its label, the target a person clicks (the input is hidden). */
const tick = (checkbox) => checkbox.locator('xpath=ancestor::label[1]').click();

const userNamed = async (username) =>
  (await apiAs('root', 'GET', `/api/users/?search=${username}`)).results.find((u) => u.username === username);

test('create a user, give a role, end their sessions, read their history', async () => {
  const { page, errors, context } = await device();
  await signIn(page, 'root');
  await page.goto('/users');
  await onPage(page, 'Users');
  await page.getByRole('link', { name: 'helen' }).waitFor();
  await checkPage(page, 'admin-01-users');

  await page.getByRole('link', { name: 'New user' }).click();
  await onPage(page, 'New user');
  await page.getByLabel('Username').fill('bob');
  await page.getByLabel('Email', { exact: true }).fill('bob@example.com');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create user' }).click();
  // The server's verdict, under its field.
  await page.getByText('This password is too short. It must contain at least 8 characters.').waitFor();
  await checkPage(page, 'admin-02-new-user');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.waitForURL(/\/users\/[^/]+$/);
  await onPage(page, 'bob', 'bob · Users');
  const bob = await userNamed('bob');
  assert.equal(new URL(page.url()).pathname, `/users/${bob.id}`);

  // Bob signs in on two devices.
  await tokenFor('bob');
  await tokenFor('bob');

  await page.getByRole('tab', { name: 'Roles' }).click();
  assert.match(page.url(), /\?tab=roles$/);
  await tick(page.getByRole('checkbox', { name: /^editor/ }));
  await page.getByRole('button', { name: 'Save roles…' }).click();
  const confirmRoles = page.getByRole('alertdialog');
  await confirmRoles.getByText('Gives: editor').waitFor();
  await confirmRoles.getByText('New permissions: reports.view').waitFor();
  await shot(page, 'admin-03-confirm-roles-1280');
  await axeCheck(page, 'roles confirmation');
  await confirmRoles.getByRole('button', { name: 'Save roles' }).click();
  await page.getByText('Roles saved.').waitFor();
  assert.deepEqual((await apiAs('root', 'GET', `/api/users/${bob.id}/`)).roles, ['editor']);
  await checkPage(page, 'admin-04-user-roles');

  await page.getByRole('tab', { name: 'Sessions' }).click();
  const sessions = page.getByTestId('user-sessions');
  await sessions.waitFor();
  assert.equal(await sessions.locator('li').count(), 2);
  await checkPage(page, 'admin-05-user-sessions');
  await page.getByRole('button', { name: 'End all sessions…' }).click();
  const confirmEnd = page.getByRole('alertdialog');
  await confirmEnd.getByRole('heading', { name: 'End 2 sessions of bob?' }).waitFor();
  await confirmEnd.getByRole('button', { name: 'End all sessions' }).click();
  await page.getByTestId('no-sessions').waitFor();
  assert.deepEqual(await apiAs('root', 'GET', `/api/users/${bob.id}/sessions/`), []);

  await page.getByRole('tab', { name: 'History' }).click();
  const history = page.getByTestId('user-history');
  await history.getByText('roles_assigned').waitFor();
  await history.getByText('session_revoked').first().waitFor();
  assert.ok(await history.getByRole('link', { name: 'root' }).count() >= 2, 'the actor links to their page');
  await checkPage(page, 'admin-06-user-history');

  await page.getByRole('tab', { name: 'Details' }).click();
  await page.getByText(bob.id).waitFor();
  await checkPage(page, 'admin-07-user-details');
  await page.getByRole('tab', { name: 'Security' }).click();
  await page.getByRole('heading', { name: 'Sign-in lockout' }).waitFor();
  await checkPage(page, 'admin-08-user-security');

  assert.deepEqual(errors, []);
  await context.close();
});

/** The mails the SMTP sink received, oldest first. */
function mails() {
  const folder = join(dir, 'mail');
  return readdirSync(folder).filter((f) => f.endsWith('.json')).sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
    .map((f) => JSON.parse(readFileSync(join(folder, f), 'utf8')));
}

async function mailTo(address) {
  for (let i = 0; i < 200; i++) {
    const found = mails().find((m) => JSON.stringify(m.to).includes(address));
    if (found) return found;
    await sleep(50);
  }
  throw new Error(`no mail to ${address}`);
}

test('invite a user instead of setting a password; a reset link needs a verified address', async () => {
  const { page, errors, context } = await device();
  await signIn(page, 'root');
  await page.goto('/users/new');
  await onPage(page, 'New user');
  await page.getByLabel('Username').fill('greta');
  await tick(page.getByRole('radio', { name: 'Email them an invitation to choose one' }));
  assert.equal(await page.getByLabel('Password', { exact: true }).count(), 0, 'no password with an invitation');
  // The server wants an address to invite: said under the field.
  await page.getByRole('button', { name: 'Create and invite' }).click();
  await page.getByLabel('Email', { exact: true }).and(page.locator('[aria-invalid="true"]')).waitFor();
  await page.getByLabel('Email', { exact: true }).fill('greta@example.com');
  await page.getByRole('button', { name: 'Create and invite' }).click();
  await onPage(page, 'greta', 'greta · Users');
  await page.getByText('Invitation sent to greta@example.com.').waitFor();
  const invitation = await mailTo('greta@example.com');
  assert.match(invitation.body, /https?:\/\/\S+/, 'the invitation holds a link');

  await page.getByRole('tab', { name: 'Security' }).click();
  await page.getByRole('button', { name: 'Send password reset link' }).click();
  const greta = await userNamed('greta');
  const { body } = await call('root', 'POST', `/api/users/${greta.id}/password-reset/`);
  await page.getByText(body.detail).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('a role beyond the administrator’s own permissions is refused in the server’s words', async () => {
  const { page, errors, context } = await device();
  const ivy = await userNamed('ivy');
  const refused = await call('helen', 'PUT', `/api/users/${ivy.id}/roles/`, { roles: ['editor'] });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.code, 'permission_denied');

  await signIn(page, 'helen');
  await page.goto(`/users/${ivy.id}?tab=roles`);
  await onPage(page, 'ivy', 'ivy · Users');
  await tick(page.getByRole('checkbox', { name: /^editor/ }));
  await page.getByRole('button', { name: 'Save roles…' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Save roles' }).click();
  await page.getByRole('alert').getByText(refused.body.detail).waitFor();
  await shot(page, 'admin-09-roles-refused-1280');
  assert.deepEqual((await apiAs('root', 'GET', `/api/users/${ivy.id}/`)).roles, []);
  // Without audit.view there is no History tab.
  assert.equal(await page.getByRole('tab', { name: 'History' }).count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('search and filters live in the URL; a bulk deactivation asks first, naming the count', async () => {
  const { page, errors, context } = await device();
  await signIn(page, 'root');
  await page.goto('/users');
  await onPage(page, 'Users');
  await page.getByLabel('Search').fill('bulk');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL('**/users?search=bulk');
  await page.getByText('3 users match').waitFor();
  await page.getByLabel('Status').selectOption('true');
  await page.waitForURL('**/users?search=bulk&is_active=true');
  await page.getByRole('link', { name: 'bulk3' }).waitFor();
  // Back undoes the filter; forward brings it back.
  await page.goBack();
  await page.waitForURL('**/users?search=bulk');
  assert.equal(await page.getByLabel('Status').inputValue(), '');
  await page.goForward();
  await page.waitForURL('**/users?search=bulk&is_active=true');
  assert.equal(await page.getByLabel('Status').inputValue(), 'true');
  assert.equal(await page.getByLabel('Search').inputValue(), 'bulk');

  await tick(page.getByRole('checkbox', { name: 'Select All' }));
  await page.getByText('3 users selected').waitFor();
  await checkPage(page, 'admin-10-users-selected');
  await page.getByRole('button', { name: 'Deactivate…' }).click();
  const dialog = page.getByRole('alertdialog');
  await dialog.getByRole('heading', { name: 'Deactivate 3 users?' }).waitFor();
  await shot(page, 'admin-11-confirm-bulk-1280');
  await dialog.getByRole('button', { name: 'Deactivate 3 users' }).click();
  await page.getByText('Deactivated 3 users.').waitFor();
  for (const n of [1, 2, 3]) assert.equal((await userNamed(`bulk${n}`)).is_active, false, `bulk${n} inactive`);
  // The active-only list no longer holds them.
  await page.getByText('No users match.').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('the audit log filters by URL, reads details as text, and exports the same filters as CSV', async () => {
  const { page, errors, context } = await device();
  await signIn(page, 'root');
  await page.goto('/audit?event=register');
  await onPage(page, 'Audit log');
  const rows = page.getByTestId('audit-rows');
  await rows.getByRole('link', { name: 'bulk1' }).waitFor();
  assert.equal(await page.getByLabel('Event').inputValue(), 'register');
  // Every event the log knows is offered.
  const events = await apiAs('root', 'GET', '/api/audit/events/');
  assert.equal(await page.getByLabel('Event').locator('option').count(), events.length + 1);
  await checkPage(page, 'admin-12-audit');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^audit-log-register-\d{4}-\d{2}-\d{2}\.csv$/);
  const lines = readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
  assert.equal(lines[0], CSV_HEADER);
  assert.ok(lines.slice(1).every((l) => l.split(',')[2] === 'register'), 'only the filtered event');
  assert.ok(lines.some((l) => l.includes(',bulk1,')), 'a row for bulk1');

  // The actor filter: what root did to erin, with readable details.
  await page.getByLabel('Event').selectOption('roles_assigned');
  await page.getByLabel('Done by').fill('root');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL('**/audit?actor=root&event=roles_assigned');
  await rows.getByRole('link', { name: 'erin' }).waitFor();
  await rows.getByText('editor').first().waitFor();
  assert.equal(await rows.getByText('{').count(), 0, 'no raw JSON');
  await checkPage(page, 'admin-13-audit-filtered');
  assert.deepEqual(errors, []);
  await context.close();
});

test('roles: holders, a live-checked permission picker, confirmations that name who is affected', async () => {
  const { page, errors, context } = await device();
  await signIn(page, 'root');
  await page.goto('/roles');
  await onPage(page, 'Roles');
  const reviewer = page.locator('li[data-role="reviewer"]');
  await reviewer.getByRole('link', { name: '1 user' }).waitFor();
  await checkPage(page, 'admin-14-roles');

  await reviewer.getByRole('button', { name: 'Edit permissions of reviewer' }).click();
  const input = reviewer.getByRole('combobox', { name: 'Add a permission to reviewer' });
  await input.fill('Reports');
  await reviewer.getByText(/A permission is lower-case letters/).waitFor();
  await input.fill('audit.veiw');
  await reviewer.getByText('is new: nothing checks it yet.').waitFor();
  await reviewer.getByRole('button', { name: 'audit.view' }).click();
  await reviewer.getByRole('row', { name: /audit\.view/ }).waitFor();
  await checkPage(page, 'admin-15-roles-picker');
  await reviewer.getByRole('button', { name: 'Save permissions' }).click();
  const dialog = page.getByRole('alertdialog');
  await dialog.getByRole('heading', { name: 'Change what 1 user holding reviewer may do?' }).waitFor();
  await dialog.getByText('They gain: audit.view').waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await reviewer.getByRole('button', { name: 'Cancel' }).click();

  await reviewer.getByRole('button', { name: 'Delete the role reviewer' }).click();
  await page.getByRole('alertdialog').getByText('1 user loses it, and with it: reports.view.').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('alertdialog').waitFor({ state: 'detached' });
  assert.deepEqual((await apiAs('root', 'GET', '/api/roles/')).find((r) => r.name === 'reviewer').permissions, ['reports.view']);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the overview charts the last day and month, each series linking into the log', async () => {
  const { page, errors, context } = await device();
  await signIn(page, 'root');
  await page.goto('/overview');
  await onPage(page, 'Overview');
  await page.getByRole('img', { name: /^Sign-ins: \d+ in the last 24 hours/ }).waitFor();
  await page.getByRole('img', { name: /^New users: [1-9]\d* in the last 24 hours/ }).waitFor();
  await checkPage(page, 'admin-16-overview-24h');
  await page.getByRole('radio', { name: 'Last 30 days' }).click();
  await page.waitForURL('**/overview?period=30d');
  await page.getByRole('img', { name: /^Sign-ins: \d+ in the last 30 days/ }).waitFor();
  await checkPage(page, 'admin-17-overview-30d');
  await page.getByRole('link', { name: 'See new users in the audit log' }).click();
  await page.waitForURL(/\/audit\?event=register&since=\d{4}-\d{2}-\d{2}$/);
  await onPage(page, 'Audit log');
  await page.getByTestId('audit-rows').getByRole('link', { name: 'bulk2' }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});
