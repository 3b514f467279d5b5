// The signed-in session of this tab. The access token lives only in this module's
// memory; the refresh token only in the HttpOnly cookie the server sets on
// /api/session/ (script never sees it). A refresh is single-flight within the tab and
// serialised across tabs with a Web Lock; tabs share the new access token and logouts
// over a BroadcastChannel.

import type { components } from './schema';
import { ApiError } from './errors';
import { setMfaEnrollmentRequired } from './guards';

export type User = components['schemas']['UserResponse'];
export type SessionResponse = components['schemas']['SessionResponse'];

/**
 * Why there is no session any more: `expired` when the server stopped taking it (it ran
 * out, or was revoked elsewhere) while someone was signed in here; `signed-out` when this
 * tab or another logged out. `null` while signed in, or when nobody was.
 */
export type EndReason = 'expired' | 'signed-out' | null;

type SessionListener = (user: User | null, reason: EndReason) => void;
type Message = { type: 'session'; access: string; user: User } | { type: 'logout' } | { type: 'refreshing' };

const CHANNEL = 'authenticon-session';
const LOCK = 'authenticon-refresh';

let accessToken: string | null = null;
let currentUser: User | null = null;
let endReason: EndReason = null;
/** Who was signed in when the session expired: the sign-in form offers their name again. */
let expiredUser: User | null = null;
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
  if (m.type === 'logout') setSession(null, null, false, 'signed-out');
});

function setSession(access: string | null, user: User | null, broadcast: boolean, reason: EndReason = null): void {
  peerRefreshing = false;
  if (!user) setMfaEnrollmentRequired(false);
  if (user) {
    endReason = null;
    expiredUser = null;
  } else if (reason) {
    if (reason === 'expired') expiredUser = currentUser ?? expiredUser;
    else expiredUser = null;
    endReason = reason;
  }
  accessToken = access;
  currentUser = user;
  if (broadcast && channel) {
    channel.postMessage((access && user ? { type: 'session', access, user } : { type: 'logout' }) satisfies Message);
  }
  for (const l of listeners) l(user, user ? null : endReason);
}

/** The token to send as `Authorization: Bearer`, or null when signed out. */
export function getAccessToken(): string | null {
  return accessToken;
}

export function getUser(): User | null {
  return currentUser;
}

/** Why the last session ended (see `EndReason`); null while signed in. */
export function getEndReason(): EndReason {
  return currentUser ? null : endReason;
}

/** The username of the session that expired here, to offer it again; null otherwise. */
export function getExpiredUsername(): string | null {
  return !currentUser && endReason === 'expired' ? (expiredUser?.username ?? null) : null;
}

/** Calls `listener` with the user (or null, and why) on every change, from this tab or another. */
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
  setSession(null, null, true, 'signed-out');
}

// A logout the server has not heard of yet.
//
// Logging out ends the session here at once; the server is told with a POST that clears
// the HttpOnly refresh cookie and revokes its session. When that POST cannot reach the
// server, the cookie stays, and without more care the next page load would refresh from
// it and sign the person back in. So the browser keeps a marker, "a logout is owed", and
// settles it before any other request (the refresh on load included), in every tab.
//
// The marker is not auth state: it holds no token, no user, nothing the server would
// accept; it can only make this browser send one more logout. Script that could forge it
// could call the logout endpoint itself; script that removes it gains nothing the cookie
// did not give it already. It lives in localStorage, not sessionStorage, because the
// cookie is shared by every tab and outlives this one: another tab, or a tab opened
// after this one closed, must settle the logout before refreshing too. And a sign-in
// from another tab settles it first, so it never ends a newer session.
const LOGOUT_PENDING = 'authenticon.logout-pending';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage disabled: the logout is then only as good as its one POST
  }
}

/** Whether a logout is still owed to the server. */
export function logoutPending(): boolean {
  return storage()?.getItem(LOGOUT_PENDING) === '1';
}

const pendingListeners = new Set<() => void>();

function setLogoutPending(pending: boolean): void {
  if (pending) storage()?.setItem(LOGOUT_PENDING, '1');
  else storage()?.removeItem(LOGOUT_PENDING);
  for (const l of pendingListeners) l();
}

/** Calls `listener` when a logout becomes owed or is settled (here or in another tab). */
export function onLogoutPendingChange(listener: () => void): () => void {
  pendingListeners.add(listener);
  const fromOtherTab = (e: StorageEvent) => {
    if (e.key === LOGOUT_PENDING || e.key === null) listener();
  };
  if (typeof window !== 'undefined') window.addEventListener('storage', fromOtherTab);
  return () => {
    pendingListeners.delete(listener);
    if (typeof window !== 'undefined') window.removeEventListener('storage', fromOtherTab);
  };
}

let settling: Promise<void> | null = null;

/** Tells the server about the logout: throws (and stays owed) when it cannot be reached or fails. */
async function tellServerLoggedOut(): Promise<void> {
  // Bounded: a server that hangs must not keep the person signed in here.
  const res = await fetch('/api/session/logout/', { method: 'POST', credentials: 'same-origin', signal: AbortSignal.timeout(10_000) });
  // The service answers 204 whether or not there was a session left to end. Anything
  // else came from something in between (a proxy, a captive portal, a firewall's 403 or
  // 429) or is a fault: the cookie's session may still be live, so the logout stays owed.
  if (!res.ok) throw new ApiError(res.status, null);
}

/**
 * Settles an owed logout before anything else talks to the server; does nothing when
 * none is owed. Rejects, leaving it owed, while the server cannot be reached.
 */
export function settlePendingLogout(): Promise<void> {
  if (!logoutPending()) return Promise.resolve();
  if (!settling) {
    settling = tellServerLoggedOut()
      .then(() => setLogoutPending(false))
      .finally(() => {
        settling = null;
      });
  }
  return settling;
}

/**
 * Logs this browser out; every tab follows. Resolves whether the server was told; when
 * not, the logout stays owed (see above) and is settled at the next contact.
 */
export async function logout(): Promise<{ serverTold: boolean }> {
  let serverTold = false;
  try {
    setLogoutPending(true);
    await settlePendingLogout();
    serverTold = true;
  } catch {
    serverTold = false;
  } finally {
    setSession(null, null, true, 'signed-out');
  }
  return { serverTold };
}

/** For tests: forget everything. */
export function resetForTests(): void {
  accessToken = null;
  currentUser = null;
  endReason = null;
  expiredUser = null;
  refreshing = null;
  settling = null;
  peerRefreshing = false;
  storage()?.removeItem(LOGOUT_PENDING);
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
      // A logout this browser owes the server comes first: refreshing from the cookie it
      // was meant to end would sign the person back in.
      // Still owed (the server cannot be reached): signed out here all the same.
      if (logoutPending()) {
        await settlePendingLogout().catch(() => undefined);
        if (currentUser) setSession(null, null, false, 'signed-out');
        return false;
      }
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
      // The server is failing or busy: the session may well be fine; say so to the caller
      // instead of signing the person out.
      if (res.status >= 500 || res.status === 429) throw new ApiError(res.status, null, res.headers.get('Retry-After'));
      if (!res.ok) {
        // Someone signed in here lost the session mid-work; nobody signed in just has none.
        setSession(null, null, false, currentUser ? 'expired' : null);
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
