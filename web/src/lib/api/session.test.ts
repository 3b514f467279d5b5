import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { json, userFixture } from '../../test-utils';
import { getAccessToken, getUser, logout, onSessionChange, refreshSession, resetForTests, startSession } from './session';
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
