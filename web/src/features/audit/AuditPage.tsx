import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { messageOf } from '../../lib/api/errors';
import { Loading, Notice } from '../../components/Notice';
import { auditQuery, EVENTS, type AuditFilters } from './api';

export function AuditPage() {
  const [user, setUser] = useState('');
  const [event, setEvent] = useState('');
  const [filters, setFilters] = useState<AuditFilters>({ user: '', event: '' });
  const [page, setPage] = useState(1);
  const audit = useQuery(auditQuery(page, filters));
  const data = audit.data;
  const error = audit.error ? messageOf(audit.error, 'Could not load the audit log.') : null;

  function submit(e: FormEvent) {
    e.preventDefault();
    setPage(1);
    setFilters({ user: user.trim(), event });
  }

  return (
    <section className="card" aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form className="inline" onSubmit={submit}>
        <label htmlFor="audit-user">User</label>
        <input id="audit-user" value={user} onChange={(e) => setUser(e.target.value)} placeholder="username or id" />
        <label htmlFor="audit-event">Event</label>
        <select id="audit-event" value={event} onChange={(e) => setEvent(e.target.value)}>
          <option value="">any</option>
          {EVENTS.map((ev) => <option key={ev} value={ev}>{ev}</option>)}
        </select>
        <button type="submit">Filter</button>
      </form>
      <Notice error={error} reserve />
      {!data ? (
        !error && <Loading what="the audit log" />
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <thead>
                <tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">User</th><th scope="col">Address</th><th scope="col">Details</th></tr>
              </thead>
              <tbody data-testid="audit-rows">
                {data.results.map((a) => (
                  <tr key={a.id}>
                    <td>{new Date(a.time).toLocaleString()}</td>
                    <td><code>{a.event}</code></td>
                    <td>{a.username ?? '—'}</td>
                    <td>{a.ip || '—'}</td>
                    <td className="detail">{JSON.stringify(a.detail)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pages">
            <button type="button" className="secondary" disabled={!data.previous} onClick={() => setPage(page - 1)}>Newer</button>
            <span>{data.count} event{data.count === 1 ? '' : 's'}</span>
            <button type="button" className="secondary" disabled={!data.next} onClick={() => setPage(page + 1)}>Older</button>
          </nav>
        </>
      )}
    </section>
  );
}
