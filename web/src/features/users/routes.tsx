import type { AppRoute } from '../../lib/routes';
import { CreateUserPage } from './CreateUserPage';
import { UserPage } from './UserPage';
import { UsersPage } from './UsersPage';

export const routes: AppRoute[] = [
  { path: '/users', element: <UsersPage />, title: 'Users', permission: 'users.view' },
  { path: '/users/new', element: <CreateUserPage />, title: 'New user', permission: 'users.manage' },
  { path: '/users/:id', element: <UserPage />, title: 'User', permission: 'users.view' },
];
