// Roles and the permissions they hold. Each change reloads the list every page shares.

import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api/transport';
import { permissionsKey, rolesKey } from '../../lib/api/queries';
import type { components } from '../../lib/api/schema';

export type Role = components['schemas']['RoleResponse'];
type CreateRoleRequest = components['schemas']['CreateRoleRequest'];

export type RoleChange =
  | { kind: 'create'; body: CreateRoleRequest }
  | { kind: 'update'; name: string; description?: string; permissions?: string[] }
  | { kind: 'delete'; name: string };

function send(change: RoleChange) {
  switch (change.kind) {
    case 'create':
      return api('/api/roles/', { method: 'post', body: change.body });
    case 'update':
      return api('/api/roles/{name}/', {
        method: 'patch', path: { name: change.name },
        body: { description: change.description, permissions: change.permissions },
      });
    case 'delete':
      return api('/api/roles/{name}/', { method: 'delete', path: { name: change.name } });
  }
}

export function useChangeRole() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: send,
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: rolesKey });
      void queryClient.invalidateQueries({ queryKey: permissionsKey });
      // Users' permissions follow their roles.
      void queryClient.invalidateQueries({ queryKey: ['users'] });
    },
  });
}

/**
 * Every role with how many users hold it. Under the shared roles key, so whatever
 * reloads the roles (a change here, a user's roles changed elsewhere) reloads this too.
 */
export const rolesWithHoldersQuery = () => queryOptions({
  queryKey: [...rolesKey, 'holders'],
  queryFn: () => api('/api/roles/', { query: { holders: true } }),
});
