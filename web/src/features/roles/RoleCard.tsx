import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { ApiError, changeError } from '../../lib/api/errors';
import { useChangeRole, type Role } from './api';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { PermissionPicker } from '../../components/PermissionPicker';
import { permissionDiff } from './rules';

interface Props {
  role: Role;
  canManage: boolean;
  builtin: string[];
  inUse: string[];
}

const holdersText = (n: number) => `${n} user${n === 1 ? '' : 's'}`;

type Asking = 'permissions' | 'delete' | null;

/** One role: its holders, description and permissions, each editable in place. */
export function RoleCard({ role, canManage, builtin, inUse }: Props) {
  const change = useChangeRole();
  const [description, setDescription] = useState<string | null>(null);
  const [permissions, setPermissions] = useState<string[] | null>(null);
  const [asking, setAsking] = useState<Asking>(null);
  const [success, setSuccess] = useState<string | null>(null);
  const fieldErrors = change.error instanceof ApiError ? change.error.fieldErrors() : {};
  const builtinRole = role.name === 'admin';
  const headingId = `role-${role.name}`;
  const holders = role.holders ?? 0;

  function run(c: Parameters<typeof change.mutate>[0], done: string, after: () => void) {
    setSuccess(null);
    change.mutate(c, { onSuccess: () => { setSuccess(done); after(); } });
  }

  function saveDescription(e: FormEvent) {
    e.preventDefault();
    run({ kind: 'update', name: role.name, description: description ?? '' }, 'Description saved.', () => setDescription(null));
  }

  const diff = permissions ? permissionDiff(role.permissions, permissions) : { added: [], removed: [] };
  const savePermissions = () =>
    run({ kind: 'update', name: role.name, permissions: permissions ?? [] }, 'Permissions saved.', () => setPermissions(null));

  return (
    <li className="role-card" aria-labelledby={headingId} data-role={role.name}>
      <div className="role-head">
        <h2 id={headingId}>{role.name}</h2>
        <Link to={`/users?role=${encodeURIComponent(role.name)}`} data-testid="holders">
          {holdersText(holders)}
        </Link>
      </div>

      {description === null ? (
        <div className="role-line">
          <p className={role.description ? undefined : 'muted'}>{role.description || 'No description.'}</p>
          {canManage && (
            <button type="button" className="secondary small" onClick={() => setDescription(role.description)}
              aria-label={`Edit the description of ${role.name}`}>Edit</button>
          )}
        </div>
      ) : (
        <form className="inline-form" onSubmit={saveDescription}>
          <Field label={`Description of ${role.name}`} value={description} maxLength={200}
            onChange={(e) => setDescription(e.target.value)} errors={fieldErrors.description} autoFocus />
          <button type="submit" disabled={change.isPending}>Save</button>
          <button type="button" className="secondary" onClick={() => setDescription(null)}>Cancel</button>
        </form>
      )}

      {permissions === null ? (
        <div className="role-line">
          <ul className="tags static" aria-label={`Permissions of ${role.name}`}>
            {role.permissions.length ? role.permissions.map((p) => <li key={p} className="tag"><code>{p}</code></li>)
              : <li className="muted">No permissions.</li>}
          </ul>
          {canManage && (
            <button type="button" className="secondary small" onClick={() => setPermissions(role.permissions)}
              aria-label={`Edit permissions of ${role.name}`}>Edit permissions</button>
          )}
        </div>
      ) : (
        <div className="permission-edit">
          <PermissionPicker target={role.name} value={permissions} onChange={setPermissions}
            builtin={builtin} inUse={inUse} errors={fieldErrors.permissions} />
          {builtinRole && <p className="muted">The admin role keeps its built-in permissions.</p>}
          <div className="actions">
            <button type="button" disabled={change.isPending || (!diff.added.length && !diff.removed.length)}
              onClick={() => (holders > 0 ? setAsking('permissions') : savePermissions())}>
              Save permissions
            </button>
            <button type="button" className="secondary" onClick={() => setPermissions(null)}>Cancel</button>
          </div>
        </div>
      )}

      {canManage && !builtinRole && (
        <div className="actions">
          <button type="button" className="danger small" onClick={() => setAsking('delete')}
            aria-label={`Delete the role ${role.name}`}>Delete…</button>
        </div>
      )}
      <Notice error={change.error ? changeError(change.error) : null} success={success} />

      <ConfirmDialog isOpen={asking === 'delete'} destructive title={`Delete the role ${role.name}?`}
        confirmLabel="Delete role" onOpenChange={(o) => { if (!o) setAsking(null); }}
        onConfirm={() => {
          setAsking(null);
          run({ kind: 'delete', name: role.name }, 'Deleted.', () => {});
        }}>
        <p>
          {holders > 0
            ? `${holdersText(holders)} lose${holders === 1 ? 's' : ''} it, and with it: ${role.permissions.join(', ') || 'no permissions'}.`
            : 'Nobody holds it.'}
        </p>
      </ConfirmDialog>

      <ConfirmDialog isOpen={asking === 'permissions'} destructive
        title={`Change what ${holdersText(holders)} holding ${role.name} may do?`}
        confirmLabel="Save permissions" onOpenChange={(o) => { if (!o) setAsking(null); }}
        onConfirm={() => { setAsking(null); savePermissions(); }}>
        <ul>
          {diff.added.length > 0 && <li>They gain: <strong>{diff.added.join(', ')}</strong></li>}
          {diff.removed.length > 0 && <li>They lose: <strong>{diff.removed.join(', ')}</strong></li>}
        </ul>
        <p className="muted">Guarded routes see the change at once; sign-in tokens at their next refresh.</p>
      </ConfirmDialog>
    </li>
  );
}
