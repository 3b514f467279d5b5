import { useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate } from 'react-router';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { ApiError, login } from '../../lib/api/client';
import { useAuth } from '../../lib/auth';

export function LoginPage() {
  const { user } = useAuth();
  const navigate = useNavigate();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (user) return <Navigate to="/" replace />;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors({});
    try {
      await login(username, password);
      navigate('/');
    } catch (err) {
      if (err instanceof ApiError) {
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
      <form onSubmit={submit} noValidate>
        <Field label="Username" name="username" autoComplete="username" value={username}
          onChange={(e) => setUsername(e.target.value)} errors={fieldErrors.username} required autoFocus />
        <Field label="Password" name="password" type="password" autoComplete="current-password" value={password}
          onChange={(e) => setPassword(e.target.value)} errors={fieldErrors.password} required />
        <Notice error={error} reserve />
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
      <p>
        <Link to="/forgot-password">Forgot password?</Link>
      </p>
      <p>
        No account yet? <Link to="/signup">Create one</Link>
      </p>
    </section>
  );
}
