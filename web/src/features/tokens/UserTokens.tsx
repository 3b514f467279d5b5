import { useQuery } from '@tanstack/react-query';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Loading, Notice } from '../../components/Notice';
import { LoadError } from '../../components/QueryState';
import { changeError, UNREACHABLE } from '../../lib/api/errors';
import { formatDateTime } from '../../lib/format';
import { describeExpiry, userTokensQuery, useRevokeAllUserTokens, useRevokeUserToken } from './api';

/** A user's personal access tokens on their page in the admin console, each revocable by a `users.manage` holder. */
export function UserTokens({ userId, username, canManage }: { userId: string; username: string; canManage: boolean }) {
  const tokens = useQuery(userTokensQuery(userId));
  const revoke = useRevokeUserToken(userId);
  const revokeAll = useRevokeAllUserTokens(userId);
  const gone = revokeAll.isSuccess ? `Every token of ${username} is revoked.`
    : revoke.isSuccess ? `“${revoke.variables.name}” is revoked.` : null;
  const failed = revokeAll.error ?? revoke.error;
  return (
    <div className="section">
      <h2>Personal access tokens</h2>
      <Notice error={failed ? changeError(failed, UNREACHABLE) : null} success={gone} />
      {tokens.error ? <LoadError error={tokens.error} what="the tokens" onRetry={tokens.refetch} retrying={tokens.isFetching} />
        : !tokens.data ? <Loading what="tokens" />
        : tokens.data.length === 0 ? <p>None.</p> : (
          <ul className="plain" data-testid="user-tokens">
            {tokens.data.map((t) => (
              <li key={t.id}>
                <strong>{t.name}</strong>{' '}
                <span className="muted">
                  <code>{t.prefix}…</code>, {t.permissions.length ? t.permissions.join(', ') : 'no permissions'},
                  made {formatDateTime(t.created)}, {describeExpiry(t, (iso) => formatDateTime(iso))},
                  last used {t.last_used ? `${formatDateTime(t.last_used)} from ${t.last_used_ip}` : 'never'}
                </span>{' '}
                {canManage && (
                  <ConfirmDialog trigger="Revoke" triggerClassName="secondary" triggerAriaLabel={`Revoke ${t.name}`}
                    triggerDisabled={revoke.isPending} title={`Revoke ${username}'s token “${t.name}”?`} confirmLabel="Revoke"
                    destructive onConfirm={() => revoke.mutate(t)}>
                    <p>Scripts using it stop working at once. {username} can make a new one.</p>
                  </ConfirmDialog>
                )}
              </li>
            ))}
          </ul>
        )}
      {canManage && (tokens.data?.length ?? 0) > 1 && (
        <div className="actions">
          <ConfirmDialog trigger="Revoke all tokens…" triggerClassName="danger" triggerDisabled={revokeAll.isPending}
            title={`Revoke every token of ${username}?`} confirmLabel="Revoke all" destructive onConfirm={() => revokeAll.mutate()}>
            <p>All {tokens.data?.length} of {username}'s tokens stop working at once. Use it when one leaked, or to take an account back.</p>
          </ConfirmDialog>
        </div>
      )}
    </div>
  );
}
