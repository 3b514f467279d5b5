import type { AppRoute } from '../../lib/routes';
import { AuditPage } from './AuditPage';

export const routes: AppRoute[] = [
  { path: '/audit', element: <AuditPage />, title: 'Audit log', permission: 'audit.view' },
];
