import { useQuery } from '@tanstack/react-query';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Notice } from '../../components/Notice';
import { QueryState } from '../../components/QueryState';
import { changeError, UNREACHABLE } from '../../lib/api/errors';
import { formatDate, plural } from '../../lib/format';
import { describeScope } from '../../lib/scopes';
import { applicationsQuery, useDisconnect, type ConnectedApplication } from './api';
import './applications.css';

/** The applications the user let sign them in, what each may do, and Disconnect. */
export function ApplicationsPage() {
  const apps = useQuery(applicationsQuery());
  const disconnect = useDisconnect();
  const gone = disconnect.isSuccess ? `${disconnect.variables.name} is disconnected.` : null;

  return (
    <section className="card" aria-labelledby="applications-title">
      <h1 id="applications-title">Connected applications</h1>
      <p>Applications you let sign you in with your account, and what each may do.</p>
      <Notice error={disconnect.error ? changeError(disconnect.error, UNREACHABLE) : null} success={gone} />
      <QueryState query={apps} what="your applications" isEmpty={(list) => list.length === 0}
        empty={<p>No applications are connected. When you let one sign you in, it shows here, and you can disconnect it.</p>}>
        {(list) => (
          <ul className="list" data-testid="applications">
            {list.map((app) => (
              <Application key={app.client_id} app={app} busy={disconnect.isPending} onDisconnect={() => disconnect.mutate(app)} />
            ))}
          </ul>
        )}
      </QueryState>
    </section>
  );
}

function Application({ app, busy, onDisconnect }: { app: ConnectedApplication; busy: boolean; onDisconnect: () => void }) {
  return (
    <li className="row application">
      <div>
        <h2>{app.name}</h2>
        {app.scopes.length ? (
          <ul className="scope-list" aria-label={`What ${app.name} may do`}>
            {app.scopes.map((s) => <li key={s}>{describeScope(s)}</li>)}
          </ul>
        ) : (
          // A first-party application is trusted without a consent, so none lists its scopes.
          <p>An application of this service: it signs you in without asking.</p>
        )}
        <p className="muted">Connected {formatDate(app.granted)} · {plural(app.active_grants, 'active session')}</p>
      </div>
      <ConfirmDialog trigger="Disconnect" triggerClassName="secondary" triggerAriaLabel={`Disconnect ${app.name}`}
        triggerDisabled={busy} title={`Disconnect ${app.name}?`} confirmLabel="Disconnect" destructive onConfirm={onDisconnect}>
        <p>
          {app.name} can no longer act for you: its sessions end at once, and it asks for your permission again the next
          time you sign in to it.
        </p>
      </ConfirmDialog>
    </li>
  );
}
