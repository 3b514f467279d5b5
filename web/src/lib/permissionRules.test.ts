import { describe, expect, it } from 'vitest';
import { checkPermission, distance } from './permissionRules';

const known = ['audit.view', 'roles.manage', 'roles.view', 'users.manage', 'users.view', 'reports.view', 'articles.edit'];

describe('the permission rule, checked as it is typed', () => {
  it.each([
    ['', { kind: 'empty' }],
    ['  ', { kind: 'empty' }],
    ['users.view', { kind: 'known' }],
    ['billing:export', { kind: 'new', suggestion: null }],
    ['reprots.veiw', { kind: 'new', suggestion: 'reports.view' }],
    ['user.view', { kind: 'new', suggestion: 'users.view' }],
    ['audit.veiw', { kind: 'new', suggestion: 'audit.view' }],
  ])('%j', (text, expected) => {
    expect(checkPermission(text, known)).toEqual(expected);
  });

  it.each(['Users.view', 'users view', 'users/view', 'é.view', 'a'.repeat(101)])('refuses %j', (text) => {
    expect(checkPermission(text, known).kind).toBe('invalid');
  });

  it('takes 100 characters, and the rule’s punctuation', () => {
    expect(checkPermission('a'.repeat(100), known).kind).toBe('new');
    expect(checkPermission('a_b.c:d-e', known).kind).toBe('new');
  });

  it('counts a swap of neighbours as one edit', () => {
    expect(distance('veiw', 'view')).toBe(1);
    expect(distance('reprots.veiw', 'reports.view')).toBe(2);
    expect(distance('', 'abc')).toBe(3);
  });
});
