import { useState } from 'react';
import { Navigate, useNavigate } from 'react-router';
import { Loading } from '../../components/Notice';
import { LoadError } from '../../components/QueryState';
import { logout } from '../../lib/api/session';
import { useAuth } from '../../lib/auth';

/**
 * `/logout`: an application asked to sign the user out (RP-initiated logout) without
 * proving which session it meant (no `id_token_hint`), so the user decides. Nobody
 * signed in has nothing to decide.
 */
export function LogoutPage() {
  const { user, loadError, retry } = useAuth();
  const navigate = useNavigate();
  const [leaving, setLeaving] = useState(false);

  async function signOut() {
    setLeaving(true);
    // The signed-out page says so if the server could not be told (session.ts keeps it owed).
    await logout();
    navigate('/signed-out', { replace: true });
  }

  if (user === null) return <Navigate to="/signed-out" replace />;
  return (
    <section className="card narrow" aria-labelledby="logout-title">
      <h1 id="logout-title">Sign out of Authenticon?</h1>
      {user === undefined ? (
        loadError ? <LoadError error={loadError} what="your session" onRetry={retry} /> : <Loading what="your session" />
      ) : (
        <>
          <p>An application asked to sign you out. You are signed in as <strong>{user.username}</strong>.</p>
          <p>Signing out ends your session in this browser: signing in to an application again will ask for your password.</p>
          <div className="actions">
            <button type="button" onClick={() => void signOut()} disabled={leaving}>{leaving ? 'Signing out…' : 'Sign out'}</button>
            <button type="button" className="secondary" onClick={() => navigate('/', { replace: true })} disabled={leaving}>
              Stay signed in
            </button>
          </div>
        </>
      )}
    </section>
  );
}
