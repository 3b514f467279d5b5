import { Fragment, useState } from 'react';
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Loading } from '../../components/Notice';
import { LoadError } from '../../components/QueryState';
import { userHistoryQuery, type AuditEntry, type HistorySide, type User } from './api';
import { detailLines } from '../../lib/auditDetail';
import { formatDateTime, plural } from '../../lib/format';

function Entry({ entry, side }: { entry: AuditEntry; side: HistorySide }) {
  const lines = detailLines(entry.detail);
  // The other party: who acted on this user, or whom this user acted on.
  const otherId = side === 'user' ? entry.actor_id : entry.user_id;
  const otherName = side === 'user' ? entry.actor_username : entry.username;
  return (
    <li>
      <div className="entry-head">
        <code>{entry.event}</code>
        <time dateTime={entry.time}>{formatDateTime(entry.time)}</time>
        {otherId && (
          <span>
            {side === 'user' ? 'by ' : 'on '}
            <Link to={`/users/${encodeURIComponent(otherId)}`}>{otherName ?? otherId}</Link>
          </span>
        )}
        {entry.ip && <span className="muted">from {entry.ip}</span>}
      </div>
      {lines.length > 0 && (
        <dl className="kv">
          {lines.map((l) => <Fragment key={l.key}><dt>{l.key}</dt><dd>{l.value}</dd></Fragment>)}
        </dl>
      )}
    </li>
  );
}

/** The user's audit entries: what happened to them, or what they did, newest first. */
export function HistoryTab({ user }: { user: User }) {
  const [side, setSide] = useState<HistorySide>('user');
  const [page, setPage] = useState(1);
  const history = useQuery(userHistoryQuery(user.id, side, page));
  const data = history.data;

  return (
    <>
      <div className="search-row">
        <div>
          <label htmlFor="history-side">Show</label>
          <select id="history-side" value={side} onChange={(e) => { setSide(e.target.value as HistorySide); setPage(1); }}>
            <option value="user">Events about {user.username}</option>
            <option value="actor">Actions by {user.username}</option>
          </select>
        </div>
        <Link to={`/audit?${side}=${encodeURIComponent(user.id)}`}>Open in the audit log</Link>
      </div>
      {history.error && <LoadError error={history.error} what="the history" onRetry={history.refetch} retrying={history.isFetching} />}
      {!data ? (
        !history.error && <Loading what="the history" />
      ) : data.results.length === 0 ? (
        <p className="empty">Nothing recorded.</p>
      ) : (
        <>
          <ul className="plain entries" data-testid="user-history" aria-busy={history.isFetching}>
            {data.results.map((e) => <Entry key={e.id} entry={e} side={side} />)}
          </ul>
          <nav className="pager" aria-label="History pages">
            <button type="button" className="secondary" disabled={!data.previous} onClick={() => setPage(page - 1)}>Newer</button>
            <span>{plural(data.count, 'event')}</span>
            <button type="button" className="secondary" disabled={!data.next} onClick={() => setPage(page + 1)}>Older</button>
          </nav>
        </>
      )}
    </>
  );
}
