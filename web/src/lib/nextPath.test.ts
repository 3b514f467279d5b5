import { describe, expect, it } from 'vitest';
import { justSignedIn, loginPathFor, safeNextPath } from './nextPath';

describe('safeNextPath', () => {
  it('keeps a path of this site, with its query and fragment', () => {
    expect(safeNextPath('/sessions')).toBe('/sessions');
    expect(safeNextPath('/users?page=2&search=al#row')).toBe('/users?page=2&search=al#row');
    expect(safeNextPath('/')).toBe('/');
    expect(safeNextPath('/a/../users')).toBe('/users');
  });

  it('refuses anything that could lead to another site', () => {
    for (const next of [
      '//evil.example', '//evil.example/path', '///evil.example', '/\\evil.example', '\\\\evil.example',
      'http://evil.example', 'https://evil.example/x', 'HTTP://evil.example', 'javascript:alert(1)',
      'data:text/html,x', 'evil.example', ' /sessions', '/\t/evil.example', '/\n/evil.example', '\t//evil.example',
      '/%09/evil.example'.replace('%09', '\u0009'), 'mailto:a@b.c', '',
    ]) {
      expect(safeNextPath(next), next).toBeNull();
    }
    expect(safeNextPath(null)).toBeNull();
    expect(safeNextPath(undefined)).toBeNull();
  });

  it('keeps an encoded slash as a path, not a host', () => {
    // "/%2F%2Fevil" is a path on this site (the router sees "/%2F%2Fevil"), never "//evil".
    expect(safeNextPath('/%2F%2Fevil.example')).toBe('/%2F%2Fevil.example');
  });

  it('does not return to the sign-in pages themselves', () => {
    expect(safeNextPath('/login')).toBeNull();
    expect(safeNextPath('/login?next=/x')).toBeNull();
    expect(safeNextPath('/signup')).toBeNull();
  });
});

describe('loginPathFor', () => {
  it('carries where the user was, encoded', () => {
    expect(loginPathFor('/users?page=2')).toBe('/login?next=%2Fusers%3Fpage%3D2');
    expect(loginPathFor('/')).toBe('/login');
    expect(loginPathFor('//evil.example')).toBe('/login');
  });

  it('asks for a fresh sign-in, offering a name, when an application wants one', () => {
    expect(loginPathFor('/authorize?request=abc', { reauth: true, username: 'alice@example.com' }))
      .toBe('/login?next=%2Fauthorize%3Frequest%3Dabc&reauth=1&login_hint=alice%40example.com');
    expect(loginPathFor('/authorize?request=abc', { username: null })).toBe('/login?next=%2Fauthorize%3Frequest%3Dabc');
  });

  it('never returns to the signed-out page', () => {
    expect(safeNextPath('/signed-out')).toBeNull();
  });
});

describe('justSignedIn', () => {
  it('reads the state the sign-in page returns with', () => {
    expect(justSignedIn({ signedIn: true })).toBe(true);
    expect(justSignedIn({ expired: true })).toBe(false);
    expect(justSignedIn(null)).toBe(false);
  });
});
