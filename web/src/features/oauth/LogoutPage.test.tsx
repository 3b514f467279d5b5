import { describe, expect, it, vi } from 'vitest';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { getUser, startSession } from '../../lib/api/session';
import { SIGNED_OUT_UNTOLD } from '../../lib/auth';
import { json, renderRoutes, signedInEachTest, userFixture } from '../../test-utils';
import { LogoutPage } from './LogoutPage';
import { SignedOutPage } from './SignedOutPage';

const open = (route: string) =>
  renderRoutes({ '/logout': <LogoutPage />, '/signed-out': <SignedOutPage /> }, { route, auth: true });

signedInEachTest(null);

describe('signing out at an application’s request', () => {
  it('asks first; Sign out ends the session and says so', async () => {
    startSession({ access: 'a', user: userFixture() });
    const logout = vi.fn(async () => new Response(null, { status: 204 }));
    vi.stubGlobal('fetch', logout);
    open('/logout');
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Sign out of Authenticon?');
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect((await screen.findByRole('heading', { level: 1, name: 'You are signed out' }))).toBeTruthy();
    expect(logout).toHaveBeenCalledWith('/api/session/logout/', expect.objectContaining({ method: 'POST' }));
    expect(getUser()).toBeNull();
    expect(screen.getByRole('link', { name: 'Sign in' }).getAttribute('href')).toBe('/login');
  });

  it('Stay signed in goes to the dashboard, still signed in', async () => {
    startSession({ access: 'a', user: userFixture() });
    open('/logout');
    await userEvent.click(screen.getByRole('button', { name: 'Stay signed in' }));
    expect(screen.getByTestId('where').textContent).toBe('/');
    expect(getUser()?.username).toBe('alice');
  });

  it('says the server was not told when it could not be reached', async () => {
    startSession({ access: 'a', user: userFixture() });
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch'); }));
    open('/logout');
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect((await screen.findByRole('alert')).textContent).toBe(SIGNED_OUT_UNTOLD);
  });

  it('sends someone not signed in straight to the signed-out page', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(401, { detail: 'No cookie' })));
    open('/logout');
    expect(await screen.findByRole('heading', { level: 1, name: 'You are signed out' })).toBeTruthy();
  });
});
