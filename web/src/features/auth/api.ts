// Signing in and up: every login flow ends in `startSession` with the server's answer.

import { api } from '../../lib/api/transport';
import { ApiError } from '../../lib/api/errors';
import type { components } from '../../lib/api/schema';
import { startSession, type User } from '../../lib/api/session';
import { passkeyRequestOf, signWithPasskey } from '../../lib/passkeys';

export type RegisterRequest = components['schemas']['RegisterRequest'];

export async function login(username: string, password: string): Promise<User> {
  return startSession(await api('/api/session/login/', {
    method: 'post', body: { username, password }, anonymous: true,
  }));
}

/** The second login step, with the `mfa_token` of a `mfa_required` answer. */
export async function loginWithCode(mfaToken: string, code: string): Promise<User> {
  return startSession(await api('/api/session/mfa/', {
    method: 'post', body: { mfa_token: mfaToken, code }, anonymous: true,
  }));
}

/** Logs in with a passkey alone (it verifies its user: both factors in one). */
export async function loginWithPasskey(): Promise<User> {
  const options = await api('/api/passkeys/login/', { method: 'post', anonymous: true });
  const credential = await signWithPasskey(options);
  return startSession(await api('/api/session/passkey/', {
    method: 'post', body: { ceremony: options.ceremony, credential }, anonymous: true,
  }));
}

/** The second login step with a passkey, for the login `mfaToken` stands for. */
export async function loginWithPasskeyStep(mfaToken: string): Promise<User> {
  const options = passkeyRequestOf(await api('/api/token/mfa/passkey/', {
    method: 'post', body: { mfa_token: mfaToken }, anonymous: true,
  }));
  const credential = await signWithPasskey(options);
  return startSession(await api('/api/session/mfa/', {
    method: 'post', body: { mfa_token: mfaToken, credential }, anonymous: true,
  }));
}

/** Creates the account, then signs in with it. */
export async function registerAndLogin(body: RegisterRequest): Promise<User> {
  await api('/register/', { method: 'post', body, anonymous: true });
  return login(body.username, body.password);
}

/** A second factor the server wants: the token for the second step and its methods. */
export interface MfaChallenge {
  token: string;
  methods: string[];
}

/** The challenge when the server wants a second factor, else null. */
export function mfaChallengeOf(err: unknown): MfaChallenge | null {
  if (!(err instanceof ApiError) || !err.body || typeof err.body !== 'object') return null;
  const body = err.body as { code?: unknown; mfa_token?: unknown; methods?: unknown };
  if (body.code !== 'mfa_required' || typeof body.mfa_token !== 'string') return null;
  const methods = Array.isArray(body.methods) ? body.methods.filter((m): m is string => typeof m === 'string') : [];
  return { token: body.mfa_token, methods };
}
