// The delivery log's filter and page as they stand in the URL (`?status=dead&page=2`), so
// back and forward move through them and a link opens the same view; and its words.

import { plural } from '../../lib/format';
import { DELIVERY_STATUSES, type Delivery, type DeliveryStatus } from './api';

export interface LogState {
  /** null: every delivery. */
  status: DeliveryStatus | null;
  page: number;
}

const isStatus = (s: string | null): s is DeliveryStatus => (DELIVERY_STATUSES as readonly (string | null)[]).includes(s);

/** What the URL asks for; anything it cannot mean reads as the first page of everything. */
export function parseLogState(params: URLSearchParams): LogState {
  const status = params.get('status');
  const page = Number(params.get('page'));
  return { status: isStatus(status) ? status : null, page: Number.isInteger(page) && page > 1 ? page : 1 };
}

/** The URL's query for `state`, leaving out what is the default. */
export function logSearchParams({ status, page }: LogState): URLSearchParams {
  const params = new URLSearchParams();
  if (status) params.set('status', status);
  if (page > 1) params.set('page', String(page));
  return params;
}

/** "3 dead deliveries", "1 delivery". */
export const countText = (count: number, status: DeliveryStatus | null) =>
  plural(count, status ? `${status} delivery` : 'delivery', status ? `${status} deliveries` : 'deliveries');

/** Said when the page has none. */
export const EMPTY_TEXT: Record<DeliveryStatus | 'all', string> = {
  all: 'No deliveries yet: each event the endpoint hears of shows here, newest first.',
  pending: 'Nothing is waiting to be sent.',
  delivered: 'Nothing has been delivered yet.',
  dead: 'No dead deliveries.',
};

/** What replaying did: `one` is the delivery replayed, null for all of the dead ones. */
export function replayedText(replayed: number, one: Delivery | null): string {
  if (replayed === 0) return 'There was no dead delivery to send again.';
  if (one) return 'The delivery is sent again, in its turn.';
  const sent = replayed === 1 ? 'is sent again, in its turn' : 'are sent again, in their turn';
  return `${plural(replayed, 'dead delivery', 'dead deliveries')} ${sent}.`;
}

/** The receiver's last answer: its HTTP status, or that there was none. */
export const lastStatusText = (d: Delivery) => (d.last_status == null ? 'no answer' : `HTTP ${d.last_status}`);
