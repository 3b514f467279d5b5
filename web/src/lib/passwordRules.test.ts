import { describe, expect, it } from 'vitest';
import { passwordProblems, passwordRules, quickRatio, similarAttribute } from './passwordRules';

const states = (password: string, context = {}) => Object.fromEntries(passwordRules(password, context).map((r) => [r.id, r.state]));

describe('password rules', () => {
  it('leaves every rule pending until something is typed', () => {
    expect(states('', { username: 'alice' })).toEqual({ length: 'pending', numeric: 'pending', similar: 'pending', common: 'server' });
  });

  it('follows each rule as the password is typed', () => {
    expect(states('1234', { username: 'alice' })).toMatchObject({ length: 'failed', numeric: 'failed', similar: 'met' });
    expect(states('12345678x', { username: 'alice' })).toMatchObject({ length: 'met', numeric: 'met', similar: 'met' });
    expect(states('alice12345', { username: 'alice12345' })).toMatchObject({ similar: 'failed' });
  });

  it('leaves similarity to the server when there is nothing to compare with', () => {
    expect(states('alice12345')).toMatchObject({ similar: 'server' });
    expect(passwordRules('x', { email: 'a@b.c' }).find((r) => r.id === 'similar')?.label)
      .toBe('Not too like your username or email address');
  });

  it('compares with the email address as the server does, in its words', () => {
    expect(similarAttribute('bobbybobby1', { username: 'zed', email: 'bobbybobby@example.com' })).toBe('email address');
    expect(passwordProblems('bobbybobby1', { username: 'zed', email: 'bobbybobby@example.com' }))
      .toEqual(['The password is too similar to the email address.']);
    // A long passphrase merely containing a short name is not "similar".
    expect(similarAttribute('quite unrelated words', { username: 'q' })).toBeNull();
    expect(similarAttribute('Alice-Smith', { username: 'alice_smith' })).toBe('username');
  });

  it('gives the server messages for each failed rule, in its order', () => {
    expect(passwordProblems('123', 'alice')).toEqual([
      'This password is too short. It must contain at least 8 characters.',
      'This password is entirely numeric.',
    ]);
    expect(passwordProblems('', 'alice')).toEqual([]);
    expect(passwordProblems('a long passphrase', { username: 'alice', email: 'alice@example.com' })).toEqual([]);
  });

  it('counts characters, not UTF-16 units, as the server does', () => {
    expect(passwordProblems('😀😀😀😀', 'x')).toEqual(['This password is too short. It must contain at least 8 characters.']);
    expect(quickRatio('😀a', '😀b')).toBeCloseTo(0.5);
  });
});
