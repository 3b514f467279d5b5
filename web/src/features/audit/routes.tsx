import type { ReactNode } from 'react';
import { AuditPage } from './AuditPage';

export interface FeatureRoute {
  path: string;
  element: ReactNode;
  /** The page's title (the tab's name). */
  title: string;
  /** Only users holding it see the page. */
  permission?: string;
}

export const routes: FeatureRoute[] = [
  { path: '/audit', element: <AuditPage />, title: 'Audit log', permission: 'audit.view' },
];
