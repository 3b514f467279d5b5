import { Link, useSearchParams } from 'react-router';
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { ToggleButton, ToggleButtonGroup } from 'react-aria-components';
import { Loading } from '../../components/Notice';
import { LoadError } from '../../components/QueryState';
import { api } from '../../lib/api/transport';
import { BarChart } from './BarChart';
import { describeSeries, parsePeriod, PERIODS, shapeSummary, type Period } from './shape';
import './overview.css';

const summaryQuery = (period: Period) => queryOptions({
  queryKey: ['audit', 'summary', period],
  queryFn: () => api('/api/audit/summary/', { query: { period } }),
  placeholderData: keepPreviousData,
});

/** Sign-ins, failures, throttling, reuse alarms and sign-ups over the last day or month. */
export function OverviewPage() {
  const [params, setParams] = useSearchParams();
  const period = parsePeriod(params.get('period'));
  const summary = useQuery(summaryQuery(period));
  const shaped = summary.data ? shapeSummary(summary.data) : null;
  const span = PERIODS.find((p) => p.id === (shaped?.period ?? period))?.span ?? '';

  return (
    <section className="card overview" aria-labelledby="overview-title">
      <div className="overview-head">
        <h1 id="overview-title">Overview</h1>
        <ToggleButtonGroup aria-label="Period" selectionMode="single" disallowEmptySelection className="period-toggle"
          selectedKeys={[period]}
          onSelectionChange={(keys) => {
            const next = [...keys][0];
            if (next) setParams(next === '24h' ? {} : { period: String(next) });
          }}>
          {PERIODS.map((p) => <ToggleButton key={p.id} id={p.id} className="toggle">{p.label}</ToggleButton>)}
        </ToggleButtonGroup>
      </div>

      {summary.error && <LoadError error={summary.error} what="the overview" onRetry={summary.refetch} retrying={summary.isFetching} />}
      {!shaped ? (
        !summary.error && <Loading what="the overview" />
      ) : (
        <>
          <p className="muted" role="status">
            {summary.isFetching ? 'Updating…' : `As of ${new Date(summary.dataUpdatedAt).toLocaleTimeString()}.`}{' '}
            <button type="button" className="link" onClick={() => void summary.refetch()}>Refresh</button>
          </p>
          <ul className="series-grid" aria-busy={summary.isFetching}>
            {shaped.series.map((s) => (
              <li key={s.event} className={`series-card${s.alarm && s.total > 0 ? ' alarm' : ''}`} data-event={s.event}>
                <h2>{s.label}</h2>
                <p className="series-total"><strong>{s.total}</strong> <span className="muted">{span}</span></p>
                <BarChart counts={s.counts} labels={shaped.labels} max={s.max} alarm={s.alarm}
                  description={describeSeries(s, shaped.labels, span)} />
                <Link to={s.href}>See {s.label.toLowerCase()} in the audit log</Link>
              </li>
            ))}
          </ul>
          <details className="numbers">
            <summary>The numbers as a table</summary>
            <div className="table-box" role="region" aria-label="Counts per period" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">{shaped.period === '24h' ? 'Hour' : 'Day'}</th>
                    {shaped.series.map((s) => <th key={s.event} scope="col">{s.label}</th>)}
                  </tr>
                </thead>
                <tbody>
                  {shaped.labels.map((label, i) => (
                    <tr key={shaped.buckets[i]}>
                      <th scope="row">{label}</th>
                      {shaped.series.map((s) => <td key={s.event}>{s.counts[i]}</td>)}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      )}
    </section>
  );
}
