import { describe, expect, it } from 'vitest';
import { describeScope, KNOWN_SCOPES } from './scopes';

describe('scopes in words', () => {
  it('says what each known scope lets an application do', () => {
    expect(KNOWN_SCOPES.map(describeScope)).toEqual([
      "Know who you are (your account's id)",
      'See your username',
      'See your email address and whether it is verified',
      'Stay signed in: act for you while you are away, until you disconnect it',
      'See your roles',
      'See your permissions',
    ]);
  });

  it('names an application’s own scope as it is', () => {
    expect(describeScope('reports:read')).toBe('Use its API with the scope “reports:read”');
    // Not a property every object has.
    expect(describeScope('constructor')).toBe('Use its API with the scope “constructor”');
  });
});
