import { useState, type ReactNode } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Notice } from '../../components/Notice';
import { usePageTitle } from '../../components/Page';
import { RecordLoading } from '../../components/QueryState';
import { changeError } from '../../lib/api/errors';
import { formatDateTime } from '../../lib/format';
import { clientQuery, useChangeClient, type Client } from './api';
import { ClientBadges } from './ClientBadges';
import { ClientEditor } from './ClientEditor';
import { ClientSecret } from './ClientSecret';
import { noticeOf, type NoticeState } from './notice';
import './clients.css';

/** One application: what it is, its settings to change, a new secret, removal. */
export function ClientPage() {
  const { id = '' } = useParams();
  const client = useQuery(clientQuery(id));
  const arrived = noticeOf(useLocation().state);
  const [said, setSaid] = useState<string | null>(null);
  usePageTitle(client.data ? `${client.data.name} · Applications` : null);

  const c = client.data;
  if (!c) {
    return (
      <RecordLoading query={client} title="Application" what="the application" back={<Link to="/clients">← Applications</Link>}
        missing={{ title: 'No such application', text: 'There is no application with this client ID: it may have been deleted.' }} />
    );
  }
  return (
    <section className="card" aria-labelledby="client-title">
      <p className="crumbs"><Link to="/clients">← Applications</Link></p>
      <h1 id="client-title">{c.name}</h1>
      <p className="badges"><ClientBadges client={c} /></p>
      <dl className="facts">
        <dt>Client ID</dt><dd><code data-testid="client-id">{c.client_id}</code></dd>
        <dt>Registered</dt><dd>{formatDateTime(c.created)}</dd>
        <dt>Changed</dt><dd>{formatDateTime(c.updated)}</dd>
      </dl>
      <Notice success={said ?? arrived} />
      <SecretAndRemoval client={c} onSaid={setSaid}>
        <h2>Settings</h2>
        {/* A fresh form for each saved version: it starts from what the server kept. */}
        <ClientEditor key={c.updated} before={c} submitLabel="Save changes" onSaved={() => setSaid('Changes saved.')} />
      </SecretAndRemoval>
    </section>
  );
}

interface SecretAndRemovalProps {
  client: Client;
  onSaid: (message: string) => void;
  /** The rest of the page, hidden while a new secret is shown. */
  children: ReactNode;
}

/** Rotate secret and Delete, each asked about first; a new secret takes the page until it is stored. */
function SecretAndRemoval({ client, onSaid, children }: SecretAndRemovalProps) {
  const navigate = useNavigate();
  const change = useChangeClient();
  const [secret, setSecret] = useState<string | null>(null);
  const rotate = () => change.mutate({ kind: 'rotate-secret', id: client.client_id }, {
    onSuccess: (c) => setSecret(c?.client_secret ?? null),
  });
  const remove = () => change.mutate({ kind: 'delete', id: client.client_id }, {
    onSuccess: () => navigate('/clients', { replace: true, state: { notice: `${client.name} is deleted.` } satisfies NoticeState }),
  });

  if (secret) {
    return <ClientSecret clientId={client.client_id} secret={secret} rotated onDone={() => { setSecret(null); onSaid('The new secret is in use.'); }} />;
  }
  return (
    <>
      {children}
      <h2>Secret and removal</h2>
      <Notice error={change.error ? changeError(change.error) : null} />
      <div className="actions">
        {!client.public && (
          <ConfirmDialog trigger="Rotate secret…" triggerClassName="secondary" triggerDisabled={change.isPending}
            title={`Rotate the secret of ${client.name}?`} confirmLabel="Rotate secret" destructive onConfirm={rotate}>
            <p>A new secret is made and shown once. The current one stops working at once: {client.name} cannot sign anyone in
              until its configuration holds the new one.</p>
          </ConfirmDialog>
        )}
        <ConfirmDialog trigger="Delete application…" triggerClassName="danger" triggerDisabled={change.isPending}
          title={`Delete ${client.name}?`} confirmLabel="Delete application" destructive onConfirm={remove}>
          <p>Its users&apos; grants end at once, with their access tokens: everyone signed in to {client.name} through this
            service is signed out of it, and it can no longer sign anyone in. This cannot be undone.</p>
        </ConfirmDialog>
      </div>
    </>
  );
}
