import type { AppRoute } from '../../lib/routes';
import { AuthorizePage } from './AuthorizePage';

/** The pages the identity provider sends a browser to; open to anyone, as sign-in is. */
export const routes: AppRoute[] = [
  { path: '/authorize', element: <AuthorizePage />, title: 'Sign in to an application' },
];
