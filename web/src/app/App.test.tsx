import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { json, renderPage, userFixture } from '../test-utils';
import { resetForTests } from '../lib/api/session';
import { clearDrafts } from '../lib/drafts';
import { SESSION_ENDED } from '../features/auth/LoginPage';
import { SIGNED_OUT_UNTOLD } from '../lib/auth';
import { AppRoutes } from './App';
import { Layout } from './Layout';

const alice = userFixture();

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>;
let handler: Handler;
const calls: string[] = [];

beforeEach(() => {
  resetForTests();
  clearDrafts();
  calls.length = 0;
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit = {}) => {
    calls.push(`${init.method ?? 'GET'} ${url}`);
    return handler(url, init);
  }));
  // Passkeys "supported", so the two-factor page shows its passkey form.
  vi.stubGlobal('PublicKeyCredential', class {});
  Object.defineProperty(navigator, 'credentials', { value: {}, configurable: true });
});
afterEach(() => vi.unstubAllGlobals());

/** A server where alice is signed in (the cookie refreshes) and has no factors. */
const signedIn: Handler = (url) => {
  if (url === '/api/session/refresh/') return json(200, { access: 'a', user: alice });
  if (url === '/api/mfa/') return json(200, { totp: false, passkeys: 0, recovery_codes_left: 0 });
  if (url === '/api/mfa/passkeys/') return json(200, []);
  if (url === '/api/me/') return json(200, alice);
  return json(404, {});
};

const app = (route: string) => renderPage(<Layout><AppRoutes /></Layout>, { route, auth: true });

describe('a session that ends mid-work', () => {
  it('sends to /login?next= with a message, offers the name again, and returns with what was typed', async () => {
    handler = signedIn;
    app('/two-factor');
    await userEvent.type(await screen.findByLabelText('Passkey name'), 'Work laptop');
    expect(document.title).toBe('Two-factor authentication · Authenticon');

    // Revoked elsewhere: the access token and the cookie are both refused.
    handler = (url) => json(401, url === '/api/session/refresh/' ? { detail: 'Token is invalid or expired' } : { detail: 'x' });
    await userEvent.click(screen.getByRole('button', { name: 'Add a passkey' }));

    expect(await screen.findByText(SESSION_ENDED)).toBeTruthy();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Sign in');
    expect((screen.getByLabelText('Username') as HTMLInputElement).value).toBe('alice');
    expect(document.activeElement).toBe(screen.getByLabelText('Password'));

    handler = (url) => url === '/api/session/login/' ? json(200, { access: 'b', user: alice }) : signedIn(url, {});
    await userEvent.type(screen.getByLabelText('Password'), 'a long passphrase');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByRole('heading', { name: 'Two-factor authentication' })).toBeTruthy();
    expect((await screen.findByLabelText('Passkey name') as HTMLInputElement).value).toBe('Work laptop');
  });

  it('does not offer another account the drafts', async () => {
    handler = signedIn;
    app('/two-factor');
    await userEvent.type(await screen.findByLabelText('Passkey name'), 'Work laptop');
    handler = () => json(401, {});
    await userEvent.click(screen.getByRole('button', { name: 'Add a passkey' }));
    await screen.findByText(SESSION_ENDED);

    const bob = userFixture({ id: 'u2', username: 'bob' });
    handler = (url) => url === '/api/session/login/' ? json(200, { access: 'b', user: bob }) : signedIn(url, {});
    await userEvent.clear(screen.getByLabelText('Username'));
    await userEvent.type(screen.getByLabelText('Username'), 'bob');
    await userEvent.type(screen.getByLabelText('Password'), 'pw');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByLabelText('Passkey name') as HTMLInputElement).value).toBe('');
  });
});

describe('?next= after signing in', () => {
  const loginThen = async (route: string) => {
    handler = (url) => url === '/api/session/login/' ? json(200, { access: 'a', user: alice })
      : url === '/api/session/refresh/' ? json(401, {}) : signedIn(url, {});
    app(route);
    await userEvent.type(await screen.findByLabelText('Username'), 'alice');
    await userEvent.type(screen.getByLabelText('Password'), 'pw');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
  };

  it('returns to a path of this site', async () => {
    await loginThen('/login?next=%2Fsessions');
    expect(await screen.findByRole('heading', { name: 'My sessions' })).toBeTruthy();
  });

  it('goes to the dashboard instead of another site', async () => {
    await loginThen('/login?next=%2F%2Fevil.example');
    expect(await screen.findByRole('heading', { name: 'Dashboard' })).toBeTruthy();
  });

  it('is where a private page sends someone without a session (without the expiry message)', async () => {
    handler = (url) => url === '/api/session/refresh/' ? json(401, {}) : json(404, {});
    app('/sessions');
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeTruthy();
    expect(screen.queryByText(SESSION_ENDED)).toBeNull();
    expect(screen.getByRole('link', { name: 'Create one' }).getAttribute('href')).toBe('/signup?next=%2Fsessions');
  });
});

describe('signing in', () => {
  it('says a throttled attempt in words', async () => {
    handler = (url) => url === '/api/session/login/'
      ? new Response(JSON.stringify({ detail: 'Request was throttled. Expected available in 894 seconds.' }),
        { status: 429, headers: { 'Content-Type': 'application/json', 'Retry-After': '894' } })
      : json(401, {});
    app('/login');
    await userEvent.type(await screen.findByLabelText('Username'), 'alice');
    await userEvent.type(screen.getByLabelText('Password'), 'pw');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Too many attempts. Try again in 15 minutes.')).toBeTruthy();
    expect(screen.queryByText(/Expected available/)).toBeNull();
  });
});

describe('logging out', () => {
  it('says so when the server could not be told, and keeps the logout owed', async () => {
    handler = signedIn;
    app('/');
    await screen.findByText('Hello, alice.');
    handler = () => { throw new TypeError('Failed to fetch'); };
    await userEvent.click(screen.getByRole('button', { name: 'Log out' }));
    expect(await screen.findByText(SIGNED_OUT_UNTOLD)).toBeTruthy();
    expect(localStorage.getItem('authenticon.logout-pending')).toBe('1');
    expect(screen.queryByRole('navigation', { name: 'Main' })).toBeNull();
  });

  it('offers the admin pages only to holders of their permission', async () => {
    // The same user whichever way the app asks (the dashboard reads /api/me/ too, and
    // whichever answer came last used to decide the menu).
    const holder = userFixture({ permissions: ['audit.view'] });
    handler = (url) => {
      if (url === '/api/session/refresh/') return json(200, { access: 'a', user: holder });
      if (url === '/api/me/') return json(200, holder);
      return signedIn(url, {});
    };
    app('/');
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    expect(await within(nav).findByRole('link', { name: 'Audit log' })).toBeTruthy();
    const links = [...nav.querySelectorAll('a')].map((a) => a.textContent);
    expect(links).not.toContain('Users');
    expect(links).not.toContain('Roles');
  });
});

describe('pages', () => {
  it('name the document, and say when a page does not exist', async () => {
    handler = signedIn;
    app('/nowhere');
    expect(await screen.findByRole('heading', { name: 'Page not found' })).toBeTruthy();
    await waitFor(() => expect(document.title).toBe('Page not found · Authenticon'));
  });

  it('offer to try again when the session cannot be checked', async () => {
    let down = true;
    handler = (url, init) => (down ? Promise.reject(new TypeError('Failed to fetch')) : signedIn(url, init));
    app('/');
    expect(await screen.findByText(/Could not load your session: the server could not be reached/)).toBeTruthy();
    down = false;
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('Hello, alice.')).toBeTruthy();
  });
});
