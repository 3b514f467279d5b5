import { useNavigate } from 'react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import { changeError, UNREACHABLE } from '../../lib/api/errors';
import { forgetSession } from '../../lib/api/session';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Notice } from '../../components/Notice';
import { QueryState } from '../../components/QueryState';
import { revokeAllSessions, sessionsQuery, useRevokeSession } from './api';

/** "Firefox on Windows" from a user agent string; the raw string stays in a tooltip. */
export function describeDevice(userAgent: string): string {
  if (!userAgent) return 'Unknown device';
  const browser =
    [['Edg/', 'Edge'], ['Firefox/', 'Firefox'], ['HeadlessChrome/', 'Headless Chrome'], ['Chrome/', 'Chrome'],
      ['Safari/', 'Safari'], ['curl/', 'curl']].find(([token]) => userAgent.includes(token as string))?.[1];
  const os =
    [['Android', 'Android'], ['iPhone', 'iPhone'], ['iPad', 'iPad'], ['Windows', 'Windows'], ['Mac OS X', 'macOS'],
      ['Linux', 'Linux']].find(([token]) => userAgent.includes(token as string))?.[1];
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? userAgent.slice(0, 60);
}

export function SessionsPage() {
  const navigate = useNavigate();
  const sessions = useQuery(sessionsQuery());
  const revoke = useRevokeSession();
  const revokeAll = useMutation({
    mutationFn: revokeAllSessions,
    onSuccess: () => {
      forgetSession();
      navigate('/login', { replace: true });
    },
  });

  const error = revoke.error ? changeError(revoke.error, UNREACHABLE)
    : revokeAll.error ? changeError(revokeAll.error, UNREACHABLE) : null;

  return (
    <section className="card" aria-labelledby="sessions-title">
      <h1 id="sessions-title">My sessions</h1>
      <p>Each browser or device signed in to your account. Revoke one you do not recognise, or that you no longer use.</p>
      <Notice error={error} />
      <QueryState query={sessions} what="your sessions" isEmpty={(list) => list.length === 0}
        empty={<p>No active sessions: signing in again starts one.</p>}>
        {(list) => (
          <>
            <ul className="list" data-testid="sessions">
              {list.map((s) => (
                <li key={s.id} className="row">
                  <div>
                    <strong title={s.user_agent}>{describeDevice(s.user_agent)}</strong>
                    {s.current && <span className="badge">This session</span>}
                    <div className="muted">
                      {s.ip || 'unknown address'} · last used {new Date(s.last_used).toLocaleString()}
                    </div>
                  </div>
                  {!s.current && (
                    <button type="button" className="secondary" disabled={revoke.isPending && revoke.variables === s.id}
                      aria-label={`Revoke ${describeDevice(s.user_agent)}, last used ${new Date(s.last_used).toLocaleString()}`}
                      onClick={() => revoke.mutate(s.id)}>
                      Revoke
                    </button>
                  )}
                </li>
              ))}
            </ul>
            <ConfirmDialog trigger="Log out everywhere" triggerClassName="danger" triggerDisabled={revokeAll.isPending}
              title="Log out everywhere?" confirmLabel="Log out everywhere" destructive onConfirm={() => revokeAll.mutate()}>
              <p>Every session of your account ends, this one included: each device has to sign in again.</p>
            </ConfirmDialog>
          </>
        )}
      </QueryState>
    </section>
  );
}
