import { useEffect, useState } from 'react';
import { api, ApiError, updateUser, type User } from '../../lib/api/client';
import type { components } from '../../lib/api/schema';
import { Loading, Notice } from '../../components/Notice';

type Protected = components['schemas']['ProtectedResourceResponse'];

export function DashboardPage() {
  const [resource, setResource] = useState<Protected | null>(null);
  const [me, setMe] = useState<User | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    Promise.all([api<Protected>('/protected-resource/'), api<User>('/api/me/')])
      .then(([r, m]) => {
        if (!live) return;
        setResource(r);
        setMe(m);
        // Roles may have changed since sign-in: the nav follows the current ones.
        updateUser(m);
      })
      .catch((e: unknown) => live && setError(e instanceof ApiError ? e.message : 'Could not load.'));
    return () => {
      live = false;
    };
  }, []);

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
