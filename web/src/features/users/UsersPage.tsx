import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Loading, Notice } from '../../components/Notice';
import { changeError, messageOf } from '../../lib/api/errors';
import { rolesQuery } from '../../lib/api/queries';
import { useAuth } from '../../lib/auth';
import { hasPermission } from '../../lib/permissions';
import { PAGE_SIZE, useChangeUser, usersQuery } from './api';
import { UsersTable } from './UsersTable';

export function UsersPage() {
  const { user } = useAuth();
  const canManage = hasPermission(user, 'users.manage');
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [page, setPage] = useState(1);
  const users = useQuery(usersQuery(page, query));
  const roles = useQuery({ ...rolesQuery(), enabled: hasPermission(user, 'roles.view') });
  const change = useChangeUser();
  const data = users.data;

  const error = change.error ? changeError(change.error)
    : users.error ? messageOf(users.error, 'Could not load users.') : null;

  function submitSearch(e: FormEvent) {
    e.preventDefault();
    setPage(1);
    setQuery(search);
  }

  const pages = data ? Math.max(1, Math.ceil(data.count / PAGE_SIZE)) : 1;
  return (
    <section className="card" aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      <form className="inline" role="search" onSubmit={submitSearch}>
        <label htmlFor="user-search">Search</label>
        <input id="user-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)}
          placeholder="username or email" />
        <button type="submit">Search</button>
      </form>
      <Notice error={error} reserve />
      {!data ? (
        !error && <Loading what="users" />
      ) : (
        <>
          <p className="muted">{data.count} user{data.count === 1 ? '' : 's'}</p>
          <UsersTable users={data.results} roles={canManage ? (roles.data ?? []) : []}
            onChange={(c) => change.mutate(c)} canManage={canManage} />
          <nav className="pager" aria-label="Pages">
            <button type="button" className="secondary" disabled={!data.previous} onClick={() => setPage(page - 1)}>Previous</button>
            <span>Page {page} of {pages}</span>
            <button type="button" className="secondary" disabled={!data.next} onClick={() => setPage(page + 1)}>Next</button>
          </nav>
        </>
      )}
    </section>
  );
}
