import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { formError, post } from '../../lib/api/client';

/** Asks for a reset link. The server answers alike for known and unknown addresses. */
export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      const body = await post<{ detail: string }>('/api/password-reset/', { email });
      setDone(body.detail);
    } catch (err) {
      const m = formError(err);
      setErrors(m.fields);
      setError(m.error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card narrow" aria-labelledby="forgot-title">
      <h1 id="forgot-title">Forgot your password?</h1>
      <p>Enter the email address of your account and we will mail you a link to choose a new password.</p>
      <form onSubmit={submit} noValidate>
        <Field label="Email" name="email" type="email" autoComplete="email" value={email}
          onChange={(e) => setEmail(e.target.value)} errors={errors.email} required autoFocus />
        <Notice error={error} success={done} reserve />
        <button type="submit" disabled={busy}>{busy ? 'Sending…' : 'Send the link'}</button>
      </form>
      <p>
        <Link to="/login">Back to sign in</Link>
      </p>
    </section>
  );
}
