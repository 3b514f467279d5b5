// Every page of the app: its path, its title (the document title and the page's <h1>
// follow it), and for the admin console the permissions it needs. The admin pages'
// routes come from their features (`features/<x>/routes.tsx`).

import type { AppRoute } from '../lib/routes';

export type { AppRoute };
import { LoginPage } from '../features/auth/LoginPage';
import { RegisterPage } from '../features/auth/RegisterPage';
import { DashboardPage } from '../features/dashboard/DashboardPage';
import { SessionsPage } from '../features/sessions/SessionsPage';
import { PasswordPage } from '../features/account/PasswordPage';
import { TwoFactorPage } from '../features/account/TwoFactorPage';
import { ForgotPasswordPage } from '../features/recovery/ForgotPasswordPage';
import { ResetPasswordPage } from '../features/recovery/ResetPasswordPage';
import { VerifyEmailPage } from '../features/recovery/VerifyEmailPage';
import { ApplicationsPage } from '../features/applications/ApplicationsPage';
import { LinkedAccountsPage } from '../features/external/LinkedAccountsPage';
import { TokensPage } from '../features/tokens/TokensPage';
import { routes as oauthRoutes } from '../features/oauth/routes';
import { adminRoutes } from './adminRoutes';
import { WEBHOOKS_PERMISSIONS } from '../features/webhooks/routes';

/** Pages anyone can open: signing in and up, the pages mail links and applications lead to. */
export const publicRoutes: AppRoute[] = [
  { path: '/login', element: <LoginPage />, title: 'Sign in' },
  { path: '/signup', element: <RegisterPage />, title: 'Create an account' },
  { path: '/forgot-password', element: <ForgotPasswordPage />, title: 'Forgot your password?' },
  { path: '/reset-password', element: <ResetPasswordPage />, title: 'Choose a password' },
  { path: '/verify-email', element: <VerifyEmailPage />, title: 'Email verification' },
  ...oauthRoutes,
];

/** Pages of the signed-in user's own account. */
export const accountRoutes: AppRoute[] = [
  { path: '/', element: <DashboardPage />, title: 'Dashboard' },
  { path: '/sessions', element: <SessionsPage />, title: 'My sessions' },
  { path: '/password', element: <PasswordPage />, title: 'Change password' },
  { path: '/two-factor', element: <TwoFactorPage />, title: 'Two-factor authentication' },
  { path: '/applications', element: <ApplicationsPage />, title: 'Connected applications' },
  { path: '/linked-accounts', element: <LinkedAccountsPage />, title: 'Linked accounts' },
  { path: '/tokens', element: <TokensPage />, title: 'Personal access tokens' },
];

export { adminRoutes };

/** The admin console's entries in the main navigation, each shown to holders of its permissions. */
export const adminNav = [
  { to: '/users', label: 'Users', permission: 'users.view' },
  { to: '/roles', label: 'Roles', permission: 'roles.view' },
  { to: '/audit', label: 'Audit log', permission: 'audit.view' },
  { to: '/overview', label: 'Overview', permission: 'audit.view' },
  { to: '/clients', label: 'Applications', permission: 'clients.manage' },
  { to: '/webhooks', label: 'Webhooks', permission: WEBHOOKS_PERMISSIONS },
] as const;
