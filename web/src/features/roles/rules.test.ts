import { describe, expect, it } from 'vitest';
import { checkRoleName, permissionDiff } from './rules';

describe('role names and permission changes', () => {
  it('checks role names', () => {
    expect(checkRoleName('')).toBeNull();
    expect(checkRoleName('support-team.eu_1')).toBeNull();
    expect(checkRoleName('Support')).toMatch(/lower-case/);
    expect(checkRoleName('a:b')).toMatch(/lower-case/);
    expect(checkRoleName('a'.repeat(65))).toMatch(/at most 64/);
  });

  it('names what holders gain and lose', () => {
    expect(permissionDiff(['a', 'b'], ['b', 'c'])).toEqual({ added: ['c'], removed: ['a'] });
  });
});
