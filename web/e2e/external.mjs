// Sign-in with an external OpenID provider, in Chromium, against a real provider run here
// on loopback: `oidc-provider` (the OpenID-certified Node implementation), with its
// development login and consent pages. The real `authenticon serve` names it in its
// settings file. Covered: an account made just in time with a role from the `groups`
// claim (and the MFA-required role that then asks for a second factor), an unverified
// address, linking an existing account only after its own password, and a provider whose
// discovery names another issuer. Spent and foreign callbacks, a swapped nonce or `iss`
// and a provider that is down are covered on both stores by tests/api/external.rs and
// tests/api/upstream.rs.
// Pictures go to test-artifacts/e2e/ as external-*.png.
//
//   cd web && npm run build && AUTHENTICON_BIN=... node --test --test-concurrency=1 e2e/external.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Provider from 'oidc-provider';
import {
  PASSWORD, apiClient, checkPage, mails, onPage, shot, sleep, startStack, watchErrors, writeAxeFindings,
} from './support.mjs';

const SECRET = 'upstream-client-secret-0123456789';
/** The people the provider knows: its `sub` is the login typed on its page. */
const ACCOUNTS = {
  ann: { email: 'ann@corp.example', email_verified: true, preferred_username: 'ann', groups: ['admins'] },
  eve: { email: 'eve@corp.example', email_verified: false, preferred_username: 'eve', groups: [] },
  bob: { email: 'bob@corp.example', email_verified: true, preferred_username: 'bobby', groups: [] },
};

let stack;
let baseUrl;
let issuer;
let upstream;
let api;

