import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { ApiError, post } from '../../lib/api/client';

/** The page a reset mail links to: `/reset-password?token=…`. */
export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setErrors({});
    setError(null);
    if (password !== confirm) {
      setErrors({ confirm: ['The two passwords differ.'] });
      return;
    }
    setBusy(true);
    try {
      await post('/api/password-reset/confirm/', { token, new_password: password });
      setDone(true);
    } catch (err) {
      if (err instanceof ApiError) {
        const fields = err.fieldErrors();
        setErrors(fields);
        setError(fields.token?.join(' ') ?? (Object.keys(fields).length ? null : err.message));
      } else setError('The server could not be reached. Try again.');
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return (
      <section className="card narrow" aria-labelledby="reset-title">
        <h1 id="reset-title">Password changed</h1>
        <Notice success="Your password has been reset. Every session of your account was signed out." />
        <p>
          <Link to="/login">Sign in with your new password</Link>
        </p>
      </section>
    );
  }

  return (
    <section className="card narrow" aria-labelledby="reset-title">
      <h1 id="reset-title">Choose a new password</h1>
      {!token && <Notice error="This page needs the link from your mail. Ask for a new one below." />}
      <form onSubmit={submit} noValidate>
        <Field label="New password" name="new_password" type="password" autoComplete="new-password" value={password}
          onChange={(e) => setPassword(e.target.value)} errors={errors.new_password} required autoFocus />
        <Field label="New password again" name="confirm" type="password" autoComplete="new-password" value={confirm}
          onChange={(e) => setConfirm(e.target.value)} errors={errors.confirm} required />
        <Notice error={error} reserve />
        <button type="submit" disabled={busy || !token}>{busy ? 'Saving…' : 'Set the new password'}</button>
      </form>
      <p>
        Link expired? <Link to="/forgot-password">Ask for a new one</Link>
      </p>
    </section>
  );
}
