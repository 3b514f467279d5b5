// What a service built on middleware() / fastifyHook() answers, exactly, against a real
// Authenticon; and the example service's contract (examples/service.mjs).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createVerifier } from '../index.js';
import { login, logout, register, startAuthenticon, within } from './support.mjs';

const NOT_PROVIDED = { detail: 'Authentication credentials were not provided.' };
const NOT_VALID = { detail: 'Given token not valid for any token type' };

async function get(url, authorization) {
  const res = await fetch(url, { headers: authorization ? { Authorization: authorization } : {} });
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    wwwAuthenticate: res.headers.get('www-authenticate'),
    text,
    body: text ? JSON.parse(text) : null,
  };
}

function assertRefused(answer, body) {
  assert.equal(answer.status, 401);
  assert.equal(answer.contentType, 'application/json');
  assert.equal(answer.wwwAuthenticate, 'Bearer realm="api"');
  assert.deepEqual(answer.body, body);
}

describe('middleware() on node:http', () => {
  let server;
  let verifier;
  let app;
  let appUrl;
  let token;

  before(async () => {
    server = await startAuthenticon();
    verifier = createVerifier({ url: server.url, pollIntervalMs: 500 });
    const authenticate = verifier.middleware();
    app = http.createServer((req, res) => {
      authenticate(req, res, (err) => {
        if (err) {
          res.writeHead(500).end();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ username: req.auth.username }));
      });
    });
    await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${app.address().port}/`;
    await register(server.url, 'judy');
    token = (await login(server.url, 'judy')).access;
  });

  after(async () => {
    await new Promise((resolve) => app?.close(resolve));
    verifier?.close();
    await server?.stop();
  });

  test('no Authorization header, or another scheme: credentials not provided', async () => {
    assertRefused(await get(appUrl), NOT_PROVIDED);
    assertRefused(await get(appUrl, `Basic ${Buffer.from('judy:x').toString('base64')}`), NOT_PROVIDED);
  });

  test('a bad token, or a Bearer header of another shape: token not valid', async () => {
    assertRefused(await get(appUrl, 'Bearer not-a-token'), NOT_VALID);
    assertRefused(await get(appUrl, `Bearer ${token.slice(0, -4)}AAAA`), NOT_VALID);
    assertRefused(await get(appUrl, 'Bearer'), NOT_VALID);
    assertRefused(await get(appUrl, `Bearer ${token} extra`), NOT_VALID);
  });

  test('the body is the compact JSON Django REST Framework sends', async () => {
    const answer = await get(appUrl);
    assert.equal(answer.text, '{"detail":"Authentication credentials were not provided."}');
  });

  test('a good token reaches the handler with req.auth', async () => {
    const answer = await get(appUrl, `Bearer ${token}`);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { username: 'judy' });
  });
});

describe('fastifyHook()', () => {
  let server;
  let verifier;

  before(async () => {
    server = await startAuthenticon();
    verifier = createVerifier({ url: server.url, pollIntervalMs: 500 });
  });

  after(async () => {
    verifier?.close();
    await server?.stop();
  });

  // The part of Fastify's reply the hook uses, recording what it was told.
  function reply() {
    const sent = { status: 200, headers: {}, body: undefined };
    const r = {
      sent,
      code(status) {
        sent.status = status;
        return r;
      },
      header(name, value) {
        sent.headers[name.toLowerCase()] = value;
        return r;
      },
      send(body) {
        sent.body = body;
        return r;
      },
    };
    return r;
  }

  test('answers 401 as the middleware does, or sets request.auth', async () => {
    const hook = verifier.fastifyHook();
    const refused = reply();
    await hook({ headers: {} }, refused);
    assert.deepEqual(refused.sent, {
      status: 401,
      headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="api"' },
      body: JSON.stringify(NOT_PROVIDED),
    });

    const bad = reply();
    await hook({ headers: { authorization: 'Bearer nope' } }, bad);
    assert.equal(bad.sent.status, 401);
    assert.equal(bad.sent.body, JSON.stringify(NOT_VALID));

    await register(server.url, 'kate');
    const { access } = await login(server.url, 'kate');
    const request = { headers: { authorization: `Bearer ${access}` } };
    const passed = reply();
    await hook(request, passed);
    assert.equal(passed.sent.body, undefined);
    assert.equal(request.auth.username, 'kate');
  });
});

describe('examples/service.mjs', () => {
  let server;
  let service;
  let serviceUrl;

  before(async () => {
    server = await startAuthenticon();
    const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../examples/service.mjs');
    service = spawn(process.execPath, [script], {
      env: { ...process.env, AUTHENTICON_URL: server.url, POLL_INTERVAL_MS: '500' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    serviceUrl = await new Promise((resolve, reject) => {
      let out = '';
      service.stdout.setEncoding('utf8');
      service.stdout.on('data', (chunk) => {
        out += chunk;
        const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (found) resolve(found[1]);
      });
      service.once('exit', (code) => reject(new Error(`the service exited (${code}): ${out}`)));
    });
  });

  after(async () => {
    if (service?.exitCode === null) service.kill('SIGKILL');
    await server?.stop();
  });

  test('GET /hello answers the token user; 401 without; 404 elsewhere; refused after logout', async () => {
    const user = await register(server.url, 'leo');
    const { access, refresh } = await login(server.url, 'leo');

    const hello = await get(`${serviceUrl}/hello`, `Bearer ${access}`);
    assert.equal(hello.status, 200);
    assert.deepEqual(hello.body, { user_id: user.id, username: 'leo' });
    assertRefused(await get(`${serviceUrl}/hello`), NOT_PROVIDED);
    assert.equal((await get(`${serviceUrl}/other`, `Bearer ${access}`)).status, 404);

    await logout(server.url, refresh);
    await within(3000, async () => (await get(`${serviceUrl}/hello`, `Bearer ${access}`)).status === 401, 'logout');
    assertRefused(await get(`${serviceUrl}/hello`, `Bearer ${access}`), NOT_VALID);
  });

  test('exits on SIGTERM: the poller does not hold the process', async () => {
    const exited = new Promise((resolve) => service.once('exit', (code, signal) => resolve({ code, signal })));
    service.kill('SIGTERM');
    const result = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000, 'timeout'))]);
    assert.deepEqual(result, { code: 0, signal: null });
  });
});
