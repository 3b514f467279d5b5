// Reads more than one feature needs, under one cache key each, so a change made on one
// page (a new role) shows on the others.

import { queryOptions } from '@tanstack/react-query';
import { api } from './transport';

export const rolesKey = ['roles'] as const;

export const rolesQuery = () => queryOptions({ queryKey: rolesKey, queryFn: () => api('/api/roles/') });

export const permissionsKey = ['permissions'] as const;

/** The built-in permissions and those some role holds: what a permission picker offers. */
export const permissionsQuery = () => queryOptions({ queryKey: permissionsKey, queryFn: () => api('/api/permissions/') });
