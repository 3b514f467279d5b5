import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { json, renderPage } from '../../test-utils';
import { AuditPage } from './AuditPage';

const page = (event: string) => ({
  count: 1, next: null, previous: null,
  results: [{ id: 1, time: '2026-01-01T00:00:00Z', event, username: 'alice', ip: '', user_agent: '', detail: {} }],
});

afterEach(() => vi.unstubAllGlobals());

describe('AuditPage', () => {
  it('never lets a slow answer to an earlier filter replace the newer one', async () => {
    let answerSlow: () => void = () => {};
    const slowAnswered = new Promise<void>((resolve) => { answerSlow = resolve; });
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      if (url === '/api/audit/?page=1') return json(200, page('register'));
      if (url === '/api/audit/?page=1&event=login') {
        await slowAnswered;
        return json(200, page('login'));
      }
      if (url === '/api/audit/?page=1&event=logout') return json(200, page('logout'));
      return json(404, { detail: 'Not found.' });
    }));
    const { queryClient } = renderPage(<AuditPage />, { route: '/audit' });
    const rows = await screen.findByTestId('audit-rows');
    await waitFor(() => expect(rows.textContent).toContain('register'));

    await userEvent.selectOptions(screen.getByLabelText('Event'), 'login');
    await userEvent.click(screen.getByRole('button', { name: 'Filter' }));
    await userEvent.selectOptions(screen.getByLabelText('Event'), 'logout');
    await userEvent.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() => expect(screen.getByTestId('audit-rows').textContent).toContain('logout'));

    answerSlow();
    await waitFor(() => expect(queryClient.getQueryData(['audit', { page: 1, user: '', event: 'login' }])).toBeDefined());
    expect(screen.getByTestId('audit-rows').textContent).toContain('logout');
  });
});
