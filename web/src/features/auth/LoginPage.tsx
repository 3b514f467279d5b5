import { useState, type FormEvent } from 'react';
import { Link, Navigate, useLocation, useNavigate, useSearchParams } from 'react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { usePageTitle } from '../../components/Page';
import { ApiError, UNREACHABLE } from '../../lib/api/errors';
import { getExpiredUsername, getUser, type EndReason } from '../../lib/api/session';
import { safeNextPath, type AfterSignIn } from '../../lib/nextPath';
import { passkeyError, passkeysSupported } from '../../lib/passkeys';
import { SIGNED_OUT_UNTOLD, useAuth, useLogoutPending } from '../../lib/auth';
import { ContinueWith } from '../external/ContinueWith';
import { providersQuery } from '../external/api';
import { login, loginWithCode, loginWithPasskey, loginWithPasskeyStep, mfaChallengeOf, type MfaChallenge } from './api';

const none = { fields: {} as Record<string, string[]>, error: null as string | null };

/** What the form shows for a failed step. */
function loginError(err: unknown): typeof none {
  if (!err || mfaChallengeOf(err)) return none;
  if (!(err instanceof ApiError)) return { fields: {}, error: passkeyError(err) ?? UNREACHABLE };
  const fields = err.fieldErrors();
  // The login expired (or was completed elsewhere): the form starts again from the password.
  if (fields.mfa_token) return { fields: {}, error: fields.mfa_token.join(' ') };
  const shown = Object.keys(fields).filter((f) => f === 'code' || f === 'username' || f === 'password');
  return { fields, error: shown.length ? null : Object.values(fields).flat().join(' ') || err.message };
}

/**
 * The second step an external provider's sign-in left in the fragment
 * (`#mfa_token=…&methods=…&next=…`: never sent to a server), read once and wiped.
 */
function externalSecondStep(): { challenge: MfaChallenge; next: string | null } | null {
  if (typeof window === 'undefined' || !window.location.hash.startsWith('#mfa_token=')) return null;
  const params = new URLSearchParams(window.location.hash.slice(1));
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
  const token = params.get('mfa_token');
  if (!token) return null;
  const methods = (params.get('methods') ?? '').split(',').filter(Boolean);
  return { challenge: { token, methods }, next: params.get('next') };
}

export const SESSION_ENDED = 'Your session ended; sign in again to continue.';
export const SIGN_IN_AGAIN = 'The application asks you to sign in again to continue.';

/**
 * What the page says on arrival: why the session ended, that a logout is still owed, or
 * that an application wants a fresh sign-in (`reauth`).
 */
function arrivalNotice(state: unknown, endReason: EndReason, owed: boolean, reauth: boolean): { info: string | null; warning: string | null } {
  if (owed) return { info: null, warning: SIGNED_OUT_UNTOLD };
  if (reauth) return { info: SIGN_IN_AGAIN, warning: null };
  if ((state as { expired?: unknown } | null)?.expired === true || endReason === 'expired') return { info: SESSION_ENDED, warning: null };
  if (endReason === 'signed-out') return { info: 'You are signed out.', warning: null };
  return { info: null, warning: null };
}

/**
 * The sign-in page; `?next=/path` (a path of this site only) is where it goes after.
 * `?reauth=1` shows the form even to someone signed in (an application wants a fresh
 * sign-in: `prompt=login`, `max_age`), and `?login_hint=` offers a username.
 */
