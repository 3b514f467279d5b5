import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { QueryState } from '../../components/QueryState';
import { mfaStatusQuery } from '../account/api';
import { meQuery } from './api';

/** The signed-in user's home: who they are, what they may do, how the account is protected. */
export function DashboardPage() {
  const me = useQuery(meQuery());
  const mfa = useQuery(mfaStatusQuery());

  return (
    <section className="card" aria-labelledby="dash-title">
      <h1 id="dash-title">Dashboard</h1>
      <QueryState query={me} what="your account">
        {(user) => (
          <>
            <p className="greeting" data-testid="greeting">Hello, {user.username}.</p>
            <h2>Your account</h2>
            <dl className="facts">
              <dt>Username</dt>
              <dd data-testid="username">{user.username}</dd>
              <dt>Email</dt>
              <dd>
                {user.email ? `${user.email} (${user.email_verified ? 'verified' : 'not verified yet'})` : 'none'}
              </dd>
              <dt>Roles</dt>
              <dd data-testid="roles">{user.roles.length ? user.roles.join(', ') : 'none'}</dd>
              <dt>Permissions</dt>
              <dd>{user.is_superuser ? 'all (superuser)' : user.permissions.length ? user.permissions.join(', ') : 'none'}</dd>
              <dt>Member since</dt>
              <dd>{new Date(user.date_joined).toLocaleDateString()}</dd>
            </dl>
            <h2>Security</h2>
            <dl className="facts">
              <dt>Two-factor</dt>
              <dd data-testid="dash-mfa">
                {mfa.data
                  ? mfa.data.totp || mfa.data.passkeys ? 'on' : 'off: signing in needs only your password'
                  : mfa.isError ? 'unknown (could not be loaded)' : 'loading…'}
                {' · '}
                <Link to="/two-factor">Manage two-factor</Link>
              </dd>
              <dt>Sessions</dt>
              <dd><Link to="/sessions">See where you are signed in</Link></dd>
              <dt>Password</dt>
              <dd><Link to="/password">Change your password</Link></dd>
            </dl>
          </>
        )}
      </QueryState>
    </section>
  );
}
