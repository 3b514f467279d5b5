import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { json, userFixture } from '../../test-utils';
import {
  getAccessToken, getEndReason, getExpiredUsername, getUser, logout, logoutPending, onSessionChange, refreshSession, resetForTests,
  startSession,
} from './session';
import { api } from './transport';

const user = userFixture();
const CHANNEL = 'authenticon-session';

describe('session', () => {
  let calls: { url: string; auth: string | null }[];
  const refreshes = () => calls.filter((c) => c.url === '/api/session/refresh/').length;

  beforeEach(() => {
    resetForTests();
    calls = [];
  });
  afterEach(() => vi.unstubAllGlobals());

  /** A server whose access tokens expire at once; each refresh gives `new`, slowly. */
  function expiringServer() {
    vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
      const auth = (init.headers as Record<string, string>)['Authorization'] ?? null;
      calls.push({ url, auth });
      if (url === '/api/session/refresh/') {
        await new Promise((r) => setTimeout(r, 20));
        return json(200, { access: 'new', user });
      }
      return auth === 'Bearer new' ? json(200, { ok: url }) : json(401, { detail: 'expired' });
    }));
  }

  it('answers two concurrent 401s with one refresh', async () => {
    expiringServer();
    startSession({ access: 'old', user });
    await Promise.all([api('/api/me/'), api('/api/mfa/')]);
    expect(refreshes()).toBe(1);
    expect(getAccessToken()).toBe('new');
  });

  it('answers many simultaneous 401s with one refresh, then retries each request once', async () => {
    expiringServer();
    startSession({ access: 'old', user });
    const paths = ['/api/me/', '/api/mfa/', '/api/me/sessions/', '/api/roles/', '/protected-resource/'] as const;
    const results = await Promise.all(paths.map((p) => api(p)));
    expect(results).toEqual(paths.map((p) => ({ ok: p })));
    expect(refreshes()).toBe(1);
    // Five failures, one refresh, five retries: nobody retries twice.
    expect(calls.filter((c) => c.url !== '/api/session/refresh/')).toHaveLength(10);
  });

  it('shares one refresh between callers that saw the same token refused, and only while it runs', async () => {
    expiringServer();
    startSession({ access: 'old', user });
    expect(await Promise.all([refreshSession('old'), refreshSession('old')])).toEqual([true, true]);
    expect(refreshes()).toBe(1);
    // A caller that saw the old token refused after the refresh takes the new one as is.
    expect(await refreshSession('old')).toBe(true);
    expect(refreshes()).toBe(1);
  });

  it('retries with a token a peer tab shared while the request was in flight, without rotating', async () => {
    const peer = new BroadcastChannel(CHANNEL);
    vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
      const auth = (init.headers as Record<string, string>)['Authorization'] ?? null;
      calls.push({ url, auth });
      if (url === '/api/session/refresh/') return json(200, { access: 'newer', user });
      if (auth === 'Bearer old') {
        // The peer tab rotated meanwhile and shares its token before this 401 arrives.
        peer.postMessage({ type: 'session', access: 'new', user });
        await new Promise((r) => setTimeout(r, 50));
        return json(401, { detail: 'expired' });
      }
      return json(200, { ok: auth });
    }));
    startSession({ access: 'old', user });
    expect(await api('/api/me/')).toEqual({ ok: 'Bearer new' });
    expect(refreshes()).toBe(0);
    peer.close();
  });

  it('tells the other tabs about a logout, and follows theirs', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 204 })));
    const peer = new BroadcastChannel(CHANNEL);
    const heard = new Promise<unknown>((resolve) => peer.addEventListener('message', (e) => resolve(e.data), { once: true }));
    startSession({ access: 'a', user });
    expect(await heard).toEqual({ type: 'session', access: 'a', user });

    const loggedOut = new Promise<unknown>((resolve) => peer.addEventListener('message', (e) => resolve(e.data), { once: true }));
    await logout();
    expect(await loggedOut).toEqual({ type: 'logout' });
    expect(getUser()).toBeNull();

    startSession({ access: 'b', user });
    const ended = new Promise<void>((resolve) => {
      const off = onSessionChange((u) => { if (!u) { off(); resolve(); } });
    });
    peer.postMessage({ type: 'logout' });
    await ended;
    expect(getAccessToken()).toBeNull();
    peer.close();
  });
});

