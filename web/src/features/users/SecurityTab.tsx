import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Loading, Notice } from '../../components/Notice';
import { LoadError } from '../../components/QueryState';
import { userSecurityQuery, type User } from './api';
import { userIdentitiesQuery } from '../external/api';
import { UserTokens } from '../tokens/UserTokens';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { formatDateTime, formatUnix } from '../../lib/format';
import { useUserAction } from './useUserAction';

export function SecurityTab({ user, canManage }: { user: User; canManage: boolean }) {
  const security = useQuery(userSecurityQuery(user.id));
  const identities = useQuery(userIdentitiesQuery(user.id));
  const factors = useUserAction();
  const lockout = useUserAction();
  const reset = useUserAction();
  const [asking, setAsking] = useState(false);

  if (!security.data) {
    return security.error
      ? <LoadError error={security.error} what="the security settings" onRetry={security.refetch} retrying={security.isFetching} />
      : <Loading what="security settings" />;
  }
  const s = security.data;
  const hasFactor = s.totp || s.passkeys.length > 0;
  const totpLocked = !!s.totp_locked_until && new Date(s.totp_locked_until) > new Date();
  const locked = s.login_locked || totpLocked;

  return (
    <>
      <div className="section">
        <h2>Two-factor authentication</h2>
        <dl className="facts">
          <dt>Authenticator app</dt><dd>{s.totp ? 'on' : 'off'}</dd>
          <dt>Passkeys</dt>
          <dd>
            {s.passkeys.length === 0 ? 'none' : (
              <ul className="plain">
                {s.passkeys.map((p) => (
                  <li key={p.id}>
                    <strong>{p.name}</strong>{' '}
                    <span className="muted">added {formatUnix(p.created_at)}, last used {formatUnix(p.last_used_at, 'never')}</span>
                  </li>
                ))}
              </ul>
            )}
          </dd>
          <dt>Recovery codes left</dt><dd>{s.recovery_codes_left}</dd>
        </dl>
        {canManage && (
          <div className="actions">
            <button type="button" className="danger" disabled={!hasFactor || factors.busy} onClick={() => setAsking(true)}>
              Remove all factors…
            </button>
            {!hasFactor && <span className="muted">Nothing to remove.</span>}
          </div>
        )}
        <Notice error={factors.error} success={factors.success} />
      </div>

      <div className="section">
        <h2>Linked accounts</h2>
        {identities.error ? <LoadError error={identities.error} what="the linked accounts" onRetry={identities.refetch} retrying={identities.isFetching} />
          : !identities.data ? <Loading what="linked accounts" />
          : identities.data.length === 0 ? <p>None: the user signs in with a password or passkey only.</p> : (
            <ul className="plain" data-testid="user-identities">
              {identities.data.map((i) => (
                <li key={i.id}>
                  <strong>{i.display_name}</strong>{' '}
                  <span className="muted">{i.email || 'no verified address'}, linked {formatDateTime(i.created)}, last used {i.last_used ? formatDateTime(i.last_used) : 'never'}</span>
                </li>
              ))}
            </ul>
          )}
      </div>

      <UserTokens userId={user.id} username={user.username} canManage={canManage} />

      <div className="section">
        <h2>Sign-in lockout</h2>
        <dl className="facts">
          <dt>Failed sign-ins counted</dt><dd>{s.login_failures}</dd>
          <dt>Sign-in locked</dt><dd>{s.login_locked ? 'yes' : 'no'}</dd>
          <dt>Authenticator app locked</dt><dd>{totpLocked ? `until ${formatDateTime(s.totp_locked_until)}` : 'no'}</dd>
        </dl>
        {canManage && (
          <div className="actions">
            <button type="button" className="secondary" disabled={(!locked && s.login_failures === 0) || lockout.busy}
              onClick={() => lockout.run({ kind: 'clear-lockouts', id: user.id }, 'Lockout cleared.')}>
              Clear lockout
            </button>
          </div>
        )}
        <Notice error={lockout.error} success={lockout.success} />
      </div>

      {canManage && (
        <div className="section">
          <h2>Password</h2>
          <p className="muted">
            {user.email && user.email_verified
              ? `A link to choose a new password goes to ${user.email}.`
              : 'A link can only go to a verified email address; a user who has not chosen a password yet gets a new invitation instead.'}
          </p>
          <div className="actions">
            <button type="button" className="secondary" disabled={reset.busy}
              onClick={() => reset.run({ kind: 'send-reset-link', id: user.id }, (d) => d ?? 'The link is on its way.')}>
              Send password reset link
            </button>
          </div>
          <Notice error={reset.error} success={reset.success} />
        </div>
      )}

      <ConfirmDialog isOpen={asking} destructive title={`Remove every factor of ${user.username}?`} confirmLabel="Remove all factors"
        onOpenChange={(o) => { if (!o) setAsking(false); }}
        onConfirm={() => {
          setAsking(false);
          factors.run({ kind: 'reset-mfa', id: user.id }, 'Every factor is removed. The user signs in with the password alone until they add one.');
        }}>
        <p>
          This removes {[s.totp && 'the authenticator app', s.passkeys.length > 0 && `${s.passkeys.length} passkey(s)`,
            s.recovery_codes_left > 0 && 'the recovery codes'].filter(Boolean).join(', ') || 'every factor'}.
          Use it when the user lost their device and proved who they are another way.
        </p>
      </ConfirmDialog>
    </>
  );
}
