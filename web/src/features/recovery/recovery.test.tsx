import { describe, expect, it, vi, afterEach } from 'vitest';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { json, renderPage } from '../../test-utils';
import { ResetPasswordPage } from './ResetPasswordPage';
import { VerifyEmailPage } from './VerifyEmailPage';

afterEach(() => vi.unstubAllGlobals());

describe('ResetPasswordPage', () => {
  it('checks the two passwords agree before asking the server, then shows its verdict', async () => {
    const fetch = vi.fn(async () => json(400, { token: ['This link is invalid or has expired.'] }));
    vi.stubGlobal('fetch', fetch);
    renderPage(<ResetPasswordPage />, { route: '/reset-password?token=abc.def' });
    await userEvent.type(screen.getByLabelText('New password'), 'a long passphrase');
    await userEvent.type(screen.getByLabelText('New password again'), 'a long passphrasX');
    await userEvent.click(screen.getByRole('button', { name: 'Set the new password' }));
    expect(screen.getByText('The two passwords differ.')).toBeTruthy();
    expect(fetch).not.toHaveBeenCalled();

    await userEvent.clear(screen.getByLabelText('New password again'));
    await userEvent.type(screen.getByLabelText('New password again'), 'a long passphrase');
    await userEvent.click(screen.getByRole('button', { name: 'Set the new password' }));
    expect(await screen.findByText('This link is invalid or has expired.')).toBeTruthy();
    expect(fetch).toHaveBeenCalledWith('/api/password-reset/confirm/', expect.objectContaining({
      body: JSON.stringify({ token: 'abc.def', new_password: 'a long passphrase' }),
    }));
  });
});

describe('VerifyEmailPage', () => {
  it('spends the link exactly once, even under StrictMode double effects', async () => {
    const fetch = vi.fn(async () => json(200, { detail: 'Email address verified.' }));
    vi.stubGlobal('fetch', fetch);
    renderPage(<VerifyEmailPage />, { route: '/verify-email?token=t.v', strict: true });
    expect(await screen.findByText('Email address verified.')).toBeTruthy();
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});
