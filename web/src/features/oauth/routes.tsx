import type { AppRoute } from '../../lib/routes';
import { AuthorizePage } from './AuthorizePage';
import { LogoutPage } from './LogoutPage';
import { SignedOutPage } from './SignedOutPage';

/** The pages the identity provider sends a browser to; open to anyone, as sign-in is. */
export const routes: AppRoute[] = [
  { path: '/authorize', element: <AuthorizePage />, title: 'Sign in to an application' },
  { path: '/logout', element: <LogoutPage />, title: 'Sign out' },
  { path: '/signed-out', element: <SignedOutPage />, title: 'Signed out' },
];
