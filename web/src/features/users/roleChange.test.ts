import { describe, expect, it } from 'vitest';
import { diffRoles } from './roleChange';

const roles = [
  { name: 'editor', permissions: ['articles.edit', 'reports.view'] },
  { name: 'viewer', permissions: ['reports.view'] },
  { name: 'admin', permissions: ['users.manage', 'users.view'] },
];

describe('diffRoles', () => {
  it('names the roles and the permissions a change gives and takes', () => {
    expect(diffRoles(['viewer', 'editor'], ['viewer', 'admin'], roles)).toEqual({
      added: ['admin'], removed: ['editor'], gained: ['users.manage', 'users.view'], lost: ['articles.edit'],
    });
  });

  it('does not count a permission another kept role still gives as lost', () => {
    expect(diffRoles(['viewer', 'editor'], ['editor'], roles).lost).toEqual([]);
  });
});
