import { useNavigate } from 'react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import { messageOf } from '../../lib/api/errors';
import { forgetSession } from '../../lib/api/session';
import { Loading, Notice } from '../../components/Notice';
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
      navigate('/login');
    },
  });

  const error = revoke.error ? messageOf(revoke.error, 'Could not revoke the session.')
    : revokeAll.error ? messageOf(revokeAll.error, 'Could not log out everywhere.')
      : sessions.error ? messageOf(sessions.error, 'Could not load sessions.') : null;

  return (
    <section className="card" aria-labelledby="sessions-title">
      <h1 id="sessions-title">My sessions</h1>
      <Notice error={error} />
      {!sessions.data ? (
        !error && <Loading what="sessions" />
      ) : (
        <>
          <ul className="list" data-testid="sessions">
            {sessions.data.map((s) => (
              <li key={s.id} className="row">
                <div>
                  <strong title={s.user_agent}>{describeDevice(s.user_agent)}</strong>
                  {s.current && <span className="badge">This session</span>}
                  <div className="muted">
                    {s.ip || 'unknown address'} · last used {new Date(s.last_used).toLocaleString()}
                  </div>
                </div>
                {!s.current && (
                  <button type="button" className="secondary" onClick={() => revoke.mutate(s.id)}>
                    Revoke
                  </button>
                )}
              </li>
            ))}
          </ul>
          <button type="button" className="danger" onClick={() => revokeAll.mutate()}>
            Log out everywhere
          </button>
        </>
      )}
    </section>
  );
}
