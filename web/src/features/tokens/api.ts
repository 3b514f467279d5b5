// Personal access tokens: the signed-in user's own (list, create, revoke), and any
// user's for administrators.

import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api/transport';
import type { components } from '../../lib/api/schema';

export type PersonalToken = components['schemas']['TokenResponse'];
export type CreatedToken = components['schemas']['CreatedTokenResponse'];

const myTokensKey = ['me', 'tokens'] as const;

export const myTokensQuery = () => queryOptions({ queryKey: myTokensKey, queryFn: () => api('/api/me/tokens/') });

/** A user's tokens, for administrators. */
export const userTokensQuery = (id: string) =>
  queryOptions({ queryKey: ['users', id, 'tokens'], queryFn: () => api('/api/users/{id}/tokens/', { path: { id } }) });

export interface NewToken {
  name: string;
  permissions: string[];
  /** Seconds. */
  expires_in: number;
}

/** Creates a token; the server asks for a proof of presence first (the transport prompts for it). */
export function useCreateToken() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (token: NewToken) => api('/api/me/tokens/', { method: 'post', body: token }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: myTokensKey }),
  });
}

export function useRevokeToken() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (token: PersonalToken) => api('/api/me/tokens/{id}/', { method: 'delete', path: { id: token.id } }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: myTokensKey }),
  });
}

/** An administrator revokes a user's token. */
export function useRevokeUserToken(userId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (token: PersonalToken) =>
      api('/api/users/{id}/tokens/{token_id}/', { method: 'delete', path: { id: userId, token_id: token.id } }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['users', userId, 'tokens'] }),
  });
}

/** An administrator revokes every token of a user at once. */
export function useRevokeAllUserTokens(userId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api('/api/users/{id}/tokens/revoke-all/', { method: 'post', path: { id: userId } }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['users', userId, 'tokens'] }),
  });
}

/** The lifetimes the form offers, in days. */
export const LIFETIMES = [7, 30, 90, 365] as const;

export const isExpired = (token: PersonalToken, now = new Date()) => !!token.expires && new Date(token.expires) <= now;

/** "expires <date>", "expired <date>" or "never expires", the date as `format` writes it. */
export const describeExpiry = (token: PersonalToken, format: (iso: string) => string) =>
  token.expires ? `${isExpired(token) ? 'expired' : 'expires'} ${format(token.expires)}` : 'never expires';
