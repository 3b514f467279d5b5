// End-to-end tests of the administrators' console (users, a user's page, new user,
// roles, audit log, overview, webhooks): Debian's Chromium (through playwright-core)
// against the real `authenticon serve` on a throwaway SQLite database. Each console page
// is photographed at 1280 and 390 px into test-artifacts/e2e/ (as admin-*.png and
// webhooks-*.png), must not scroll sideways at 390 or 320 px, and must have no serious or
// critical axe-core violation.
//
//   cd web && AUTHENTICON_BIN=... PYTHON=... node --test --test-reporter=spec e2e/admin.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import {
  PASSWORD, SHOTS, apiClient, axeCheck, checkPage, mails, onPage, shot, sleep, startStack, watchErrors,
} from './support.mjs';

const CSV_HEADER = 'id,time,event,user_id,username,actor_id,actor_username,ip,user_agent,detail';

let stack;
let baseUrl;
let browser;
let tokenFor;
let call;
let apiAs;
let registerUser;

before(async () => {
  // The webhook journey's receiver listens on this machine: deliveries may reach it.
  stack = await startStack('admin-e2e', { AUTHENTICON_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1' });
  ({ baseUrl, browser } = stack);
  ({ tokenFor, call, apiAs, registerUser } = apiClient(baseUrl));
  // Only this file's pictures are replaced; the account pages' stay.
  for (const f of readdirSync(SHOTS)) if (f.startsWith('admin-') || f.startsWith('webhooks-')) rmSync(join(SHOTS, f));

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
  await stack?.stop();
});

async function device() {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  return { context, page, errors: watchErrors(page) };
}

async function signIn(page, username) {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
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

async function mailTo(address) {
  for (let i = 0; i < 200; i++) {
    const found = mails(stack.mailDir).find((m) => JSON.stringify(m.to).includes(address));
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

/**
 * A webhook receiver on 127.0.0.1: keeps each request it gets and answers `status`
 * (400 at first, so deliveries die; `answer(204)` to take them).
 */
async function startReceiver() {
  const got = [];
  let status = 400;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(status).end();
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks/authenticon`,
    got,
    answer: (next) => { status = next; },
    close: () => new Promise((ok) => {
      // The service keeps its connections alive: close them, or the server never closes.
      server.closeAllConnections();
      server.close(ok);
    }),
  };
}

/** Whether `secret` signed the request, as Standard Webhooks says. */
function signedWith(secret, { headers, body }) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`).digest('base64');
  return headers['webhook-signature'].split(' ').includes(`v1,${mac}`);
}

async function until(what, check) {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('webhooks: add an endpoint, see its secret once, a dead delivery in its log, replay it delivered', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const { page, errors, context } = await device();
  await signIn(page, 'root');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
  await onPage(page, 'Webhooks');
  await page.getByText(/No endpoints yet/).waitFor();
  await checkPage(page, 'webhooks-01-none');

  await page.getByRole('link', { name: 'Add endpoint' }).click();
  await onPage(page, 'New endpoint');
  // An internal address the server will not deliver to: refused under the URL.
  await page.getByLabel('URL').fill('http://10.1.2.3/hooks');
  await tick(page.getByRole('checkbox', { name: /^user\.created/ }));
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  await page.getByText(/Deliveries to 10\.1\.2\.3 are refused/).waitFor();
  assert.equal(await page.getByLabel('URL').getAttribute('aria-invalid'), 'true');
  await checkPage(page, 'webhooks-02-new-refused');

  await page.getByLabel('URL').fill(receiver.url);
  await page.getByLabel('Description').fill('Test receiver');
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const shown = page.getByTestId('webhook-secret');
  await shown.waitFor();
  const secret = (await shown.textContent()).trim();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  await page.getByTestId('secret-step').getByText('webhook-signature').waitFor();
  await checkPage(page, 'webhooks-03-secret');
  await tick(page.getByRole('checkbox', { name: 'I have stored the secret' }));
  await page.getByRole('button', { name: 'Done' }).click();
  await onPage(page, 'Test receiver', 'Test receiver · Webhooks');
  await page.getByText(/No deliveries yet/).waitFor();
  // Shown once: neither the page nor the API has it any more.
  assert.equal(await page.getByText(secret).count(), 0);
  const [endpoint] = await apiAs('root', 'GET', '/api/webhooks/');
  assert.equal(endpoint.url, receiver.url);
  assert.equal('secret' in endpoint, false);

  // Something happens: the worker (every second) sends it, the receiver refuses it.
  await registerUser('hooked');
  await until('the delivery', () => receiver.got.length === 1);
  assert.equal(receiver.got[0].headers['content-type'], 'application/json');
  assert.ok(signedWith(secret, receiver.got[0]), 'signed with the secret shown');
  assert.equal(JSON.parse(receiver.got[0].body).data.username, 'hooked');
  const log = page.getByTestId('deliveries');
  await until('the dead delivery in the log', async () => {
    await page.getByRole('button', { name: 'Refresh' }).click();
    return (await log.locator('li[data-status="dead"]').count()) === 1;
  });
  const dead = log.locator('li[data-status="dead"]');
  await dead.getByText('HTTP 400').waitFor();
  await dead.getByText('Payload').click();
  await dead.getByRole('region', { name: /^Payload of user\.created/ }).getByText('"username": "hooked"').waitFor();
  await page.getByRole('button', { name: 'Replay all dead (1)' }).waitFor();
  await checkPage(page, 'webhooks-04-dead');

  // The receiver is fixed: the dead delivery goes again, the same message, and is taken.
  receiver.answer(204);
  await dead.getByRole('button', { name: /^Replay user\.created/ }).click();
  await page.getByText('The delivery is sent again, in its turn.').waitFor();
  const delivered = log.locator('li[data-status="delivered"]');
  await delivered.waitFor();
  await delivered.getByText('HTTP 204').waitFor();
  assert.equal(receiver.got.length, 2);
  assert.equal(receiver.got[1].headers['webhook-id'], receiver.got[0].headers['webhook-id']);
  assert.equal(await page.getByRole('button', { name: /^Replay all dead/ }).count(), 0);
  await checkPage(page, 'webhooks-05-delivered');

  await page.getByRole('radio', { name: 'Dead' }).click();
  await page.waitForURL('**/webhooks/*?status=dead');
  await page.getByText('No dead deliveries.').waitFor();

  await page.getByRole('tab', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Rotate secret…' }).waitFor();
  await checkPage(page, 'webhooks-06-settings');

  await page.getByRole('link', { name: '← Webhooks' }).click();
  await onPage(page, 'Webhooks');
  await page.getByRole('link', { name: receiver.url }).waitFor();
  await checkPage(page, 'webhooks-07-list');
  assert.deepEqual(errors, []);
  await context.close();
});
