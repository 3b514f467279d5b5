import { beforeEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { startSession } from '../../lib/api/session';
import { fakeServer, json, renderRoutes, signedInEachTest, userFixture, type Call } from '../../test-utils';
import { AuthorizePage } from './AuthorizePage';
import { goToApplication } from './leave';

vi.mock('./leave', () => ({ goToApplication: vi.fn() }));

const alice = userFixture();
const view = {
  client_id: 'c1', client_name: 'Wiki', redirect_host: 'wiki.example.com', prompt: '', login_hint: null, login_required: false, consent_required: true,
  scopes: [{ scope: 'openid', description: 'Know who you are (your account’s id)' }, { scope: 'email', description: 'See your email address' }],
};
const REQUEST = '/api/oauth/requests/h1/';

let calls: Call[];
const serve = (answers: Parameters<typeof fakeServer>[0]) => {
  calls = fakeServer(answers, () => json(401, { detail: 'Authentication credentials were not provided.' }));
};

const open = (route = '/authorize?request=h1') =>
  renderRoutes({ '/authorize': <AuthorizePage /> }, { route, auth: true, strict: true });

signedInEachTest(null);
beforeEach(() => vi.mocked(goToApplication).mockClear());

describe('the authorize page', () => {
  it('shows what the application asks for; Allow answers once and leaves for the application', async () => {
    startSession({ access: 'a', user: alice });
    serve({
      [`GET ${REQUEST}`]: () => json(200, view),
      [`POST ${REQUEST}`]: () => json(200, { redirect_to: 'https://wiki.example/cb?code=x&state=s' }),
    });
    open();
    expect(await screen.findByRole('heading', { level: 1, name: 'Sign in to Wiki' })).toBeTruthy();
    expect(screen.getByTestId('consent-scopes').textContent).toContain('See your email address');
    expect(screen.getByTestId('consent-destination').textContent).toBe('You will be sent back to wiki.example.com.');
    expect(screen.getByText('alice')).toBeTruthy();
    expect(calls[0]?.auth).toBe('Bearer a');
    await userEvent.click(screen.getByRole('button', { name: 'Allow' }));
    await waitFor(() => expect(goToApplication).toHaveBeenCalledWith('https://wiki.example/cb?code=x&state=s'));
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.body)).toEqual([{ decision: 'allow' }]);
    expect(screen.getByRole('status').textContent).toBe('Returning to Wiki…');
  });

  it('answers prompt=none at once, without a word, signed in or not', async () => {
    serve({
      'POST /api/session/refresh/': () => json(401, { detail: 'No cookie' }),
      [`GET ${REQUEST}`]: () => json(200, { ...view, prompt: 'none', login_required: true }),
      [`POST ${REQUEST}`]: () => json(200, { redirect_to: 'https://wiki.example/cb?error=login_required' }),
    });
    open();
    await waitFor(() => expect(goToApplication).toHaveBeenCalledTimes(1));
    expect(goToApplication).toHaveBeenCalledWith('https://wiki.example/cb?error=login_required');
    const posts = calls.filter((c) => c.method === 'POST' && c.url === REQUEST);
    expect(posts).toEqual([{ url: REQUEST, method: 'POST', body: { decision: 'silent' }, auth: null }]);
    expect(screen.queryByRole('button', { name: 'Allow' })).toBeNull();
  });

  it('allows at once what was consented to before', async () => {
    startSession({ access: 'a', user: alice });
    serve({
      [`GET ${REQUEST}`]: () => json(200, { ...view, consent_required: false }),
      [`POST ${REQUEST}`]: () => json(200, { redirect_to: 'https://wiki.example/cb?code=y' }),
    });
    open();
    await waitFor(() => expect(goToApplication).toHaveBeenCalledTimes(1));
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ decision: 'allow' });
  });

  it('sends someone signed out to sign in, offering the hinted name', async () => {
    serve({
      'POST /api/session/refresh/': () => json(401, { detail: 'No cookie' }),
      [`GET ${REQUEST}`]: () => json(200, { ...view, login_required: true, login_hint: 'alice' }),
    });
    open();
    expect((await screen.findByTestId('where')).textContent)
      .toBe('/login?next=%2Fauthorize%3Frequest%3Dh1&login_hint=alice');
  });

  it('asks someone signed in to sign in again when the application wants a fresh sign-in', async () => {
    startSession({ access: 'a', user: alice });
    serve({ [`GET ${REQUEST}`]: () => json(200, { ...view, prompt: 'login', login_required: true }) });
    open();
    expect((await screen.findByTestId('where')).textContent).toBe('/login?next=%2Fauthorize%3Frequest%3Dh1&reauth=1');
  });

  it('says when the request expired or was answered', async () => {
    startSession({ access: 'a', user: alice });
    serve({ [`GET ${REQUEST}`]: () => json(404, { detail: 'This sign-in request has expired or was already answered.' }) });
    open();
    expect((await screen.findByTestId('request-gone')).textContent).toContain('Go back to the application and try again.');
  });

  it('explains a second factor is needed first, and links to set one up', async () => {
    startSession({ access: 'a', user: alice });
    serve({
      [`GET ${REQUEST}`]: () => json(200, view),
      [`POST ${REQUEST}`]: () => json(403, { detail: 'Set up two-factor authentication first.', code: 'mfa_enrollment_required' }),
    });
    open();
    await userEvent.click(await screen.findByRole('button', { name: 'Allow' }));
    expect((await screen.findByRole('link', { name: 'Set up two-factor authentication' })).getAttribute('href')).toBe('/two-factor');
    expect(goToApplication).not.toHaveBeenCalled();
  });

  it('keeps the consent screen when the server cannot be reached, and Deny goes through after', async () => {
    startSession({ access: 'a', user: alice });
    let down = true;
    serve({
      [`GET ${REQUEST}`]: () => json(200, view),
      [`POST ${REQUEST}`]: () => {
        if (down) throw new TypeError('Failed to fetch');
        return json(200, { redirect_to: 'https://wiki.example/cb?error=access_denied' });
      },
    });
    open();
    await userEvent.click(await screen.findByRole('button', { name: 'Deny' }));
    expect((await screen.findByRole('alert')).textContent).toBe('The server could not be reached. Try again.');
    down = false;
    await userEvent.click(screen.getByRole('button', { name: 'Deny' }));
    await waitFor(() => expect(goToApplication).toHaveBeenCalledWith('https://wiki.example/cb?error=access_denied'));
  });

  it('"Not you?" signs out and goes to sign in, to come back here', async () => {
    startSession({ access: 'a', user: alice });
    serve({
      [`GET ${REQUEST}`]: () => json(200, view),
      'POST /api/session/logout/': () => new Response(null, { status: 204 }),
    });
    open();
    await userEvent.click(await screen.findByRole('button', { name: 'Not you?' }));
    expect((await screen.findByTestId('where')).textContent).toBe('/login?next=%2Fauthorize%3Frequest%3Dh1');
    expect(calls.some((c) => c.url === '/api/session/logout/')).toBe(true);
  });
});
