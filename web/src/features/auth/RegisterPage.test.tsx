import { describe, expect, it, vi, afterEach } from 'vitest';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { json, renderPage } from '../../test-utils';
import { RegisterPage } from './RegisterPage';

afterEach(() => vi.unstubAllGlobals());

describe('RegisterPage', () => {
  it('gives live feedback, then shows the server messages under their fields', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(400, {
      username: ['A user with that username already exists.'],
      password: ['This password is too common.'],
    })));
    renderPage(<RegisterPage />, { route: '/signup' });
    const password = screen.getByLabelText('Password');
    await userEvent.type(screen.getByLabelText('Username'), 'alice');
    await userEvent.type(password, 'short');
    expect(screen.getByText('This password is too short. It must contain at least 8 characters.')).toBeTruthy();
    await userEvent.type(password, 'enough');
    await userEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText('A user with that username already exists.')).toBeTruthy();
    expect(screen.getByText('This password is too common.')).toBeTruthy();
    expect(password.getAttribute('aria-invalid')).toBe('true');
  });
});
