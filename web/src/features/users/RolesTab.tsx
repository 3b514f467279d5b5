import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { CheckboxGroup } from 'react-aria-components';
import { Loading, Notice } from '../../components/Notice';
import { LoadError } from '../../components/QueryState';
import { rolesQuery } from '../../lib/api/queries';
import type { User } from './api';
import { Check } from '../../components/Check';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { diffRoles } from './roleChange';
import { useUserAction } from './useUserAction';

export function RolesTab({ user, canManage }: { user: User; canManage: boolean }) {
  const roles = useQuery(rolesQuery());
  const action = useUserAction();
  const [chosen, setChosen] = useState<string[]>(user.roles);
  const [asking, setAsking] = useState(false);

  if (!roles.data) {
    return roles.error
      ? <LoadError error={roles.error} what="the roles" onRetry={roles.refetch} retrying={roles.isFetching} />
      : <Loading what="roles" />;
  }
  const diff = diffRoles(user.roles, chosen, roles.data);
  const changed = diff.added.length + diff.removed.length > 0;

  return (
    <>
      {user.is_superuser && (
        <p className="notice">{user.username} is a superuser and holds every permission whatever their roles.</p>
      )}
      <h2 id="roles-heading">Roles of {user.username}</h2>
      <CheckboxGroup aria-labelledby="roles-heading" className="role-choices" value={chosen} onChange={setChosen}
        isReadOnly={!canManage}>
        {roles.data.map((r) => (
          <Check key={r.name} value={r.name}>
            <span>
              <strong>{r.name}</strong>
              {r.description && <span className="muted">{r.description}</span>}
              <span className="muted">{r.permissions.length ? r.permissions.join(', ') : 'no permissions'}</span>
            </span>
          </Check>
        ))}
      </CheckboxGroup>
      {roles.data.length === 0 && <p className="muted">There are no roles yet.</p>}
      {canManage && (
        <div className="actions">
          <button type="button" disabled={!changed || action.busy} onClick={() => setAsking(true)}>Save roles…</button>
          <button type="button" className="secondary" disabled={!changed} onClick={() => setChosen(user.roles)}>Undo changes</button>
        </div>
      )}
      <Notice error={action.error} success={action.success} reserve />

      <ConfirmDialog isOpen={asking} title={`Change the roles of ${user.username}?`} confirmLabel="Save roles"
        destructive onOpenChange={(o) => { if (!o) setAsking(false); }}
        onConfirm={() => {
          setAsking(false);
          action.run({ kind: 'roles', id: user.id, roles: chosen }, 'Roles saved.');
        }}>
        <ul>
          {diff.added.length > 0 && <li>Gives: <strong>{diff.added.join(', ')}</strong></li>}
          {diff.removed.length > 0 && <li>Takes away: <strong>{diff.removed.join(', ')}</strong></li>}
          {diff.gained.length > 0 && <li>New permissions: {diff.gained.join(', ')}</li>}
          {diff.lost.length > 0 && <li>Permissions lost: {diff.lost.join(', ')}</li>}
        </ul>
        <p className="muted">Guarded routes see the change at once; their sign-in tokens at the next refresh.</p>
      </ConfirmDialog>
    </>
  );
}
