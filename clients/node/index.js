// Verifies Authenticon access tokens offline, against the service's JWKS, and refuses
// those its signed revocation feed lists (docs/revocation-feed.md in the Authenticon
// repository).
import { createRemoteJWKSet, jwtVerify } from 'jose';

// SECURITY: asymmetric algorithms only. An HMAC algorithm would let anyone holding the
// public key (or a guessed secret) sign tokens, so HS* is never accepted.
const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];

// Real tokens are well under 2 KiB; refusing longer ones before parsing bounds the work
// one request can cause (the server uses the same limit).
const MAX_TOKEN_LENGTH = 8 * 1024;

// A feed page of 1,000 entries is well under 1 MiB: a larger answer is refused, and not
// read past the limit.
const MAX_FEED_BODY = 4 * 1024 * 1024;

// `more` pages followed in one poll at most; the next poll goes on from the cursor.
const MAX_PAGES_PER_POLL = 100;

const NOT_PROVIDED = 'Authentication credentials were not provided.';
const NOT_VALID = 'Given token not valid for any token type';

export class InvalidTokenError extends Error {
  /**
   * @param {string} reason a short code (see index.d.ts)
   * @param {string} message
   * @param {{ cause?: unknown }} [options]
   */
  constructor(reason, message, options) {
    super(message, options);
    this.name = 'InvalidTokenError';
    this.reason = reason;
  }
}

// jose's error codes, mapped to our reasons; an error without a code is a failed key
// fetch (fetch's own TypeError), any other code "invalid".
const JOSE_REASONS = {
  ERR_JWS_INVALID: 'malformed',
  ERR_JWT_INVALID: 'malformed',
  ERR_JOSE_ALG_NOT_ALLOWED: 'algorithm',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'signature',
  ERR_JWKS_NO_MATCHING_KEY: 'signature',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'signature',
  ERR_JWT_EXPIRED: 'expired',
  ERR_JWT_CLAIM_VALIDATION_FAILED: 'claims',
  ERR_JWKS_TIMEOUT: 'keys_unavailable',
  // jose's generic error: the JWKS answer was not a 200 with a key set.
  ERR_JOSE_GENERIC: 'keys_unavailable',
};

