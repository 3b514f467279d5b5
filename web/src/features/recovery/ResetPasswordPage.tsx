import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Field } from '../../components/Field';
import { Loading, Notice } from '../../components/Notice';
import { usePageTitle } from '../../components/Page';
import { PasswordField } from '../../components/PasswordRules';
import { LoadError } from '../../components/QueryState';
import { ApiError, UNREACHABLE } from '../../lib/api/errors';
import { passwordProblems } from '../../lib/passwordRules';
import { confirmPasswordReset, resetLinkQuery } from './api';

const DEAD_LINK = 'This link is invalid or has expired.';

/** Whether `err` says the link itself is dead (not a wrong password, not the network). */
function deadLink(err: unknown): string | null {
  if (!(err instanceof ApiError) || err.status !== 400) return null;
  const token = err.fieldErrors().token;
  return token ? token.join(' ') : null;
}

/** What the form shows for a refused password: the rules under the field, anything else below. */
function saveError(err: unknown): { fields: Record<string, string[]>; error: string | null } {
  if (!err) return { fields: {}, error: null };
  if (!(err instanceof ApiError)) return { fields: {}, error: UNREACHABLE };
  const fields = err.fieldErrors();
  return { fields, error: Object.keys(fields).length ? null : err.message };
}

/**
 * The page a reset mail or an invitation links to: `/reset-password?token=…`. It asks
 * the server whether the link still works before showing the form: a spent or expired
 * link says so at once, with a way to ask for a new one, instead of after typing twice.
 */
export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const check = useQuery(resetLinkQuery(token));
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [checked, setChecked] = useState(false);
  const save = useMutation({ mutationFn: () => confirmPasswordReset(token, password) });
  const dead = !token ? 'This page needs the link from your mail.' : deadLink(check.error) ?? deadLink(save.error);
  usePageTitle(save.isSuccess ? 'Password saved' : dead ? 'Link no longer works' : null);

  const problems = passwordProblems(password);
  const mismatch = checked && confirm !== password ? ['The two passwords differ.'] : [];
  const { fields, error } = saveError(save.error);
  const busy = save.isPending;

  function submit(e: FormEvent) {
    e.preventDefault();
    setChecked(true);
    if (problems.length || password !== confirm) {
      save.reset();
      return;
    }
    save.mutate();
  }

  if (save.isSuccess) {
    return (
      <section className="card narrow" aria-labelledby="reset-title">
        <h1 id="reset-title">Password saved</h1>
        <Notice success="Your password is saved. Any session signed in with the old one was signed out." />
        <p>
          <Link to="/login">Sign in with your new password</Link>
        </p>
      </section>
    );
  }

  if (dead) {
    return (
      <section className="card narrow" aria-labelledby="reset-title">
        <h1 id="reset-title">This link no longer works</h1>
        <div className="state state-error" role="alert" data-testid="dead-link">
          <p>{dead === DEAD_LINK ? `${DEAD_LINK} Links work once, for a limited time.` : dead}</p>
        </div>
        <p>
          <Link to="/forgot-password">Ask for a new link</Link>
        </p>
        <p className="muted">
          Invited by an administrator? Ask them to send a new invitation, or ask for a link above with the address the
          invitation went to.
        </p>
      </section>
    );
  }

  return (
    <section className="card narrow" aria-labelledby="reset-title">
      <h1 id="reset-title">Choose a password</h1>
      {check.isPending ? (
        <Loading what="your link" />
      ) : check.isError ? (
        <LoadError error={check.error} what="your link" onRetry={() => check.refetch()} retrying={check.isFetching} />
      ) : (
        <>
          <p>Choose the password you will sign in with.</p>
          <form onSubmit={submit} noValidate>
            <PasswordField label="Password" name="new_password" value={password} onChange={setPassword}
              errors={fields.new_password ?? (checked ? problems : [])} required autoFocus />
            <Field label="Password again" name="confirm" type="password" autoComplete="new-password" value={confirm}
              onChange={(e) => setConfirm(e.target.value)} errors={mismatch} required />
            <Notice error={error} reserve />
            <button type="submit" disabled={busy}>{busy ? 'Saving…' : 'Save password'}</button>
          </form>
        </>
      )}
    </section>
  );
}
