import { describe, expect, it } from 'vitest';
import { detailLines } from './auditDetail';

describe('detailLines', () => {
  it('reads an entry as key: value lines', () => {
    expect(detailLines({ before: ['viewer'], after: [], is_active: false, reason: null, retry_after: 30 })).toEqual([
      { key: 'Before', value: 'viewer' },
      { key: 'After', value: 'none' },
      { key: 'Is active', value: 'no' },
      { key: 'Reason', value: '—' },
      { key: 'Retry after', value: '30' },
    ]);
  });
});
