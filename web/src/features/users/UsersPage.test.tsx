import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useLocation } from 'react-router';
import { resetForTests, startSession } from '../../lib/api/session';
import { json, renderPage, userFixture } from '../../test-utils';
import { UsersPage } from './UsersPage';

const admin = userFixture({ id: 'me', username: 'root', permissions: ['users.view', 'users.manage'] });
const viewer = userFixture({ id: 'me', username: 'viewer', permissions: ['users.view'] });
const page = (...names: string[]) => ({
  count: names.length, next: null, previous: null,
  results: names.map((n) => userFixture({ id: `id-${n}`, username: n })),
});

function Where() {
  const l = useLocation();
  return <output data-testid="location">{l.pathname + l.search}</output>;
}

type Call = { url: string; method: string; body: unknown };

type Handler = (c: Call) => Response | Promise<Response>;
const ok = (body: unknown): Handler => () => json(200, body);

/** A fetch that answers `routes["METHOD url"]` or `routes[url]`, and records every call. */
function serve(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
    const call = { url, method: init?.method ?? 'GET', body: init?.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(call);
    const key = `${call.method} ${url}`;
    const route = routes[key] ?? routes[url];
    return route ? route(call) : json(404, { detail: 'Not found.' });
  }));
  return calls;
}

beforeEach(() => resetForTests());
afterEach(() => vi.unstubAllGlobals());

describe('UsersPage', () => {
  it('never lets a slow answer to an earlier search replace the newer one', async () => {
    startSession({ access: 'a', user: viewer });
    let answerSlow: () => void = () => {};
    const slowAnswered = new Promise<void>((resolve) => { answerSlow = resolve; });
    serve({
      '/api/users/?page=1': ok(page('root')),
      '/api/users/?page=1&search=al': async () => { await slowAnswered; return json(200, page('albert')); },
      '/api/users/?page=1&search=ali': ok(page('alice')),
    });
    const { queryClient } = renderPage(<UsersPage />, { route: '/users', auth: true });
    await screen.findByText('root');

    const search = screen.getByLabelText('Search');
    await userEvent.type(search, 'al');
    await userEvent.click(screen.getByRole('button', { name: 'Search' }));
    await userEvent.type(search, 'i');
    await userEvent.click(screen.getByRole('button', { name: 'Search' }));
    await screen.findByText('alice');

    // The earlier search answers last: it is kept for its own key, and not shown.
    answerSlow();
    await waitFor(() => expect(queryClient.getQueryData(['users', 'list', { page: 1, search: 'al' }])).toBeDefined());
    expect(screen.getByText('alice')).toBeTruthy();
    expect(screen.queryByText('albert')).toBeNull();
  });

  it('keeps the search, filters, sort and page in the URL, and reads them from it', async () => {
    startSession({ access: 'a', user: viewer });
    const calls = serve({
      '/api/users/?page=2&search=bo&is_active=false': ok({ ...page('bob'), count: 21, previous: 'x' }),
      '/api/users/?page=1&search=bo&is_active=false&has_2fa=true': ok(page('bobby')),
      '/api/users/?page=1&search=bo&ordering=date_joined&is_active=false&has_2fa=true': ok(page('bobby')),
      '/api/users/?page=1&search=bo&ordering=-date_joined&is_active=false&has_2fa=true': ok(page('bobby')),
    });
    renderPage(<><UsersPage /><Where /></>, { route: '/users?search=bo&is_active=false&page=2', auth: true });
    await screen.findByText('bob');
    expect((screen.getByLabelText('Search') as HTMLInputElement).value).toBe('bo');
    expect((screen.getByLabelText('Status') as HTMLSelectElement).value).toBe('false');
    expect(screen.getByText('Page 2 of 2')).toBeTruthy();

    await userEvent.selectOptions(screen.getByLabelText('Two-factor'), 'true');
    await screen.findByText('bobby');
    // A filter starts again from the first page.
    expect(screen.getByTestId('location').textContent).toBe('/users?search=bo&is_active=false&has_2fa=true');

    await userEvent.click(screen.getByRole('columnheader', { name: /Joined/ }));
    await userEvent.click(screen.getByRole('columnheader', { name: /Joined/ }));
    await waitFor(() => expect(screen.getByTestId('location').textContent)
      .toBe('/users?search=bo&ordering=-date_joined&is_active=false&has_2fa=true'));
    expect(calls.map((c) => c.url)).toContain('/api/users/?page=1&search=bo&ordering=-date_joined&is_active=false&has_2fa=true');
  });

  it('offers no one-click privilege change: roles and superuser are text', async () => {
    startSession({ access: 'a', user: admin });
    serve({ '/api/users/?page=1': ok({ ...page('alice'), results: [userFixture({ id: 'a', username: 'alice', roles: ['editor'] })] }) });
    renderPage(<UsersPage />, { route: '/users', auth: true });
    const link = await screen.findByRole('link', { name: 'alice' });
    expect(link.getAttribute('href')).toBe('/users/a');
    const row = link.closest('[role="row"]') as HTMLElement;
    expect(within(row).getAllByRole('checkbox')).toEqual([within(row).getByRole('checkbox', { name: 'Select alice' })]);
    expect(within(row).getByText('editor')).toBeTruthy();
  });

  it('deactivates the selected users after a confirmation naming how many', async () => {
    startSession({ access: 'a', user: admin });
    const patched: string[] = [];
    serve({
      '/api/users/?page=1': ok(page('ann', 'bob', 'cy')),
      'PATCH /api/users/id-ann/': (c) => { patched.push(c.url); return json(200, userFixture()); },
      'PATCH /api/users/id-cy/': (c) => { patched.push(c.url); return json(403, { detail: 'Only a superuser changes a superuser.', code: 'permission_denied' }); },
    });
    renderPage(<UsersPage />, { route: '/users', auth: true });
    await screen.findByText('ann');
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select ann' }));
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select cy' }));
    await userEvent.click(screen.getByRole('button', { name: 'Deactivate…' }));

    const dialog = await screen.findByRole('alertdialog');
    expect(within(dialog).getByRole('heading').textContent).toBe('Deactivate 2 users?');
    expect(patched).toEqual([]);
    // Cancel has the focus: Enter alone changes nothing.
    expect(document.activeElement?.textContent).toBe('Cancel');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Deactivate 2 users' }));

    await screen.findByText('Deactivated 1 user. 1 user could not be changed.');
    expect(patched).toEqual(['/api/users/id-ann/', '/api/users/id-cy/']);
    expect(screen.getByText(/Only a superuser changes a superuser/)).toBeTruthy();
  });

  it('says when nothing matches, and when loading failed offers to try again', async () => {
    startSession({ access: 'a', user: viewer });
    let fail = true;
    serve({
      '/api/users/?page=1': () => (fail ? json(503, { detail: 'Service unavailable.' }) : json(200, page())),
    });
    renderPage(<UsersPage />, { route: '/users', auth: true });
    await screen.findByText(/Could not load the users: the server had a problem/);
    fail = false;
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    await screen.findByText('No users match.');
  });
});
