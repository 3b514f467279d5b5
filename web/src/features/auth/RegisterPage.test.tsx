import { describe, expect, it, vi, afterEach } from 'vitest';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { json, renderPage } from '../../test-utils';
import { RegisterPage } from './RegisterPage';

afterEach(() => vi.unstubAllGlobals());

describe('RegisterPage', () => {
  it('follows the rules while typing, refuses a short password itself, then shows the server messages', async () => {
    const fetch = vi.fn(async (url: string) => url === '/api/auth/providers/' ? json(200, []) : json(400, {
      username: ['A user with that username already exists.'],
      password: ['This password is too common.'],
    }));
    vi.stubGlobal('fetch', fetch);
    renderPage(<RegisterPage />, { route: '/signup' });
    const password = screen.getByLabelText('Password');
    const rule = (id: string) => document.querySelector(`[data-rule="${id}"]`)?.getAttribute('data-state');
    await userEvent.type(screen.getByLabelText('Username'), 'alice');
    await userEvent.type(password, 'short');
    expect(rule('length')).toBe('failed');
    await userEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(screen.getByText('This password is too short. It must contain at least 8 characters.')).toBeTruthy();
    expect(fetch.mock.calls.filter(([url]) => url !== '/api/auth/providers/')).toEqual([]);

    await userEvent.type(password, 'enough');
    expect(rule('length')).toBe('met');
    await userEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText('A user with that username already exists.')).toBeTruthy();
    expect(screen.getByText('This password is too common.')).toBeTruthy();
    expect(password.getAttribute('aria-invalid')).toBe('true');
  });
});
