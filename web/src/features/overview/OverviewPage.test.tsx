import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useLocation } from 'react-router';
import { json, renderPage } from '../../test-utils';
import { OverviewPage } from './OverviewPage';

function Where() {
  const l = useLocation();
  return <output data-testid="location">{l.pathname + l.search}</output>;
}

afterEach(() => vi.unstubAllGlobals());

describe('OverviewPage', () => {
  it('charts each series with a text alternative, links it to the log, and switches period', async () => {
    const urls: string[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      urls.push(url);
      const day = url.endsWith('period=24h');
      return json(200, {
        period: day ? '24h' : '30d', bucket_seconds: day ? 3600 : 86400,
        buckets: day ? ['2026-01-01T10:00:00Z', '2026-01-01T11:00:00Z'] : ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'],
        series: { login: [1, 2], refresh_reuse_detected: [0, 1] }, totals: { login: 3, refresh_reuse_detected: 1 },
      });
    }));
    renderPage(<><OverviewPage /><Where /></>, { route: '/overview' });
    const chart = await screen.findByRole('img', { name: /^Sign-ins: 3 in the last 24 hours, most \(2\) at/ });
    expect(chart).toBeTruthy();
    const link = screen.getByRole('link', { name: 'See sign-ins in the audit log' });
    expect(link.getAttribute('href')).toBe('/audit?event=login&since=2026-01-01T10%3A00%3A00Z');
    // The reuse alarm stands out when it went off.
    expect(screen.getByRole('heading', { name: 'Refresh-token reuse alarms' }).closest('li')?.className).toContain('alarm');
    // The numbers are there as a table too.
    expect(within(screen.getByRole('table')).getAllByRole('row')).toHaveLength(3);

    await userEvent.click(screen.getByRole('radio', { name: 'Last 30 days' }));
    await waitFor(() => expect(screen.getByTestId('location').textContent).toBe('/overview?period=30d'));
    await screen.findByRole('img', { name: /^Sign-ins: 3 in the last 30 days/ });
    expect(screen.getByRole('link', { name: 'See sign-ins in the audit log' }).getAttribute('href'))
      .toBe('/audit?event=login&since=2026-01-01');
    expect(urls).toEqual(['/api/audit/summary/?period=24h', '/api/audit/summary/?period=30d']);
  });
});
