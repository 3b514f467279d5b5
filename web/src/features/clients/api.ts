// The applications registered to sign their users in here (OAuth clients), for holders of
// `clients.manage`. A secret is in the answer of registering and of rotating only.

import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api/transport';
import type { components } from '../../lib/api/schema';

export type Client = components['schemas']['ClientResponse'];
export type ClientRequest = components['schemas']['ClientRequest'];

const clientsKey = ['clients'] as const;

export const clientsQuery = () => queryOptions({ queryKey: clientsKey, queryFn: () => api('/api/clients/') });

export const clientQuery = (id: string) => queryOptions({
  queryKey: [...clientsKey, id],
  queryFn: () => api('/api/clients/{client_id}/', { path: { client_id: id } }),
});

export type ClientChange =
  | { kind: 'create'; body: ClientRequest }
  | { kind: 'update'; id: string; body: ClientRequest }
  | { kind: 'rotate-secret'; id: string }
  | { kind: 'delete'; id: string };

/** Sends one change; the client as it now is (null once deleted), with its secret when one was made. */
async function send(change: ClientChange): Promise<Client | null> {
  switch (change.kind) {
    case 'create':
      return api('/api/clients/', { method: 'post', body: change.body });
    case 'update':
      return api('/api/clients/{client_id}/', { method: 'patch', path: { client_id: change.id }, body: change.body });
    case 'rotate-secret':
      return api('/api/clients/{client_id}/rotate-secret/', { method: 'post', path: { client_id: change.id } });
    case 'delete':
      await api('/api/clients/{client_id}/', { method: 'delete', path: { client_id: change.id } });
      return null;
  }
}

/** Changes an application; the list and its page reload (a secret is never cached). */
export function useChangeClient() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: send,
    // SECURITY: a secret in an answer is dropped as soon as its page closes.
    gcTime: 0,
    onSuccess: (_, change) => {
      if (change.kind === 'delete') queryClient.removeQueries({ queryKey: [...clientsKey, change.id] });
      void queryClient.invalidateQueries({ queryKey: clientsKey });
    },
  });
}
