import { useState, type FormEvent } from 'react';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { api, formError } from '../../lib/api/client';

export function PasswordPage() {
  const [oldPassword, setOld] = useState('');
  const [newPassword, setNew] = useState('');
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError(null);
    setDone(null);
    try {
      await api('/api/me/password/', { method: 'POST', body: { old_password: oldPassword, new_password: newPassword } });
      setOld('');
      setNew('');
      setDone('Password changed. Your other sessions were signed out.');
    } catch (err) {
      const m = formError(err);
      setErrors(m.fields);
      setError(m.error);
    } finally {
      setBusy(false);
    }
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