export function LoginPage() {
  const { user, endReason } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const [params] = useSearchParams();
  const [external] = useState(externalSecondStep);
  const next = safeNextPath(external?.next ?? params.get('next')) ?? '/';
  const linking = params.get('link');
  const providers = useQuery({ ...providersQuery(), enabled: !!linking });
  const linkingName = providers.data?.find((p) => p.name === linking)?.display_name ?? linking;
  const reauth = params.get('reauth') === '1';
  const arrival = arrivalNotice(location.state, endReason, useLogoutPending(), reauth);
  // After an expiry the name is offered again, as is the one an application names or,
  // signing in again, the current one: only the password is typed.
  const [username, setUsername] = useState(() =>
    getExpiredUsername() ?? params.get('login_hint') ?? (reauth ? getUser()?.username : null) ?? '');
  const [password, setPassword] = useState('');
  // Set when the password was right and a second factor is wanted.
  const [challenge, setChallenge] = useState<MfaChallenge | null>(external?.challenge ?? null);
  const [code, setCode] = useState('');
  const attempt = useMutation({
    mutationFn: (step: () => Promise<unknown>) => step(),
    onSuccess: () => navigate(next, { replace: true, state: { signedIn: true } satisfies AfterSignIn }),
    onError: (err) => {
      const wanted = mfaChallengeOf(err);
      if (wanted) setChallenge(wanted);
      else if (err instanceof ApiError && err.fieldErrors().mfa_token) {
        setChallenge(null);
        setCode('');
      }
    },
  });
  const busy = attempt.isPending;
  const { fields: fieldErrors, error } = loginError(attempt.error);
  usePageTitle(challenge ? 'Second step · Sign in' : null);

  if (user && !reauth) return <Navigate to={next} replace />;

  function submit(e: FormEvent) {
    e.preventDefault();
    attempt.mutate(() => (challenge ? loginWithCode(challenge.token, code) : login(username, password)));
  }

  const canUseCode = !challenge || challenge.methods.some((m) => m !== 'passkey') || challenge.methods.length === 0;
  const canUsePasskey = passkeysSupported() && (!challenge || challenge.methods.includes('passkey'));
  const keepNext = next === '/' ? '' : `?next=${encodeURIComponent(next)}`;

  return (
    <section className="card narrow" aria-labelledby="login-title">
      <h1 id="login-title">Sign in</h1>
      {!attempt.isError && !challenge && (arrival.info || arrival.warning) && (
        <div role={arrival.warning ? 'alert' : 'status'}>
          <p className={arrival.warning ? 'notice warning' : 'notice info'} data-testid="login-arrival">
            {arrival.warning ?? arrival.info}
          </p>
        </div>
      )}
      {linking && !challenge && (
        <div role="status">
          <p className="notice info" data-testid="login-link-offer">
            An account here already uses the email address of your {linkingName} account. Sign in to it to link{' '}
            {linkingName}; after that, you can sign in with either.
          </p>
        </div>
      )}
      {challenge ? (
        <form onSubmit={submit} noValidate>
          {canUsePasskey && (
            <p>
              <button type="button" onClick={() => attempt.mutate(() => loginWithPasskeyStep(challenge.token))} disabled={busy}>
                Use your passkey
              </button>
            </p>
          )}
          {canUseCode && (
            <>
              <p>
                {challenge.methods.includes('totp')
                  ? 'Enter the 6-digit code from your authenticator app, or one of your recovery codes.'
                  : 'Or enter one of your recovery codes.'}
              </p>
              <Field label="Code" name="code" autoComplete="one-time-code" inputMode="text" value={code}
                onChange={(e) => setCode(e.target.value)} errors={fieldErrors.code} required autoFocus={!canUsePasskey} />
            </>
          )}
          <Notice error={error} reserve />
          {canUseCode && <button type="submit" disabled={busy}>{busy ? 'Checking…' : 'Verify'}</button>}
        </form>
      ) : (
        <form onSubmit={submit} noValidate>
          <Field label="Username" name="username" autoComplete="username" value={username}
            onChange={(e) => setUsername(e.target.value)} errors={fieldErrors.username} required autoFocus={!username} />
          <Field label="Password" name="password" type="password" autoComplete="current-password" value={password}
            onChange={(e) => setPassword(e.target.value)} errors={fieldErrors.password} required autoFocus={!!username} />
          <Notice error={error} reserve />
          <div className="actions">
            <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
            {canUsePasskey && (
              <button type="button" className="secondary" onClick={() => attempt.mutate(loginWithPasskey)} disabled={busy}>
                Sign in with a passkey
              </button>
            )}
          </div>
        </form>
      )}
      {!challenge && !linking && <ContinueWith next={next} />}
      <p>
        <Link to="/forgot-password">Forgot password?</Link>
      </p>
      <p>
        No account yet? <Link to={`/signup${keepNext}`}>Create one</Link>
      </p>
    </section>
  );
}
