import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { resetForTests, startSession } from '../../lib/api/session';
import { json, renderPage, userFixture } from '../../test-utils';
import { RolesPage } from './RolesPage';

const admin = userFixture({ id: 'me', username: 'root', permissions: ['roles.view', 'roles.manage'] });
const roles = [
  { name: 'admin', description: 'Everything', permissions: ['users.manage'], holders: 1 },
  { name: 'editor', description: 'Edits articles', permissions: ['articles.edit', 'reports.view'], holders: 3 },
];

type Call = { url: string; method: string; body: unknown };

function serve(extra: Record<string, (c: Call) => Response> = {}) {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
    const call = { url, method: init?.method ?? 'GET', body: init?.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(call);
    const key = `${call.method} ${url}`;
    if (extra[key]) return extra[key](call);
    if (key === 'GET /api/roles/?holders=true') return json(200, roles);
    if (key === 'GET /api/permissions/') {
      return json(200, { builtin: ['audit.view', 'roles.manage', 'roles.view', 'users.manage', 'users.view'], in_use: ['articles.edit', 'reports.view'] });
    }
    return json(404, { detail: 'Not found.' });
  }));
  return calls;
}

beforeEach(() => {
  resetForTests();
  startSession({ access: 'a', user: admin });
});
afterEach(() => vi.unstubAllGlobals());

describe('RolesPage', () => {
  it('shows how many hold each role, and deletes only after naming how many lose it', async () => {
    const calls = serve({ 'DELETE /api/roles/editor/': () => new Response(null, { status: 204 }) });
    renderPage(<RolesPage />, { route: '/roles', auth: true });
    const holders = await screen.findByRole('link', { name: '3 users' });
    expect(holders.getAttribute('href')).toBe('/users?role=editor');
    // The built-in admin role has no Delete.
    expect(screen.queryByRole('button', { name: 'Delete the role admin' })).toBeNull();

    await userEvent.click(screen.getByRole('button', { name: 'Delete the role editor' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(dialog.textContent).toContain('3 users lose it, and with it: articles.edit, reports.view.');
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete role' }));
    await screen.findByText('Deleted.');
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.url)).toEqual(['/api/roles/editor/']);
  });

  it('edits a description', async () => {
    const calls = serve({ 'PATCH /api/roles/editor/': () => json(200, { ...roles[1], description: 'Writes' }) });
    renderPage(<RolesPage />, { route: '/roles', auth: true });
    await userEvent.click(await screen.findByRole('button', { name: 'Edit the description of editor' }));
    const field = screen.getByLabelText('Description of editor');
    await userEvent.clear(field);
    await userEvent.type(field, 'Writes');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Description saved.');
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ description: 'Writes' });
  });

  it('checks a typed permission live, points at a near miss, and asks before holders gain it', async () => {
    const calls = serve({ 'PATCH /api/roles/editor/': () => json(200, roles[1]) });
    renderPage(<RolesPage />, { route: '/roles', auth: true });
    await userEvent.click(await screen.findByRole('button', { name: 'Edit permissions of editor' }));
    const input = screen.getByRole('combobox', { name: 'Add a permission to editor' });

    await userEvent.type(input, 'Reports');
    expect(screen.getByText(/A permission is lower-case letters/)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Add the typed permission to editor' }).hasAttribute('disabled')).toBe(true);

    await userEvent.clear(input);
    await userEvent.type(input, 'users.veiw');
    expect(screen.getByText(/is new: nothing checks it yet/)).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'users.view' }));
    expect(screen.getByRole('row', { name: /users\.view/ })).toBeTruthy();

    await userEvent.click(screen.getByRole('button', { name: 'Save permissions' }));
    const dialog = await screen.findByRole('alertdialog');
    expect(within(dialog).getByRole('heading').textContent).toBe('Change what 3 users holding editor may do?');
    expect(dialog.textContent).toContain('They gain: users.view');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save permissions' }));
    await screen.findByText('Permissions saved.');
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ permissions: ['articles.edit', 'reports.view', 'users.view'] });
  });

  it('shows a refusal from the server', async () => {
    serve({
      'POST /api/roles/': () => json(403, { detail: 'You cannot create a role with permissions you do not hold.', code: 'permission_denied' }),
    });
    renderPage(<RolesPage />, { route: '/roles', auth: true });
    await userEvent.type(await screen.findByLabelText('Name'), 'support');
    await userEvent.click(screen.getByRole('button', { name: 'Create role' }));
    await screen.findByText('You cannot create a role with permissions you do not hold.');
  });
});
