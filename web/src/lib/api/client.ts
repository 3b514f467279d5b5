// The API client. The access token lives only in this module's memory; the refresh
// token only in the HttpOnly cookie the server sets on /api/session/ (script never sees
// it). A 401 triggers one refresh — single-flight within the tab, and serialised across
// tabs with a Web Lock — after which each waiting request retries once. Tabs share the
// new access token and logouts over a BroadcastChannel.

import type { components } from './schema';
import { signWithPasskey } from '../passkeys';

export type User = components['schemas']['UserResponse'];
export type SessionResponse = components['schemas']['SessionResponse'];

/** A non-2xx answer, with the server's DRF-shaped body. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    super(describe(body) ?? `Request failed (${status})`);
    this.status = status;
    this.body = body;
  }

  /** DRF field errors (`{"field": ["message"]}`), empty when the body has none. */
  fieldErrors(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    if (this.body && typeof this.body === 'object' && !Array.isArray(this.body)) {
      for (const [k, v] of Object.entries(this.body as Record<string, unknown>)) {
        if (Array.isArray(v) && v.every((m) => typeof m === 'string')) out[k] = v as string[];
      }
    }
    return out;
  }
}

/**
 * What a form shows for a failed call: DRF field errors under their fields, otherwise
 * one message (the server's `detail`, or that it could not be reached).
 */
export function formError(err: unknown): { fields: Record<string, string[]>; error: string | null } {
  if (!(err instanceof ApiError)) return { fields: {}, error: 'The server could not be reached. Try again.' };
  const fields = err.fieldErrors();
  return { fields, error: Object.keys(fields).length ? null : err.message };
}

function describe(body: unknown): string | undefined {
  if (body && typeof body === 'object' && 'detail' in body) {
    const d = (body as { detail: unknown }).detail;
    if (typeof d === 'string') return d;
  }
  return undefined;
}

type SessionListener = (user: User | null) => void;

let accessToken: string | null = null;
let currentUser: User | null = null;
const listeners = new Set<SessionListener>();

type Message = { type: 'session'; access: string; user: User } | { type: 'logout' } | { type: 'refreshing' };
const channel: BroadcastChannel | null =
  typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel('authenticon-session');

/** Set when another tab announced a refresh whose outcome has not arrived yet. */
let peerRefreshing = false;

channel?.addEventListener('message', (event: MessageEvent<Message>) => {
  const m = event.data;
  if (m.type === 'refreshing') peerRefreshing = true;
  if (m.type === 'session') setSession(m.access, m.user, false);
  if (m.type === 'logout') setSession(null, null, false);
});

function setSession(access: string | null, user: User | null, broadcast: boolean): void {
  peerRefreshing = false;
  if (!user) setMfaEnrollmentRequired(false);
  accessToken = access;
  currentUser = user;
  if (broadcast && channel) {
    channel.postMessage(access && user ? { type: 'session', access, user } : { type: 'logout' });
  }
  for (const l of listeners) l(user);
}

export function onSessionChange(listener: SessionListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function getUser(): User | null {
  return currentUser;
}

/** Replaces the cached user (after a profile change) and tells the other tabs. */
export function updateUser(user: User): void {
  if (accessToken) setSession(accessToken, user, true);
}

/** For tests: forget everything. */
export function resetForTests(): void {
  accessToken = null;
  currentUser = null;
  refreshing = null;
  mfaEnrollmentRequired = false;
}

let refreshing: Promise<boolean> | null = null;

function nextSessionChange(timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      off();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    const off = onSessionChange(done);
  });
}

/**
 * Runs `fn` holding the cross-tab refresh lock. `fn` learns whether another tab held the
 * lock first (then that tab has most likely just refreshed).
 */
async function withCrossTabLock<T>(fn: (contended: boolean) => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks) return fn(false);
  const free = (await locks.request('authenticon-refresh', { ifAvailable: true }, async (lock) =>
    lock ? { value: await fn(false) } : null)) as { value: T } | null;
  if (free) return free.value;
  return locks.request('authenticon-refresh', () => fn(true)) as Promise<T>;
}

/**
 * Gets a fresh access token from the refresh cookie. Concurrent callers in a tab share
 * one attempt; other tabs wait on the lock and, if a refresh happened meanwhile, take
 * its token instead of spending the cookie again (which would look like token theft).
 *
 * `stale` is the token a caller saw refused. When a peer tab's news replaced it while
 * that request was in flight, the new token is already here and nothing is rotated.
 */
