import { describe, expect, it } from 'vitest';
import { passwordProblems, quickRatio, usernameProblems } from './validation';

describe('password feedback', () => {
  it('uses the server messages for each failed rule', () => {
    expect(passwordProblems('short', 'alice')).toEqual([
      'This password is too short. It must contain at least 8 characters.',
    ]);
    expect(passwordProblems('83749261554', 'alice')).toEqual(['This password is entirely numeric.']);
    expect(passwordProblems('alice12345', 'alice12345')).toEqual(['The password is too similar to the username.']);
    expect(passwordProblems('a long passphrase', 'alice')).toEqual([]);
    expect(passwordProblems('', 'alice')).toEqual([]);
  });

  it('computes quick_ratio like Python', () => {
    expect(quickRatio('abcd', 'bcde')).toBeCloseTo(0.75);
    expect(quickRatio('', '')).toBe(1);
  });

  it('checks usernames', () => {
    expect(usernameProblems('alice.b+c-d_e@x')).toEqual([]);
    expect(usernameProblems('bad name!')).toHaveLength(1);
  });
});
