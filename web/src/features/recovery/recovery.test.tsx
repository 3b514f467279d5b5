import { describe, expect, it, vi, afterEach } from 'vitest';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { json, renderPage } from '../../test-utils';
import { ResetPasswordPage } from './ResetPasswordPage';
import { VerifyEmailPage } from './VerifyEmailPage';

afterEach(() => vi.unstubAllGlobals());

const dead = () => json(400, { token: ['This link is invalid or has expired.'] });

describe('ResetPasswordPage', () => {
  it('asks whether the link works before showing the form; a dead link offers a new one', async () => {
    const fetch = vi.fn(async () => dead());
    vi.stubGlobal('fetch', fetch);
    renderPage(<ResetPasswordPage />, { route: '/reset-password?token=abc.def' });
    expect(await screen.findByText(/This link is invalid or has expired\. Links work once/)).toBeTruthy();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('This link no longer works');
    expect(screen.queryByLabelText('Password')).toBeNull();
    expect(screen.getByRole('link', { name: 'Ask for a new link' }).getAttribute('href')).toBe('/forgot-password');
    expect(fetch).toHaveBeenCalledWith('/api/password-reset/check/', expect.objectContaining({
      method: 'POST', body: JSON.stringify({ token: 'abc.def' }),
    }));
  });

  it('checks the rules and that the two passwords agree before saving, then says it is done', async () => {
    const fetch = vi.fn(async (url: string) => url.endsWith('/check/') ? json(200, { detail: 'This link is valid.' }) : new Response(null, { status: 204 }));
    vi.stubGlobal('fetch', fetch);
    renderPage(<ResetPasswordPage />, { route: '/reset-password?token=abc.def' });
    expect(screen.getByRole('heading', { name: 'Choose a password' })).toBeTruthy();
    await userEvent.type(await screen.findByLabelText('Password'), 'short');
    await userEvent.type(screen.getByLabelText('Password again'), 'short');
    await userEvent.click(screen.getByRole('button', { name: 'Save password' }));
    expect(screen.getByText('This password is too short. It must contain at least 8 characters.')).toBeTruthy();

    await userEvent.clear(screen.getByLabelText('Password'));
    await userEvent.type(screen.getByLabelText('Password'), 'a long passphrase');
    await userEvent.clear(screen.getByLabelText('Password again'));
    await userEvent.type(screen.getByLabelText('Password again'), 'a long passphrasX');
    await userEvent.click(screen.getByRole('button', { name: 'Save password' }));
    expect(screen.getByText('The two passwords differ.')).toBeTruthy();
    expect(fetch).toHaveBeenCalledTimes(1);

    await userEvent.clear(screen.getByLabelText('Password again'));
    await userEvent.type(screen.getByLabelText('Password again'), 'a long passphrase');
    await userEvent.click(screen.getByRole('button', { name: 'Save password' }));
    expect(await screen.findByText(/Your password is saved/)).toBeTruthy();
    expect(fetch).toHaveBeenLastCalledWith('/api/password-reset/confirm/', expect.objectContaining({
      body: JSON.stringify({ token: 'abc.def', new_password: 'a long passphrase' }),
    }));
  });

  it('shows the dead-link page when the link dies while the form is open', async () => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) => url.endsWith('/check/') ? json(200, { detail: 'This link is valid.' }) : dead()));
    renderPage(<ResetPasswordPage />, { route: '/reset-password?token=abc.def' });
    await userEvent.type(await screen.findByLabelText('Password'), 'a long passphrase');
    await userEvent.type(screen.getByLabelText('Password again'), 'a long passphrase');
    await userEvent.click(screen.getByRole('button', { name: 'Save password' }));
    expect(await screen.findByRole('link', { name: 'Ask for a new link' })).toBeTruthy();
  });

  it('offers to try again when the check could not reach the server', async () => {
    let down = true;
    vi.stubGlobal('fetch', vi.fn(async () => {
      if (down) throw new TypeError('Failed to fetch');
      return json(200, { detail: 'This link is valid.' });
    }));
    renderPage(<ResetPasswordPage />, { route: '/reset-password?token=abc.def' });
    await userEvent.click(await screen.findByRole('button', { name: 'Try again' }));
    down = false;
    await userEvent.click(await screen.findByRole('button', { name: 'Try again' }));
    expect(await screen.findByLabelText('Password')).toBeTruthy();
  });

  it('says the page needs its link when it has none', () => {
    vi.stubGlobal('fetch', vi.fn());
    renderPage(<ResetPasswordPage />, { route: '/reset-password' });
    expect(screen.getByText('This page needs the link from your mail.')).toBeTruthy();
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
