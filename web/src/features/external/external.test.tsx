import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { json, renderPage, renderRoutes, signedInEachTest, userFixture } from '../../test-utils';
import { LoginPage } from '../auth/LoginPage';
import { LinkedAccountsPage } from './LinkedAccountsPage';

const providers = [{ name: 'github', display_name: 'GitHub', start_url: '/oauth/external/github/start' }];
const alice = userFixture();

afterEach(() => {
  vi.unstubAllGlobals();
  window.history.replaceState(null, '', '/');
});

describe('signing in with an external provider', () => {
  signedInEachTest(null);

  it('offers each provider, coming back to where the user was going', async () => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) => url === '/api/auth/providers/' ? json(200, providers) : json(404, {})));
    renderRoutes({ '/login': <LoginPage /> }, { route: '/login?next=%2Fsessions', auth: true });
    const button = await screen.findByRole('link', { name: 'Continue with GitHub' });
    expect(button.getAttribute('href')).toBe('/oauth/external/github/start?next=%2Fsessions');
  });

  it('takes the second step a provider sign-in left in the fragment, and wipes it', async () => {
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/api/session/mfa/') return json(200, { access: 'a', user: alice, body: init?.body });
      return json(200, []);
    });
    vi.stubGlobal('fetch', fetch);
    window.history.replaceState(null, '', '/login#mfa_token=tok.en&methods=totp,recovery_code&next=%2Fsessions');
    renderRoutes({ '/login': <LoginPage /> }, { route: '/login', auth: true });
    expect(window.location.hash).toBe('');
    await userEvent.type(screen.getByLabelText('Code'), '123456');
    await userEvent.click(screen.getByRole('button', { name: 'Verify' }));
    const where = await screen.findByTestId('where');
    expect(where.textContent).toBe('/sessions');
    const sent = fetch.mock.calls.find(([url]) => url === '/api/session/mfa/')?.[1]?.body;
    expect(JSON.parse(String(sent))).toEqual({ mfa_token: 'tok.en', code: '123456' });
  });

  it('explains an offer to link, without other providers in the way', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(200, providers)));
    renderRoutes({ '/login': <LoginPage /> }, { route: '/login?link=github', auth: true });
    await vi.waitFor(() => expect(screen.getByTestId('login-link-offer').textContent).toContain('Sign in to it to link GitHub'));
    expect(screen.queryByTestId('continue-with')).toBeNull();
  });
});

describe('LinkedAccountsPage', () => {
  it('lists linked accounts, links another after the server says where to go, and unlinks', async () => {
    const identity = { id: 'i1', provider: 'corp', display_name: 'Corp SSO', email: 'ann@corp.example', created: '2026-12-01T10:00:00Z', last_used: null };
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/api/auth/providers/') return json(200, [...providers, { name: 'corp', display_name: 'Corp SSO', start_url: '/x' }]);
      if (url === '/api/me/identities/' && init?.method === 'POST') return json(200, { redirect_to: 'https://github.example/login' });
      if (url === '/api/me/identities/') return json(200, [identity]);
      if (url === '/api/me/identities/i1/') return new Response(null, { status: 204 });
      return json(404, {});
    });
    vi.stubGlobal('fetch', fetch);
    const assign = vi.fn();
    vi.stubGlobal('location', { ...window.location, assign });
    renderPage(<LinkedAccountsPage />, { route: '/linked-accounts?linked=corp' });
    expect(await screen.findByText('Corp SSO is linked: you can sign in with it.')).toBeTruthy();
    expect(screen.getByText(/ann@corp\.example/)).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Link GitHub' }));
    await vi.waitFor(() => expect(assign).toHaveBeenCalledWith('https://github.example/login'));
    const body = fetch.mock.calls.find(([url, init]) => url === '/api/me/identities/' && init?.method === 'POST')?.[1]?.body;
    expect(JSON.parse(String(body))).toEqual({ provider: 'github' });

    await userEvent.click(screen.getByRole('button', { name: 'Unlink Corp SSO' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Unlink' }));
    expect(await screen.findByText('Corp SSO is unlinked.')).toBeTruthy();
  });
});
