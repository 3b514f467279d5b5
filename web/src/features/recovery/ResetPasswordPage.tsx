import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { ApiError, UNREACHABLE } from '../../lib/api/errors';
import { confirmPasswordReset } from './api';

/** What the form shows for a refused reset: a bad link is the page's error, not a field's. */
function resetError(err: unknown): { fields: Record<string, string[]>; error: string | null } {
  if (!err) return { fields: {}, error: null };
  if (!(err instanceof ApiError)) return { fields: {}, error: UNREACHABLE };
  const fields = err.fieldErrors();
  return { fields, error: fields.token?.join(' ') ?? (Object.keys(fields).length ? null : err.message) };
}

/** The page a reset mail links to: `/reset-password?token=…`. */
export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const reset = useMutation({ mutationFn: () => confirmPasswordReset(token, password) });
  const { fields, error } = resetError(reset.error);
  const errors = mismatch ? { confirm: ['The two passwords differ.'] } : fields;
  const busy = reset.isPending;

  function submit(e: FormEvent) {
    e.preventDefault();
    setMismatch(password !== confirm);
    if (password !== confirm) {
      reset.reset();
      return;
    }
    reset.mutate();
  }

  if (reset.isSuccess) {
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
