import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { formError } from '../../lib/api/errors';
import { changePassword } from './api';

export function PasswordPage() {
  const [oldPassword, setOld] = useState('');
  const [newPassword, setNew] = useState('');
  const change = useMutation({
    mutationFn: () => changePassword(oldPassword, newPassword),
    onSuccess: () => {
      setOld('');
      setNew('');
    },
  });
  const { fields: errors, error } = change.error ? formError(change.error) : { fields: {}, error: null };
  const done = change.isSuccess ? 'Password changed. Your other sessions were signed out.' : null;
  const busy = change.isPending;

  function submit(e: FormEvent) {
    e.preventDefault();
    change.mutate();
  }

  return (
    <section className="card narrow" aria-labelledby="pw-title">
      <h1 id="pw-title">Change password</h1>
      <form onSubmit={submit} noValidate>
        <Field label="Current password" type="password" autoComplete="current-password" value={oldPassword}
          onChange={(e) => setOld(e.target.value)} errors={errors.old_password} required />
        <Field label="New password" type="password" autoComplete="new-password" value={newPassword}
          onChange={(e) => setNew(e.target.value)} errors={errors.new_password} required />
        <Notice error={error} success={done} reserve />
        <button type="submit" disabled={busy}>{busy ? 'Saving…' : 'Change password'}</button>
      </form>
    </section>
  );
}
