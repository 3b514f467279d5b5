// What both browser suites stand on: the real `authenticon serve` on a throwaway SQLite
// database with a real SMTP server beside it, Debian's Chromium, and the checks every
// page goes through (pictures at 1280 and 390 px, no sideways scroll at 390 and 320 px,
// no serious or critical axe-core violation).

import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const BIN = resolve(process.env.AUTHENTICON_BIN ?? '../target/debug/authenticon');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export const SHOTS = resolve('../test-artifacts/e2e');
export const PASSWORD = 'a long passphrase';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A real SMTP server (aiosmtpd from the project's virtualenv) writing mails as JSON. */
async function startSmtp(mailDir) {
  const python = resolve(process.env.PYTHON ?? '../.venv/bin/python');
  const proc = spawn(python, [resolve('../tests/support/smtp_sink.py'), mailDir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((ok, fail) => {
    proc.stdout.once('data', (chunk) => ok(Number(String(chunk).trim())));
    proc.on('exit', (code) => fail(new Error(`SMTP sink exited ${code}`)));
  });
  return { proc, port };
}

/** Starts `serve` and resolves with the address it says it listens on. */
function startServer(env) {
  const server = spawn(BIN, ['serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const baseUrl = new Promise((ok, fail) => {
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
  return { server, baseUrl };
}

/** Debian's Chromium, headless, as every browser test opens it. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-gpu', '--no-first-run'],
  });
}

/**
 * Server, mail and browser for one suite: a superuser `root` (password PASSWORD) exists.
 * `settings` are extra AUTHENTICON_* variables. `stop()` ends all of it.
 */
export async function startStack(name, settings = {}) {
  const dir = mkdtempSync(join(tmpdir(), `authenticon-${name}-`));
  const mailDir = join(dir, 'mail');
  const smtp = await startSmtp(mailDir);
  mkdirSync(SHOTS, { recursive: true });
  const env = {
    PATH: process.env.PATH,
    AUTHENTICON_DATABASE_URL: `sqlite://${join(dir, `${name}.db`)}`,
    AUTHENTICON_SECRET_KEY: 'e2e-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
    AUTHENTICON_BIND: '127.0.0.1:0',
    AUTHENTICON_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    ...settings,
  };
  execFileSync(BIN, ['createsuperuser', '--username', 'root', '--no-input'], {
    env: { ...env, AUTHENTICON_SUPERUSER_PASSWORD: PASSWORD },
  });
  const { server, baseUrl } = startServer(env);
  const browser = await launchBrowser();
  return {
    baseUrl: await baseUrl,
    browser,
    mailDir,
    async stop() {
      await browser.close();
      server.kill('SIGTERM');
      smtp.proc.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The mails the SMTP server received so far, oldest first. */
export function mails(mailDir) {
  return readdirSync(mailDir).filter((f) => f.endsWith('.json')).sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
    .map((f) => JSON.parse(readFileSync(join(mailDir, f), 'utf8')));
}

/** Errors the page logged or threw, less the expected 4xx and the accessibility checker's noise. */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && !/status of 40[0-9]/.test(m.text())
    // axe-core styles its probes inline, which the app's CSP refuses: the checker's noise.
    && !(page.axeRunning && /Applying inline style violates/.test(m.text())) && errors.push(m.text()));
  return errors;
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** What axe-core reported, by page and width, every impact (see writeAxeFindings). */
const axeFindings = {};

/** Keeps every finding, the moderate and minor ones too, for a look. */
export function writeAxeFindings(file) {
  writeFileSync(join(SHOTS, file), `${JSON.stringify(axeFindings, null, 2)}\n`);
}

/**
 * axe-core on the page as it is (evaluated over the DevTools protocol, so the app's
 * Content-Security-Policy does not stop it): fails on any serious or critical violation.
 */
export async function axeCheck(page, name) {
  page.axeRunning = true;
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => (await globalThis.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
  })).violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) })));
  // Console messages arrive asynchronously: let the checker's settle before listening again.
  await sleep(100);
  page.axeRunning = false;
  axeFindings[name] = violations;
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${name}: axe found ${JSON.stringify(bad, null, 2)}`);
  return violations;
}

/** Nothing wider than the window: the page never scrolls sideways. */
export async function noOverflow(page, name) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `${name}: ${scroll} px wide in a ${width} px window`);
}

/**
 * A page as it stands, at 1280 and 390 px (screenshots of both), then 320 px: no
 * sideways scroll on phones, no serious axe violation at any width.
 */
export async function checkPage(page, name) {
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

/** Waits until the page's <h1> reads `heading` and the document is named after `title`. */
export async function onPage(page, heading, title = heading) {
  await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
  await page.waitForFunction((t) => document.title === `${t} · Authenticon`, title);
}

/** The API as the tests' other devices use it, each call a fresh sign-in of its own. */
export function apiClient(baseUrl) {
  /** A session of `username` made over the API (as another device would); its access token. */
  async function tokenFor(username, password = PASSWORD) {
    const res = await fetch(`${baseUrl}/api/token/`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'User-Agent': `Device of ${username}` },
      body: JSON.stringify({ username, password }),
    });
    assert.equal(res.status, 200, `token for ${username}`);
    return (await res.json()).access;
  }

  /** Calls the API as `username`: the status and the JSON answer (null for none). */
  async function call(username, method, path, body) {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${await tokenFor(username)}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  /** Calls the API as `username` and wants a 2xx: the JSON answer. */
  async function apiAs(username, method, path, body) {
    const { status, body: answer } = await call(username, method, path, body);
    assert.ok(status < 300, `${method} ${path}: ${status} ${JSON.stringify(answer)}`);
    return answer;
  }

  async function registerUser(username, email) {
    const res = await fetch(`${baseUrl}/register/`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(email ? { username, password: PASSWORD, email } : { username, password: PASSWORD }),
    });
    assert.equal(res.status, 201, `register ${username}`);
  }

  return { tokenFor, call, apiAs, registerUser };
}
