import { describe, expect, it } from 'vitest';
import { exportFileName, exportUrl, filterQuery, parseAuditState, rangeProblem, toSearchParams } from './filters';

describe('audit filters in the URL', () => {
  it('reads every filter and the page, and writes them back', () => {
    const state = parseAuditState(new URLSearchParams('user=alice&actor=root&event=login&since=2026-01-01&until=2026-01-31&page=2'));
    expect(state).toEqual({ user: 'alice', actor: 'root', event: 'login', since: '2026-01-01', until: '2026-01-31', page: 2 });
    expect(toSearchParams(state).toString()).toBe('user=alice&actor=root&event=login&since=2026-01-01&until=2026-01-31&page=2');
  });

  it('leaves out empty filters and the first page', () => {
    const state = parseAuditState(new URLSearchParams('user=&page=1&since=2026-02-03T13%3A00%3A00Z'));
    expect(toSearchParams(state).toString()).toBe('since=2026-02-03T13%3A00%3A00Z');
    expect(parseAuditState(new URLSearchParams('page=-1')).page).toBe(1);
  });

  it('sends the same filters to the list and the export, without the page', () => {
    const state = parseAuditState(new URLSearchParams('event=login_failed&user=bob&since=2026-01-01&page=3'));
    expect(filterQuery(state)).toEqual({ user: 'bob', event: 'login_failed', since: '2026-01-01' });
    expect(exportUrl(state)).toBe('/api/audit/export/?user=bob&event=login_failed&since=2026-01-01');
    expect(exportUrl(parseAuditState(new URLSearchParams()))).toBe('/api/audit/export/');
    expect(exportUrl({ user: 'a&b', actor: '', event: '', since: '', until: '' })).toBe('/api/audit/export/?user=a%26b');
  });

  it('refuses an end before the start', () => {
    expect(rangeProblem('2026-02-01', '2026-01-31')).toBe('The end date is before the start date.');
    expect(rangeProblem('2026-01-31', '2026-01-31')).toBeNull();
    expect(rangeProblem('', '2026-01-31')).toBeNull();
  });

  it('names the file after what is in it', () => {
    const today = new Date('2026-03-04T10:00:00Z');
    expect(exportFileName({ user: '', actor: '', event: '', since: '', until: '' }, today)).toBe('audit-log-2026-03-04.csv');
    expect(exportFileName({ user: 'a b/c', actor: '', event: 'login', since: '', until: '' }, today))
      .toBe('audit-log-login-user-a_b_c-2026-03-04.csv');
  });
});
