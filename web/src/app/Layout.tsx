import { NavLink, useNavigate } from 'react-router';
import { useState, type ReactNode } from 'react';
import { logout } from '../lib/api/session';
import { useAuth } from '../lib/auth';
import { hasPermissions } from '../lib/permissions';
import { useFocusHeadingOnNavigate } from '../components/Page';
import { ReauthDialog } from '../components/ReauthDialog';
import { MfaBanner } from '../features/account/MfaBanner';
import { VerifyBanner } from '../features/recovery/VerifyBanner';
import { adminNav, adminRoutes } from './routes';

/** The top bar, the banners and the dialog every signed-in page shares, around `children`. */
export function Layout({ children }: { children: ReactNode }) {
  const { user } = useAuth();
  const navigate = useNavigate();
  const [leaving, setLeaving] = useState(false);
  useFocusHeadingOnNavigate();

  async function signOut() {
    setLeaving(true);
    // Whether the server was told shows on the sign-in page for as long as it is not
    // (session.ts keeps the logout owed).
    await logout();
    setLeaving(false);
    navigate('/login', { replace: true });
  }

  // Screens a user cannot use are not offered: the nav follows their permissions.
  const admin = adminNav.filter((n) => hasPermissions(user, n.permission) && adminRoutes.some((r) => r.path === n.to));
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Authenticon</span>
        {user && (
          <nav aria-label="Main">
            <ul>
              <li><NavLink to="/" end>Dashboard</NavLink></li>
              <li><NavLink to="/sessions">My sessions</NavLink></li>
              <li><NavLink to="/password">Password</NavLink></li>
              <li><NavLink to="/two-factor">Two-factor</NavLink></li>
              <li><NavLink to="/applications">Connected apps</NavLink></li>
              <li><NavLink to="/linked-accounts">Linked accounts</NavLink></li>
              <li><NavLink to="/tokens">Tokens</NavLink></li>
              {admin.map((n) => (
                <li key={n.to}><NavLink to={n.to}>{n.label}</NavLink></li>
              ))}
            </ul>
            <button type="button" className="link" onClick={() => void signOut()} disabled={leaving}>
              {leaving ? 'Logging out…' : 'Log out'}
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
