// The audit log: newest first, filtered, a page at a time; the names of its events; its
// CSV export.

import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { ApiError } from '../../lib/api/errors';
import { getAccessToken, refreshSession } from '../../lib/api/session';
import { api } from '../../lib/api/transport';
import { exportUrl, filterQuery, type AuditState, type AuditFilters } from './filters';

/**
 * One page of the log. The key carries the page and the filters, so a slow answer to
 * an earlier filter never replaces a newer one; the page shown stays while the next loads.
 */
export const auditQuery = (state: AuditState) => queryOptions({
  queryKey: ['audit', state],
  queryFn: () => api('/api/audit/', { query: { ...filterQuery(state), page: state.page } }),
  placeholderData: keepPreviousData,
});

/** Every event the log records (names change rarely: kept for the session). */
export const eventsQuery = () => queryOptions({
  queryKey: ['audit', 'events'],
  queryFn: () => api('/api/audit/events/'),
  staleTime: Infinity,
});

/**
 * Fetches the CSV of `filters` with the session's token (refreshed once if it expired)
 * and answers it as a Blob. The server streams it a page at a time; the browser
 * gathers the stream into the Blob.
 */
export async function fetchExport(filters: AuditFilters): Promise<Blob> {
  const url = exportUrl(filters);
  const send = () => {
    const token = getAccessToken();
    return fetch(url, {
      headers: token ? { Authorization: `Bearer ${token}`, Accept: 'text/csv' } : { Accept: 'text/csv' },
      credentials: 'same-origin',
    });
  };
  const sent = getAccessToken();
  let res = await send();
  if (res.status === 401 && (await refreshSession(sent))) res = await send();
  if (!res.ok) {
    const text = await res.text();
    let body: unknown = { detail: text };
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text as the detail
    }
    throw new ApiError(res.status, body);
  }
  return res.blob();
}

/** Hands `blob` to the browser as a download named `name`. */
export function saveBlob(blob: Blob, name: string): void {
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The download has its own reference: the URL can go once it started.
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
