// The signed-in user's sessions (one per device and browser).

import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api/transport';

const sessionsKey = ['me', 'sessions'] as const;

export const sessionsQuery = () => queryOptions({ queryKey: sessionsKey, queryFn: () => api('/api/me/sessions/') });

/** Ends one session; the list reloads. */
export function useRevokeSession() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api('/api/me/sessions/{id}/', { method: 'delete', path: { id } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: sessionsKey }),
  });
}

/** Ends every session of the user, this one included. */
export const revokeAllSessions = () => api('/api/me/sessions/revoke-all/', { method: 'post' });
