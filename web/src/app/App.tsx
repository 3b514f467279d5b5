import { BrowserRouter, Navigate, NavLink, Route, Routes, useNavigate } from 'react-router';
import type { ReactNode } from 'react';
import { AuthProvider, useAuth } from '../lib/auth';
import { hasPermission, logout } from '../lib/api/client';
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
import { VerifyBanner } from '../features/recovery/VerifyBanner';
import { MfaBanner } from '../features/account/MfaBanner';
import { ReauthDialog } from '../components/ReauthDialog';

export function App() {
  return (
    <BrowserRouter>
      <AuthProvider>
        <Shell />
      </AuthProvider>
    </BrowserRouter>
  );
}

/** Screens a user cannot use are not offered: the nav follows their permissions. */
const adminScreens = [
  { to: '/users', label: 'Users', permission: 'users.view' },
  { to: '/roles', label: 'Roles', permission: 'roles.view' },
  { to: '/audit', label: 'Audit log', permission: 'audit.view' },
];

function Shell() {
  const { user } = useAuth();
  const navigate = useNavigate();
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Authenticon</span>
        {user && (
          <nav aria-label="Main">
            <NavLink to="/" end>
              Dashboard
            </NavLink>
            <NavLink to="/sessions">My sessions</NavLink>
            <NavLink to="/password">Password</NavLink>
            <NavLink to="/two-factor">Two-factor</NavLink>
            {adminScreens
              .filter((s) => hasPermission(user, s.permission))
              .map((s) => (
                <NavLink key={s.to} to={s.to}>
                  {s.label}
                </NavLink>
              ))}
            <button
              type="button"
              className="link"
              onClick={() => void logout().then(() => navigate('/login'))}
            >
              Log out
            </button>
          </nav>
        )}
      </header>
      {user && <VerifyBanner user={user} />}
      {user && <MfaBanner />}
      {user && <ReauthDialog />}
      <main id="main">
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route path="/signup" element={<RegisterPage />} />
          <Route path="/forgot-password" element={<ForgotPasswordPage />} />
          <Route path="/reset-password" element={<ResetPasswordPage />} />
          <Route path="/verify-email" element={<VerifyEmailPage />} />
          <Route path="/" element={<Private>{<DashboardPage />}</Private>} />
          <Route path="/sessions" element={<Private>{<SessionsPage />}</Private>} />
          <Route path="/password" element={<Private>{<PasswordPage />}</Private>} />
          <Route path="/two-factor" element={<Private>{<TwoFactorPage />}</Private>} />
          {adminScreens.map((s) => (
            <Route
              key={s.to}
              path={s.to}
              element={<Private permission={s.permission}>{screenFor(s.to)}</Private>}
            />
          ))}
          <Route path="*" element={<p>Page not found.</p>} />
        </Routes>
      </main>
    </>
  );
}

function screenFor(path: string): ReactNode {
  if (path === '/users') return <UsersPage />;
  if (path === '/roles') return <RolesPage />;
  return <AuditPage />;
}

function Private({ children, permission }: { children: ReactNode; permission?: string }) {
  const { user } = useAuth();
  if (user === undefined) return <Loading what="your session" />;
  if (user === null) return <Navigate to="/login" replace />;
  if (permission && !hasPermission(user, permission)) {
    return <p role="alert">You do not have permission to see this page.</p>;
  }
  return <>{children}</>;
}
