// The admin console's pages, as each of its features declares them.

import { routes as users } from '../features/users/routes';
import { routes as roles } from '../features/roles/routes';
import { routes as audit } from '../features/audit/routes';
import { routes as overview } from '../features/overview/routes';
import { routes as clients } from '../features/clients/routes';
import { routes as webhooks } from '../features/webhooks/routes';
import type { AppRoute } from './routes';

export const adminRoutes: AppRoute[] = [...users, ...roles, ...audit, ...overview, ...clients, ...webhooks];
