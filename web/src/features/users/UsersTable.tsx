import type { components } from '../../lib/api/schema';
import type { UserChange, UserRow } from './api';

type Role = components['schemas']['RoleResponse'];

interface Props {
  users: UserRow[];
  /** The roles an administrator can tick; empty shows each user's roles as text. */
  roles: Role[];
  canManage: boolean;
  onChange: (change: UserChange) => void;
}

export function UsersTable({ users, roles, canManage, onChange }: Props) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr><th scope="col">Username</th><th scope="col">Email</th><th scope="col">Status</th><th scope="col">Roles</th></tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id} data-username={u.username}>
              <td>{u.username}{u.is_superuser && <span className="badge">superuser</span>}</td>
              <td>{u.email || '—'}</td>
              <td>
                {u.is_active ? 'active' : 'inactive'}
                {canManage && (
                  <button type="button" className="secondary small"
                    onClick={() => onChange({ kind: 'update', id: u.id, body: { is_active: !u.is_active } })}>
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
                          onChange={(e) => onChange({
                            kind: 'roles', id: u.id,
                            roles: e.target.checked ? [...u.roles, r.name] : u.roles.filter((x) => x !== r.name),
                          })} />
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
  );
}
