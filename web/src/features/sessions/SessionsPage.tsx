import { useCallback, useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { api, ApiError, forgetSession } from '../../lib/api/client';
import type { components } from '../../lib/api/schema';
import { Loading, Notice } from '../../components/Notice';

type Session = components['schemas']['SessionView'];

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
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    api<Session[]>('/api/me/sessions/')
      .then(setSessions)
      .catch((e: unknown) => setError(e instanceof ApiError ? e.message : 'Could not load sessions.'));
  }, []);
  useEffect(load, [load]);

  async function revoke(id: string) {
    setError(null);
    try {
      await api(`/api/me/sessions/${encodeURIComponent(id)}/`, { method: 'DELETE' });
      load();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'Could not revoke the session.');
    }
  }

  async function revokeAll() {
    setError(null);
    try {
      await api('/api/me/sessions/revoke-all/', { method: 'POST' });
      forgetSession();
      navigate('/login');
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'Could not log out everywhere.');
    }
  }

  return (
    <section className="card" aria-labelledby="sessions-title">
      <h1 id="sessions-title">My sessions</h1>
      <Notice error={error} />
      {!sessions ? (
        !error && <Loading what="sessions" />
      ) : (
        <>
          <ul className="list" data-testid="sessions">
            {sessions.map((s) => (
              <li key={s.id} className="row">
                <div>
                  <strong title={s.user_agent}>{describeDevice(s.user_agent)}</strong>
                  {s.current && <span className="badge">This session</span>}
                  <div className="muted">
                    {s.ip || 'unknown address'} · last used {new Date(s.last_used).toLocaleString()}
                  </div>
                </div>
                {!s.current && (
                  <button type="button" className="secondary" onClick={() => void revoke(s.id)}>
                    Revoke
                  </button>
                )}
              </li>
            ))}
          </ul>
          <button type="button" className="danger" onClick={() => void revokeAll()}>
            Log out everywhere
          </button>
        </>
      )}
    </section>
  );
}
