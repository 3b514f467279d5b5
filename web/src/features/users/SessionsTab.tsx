import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Loading, Notice } from '../../components/Notice';
import { LoadError } from '../../components/QueryState';
import { userSessionsQuery, type User, type UserSession } from './api';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { formatDateTime, plural } from '../../lib/format';
import { useUserAction } from './useUserAction';

type Asking = { kind: 'one'; session: UserSession } | { kind: 'all' };

export function SessionsTab({ user, canManage }: { user: User; canManage: boolean }) {
  const sessions = useQuery(userSessionsQuery(user.id));
  const action = useUserAction();
  const [asking, setAsking] = useState<Asking | null>(null);

  if (!sessions.data) {
    return sessions.error
      ? <LoadError error={sessions.error} what="the sessions" onRetry={sessions.refetch} retrying={sessions.isFetching} />
      : <Loading what="sessions" />;
  }
  const list = sessions.data;

  function confirm() {
    if (!asking) return;
    setAsking(null);
    if (asking.kind === 'one') {
      action.run({ kind: 'end-session', id: user.id, session: asking.session.id }, 'The session has ended.');
    } else {
      action.run({ kind: 'end-all-sessions', id: user.id }, `Every session of ${user.username} has ended.`);
    }
  }

  return (
    <>
      <h2>Signed-in sessions</h2>
      <Notice error={action.error} success={action.success} reserve />
      {list.length === 0 ? (
        <p className="muted" data-testid="no-sessions">{user.username} is not signed in anywhere.</p>
      ) : (
        <ul className="plain entries" data-testid="user-sessions">
          {list.map((s) => (
            <li key={s.id} className="row">
              <div>
                <strong className="ua">{s.user_agent || 'Unknown device'}</strong>
                <div className="muted">
                  {s.ip || 'unknown address'} · signed in {formatDateTime(s.created)} · last used {formatDateTime(s.last_used)}
                </div>
              </div>
              {canManage && (
                <button type="button" className="secondary" disabled={action.busy}
                  onClick={() => setAsking({ kind: 'one', session: s })}
                  aria-label={`End the session from ${s.ip || 'an unknown address'}, last used ${formatDateTime(s.last_used)}`}>
                  End…
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {canManage && list.length > 0 && (
        <div className="actions">
          <button type="button" className="danger" disabled={action.busy} onClick={() => setAsking({ kind: 'all' })}>
            End all sessions…
          </button>
        </div>
      )}
      <ConfirmDialog isOpen={asking !== null} destructive
        title={asking?.kind === 'one' ? 'End this session?' : `End ${plural(list.length, 'session')} of ${user.username}?`}
        confirmLabel={asking?.kind === 'one' ? 'End session' : 'End all sessions'}
        onOpenChange={(o) => { if (!o) setAsking(null); }} onConfirm={confirm}>
        <p>
          {asking?.kind === 'one'
            ? `The device (${asking.session.user_agent || 'unknown'}, ${asking.session.ip || 'unknown address'}) is signed out at once.`
            : `${user.username} is signed out on every device at once. Their password still works.`}
        </p>
      </ConfirmDialog>
    </>
  );
}
