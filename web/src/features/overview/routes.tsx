import type { AppRoute } from '../../lib/routes';
import { OverviewPage } from './OverviewPage';

export const routes: AppRoute[] = [
  { path: '/overview', element: <OverviewPage />, title: 'Overview', permission: 'audit.view' },
];
