import { describe, expect, it } from 'vitest';
import { ApiError } from '../../lib/api/errors';
import type { SignInRequest } from './api';
import { answerFailure, authorizeStep } from './authorizeStep';

const request = (over: Partial<SignInRequest> = {}): SignInRequest => ({
  client_id: 'c1', client_name: 'Wiki', redirect_host: 'wiki.example.com',
  scopes: [{ scope: 'openid', description: 'Know who you are' }],
  prompt: '', login_hint: null, login_required: false, consent_required: true, ...over,
});

const out = { signedIn: false, justSignedIn: false };
const signedIn = { signedIn: true, justSignedIn: false };
const back = { signedIn: true, justSignedIn: true };

describe('what the authorize page does with a request', () => {
  it.each([
    ['prompt=none answers silently, signed in or not', request({ prompt: 'none', login_required: true }), out,
      { kind: 'answer', decision: 'silent' }],
    ['prompt=none answers silently even when consent is missing', request({ prompt: 'none' }), signedIn,
      { kind: 'answer', decision: 'silent' }],
    ['nobody signed in: to the sign-in page', request({ login_required: true }), out, { kind: 'sign-in', reauth: false }],
    ['signed in, not recently enough: to sign in again', request({ prompt: 'login', login_required: true }), signedIn,
      { kind: 'sign-in', reauth: true }],
    ['just signed in and still not fresh enough: no loop', request({ login_required: true }), back, { kind: 'stuck' }],
    ['consented before (or first-party): allowed at once', request({ consent_required: false }), signedIn,
      { kind: 'answer', decision: 'allow' }],
    ['something new to consent to: the consent screen', request(), signedIn, { kind: 'consent' }],
    ['back from signing in, consent still wanted', request(), back, { kind: 'consent' }],
  ])('%s', (_, view, session, expected) => {
    expect(authorizeStep(view, session)).toEqual(expected);
  });
});

describe('what a refused answer means', () => {
  it.each([
    [new ApiError(401, { detail: 'Authentication credentials were not provided.' }), { kind: 'sign-in' }],
    [new ApiError(403, { detail: 'x', code: 'mfa_enrollment_required' }), { kind: 'mfa' }],
    [new ApiError(404, { detail: 'This sign-in request has expired or was already answered.' }), { kind: 'gone' }],
    [new ApiError(503, null), { kind: 'failed', message: 'The server had a problem. Try again in a moment.', retry: true }],
    [new TypeError('Failed to fetch'), { kind: 'failed', message: 'The server could not be reached. Try again.', retry: true }],
    [new ApiError(400, { decision: ['Select a valid choice: allow, deny or silent.'] }),
      { kind: 'failed', message: 'Select a valid choice: allow, deny or silent.', retry: false }],
  ])('%s', (err, expected) => {
    expect(answerFailure(err)).toEqual(expected);
  });
});
