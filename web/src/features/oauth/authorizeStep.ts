// What the /authorize page does with a pending request: the decisions, without React, so
// each case can be read and tested on its own.

import { ApiError, changeError, UNREACHABLE } from '../../lib/api/errors';
import { isRetryable } from '../../components/QueryState';
import type { Decision, SignInRequest } from './api';

export type AuthorizeStep =
  /** Answer at once, showing nothing (`prompt=none`, or nothing to consent to). */
  | { kind: 'answer'; decision: Extract<Decision, 'allow' | 'silent'> }
  /** To the sign-in page; `reauth`: someone is signed in, but not recently enough. */
  | { kind: 'sign-in'; reauth: boolean }
  /** Signed in just now, and still not recently enough: sending them back would loop. */
  | { kind: 'stuck' }
  | { kind: 'consent' };

interface Session {
  signedIn: boolean;
  /** The sign-in page sent the browser back here just now. */
  justSignedIn: boolean;
}

export function authorizeStep(request: SignInRequest, { signedIn, justSignedIn }: Session): AuthorizeStep {
  // SECURITY: `prompt=none` must never show anything; the server answers
  // login_required or consent_required to the application when it cannot give a code.
  if (request.prompt.split(' ').includes('none')) return { kind: 'answer', decision: 'silent' };
  if (request.login_required) return justSignedIn ? { kind: 'stuck' } : { kind: 'sign-in', reauth: signedIn };
  if (!request.consent_required) return { kind: 'answer', decision: 'allow' };
  return { kind: 'consent' };
}

export type AnswerFailure =
  /** The server wants a (fresh) sign-in first. */
  | { kind: 'sign-in' }
  /** A role of the user needs a second factor before applications get anything. */
  | { kind: 'mfa' }
  /** Expired, or answered already (in another tab, or by a double click). */
  | { kind: 'gone' }
  | { kind: 'failed'; message: string; retry: boolean };

/** What a refused or failed answer means for the page. */
export function answerFailure(err: unknown): AnswerFailure {
  if (err instanceof ApiError) {
    if (err.status === 401) return { kind: 'sign-in' };
    if (err.status === 403 && err.code === 'mfa_enrollment_required') return { kind: 'mfa' };
    if (err.status === 404) return { kind: 'gone' };
  }
  const message = err instanceof ApiError && err.status < 500 ? changeError(err)
    : err instanceof ApiError ? 'The server had a problem. Try again in a moment.' : UNREACHABLE;
  return { kind: 'failed', message, retry: isRetryable(err) };
}
