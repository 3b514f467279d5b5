import { Fragment, useState, type ChangeEvent, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import { ApiError, changeError, messageOf } from '../../lib/api/errors';
import { Loading, Notice } from '../../components/Notice';
import { LoadError } from '../../components/QueryState';
import { auditQuery, eventsQuery, fetchExport, saveBlob } from './api';
import { detailLines } from '../../lib/auditDetail';
import {
  exportFileName, isDay, isFiltered, NO_FILTERS, parseAuditState, rangeProblem, toSearchParams, type AuditFilters, type AuditState,
} from './filters';
import './audit.css';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const when = (iso: string) => dateTime.format(new Date(iso));

function Party({ id, name }: { id?: string | null; name?: string | null }) {
  if (!id) return <>{name ?? '—'}</>;
  return <Link to={`/users/${encodeURIComponent(id)}`}>{name ?? id}</Link>;
}

/** A time filter the date box cannot show (an exact time, from the overview's links). */
function ExactTime({ label, value, onClear }: { label: string; value: string; onClear: () => void }) {
  return (
    <p className="exact-time">
      {label} {Number.isNaN(Date.parse(value)) ? value : when(value)}{' '}
      <button type="button" className="link" onClick={onClear}>use dates instead</button>
    </p>
  );
}

export function AuditPage() {
  const [params, setParams] = useSearchParams();
  const state = parseAuditState(params);
  const go = (next: AuditState) => setParams(toSearchParams(next));
  const audit = useQuery(auditQuery(state));
  const events = useQuery(eventsQuery());
  const [problem, setProblem] = useState<string | null>(null);
  const exporting = useMutation({
    mutationFn: () => fetchExport(state),
    onSuccess: (blob) => saveBlob(blob, exportFileName(state, new Date())),
  });

  // The form follows the URL (back, forward, links from elsewhere), and keeps what is
  // typed until it is applied. Date boxes show days only: an exact time shows apart.
  const fromUrl = (s: AuditFilters): AuditFilters => ({
    ...s, since: isDay(s.since) ? s.since : '', until: isDay(s.until) ? s.until : '',
  });
  const [draft, setDraft] = useState<AuditFilters>(() => fromUrl(state));
  const [shown, setShown] = useState(params.toString());
  if (shown !== params.toString()) {
    setShown(params.toString());
    setDraft(fromUrl(state));
  }
  const edit = (k: keyof AuditFilters) => (e: ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setDraft({ ...draft, [k]: e.target.value });

  function apply(e: FormEvent) {
    e.preventDefault();
    // An exact time from a link stays until a date replaces it.
    const since = draft.since || (isDay(state.since) ? '' : state.since);
    const until = draft.until || (isDay(state.until) ? '' : state.until);
    const trouble = rangeProblem(since, until);
    setProblem(trouble);
    if (trouble) return;
    go({ user: draft.user.trim(), actor: draft.actor.trim(), event: draft.event, since, until, page: 1 });
  }

  const eventNames = [...new Set([...(events.data ?? []), ...(state.event ? [state.event] : [])])];
  const data = audit.data;
  // A filter the server cannot read (a date, an event) is said in its words.
  const badFilter = audit.error instanceof ApiError && audit.error.status === 400 ? changeError(audit.error) : null;

  return (
    <section className="card" aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form className="audit-filters" onSubmit={apply} noValidate aria-label="Filters">
        <div>
          <label htmlFor="audit-event">Event</label>
          <select id="audit-event" value={draft.event} onChange={edit('event')}>
            <option value="">Any event</option>
            {eventNames.map((ev) => <option key={ev} value={ev}>{ev}</option>)}
          </select>
        </div>
        <div>
          <label htmlFor="audit-user">User</label>
          <input id="audit-user" value={draft.user} onChange={edit('user')} placeholder="username or id" autoComplete="off" />
        </div>
        <div>
          <label htmlFor="audit-actor">Done by</label>
          <input id="audit-actor" value={draft.actor} onChange={edit('actor')} placeholder="username or id" autoComplete="off" />
        </div>
        <div>
          <label htmlFor="audit-since">From</label>
          <input id="audit-since" type="date" value={draft.since} onChange={edit('since')} />
        </div>
        <div>
          <label htmlFor="audit-until">To (whole day)</label>
          <input id="audit-until" type="date" value={draft.until} onChange={edit('until')} />
        </div>
        <div className="filter-actions">
          <button type="submit">Apply</button>
          {isFiltered(state) && (
            <button type="button" className="secondary" onClick={() => go({ ...NO_FILTERS, page: 1 })}>Clear</button>
          )}
        </div>
      </form>
      {state.since && !isDay(state.since) && (
        <ExactTime label="From" value={state.since} onClear={() => go({ ...state, since: '', page: 1 })} />
      )}
      {state.until && !isDay(state.until) && (
        <ExactTime label="Before" value={state.until} onClear={() => go({ ...state, until: '', page: 1 })} />
      )}
      <Notice error={problem} />

      <div className="list-status">
        <p className="muted" role="status">{data ? `${data.count} event${data.count === 1 ? '' : 's'}` : ''}</p>
        <button type="button" className="secondary" disabled={exporting.isPending} onClick={() => exporting.mutate()}>
          {exporting.isPending ? 'Exporting…' : 'Export CSV'}
        </button>
      </div>
      {exporting.error && <Notice error={messageOf(exporting.error, 'The export failed. Try again.')} />}

      {badFilter ? <Notice error={badFilter} />
        : audit.error && <LoadError error={audit.error} what="the audit log" onRetry={audit.refetch} retrying={audit.isFetching} />}
      {!data ? (
        !audit.error && <Loading what="the audit log" />
      ) : (
        <>
          <div className="table-box" role="region" aria-label="Audit entries" tabIndex={0} aria-busy={audit.isFetching}>
            <table className="audit-table">
              <thead>
                <tr>
                  <th scope="col">Time</th><th scope="col">Event</th><th scope="col">User</th>
                  <th scope="col">Done by</th><th scope="col">Address</th><th scope="col">Details</th>
                </tr>
              </thead>
              <tbody data-testid="audit-rows">
                {data.results.length === 0 && (
                  <tr><td colSpan={6} className="empty">No events match these filters.</td></tr>
                )}
                {data.results.map((a) => {
                  const lines = detailLines(a.detail);
                  return (
                    <tr key={a.id}>
                      <td className="nowrap"><time dateTime={a.time}>{when(a.time)}</time></td>
                      <td><code>{a.event}</code></td>
                      <td><Party id={a.user_id} name={a.username} /></td>
                      <td><Party id={a.actor_id} name={a.actor_username} /></td>
                      <td className="nowrap" title={a.user_agent || undefined}>{a.ip || '—'}</td>
                      <td>
                        {lines.length === 0 ? '—' : (
                          <dl className="kv">
                            {lines.map((l) => <Fragment key={l.key}><dt>{l.key}</dt><dd>{l.value}</dd></Fragment>)}
                          </dl>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pages">
            <button type="button" className="secondary" disabled={!data.previous} onClick={() => go({ ...state, page: state.page - 1 })}>
              Newer
            </button>
            <span>Page {state.page}</span>
            <button type="button" className="secondary" disabled={!data.next} onClick={() => go({ ...state, page: state.page + 1 })}>
              Older
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
