// The users list's state lives in the URL's query string, so a search, a filter, a sort
// or a page can be bookmarked, shared, and walked back and forth with the browser.

/** A yes/no filter; `''` means "either". */
export type Tri = '' | 'true' | 'false';

export const SORTABLE = ['username', 'email', 'date_joined', 'last_login'] as const;
export type SortColumn = (typeof SORTABLE)[number];

export const FLAGS = ['is_active', 'is_superuser', 'has_2fa', 'email_verified'] as const;
export type Flag = (typeof FLAGS)[number];

export interface ListState {
  search: string;
  page: number;
  /** `''` is the server's default (by username). */
  ordering: '' | SortColumn | `-${SortColumn}`;
  role: string;
  is_active: Tri;
  is_superuser: Tri;
  has_2fa: Tri;
  email_verified: Tri;
}

export const EMPTY: ListState = {
  search: '', page: 1, ordering: '', role: '', is_active: '', is_superuser: '', has_2fa: '', email_verified: '',
};

const tri = (v: string | null): Tri => (v === 'true' || v === 'false' ? v : '');

function ordering(v: string | null): ListState['ordering'] {
  if (!v) return '';
  const column = v.startsWith('-') ? v.slice(1) : v;
  return (SORTABLE as readonly string[]).includes(column) ? (v as ListState['ordering']) : '';
}

/** Reads the state from a query string; anything unreadable falls back to its default. */
export function parseListState(params: URLSearchParams): ListState {
  const page = Number(params.get('page'));
  return {
    search: params.get('search') ?? '',
    page: Number.isInteger(page) && page > 0 ? page : 1,
    ordering: ordering(params.get('ordering')),
    role: params.get('role') ?? '',
    is_active: tri(params.get('is_active')),
    is_superuser: tri(params.get('is_superuser')),
    has_2fa: tri(params.get('has_2fa')),
    email_verified: tri(params.get('email_verified')),
  };
}

/** The query string for a state: defaults are left out, so a plain list is plain `/users`. */
export function toSearchParams(state: ListState): URLSearchParams {
  const out = new URLSearchParams();
  if (state.search) out.set('search', state.search);
  if (state.ordering) out.set('ordering', state.ordering);
  if (state.role) out.set('role', state.role);
  for (const f of FLAGS) if (state[f]) out.set(f, state[f]);
  if (state.page > 1) out.set('page', String(state.page));
  return out;
}

/** The list endpoint's query for a state (an empty value is not sent). */
export function toApiQuery(state: ListState) {
  const flag = (t: Tri) => (t === '' ? undefined : t === 'true');
  return {
    page: state.page,
    search: state.search || undefined,
    ordering: state.ordering || undefined,
    role: state.role || undefined,
    is_active: flag(state.is_active),
    is_superuser: flag(state.is_superuser),
    has_2fa: flag(state.has_2fa),
    email_verified: flag(state.email_verified),
  };
}

/** A change of anything but the page starts again from the first page. */
export function withChange(state: ListState, change: Partial<Omit<ListState, 'page'>>): ListState {
  return { ...state, ...change, page: 1 };
}

export const isFiltered = (s: ListState) => !!(s.search || s.role || FLAGS.some((f) => s[f]));

export interface SortDescriptor {
  column: SortColumn;
  direction: 'ascending' | 'descending';
}

/** The table's sort indicator for an ordering (the server sorts by username by default). */
export function sortOf(o: ListState['ordering']): SortDescriptor {
  if (!o) return { column: 'username', direction: 'ascending' };
  return o.startsWith('-')
    ? { column: o.slice(1) as SortColumn, direction: 'descending' }
    : { column: o as SortColumn, direction: 'ascending' };
}

export function orderingOf(sort: { column: string | number; direction: 'ascending' | 'descending' }): ListState['ordering'] {
  const column = String(sort.column);
  if (!(SORTABLE as readonly string[]).includes(column)) return '';
  const o = (sort.direction === 'descending' ? `-${column}` : column) as ListState['ordering'];
  return o === 'username' ? '' : o;
}
