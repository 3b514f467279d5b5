import type { AppRoute } from '../../lib/routes';
import { ClientPage } from './ClientPage';
import { ClientsPage } from './ClientsPage';
import { NewClientPage } from './NewClientPage';

export const routes: AppRoute[] = [
  { path: '/clients', element: <ClientsPage />, title: 'Applications', permission: 'clients.manage' },
  { path: '/clients/new', element: <NewClientPage />, title: 'New application', permission: 'clients.manage' },
  { path: '/clients/:id', element: <ClientPage />, title: 'Application', permission: 'clients.manage' },
];
