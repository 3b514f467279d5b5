import { useQuery } from '@tanstack/react-query';
import { messageOf } from '../../lib/api/errors';
import { Loading, Notice } from '../../components/Notice';
import { meQuery, protectedResourceQuery } from './api';

export function DashboardPage() {
  const resourceQuery = useQuery(protectedResourceQuery());
  const meResult = useQuery(meQuery());
  const resource = resourceQuery.data;
  const me = meResult.data;
  const failed = resourceQuery.error ?? meResult.error;
  const error = failed ? messageOf(failed, 'Could not load.') : null;

  return (
    <section className="card" aria-labelledby="dash-title">
      <h1 id="dash-title">Dashboard</h1>
      <Notice error={error} />
      {!resource || !me ? (
        !error && <Loading what="your dashboard" />
      ) : (
        <>
          <p className="lead" data-testid="protected-message">{resource.message}</p>
          <dl className="facts">
            <dt>Username</dt>
            <dd data-testid="username">{me.username}</dd>
            <dt>Email</dt>
            <dd>{me.email || '—'}</dd>
            <dt>Roles</dt>
            <dd data-testid="roles">{me.roles.length ? me.roles.join(', ') : 'none'}</dd>
            <dt>Permissions</dt>
            <dd>{me.permissions.length ? me.permissions.join(', ') : 'none'}</dd>
            <dt>Member since</dt>
            <dd>{new Date(me.date_joined).toLocaleString()}</dd>
          </dl>
        </>
      )}
    </section>
  );
}
