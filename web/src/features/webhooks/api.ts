// Webhook endpoints, for holders of `webhooks.manage` and `audit.view`: what each hears
// of, its signing secret (in the answer of registering and of rotating only), its
// delivery log, and replaying the deliveries that died.

import { keepPreviousData, queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api/transport';
import type { components } from '../../lib/api/schema';

export type Webhook = components['schemas']['WebhookResponse'];
export type WebhookRequest = components['schemas']['WebhookRequest'];
export type EventType = components['schemas']['EventType'];
export type Delivery = components['schemas']['DeliveryResponse'];

export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** The server's page size for the delivery log (its default). */
export const DELIVERIES_PAGE_SIZE = 20;

const webhooksKey = ['webhooks'] as const;
const deliveriesKey = (id: string) => [...webhooksKey, id, 'deliveries'] as const;

export const webhooksQuery = () => queryOptions({ queryKey: webhooksKey, queryFn: () => api('/api/webhooks/') });

export const webhookQuery = (id: string) => queryOptions({
  queryKey: [...webhooksKey, id],
  queryFn: () => api('/api/webhooks/{id}/', { path: { id } }),
});

/** The event types an endpoint may hear of (fixed by the server's version: kept for the session). */
export const eventTypesQuery = () => queryOptions({
  queryKey: [...webhooksKey, 'event-types'],
  queryFn: () => api('/api/webhooks/event-types/'),
  staleTime: Infinity,
});

/** While a delivery is pending the worker is at it (every second): the log looks again this often. */
const PENDING_POLL_MS = 2000;

/** One page of the log, and how many deliveries are dead whatever the filter ("Replay all dead"). */
export type DeliveryLogPage = components['schemas']['Paginated_DeliveryResponse'] & { dead: number };

/**
 * One page of an endpoint's deliveries, newest first, with the count of dead ones read
 * alongside, so the two always agree. The page shown stays while the next loads; while
 * any on it is pending the page reloads, so it settles by itself.
 */
export const deliveriesQuery = (id: string, status: DeliveryStatus | null, page: number) => queryOptions({
  queryKey: [...deliveriesKey(id), { status, page }],
  queryFn: async (): Promise<DeliveryLogPage> => {
    const list = (query: { status?: string; page?: number; page_size?: number }) =>
      api('/api/webhooks/{id}/deliveries/', { path: { id }, query });
    const [shown, dead] = await Promise.all([
      list({ status: status ?? undefined, page }),
      status === 'dead' ? null : list({ status: 'dead', page_size: 1 }),
    ]);
    return { ...shown, dead: dead?.count ?? shown.count };
  },
  placeholderData: keepPreviousData,
  refetchInterval: (q) => (q.state.data?.results.some((d) => d.status === 'pending') ? PENDING_POLL_MS : false),
});

export type WebhookChange =
  | { kind: 'create'; body: WebhookRequest }
  | { kind: 'update'; id: string; body: WebhookRequest }
  | { kind: 'rotate-secret'; id: string }
  | { kind: 'delete'; id: string };

/** Sends one change; the endpoint as it now is (null once deleted), with its secret when one was made. */
async function send(change: WebhookChange): Promise<Webhook | null> {
  switch (change.kind) {
    case 'create':
      return api('/api/webhooks/', { method: 'post', body: change.body });
    case 'update':
      return api('/api/webhooks/{id}/', { method: 'patch', path: { id: change.id }, body: change.body });
    case 'rotate-secret':
      return api('/api/webhooks/{id}/rotate-secret/', { method: 'post', path: { id: change.id } });
    case 'delete':
      await api('/api/webhooks/{id}/', { method: 'delete', path: { id: change.id } });
      return null;
  }
}

/** Changes an endpoint; the list and its page reload (a secret is never cached). */
export function useChangeWebhook() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: send,
    // SECURITY: a secret in an answer is dropped as soon as its page closes.
    gcTime: 0,
    onSuccess: (_, change) => {
      if (change.kind === 'delete') queryClient.removeQueries({ queryKey: [...webhooksKey, change.id] });
      void queryClient.invalidateQueries({ queryKey: webhooksKey });
    },
  });
}

/** Sends dead deliveries again: one (by its id), or every dead one of the endpoint. */
export function useReplay(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (delivery: Delivery | null) => (delivery
      ? api('/api/webhooks/{id}/deliveries/{delivery_id}/replay/', { method: 'post', path: { id, delivery_id: delivery.id } })
      : api('/api/webhooks/{id}/replay/', { method: 'post', path: { id } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: deliveriesKey(id) }),
  });
}
