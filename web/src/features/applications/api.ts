// The applications the signed-in user has connected (consented to, or holding a live
// grant of), and disconnecting one.

import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api/transport';
import type { components } from '../../lib/api/schema';

export type ConnectedApplication = components['schemas']['ApplicationResponse'];

const applicationsKey = ['me', 'applications'] as const;

export const applicationsQuery = () => queryOptions({ queryKey: applicationsKey, queryFn: () => api('/api/me/applications/') });

/** Forgets the consent and ends the application's grants; the list reloads. */
export function useDisconnect() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (app: ConnectedApplication) => api('/api/me/applications/{client_id}/', { method: 'delete', path: { client_id: app.client_id } }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: applicationsKey }),
  });
}
