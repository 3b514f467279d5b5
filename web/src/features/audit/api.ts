// The audit log: newest first, filtered by user and event, a page at a time.

import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api } from '../../lib/api/transport';

export interface AuditFilters {
  user: string;
  event: string;
}

/** The events a filter offers. */
export const EVENTS = [
  'register', 'login', 'login_failed', 'refresh', 'refresh_reuse_detected', 'logout', 'password_changed',
  'session_revoked', 'user_updated', 'roles_assigned', 'role_created', 'role_updated', 'role_deleted', 'throttled',
];

/**
 * One page of the log. The key carries the page and the filters, so a slow answer to
 * an earlier filter never replaces a newer one; the page shown stays while the next loads.
 */
export const auditQuery = (page: number, filters: AuditFilters) => queryOptions({
  queryKey: ['audit', { page, ...filters }],
  queryFn: () => api('/api/audit/', {
    query: { page, user: filters.user || undefined, event: filters.event || undefined },
  }),
  placeholderData: keepPreviousData,
});
