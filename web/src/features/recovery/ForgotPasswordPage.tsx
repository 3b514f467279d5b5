import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { formError } from '../../lib/api/errors';
import { requestPasswordReset } from './api';

/** Asks for a reset link. The server answers alike for known and unknown addresses. */
export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const send = useMutation({ mutationFn: requestPasswordReset });
  const { fields: errors, error } = send.error ? formError(send.error) : { fields: {}, error: null };
  // The last answer stays while another request is under way, as it was said.
  const [done, setDone] = useState<string | null>(null);
  const busy = send.isPending;

  function submit(e: FormEvent) {
    e.preventDefault();
    send.mutate(email, { onSuccess: (body) => setDone(body.detail) });
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
