import { Navigate, Route, Routes } from 'react-router';
import type { ReactNode } from 'react';
import { useAuth } from '../lib/auth';
import { hasPermission } from '../lib/permissions';
import { Loading } from '../components/Notice';
import { LoginPage } from '../features/auth/LoginPage';
import { RegisterPage } from '../features/auth/RegisterPage';
import { DashboardPage } from '../features/dashboard/DashboardPage';
import { SessionsPage } from '../features/sessions/SessionsPage';
import { PasswordPage } from '../features/account/PasswordPage';
import { TwoFactorPage } from '../features/account/TwoFactorPage';
import { UsersPage } from '../features/users/UsersPage';
import { RolesPage } from '../features/roles/RolesPage';
import { AuditPage } from '../features/audit/AuditPage';
import { ForgotPasswordPage } from '../features/recovery/ForgotPasswordPage';
import { ResetPasswordPage } from '../features/recovery/ResetPasswordPage';
import { VerifyEmailPage } from '../features/recovery/VerifyEmailPage';
import { adminScreens, Layout } from './Layout';
import { Providers } from './providers';

const adminPages: Record<(typeof adminScreens)[number]['to'], ReactNode> = {
  '/users': <UsersPage />,
  '/roles': <RolesPage />,
  '/audit': <AuditPage />,
};

export function App() {
  return (
    <Providers>
      <Layout>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route path="/signup" element={<RegisterPage />} />
          <Route path="/forgot-password" element={<ForgotPasswordPage />} />
          <Route path="/reset-password" element={<ResetPasswordPage />} />
          <Route path="/verify-email" element={<VerifyEmailPage />} />
          <Route path="/" element={<Private><DashboardPage /></Private>} />
          <Route path="/sessions" element={<Private><SessionsPage /></Private>} />
          <Route path="/password" element={<Private><PasswordPage /></Private>} />
          <Route path="/two-factor" element={<Private><TwoFactorPage /></Private>} />
          {adminScreens.map((s) => (
            <Route key={s.to} path={s.to} element={<Private permission={s.permission}>{adminPages[s.to]}</Private>} />
          ))}
          <Route path="*" element={<p>Page not found.</p>} />
        </Routes>
      </Layout>
    </Providers>
  );
}

/** A page for signed-in users (with `permission`, if given) only. */
function Private({ children, permission }: { children: ReactNode; permission?: string }) {
  const { user } = useAuth();
  if (user === undefined) return <Loading what="your session" />;
  if (user === null) return <Navigate to="/login" replace />;
  if (permission && !hasPermission(user, permission)) {
    return <p role="alert">You do not have permission to see this page.</p>;
  }
  return <>{children}</>;
}
