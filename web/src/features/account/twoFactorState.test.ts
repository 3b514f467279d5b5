import { describe, expect, it } from 'vitest';
import { ApiError } from '../../lib/api/errors';
import { initialState, twoFactorReducer, type TwoFactorState } from './twoFactorState';

describe('twoFactorReducer', () => {
  it('clears the last outcome when an action starts, and marks its section', () => {
    const before: TwoFactorState = { ...initialState, error: 'Invalid code.', errors: { code: ['Invalid code.'] }, done: 'x' };
    expect(twoFactorReducer(before, { type: 'started', section: 'passkey' }))
      .toMatchObject({ section: 'passkey', busy: true, error: null, errors: {}, done: null });
  });

  it('shows field errors under their fields, and a passkey answer\'s problems in the notice', () => {
    const started = twoFactorReducer(initialState, { type: 'started', section: 'totp' });
    expect(twoFactorReducer(started, { type: 'failed', error: new ApiError(400, { code: ['Invalid code.'] }) }))
      .toMatchObject({ busy: false, errors: { code: ['Invalid code.'] }, error: null });
    expect(twoFactorReducer(started, { type: 'failed', error: new ApiError(400, { credential: ['Not signed.'] }) }))
      .toMatchObject({ error: 'Not signed.' });
    expect(twoFactorReducer(started, { type: 'failed', error: new TypeError('fetch failed') }))
      .toMatchObject({ error: 'The server could not be reached. Try again.' });
  });

  it('keeps recovery codes until an action replaces them', () => {
    const shown = twoFactorReducer(initialState, { type: 'succeeded', change: { codes: ['a', 'b'], done: 'on' } });
    const next = twoFactorReducer(twoFactorReducer(shown, { type: 'started', section: 'passkey' }),
      { type: 'succeeded', change: { done: 'Passkey added.' } });
    expect(next.codes).toEqual(['a', 'b']);
    expect(twoFactorReducer(next, { type: 'succeeded', change: { codes: null } }).codes).toBeNull();
  });

  it('forgets the recovery codes once they are saved, keeping the last outcome', () => {
    const shown = twoFactorReducer(initialState, { type: 'succeeded', change: { codes: ['a'], done: 'Passkey added.' } });
    expect(twoFactorReducer(shown, { type: 'codes-saved' })).toMatchObject({ codes: null, done: 'Passkey added.' });
  });
});
