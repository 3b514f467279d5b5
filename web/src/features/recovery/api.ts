// Password reset and email verification: mail links that work once.

import { queryOptions } from '@tanstack/react-query';
import { api } from '../../lib/api/transport';
import { getUser, refreshSession } from '../../lib/api/session';

export const requestPasswordReset = (email: string) =>
  api('/api/password-reset/', { method: 'post', body: { email }, anonymous: true });

export const confirmPasswordReset = (token: string, newPassword: string) =>
  api('/api/password-reset/confirm/', { method: 'post', body: { token, new_password: newPassword }, anonymous: true });

/**
 * Whether a reset or invitation link still works, without spending it: the page asks
 * before showing its form. Checked anew each time the page opens (the link may have been
 * used meanwhile); a 400 (dead link) is an answer, not a failure to retry.
 */
export const resetLinkQuery = (token: string) => queryOptions({
  queryKey: ['reset-link', token],
  queryFn: () => api('/api/password-reset/check/', { method: 'post', body: { token }, anonymous: true }),
  enabled: token !== '',
  staleTime: 0,
  gcTime: 0,
  retry: false,
});

export const resendVerification = () => api('/api/email/verify/resend/', { method: 'post' });

/**
 * Spends a verification link. A query, not a mutation, so that the cache runs it once
 * per token however often the page mounts (React's development double effects): a
 * second call would be refused. Never refetched, never retried.
 */
export const verifyEmailQuery = (token: string) => queryOptions({
  queryKey: ['verify-email', token],
  queryFn: async () => {
    const body = await api('/api/email/verify/', { method: 'post', body: { token }, anonymous: true });
    // A signed-in user's cached user object still says "unverified": fetch it anew.
    if (getUser()) await refreshSession();
    return body;
  },
  staleTime: Infinity,
  gcTime: Infinity,
  retry: false,
});
