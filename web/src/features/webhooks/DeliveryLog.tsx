import { useRef } from 'react';
import { useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { ToggleButton, ToggleButtonGroup } from 'react-aria-components';
import { Loading, Notice } from '../../components/Notice';
import { Empty, LoadError } from '../../components/QueryState';
import { changeError, UNREACHABLE } from '../../lib/api/errors';
import { DELIVERIES_PAGE_SIZE, deliveriesQuery, useReplay, type Delivery, type DeliveryStatus } from './api';
import { DeliveryEntry } from './DeliveryEntry';
import { countText, EMPTY_TEXT, logSearchParams, parseLogState, replayedText, type LogState } from './deliveryLog';

const FILTERS: { id: DeliveryStatus | 'all'; label: string }[] = [
  { id: 'all', label: 'All' },
  { id: 'pending', label: 'Pending' },
  { id: 'delivered', label: 'Delivered' },
  { id: 'dead', label: 'Dead' },
];

/** An endpoint's deliveries, newest first: filtered by status, a page at a time, dead ones replayable. */
export function DeliveryLog({ webhookId }: { webhookId: string }) {
  const [params, setParams] = useSearchParams();
  const state = parseLogState(params);
  const go = (next: LogState) => setParams(logSearchParams(next));
  const log = useQuery(deliveriesQuery(webhookId, state.status, state.page));
  const replay = useReplay(webhookId);
  const data = log.data;
  const pages = data ? Math.max(1, Math.ceil(data.count / DELIVERIES_PAGE_SIZE)) : 1;
  const said = useRef<HTMLDivElement>(null);
  // A replayed delivery is no longer dead: the button pressed goes, and focus goes to what it did.
  const send = (one: Delivery | null) => replay.mutate(one, { onSettled: () => said.current?.focus() });

  return (
    <div className="delivery-log">
      <div className="log-head">
        <ToggleButtonGroup aria-label="Show deliveries" selectionMode="single" disallowEmptySelection className="status-toggle"
          selectedKeys={[state.status ?? 'all']}
          onSelectionChange={(keys) => {
            const next = [...keys][0];
            if (next) go({ status: next === 'all' ? null : (next as DeliveryStatus), page: 1 });
          }}>
          {FILTERS.map((f) => <ToggleButton key={f.id} id={f.id} className="toggle">{f.label}</ToggleButton>)}
        </ToggleButtonGroup>
        <div className="actions">
          <button type="button" className="secondary" onClick={() => void log.refetch()}>Refresh</button>
          {data && data.dead > 0 && (
            <button type="button" className="secondary" disabled={replay.isPending} onClick={() => send(null)}>
              Replay all dead ({data.dead})
            </button>
          )}
        </div>
      </div>
      <p className="muted log-count" role="status">{data ? countText(data.count, state.status) : ''}</p>
      <div ref={said} tabIndex={-1} className="replay-said">
        <Notice error={replay.error ? changeError(replay.error, UNREACHABLE) : null}
          success={replay.isSuccess ? replayedText(replay.data.replayed, replay.variables) : null} />
      </div>

      {log.error && <LoadError error={log.error} what="the deliveries" onRetry={log.refetch} retrying={log.isFetching} />}
      {!data ? (
        !log.error && <Loading what="the deliveries" />
      ) : data.results.length === 0 ? (
        <Empty><p>{EMPTY_TEXT[state.status ?? 'all']}</p></Empty>
      ) : (
        <>
          <ul className="plain entries deliveries" data-testid="deliveries" aria-busy={log.isFetching}>
            {data.results.map((d) => (
              <DeliveryEntry key={d.id} delivery={d} busy={replay.isPending} onReplay={() => send(d)} />
            ))}
          </ul>
          {/* One page needs no pager: the count above says it is all. */}
          {(data.previous || data.next) && (
            <nav className="pager" aria-label="Delivery pages">
              <button type="button" className="secondary" disabled={!data.previous} onClick={() => go({ ...state, page: state.page - 1 })}>
                Newer
              </button>
              <span>Page {state.page} of {pages}</span>
              <button type="button" className="secondary" disabled={!data.next} onClick={() => go({ ...state, page: state.page + 1 })}>
                Older
              </button>
            </nav>
          )}
        </>
      )}
      <p className="muted log-keep">The log keeps delivered deliveries for a week, and dead ones for a month to replay.</p>
    </div>
  );
}
