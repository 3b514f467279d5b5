import { useState, type ReactNode } from 'react';
import { Link, useLocation, useNavigate, useParams, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Tab, TabList, TabPanel, Tabs, type Key } from 'react-aria-components';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Notice } from '../../components/Notice';
import { usePageTitle } from '../../components/Page';
import { RecordLoading } from '../../components/QueryState';
import { changeError } from '../../lib/api/errors';
import { formatDateTime } from '../../lib/format';
import { noticeOf, type NoticeState } from '../clients/notice';
import { useChangeWebhook, webhookQuery, type Webhook } from './api';
import { DeliveryLog } from './DeliveryLog';
import { EnabledBadge } from './EnabledBadge';
import { endpointName, formatName } from './webhookForm';
import { WebhookEditor } from './WebhookEditor';
import { WebhookSecret } from './WebhookSecret';
import './webhooks.css';

/**
 * One endpoint: its delivery log (the first tab: what an administrator comes for), and
 * its settings, a new secret and removal. The open tab is in the URL (`?tab=settings`).
 */
export function WebhookPage() {
  const { id = '' } = useParams();
  const webhook = useQuery(webhookQuery(id));
  const arrived = noticeOf(useLocation().state);
  const [said, setSaid] = useState<string | null>(null);
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'settings' ? 'settings' : 'deliveries';
  // The log's filter and page belong to its tab: another tab starts without them.
  const choose = (key: Key) => setParams(key === 'settings' ? { tab: 'settings' } : {}, { replace: true });
  const w = webhook.data;
  usePageTitle(w ? `${endpointName(w)} · Webhooks` : null);

  if (!w) {
    return (
      <RecordLoading query={webhook} title="Webhook endpoint" what="the endpoint" back={<Link to="/webhooks">← Webhooks</Link>}
        missing={{ title: 'No such endpoint', text: 'There is no webhook endpoint with this id: it may have been deleted.' }} />
    );
  }
  return (
    <section className="card" aria-labelledby="webhook-title">
      <p className="crumbs"><Link to="/webhooks">← Webhooks</Link></p>
      <h1 id="webhook-title" className="webhook-title">{endpointName(w)}</h1>
      <p className="badges"><EnabledBadge enabled={w.enabled} /></p>
      <dl className="facts">
        <dt>URL</dt><dd><code data-testid="webhook-url">{w.url}</code></dd>
        <dt>Format</dt><dd>{formatName(w.format)}</dd>
        <dt>Events</dt><dd>{w.events.join(', ')}</dd>
        <dt>Added</dt><dd>{formatDateTime(w.created)}</dd>
        <dt>Changed</dt><dd>{formatDateTime(w.updated)}</dd>
      </dl>
      <Notice success={said ?? arrived} />
      <Tabs className="tabs" selectedKey={tab} onSelectionChange={choose}>
        <TabList aria-label="About this endpoint">
          <Tab id="deliveries">Deliveries</Tab>
          <Tab id="settings">Settings</Tab>
        </TabList>
        <TabPanel id="deliveries"><DeliveryLog webhookId={w.id} /></TabPanel>
        <TabPanel id="settings">
          <SecretAndRemoval webhook={w} onSaid={setSaid}>
            {/* A fresh form for each saved version: it starts from what the server kept. */}
            <WebhookEditor key={w.updated} before={w} submitLabel="Save changes" onSaved={() => setSaid('Changes saved.')} />
          </SecretAndRemoval>
        </TabPanel>
      </Tabs>
    </section>
  );
}

interface SecretAndRemovalProps {
  webhook: Webhook;
  onSaid: (message: string) => void;
  /** The rest of the tab, hidden while a new secret is shown. */
  children: ReactNode;
}

/**
 * Rotate secret (Standard Webhooks: a Security Event Token is signed with the published
 * key instead) and Delete, each asked about first; a new secret takes the tab until it is stored.
 */
function SecretAndRemoval({ webhook, onSaid, children }: SecretAndRemovalProps) {
  const navigate = useNavigate();
  const change = useChangeWebhook();
  const [secret, setSecret] = useState<string | null>(null);
  const name = endpointName(webhook);
  const signed = webhook.format === 'standard';
  const rotate = () => change.mutate({ kind: 'rotate-secret', id: webhook.id }, {
    onSuccess: (w) => setSecret(w?.secret ?? null),
  });
  const remove = () => change.mutate({ kind: 'delete', id: webhook.id }, {
    onSuccess: () => navigate('/webhooks', { replace: true, state: { notice: `${name} is deleted.` } satisfies NoticeState }),
  });

  if (secret) {
    return <WebhookSecret secret={secret} rotated onDone={() => { setSecret(null); onSaid('The new secret is in use.'); }} />;
  }
  return (
    <>
      {children}
      <h2>{signed ? 'Secret and removal' : 'Removal'}</h2>
      {!signed && (
        <p className="muted">Its Security Event Tokens are signed with the key that signs access tokens: receivers verify them
          against the published JWKS, so the endpoint has no secret of its own.</p>
      )}
      <Notice error={change.error ? changeError(change.error) : null} />
      <div className="actions">
        {signed && (
          <ConfirmDialog trigger="Rotate secret…" triggerClassName="secondary" triggerDisabled={change.isPending}
            title="Rotate the signing secret?" confirmLabel="Rotate secret" destructive onConfirm={rotate}>
            <p>A new secret is made and shown once. The current one stops signing at once: the receiver at {webhook.url} refuses
              every delivery until its configuration holds the new one.</p>
          </ConfirmDialog>
        )}
        <ConfirmDialog trigger="Delete endpoint…" triggerClassName="danger" triggerDisabled={change.isPending}
          title={`Delete ${name}?`} confirmLabel="Delete endpoint" destructive onConfirm={remove}>
          <p>It hears of nothing more, and its delivery log goes with it: deliveries still pending are never sent. This cannot be
            undone.</p>
        </ConfirmDialog>
      </div>
    </>
  );
}
