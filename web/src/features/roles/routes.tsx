import type { ReactNode } from 'react';
import { RolesPage } from './RolesPage';

export interface FeatureRoute {
  path: string;
  element: ReactNode;
  /** The page's title (the tab's name). */
  title: string;
  /** Only users holding it see the page. */
  permission?: string;
}

export const routes: FeatureRoute[] = [
  { path: '/roles', element: <RolesPage />, title: 'Roles', permission: 'roles.view' },
];
