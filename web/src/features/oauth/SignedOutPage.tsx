import { Link } from 'react-router';
import { SIGNED_OUT_UNTOLD, useAuth, useLogoutPending } from '../../lib/auth';

/**
 * `/signed-out`: where a sign-out ends, the provider's RP-initiated logout (which ended the
 * session its `id_token_hint` named) and /logout alike.
 */
export function SignedOutPage() {
  const { user } = useAuth();
  const owed = useLogoutPending();
  return (
    <section className="card narrow" aria-labelledby="signed-out-title">
      <h1 id="signed-out-title">You are signed out</h1>
      {owed && <p className="notice warning" role="alert">{SIGNED_OUT_UNTOLD}</p>}
      {user ? (
        // The application ended the session it knew of; this browser holds another one.
        <p>
          The application signed you out. This browser is still signed in to Authenticon as <strong>{user.username}</strong>:{' '}
          <Link to="/logout">sign out here too</Link>.
        </p>
      ) : (
        <>
          <p>You can close this window, or sign in again.</p>
          <p><Link className="button" to="/login">Sign in</Link></p>
        </>
      )}
    </section>
  );
}
