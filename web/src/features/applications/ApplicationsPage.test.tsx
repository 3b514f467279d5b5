import { beforeEach, describe, expect, it, vi } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { json, renderPage, signedInEachTest, userFixture } from '../../test-utils';
import { ApplicationsPage } from './ApplicationsPage';

const wiki = { client_id: 'c1', name: 'Team Wiki', scopes: ['openid', 'email', 'reports:read'], granted: '2026-03-01T10:00:00Z', active_grants: 2 };
const portal = { client_id: 'c2', name: 'Staff portal', scopes: [], granted: '2026-03-02T10:00:00Z', active_grants: 1 };

let connected: (typeof wiki)[];
let deleted: string[];

signedInEachTest(userFixture());
beforeEach(() => {
  connected = [wiki, portal];
  deleted = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit = {}) => {
    if (url === '/api/me/applications/') return json(200, connected);
    const m = /^\/api\/me\/applications\/(\w+)\/$/.exec(url);
    if (m && init.method === 'DELETE') {
      deleted.push(m[1]!);
      connected = connected.filter((a) => a.client_id !== m[1]);
      return new Response(null, { status: 204 });
    }
    return json(404, { detail: 'Not found.' });
  }));
});

describe('Connected applications', () => {
  it('says what each application may do, in words, since when and with how many sessions', async () => {
    renderPage(<ApplicationsPage />);
    const list = await screen.findByTestId('applications');
    const scopes = within(list).getByRole('list', { name: 'What Team Wiki may do' });
    expect(within(scopes).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      "Know who you are (your account's id)",
      'See your email address and whether it is verified',
      'Use its API with the scope “reports:read”',
    ]);
    expect(list.textContent).toContain('2 active sessions');
    expect(list.textContent).toContain('it signs you in without asking');
  });

  it('disconnects only after a confirmation naming the application', async () => {
    renderPage(<ApplicationsPage />);
    await userEvent.click(await screen.findByRole('button', { name: 'Disconnect Team Wiki' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Disconnect Team Wiki?' });
    expect(deleted).toEqual([]);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Disconnect' }));
    expect(await screen.findByText('Team Wiki is disconnected.')).toBeTruthy();
    expect(deleted).toEqual(['c1']);
    expect(screen.queryByRole('button', { name: 'Disconnect Team Wiki' })).toBeNull();
  });

  it('says when there are none', async () => {
    connected = [];
    renderPage(<ApplicationsPage />);
    expect(await screen.findByText(/No applications are connected/)).toBeTruthy();
  });
});
