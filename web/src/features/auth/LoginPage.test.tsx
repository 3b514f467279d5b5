import { describe, expect, it, vi } from 'vitest';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { startSession } from '../../lib/api/session';
import { json, renderRoutes, signedInEachTest, userFixture } from '../../test-utils';
import { LoginPage, SIGN_IN_AGAIN } from './LoginPage';

const alice = userFixture();

const open = (route: string) => renderRoutes({ '/login': <LoginPage /> }, { route, auth: true });

signedInEachTest(null);

describe('signing in for an application', () => {
  it('sends someone signed in straight on, unless a fresh sign-in is asked for', async () => {
    startSession({ access: 'a', user: alice });
    open('/login?next=%2Fauthorize%3Frequest%3Dh1');
    const where = await screen.findByTestId('where');
    expect([where.textContent, where.dataset.state]).toEqual(['/authorize?request=h1', 'null']);
  });

  it('shows the form to someone signed in with ?reauth=1, offers their name, and returns saying so', async () => {
    startSession({ access: 'a', user: alice });
    vi.stubGlobal('fetch', vi.fn(async (url: string) =>
      url === '/api/session/login/' ? json(200, { access: 'b', user: alice }) : json(404, {})));
    open('/login?next=%2Fauthorize%3Frequest%3Dh1&reauth=1');
    expect(screen.getByText(SIGN_IN_AGAIN)).toBeTruthy();
    expect((screen.getByLabelText('Username') as HTMLInputElement).value).toBe('alice');
    await userEvent.type(screen.getByLabelText('Password'), 'a long passphrase');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    const where = await screen.findByTestId('where');
    expect([where.textContent, where.dataset.state]).toEqual(['/authorize?request=h1', '{"signedIn":true}']);
  });

  it('offers the name an application hints at', () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(401, {})));
    open('/login?next=%2Fauthorize%3Frequest%3Dh1&login_hint=bob');
    expect((screen.getByLabelText('Username') as HTMLInputElement).value).toBe('bob');
  });
});
