// Roles and their permissions. Each change reloads the list every page shares.

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api/transport';
import { rolesKey } from '../../lib/api/queries';
import type { components } from '../../lib/api/schema';

export type Role = components['schemas']['RoleResponse'];
type CreateRoleRequest = components['schemas']['CreateRoleRequest'];

export type RoleChange =
  | { kind: 'create'; body: CreateRoleRequest }
  | { kind: 'permissions'; name: string; permissions: string[] }
  | { kind: 'delete'; name: string };

function send(change: RoleChange) {
  switch (change.kind) {
    case 'create':
      return api('/api/roles/', { method: 'post', body: change.body });
    case 'permissions':
      return api('/api/roles/{name}/', { method: 'patch', path: { name: change.name }, body: { permissions: change.permissions } });
    case 'delete':
      return api('/api/roles/{name}/', { method: 'delete', path: { name: change.name } });
  }
}

export function useChangeRole() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: send,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: rolesKey }),
  });
}

/** "a, b c" → ["a", "b", "c"]: what the permission boxes take. */
export const splitPermissions = (text: string) => text.split(/[\s,]+/).filter(Boolean);
