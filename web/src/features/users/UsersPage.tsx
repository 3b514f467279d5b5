import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Selection } from 'react-aria-components';
import { Loading, Notice } from '../../components/Notice';
import { LoadError } from '../../components/QueryState';
import { messageOf } from '../../lib/api/errors';
import { rolesKey, rolesQuery } from '../../lib/api/queries';
import { useAuth } from '../../lib/auth';
import { hasPermission } from '../../lib/permissions';
import { PAGE_SIZE, sendChange, usersQuery, type User } from './api';
import { bulkQuestion, bulkSummary, namesOf, runBulk, type BulkAction, type BulkOutcome } from './bulk';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { plural } from '../../lib/format';
import {
  EMPTY, isFiltered, orderingOf, parseListState, sortOf, toSearchParams, withChange, type Flag, type ListState, type Tri,
} from './listState';
import { UsersTable } from './UsersTable';
import './users.css';

const FLAG_FILTERS: { flag: Flag; label: string; yes: string; no: string }[] = [
  { flag: 'is_active', label: 'Status', yes: 'Active', no: 'Inactive' },
  { flag: 'is_superuser', label: 'Superuser', yes: 'Superusers', no: 'Not superusers' },
  { flag: 'has_2fa', label: 'Two-factor', yes: 'On', no: 'Off' },
  { flag: 'email_verified', label: 'Email', yes: 'Verified', no: 'Not verified' },
];

async function bulkStep(action: BulkAction, u: User) {
  if (action.kind === 'deactivate') {
    if (!u.is_active) return 'skipped' as const;
    await sendChange({ kind: 'update', id: u.id, body: { is_active: false } });
  } else {
    if (u.roles.includes(action.role)) return 'skipped' as const;
    await sendChange({ kind: 'roles', id: u.id, roles: [...u.roles, action.role] });
  }
  return 'done' as const;
}