describe('a logout the server was not told of', () => {
  let calls: string[];
  beforeEach(() => {
    resetForTests();
    calls = [];
  });
  afterEach(() => vi.unstubAllGlobals());

  /** A server that is down until `up()`, then answers logout with 204 and refresh with `refresh`. */
  function flakyServer(refresh: () => Response) {
    let reachable = false;
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      calls.push(url);
      if (!reachable) throw new TypeError('Failed to fetch');
      if (url === '/api/session/logout/') return new Response(null, { status: 204 });
      if (url === '/api/session/refresh/') return refresh();
      return json(200, { ok: url });
    }));
    return { up: () => { reachable = true; } };
  }

  it('signs out here at once, remembers the logout is owed, and settles it before the refresh of the next load', async () => {
    const server = flakyServer(() => json(200, { access: 'again', user }));
    startSession({ access: 'a', user });
    expect(await logout()).toEqual({ serverTold: false });
    expect(getUser()).toBeNull();
    expect(getEndReason()).toBe('signed-out');
    expect(logoutPending()).toBe(true);
    // Only a marker: no token, no user.
    expect(JSON.stringify({ ...localStorage })).toBe('{"authenticon.logout-pending":"1"}');

    // While the server is still down, nothing signs the person back in.
    expect(await refreshSession()).toBe(false);
    expect(logoutPending()).toBe(true);
    expect(getUser()).toBeNull();

    // "Next load": the owed logout goes first, and the cookie it ends is not refreshed from.
    server.up();
    calls = [];
    expect(await refreshSession()).toBe(false);
    expect(calls).toEqual(['/api/session/logout/']);
    expect(getUser()).toBeNull();
    expect(logoutPending()).toBe(false);
    expect({ ...localStorage }).toEqual({});
  });

  it('settles it before any other call too, such as signing in again', async () => {
    const server = flakyServer(() => json(401, {}));
    startSession({ access: 'a', user });
    await logout();
    server.up();
    calls = [];
    await api('/api/session/login/', { method: 'post', body: { username: 'alice', password: 'pw' }, anonymous: true });
    expect(calls).toEqual(['/api/session/logout/', '/api/session/login/']);
    expect(logoutPending()).toBe(false);
  });

  it('says the server was told when it answered, and leaves nothing behind', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 204 })));
    startSession({ access: 'a', user });
    expect(await logout()).toEqual({ serverTold: true });
    expect(logoutPending()).toBe(false);
  });

  it('counts a failing server as not told', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 502 })));
    startSession({ access: 'a', user });
    expect(await logout()).toEqual({ serverTold: false });
    expect(logoutPending()).toBe(true);
  });

  it.each([403, 407, 408, 429])('counts a %i from something in between as not told', async (status) => {
    // The service answers 204 either way; a proxy or captive portal answered this.
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status })));
    startSession({ access: 'a', user });
    expect(await logout()).toEqual({ serverTold: false });
    expect(logoutPending()).toBe(true);
  });
});

describe('why a session ended', () => {
  beforeEach(() => resetForTests());
  afterEach(() => vi.unstubAllGlobals());

  it('calls a refused refresh mid-session an expiry, and remembers who it was', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(401, { detail: 'Token is invalid or expired', code: 'token_not_valid' })));
    const seen: unknown[] = [];
    const off = onSessionChange((u, reason) => seen.push([u?.username ?? null, reason]));
    startSession({ access: 'a', user });
    await expect(api('/api/me/')).rejects.toMatchObject({ status: 401 });
    expect(seen).toEqual([['alice', null], [null, 'expired']]);
    expect(getEndReason()).toBe('expired');
    expect(getExpiredUsername()).toBe('alice');
    off();
  });

  it('calls a refused refresh on a first load nothing: nobody was signed in', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(401, {})));
    expect(await refreshSession()).toBe(false);
    expect(getEndReason()).toBeNull();
    expect(getExpiredUsername()).toBeNull();
  });

  it('keeps the session when the server fails instead of refusing', async () => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) => url === '/api/session/refresh/' ? json(503, {}) : json(401, {})));
    startSession({ access: 'a', user });
    await expect(api('/api/me/')).rejects.toMatchObject({ status: 503 });
    expect(getUser()).toEqual(user);
  });
});
