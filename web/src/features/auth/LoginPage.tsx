import { useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate } from 'react-router';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { ApiError, login, loginWithCode, mfaTokenOf } from '../../lib/api/client';
import { useAuth } from '../../lib/auth';

export function LoginPage() {
  const { user } = useAuth();
  const navigate = useNavigate();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Set when the password was right and a second factor is wanted.
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [code, setCode] = useState('');

  if (user) return <Navigate to="/" replace />;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors({});
    try {
      if (mfaToken) await loginWithCode(mfaToken, code);
      else await login(username, password);
      navigate('/');
    } catch (err) {
      const token = mfaTokenOf(err);
      if (token) {
        setMfaToken(token);
      } else if (err instanceof ApiError && err.fieldErrors().mfa_token) {
        // The login expired (or was completed elsewhere): start again from the password.
        setMfaToken(null);
        setCode('');
        setError(err.fieldErrors().mfa_token?.join(' ') ?? null);
      } else if (err instanceof ApiError) {
        setFieldErrors(err.fieldErrors());
        setError(err.fieldErrors() && Object.keys(err.fieldErrors()).length ? null : err.message);
      } else {
        setError('The server could not be reached. Try again.');
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card narrow" aria-labelledby="login-title">
      <h1 id="login-title">Sign in</h1>
      {mfaToken ? (
        <form onSubmit={submit} noValidate>
          <p>Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
          <Field label="Code" name="code" autoComplete="one-time-code" inputMode="text" value={code}
            onChange={(e) => setCode(e.target.value)} errors={fieldErrors.code} required autoFocus />
          <Notice error={error} reserve />
          <button type="submit" disabled={busy}>{busy ? 'Checking…' : 'Verify'}</button>
        </form>
      ) : (
      <form onSubmit={submit} noValidate>
        <Field label="Username" name="username" autoComplete="username" value={username}
          onChange={(e) => setUsername(e.target.value)} errors={fieldErrors.username} required autoFocus />
        <Field label="Password" name="password" type="password" autoComplete="current-password" value={password}
          onChange={(e) => setPassword(e.target.value)} errors={fieldErrors.password} required />
        <Notice error={error} reserve />
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
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
