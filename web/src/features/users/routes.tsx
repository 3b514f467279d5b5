import type { ReactNode } from 'react';
import { CreateUserPage } from './CreateUserPage';
import { UserPage } from './UserPage';
import { UsersPage } from './UsersPage';

export interface FeatureRoute {
  path: string;
  element: ReactNode;
  /** The page's title (the tab's name). */
  title: string;
  /** Only users holding it see the page. */
  permission?: string;
}

export const routes: FeatureRoute[] = [
  { path: '/users', element: <UsersPage />, title: 'Users', permission: 'users.view' },
  { path: '/users/new', element: <CreateUserPage />, title: 'New user', permission: 'users.manage' },
  { path: '/users/:id', element: <UserPage />, title: 'User', permission: 'users.view' },
];
