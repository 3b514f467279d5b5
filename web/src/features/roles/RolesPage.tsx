import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, getUser, hasPermission } from '../../lib/api/client';
import type { components } from '../../lib/api/schema';
import { Field } from '../../components/Field';
import { Loading, Notice } from '../../components/Notice';

type Role = components['schemas']['RoleResponse'];

const splitPermissions = (text: string) => text.split(/[\s,]+/).filter(Boolean);

export function RolesPage() {
  const canManage = hasPermission(getUser(), 'roles.manage');
  const [roles, setRoles] = useState<Role[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [permissions, setPermissions] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [editing, setEditing] = useState<Record<string, string>>({});

  const load = useCallback(() => {
    api<Role[]>('/api/roles/')
      .then(setRoles)
      .catch((e: unknown) => setError(e instanceof ApiError ? e.message : 'Could not load roles.'));
  }, []);
  useEffect(load, [load]);

  function report(e: unknown) {
    if (e instanceof ApiError) {
      const fields = e.fieldErrors();
      setFieldErrors(fields);
      setError(Object.keys(fields).length ? Object.values(fields).flat().join(' ') : e.message);
    } else setError('The change could not be saved.');
  }

  async function create(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setFieldErrors({});
    try {
      await api('/api/roles/', { method: 'POST', body: { name, description, permissions: splitPermissions(permissions) } });
      setName('');
      setDescription('');
      setPermissions('');
      load();
    } catch (err) {
      report(err);
    }
  }

  async function save(role: Role) {
    setError(null);
    try {
      await api(`/api/roles/${role.name}/`, { method: 'PATCH', body: { permissions: splitPermissions(editing[role.name] ?? '') } });
      setEditing(({ [role.name]: _, ...rest }) => rest);
      load();
    } catch (err) {
      report(err);
    }
  }

  async function remove(role: Role) {
    setError(null);
    try {
      await api(`/api/roles/${role.name}/`, { method: 'DELETE' });
      load();
    } catch (err) {
      report(err);
    }
  }

  return (
    <section className="card" aria-labelledby="roles-title">
      <h1 id="roles-title">Roles</h1>
      <Notice error={error} reserve />
      {!roles ? (
        !error && <Loading what="roles" />
      ) : (
        <ul className="list" data-testid="roles-list">
          {roles.map((r) => (
            <li key={r.name} className="row stack">
              <div>
                <strong>{r.name}</strong> <span className="muted">{r.description}</span>
              </div>
              {editing[r.name] !== undefined ? (
                <div className="inline">
                  <label htmlFor={`perm-${r.name}`} className="sr-only">Permissions of {r.name}</label>
                  <input id={`perm-${r.name}`} value={editing[r.name]}
                    onChange={(e) => setEditing({ ...editing, [r.name]: e.target.value })} />
                  <button type="button" onClick={() => void save(r)}>Save</button>
                </div>
              ) : (
                <div className="inline">
                  <code>{r.permissions.join(', ') || 'no permissions'}</code>
                  {canManage && (
                    <>
                      <button type="button" className="secondary small"
                        onClick={() => setEditing({ ...editing, [r.name]: r.permissions.join(', ') })}>
                        Edit permissions
                      </button>
                      {r.name !== 'admin' && (
                        <button type="button" className="danger small" onClick={() => void remove(r)}>Delete</button>
                      )}
                    </>
                  )}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {canManage && (
        <form onSubmit={create} noValidate className="subform">
          <h2>New role</h2>
          <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} errors={fieldErrors.name}
            hint="lower-case letters, digits, _ . -" />
          <Field label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
          <Field label="Permissions" value={permissions} onChange={(e) => setPermissions(e.target.value)}
            errors={fieldErrors.permissions} hint="comma-separated, e.g. reports.view, articles.edit" />
          <button type="submit">Create role</button>
        </form>
      )}
    </section>
  );
}
