// Administering users: the filtered list, one user's record, sessions, factors and
// history, and the changes an administrator makes to them.

import { keepPreviousData, queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api/transport';
import { rolesKey } from '../../lib/api/queries';
import type { components } from '../../lib/api/schema';
import { toApiQuery, type ListState } from './listState';

export type User = components['schemas']['UserResponse'];
export type UserSession = components['schemas']['SessionView'];
export type Security = components['schemas']['SecurityResponse'];
export type AuditEntry = components['schemas']['AuditEntry'];
type CreateUserRequest = components['schemas']['CreateUserRequest'];

export const PAGE_SIZE = 20;

const usersKey = ['users'] as const;

/**
 * One page of the list. The key carries the whole query, so an answer lands in its own
 * entry: a slow answer to an earlier search never replaces a newer one. The page shown
 * stays while the next one loads.
 */
export const usersQuery = (state: ListState) => {
  const query = toApiQuery(state);
  return queryOptions({
    queryKey: [...usersKey, 'list', query],
    queryFn: () => api('/api/users/', { query }),
    placeholderData: keepPreviousData,
  });
};

export const userQuery = (id: string) => queryOptions({
  queryKey: [...usersKey, 'one', id],
  queryFn: (): Promise<User> => api('/api/users/{id}/', { path: { id } }),
});

export const userSessionsQuery = (id: string) => queryOptions({
  queryKey: [...usersKey, 'one', id, 'sessions'],
  queryFn: () => api('/api/users/{id}/sessions/', { path: { id } }),
});

export const userSecurityQuery = (id: string) => queryOptions({
  queryKey: [...usersKey, 'one', id, 'security'],
  queryFn: () => api('/api/users/{id}/security/', { path: { id } }),
});

/** Which side of the log: events about the user, or what they did. */
export type HistorySide = 'user' | 'actor';

export const userHistoryQuery = (id: string, side: HistorySide, page: number) => queryOptions({
  queryKey: [...usersKey, 'one', id, 'history', side, page],
  queryFn: () => api('/api/audit/', { query: { [side]: id, page } }),
  placeholderData: keepPreviousData,
});

export type UserChange =
  | { kind: 'update'; id: string; body: { is_active?: boolean; email?: string } }
  | { kind: 'roles'; id: string; roles: string[] }
  | { kind: 'end-session'; id: string; session: string }
  | { kind: 'end-all-sessions'; id: string }
  | { kind: 'reset-mfa'; id: string }
  | { kind: 'clear-lockouts'; id: string }
  | { kind: 'send-reset-link'; id: string };

/** Sends one change; answers the server's `detail` when it has something to say. */
export async function sendChange(change: UserChange): Promise<string | null> {
  const path = { id: change.id };
  switch (change.kind) {
    case 'update':
      await api('/api/users/{id}/', { method: 'patch', path, body: change.body });
      return null;
    case 'roles':
      await api('/api/users/{id}/roles/', { method: 'put', path, body: { roles: change.roles } });
      return null;
    case 'end-session':
      await api('/api/users/{id}/sessions/{session_id}/', {
        method: 'delete', path: { id: change.id, session_id: change.session },
      });
      return null;
    case 'end-all-sessions':
      await api('/api/users/{id}/sessions/revoke-all/', { method: 'post', path });
      return null;
    case 'reset-mfa':
      await api('/api/users/{id}/mfa/', { method: 'delete', path });
      return null;
    case 'clear-lockouts':
      await api('/api/users/{id}/lockouts/', { method: 'delete', path });
      return null;
    case 'send-reset-link':
      return (await api('/api/users/{id}/password-reset/', { method: 'post', path })).detail;
  }
}

/** Changes a user; everything shown about users reloads from the server afterwards. */
export function useChangeUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: sendChange,
    onSettled: (_, __, change) => {
      void queryClient.invalidateQueries({ queryKey: usersKey });
      // Roles show how many users hold them.
      if (change.kind === 'roles') void queryClient.invalidateQueries({ queryKey: rolesKey });
    },
  });
}

export function useCreateUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateUserRequest): Promise<User> => api('/api/users/', { method: 'post', body }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: usersKey });
      void queryClient.invalidateQueries({ queryKey: rolesKey });
    },
  });
}
