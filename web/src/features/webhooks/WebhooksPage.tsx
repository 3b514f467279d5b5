import { Link, useLocation } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Notice } from '../../components/Notice';
import { QueryState } from '../../components/QueryState';
import { formatDate } from '../../lib/format';
import { noticeOf } from '../clients/notice';
import { webhooksQuery, type Webhook } from './api';
import { EnabledBadge } from './EnabledBadge';
import { formatName } from './webhookForm';
import './webhooks.css';

/** Every webhook endpoint, oldest first as the server lists them. */
export function WebhooksPage() {
  const webhooks = useQuery(webhooksQuery());
  const notice = noticeOf(useLocation().state);
  return (
    <section className="card" aria-labelledby="webhooks-title">
      <div className="page-head">
        <h1 id="webhooks-title">Webhooks</h1>
        <Link className="button" to="/webhooks/new">Add endpoint</Link>
      </div>
      <p className="muted">
        Other systems hear of what happens here (new users, sign-ins, ended sessions, changed roles…) as signed HTTP
        requests, each retried until its endpoint takes it.
      </p>
      <Notice success={notice} />
      <QueryState query={webhooks} what="the endpoints" isEmpty={(list) => list.length === 0}
        empty={<p>No endpoints yet. Add one to tell another system what happens here.</p>}>
        {(list) => <ul className="list" data-testid="webhooks">{list.map((w) => <WebhookRow key={w.id} webhook={w} />)}</ul>}
      </QueryState>
    </section>
  );
}

function WebhookRow({ webhook: w }: { webhook: Webhook }) {
  return (
    <li className="row webhook-row">
      <div>
        <Link to={`/webhooks/${encodeURIComponent(w.id)}`} className="webhook-url">{w.url}</Link>
        {/* Under the URL, which often fills the line. */}
        <div className="webhook-about">
          <EnabledBadge enabled={w.enabled} />
          {w.format !== 'standard' && <span className="badge">{formatName(w.format)}</span>}
          {w.description && <span>{w.description}</span>}
        </div>
        <div className="muted">
          <span className="sr-only">Events: </span>{w.events.join(', ')} · added {formatDate(w.created)}
        </div>
      </div>
    </li>
  );
}
