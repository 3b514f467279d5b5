import type { AppRoute } from '../../lib/routes';
import { RolesPage } from './RolesPage';

export const routes: AppRoute[] = [
  { path: '/roles', element: <RolesPage />, title: 'Roles', permission: 'roles.view' },
];
