// Where to go after signing in: `/login?next=/sessions` returns to /sessions, as Django's
// `?next=` does. Only a path of this site is followed: `next` comes from a URL anyone can
// send, and following `//evil.example` or `https://evil.example` would make the sign-in
// page an open redirect (a phishing page that looks like it came from here).

const BASE = 'https://authenticon.invalid';

/** Paths that make no sense to return to after signing in. */
const NOT_AFTER_LOGIN = ['/login', '/signup', '/logout', '/signed-out'];

/**
 * `next` as a same-origin path ("/users?page=2#x"), or null when it is missing or could
 * lead anywhere else: a scheme (`http:`, `javascript:`), a host (`//evil`, `/\evil`),
 * control characters or spaces browsers would strip, or a sign-in page itself.
 */
export function safeNextPath(next: string | null | undefined): string | null {
  if (!next) return null;
  // Browsers drop tabs and newlines from URLs ("/\t/evil" is "//evil") and treat "\" as
  // "/": refuse rather than guess.
  if (/[\u0000-\u0020\u007f-\u009f\\]/.test(next)) return null;
  if (!next.startsWith('/') || next.startsWith('//')) return null;
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return null;
  }
  if (url.origin !== BASE) return null;
  const path = `${url.pathname}${url.search}${url.hash}`;
  if (NOT_AFTER_LOGIN.some((p) => url.pathname === p || url.pathname.startsWith(`${p}/`))) return null;
  return path.startsWith('//') ? null : path;
}

interface LoginOptions {
  /** Show the form even to someone signed in: an application wants a fresh sign-in. */
  reauth?: boolean;
  /** The username to offer (an application's `login_hint`). */
  username?: string | null;
}

/** The sign-in page's address that returns to `path` afterwards (none for the dashboard). */
export function loginPathFor(path: string, { reauth = false, username }: LoginOptions = {}): string {
  const next = safeNextPath(path);
  const query = new URLSearchParams();
  if (next && next !== '/') query.set('next', next);
  if (reauth) query.set('reauth', '1');
  if (username) query.set('login_hint', username);
  const qs = query.toString();
  return qs ? `/login?${qs}` : '/login';
}

/**
 * The router state of the page the sign-in page returns to: a sign-in just happened, so a
 * page that sent the user there can tell "asked again" from "not asked yet".
 */
export type AfterSignIn = { signedIn: true };

export function justSignedIn(state: unknown): boolean {
  return (state as Partial<AfterSignIn> | null)?.signedIn === true;
}