function freePort() {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

before(async () => {
  const [upstreamPort, appPort] = [await freePort(), await freePort()];
  issuer = `http://127.0.0.1:${upstreamPort}`;
  baseUrl = `http://127.0.0.1:${appPort}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'authenticon', client_secret: SECRET, grant_types: ['authorization_code'], response_types: ['code'],
      redirect_uris: [`${baseUrl}/oauth/external/corp/callback`, `${baseUrl}/oauth/external/mixup/callback`],
    }],
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username'], groups: ['groups'] },
    findAccount: (_, id) => ACCOUNTS[id] && { accountId: id, claims: () => ({ sub: id, ...ACCOUNTS[id] }) },
    cookies: { keys: ['e2e-upstream-cookie-key'] },
    features: { devInteractions: { enabled: true } },
  });
  upstream = provider.listen(upstreamPort);

  const dir = mkdtempSync(join(tmpdir(), 'authenticon-external-'));
  const config = join(dir, 'authenticon.toml');
  writeFileSync(config, `
[external_providers.corp]
issuer = "${issuer}"
display_name = "Corp SSO"
client_id = "authenticon"
client_secret = "${SECRET}"
scopes = ["openid", "email", "profile", "groups"]
allow_signup = true
allowed_domains = ["corp.example"]
roles_claim = "groups"

[external_providers.corp.roles]
admins = "support"

# The same provider under an address its discovery does not name (mix-up).
[external_providers.mixup]
issuer = "http://localhost:${upstreamPort}"
display_name = "Mixed-up SSO"
client_id = "authenticon"
client_secret = "${SECRET}"
`);
  stack = await startStack('external', {
    AUTHENTICON_BIND: `127.0.0.1:${appPort}`,
    AUTHENTICON_PUBLIC_URL: baseUrl,
    AUTHENTICON_CONFIG: config,
    AUTHENTICON_MFA_REQUIRED_ROLES: 'support',
  });
  api = apiClient(baseUrl);
  await api.apiAs('root', 'POST', '/api/roles/', { name: 'support', permissions: ['users.view'] });
});

after(async () => {
  writeAxeFindings('external-axe.json');
  upstream?.close();
  await stack?.stop();
});

/** The provider's development pages: sign in as `login`, then consent. */
async function atProvider(page, login) {
  await page.waitForURL((u) => u.origin === issuer);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('anything');
  await page.locator('button[type="submit"]').click();
  await page.locator('button[type="submit"]', { hasText: /continue/i }).click();
}

async function fresh() {
  const context = await stack.browser.newContext({ baseURL: baseUrl });
  const page = await context.newPage();
  // The provider's development pages ask for web fonts this machine cannot reach.
  const errors = watchErrors(page);
  return { context, page, errors: { list: () => errors.filter((e) => !/ERR_NAME_NOT_RESOLVED/.test(e)) } };
}

/** The signed-in page's session, as the server sees it. */
async function sessionOf(page) {
  return page.evaluate(async () => {
    const res = await fetch('/api/session/refresh/', { method: 'POST', headers: { 'X-Requested-With': 'XMLHttpRequest' } });
    return res.json();
  });
}

test('a first sign-in makes the account, with the role its group maps to', async () => {
  const { context, page, errors } = await fresh();
  await page.goto('/login?next=%2Fsessions');
  await onPage(page, 'Sign in');
  await checkPage(page, 'external-01-login');
  await page.getByRole('link', { name: 'Continue with Corp SSO' }).click();
  await atProvider(page, 'ann');
  await page.waitForURL(`${baseUrl}/sessions`);
  await onPage(page, 'My sessions');
  const session = await sessionOf(page);
  assert.equal(session.user.username, 'ann');
  assert.equal(session.user.email, 'ann@corp.example');
  assert.deepEqual(session.user.roles, ['support']);
  // The role demands a second factor: its permission waits until one is enrolled.
  const res = await page.evaluate(async (access) => {
    const r = await fetch('/api/users/', { headers: { Authorization: `Bearer ${access}` } });
    return { status: r.status, body: await r.json() };
  }, session.access);
  assert.equal(res.status, 403);
  assert.equal(res.body.code, 'mfa_enrollment_required');
  await page.goto('/linked-accounts');
  await onPage(page, 'Linked accounts');
  await page.getByText('ann@corp.example').waitFor();
  await checkPage(page, 'external-02-linked-accounts');
  assert.deepEqual(errors.list(), []);
  await context.close();
});

/** Verifies `email` by the link mailed to it (the newest mail to it). */
async function verifyByMail(email) {
  for (let i = 0; i < 300; i++) {
    const mail = mails(stack.mailDir).reverse().find((m) => JSON.stringify(m.to).includes(email));
    const token = mail && /verify-email\?token=(\S+)/.exec(mail.body)?.[1];
    if (token) {
      const res = await fetch(`${baseUrl}/api/email/verify/`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }),
      });
      assert.equal(res.status, 200);
      return;
    }
    await sleep(50);
  }
  assert.fail(`no verification mail to ${email}`);
}

test('an existing account is linked only after its own password', async () => {
  await api.registerUser('bob', 'bob@corp.example');
  await verifyByMail('bob@corp.example');
  const { context, page } = await fresh();
  await page.goto('/login');
  await page.getByRole('link', { name: 'Continue with Corp SSO' }).click();
  await atProvider(page, 'bob');
  await page.getByTestId('login-link-offer').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('link'), 'corp');
  await checkPage(page, 'external-03-link-offer');
  // The address alone signed no one in and linked nothing.
  assert.deepEqual(await api.apiAs('bob', 'GET', '/api/me/identities/'), []);
  await page.getByLabel('Username').fill('bob');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await onPage(page, 'Dashboard');
  const linked = await api.apiAs('bob', 'GET', '/api/me/identities/');
  assert.deepEqual(linked.map((i) => [i.provider, i.email]), [['corp', 'bob@corp.example']]);
  await context.close();

  // From now on the provider signs bob in.
  const second = await fresh();
  await second.page.goto('/login');
  await second.page.getByRole('link', { name: 'Continue with Corp SSO' }).click();
  await atProvider(second.page, 'bob');
  await onPage(second.page, 'Dashboard');
  assert.equal((await sessionOf(second.page)).user.username, 'bob');
  await second.context.close();
});

test('an unverified address makes nothing', async () => {
  const { context, page } = await fresh();
  await page.goto('/login');
  await page.getByRole('link', { name: 'Continue with Corp SSO' }).click();
  await atProvider(page, 'eve');
  const heading = page.getByRole('heading', { level: 1 });
  await heading.waitFor();
  assert.equal(await heading.textContent(), 'Email address not verified');
  await shot(page, 'external-04-unverified');
  const users = await api.apiAs('root', 'GET', '/api/users/?search=eve');
  assert.equal(users.count, 0);
  await context.close();
});

test('a provider whose discovery names another issuer gets a clear page', async () => {
  const { context, page } = await fresh();
  const mixup = await page.goto('/oauth/external/mixup/start');
  assert.equal(mixup.status(), 400);
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign-in could not be verified');

  await shot(page, 'external-05-mixup');
  await context.close();
});
