// End-to-end tests of the identity provider's pages in the web app: an application
// registered in the console, a real authorization code flow (sign-in, consent, code,
// token exchange), prompt=none, Deny, Connected applications, RP-initiated logout.
// Debian's Chromium (through playwright-core) against the real `authenticon serve`; the
// "application" is a tiny HTTP server here that records what its redirect URI receives.
// Pictures go to test-artifacts/e2e/ as oauth-*.png.
//
//   cd web && npm run build && AUTHENTICON_BIN=... node --test --test-concurrency=1 e2e/oauth.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import {
  PASSWORD, SHOTS, apiClient, checkPage, onPage, shot, sleep, startStack, watchErrors, writeAxeFindings,
} from './support.mjs';

const APP = 'Team Wiki';

let stack;
let baseUrl;
let browser;
let apiAs;
let registerUser;
/** The application's redirect URI and the queries it received, oldest first. */
let callback;
/** The registered application: `client_id`, `client_secret`. */
let wiki;
/** The access token the application got for walt. */
let accessToken;

/** A stand-in for the application: its redirect URI records the query and says "back". */
async function startApplication() {
  const received = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/cb') received.push(Object.fromEntries(url.searchParams));
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><title>${APP}</title><h1>Back in ${APP}</h1></html>`);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, uri: `http://127.0.0.1:${server.address().port}/cb`, received };
}

before(async () => {
  stack = await startStack('oauth-e2e');
  ({ baseUrl, browser } = stack);
  ({ apiAs, registerUser } = apiClient(baseUrl));
  callback = await startApplication();
  for (const f of readdirSync(SHOTS)) if (f.startsWith('oauth-')) rmSync(join(SHOTS, f));
  await registerUser('walt');
});

after(async () => {
  writeAxeFindings('axe-findings-oauth.json');
  callback?.server.close();
  await stack?.stop();
});

async function device({ clipboard = false } = {}) {
  const context = await browser.newContext({
    baseURL: baseUrl, viewport: { width: 1280, height: 800 }, ...(clipboard ? { permissions: ['clipboard-read', 'clipboard-write'] } : {}),
  });
  const page = await context.newPage();
  return { context, page, errors: watchErrors(page) };
}

const base64url = (bytes) => Buffer.from(bytes).toString('base64url');

