import { describe, expect, it } from 'vitest';
import { detailLines, humanize } from './auditDetail';

describe('the readable detail of an audit entry', () => {
  it.each([
    [{}, []],
    [{ reason: 'bad_password' }, [{ key: 'Reason', value: 'bad_password' }]],
    [{ before: ['a', 'b'], after: [] }, [{ key: 'Before', value: 'a, b' }, { key: 'After', value: 'none' }]],
    [{ second_factor: true, login: false }, [{ key: 'Second factor', value: 'yes' }, { key: 'Login', value: 'no' }]],
    [{ retry_after: 30, scope: 'login' }, [{ key: 'Retry after', value: '30' }, { key: 'Scope', value: 'login' }]],
    [{ changes: { email: { from: 'a@x', to: 'b@x' } } },
      [{ key: 'Changes email from', value: 'a@x' }, { key: 'Changes email to', value: 'b@x' }]],
    [{ session: null, empty: {} }, [{ key: 'Session', value: '—' }, { key: 'Empty', value: '—' }]],
    [{ items: [{ id: 1 }] }, [{ key: 'Items', value: '{"id":1}' }]],
  ])('%j', (detail, lines) => {
    expect(detailLines(detail)).toEqual(lines);
  });

  it('reads nothing from no detail', () => {
    expect(detailLines(null)).toEqual([]);
    expect(humanize('user-agent')).toBe('User agent');
  });
});
