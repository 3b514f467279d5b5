import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { fakeServer, json, renderRoutes, signedInEachTest, userFixture, type Call } from '../../test-utils';
import type { Client } from './api';
import { ClientPage } from './ClientPage';
import { NewClientPage } from './NewClientPage';

const admin = userFixture({ id: 'me', username: 'root', permissions: ['clients.manage', 'reports.view'] });
const wiki: Client = {
  client_id: 'c1', name: 'Wiki', public: false, redirect_uris: ['https://wiki.example/cb'], post_logout_redirect_uris: [],
  grant_types: ['authorization_code', 'refresh_token'], scopes: ['openid'], permissions: [], pre_consented: false,
  created: '2026-03-01T00:00:00Z', updated: '2026-03-01T00:00:00Z',
};

const open = (route: string) => renderRoutes({ '/clients/new': <NewClientPage />, '/clients/:id': <ClientPage /> }, { route, auth: true });

signedInEachTest(admin);
let calls: Call[];
const serve = (answers: Parameters<typeof fakeServer>[0]) => { calls = fakeServer(answers); };

describe('registering an application', () => {
  it('shows the server’s errors under their fields, then the secret once, then the application', async () => {
    let attempt = 0;
    serve({
      'POST /api/clients/': () => (++attempt === 1
        ? json(400, { name: ['This field may not be blank.'], redirect_uris: ['http://wiki.example/cb: Plain http is allowed only on 127.0.0.1 or [::1]; use https.'] })
        : json(201, { ...wiki, client_secret: 's3cret' })),
      'GET /api/clients/c1/': () => json(200, wiki),
    });
    open('/clients/new');
    await userEvent.type(screen.getByLabelText('Redirect URI 1'), 'http://wiki.example/cb');
    await userEvent.click(screen.getByRole('button', { name: 'Register application' }));
    expect(await screen.findByText('This field may not be blank.')).toBeTruthy();
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByLabelText('Redirect URI 1').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('Plain http is allowed only on 127.0.0.1 or [::1]; use https.')).toBeTruthy();

    await userEvent.type(screen.getByLabelText('Name'), 'Wiki');
    await userEvent.click(screen.getByRole('button', { name: 'Register application' }));
    expect((await screen.findByTestId('client-secret')).textContent).toBe('s3cret');
    expect(calls.filter((c) => c.method === 'POST').at(-1)?.body).toMatchObject({ name: 'Wiki', public: false });
    await userEvent.click(screen.getByRole('checkbox', { name: 'I have stored the secret' }));
    await userEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(await screen.findByText('Wiki is registered.')).toBeTruthy();
    expect(screen.queryByTestId('client-secret')).toBeNull();
  });

  it('offers no client_credentials to a public client, and asks before giving permissions', async () => {
    serve({ 'POST /api/clients/': () => json(201, { ...wiki, grant_types: ['client_credentials'], permissions: ['reports.view'], client_secret: 'x' }) });
    open('/clients/new');
    await userEvent.click(screen.getByRole('radio', { name: /^Public/ }));
    expect(screen.getByRole('checkbox', { name: /^client_credentials/ }).hasAttribute('disabled')).toBe(true);
    expect(screen.getByText(/A public client cannot use client_credentials/)).toBeTruthy();

    await userEvent.click(screen.getByRole('radio', { name: /^Confidential/ }));
    await userEvent.type(screen.getByLabelText('Name'), 'Reports job');
    await userEvent.click(screen.getByRole('checkbox', { name: /^authorization_code/ }));
    await userEvent.click(screen.getByRole('checkbox', { name: /^client_credentials/ }));
    expect(screen.queryByLabelText('Redirect URI 1')).toBeNull();
    // Without roles.view the picker offers what the administrator holds.
    await userEvent.click(screen.getByRole('combobox', { name: 'Add a permission to the application' }));
    await userEvent.click(await screen.findByRole('option', { name: 'reports.view' }));
    await userEvent.keyboard('{Escape}');
    expect(screen.getByRole('row', { name: /reports\.view/ })).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Register application' }));
    const dialog = await screen.findByRole('alertdialog', { name: 'Register Reports job with these privileges?' });
    expect(dialog.textContent).toContain('reports.view');
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Register application' }));
    expect(await screen.findByTestId('client-secret')).toBeTruthy();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      name: 'Reports job', public: false, redirect_uris: [], post_logout_redirect_uris: [], grant_types: ['client_credentials'],
      scopes: ['openid', 'profile', 'email', 'offline_access'], permissions: ['reports.view'], pre_consented: false,
    });
  });
});

describe('an application’s page', () => {
  it('rotates the secret after a confirmation, and shows the new one once', async () => {
    serve({
      'GET /api/clients/c1/': () => json(200, wiki),
      'POST /api/clients/c1/rotate-secret/': () => json(200, { ...wiki, client_secret: 'n3w' }),
    });
    open('/clients/c1');
    await userEvent.click(await screen.findByRole('button', { name: 'Rotate secret…' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Rotate the secret of Wiki?' });
    expect(dialog.textContent).toContain('stops working at once');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Rotate secret' }));
    expect((await screen.findByTestId('client-secret')).textContent).toBe('n3w');
    expect(screen.getByText(/The old secret has stopped working/)).toBeTruthy();
  });

  it('deletes after a confirmation saying its users’ grants end', async () => {
    serve({
      'GET /api/clients/c1/': () => json(200, wiki),
      'DELETE /api/clients/c1/': () => new Response(null, { status: 204 }),
    });
    open('/clients/c1');
    await userEvent.click(await screen.findByRole('button', { name: 'Delete application…' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Delete Wiki?' });
    expect(dialog.textContent).toContain('grants end at once');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete application' }));
    const where = await screen.findByTestId('where');
    expect([where.textContent, where.dataset.state]).toEqual(['/clients', '{"notice":"Wiki is deleted."}']);
  });

  it('saves changes, and says a refusal in the server’s words', async () => {
    let refuse = true;
    serve({
      'GET /api/clients/c1/': () => json(200, wiki),
      'PATCH /api/clients/c1/': () => (refuse
        ? json(403, { detail: 'You can only give a client permissions you hold yourself; you do not hold x.', code: 'permission_denied' })
        : json(200, { ...wiki, name: 'Team Wiki' })),
    });
    open('/clients/c1');
    const name = await screen.findByLabelText('Name');
    await userEvent.clear(name);
    await userEvent.type(name, 'Team Wiki');
    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByText(/you do not hold x/)).toBeTruthy();
    refuse = false;
    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByText('Changes saved.')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'PATCH').at(-1)?.body).toEqual({
      name: 'Team Wiki', redirect_uris: ['https://wiki.example/cb'], post_logout_redirect_uris: [],
      grant_types: ['authorization_code', 'refresh_token'], scopes: ['openid'], permissions: [], pre_consented: false,
    });
  });
});
