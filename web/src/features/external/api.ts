// Sign-in with external identity providers: the providers offered, the identities linked
// to the signed-in account, linking one (a trip to the provider) and unlinking.

import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api/transport';
import type { components } from '../../lib/api/schema';

export type Provider = components['schemas']['ProviderInfo'];
export type Identity = components['schemas']['IdentityResponse'];

const identitiesKey = ['me', 'identities'] as const;

export const providersQuery = () =>
  queryOptions({ queryKey: ['auth', 'providers'], queryFn: () => api('/api/auth/providers/', { anonymous: true }), staleTime: 60_000 });

export const identitiesQuery = () => queryOptions({ queryKey: identitiesKey, queryFn: () => api('/api/me/identities/') });

/** A user's identities, for administrators. */
export const userIdentitiesQuery = (id: string) =>
  queryOptions({ queryKey: ['users', id, 'identities'], queryFn: () => api('/api/users/{id}/identities/', { path: { id } }) });

/** Where a provider's button goes, coming back to `next`. */
export function startUrl(provider: Provider, next: string): string {
  return next === '/' ? provider.start_url : `${provider.start_url}?next=${encodeURIComponent(next)}`;
}

/**
 * Starts linking: the server asks for a proof of presence first (the transport prompts
 * for it), then the browser leaves for the provider and comes back to this page.
 */
export function useLink(go: (url: string) => void = (url) => window.location.assign(url)) {
  return useMutation({
    mutationFn: (provider: Provider) => api('/api/me/identities/', { method: 'post', body: { provider: provider.name } }),
    onSuccess: (answer) => go(answer.redirect_to),
  });
}

export function useUnlink() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (identity: Identity) => api('/api/me/identities/{id}/', { method: 'delete', path: { id: identity.id } }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: identitiesKey }),
  });
}
