// Starts the real Authenticon binary for the tests and speaks its HTTP API.
// AUTHENTICON_BIN names the binary (default: the repository's target/debug/authenticon).
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = path.resolve(packageDir, process.env.AUTHENTICON_BIN ?? '../../target/debug/authenticon');
export const PASSWORD = 'a long passphrase';

export { sleep };

/**
 * A fresh server on its own SQLite database, signing with EdDSA.
 * `env` adds AUTHENTICON_* settings; `superuser` ({ username, password }) is created first.
 */
export async function startAuthenticon({ env = {}, superuser } = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'authenticon-node-'));
  const serverEnv = {
    ...process.env,
    AUTHENTICON_DATABASE_URL: `sqlite://${dir}/db.sqlite`,
    AUTHENTICON_SECRET_KEY: 'node-client-test-secret-0123456789-abcdefghij',
    AUTHENTICON_BIND: '127.0.0.1:0',
    AUTHENTICON_JWT_ALGORITHM: 'EdDSA',
    ...env,
  };
  if (superuser) {
    const run = promisify(execFile);
    await run(BIN, ['migrate'], { env: serverEnv });
    await run(BIN, ['createsuperuser', '--no-input', '--username', superuser.username], {
      env: { ...serverEnv, AUTHENTICON_SUPERUSER_PASSWORD: superuser.password },
    });
  }
  const child = spawn(BIN, ['serve'], { env: serverEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${log}`)), 30_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const found = /listening on (http:\/\/[0-9.:]+)/.exec(log);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${BIN} (set AUTHENTICON_BIN): ${err.message}`));
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}):\n${log}`));
    });
  });
  return {
    url,
    log: () => log,
    /** Kills the server at once, as a crash would. */
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function call(url, method, route, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${url}${route}`, { method, headers, body: body && JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function expect(status, answer, what) {
  const got = await answer;
  if (got.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${got.status} ${JSON.stringify(got.body)}`);
  }
  return got.body;
}

/** Registers `username`; the new user object (with its `id`). */
export const register = (url, username) =>
  expect(201, call(url, 'POST', '/register/', { username, password: PASSWORD }), 'register');

/** Logs in (a new session): `{ access, refresh }`. */
export const login = (url, username, password = PASSWORD) =>
  expect(200, call(url, 'POST', '/api/token/', { username, password }), 'login');

/** Logs out the session of `refresh`. */
export const logout = (url, refresh) =>
  expect(200, call(url, 'POST', '/api/token/blacklist/', { refresh }), 'logout');

/** Polls `check` until it returns true; the milliseconds it took, or an error after `ms`. */
export async function within(ms, check, what) {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

/** The reason `promise` was refused with, or null when it resolved. */
export async function refusal(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    return err;
  }
}
