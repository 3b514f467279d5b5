import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { ApiError, login } from '../../lib/api/client';
import { passwordProblems, usernameProblems } from './validation';

export function RegisterPage() {
  const navigate = useNavigate();
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [serverErrors, setServerErrors] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // Live feedback while typing; the server's messages win once it has answered.
  const errorsFor = (field: string, live: string[]) => serverErrors[field] ?? live;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setServerErrors({});
    try {
      const res = await fetch('/register/', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(email ? { username, password, email } : { username, password }),
      });
      const body: unknown = await res.json();
      if (!res.ok) throw new ApiError(res.status, body);
      await login(username, password);
      navigate('/');
    } catch (err) {
      if (err instanceof ApiError) {
        const fields = err.fieldErrors();
        setServerErrors(fields);
        setError(Object.keys(fields).length ? null : err.message);
      } else {
        setError('The server could not be reached. Try again.');
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card narrow" aria-labelledby="register-title">
      <h1 id="register-title">Create an account</h1>
      <form onSubmit={submit} noValidate>
        <Field label="Username" name="username" autoComplete="username" value={username}
          onChange={(e) => { setUsername(e.target.value); setServerErrors(({ username: _, ...rest }) => rest); }}
          errors={errorsFor('username', usernameProblems(username))}
          hint="Letters, digits and @ . + - _" required autoFocus />
        <Field label="Email (optional)" name="email" type="email" autoComplete="email" value={email}
          onChange={(e) => { setEmail(e.target.value); setServerErrors(({ email: _, ...rest }) => rest); }}
          errors={serverErrors.email} />
        <Field label="Password" name="password" type="password" autoComplete="new-password" value={password}
          onChange={(e) => { setPassword(e.target.value); setServerErrors(({ password: _, ...rest }) => rest); }}
          errors={errorsFor('password', passwordProblems(password, username))}
          hint="At least 8 characters, not a common password, not only digits" required />
        <Notice error={error} reserve />
        <button type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create account'}</button>
      </form>
      <p>
        Already registered? <Link to="/login">Sign in</Link>
      </p>
    </section>
  );
}
