import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, formError, setReauthPrompt } from '../lib/api/client';
import { Field } from './Field';
import { Notice } from './Notice';

/**
 * The one place the app asks "is it still you?": a sensitive change (email, factors)
 * refused with `reauthentication_required` opens this dialog; the password re-authenticates
 * the session for a few minutes and the change goes through. A stolen access token alone
 * cannot answer it.
 */
export function ReauthDialog() {
  const dialog = useRef<HTMLDialogElement>(null);
  const resolver = useRef<((ok: boolean) => void) | null>(null);
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setReauthPrompt(() => new Promise<boolean>((resolve) => {
      resolver.current?.(false);
      resolver.current = resolve;
      setPassword('');
      setErrors({});
      setError(null);
      dialog.current?.showModal();
    }));
    return () => setReauthPrompt(null);
  }, []);

  function finish(ok: boolean) {
    resolver.current?.(ok);
    resolver.current = null;
    dialog.current?.close();
  }

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      await api('/api/me/reauthenticate/', { method: 'POST', body: { password } });
      setPassword('');
      finish(true);
    } catch (err) {
      const m = formError(err);
      setErrors(m.fields);
      setError(m.error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <dialog ref={dialog} className="reauth" aria-labelledby="reauth-title"
      onCancel={(e) => { e.preventDefault(); finish(false); }}>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <h2 id="reauth-title">Confirm it is you</h2>
        <p>This change protects your account. Enter your password to continue.</p>
        <Field label="Your current password" name="reauth-password" type="password" autoComplete="current-password"
          value={password} onChange={(e) => setPassword(e.target.value)} errors={errors.password} required autoFocus />
        <Notice error={error} reserve />
        <div className="actions">
          <button type="submit" disabled={busy}>Confirm</button>{' '}
          <button type="button" className="secondary" onClick={() => finish(false)} disabled={busy}>Cancel</button>
        </div>
      </form>
    </dialog>
  );
}
