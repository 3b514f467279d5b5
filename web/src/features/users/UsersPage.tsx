import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, getUser, hasPermission, type User } from '../../lib/api/client';
import type { components } from '../../lib/api/schema';
import { Loading, Notice } from '../../components/Notice';

type Page = components['schemas']['Paginated_UserResponse'];
type Role = components['schemas']['RoleResponse'];

export function UsersPage() {
  const canManage = hasPermission(getUser(), 'users.manage');
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [page, setPage] = useState(1);
  const [data, setData] = useState<Page | null>(null);
  const [roles, setRoles] = useState<Role[]>([]);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    const params = new URLSearchParams({ page: String(page) });
    if (query) params.set('search', query);
    api<Page>(`/api/users/?${params}`)
      .then(setData)
      .catch((e: unknown) => setError(e instanceof ApiError ? e.message : 'Could not load users.'));
  }, [page, query]);
  useEffect(load, [load]);
  useEffect(() => {
    if (hasPermission(getUser(), 'roles.view')) api<Role[]>('/api/roles/').then(setRoles).catch(() => setRoles([]));
  }, []);

  function submitSearch(e: FormEvent) {
    e.preventDefault();
    setPage(1);
    setQuery(search);
  }

  async function change(user: User, body: object, path = '') {
    setError(null);
    try {
      await api(`/api/users/${user.id}/${path}`, { method: path ? 'PUT' : 'PATCH', body });
      load();
    } catch (e) {
      if (e instanceof ApiError) {
        const fields = Object.values(e.fieldErrors()).flat();
        setError(fields.length ? fields.join(' ') : e.message);
      } else setError('The change could not be saved.');
    }
  }

  const pages = data ? Math.max(1, Math.ceil(data.count / 20)) : 1;
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
          <div className="table-wrap">
            <table>
              <thead>
                <tr><th scope="col">Username</th><th scope="col">Email</th><th scope="col">Status</th><th scope="col">Roles</th></tr>
              </thead>
              <tbody>
                {data.results.map((u) => (
                  <tr key={u.id} data-username={u.username}>
                    <td>{u.username}{u.is_superuser && <span className="badge">superuser</span>}</td>
                    <td>{u.email || '—'}</td>
                    <td>
                      {u.is_active ? 'active' : 'inactive'}
                      {canManage && (
                        <button type="button" className="secondary small"
                          onClick={() => void change(u, { is_active: !u.is_active })}>
                          {u.is_active ? 'Deactivate' : 'Activate'}
                        </button>
                      )}
                    </td>
                    <td>
                      {canManage && roles.length > 0 ? (
                        <fieldset className="roles">
                          <legend className="sr-only">Roles of {u.username}</legend>
                          {roles.map((r) => (
                            <label key={r.name} className="check">
                              <input type="checkbox" checked={u.roles.includes(r.name)}
                                onChange={(e) => void change(u, {
                                  roles: e.target.checked ? [...u.roles, r.name] : u.roles.filter((x) => x !== r.name),
                                }, 'roles/')} />
                              {r.name}
                            </label>
                          ))}
                        </fieldset>
                      ) : (
                        u.roles.join(', ') || '—'
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
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
