// The admin console's pages, until each feature exports its own `routes.tsx`.

import { UsersPage } from '../features/users/UsersPage';
import { RolesPage } from '../features/roles/RolesPage';
import { AuditPage } from '../features/audit/AuditPage';
import type { AppRoute } from './routes';

export const adminRoutes: AppRoute[] = [
  { path: '/users', element: <UsersPage />, title: 'Users', permission: 'users.view' },
  { path: '/roles', element: <RolesPage />, title: 'Roles', permission: 'roles.view' },
  { path: '/audit', element: <AuditPage />, title: 'Audit log', permission: 'audit.view' },
];
