import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useLocation } from 'react-router';
import { resetForTests, startSession } from '../../lib/api/session';
import { json, renderPage, userFixture } from '../../test-utils';
import { AuditPage } from './AuditPage';

const entry = (event: string, extra: object = {}) => ({
  id: 1, time: '2026-01-01T00:00:00Z', event, user_id: 'u-alice', username: 'alice', actor_id: null, actor_username: null,
  ip: '10.0.0.1', user_agent: '', detail: {}, ...extra,
});
const page = (...results: object[]) => ({ count: results.length, next: null, previous: null, results });
const EVENTS = ['register', 'login', 'logout', 'lockout_cleared'];

function Where() {
  const l = useLocation();
  return <output data-testid="location">{l.pathname + l.search}</output>;
}

beforeEach(() => {
  resetForTests();
  startSession({ access: 'tok', user: userFixture({ permissions: ['audit.view'] }) });
});
afterEach(() => vi.unstubAllGlobals());

describe('AuditPage', () => {
  it('never lets a slow answer to an earlier filter replace the newer one', async () => {
    let answerSlow: () => void = () => {};
    const slowAnswered = new Promise<void>((resolve) => { answerSlow = resolve; });
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      if (url === '/api/audit/events/') return json(200, EVENTS);
      if (url === '/api/audit/?page=1') return json(200, page(entry('register')));
      if (url === '/api/audit/?event=login&page=1') {
        await slowAnswered;
        return json(200, page(entry('login')));
      }
      if (url === '/api/audit/?event=logout&page=1') return json(200, page(entry('logout')));
      return json(404, { detail: 'Not found.' });
    }));
    const { queryClient } = renderPage(<AuditPage />, { route: '/audit' });
    const rows = await screen.findByTestId('audit-rows');
    await waitFor(() => expect(rows.textContent).toContain('register'));
    await screen.findByRole('option', { name: 'lockout_cleared' });

    await userEvent.selectOptions(screen.getByLabelText('Event'), 'login');
    await userEvent.click(screen.getByRole('button', { name: 'Apply' }));
    await userEvent.selectOptions(screen.getByLabelText('Event'), 'logout');
    await userEvent.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(screen.getByTestId('audit-rows').textContent).toContain('logout'));

    answerSlow();
    await waitFor(() => expect(queryClient.getQueryData(['audit', {
      user: '', actor: '', event: 'login', since: '', until: '', page: 1,
    }])).toBeDefined());
    expect(screen.getByTestId('audit-rows').textContent).toContain('logout');
  });

  it('shows who did it and to whom as links, and the detail as key/value text', async () => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      if (url === '/api/audit/events/') return json(200, EVENTS);
      return json(200, page(entry('roles_assigned', {
        actor_id: 'u-root', actor_username: 'root', detail: { before: ['viewer'], after: ['viewer', 'editor'] },
      })));
    }));
    renderPage(<AuditPage />, { route: '/audit' });
    const rows = await screen.findByTestId('audit-rows');
    await waitFor(() => expect(within(rows).getByRole('link', { name: 'root' }).getAttribute('href')).toBe('/users/u-root'));
    expect(within(rows).getByRole('link', { name: 'alice' }).getAttribute('href')).toBe('/users/u-alice');
    expect(rows.textContent).toContain('Beforeviewer');
    expect(rows.textContent).toContain('Afterviewer, editor');
    expect(rows.textContent).not.toContain('{');
  });

  it('puts every filter in the URL, and refuses an end before the start', async () => {
    const urls: string[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      urls.push(url);
      if (url === '/api/audit/events/') return json(200, EVENTS);
      return json(200, page());
    }));
    renderPage(<><AuditPage /><Where /></>, { route: '/audit' });
    await screen.findByText('No events match these filters.');
    await userEvent.type(screen.getByLabelText('User'), 'alice');
    await userEvent.type(screen.getByLabelText('Done by'), 'root');
    await userEvent.type(screen.getByLabelText('From'), '2026-02-01');
    await userEvent.type(screen.getByLabelText('To (whole day)'), '2026-01-31');
    await userEvent.click(screen.getByRole('button', { name: 'Apply' }));
    await screen.findByText('The end date is before the start date.');
    expect(screen.getByTestId('location').textContent).toBe('/audit');

    await userEvent.clear(screen.getByLabelText('To (whole day)'));
    await userEvent.type(screen.getByLabelText('To (whole day)'), '2026-02-28');
    await userEvent.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(screen.getByTestId('location').textContent)
      .toBe('/audit?user=alice&actor=root&since=2026-02-01&until=2026-02-28'));
    expect(urls).toContain('/api/audit/?user=alice&actor=root&since=2026-02-01&until=2026-02-28&page=1');
  });

  it('exports the CSV of the same filters with the session’s token', async () => {
    const exports: { url: string; auth: string | null }[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/api/audit/events/') return json(200, EVENTS);
      if (url.startsWith('/api/audit/export/')) {
        exports.push({ url, auth: new Headers(init?.headers).get('Authorization') });
        return new Response('id,time,event\r\n1,2026-01-01T00:00:00Z,login\r\n', { status: 200, headers: { 'Content-Type': 'text/csv' } });
      }
      return json(200, page(entry('login')));
    }));
    const saved: string[] = [];
    // jsdom has no object URLs.
    const urls = URL as unknown as Record<string, unknown>;
    urls.createObjectURL = () => 'blob:x';
    urls.revokeObjectURL = () => {};
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push(this.download);
    });
    renderPage(<AuditPage />, { route: '/audit?event=login&user=alice&page=2' });
    await userEvent.click(await screen.findByRole('button', { name: 'Export CSV' }));
    await waitFor(() => expect(saved).toHaveLength(1));
    expect(exports).toEqual([{ url: '/api/audit/export/?user=alice&event=login', auth: 'Bearer tok' }]);
    expect(saved[0]).toMatch(/^audit-log-login-user-alice-\d{4}-\d{2}-\d{2}\.csv$/);
    click.mockRestore();
    delete urls.createObjectURL;
    delete urls.revokeObjectURL;
  });
});
