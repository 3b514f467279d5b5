import { NavLink, useNavigate } from 'react-router';
import type { ReactNode } from 'react';
import { logout } from '../lib/api/session';
import { useAuth } from '../lib/auth';
import { hasPermission } from '../lib/permissions';
import { ReauthDialog } from '../components/ReauthDialog';
import { MfaBanner } from '../features/account/MfaBanner';
import { VerifyBanner } from '../features/recovery/VerifyBanner';

/** Screens a user cannot use are not offered: the nav follows their permissions. */
export const adminScreens = [
  { to: '/users', label: 'Users', permission: 'users.view' },
  { to: '/roles', label: 'Roles', permission: 'roles.view' },
  { to: '/audit', label: 'Audit log', permission: 'audit.view' },
] as const;

/** The top bar, the banners and the dialog every signed-in page shares, around `children`. */
export function Layout({ children }: { children: ReactNode }) {
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
      <main id="main">{children}</main>
    </>
  );
}
