import type { ReactNode } from 'react';
import { OverviewPage } from './OverviewPage';

export interface FeatureRoute {
  path: string;
  element: ReactNode;
  /** The page's title (the tab's name). */
  title: string;
  /** Only users holding it see the page. */
  permission?: string;
}

export const routes: FeatureRoute[] = [
  { path: '/overview', element: <OverviewPage />, title: 'Overview', permission: 'audit.view' },
];
