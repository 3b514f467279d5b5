import { formatDateTime } from '../../lib/format';
import type { Delivery } from './api';
import { lastStatusText } from './deliveryLog';

interface Props {
  delivery: Delivery;
  /** A replay is under way: no other starts meanwhile. */
  busy: boolean;
  onReplay: () => void;
}

/** One delivery of the log: what, how it went, the payload to read, and Replay once it is dead. */
export function DeliveryEntry({ delivery: d, busy, onReplay }: Props) {
  const when = formatDateTime(d.created);
  const about = `${d.event}, ${when}`;
  return (
    <li className="delivery" data-status={d.status}>
      <div className="entry-head">
        <code>{d.event}</code>
        <span className={`badge status-${d.status}`}>{d.status}</span>
        <time dateTime={d.created}>{when}</time>
        {d.status === 'dead' && (
          <button type="button" className="secondary small replay" aria-label={`Replay ${about}`} disabled={busy} onClick={onReplay}>
            Replay
          </button>
        )}
      </div>
      <dl className="kv">
        <dt>Attempts</dt><dd>{d.attempts}</dd>
        {d.last_attempt && (
          <>
            <dt>Last attempt</dt><dd>{formatDateTime(d.last_attempt)}</dd>
            <dt>Last status</dt><dd>{lastStatusText(d)}</dd>
          </>
        )}
        {d.last_error && <><dt>Last error</dt><dd>{d.last_error}</dd></>}
        {d.next_attempt && <><dt>Next attempt</dt><dd>{formatDateTime(d.next_attempt)}</dd></>}
        {d.delivered && <><dt>Delivered</dt><dd>{formatDateTime(d.delivered)}</dd></>}
        <dt>Message ID</dt><dd><code>{d.id}</code></dd>
      </dl>
      <details className="payload">
        <summary>Payload<span className="sr-only"> of {about}</span></summary>
        {/* Focusable, so its own scrolling works from the keyboard too. */}
        <pre role="region" aria-label={`Payload of ${about}`} tabIndex={0}>{JSON.stringify(d.payload, null, 2)}</pre>
      </details>
    </li>
  );
}