export function refreshSession(stale: string | null = accessToken): Promise<boolean> {
  if (accessToken && accessToken !== stale) return Promise.resolve(true);
  if (!refreshing) {
    const before = stale;
    refreshing = withCrossTabLock(async (contended) => {
      if (accessToken && accessToken !== before) return true;
      // A peer tab held the lock and is about to share its result: take that instead of
      // rotating the cookie a second time. Lock grants and channel messages are not
      // ordered, so its news may still be on the way even when no "refreshing" arrived.
      if (peerRefreshing || contended) {
        await nextSessionChange(peerRefreshing ? 2000 : 500);
        if (accessToken && accessToken !== before) return true;
      }
      channel?.postMessage({ type: 'refreshing' } satisfies Message);
      const res = await fetch('/api/session/refresh/', {
        method: 'POST',
        headers: { 'X-Requested-With': 'XMLHttpRequest' },
        credentials: 'same-origin',
      });
      if (!res.ok) {
        setSession(null, null, false);
        return false;
      }
      const body = (await res.json()) as SessionResponse;
      setSession(body.access, body.user, true);
      return true;
    }).finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function parse(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text };
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  /** The proof itself: a `reauthentication_required` answer opens no prompt. */
  noReauth?: boolean;
}

/** Calls the API with the access token; on 401 refreshes once and retries once. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  let sent: string | null = null;
  const send = () => {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    sent = accessToken;
    if (sent) headers['Authorization'] = `Bearer ${sent}`;
    return fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
    });
  };
  let res = await send();
  if (res.status === 401 && (await refreshSession(sent))) {
    res = await send();
  }
  let body = await parse(res);
  // A sensitive change needs a fresh proof of presence: ask for it, then send again.
  if (res.status === 403 && codeOf(body) === 'reauthentication_required' && !options.noReauth && reauthPrompt
    && (await reauthPrompt())) {
    res = await send();
    body = await parse(res);
  }
  if (!res.ok) {
    if (res.status === 403 && (body as { code?: unknown } | null)?.code === 'mfa_enrollment_required') {
      setMfaEnrollmentRequired(true);
    }
    throw new ApiError(res.status, body);
  }
  return body as T;
}

function codeOf(body: unknown): unknown {
  return (body as { code?: unknown } | null)?.code;
}

/**
 * Asks the person at the keyboard to prove they are there (their password) and
 * re-authenticates the session; resolves `false` when they cancel. The app mounts one
 * (`ReauthDialog`); without it a `reauthentication_required` answer is an error as usual.
 */
export type ReauthPrompt = () => Promise<boolean>;
let reauthPrompt: ReauthPrompt | null = null;

export function setReauthPrompt(prompt: ReauthPrompt | null): void {
  reauthPrompt = prompt;
}

// Set when the server refused a guarded route because the user's role requires a second
// factor they have not added yet; the app shows a banner until they do.
let mfaEnrollmentRequired = false;
const mfaListeners = new Set<(required: boolean) => void>();

export function setMfaEnrollmentRequired(required: boolean): void {
  if (required === mfaEnrollmentRequired) return;
  mfaEnrollmentRequired = required;
  for (const l of mfaListeners) l(required);
}

export function onMfaEnrollmentRequired(listener: (required: boolean) => void): () => void {
  mfaListeners.add(listener);
  listener(mfaEnrollmentRequired);
  return () => mfaListeners.delete(listener);
}

/** A JSON POST that needs no access token (login, password reset, email links). */
export async function post<T>(path: string, payload: unknown): Promise<T> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(payload),
    credentials: 'same-origin',
  });
  const body = await parse(res);
  if (!res.ok) throw new ApiError(res.status, body);
  return body as T;
}

/** The second login step, with the `mfa_token` of a `mfa_required` answer. */
export async function loginWithCode(mfaToken: string, code: string): Promise<User> {
  const session = await post<SessionResponse>('/api/session/mfa/', { mfa_token: mfaToken, code });
  setSession(session.access, session.user, true);
  return session.user;
}

/** Logs in with a passkey alone (it verifies its user: both factors in one). */
export async function loginWithPasskey(): Promise<User> {
  const options = await post<{ ceremony: string; publicKey: Record<string, unknown> }>('/api/passkeys/login/', {});
  const credential = await signWithPasskey(options);
  const session = await post<SessionResponse>('/api/session/passkey/', { ceremony: options.ceremony, credential });
  setSession(session.access, session.user, true);
  return session.user;
}

/** The second login step with a passkey, for the login `mfaToken` stands for. */
export async function loginWithPasskeyStep(mfaToken: string): Promise<User> {
  const options = await post<{ publicKey: Record<string, unknown> }>('/api/token/mfa/passkey/', { mfa_token: mfaToken });
  const credential = await signWithPasskey(options);
  const session = await post<SessionResponse>('/api/session/mfa/', { mfa_token: mfaToken, credential });
  setSession(session.access, session.user, true);
  return session.user;
}

/** A second factor the server wants: the token for the second step and its methods. */
export interface MfaChallenge {
  token: string;
  methods: string[];
}

/** The challenge when the server wants a second factor, else null. */
export function mfaChallengeOf(err: unknown): MfaChallenge | null {
  if (!(err instanceof ApiError) || !err.body || typeof err.body !== 'object') return null;
  const body = err.body as { code?: unknown; mfa_token?: unknown; methods?: unknown };
  if (body.code !== 'mfa_required' || typeof body.mfa_token !== 'string') return null;
  const methods = Array.isArray(body.methods) ? body.methods.filter((m): m is string => typeof m === 'string') : [];
  return { token: body.mfa_token, methods };
}

export async function login(username: string, password: string): Promise<User> {
  const session = await post<SessionResponse>('/api/session/login/', { username, password });
  setSession(session.access, session.user, true);
  return session.user;
}

/** Logs this browser out; every tab follows. */
export async function logout(): Promise<void> {
  try {
    await fetch('/api/session/logout/', { method: 'POST', credentials: 'same-origin' });
  } finally {
    setSession(null, null, true);
  }
}

/** After "log out everywhere": the server already revoked everything. */
export function forgetSession(): void {
  setSession(null, null, true);
}

export function hasPermission(user: User | null, permission: string): boolean {
  return !!user && (user.is_superuser || user.permissions.includes(permission));
}
