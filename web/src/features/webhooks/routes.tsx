import type { AppRoute } from '../../lib/routes';
import { NewWebhookPage } from './NewWebhookPage';
import { WebhookPage } from './WebhookPage';
import { WebhooksPage } from './WebhooksPage';

/**
 * An endpoint hears of every user's activity, which is what the audit log shows: the
 * server lets only those who may read it there send it elsewhere.
 */
export const WEBHOOKS_PERMISSIONS = ['webhooks.manage', 'audit.view'] as const;

export const routes: AppRoute[] = [
  { path: '/webhooks', element: <WebhooksPage />, title: 'Webhooks', permission: WEBHOOKS_PERMISSIONS },
  { path: '/webhooks/new', element: <NewWebhookPage />, title: 'New endpoint', permission: WEBHOOKS_PERMISSIONS },
  { path: '/webhooks/:id', element: <WebhookPage />, title: 'Webhook endpoint', permission: WEBHOOKS_PERMISSIONS },
];
