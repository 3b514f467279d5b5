import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import type { NoticeState } from '../clients/notice';
import type { Webhook } from './api';
import { WebhookEditor } from './WebhookEditor';
import { WebhookSecret } from './WebhookSecret';
import './webhooks.css';

/** Adds an endpoint; its signing secret is shown once, before its page opens. */
export function NewWebhookPage() {
  const navigate = useNavigate();
  const [made, setMade] = useState<Webhook | null>(null);

  const open = (w: Webhook) => navigate(`/webhooks/${encodeURIComponent(w.id)}`, {
    replace: true, state: { notice: 'The endpoint is added: it hears of the chosen events from now on.' } satisfies NoticeState,
  });

  return (
    <section className="card" aria-labelledby="new-webhook-title">
      <p className="crumbs"><Link to="/webhooks">← Webhooks</Link></p>
      <h1 id="new-webhook-title">New endpoint</h1>
      {made?.secret ? (
        <WebhookSecret secret={made.secret} onDone={() => open(made)} />
      ) : (
        <WebhookEditor before={null} submitLabel="Add endpoint" onSaved={(w) => (w.secret ? setMade(w) : open(w))} />
      )}
    </section>
  );
}
