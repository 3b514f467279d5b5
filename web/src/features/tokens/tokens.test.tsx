import { describe, expect, it, vi } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeServer, json, renderPage, signedInEachTest, userFixture } from '../../test-utils';
import { TokensPage } from './TokensPage';
import { UserTokens } from './UserTokens';
import { isExpired, type PersonalToken } from './api';

const token = (over: Partial<PersonalToken> = {}): PersonalToken => ({
  id: 't1', name: 'nightly export', prefix: 'atn_Ab3x', permissions: ['reports.view'], created: '2026-12-01T10:00:00Z',
  expires: '2099-01-01T00:00:00Z', last_used: null, last_used_ip: '', ...over,
});

describe('TokensPage', () => {
  signedInEachTest(userFixture({ permissions: ['audit.view', 'reports.view'] }));

  it('makes a token with the chosen permissions and lifetime, and shows it once', async () => {
    let list: PersonalToken[] = [];
    const calls = fakeServer({
      'GET /api/me/tokens/': () => json(200, list),
      'POST /api/me/tokens/': () => {
        list = [token()];
        return json(201, { ...token(), token: 'atn_' + 'x'.repeat(38) });
      },
    });
    renderPage(<TokensPage />, { route: '/tokens', auth: true });
    expect(await screen.findByText('No tokens yet.')).toBeTruthy();
    await userEvent.type(screen.getByLabelText('Name'), 'nightly export');
    await userEvent.selectOptions(screen.getByLabelText('Expires after'), '90');
    await userEvent.click(screen.getByRole('checkbox', { name: 'reports.view' }));
    await userEvent.click(screen.getByRole('button', { name: 'Create token' }));
    expect((await screen.findByTestId('new-token')).textContent).toBe('atn_' + 'x'.repeat(38));
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'nightly export', permissions: ['reports.view'], expires_in: 90 * 86_400 });
    // Listed without the secret; the form comes back once it is saved.
    const row = within(await screen.findByTestId('tokens'));
    expect(row.getByText(/atn_Ab3x…/)).toBeTruthy();
    expect(row.getByText(/never used/)).toBeTruthy();
    await userEvent.click(screen.getByRole('checkbox', { name: 'I have saved this token somewhere safe' }));
    await userEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(screen.queryByTestId('new-token')).toBeNull();
    expect(screen.getByRole('button', { name: 'Create token' })).toBeTruthy();
  });

  it('shows the server\'s field errors', async () => {
    fakeServer({
      'GET /api/me/tokens/': () => json(200, []),
      'POST /api/me/tokens/': () => json(400, { expires_in: ['Ensure this value is less than or equal to 2592000.'] }),
    });
    renderPage(<TokensPage />, { route: '/tokens', auth: true });
    await userEvent.type(await screen.findByLabelText('Name'), 'ci');
    await userEvent.selectOptions(screen.getByLabelText('Expires after'), '365');
    await userEvent.click(screen.getByRole('button', { name: 'Create token' }));
    expect(await screen.findByText('Ensure this value is less than or equal to 2592000.')).toBeTruthy();
    expect(screen.queryByTestId('new-token')).toBeNull();
  });

  it('revokes a token after asking, and marks expired ones', async () => {
    let list = [token(), token({ id: 't2', name: 'old', expires: '2020-01-01T00:00:00Z', last_used: '2019-12-31T10:00:00Z', last_used_ip: '203.0.113.5' })];
    const calls = fakeServer({
      'GET /api/me/tokens/': () => json(200, list),
      'DELETE /api/me/tokens/t1/': () => {
        list = list.filter((t) => t.id !== 't1');
        return new Response(null, { status: 204 });
      },
    });
    renderPage(<TokensPage />, { route: '/tokens', auth: true });
    expect(await screen.findByText('expired')).toBeTruthy();
    expect(screen.getByText(/from 203\.0\.113\.5/)).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Revoke nightly export' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Revoke' }));
    expect(await screen.findByText('“nightly export” is revoked: it stops working at once.')).toBeTruthy();
    expect(calls.some((c) => c.method === 'DELETE' && c.url === '/api/me/tokens/t1/')).toBe(true);
    await vi.waitFor(() => expect(screen.queryByRole('button', { name: 'Revoke nightly export' })).toBeNull());
  });
});

describe('UserTokens (admin console)', () => {
  signedInEachTest(userFixture({ is_superuser: true }));

  it('lists a user\'s tokens and lets a manager revoke one', async () => {
    const calls = fakeServer({
      'GET /api/users/u2/tokens/': () => json(200, [token()]),
      'DELETE /api/users/u2/tokens/t1/': () => new Response(null, { status: 204 }),
    });
    renderPage(<UserTokens userId="u2" username="bob" canManage />);
    expect(await screen.findByText('nightly export')).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Revoke nightly export' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Revoke' }));
    expect(await screen.findByText('“nightly export” is revoked.')).toBeTruthy();
    expect(calls.some((c) => c.method === 'DELETE' && c.url === '/api/users/u2/tokens/t1/')).toBe(true);
  });

  it('revokes every token of a user after asking', async () => {
    let list = [token(), token({ id: 't2', name: 'second' })];
    const calls = fakeServer({
      'GET /api/users/u2/tokens/': () => json(200, list),
      'POST /api/users/u2/tokens/revoke-all/': () => {
        list = [];
        return new Response(null, { status: 204 });
      },
    });
    renderPage(<UserTokens userId="u2" username="bob" canManage />);
    await userEvent.click(await screen.findByRole('button', { name: 'Revoke all tokens…' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Revoke all' }));
    expect(await screen.findByText('Every token of bob is revoked.')).toBeTruthy();
    expect(calls.some((c) => c.method === 'POST' && c.url === '/api/users/u2/tokens/revoke-all/')).toBe(true);
    expect(await screen.findByText('None.')).toBeTruthy();
  });

  it('shows no revoke button to a viewer', async () => {
    fakeServer({ 'GET /api/users/u2/tokens/': () => json(200, [token()]) });
    renderPage(<UserTokens userId="u2" username="bob" canManage={false} />);
    expect(await screen.findByText('nightly export')).toBeTruthy();
    expect(screen.queryByRole('button', { name: /Revoke/ })).toBeNull();
  });
});

describe('isExpired', () => {
  it('is true from the expiry on, never for a token without one', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(isExpired(token({ expires: '2030-01-01T00:00:00Z' }), now)).toBe(true);
    expect(isExpired(token({ expires: '2030-01-01T00:00:01Z' }), now)).toBe(false);
    expect(isExpired(token({ expires: null }), now)).toBe(false);
  });
});
