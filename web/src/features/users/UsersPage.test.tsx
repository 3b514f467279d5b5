import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { resetForTests, startSession } from '../../lib/api/session';
import { json, renderPage, userFixture } from '../../test-utils';
import { UsersPage } from './UsersPage';

const admin = userFixture({ username: 'root', permissions: ['users.view'] });
const page = (...names: string[]) => ({
  count: names.length, next: null, previous: null,
  results: names.map((n, i) => userFixture({ id: `id-${n}-${i}`, username: n })),
});

beforeEach(() => {
  resetForTests();
  startSession({ access: 'a', user: admin });
});
afterEach(() => vi.unstubAllGlobals());

describe('UsersPage', () => {
  it('never lets a slow answer to an earlier search replace the newer one', async () => {
    let answerSlow: () => void = () => {};
    const slowAnswered = new Promise<void>((resolve) => { answerSlow = resolve; });
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      if (url === '/api/users/?page=1') return json(200, page('root'));
      if (url === '/api/users/?page=1&search=al') {
        await slowAnswered;
        return json(200, page('albert'));
      }
      if (url === '/api/users/?page=1&search=ali') return json(200, page('alice'));
      return json(404, { detail: 'Not found.' });
    }));
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
    await waitFor(() => expect(queryClient.getQueryData(['users', { page: 1, search: 'al' }])).toBeDefined());
    expect(screen.getByText('alice')).toBeTruthy();
    expect(screen.queryByText('albert')).toBeNull();
  });
});
