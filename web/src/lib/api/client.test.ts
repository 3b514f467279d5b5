import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, getUser, login, onMfaEnrollmentRequired, resetForTests, setReauthPrompt } from './client';

const user = {
  id: 'u1', username: 'alice', email: '', is_active: true, is_superuser: false,
  roles: [], permissions: [], date_joined: '2026-01-01T00:00:00Z', last_login: null, email_verified: false,
};

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

describe('api client', () => {
  let calls: { url: string; auth: string | null }[];

  beforeEach(() => {
    resetForTests();
    calls = [];
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    setReauthPrompt(null);
  });

  it('asks for a proof of presence once, then sends the sensitive change again', async () => {
    let reauthenticated = false;
    vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, auth: null });
      if (url === '/api/session/login/') return json(200, { access: 'a', user });
      if (init.method === 'PATCH') {
        return reauthenticated ? json(200, { ...user, email: 'new@example.com' })
          : json(403, { detail: 'Confirm it is you', code: 'reauthentication_required' });
      }
      return json(404, {});
    }));
    await login('alice', 'pw');
    const prompt = vi.fn(async () => { reauthenticated = true; return true; });
    setReauthPrompt(prompt);
    const r = await api<{ email: string }>('/api/me/', { method: 'PATCH', body: { email: 'new@example.com' } });
    expect(r.email).toBe('new@example.com');
    expect(prompt).toHaveBeenCalledTimes(1);
    expect(calls.filter((c) => c.url === '/api/me/')).toHaveLength(2);
  });

  it('gives up with the 403 when the person cancels the prompt', async () => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      calls.push({ url, auth: null });
      if (url === '/api/session/login/') return json(200, { access: 'a', user });
      return json(403, { detail: 'Confirm it is you', code: 'reauthentication_required' });
    }));
    await login('alice', 'pw');
    setReauthPrompt(async () => false);
    await expect(api('/api/mfa/totp/', { method: 'POST', body: {} })).rejects.toMatchObject({ status: 403 });
    expect(calls.filter((c) => c.url === '/api/mfa/totp/')).toHaveLength(1);
  });

  it('answers many simultaneous 401s with one refresh, then retries each request once', async () => {
    let token = 'old';
    vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
      const auth = (init.headers as Record<string, string>)['Authorization'] ?? null;
      calls.push({ url, auth });
      if (url === '/api/session/login/') return json(200, { access: token, user });
      if (url === '/api/session/refresh/') {
        await new Promise((r) => setTimeout(r, 20));
        token = 'new';
        return json(200, { access: 'new', user });
      }
      return auth === 'Bearer new' ? json(200, { ok: url }) : json(401, { detail: 'expired' });
    }));
    await login('alice', 'pw');
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => api<{ ok: string }>(`/api/thing/${i}`)));
    expect(results.map((r) => r.ok)).toEqual([1, 2, 3, 4, 5].map((i) => `/api/thing/${i}`));
    expect(calls.filter((c) => c.url === '/api/session/refresh/')).toHaveLength(1);
    // Five failures, one refresh, five retries: nobody retries twice.
    expect(calls.filter((c) => c.url.startsWith('/api/thing/'))).toHaveLength(10);
  });

  it('retries with a token a peer tab shared while the request was in flight, without rotating', async () => {
    const peer = new BroadcastChannel('authenticon-session');
    vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
      const auth = (init.headers as Record<string, string>)['Authorization'] ?? null;
      calls.push({ url, auth });
      if (url === '/api/session/login/') return json(200, { access: 'old', user });
      if (url === '/api/session/refresh/') return json(200, { access: 'newer', user });
      if (auth === 'Bearer old') {
        // The peer tab rotated meanwhile and shares its token before this 401 arrives.
        peer.postMessage({ type: 'session', access: 'new', user });
        await new Promise((r) => setTimeout(r, 50));
        return json(401, { detail: 'expired' });
      }
      return json(200, { ok: auth });
    }));
    await login('alice', 'pw');
    expect(await api<{ ok: string }>('/api/thing/')).toEqual({ ok: 'Bearer new' });
    expect(calls.filter((c) => c.url === '/api/session/refresh/')).toHaveLength(0);
    peer.close();
  });

  it('drops the session when the refresh cookie is refused, and reports the error', async () => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) =>
      url === '/api/session/refresh/'
        ? json(401, { detail: 'Token is invalid or expired', code: 'token_not_valid' })
        : json(401, { detail: 'Authentication credentials were not provided.' })));
    const err = await api('/api/me/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    expect(getUser()).toBeNull();
  });

  it('raises the two-factor banner when a role wants a second factor, and not for other 403s', async () => {
    const seen: boolean[] = [];
    const off = onMfaEnrollmentRequired((required) => seen.push(required));
    vi.stubGlobal('fetch', vi.fn(async (url: string) => url === '/api/users/'
      ? json(403, { detail: 'Your role requires two-factor authentication.', code: 'mfa_enrollment_required' })
      : json(403, { detail: 'You do not have permission to perform this action.' })));
    await expect(api('/api/roles/')).rejects.toBeInstanceOf(ApiError);
    expect(seen).toEqual([false]);
    await expect(api('/api/users/')).rejects.toBeInstanceOf(ApiError);
    expect(seen).toEqual([false, true]);
    off();
  });

  it('exposes DRF field errors', () => {
    const e = new ApiError(400, { password: ['This password is too common.'], detail: 'x' });
    expect(e.fieldErrors()).toEqual({ password: ['This password is too common.'] });
    expect(e.message).toBe('x');
  });
});
