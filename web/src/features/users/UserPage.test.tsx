import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router';
import { resetForTests, startSession } from '../../lib/api/session';
import { json, renderPage, userFixture } from '../../test-utils';
import { UserPage } from './UserPage';

const admin = userFixture({ id: 'me', username: 'root', permissions: ['users.view', 'users.manage', 'roles.view', 'audit.view'] });
const alice = userFixture({ id: 'u-alice', username: 'alice', roles: ['viewer'], email: 'alice@example.com', email_verified: true });
const roles = [
  { name: 'viewer', description: 'Reads reports', permissions: ['reports.view'], holders: 1 },
  { name: 'admin', description: '', permissions: ['users.manage', 'users.view'], holders: 1 },
];

type Call = { url: string; method: string; body: unknown };

function serve(routes: Record<string, (c: Call) => Response>) {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
    const call = { url, method: init?.method ?? 'GET', body: init?.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(call);
    const route = routes[`${call.method} ${url}`];
    return route ? route(call) : json(404, { detail: 'Not found.' });
  }));
  return calls;
}

const open = (path: string) =>
  renderPage(<Routes><Route path="/users/:id" element={<UserPage />} /></Routes>, { route: path, auth: true });

beforeEach(() => {
  resetForTests();
  startSession({ access: 'a', user: admin });
});
afterEach(() => vi.unstubAllGlobals());

describe('UserPage', () => {
  it('shows the server’s bounded-delegation refusal when roles are saved', async () => {
    const calls = serve({
      'GET /api/users/u-alice/': () => json(200, alice),
      'GET /api/roles/': () => json(200, roles),
      'PUT /api/users/u-alice/roles/': () => json(403, {
        detail: 'You cannot give the role admin: it holds users.manage, which you do not hold.', code: 'permission_denied',
      }),
    });
    open('/users/u-alice?tab=roles');
    await userEvent.click(await screen.findByRole('checkbox', { name: /admin/ }));
    await userEvent.click(screen.getByRole('button', { name: 'Save roles…' }));

    const dialog = await screen.findByRole('alertdialog');
    expect(dialog.textContent).toContain('Gives: admin');
    expect(dialog.textContent).toContain('New permissions: users.manage, users.view');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save roles' }));

    await screen.findByText('You cannot give the role admin: it holds users.manage, which you do not hold.');
    expect(calls.find((c) => c.method === 'PUT')?.body).toEqual({ roles: ['viewer', 'admin'] });
  });

  it('deactivates only after a confirmation, and Cancel changes nothing', async () => {
    const calls = serve({
      'GET /api/users/u-alice/': () => json(200, alice),
      'PATCH /api/users/u-alice/': () => json(200, { ...alice, is_active: false }),
    });
    open('/users/u-alice');
    await userEvent.click(await screen.findByRole('button', { name: 'Deactivate…' }));
    await userEvent.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(calls.filter((c) => c.method === 'PATCH')).toEqual([]);

    await userEvent.click(screen.getByRole('button', { name: 'Deactivate…' }));
    await userEvent.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Deactivate' }));
    await screen.findByText('alice is deactivated; their sessions have ended.');
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ is_active: false });
  });

  it('ends every session after a confirmation naming how many', async () => {
    const session = (id: string) => ({ id, created: '2026-01-01T00:00:00Z', last_used: '2026-01-02T00:00:00Z', user_agent: 'Firefox', ip: '10.0.0.1', current: false });
    let sessions = [session('s1'), session('s2')];
    const calls = serve({
      'GET /api/users/u-alice/': () => json(200, alice),
      'GET /api/users/u-alice/sessions/': () => json(200, sessions),
      'POST /api/users/u-alice/sessions/revoke-all/': () => { sessions = []; return new Response(null, { status: 204 }); },
    });
    open('/users/u-alice?tab=sessions');
    await userEvent.click(await screen.findByRole('button', { name: 'End all sessions…' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(within(dialog).getByRole('heading').textContent).toBe('End 2 sessions of alice?');
    await userEvent.click(within(dialog).getByRole('button', { name: 'End all sessions' }));
    await screen.findByTestId('no-sessions');
    expect(calls.some((c) => c.method === 'POST' && c.url.endsWith('/revoke-all/'))).toBe(true);
  });

  it('says the server’s reason when a reset link cannot be sent', async () => {
    serve({
      'GET /api/users/u-alice/': () => json(200, alice),
      'GET /api/users/u-alice/security/': () => json(200, {
        totp: false, passkeys: [], recovery_codes_left: 0, totp_locked_until: null, login_failures: 3, login_locked: true,
      }),
      'POST /api/users/u-alice/password-reset/': () => json(400, { detail: 'This user has no verified email address to send a link to.' }),
      'DELETE /api/users/u-alice/lockouts/': () => new Response(null, { status: 204 }),
    });
    open('/users/u-alice?tab=security');
    expect((await screen.findByRole('button', { name: 'Remove all factors…' })).hasAttribute('disabled')).toBe(true);
    await userEvent.click(screen.getByRole('button', { name: 'Send password reset link' }));
    await screen.findByText('This user has no verified email address to send a link to.');
    await userEvent.click(screen.getByRole('button', { name: 'Clear lockout' }));
    await screen.findByText('Lockout cleared.');
  });

  it('pages through the user’s history with readable details', async () => {
    serve({
      'GET /api/users/u-alice/': () => json(200, alice),
      'GET /api/audit/?user=u-alice&page=1': () => json(200, {
        count: 1, next: null, previous: null,
        results: [{ id: 7, time: '2026-01-01T00:00:00Z', event: 'roles_assigned', user_id: 'u-alice', username: 'alice',
          actor_id: 'me', actor_username: 'root', ip: '10.0.0.1', user_agent: '', detail: { before: [], after: ['viewer'] } }],
      }),
    });
    open('/users/u-alice?tab=history');
    const list = await screen.findByTestId('user-history');
    expect(within(list).getByRole('link', { name: 'root' }).getAttribute('href')).toBe('/users/me');
    expect(list.textContent).toContain('Beforenone');
    expect(list.textContent).toContain('Afterviewer');
  });

  it('says so when there is no such user', async () => {
    serve({});
    open('/users/nobody');
    await screen.findByText('There is no user with this id.');
  });
});