/** A sign-in request as an application sends it: PKCE S256, state, nonce. */
function authorizeRequest(extra = {}) {
  const verifier = base64url(randomBytes(32));
  const params = {
    response_type: 'code', client_id: wiki.client_id, redirect_uri: callback.uri, scope: 'openid profile',
    state: base64url(randomBytes(12)), nonce: base64url(randomBytes(12)),
    code_challenge: base64url(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256', ...extra,
  };
  return { url: `/oauth/authorize?${new URLSearchParams(params)}`, verifier, ...params };
}

/** Resolves once the application's redirect URI was reached: the query it received. */
async function backAtApplication(page) {
  await page.waitForURL((u) => u.href.startsWith(callback.uri));
  return callback.received.at(-1);
}

async function signInOnLoginPage(page, username) {
  await onPage(page, 'Sign in');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The application asks who the user is with its access token. */
const userinfo = () => fetch(`${baseUrl}/oauth/userinfo`, { headers: { Authorization: `Bearer ${accessToken}` } });

async function discovery() {
  return (await fetch(`${baseUrl}/.well-known/openid-configuration`)).json();
}

/** A browser where `username` is signed in, on the dashboard. */
async function signedInDevice(username = 'walt', options = {}) {
  const d = await device(options);
  await d.page.goto('/login');
  await signInOnLoginPage(d.page, username);
  await d.page.waitForURL((u) => u.pathname === '/');
  return d;
}

/** Ticks a React Aria checkbox or radio by its label, the target a person clicks (the input is hidden). */
const tick = (control) => control.locator('xpath=ancestor::label[1]').click();

test('a superuser registers the application in the console and stores its secret', async () => {
  const { page, errors, context } = await signedInDevice('root', { clipboard: true });
  await page.getByRole('link', { name: 'Applications', exact: true }).click();
  await onPage(page, 'Applications');
  await page.getByText('No applications are registered yet.').waitFor();
  await page.getByRole('link', { name: 'New application' }).click();
  await onPage(page, 'New application');
  await page.getByLabel('Name', { exact: true }).fill(APP);
  // The rule that a public client has no client_credentials shows before anything is sent.
  await tick(page.getByRole('radio', { name: /^Public/ }));
  await page.getByText('A public client cannot use client_credentials').waitFor();
  await tick(page.getByRole('radio', { name: /^Confidential/ }));
  // A plain-http address elsewhere than on this machine: the server says why, under it.
  await page.getByLabel('Redirect URI 1', { exact: true }).fill('http://wiki.example/cb');
  await page.getByRole('button', { name: 'Add a post-logout redirect URI' }).click();
  await page.getByLabel('Post-logout redirect URI 1', { exact: true }).fill(`${callback.uri.replace('/cb', '/bye')}`);
  await page.getByLabel('Add a scope of its own API').fill('wiki:edit');
  await page.getByRole('button', { name: 'Add the typed scope' }).click();
  await page.getByRole('button', { name: 'Register application' }).click();
  await page.getByText('Plain http is allowed only on 127.0.0.1 or [::1]; use https.').waitFor();
  assert.equal(await page.getByLabel('Redirect URI 1', { exact: true }).getAttribute('aria-invalid'), 'true');
  await checkPage(page, 'oauth-01-new-application');
  await page.getByLabel('Redirect URI 1', { exact: true }).fill(callback.uri);
  await page.getByRole('button', { name: 'Register application' }).click();

  // The secret, once: copied, and not left before "I have stored it" is ticked.
  const step = page.getByTestId('secret-step');
  await step.waitFor();
  const secret = await page.getByTestId('client-secret').innerText();
  await step.getByRole('button', { name: 'Copy the secret' }).click();
  await step.getByText('Copied the secret.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await step.getByRole('button', { name: 'Done' }).click();
  await step.getByText('Tick the box once the secret is stored').waitFor();
  await checkPage(page, 'oauth-02-client-secret');
  await step.getByLabel('I have stored the secret').check();
  await step.getByRole('button', { name: 'Done' }).click();
  await onPage(page, APP, `${APP} · Applications`);
  await page.getByText(`${APP} is registered.`).waitFor();
  const clientId = await page.getByTestId('client-id').innerText();
  await checkPage(page, 'oauth-03-client');
  wiki = { client_id: clientId, client_secret: secret };
  const saved = await apiAs('root', 'GET', `/api/clients/${clientId}/`);
  assert.deepEqual(saved.redirect_uris, [callback.uri]);
  assert.deepEqual(saved.scopes, ['openid', 'profile', 'email', 'offline_access', 'wiki:edit']);
  assert.deepEqual(saved.grant_types, ['authorization_code', 'refresh_token']);
  await page.getByRole('link', { name: '← Applications' }).click();
  await onPage(page, 'Applications');
  await page.getByTestId('clients').getByRole('link', { name: APP }).waitFor();
  await checkPage(page, 'oauth-04-clients');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a code flow: sign in, consent, a code the application exchanges for tokens', async () => {
  const { page, errors, context } = await device();
  const request = authorizeRequest();
  await page.goto(request.url);
  await page.waitForURL((u) => u.pathname === '/login');
  await signInOnLoginPage(page, 'walt');
  await onPage(page, `Sign in to ${APP}`);
  await page.getByText('Signed in as walt').waitFor();
  const scopes = await page.getByTestId('consent-scopes').locator('li').allInnerTexts();
  assert.equal(scopes.length, 2);
  await checkPage(page, 'oauth-05-consent');
  await page.getByRole('button', { name: 'Allow', exact: true }).click();
  const answer = await backAtApplication(page);
  const { issuer, token_endpoint: tokenEndpoint, jwks_uri: jwksUri } = await discovery();
  assert.equal(answer.state, request.state);
  assert.equal(answer.iss, issuer);
  assert.ok(answer.code);

  // The application's back end redeems the code (the endpoint is on the same server as
  // the browser's; discovery names it under the configured public URL).
  const res = await fetch(`${baseUrl}${new URL(tokenEndpoint).pathname}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Basic ${Buffer.from(`${encodeURIComponent(wiki.client_id)}:${encodeURIComponent(wiki.client_secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: answer.code, redirect_uri: callback.uri, code_verifier: request.verifier,
    }),
  });
  const tokens = await res.json();
  assert.equal(res.status, 200, JSON.stringify(tokens));
  const jwks = createRemoteJWKSet(new URL(`${baseUrl}${new URL(jwksUri).pathname}`));
  const { payload } = await jwtVerify(tokens.id_token, jwks, { issuer, audience: wiki.client_id });
  assert.equal(payload.aud, wiki.client_id);
  assert.equal(payload.nonce, request.nonce);
  accessToken = tokens.access_token;
  assert.equal((await userinfo()).status, 200);
  assert.deepEqual(errors, []);
  await context.close();
});

test('prompt=none comes back with a code and shows nothing; Deny comes back with access_denied', async () => {
  const { page, errors, context } = await signedInDevice();
  const seen = [];
  page.on('framenavigated', (f) => f === page.mainFrame() && seen.push(new URL(f.url()).pathname));
  const silent = authorizeRequest({ prompt: 'none' });
  await page.goto(silent.url);
  const answer = await backAtApplication(page);
  assert.ok(answer.code, JSON.stringify(answer));
  assert.equal(answer.state, silent.state);
  assert.deepEqual(seen.filter((p) => p === '/login'), [], 'no sign-in page on the way');
  assert.equal(await page.getByRole('button', { name: 'Allow' }).count(), 0);

  // prompt=consent asks again, although walt allowed it before.
  const asked = authorizeRequest({ prompt: 'consent' });
  await page.goto(asked.url);
  await onPage(page, `Sign in to ${APP}`);
  await page.getByRole('button', { name: 'Deny', exact: true }).click();
  const denied = await backAtApplication(page);
  assert.equal(denied.error, 'access_denied');
  assert.equal(denied.state, asked.state);
  assert.equal(denied.code, undefined);

  // The same request cannot be answered twice: going back to it says so.
  await page.goBack();
  await page.getByTestId('request-gone').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('prompt=login shows the sign-in form to someone signed in, then answers', async () => {
  const { page, errors, context } = await signedInDevice();
  // The server keeps times in whole seconds: a sign-in in the same second as the request
  // counts as "after" it. Let a second pass so the request really is newer.
  await sleep(1100);
  const fresh = authorizeRequest({ prompt: 'login', login_hint: 'walt' });
  await page.goto(fresh.url);
  await onPage(page, 'Sign in');
  await page.getByText('The application asks you to sign in again to continue.').waitFor();
  assert.equal(await page.getByLabel('Username').inputValue(), 'walt');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  const answer = await backAtApplication(page);
  assert.ok(answer.code, JSON.stringify(answer));
  assert.deepEqual(errors, []);
  await context.close();
});

test('Connected applications lists the application; Disconnect ends its access', async () => {
  const { page, errors, context } = await signedInDevice();
  await page.getByRole('link', { name: 'Connected apps' }).click();
  await onPage(page, 'Connected applications');
  const list = page.getByTestId('applications');
  await list.getByRole('heading', { name: APP }).waitFor();
  await list.getByText('See your username').waitFor();
  await checkPage(page, 'oauth-06-connected');
  await list.getByRole('button', { name: `Disconnect ${APP}` }).click();
  const dialog = page.getByRole('alertdialog', { name: `Disconnect ${APP}?` });
  await dialog.waitFor();
  await checkPage(page, 'oauth-07-disconnect');
  await dialog.getByRole('button', { name: 'Disconnect', exact: true }).click();
  await page.getByText(`${APP} is disconnected.`).waitFor();
  await page.getByText('No applications are connected.', { exact: false }).waitFor();
  assert.equal((await userinfo()).status, 401, 'the application’s access token stops at once');
  assert.deepEqual(errors, []);
  await context.close();
});

test('an application signs out without naming the session: the user is asked, then signed out', async () => {
  const { page, errors, context } = await signedInDevice();
  await page.goto('/oauth/logout');
  await page.waitForURL((u) => u.pathname === '/logout');
  await onPage(page, 'Sign out of Authenticon?', 'Sign out');
  await page.getByText('You are signed in as walt').waitFor();
  await checkPage(page, 'oauth-08-logout');
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await onPage(page, 'You are signed out', 'Signed out');
  await checkPage(page, 'oauth-09-signed-out');
  // The session is over: a page of the account asks to sign in.
  await page.goto('/sessions');
  await page.waitForURL((u) => u.pathname === '/login');
  assert.deepEqual(errors, []);
  await context.close();
});

/** Whether the token endpoint's neighbour, introspection, takes these client credentials. */
async function introspectsWith(clientId, secret) {
  const res = await fetch(`${baseUrl}/oauth/introspect`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token: 'nothing' }),
  });
  return res.status === 200;
}

test('the console rotates a secret (the old one stops) and deletes an application, each asked first', async () => {
  const { page, errors, context } = await signedInDevice('root');
  assert.equal(await introspectsWith(wiki.client_id, wiki.client_secret), true);
  await page.goto(`/clients/${wiki.client_id}`);
  await onPage(page, APP, `${APP} · Applications`);
  await page.getByRole('button', { name: 'Rotate secret…' }).click();
  const rotate = page.getByRole('alertdialog', { name: `Rotate the secret of ${APP}?` });
  await rotate.getByRole('button', { name: 'Rotate secret', exact: true }).click();
  const secret = await page.getByTestId('client-secret').innerText();
  await page.getByText('The old secret has stopped working.', { exact: false }).waitFor();
  assert.equal(await introspectsWith(wiki.client_id, wiki.client_secret), false);
  assert.equal(await introspectsWith(wiki.client_id, secret), true);
  await page.getByLabel('I have stored the secret').check();
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByText('The new secret is in use.').waitFor();

  await page.getByRole('button', { name: 'Delete application…' }).click();
  const remove = page.getByRole('alertdialog', { name: `Delete ${APP}?` });
  await remove.getByText('grants end at once', { exact: false }).waitFor();
  await shot(page, 'oauth-10-delete-1280');
  await remove.getByRole('button', { name: 'Delete application', exact: true }).click();
  await onPage(page, 'Applications');
  await page.getByText(`${APP} is deleted.`).waitFor();
  assert.deepEqual(await apiAs('root', 'GET', '/api/clients/'), []);
  assert.deepEqual(errors, []);
  await context.close();
});
