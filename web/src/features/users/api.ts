// Administering users: the paged, searchable list and changes to one user.

import { keepPreviousData, queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api/transport';
import type { components } from '../../lib/api/schema';

export type UserRow = components['schemas']['Paginated_UserResponse']['results'][number];
type UpdateUserRequest = components['schemas']['UpdateUserRequest'];

export const PAGE_SIZE = 20;

const usersKey = ['users'] as const;

/**
 * One page of the list. The key carries the page and the search, so an answer lands in
 * its own entry: a slow answer to an earlier search never replaces a newer one. The
 * page shown stays while the next one loads.
 */
export const usersQuery = (page: number, search: string) => queryOptions({
  queryKey: [...usersKey, { page, search }],
  queryFn: () => api('/api/users/', { query: { page, search: search || undefined } }),
  placeholderData: keepPreviousData,
});

export type UserChange =
  | { kind: 'update'; id: string; body: UpdateUserRequest }
  | { kind: 'roles'; id: string; roles: string[] };

/** Changes a user (activation, roles); the list reloads from the server afterwards. */
export function useChangeUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (change: UserChange) => change.kind === 'roles'
      ? api('/api/users/{id}/roles/', { method: 'put', path: { id: change.id }, body: { roles: change.roles } })
      : api('/api/users/{id}/', { method: 'patch', path: { id: change.id }, body: change.body }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: usersKey }),
  });
}
