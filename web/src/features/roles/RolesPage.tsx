import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { ApiError, changeError, messageOf } from '../../lib/api/errors';
import { rolesQuery } from '../../lib/api/queries';
import { useAuth } from '../../lib/auth';
import { hasPermission } from '../../lib/permissions';
import { Loading, Notice } from '../../components/Notice';
import { NewRoleForm } from './NewRoleForm';
import { splitPermissions, useChangeRole, type Role, type RoleChange } from './api';

export function RolesPage() {
  const { user } = useAuth();
  const canManage = hasPermission(user, 'roles.manage');
  const roles = useQuery(rolesQuery());
  const change = useChangeRole();
  // The permissions being edited, by role name.
  const [editing, setEditing] = useState<Record<string, string>>({});

  const error = change.error ? changeError(change.error)
    : roles.error ? messageOf(roles.error, 'Could not load roles.') : null;
  const fieldErrors = change.error instanceof ApiError ? change.error.fieldErrors() : {};

  const apply = (c: RoleChange, onSuccess?: () => void) => change.mutate(c, { onSuccess });

  function save(role: Role) {
    apply({ kind: 'permissions', name: role.name, permissions: splitPermissions(editing[role.name] ?? '') },
      () => setEditing(({ [role.name]: _, ...rest }) => rest));
  }

  return (
    <section className="card" aria-labelledby="roles-title">
      <h1 id="roles-title">Roles</h1>
      <Notice error={error} reserve />
      {!roles.data ? (
        !error && <Loading what="roles" />
      ) : (
        <ul className="list" data-testid="roles-list">
          {roles.data.map((r) => (
            <li key={r.name} className="row stack">
              <div>
                <strong>{r.name}</strong> <span className="muted">{r.description}</span>
              </div>
              {editing[r.name] !== undefined ? (
                <div className="inline">
                  <label htmlFor={`perm-${r.name}`} className="sr-only">Permissions of {r.name}</label>
                  <input id={`perm-${r.name}`} value={editing[r.name]}
                    onChange={(e) => setEditing({ ...editing, [r.name]: e.target.value })} />
                  <button type="button" onClick={() => save(r)}>Save</button>
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
                        <button type="button" className="danger small" onClick={() => apply({ kind: 'delete', name: r.name })}>
                          Delete
                        </button>
                      )}
                    </>
                  )}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {canManage && <NewRoleForm errors={fieldErrors} onCreate={apply} />}
    </section>
  );
}
