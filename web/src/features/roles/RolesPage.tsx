import { useQuery } from '@tanstack/react-query';
import { useAuth } from '../../lib/auth';
import { hasPermission } from '../../lib/permissions';
import { Loading } from '../../components/Notice';
import { LoadError } from '../../components/QueryState';
import { NewRoleForm } from './NewRoleForm';
import { permissionsQuery } from '../../lib/api/queries';
import { rolesWithHoldersQuery } from './api';
import { RoleCard } from './RoleCard';
import './roles.css';

export function RolesPage() {
  const { user } = useAuth();
  const canManage = hasPermission(user, 'roles.manage');
  const roles = useQuery(rolesWithHoldersQuery());
  const permissions = useQuery(permissionsQuery());
  const builtin = permissions.data?.builtin ?? [];
  const inUse = permissions.data?.in_use ?? [];

  return (
    <section className="card" aria-labelledby="roles-title">
      <h1 id="roles-title">Roles</h1>
      <p className="muted">A role is a named set of permissions; users hold roles. Superusers hold every permission.</p>
      {roles.error && <LoadError error={roles.error} what="the roles" onRetry={roles.refetch} retrying={roles.isFetching} />}
      {!roles.data ? (
        !roles.error && <Loading what="roles" />
      ) : roles.data.length === 0 ? (
        <p className="empty">There are no roles yet.</p>
      ) : (
        <ul className="role-list" data-testid="roles-list">
          {roles.data.map((r) => <RoleCard key={r.name} role={r} canManage={canManage} builtin={builtin} inUse={inUse} />)}
        </ul>
      )}
      {canManage && <NewRoleForm builtin={builtin} inUse={inUse} />}
    </section>
  );
}
