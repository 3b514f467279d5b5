import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { json, userFixture } from '../../test-utils';
import { ApiError } from './errors';
import { onMfaEnrollmentRequired, setReauthPrompt } from './guards';
import { getUser, resetForTests, startSession } from './session';
import { api } from './transport';

const user = userFixture();

interface Call { url: string; method: string; auth: string | null; body: unknown; contentType: string | null }

describe('transport', () => {
  let calls: Call[];
  /** Stubs fetch with `answer` and records each request. */
  const serve = (answer: (call: Call) => Response | Promise<Response>) => {
    vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit) => {
      const headers = init.headers as Record<string, string>;
      const call = {
        url, method: init.method ?? 'GET', auth: headers['Authorization'] ?? null,
        body: init.body === undefined ? undefined : JSON.parse(String(init.body)), contentType: headers['Content-Type'] ?? null,
      };
      calls.push(call);
      return answer(call);
    }));
  };

  beforeEach(() => {
    resetForTests();
    calls = [];
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    setReauthPrompt(null);
  });

  it('fills in path parameters, appends the set query values, and sends a body only when there is one', async () => {
    startSession({ access: 'a', user });
    serve(() => json(200, {}));
    await api('/api/users/{id}/roles/', { method: 'put', path: { id: 'a b/c' }, body: { roles: ['x'] } });
    await api('/api/users/', { query: { page: 2, search: undefined } });
    await api('/api/me/sessions/revoke-all/', { method: 'post' });
    expect(calls).toEqual([
      { url: '/api/users/a%20b%2Fc/roles/', method: 'PUT', auth: 'Bearer a', body: { roles: ['x'] }, contentType: 'application/json' },
      { url: '/api/users/?page=2', method: 'GET', auth: 'Bearer a', body: undefined, contentType: null },
      { url: '/api/me/sessions/revoke-all/', method: 'POST', auth: 'Bearer a', body: undefined, contentType: null },
    ]);
  });

  it('sends anonymous calls without the token, and does not refresh on their 401', async () => {
    startSession({ access: 'a', user });
    serve(() => json(401, { detail: 'Second factor required', code: 'mfa_required', mfa_token: 't', methods: ['totp'] }));
    const err = await api('/api/session/login/', { method: 'post', body: { username: 'alice', password: 'pw' }, anonymous: true })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 401 });
    expect(calls.map((c) => [c.url, c.auth])).toEqual([['/api/session/login/', null]]);
  });

  it('asks for a proof of presence once, then sends the sensitive change again', async () => {
    let reauthenticated = false;
    startSession({ access: 'a', user });
    serve((c) => c.method === 'PATCH'
      ? reauthenticated ? json(200, { ...user, email: 'new@example.com' })
        : json(403, { detail: 'Confirm it is you', code: 'reauthentication_required' })
      : json(404, {}));
    const prompt = vi.fn(async () => { reauthenticated = true; return true; });
    setReauthPrompt(prompt);
    const r = await api('/api/me/', { method: 'patch', body: { email: 'new@example.com' } });
    expect(r.email).toBe('new@example.com');
    expect(prompt).toHaveBeenCalledTimes(1);
    expect(calls.filter((c) => c.url === '/api/me/')).toHaveLength(2);
  });

  it('gives up with the 403 when the person cancels the prompt', async () => {
    startSession({ access: 'a', user });
    serve(() => json(403, { detail: 'Confirm it is you', code: 'reauthentication_required' }));
    setReauthPrompt(async () => false);
    await expect(api('/api/mfa/totp/', { method: 'post', body: {} })).rejects.toMatchObject({ status: 403 });
    expect(calls.filter((c) => c.url === '/api/mfa/totp/')).toHaveLength(1);
  });

  it('does not prompt for the proof itself', async () => {
    startSession({ access: 'a', user });
    serve(() => json(403, { detail: 'Confirm it is you', code: 'reauthentication_required' }));
    const prompt = vi.fn(async () => true);
    setReauthPrompt(prompt);
    await expect(api('/api/me/reauthenticate/passkey/', { method: 'post', noReauth: true })).rejects.toBeInstanceOf(ApiError);
    expect(prompt).not.toHaveBeenCalled();
  });

  it('drops the session when the refresh cookie is refused, and reports the error', async () => {
    serve((c) => c.url === '/api/session/refresh/'
      ? json(401, { detail: 'Token is invalid or expired', code: 'token_not_valid' })
      : json(401, { detail: 'Authentication credentials were not provided.' }));
    const err = await api('/api/me/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    expect(getUser()).toBeNull();
  });

  it('raises the two-factor banner when a role wants a second factor, and not for other 403s', async () => {
    const seen: boolean[] = [];
    const off = onMfaEnrollmentRequired((required) => seen.push(required));
    serve((c) => c.url === '/api/users/'
      ? json(403, { detail: 'Your role requires two-factor authentication.', code: 'mfa_enrollment_required' })
      : json(403, { detail: 'You do not have permission to perform this action.' }));
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
