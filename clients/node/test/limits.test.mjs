// The limits of one poll, against a stand-in for Authenticon (a local server with a JWKS
// and a feed signed by keys of its own): an answer larger than 4 MiB is a failed poll and
// is not read past the limit; a poll that still has `more` after 100 pages is a failed
// poll, and the next one goes on from the cursor.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createVerifier } from '../index.js';
import { refusal, within } from './support.mjs';

const MiB = 1024 * 1024;

async function startFake() {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
  const fake = {
    // What the feed answers: 'normal', 'more' (always more), or a function (req, res).
    mode: 'normal',
    feedRequests: [],
    // Bytes of the endless body written so far, and whether its client went away.
    streamed: 0,
    streamClosed: false,
  };

  const sign = (payload) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'revocations+jwt' })
      .setIssuedAt()
      .sign(privateKey);

  fake.token = (claims = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const sid = randomUUID();
    return new SignJWT({ token_type: 'access', user_id: 'u1', sub: 'u1', sid, jti: randomUUID(), ...claims })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setIssuedAt(now - 1)
      .setExpirationTime(now + 300)
      .sign(privateKey);
  };

  fake.answer = (since, extra = {}) => {
    const more = fake.mode === 'more';
    return sign({ since, cursor: more ? since + 1 : since, more, sessions: [], users: [], ...extra });
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://fake');
    if (url.pathname === '/.well-known/jwks.json') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    if (url.pathname !== '/.well-known/revocations') {
      res.writeHead(404).end();
      return;
    }
    const since = Number(url.searchParams.get('since') ?? 0);
    fake.feedRequests.push(since);
    if (typeof fake.mode === 'function') {
      await fake.mode(req, res, since);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/jwt' }).end(await fake.answer(since));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${server.address().port}`;
  fake.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  return fake;
}

describe('the limits of a poll', () => {
  let fake;

  before(async () => {
    fake = await startFake();
  });

  after(async () => {
    await fake?.close();
  });

  test('a feed answer larger than 4 MiB (by its Content-Length) is a failed poll', async () => {
    fake.mode = async (req, res, since) => {
      // Signed and valid, only too large.
      const jws = await fake.answer(since, { padding: 'x'.repeat(4 * MiB) });
      res.writeHead(200, { 'Content-Type': 'application/jwt', 'Content-Length': Buffer.byteLength(jws) }).end(jws);
    };
    const errors = [];
    const verifier = createVerifier({ url: fake.url, timeoutMs: 2000, onError: (err) => errors.push(err) });
    try {
      const err = await refusal(verifier.verify(await fake.token()));
      assert.equal(err?.reason, 'feed_unavailable');
      assert.match(String(err.cause?.message), /larger than 4194304 bytes/);
      assert.equal(errors.length, 1);
    } finally {
      verifier.close();
      fake.mode = 'normal';
    }
  });

  test('an endless feed answer is cut at 4 MiB, not read to the timeout', async () => {
    fake.streamed = 0;
    fake.streamClosed = false;
    fake.mode = (req, res) => {
      // No Content-Length: chunked, and it never ends (64 MiB are sent, then nothing, the
      // connection left open).
      res.writeHead(200, { 'Content-Type': 'application/jwt' });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const write = () => {
        while (!res.destroyed && fake.streamed < 64 * MiB) {
          fake.streamed += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', write);
            return;
          }
        }
      };
      res.once('close', () => {
        fake.streamClosed = true;
      });
      write();
    };
    const errors = [];
    const started = performance.now();
    const verifier = createVerifier({ url: fake.url, timeoutMs: 10_000, onError: (err) => errors.push(err) });
    try {
      await within(5000, () => errors.length > 0, 'the poll failed');
      assert.match(errors[0].message, /larger than 4194304 bytes/);
      assert.ok(performance.now() - started < 5000, 'well before the 10 s timeout');
      await within(2000, () => fake.streamClosed, 'the verifier stopped reading');
      assert.ok(fake.streamed < 16 * MiB, `${fake.streamed} bytes written`);
    } finally {
      verifier.close();
      fake.mode = 'normal';
    }
  });

  test('an answer under the limit is read', async () => {
    fake.mode = async (req, res, since) => {
      const jws = await fake.answer(since, { padding: 'x'.repeat(2 * MiB) });
      res.writeHead(200, { 'Content-Type': 'application/jwt' }).end(jws);
    };
    const verifier = createVerifier({ url: fake.url, timeoutMs: 3000 });
    try {
      assert.equal((await verifier.verify(await fake.token())).user_id, 'u1');
    } finally {
      verifier.close();
      fake.mode = 'normal';
    }
  });

  test('still more after 100 pages is a failed poll; the next poll goes on from the cursor', async () => {
    fake.mode = 'more';
    fake.feedRequests = [];
    const errors = [];
    const verifier = createVerifier({
      url: fake.url,
      pollIntervalMs: 300,
      failClosedAfterMs: 2000,
      timeoutMs: 2000,
      onError: (err) => errors.push(err),
    });
    try {
      await within(5000, () => errors.length > 0, 'the poll failed');
      assert.match(errors[0].message, /still had more after 100 pages/);
      assert.deepEqual(fake.feedRequests.slice(0, 100), [...Array(100).keys()], 'pages 0 to 99 in the first poll');
      const token = await fake.token();
      assert.equal((await refusal(verifier.verify(token)))?.reason, 'feed_unavailable');
      await within(3000, () => fake.feedRequests.length > 100, 'the next poll');
      assert.equal(fake.feedRequests[100], 100, 'the next poll goes on from the cursor');

      // The rest arrives: a poll ending on a page without `more` succeeds.
      fake.mode = 'normal';
      await within(3000, async () => (await refusal(verifier.verify(token))) === null, 'accepted once up to date');
      const asked = fake.feedRequests;
      assert.ok(asked.every((since, i) => i === 0 || since >= asked[i - 1]), 'never back to an older cursor');
    } finally {
      verifier.close();
      fake.mode = 'normal';
    }
  });
});
