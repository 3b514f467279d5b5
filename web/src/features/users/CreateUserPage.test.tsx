import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router';
import { resetForTests, startSession } from '../../lib/api/session';
import { json, renderPage, userFixture } from '../../test-utils';
import { createBody, CreateUserPage } from './CreateUserPage';

const admin = userFixture({ id: 'me', username: 'root', permissions: ['users.view', 'users.manage', 'roles.view'] });

beforeEach(() => {
  resetForTests();
  startSession({ access: 'a', user: admin });
});
afterEach(() => vi.unstubAllGlobals());

describe('createBody', () => {
  it('sends a password, or an invitation and no password', () => {
    const form = { username: ' bob ', email: '', password: 'pw', roles: [] };
    expect(createBody({ ...form, mode: 'password' })).toEqual({ username: 'bob', password: 'pw', roles: [] });
    expect(createBody({ ...form, email: 'b@x.org', mode: 'invite' }))
      .toEqual({ username: 'bob', email: 'b@x.org', send_invitation: true, roles: [] });
  });
});

describe('CreateUserPage', () => {
  it('shows the server’s field errors under their fields', async () => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      if (url === '/api/roles/') return json(200, []);
      return json(400, { username: ['A user with that username already exists.'], email: ['Enter a valid email address.'] });
    }));
    renderPage(<CreateUserPage />, { route: '/users/new', auth: true });
    await userEvent.type(screen.getByLabelText('Username'), 'root');
    await userEvent.type(screen.getByLabelText('Email'), 'nope');
    await userEvent.click(screen.getByRole('radio', { name: /invitation/ }));
    expect(screen.queryByLabelText('Password')).toBeNull();
    await userEvent.click(screen.getByRole('button', { name: 'Create and invite' }));

    await screen.findByText('A user with that username already exists.');
    expect(screen.getByLabelText('Username').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByLabelText('Email').getAttribute('aria-invalid')).toBe('true');
  });

  it('asks before giving roles, then opens the new user', async () => {
    const bodies: unknown[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/api/roles/') return json(200, [{ name: 'editor', description: '', permissions: ['articles.edit'], holders: 0 }]);
      bodies.push(JSON.parse(String(init?.body)));
      return json(201, userFixture({ id: 'new-id', username: 'bob', roles: ['editor'] }));
    }));
    renderPage(
      <Routes>
        <Route path="/users/new" element={<CreateUserPage />} />
        <Route path="/users/:id" element={<p>user page</p>} />
      </Routes>, { route: '/users/new', auth: true });
    await userEvent.type(screen.getByLabelText('Username'), 'bob');
    await userEvent.type(screen.getByLabelText('Password'), 'a long passphrase');
    await userEvent.click(await screen.findByRole('checkbox', { name: /editor/ }));
    await userEvent.click(screen.getByRole('button', { name: 'Create user' }));

    const dialog = await screen.findByRole('alertdialog');
    expect(dialog.textContent).toContain('They will hold: articles.edit.');
    expect(bodies).toEqual([]);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create user' }));
    await screen.findByText('user page');
    expect(bodies).toEqual([{ username: 'bob', password: 'a long passphrase', roles: ['editor'] }]);
  });
});
