// openid-client (an OpenID Certified relying party) against the real `authenticon serve`:
// discovery, the code flow with PKCE through the web app's login page in Chromium, id token
// and userinfo, refresh rotation, revocation, introspection, a public client,
// client_credentials and RP-initiated logout; jose verifies the access token (RFC 9068).
//
// Run by `make test-oidc` through interop/oidc/run.sh, which starts the server, registers
// the clients and a user, and names them in OIDC_* variables. The tests run in order, as
// one application's life: the browser signs in once and stays signed in until the logout.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { launchBrowser } from './support.mjs';

const { OIDC_ISSUER, OIDC_CALLBACK, OIDC_USERNAME, OIDC_PASSWORD } = process.env;
const [WEB, SPA, SERVICE] = ['OIDC_WEB', 'OIDC_SPA', 'OIDC_SERVICE'].map((name) => JSON.parse(process.env[name]));
const SCOPE = 'openid profile email offline_access';
/** The test server speaks plain http, on loopback. */
const insecure = { execute: [oidc.allowInsecureRequests] };

let browser;
let page;
/** The application's own web server: the last request the browser brought back to it. */
let callbackServer;
let broughtBack;
let web;
let spa;
let service;

before(async () => {
  callbackServer = createServer((req, res) => {
    broughtBack = new URL(req.url, OIDC_CALLBACK);
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><link rel="icon" href="data:,"><title>Back at the application</title>');
  });
  await new Promise((ok) => callbackServer.listen(Number(new URL(OIDC_CALLBACK).port), '127.0.0.1', ok));
  browser = await launchBrowser();
  page = await browser.newPage();
  page.setDefaultTimeout(10_000);
});

after(async () => {
  await browser?.close();
  callbackServer?.close();
});

/**
 * Opens `url` in the browser, signing in and allowing the application on the way when
 * asked, and waits until the browser is back at the application: the URL it came back with.
 */
async function browse(url, { signIn = false, allow = false } = {}) {
  broughtBack = undefined;
  await page.goto(url.href);
  if (signIn) {
    await page.getByLabel('Username').fill(OIDC_USERNAME);
    assert.equal(new URL(page.url()).pathname, '/login', 'the provider asks the user to sign in');
    await page.getByLabel('Password').fill(OIDC_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }
  if (allow) await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`${OIDC_CALLBACK}/**`).catch(async (e) => {
    throw new Error(`the browser stopped at ${page.url()} ("${await page.title()}")`, { cause: e });
  });
  return broughtBack;
}

/** The code flow with PKCE, state and nonce, through the browser: the token response, checked by the library. */
async function codeFlow(config, options) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${OIDC_CALLBACK}/callback`, scope: SCOPE, state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const back = await browse(url, options);
  return oidc.authorizationCodeGrant(config, back, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
}

/** A refresh the provider refuses with `invalid_grant`. */
const refused = (config, refreshToken, why) =>
  assert.rejects(oidc.refreshTokenGrant(config, refreshToken), { error: 'invalid_grant' }, why);

test('discovery: the issuer is the URL the metadata was fetched from', async () => {
  const issuer = new URL(OIDC_ISSUER);
  web = await oidc.discovery(issuer, WEB.client_id, undefined, oidc.ClientSecretBasic(WEB.client_secret), insecure);
  spa = await oidc.discovery(issuer, SPA.client_id, undefined, oidc.None(), insecure);
  service = await oidc.discovery(issuer, SERVICE.client_id, SERVICE.client_secret, oidc.ClientSecretPost(), insecure);
  const metadata = web.serverMetadata();
  assert.equal(metadata.issuer, OIDC_ISSUER);
  assert.ok(metadata.supportsPKCE('S256'), 'PKCE S256 is advertised');
});

let tokens;

test('code flow with PKCE through the login page: id token, userinfo, access token', async () => {
  tokens = await codeFlow(web, { signIn: true, allow: true });
  const claims = tokens.claims();
  assert.equal(claims.preferred_username, OIDC_USERNAME);
  assert.equal(claims.email, 'alice@example.com');
  assert.deepEqual(claims.amr, ['pwd']);

  const userinfo = await oidc.fetchUserInfo(web, tokens.access_token, claims.sub);
  assert.equal(userinfo.preferred_username, OIDC_USERNAME);

  const jwks = createRemoteJWKSet(new URL(web.serverMetadata().jwks_uri));
  const { payload } = await jwtVerify(tokens.access_token, jwks, {
    issuer: OIDC_ISSUER, audience: WEB.client_id, typ: 'at+jwt',
  });
  assert.equal(decodeProtectedHeader(tokens.access_token).typ, 'at+jwt', 'RFC 9068 §2.1: typ is at+jwt');
  assert.deepEqual([payload.sub, payload.client_id, payload.scope], [claims.sub, WEB.client_id, SCOPE]);
});

test('introspection (RFC 7662) of the access token by its confidential client', async () => {
  const answer = await oidc.tokenIntrospection(web, tokens.access_token);
  assert.equal(answer.active, true);
  assert.deepEqual([answer.client_id, answer.sub, answer.username, answer.scope],
    [WEB.client_id, tokens.claims().sub, OIDC_USERNAME, SCOPE]);
});

test('refresh rotates the refresh token; the spent one is refused', async () => {
  const refreshed = await oidc.refreshTokenGrant(web, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'a new refresh token');
  assert.equal(refreshed.claims().sub, tokens.claims().sub);
  await refused(web, tokens.refresh_token, 'the spent refresh token');
  // RFC 9700 §4.14.2: a spent token coming back ends the grant, its successor too.
  await refused(web, refreshed.refresh_token, 'the grant ended by the reuse');
});

test('revocation (RFC 7009) ends the grant: its refresh token is refused', async () => {
  const { refresh_token, access_token } = await codeFlow(web);
  await oidc.tokenRevocation(web, refresh_token);
  await refused(web, refresh_token, 'the revoked refresh token');
  assert.equal((await oidc.tokenIntrospection(web, access_token)).active, false, 'its access token is inactive');
});

test('a public client: PKCE alone, no client authentication', async () => {
  const own = await codeFlow(spa, { allow: true });
  assert.equal(own.claims().aud, SPA.client_id);
  const refreshed = await oidc.refreshTokenGrant(spa, own.refresh_token);
  await oidc.tokenRevocation(spa, refreshed.refresh_token);
  await refused(spa, refreshed.refresh_token, 'the revoked refresh token');
});

test('client_credentials: a service signs in as itself', async () => {
  const { access_token, scope } = await oidc.clientCredentialsGrant(service, { scope: 'reports.read' });
  assert.equal(scope, 'reports.read');
  const answer = await oidc.tokenIntrospection(service, access_token);
  assert.deepEqual([answer.active, answer.sub, answer.permissions], [true, SERVICE.client_id, ['reports.view']]);
});

test('RP-initiated logout: back at the application with its state, signed out of the provider', async () => {
  // The id token an application holds last: after a refresh, the refreshed one.
  const { id_token } = await oidc.refreshTokenGrant(web, (await codeFlow(web)).refresh_token);
  const state = oidc.randomState();
  const back = await browse(oidc.buildEndSessionUrl(web, {
    id_token_hint: id_token, post_logout_redirect_uri: `${OIDC_CALLBACK}/signed-out`, state,
  }));
  assert.equal(back.href, `${OIDC_CALLBACK}/signed-out?state=${state}`);
  await page.goto(OIDC_ISSUER, { waitUntil: 'networkidle' });
  assert.equal(new URL(page.url()).pathname, '/login',
    `the user's web session outlived the logout: the web app shows ${page.url()} ("${await page.title()}")`);
});
