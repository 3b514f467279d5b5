// The signed-in session of this tab. The access token lives only in this module's
// memory; the refresh token only in the HttpOnly cookie the server sets on
// /api/session/ (script never sees it). A refresh is single-flight within the tab and
// serialised across tabs with a Web Lock; tabs share the new access token and logouts
// over a BroadcastChannel.

import type { components } from './schema';
import { setMfaEnrollmentRequired } from './guards';

export type User = components['schemas']['UserResponse'];
export type SessionResponse = components['schemas']['SessionResponse'];

type SessionListener = (user: User | null) => void;
type Message = { type: 'session'; access: string; user: User } | { type: 'logout' } | { type: 'refreshing' };

const CHANNEL = 'authenticon-session';
const LOCK = 'authenticon-refresh';

let accessToken: string | null = null;
let currentUser: User | null = null;
let refreshing: Promise<boolean> | null = null;
/** Set when another tab announced a refresh whose outcome has not arrived yet. */
let peerRefreshing = false;
const listeners = new Set<SessionListener>();

const channel: BroadcastChannel | null =
  typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(CHANNEL);

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
    channel.postMessage((access && user ? { type: 'session', access, user } : { type: 'logout' }) satisfies Message);
  }
  for (const l of listeners) l(user);
}

/** The token to send as `Authorization: Bearer`, or null when signed out. */
export function getAccessToken(): string | null {
  return accessToken;
}

export function getUser(): User | null {
  return currentUser;
}

/** Calls `listener` with the user (or null) on every change, from this tab or another. */
export function onSessionChange(listener: SessionListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Takes the session a login answered with, and tells the other tabs. */
export function startSession(session: SessionResponse): User {
  setSession(session.access, session.user, true);
  return session.user;
}

/** Replaces the cached user (after a profile change) and tells the other tabs. */
export function updateUser(user: User): void {
  if (accessToken) setSession(accessToken, user, true);
}

/** After "log out everywhere": the server already revoked everything; every tab follows. */
export function forgetSession(): void {
  setSession(null, null, true);
}

/** Logs this browser out; every tab follows. */
export async function logout(): Promise<void> {
  try {
    await fetch('/api/session/logout/', { method: 'POST', credentials: 'same-origin' });
  } finally {
    setSession(null, null, true);
  }
}

/** For tests: forget everything. */
export function resetForTests(): void {
  accessToken = null;
  currentUser = null;
  refreshing = null;
  peerRefreshing = false;
  setMfaEnrollmentRequired(false);
}

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
  const free = (await locks.request(LOCK, { ifAvailable: true }, async (lock) =>
    lock ? { value: await fn(false) } : null)) as { value: T } | null;
  if (free) return free.value;
  return locks.request(LOCK, () => fn(true)) as Promise<T>;
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
