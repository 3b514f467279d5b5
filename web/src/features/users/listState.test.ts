import { describe, expect, it } from 'vitest';
import {
  EMPTY, orderingOf, parseListState, sortOf, toApiQuery, toSearchParams, withChange,
} from './listState';

const parse = (qs: string) => parseListState(new URLSearchParams(qs));

describe('the users list state in the URL', () => {
  it('reads every part, and writes back the same query string', () => {
    const qs = 'search=ali&ordering=-last_login&role=editor&is_active=true&is_superuser=false&has_2fa=true&email_verified=false&page=3';
    const state = parse(qs);
    expect(state).toEqual({
      search: 'ali', page: 3, ordering: '-last_login', role: 'editor',
      is_active: 'true', is_superuser: 'false', has_2fa: 'true', email_verified: 'false',
    });
    expect(toSearchParams(state).toString()).toBe(
      'search=ali&ordering=-last_login&role=editor&is_active=true&is_superuser=false&has_2fa=true&email_verified=false&page=3');
  });

  it.each([
    ['page=0', EMPTY],
    ['page=-2', EMPTY],
    ['page=abc', EMPTY],
    ['page=1.5', EMPTY],
    ['ordering=password', EMPTY],
    ['ordering=-id', EMPTY],
    ['is_active=maybe', EMPTY],
    ['has_2fa=1', EMPTY],
  ])('falls back to the default for %s', (qs, expected) => {
    expect(parse(qs)).toEqual(expected);
  });

  it('leaves defaults out, so the plain list is plain /users', () => {
    expect(toSearchParams(EMPTY).toString()).toBe('');
    expect(toSearchParams({ ...EMPTY, page: 1, ordering: '' }).toString()).toBe('');
  });

  it('starts from the first page when anything but the page changes', () => {
    expect(withChange({ ...EMPTY, page: 4 }, { role: 'editor' })).toEqual({ ...EMPTY, role: 'editor', page: 1 });
  });

  it('sends booleans for the flags and nothing for "any"', () => {
    expect(toApiQuery(parse('is_active=false&has_2fa=true&search=bo'))).toEqual({
      page: 1, search: 'bo', ordering: undefined, role: undefined,
      is_active: false, is_superuser: undefined, has_2fa: true, email_verified: undefined,
    });
  });

  it('maps the table sort to the ordering and back', () => {
    expect(sortOf('')).toEqual({ column: 'username', direction: 'ascending' });
    expect(sortOf('-date_joined')).toEqual({ column: 'date_joined', direction: 'descending' });
    expect(orderingOf({ column: 'date_joined', direction: 'descending' })).toBe('-date_joined');
    expect(orderingOf({ column: 'email', direction: 'ascending' })).toBe('email');
    // The default sort is written as no ordering at all.
    expect(orderingOf({ column: 'username', direction: 'ascending' })).toBe('');
    expect(orderingOf({ column: 'username', direction: 'descending' })).toBe('-username');
    expect(orderingOf({ column: 'roles', direction: 'ascending' })).toBe('');
  });
});
