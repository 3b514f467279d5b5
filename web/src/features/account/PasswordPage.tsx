import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { PasswordField } from '../../components/PasswordRules';
import { formError } from '../../lib/api/errors';
import { useAuth } from '../../lib/auth';
import { passwordProblems } from '../../lib/passwordRules';
import { changePassword } from './api';

export function PasswordPage() {
  const { user } = useAuth();
  const [oldPassword, setOld] = useState('');
  const [newPassword, setNew] = useState('');
  // Set by a submit the rules refused: their messages then show under the field.
  const [checked, setChecked] = useState(false);
  const change = useMutation({
    mutationFn: () => changePassword(oldPassword, newPassword),
    onSuccess: () => {
      setOld('');
      setNew('');
      setChecked(false);
    },
  });
  const context = { username: user?.username ?? '', email: user?.email ?? '' };
  const problems = passwordProblems(newPassword, context);
  const { fields: errors, error } = change.error ? formError(change.error) : { fields: {}, error: null };
  const done = change.isSuccess ? 'Password changed. Your other sessions were signed out.' : null;
  const busy = change.isPending;

  function submit(e: FormEvent) {
    e.preventDefault();
    if (problems.length) {
      setChecked(true);
      change.reset();
      return;
    }
    change.mutate();
  }

  return (
    <section className="card narrow" aria-labelledby="pw-title">
      <h1 id="pw-title">Change password</h1>
      <form onSubmit={submit} noValidate>
        <Field label="Current password" name="old_password" type="password" autoComplete="current-password" value={oldPassword}
          onChange={(e) => setOld(e.target.value)} errors={errors.old_password} required />
        <PasswordField label="New password" name="new_password" value={newPassword} {...context}
          onChange={(v) => { setNew(v); if (change.isError) change.reset(); }}
          errors={errors.new_password ?? (checked ? problems : [])} required />
        <Notice error={error} success={done} reserve />
        <button type="submit" disabled={busy}>{busy ? 'Saving…' : 'Change password'}</button>
      </form>
    </section>
  );
}
