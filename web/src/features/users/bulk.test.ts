import { describe, expect, it } from 'vitest';
import { ApiError } from '../../lib/api/errors';
import { userFixture } from '../../test-utils';
import { bulkQuestion, bulkSummary, namesOf, runBulk } from './bulk';

describe('bulk actions', () => {
  it('goes on past a refusal and names who was refused and why', async () => {
    const users = ['ann', 'bob', 'cy'].map((n) => userFixture({ id: n, username: n }));
    const outcome = await runBulk(users, async (u) => {
      if (u.username === 'bob') throw new ApiError(403, { detail: 'bob holds permissions you do not.', code: 'permission_denied' });
      return u.username === 'cy' ? 'skipped' : 'done';
    });
    expect(outcome).toEqual({ done: 1, skipped: 1, failed: [{ username: 'bob', message: 'bob holds permissions you do not.' }] });
    expect(bulkSummary({ kind: 'deactivate' }, outcome))
      .toBe('Deactivated 1 user. 1 user was already inactive. 1 user could not be changed.');
  });

  it('names at most ten users, then how many more', () => {
    const names = Array.from({ length: 12 }, (_, i) => `u${i + 1}`);
    expect(namesOf(names)).toBe('u1, u2, u3, u4, u5, u6, u7, u8, u9, u10 and 2 more');
    expect(namesOf(names.slice(0, 10))).toBe('u1, u2, u3, u4, u5, u6, u7, u8, u9, u10');
  });

  it('names the count in the question', () => {
    expect(bulkQuestion({ kind: 'deactivate' }, 3)).toBe('Deactivate 3 users?');
    expect(bulkQuestion({ kind: 'assign-role', role: 'editor' }, 1)).toBe('Give the role “editor” to 1 user?');
    expect(bulkSummary({ kind: 'assign-role', role: 'editor' }, { done: 2, skipped: 2, failed: [] }))
      .toBe('Gave “editor” to 2 users. 2 users already held it.');
  });
});
