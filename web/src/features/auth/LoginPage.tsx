import { useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { ApiError, UNREACHABLE } from '../../lib/api/errors';
import { passkeyError, passkeysSupported } from '../../lib/passkeys';
import { useAuth } from '../../lib/auth';
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

export function LoginPage() {
  const { user } = useAuth();
  const navigate = useNavigate();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  // Set when the password was right and a second factor is wanted.
  const [challenge, setChallenge] = useState<MfaChallenge | null>(null);
  const [code, setCode] = useState('');
  const attempt = useMutation({
    mutationFn: (step: () => Promise<unknown>) => step(),
    onSuccess: () => navigate('/'),
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

  if (user) return <Navigate to="/" replace />;

  function submit(e: FormEvent) {
    e.preventDefault();
    attempt.mutate(() => (challenge ? loginWithCode(challenge.token, code) : login(username, password)));
  }

  const canUseCode = !challenge || challenge.methods.some((m) => m !== 'passkey') || challenge.methods.length === 0;
  const canUsePasskey = passkeysSupported() && (!challenge || challenge.methods.includes('passkey'));

  return (
    <section className="card narrow" aria-labelledby="login-title">
      <h1 id="login-title">Sign in</h1>
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
            onChange={(e) => setUsername(e.target.value)} errors={fieldErrors.username} required autoFocus />
          <Field label="Password" name="password" type="password" autoComplete="current-password" value={password}
            onChange={(e) => setPassword(e.target.value)} errors={fieldErrors.password} required />
          <Notice error={error} reserve />
          <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
          {canUsePasskey && (
            <>
              {' '}
              <button type="button" className="secondary" onClick={() => attempt.mutate(loginWithPasskey)} disabled={busy}>
                Sign in with a passkey
              </button>
            </>
          )}
        </form>
      )}
      <p>
        <Link to="/forgot-password">Forgot password?</Link>
      </p>
      <p>
        No account yet? <Link to="/signup">Create one</Link>
      </p>
    </section>
  );
}