export function UsersPage() {
  const { user: me } = useAuth();
  const canManage = hasPermission(me, 'users.manage');
  const [params, setParams] = useSearchParams();
  const state = parseListState(params);
  const listKey = toSearchParams(state).toString();
  const go = (next: ListState) => setParams(toSearchParams(next));

  const users = useQuery(usersQuery(state));
  const roles = useQuery({ ...rolesQuery(), enabled: hasPermission(me, 'roles.view') });
  const queryClient = useQueryClient();

  // The selection belongs to the page it was made on: another page or filter clears it.
  const [selection, setSelection] = useState<{ list: string; keys: Selection }>({ list: listKey, keys: new Set() });
  const selectedKeys: Selection = selection.list === listKey ? selection.keys : new Set();
  const rows = users.data?.results ?? [];
  const selected = selectedKeys === 'all' ? rows : rows.filter((u) => selectedKeys.has(u.id));
  const select = (keys: Selection) => setSelection({ list: listKey, keys });

  const [bulkRole, setBulkRole] = useState('');
  const [asking, setAsking] = useState<BulkAction | null>(null);
  const [result, setResult] = useState<{ action: BulkAction; outcome: BulkOutcome } | null>(null);
  const bulk = useMutation({
    mutationFn: ({ action, targets }: { action: BulkAction; targets: User[] }) =>
      runBulk(targets, (u) => bulkStep(action, u)),
    onSuccess: (outcome, { action }) => {
      setResult({ action, outcome });
      select(new Set());
    },
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: ['users'] });
      void queryClient.invalidateQueries({ queryKey: rolesKey });
    },
  });

  // The search box follows the URL (back, forward, "Clear"), and keeps what is typed.
  const [searchText, setSearchText] = useState(state.search);
  const [searchShown, setSearchShown] = useState(state.search);
  if (searchShown !== state.search) {
    setSearchShown(state.search);
    setSearchText(state.search);
  }

  function submitSearch(e: FormEvent) {
    e.preventDefault();
    go(withChange(state, { search: searchText.trim() }));
  }

  const data = users.data;
  const pages = data ? Math.max(1, Math.ceil(data.count / PAGE_SIZE)) : 1;
  const roleNames = [...new Set([...(roles.data ?? []).map((r) => r.name), ...(state.role ? [state.role] : [])])];
  const askedRole = asking?.kind === 'assign-role' ? roles.data?.find((r) => r.name === asking.role) : undefined;

  return (
    <section className="card" aria-labelledby="users-title">
      <div className="page-head">
        <h1 id="users-title">Users</h1>
        {canManage && <Link className="button" to="/users/new">New user</Link>}
      </div>

      <form className="search-row" role="search" onSubmit={submitSearch}>
        <div className="grow">
          <label htmlFor="user-search">Search</label>
          <input id="user-search" type="search" value={searchText} onChange={(e) => setSearchText(e.target.value)}
            placeholder="username or email" />
        </div>
        <button type="submit">Search</button>
      </form>

      <fieldset className="filters">
        <legend className="sr-only">Filters</legend>
        {FLAG_FILTERS.map(({ flag, label, yes, no }) => (
          <div key={flag}>
            <label htmlFor={`filter-${flag}`}>{label}</label>
            <select id={`filter-${flag}`} value={state[flag]}
              onChange={(e) => go(withChange(state, { [flag]: e.target.value as Tri }))}>
              <option value="">Any</option>
              <option value="true">{yes}</option>
              <option value="false">{no}</option>
            </select>
          </div>
        ))}
        {roleNames.length > 0 && (
          <div>
            <label htmlFor="filter-role">Role</label>
            <select id="filter-role" value={state.role} onChange={(e) => go(withChange(state, { role: e.target.value }))}>
              <option value="">Any</option>
              {roleNames.map((r) => <option key={r} value={r}>{r}</option>)}
            </select>
          </div>
        )}
      </fieldset>

      <div className="list-status">
        <p className="muted" role="status">
          {data ? `${plural(data.count, 'user')}${isFiltered(state) ? ' match' : ''}` : ''}
        </p>
        {isFiltered(state) && (
          <button type="button" className="secondary small" onClick={() => go({ ...EMPTY, ordering: state.ordering })}>
            Clear search and filters
          </button>
        )}
      </div>

      {result && (
        <div role="status" className="bulk-result">
          <p className={`notice ${result.outcome.failed.length ? 'error' : 'success'}`}>
            {bulkSummary(result.action, result.outcome)}
          </p>
          {result.outcome.failed.length > 0 && (
            <ul className="errors">
              {result.outcome.failed.map((f) => <li key={f.username}><strong>{f.username}</strong>: {f.message}</li>)}
            </ul>
          )}
        </div>
      )}
      {bulk.error && <Notice error={messageOf(bulk.error, 'The change could not be made.')} />}

      {canManage && selected.length > 0 && (
        <div className="bulk-bar" role="region" aria-label="Selected users">
          <strong>{plural(selected.length, 'user')} selected</strong>
          <button type="button" className="danger" onClick={() => setAsking({ kind: 'deactivate' })}>Deactivate…</button>
          {(roles.data?.length ?? 0) > 0 && (
            <>
              <label htmlFor="bulk-role" className="sr-only">Role to give</label>
              <select id="bulk-role" value={bulkRole} onChange={(e) => setBulkRole(e.target.value)}>
                <option value="">Choose a role…</option>
                {roles.data?.map((r) => <option key={r.name} value={r.name}>{r.name}</option>)}
              </select>
              <button type="button" className="secondary" disabled={!bulkRole}
                onClick={() => setAsking({ kind: 'assign-role', role: bulkRole })}>Give role…</button>
            </>
          )}
          <button type="button" className="secondary" onClick={() => select(new Set())}>Clear selection</button>
        </div>
      )}

      {users.error && <LoadError error={users.error} what="the users" onRetry={users.refetch} retrying={users.isFetching} />}
      {!data ? (
        !users.error && <Loading what="users" />
      ) : (
        <>
          <UsersTable users={data.results} sort={sortOf(state.ordering)}
            onSort={(s) => go(withChange(state, { ordering: orderingOf({ column: s.column, direction: s.direction }) }))}
            selectable={canManage} selected={selectedKeys} onSelect={select} busy={users.isFetching} />
          <nav className="pager" aria-label="Pages">
            <button type="button" className="secondary" disabled={!data.previous}
              onClick={() => go({ ...state, page: state.page - 1 })}>Previous</button>
            <span>Page {state.page} of {pages}</span>
            <button type="button" className="secondary" disabled={!data.next}
              onClick={() => go({ ...state, page: state.page + 1 })}>Next</button>
          </nav>
        </>
      )}

      <ConfirmDialog isOpen={asking !== null} title={asking ? bulkQuestion(asking, selected.length) : ''}
        confirmLabel={asking?.kind === 'deactivate' ? `Deactivate ${plural(selected.length, 'user')}` : 'Give role'}
        destructive
        onOpenChange={(o) => { if (!o) setAsking(null); }}
        onConfirm={() => {
          if (asking) bulk.mutate({ action: asking, targets: selected });
          setAsking(null);
        }}>
        <p>{namesOf(selected.map((u) => u.username))}</p>
        {asking?.kind === 'deactivate' ? (
          <p>They can no longer sign in, and every session they have ends at once.</p>
        ) : (
          <p>
            They gain {askedRole?.permissions.length ? `the permissions ${askedRole.permissions.join(', ')}` : 'this role'}.
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}
