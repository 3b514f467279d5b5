// The audit log's filters live in the URL's query string (bookmarkable, shareable, and
// walked back and forth with the browser); the list, its pages and the CSV export all
// read the same filters.

export interface AuditFilters {
  /** The user the events are about: an id or a username. */
  user: string;
  /** Who acted: an id or a username. */
  actor: string;
  event: string;
  /** `YYYY-MM-DD`, or an RFC 3339 time (the overview links from an hour). */
  since: string;
  /** `YYYY-MM-DD` (that whole day), or an RFC 3339 time. */
  until: string;
}

export interface AuditState extends AuditFilters {
  page: number;
}

export const NO_FILTERS: AuditFilters = { user: '', actor: '', event: '', since: '', until: '' };
const KEYS = ['user', 'actor', 'event', 'since', 'until'] as const;

export const isDay = (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v);

export function parseAuditState(params: URLSearchParams): AuditState {
  const page = Number(params.get('page'));
  const out: AuditState = { ...NO_FILTERS, page: Number.isInteger(page) && page > 0 ? page : 1 };
  for (const k of KEYS) out[k] = (params.get(k) ?? '').trim();
  return out;
}

export function toSearchParams(state: AuditState): URLSearchParams {
  const out = new URLSearchParams();
  for (const k of KEYS) if (state[k]) out.set(k, state[k]);
  if (state.page > 1) out.set('page', String(state.page));
  return out;
}

export const isFiltered = (f: AuditFilters) => KEYS.some((k) => f[k]);

/** The filters as the API's query (empty ones are not sent). */
export function filterQuery(f: AuditFilters): Partial<AuditFilters> {
  const out: Partial<AuditFilters> = {};
  for (const k of KEYS) if (f[k]) out[k] = f[k];
  return out;
}

/** Where the CSV of these filters is: the list's filters, every page. */
export function exportUrl(f: AuditFilters): string {
  const qs = new URLSearchParams(filterQuery(f) as Record<string, string>).toString();
  return qs ? `/api/audit/export/?${qs}` : '/api/audit/export/';
}

/** What is wrong with a range before asking the server, or null. */
export function rangeProblem(since: string, until: string): string | null {
  if (isDay(since) && isDay(until) && until < since) return 'The end date is before the start date.';
  return null;
}

/** A file name that says what is in it: `audit-log-2026-01-31.csv`, `audit-log-login-….csv`. */
export function exportFileName(f: AuditFilters, today: Date): string {
  const day = today.toISOString().slice(0, 10);
  const parts = ['audit-log', f.event, f.user && `user-${f.user}`].filter(Boolean).map((p) => String(p).replace(/[^\w.-]+/g, '_'));
  return `${parts.join('-')}-${day}.csv`;
}
