// The revocation feed's trust and failure rules, against a real Authenticon: answers not
// signed by its key, or not for the cursor asked, are refused; a verifier keeps its last
// good state while the service is down, and refuses everything once that is too old.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import { createVerifier, InvalidTokenError } from '../index.js';
import { login, logout, refusal, register, sleep, startAuthenticon, within } from './support.mjs';

const collect = (errors) => (err) => errors.push(err);

// An attacker between the verifier and Authenticon: it passes everything through (the
// real JWKS included) unless told to answer the feed itself.
async function startProxy(upstreamUrl) {
  const { keys } = await (await fetch(`${upstreamUrl}/.well-known/jwks.json`)).json();
  const { privateKey } = await generateKeyPair('EdDSA');
  const proxy = { mode: 'forward', forged: 0, replayed: 0, recorded: null };

  const server = http.createServer(async (req, res) => {
    try {
      const target = new URL(req.url, upstreamUrl);
      const feed = target.pathname === '/.well-known/revocations';
      if (feed && proxy.mode === 'forge') {
        // Its own key under Authenticon's kid, and a cursor far ahead: accepted, it would
        // make the verifier skip every later revocation.
        const since = Number(target.searchParams.get('since') ?? 0);
        const jws = await new SignJWT({ since, cursor: 1e9, more: false, sessions: [], users: [] })
          .setProtectedHeader({ alg: 'EdDSA', kid: keys[0].kid, typ: 'revocations+jwt' })
          .setIssuedAt()
          .sign(privateKey);
        proxy.forged += 1;
        res.writeHead(200, { 'Content-Type': 'application/jwt', ETag: '"forged"' }).end(jws);
        return;
      }
      if (feed && proxy.mode === 'token') {
        // A token Authenticon signed, but an access token, not a feed answer.
        res.writeHead(200, { 'Content-Type': 'application/jwt' }).end(proxy.token);
        return;
      }
      if (feed && proxy.mode === 'replay') {
        // A genuine answer, signed by Authenticon, but for another cursor.
        proxy.replayed += 1;
        res.writeHead(200, { 'Content-Type': 'application/jwt', ETag: '"replayed"' }).end(proxy.recorded);
        return;
      }
      const headers = {};
      if (req.headers['if-none-match']) headers['If-None-Match'] = req.headers['if-none-match'];
      const upstream = await fetch(target, { headers });
      const body = await upstream.text();
      if (feed && upstream.status === 200 && proxy.recorded === null) proxy.recorded = body;
      const copied = {};
      for (const name of ['content-type', 'etag', 'cache-control']) {
        const value = upstream.headers.get(name);
        if (value) copied[name] = value;
      }
      res.writeHead(upstream.status, copied).end(body);
    } catch {
      res.writeHead(502).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  proxy.close = () => new Promise((resolve) => server.close(resolve));
  return proxy;
}

describe('a feed not signed by Authenticon, or not for the cursor asked', () => {
  let server;
  let proxy;

  before(async () => {
    server = await startAuthenticon();
    proxy = await startProxy(server.url);
  });

  after(async () => {
    await proxy?.close();
    await server?.stop();
  });

  test('a verifier that only ever gets forged answers refuses every token', async () => {
    await register(server.url, 'erin');
    const { access } = await login(server.url, 'erin');
    proxy.mode = 'forge';
    const errors = [];
    const verifier = createVerifier({ url: proxy.url, pollIntervalMs: 200, timeoutMs: 1500, onError: collect(errors) });
    try {
      const err = await refusal(verifier.verify(access));
      assert.ok(err instanceof InvalidTokenError);
      assert.equal(err.reason, 'feed_unavailable');
      assert.match(String(err.cause?.message), /signature verification failed/);
      assert.ok(proxy.forged > 1);
      assert.equal(errors.length, 1, 'reported once, not at every poll');
      assert.match(errors[0].message, /signature verification failed/);
    } finally {
      verifier.close();
      proxy.mode = 'forward';
    }
  });

  test('an access token served as the feed is refused (its typ is not revocations+jwt)', async () => {
    await register(server.url, 'eve');
    const { access } = await login(server.url, 'eve');
    proxy.token = access;
    proxy.mode = 'token';
    const errors = [];
    const verifier = createVerifier({ url: proxy.url, pollIntervalMs: 200, timeoutMs: 1000, onError: collect(errors) });
    try {
      assert.equal((await refusal(verifier.verify(access)))?.reason, 'feed_unavailable');
      assert.match(errors[0].message, /typ/);
    } finally {
      verifier.close();
      proxy.mode = 'forward';
    }
  });

  test('forged answers do not move the cursor past a real revocation', async () => {
    await register(server.url, 'frank');
    const { access, refresh } = await login(server.url, 'frank');
    const verifier = createVerifier({ url: proxy.url, pollIntervalMs: 200, onError: () => {} });
    try {
      await verifier.verify(access);
      proxy.mode = 'forge';
      const forged = proxy.forged;
      await within(3000, () => proxy.forged >= forged + 2, 'forged answers served');
      proxy.mode = 'forward';

      await logout(server.url, refresh);
      await within(3000, async () => (await refusal(verifier.verify(access))) !== null, 'logout');
      assert.equal((await refusal(verifier.verify(access)))?.reason, 'session_revoked');
    } finally {
      verifier.close();
      proxy.mode = 'forward';
    }
  });

  test('a genuine answer replayed for another cursor is refused', async () => {
    // A revocation, so the cursor moves past 0 and the recorded answer (since=0) no longer fits.
    await register(server.url, 'grace');
    const { refresh } = await login(server.url, 'grace');
    await logout(server.url, refresh);
    const { access } = await login(server.url, 'grace');
    proxy.recorded = null;
    const errors = [];
    const verifier = createVerifier({
      url: proxy.url,
      pollIntervalMs: 200,
      failClosedAfterMs: 1500,
      onError: collect(errors),
    });
    try {
      await verifier.verify(access);
      assert.ok(proxy.recorded, 'the proxy recorded the first answer');
      proxy.mode = 'replay';
      // Every answer refused: no poll succeeds, so the verifier fails closed.
      await within(3000, async () => (await refusal(verifier.verify(access))) !== null, 'fail closed');
      const err = await refusal(verifier.verify(access));
      assert.equal(err.reason, 'feed_stale');
      assert.match(String(err.cause?.message), /since/);
      assert.match(errors[0].message, /since/);
      assert.ok(proxy.replayed > 0);
    } finally {
      verifier.close();
      proxy.mode = 'forward';
    }
  });
});

test('with AUTHENTICON_JWT_ISSUER, answers must name the configured issuer', async () => {
  const server = await startAuthenticon({ env: { AUTHENTICON_JWT_ISSUER: 'https://auth.test' } });
  const right = createVerifier({ url: server.url, issuer: 'https://auth.test', pollIntervalMs: 200 });
  const errors = [];
  const wrong = createVerifier({
    url: server.url,
    issuer: 'https://other.test',
    pollIntervalMs: 200,
    timeoutMs: 1000,
    onError: collect(errors),
  });
  try {
    await register(server.url, 'heidi');
    const { access } = await login(server.url, 'heidi');
    assert.equal((await right.verify(access)).iss, 'https://auth.test');
    const err = await refusal(wrong.verify(access));
    assert.equal(err.reason, 'feed_unavailable');
    assert.match(String(err.cause?.message), /iss/);
    assert.equal(errors.length, 1);
  } finally {
    right.close();
    wrong.close();
    await server.stop();
  }
});

test('while Authenticon is down, tokens verify on the last good state until failClosedAfterMs', async () => {
  const server = await startAuthenticon();
  const errors = [];
  const verifier = createVerifier({
    url: server.url,
    pollIntervalMs: 200,
    failClosedAfterMs: 2000,
    onError: collect(errors),
  });
  try {
    await register(server.url, 'ivan');
    const { access } = await login(server.url, 'ivan');
    await verifier.verify(access);

    await server.kill();
    const killed = performance.now();
    await sleep(1000);
    assert.equal((await verifier.verify(access)).username, 'ivan', 'still accepted 1 s after the kill');

    await within(3000, async () => (await refusal(verifier.verify(access))) !== null, 'fail closed');
    const err = await refusal(verifier.verify(access));
    assert.equal(err.reason, 'feed_stale');
    const after = performance.now() - killed;
    assert.ok(after > 1500 && after < 2800, `refused ${Math.round(after)} ms after the kill`);
    assert.equal(errors.length, 1, 'the outage reported once');

    // A verifier that never reached it refuses from the start (after waiting timeoutMs).
    const late = createVerifier({ url: server.url, timeoutMs: 500, onError: () => {} });
    try {
      assert.equal((await refusal(late.verify(access)))?.reason, 'feed_unavailable');
      assert.equal((await refusal(late.ready()))?.reason, 'feed_unavailable');
    } finally {
      late.close();
    }
  } finally {
    verifier.close();
    await server.stop();
  }
});