function positive(name, value) {
  if (!Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number of milliseconds`);
  }
  return value;
}

const isString = (v) => typeof v === 'string' && v.length > 0;
const isTime = (v) => Number.isFinite(v);
const isCursor = (v) => Number.isSafeInteger(v) && v >= 0;

// The body of `res` as text, refused (and the rest left unread) past `limit` bytes.
async function readLimited(res, limit) {
  const tooLarge = () => new Error(`revocation feed answer larger than ${limit} bytes`);
  const declared = Number(res.headers.get('content-length'));
  if (declared > limit) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * @param {import('./index.d.ts').VerifierOptions} options
 * @returns {import('./index.d.ts').Verifier}
 */
export function createVerifier({
  url,
  issuer,
  audience,
  pollIntervalMs = 2000,
  failClosedAfterMs = 300000,
  timeoutMs = 5000,
  onError,
} = {}) {
  if (!isString(url)) throw new TypeError('url is required');
  positive('pollIntervalMs', pollIntervalMs);
  positive('failClosedAfterMs', failClosedAfterMs);
  positive('timeoutMs', timeoutMs);
  // A plain prefix, so a service mounted under a path (https://host/auth) works.
  const base = url.replace(/\/+$/, '');
  const report =
    onError ??
    ((err) => {
      const code = err?.cause?.code ? ` (${err.cause.code})` : '';
      console.warn(`authenticon-verify: polling ${base}/.well-known/revocations failed: ${err?.message}${code}`);
    });
  const jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`), {
    timeoutDuration: Math.ceil(timeoutMs),
  });

  // The revocation state: sid -> until; user_id -> { notBefore, until }.
  const sessions = new Map();
  const users = new Map();
  let cursor = 0;
  let etag = null;
  // performance.now() of the last poll that brought us up to date; a monotonic clock, so
  // a wall-clock jump neither extends nor cuts the fail-closed window.
  let lastSuccess = null;
  let lastError = null;
  let closed = false;
  let timer = null;
  let inFlight = null;

  let markSynced;
  const synced = new Promise((resolve) => {
    markSynced = resolve;
  });

  async function fetchFeed(since) {
    const controller = new AbortController();
    inFlight = controller;
    const timeout = setTimeout(() => controller.abort(new Error('revocation feed request timed out')), timeoutMs);
    timeout.unref();
    try {
      const headers = { accept: 'application/jwt' };
      if (etag) headers['if-none-match'] = etag;
      const res = await fetch(`${base}/.well-known/revocations?since=${since}`, {
        headers,
        // Answers come from Authenticon itself; a redirect is a misconfiguration to notice.
        redirect: 'error',
        signal: controller.signal,
      });
      // Read the body under the same timeout: a stalled body is a failed poll too. Only a
      // 200's body is of use; any other is not read at all.
      let body = null;
      if (res.status === 200) body = await readLimited(res, MAX_FEED_BODY);
      else await res.body?.cancel().catch(() => {});
      return { res, body };
    } finally {
      clearTimeout(timeout);
      inFlight = null;
    }
  }

  // Checks a feed answer (signature, type, issuer, the cursor it answers) and its shape;
  // throws on anything unexpected so the state is never changed by a partial answer.
  async function readFeed(jws, since) {
    const { payload } = await jwtVerify(jws, jwks, {
      algorithms: ALGORITHMS,
      typ: 'revocations+jwt',
      ...(issuer !== undefined && { issuer }),
    });
    // SECURITY: an answer for another cursor (a replayed older one, say) could move our
    // cursor past revocations we never saw.
    if (payload.since !== since) throw new Error(`revocation feed answered since=${payload.since}, asked ${since}`);
    const { cursor: next, more, sessions: s, users: u } = payload;
    if (!isCursor(next) || typeof more !== 'boolean' || !Array.isArray(s) || !Array.isArray(u)) {
      throw new Error('revocation feed payload has an unexpected shape');
    }
    if (!s.every((e) => isString(e?.sid) && isTime(e.until))) throw new Error('bad sessions entry in revocation feed');
    if (!u.every((e) => isString(e?.user_id) && isTime(e.not_before) && isTime(e.until))) {
      throw new Error('bad users entry in revocation feed');
    }
    // Without progress, `more` would have us ask the same question in a tight loop.
    if (more && next === since) throw new Error('revocation feed says more but its cursor did not move');
    return { next, more, sessions: s, users: u };
  }

  // Entries are re-sent for a while, so merging is idempotent and keeps the strictest.
  function merge(answer) {
    for (const { sid, until } of answer.sessions) {
      sessions.set(sid, Math.max(until, sessions.get(sid) ?? -Infinity));
    }
    for (const { user_id: id, not_before: notBefore, until } of answer.users) {
      const known = users.get(id);
      users.set(id, {
        notBefore: Math.max(notBefore, known?.notBefore ?? -Infinity),
        until: Math.max(until, known?.until ?? -Infinity),
      });
    }
  }

  // Past `until` no token an entry concerns can still be valid: forget it.
  function prune() {
    const now = Date.now() / 1000;
    for (const [sid, until] of sessions) if (until < now) sessions.delete(sid);
    for (const [id, entry] of users) if (entry.until < now) users.delete(id);
  }

  // One poll: follows `more` at once; up to date only when the last page says so.
  async function poll() {
    for (let page = 0; ; page += 1) {
      if (page === MAX_PAGES_PER_POLL) {
        // What the pages said stands (the cursor too: the next poll goes on from it), but
        // more was still to come: not up to date, so not a success (the fail-closed clock
        // keeps running).
        throw new Error(`revocation feed still had more after ${MAX_PAGES_PER_POLL} pages`);
      }
      const since = cursor;
      const { res, body } = await fetchFeed(since);
      if (res.status === 304) break;
      if (res.status !== 200) throw new Error(`revocation feed answered ${res.status}`);
      const answer = await readFeed(body.trim(), since);
      if (closed) return;
      merge(answer);
      cursor = answer.next;
      // The ETag only stands for a complete answer: the page after a `more` is asked for
      // in full, and so is the next poll's first one after the page limit.
      etag = answer.more ? null : res.headers.get('etag');
      if (!answer.more) break;
    }
    prune();
    lastSuccess = performance.now();
    lastError = null;
    markSynced();
  }

  async function loop() {
    try {
      await poll();
    } catch (err) {
      // Keep the last good state; verify() fails closed once it is too old. Reported
      // when polling starts failing, not at every attempt of an outage.
      if (closed) return;
      const wasFine = lastError === null;
      lastError = err;
      try {
        if (wasFine) report(err);
      } catch {
        // A failing report must not stop the poller.
      }
    }
    if (closed) return;
    timer = setTimeout(loop, pollIntervalMs);
    // The poller alone never keeps a process alive.
    timer.unref();
  }
  loop();

  // Waits up to timeoutMs for the first successful poll; false when it did not come.
  // This timer stays referenced: a caller awaiting verify() must get its answer even when
  // nothing else keeps the process alive.
  async function waitForFirstPoll() {
    if (lastSuccess !== null) return true;
    let wait;
    const timedOut = new Promise((resolve) => {
      wait = setTimeout(resolve, timeoutMs, false);
    });
    try {
      return await Promise.race([synced.then(() => true), timedOut]);
    } finally {
      clearTimeout(wait);
    }
  }

  function feedError(reason, message) {
    return new InvalidTokenError(reason, message, lastError ? { cause: lastError } : undefined);
  }

  async function verify(token) {
    if (closed) throw new InvalidTokenError('closed', 'the verifier is closed');
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new InvalidTokenError('malformed', 'token missing or too long');
    }
    // SECURITY: until we know what is revoked, every token is refused (fail closed).
    if (!(await waitForFirstPoll())) {
      throw feedError('feed_unavailable', 'no revocation feed answer yet');
    }
    let claims;
    try {
      ({ payload: claims } = await jwtVerify(token, jwks, {
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'iat'],
        ...(issuer !== undefined && { issuer }),
        ...(audience !== undefined && { audience }),
      }));
    } catch (err) {
      const reason = JOSE_REASONS[err?.code] ?? (err?.code ? 'invalid' : 'keys_unavailable');
      throw new InvalidTokenError(reason, `token refused: ${err?.message ?? err}`, { cause: err });
    }
    if (claims.token_type !== 'access') throw new InvalidTokenError('token_type', 'not an access token');
    const { user_id: userId, sub, sid, iat } = claims;
    if (userId !== undefined && sub !== undefined && userId !== sub) {
      throw new InvalidTokenError('claims', 'sub and user_id differ');
    }
    const user = userId ?? sub;
    // SECURITY: without both we could not tell whether the feed revoked the token.
    if (!isString(user) || !isString(sid)) throw new InvalidTokenError('claims', 'token has no user or session id');
    if (performance.now() - lastSuccess > failClosedAfterMs) {
      throw feedError('feed_stale', 'revocation feed not reached for too long');
    }
    if (sessions.has(sid)) throw new InvalidTokenError('session_revoked', 'session revoked');
    const revoked = users.get(user);
    if (revoked && iat < revoked.notBefore) {
      throw new InvalidTokenError('user_revoked', 'token issued before the user was revoked');
    }
    return claims;
  }

  // The token of `Authorization: Bearer <token>`: another scheme counts as no
  // credentials and a Bearer header of another shape as a bad token, as simplejwt does.
  function bearer(header) {
    if (typeof header !== 'string') return { token: null };
    const parts = header.split(/\s+/).filter(Boolean);
    if (parts[0] !== 'Bearer') return { token: null };
    return parts.length === 2 ? { token: parts[1] } : { token: null, bad: true };
  }

  // What to answer: { claims } or { status: 401, headers, body } (DRF's answers).
  async function authenticate(header) {
    const { token, bad } = bearer(header);
    if (!token && !bad) return refusal(NOT_PROVIDED);
    if (bad) return refusal(NOT_VALID);
    try {
      return { claims: await verify(token) };
    } catch (err) {
      if (err instanceof InvalidTokenError) return refusal(NOT_VALID);
      throw err;
    }
  }

  function refusal(detail) {
    return {
      status: 401,
      headers: { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer realm="api"' },
      body: JSON.stringify({ detail }),
    };
  }

  function middleware() {
    return (req, res, next) => {
      authenticate(req.headers?.authorization).then(
        (outcome) => {
          if (outcome.claims) {
            req.auth = outcome.claims;
            next();
            return;
          }
          res.statusCode = outcome.status;
          for (const [name, value] of Object.entries(outcome.headers)) res.setHeader(name, value);
          res.setHeader('Content-Length', Buffer.byteLength(outcome.body));
          res.end(outcome.body);
        },
        (err) => next(err),
      );
    };
  }

  function fastifyHook() {
    return async (request, reply) => {
      const outcome = await authenticate(request.headers?.authorization);
      if (outcome.claims) {
        request.auth = outcome.claims;
        return;
      }
      // A string body with its own Content-Type is sent as is (no charset added).
      reply.code(outcome.status);
      for (const [name, value] of Object.entries(outcome.headers)) reply.header(name, value);
      return reply.send(outcome.body);
    };
  }

  function close() {
    closed = true;
    clearTimeout(timer);
    inFlight?.abort(new Error('verifier closed'));
  }

  async function ready() {
    if (closed) throw new InvalidTokenError('closed', 'the verifier is closed');
    if (!(await waitForFirstPoll())) throw feedError('feed_unavailable', 'no revocation feed answer yet');
  }

  return { verify, middleware, fastifyHook, close, ready };
}
