import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Dialog, Heading, Modal, ModalOverlay } from 'react-aria-components';
import { formError } from '../lib/api/errors';
import { setReauthPrompt } from '../lib/api/guards';
import type { components } from '../lib/api/schema';
import { api } from '../lib/api/transport';
import { passkeyError, passkeyRequestOf, passkeysSupported, signWithPasskey } from '../lib/passkeys';
import { Field } from './Field';
import { Notice } from './Notice';

type ProofRequest = components['schemas']['ProofRequest'];

/**
 * The one place the app asks "is it still you?": a sensitive change (email, factors)
 * refused with `reauthentication_required` opens this dialog; the proof re-authenticates
 * the session for a few minutes and the change goes through. A stolen access token alone
 * cannot answer it. With a second factor on, the password alone is not enough: a code
 * from it too, or a passkey.
 */
export function ReauthDialog() {
  const [open, setOpen] = useState(false);
  const resolver = useRef<((ok: boolean) => void) | null>(null);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setReauthPrompt(() => new Promise<boolean>((resolve) => {
      resolver.current?.(false);
      resolver.current = resolve;
      setPassword('');
      setCode('');
      setErrors({});
      setError(null);
      setOpen(true);
    }));
    return () => setReauthPrompt(null);
  }, []);

  function finish(ok: boolean) {
    resolver.current?.(ok);
    resolver.current = null;
    setOpen(false);
  }

  async function prove(body: () => Promise<ProofRequest>) {
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      await api('/api/me/reauthenticate/', { method: 'post', body: await body(), noReauth: true });
      setPassword('');
      setCode('');
      finish(true);
    } catch (err) {
      const m = formError(err);
      setErrors(m.fields);
      // A passkey's problems have no field in the dialog: say them here.
      const unshown = m.fields.credential ?? [];
      setError(passkeyError(err) ?? (unshown.length ? unshown.join(' ') : m.error));
    } finally {
      setBusy(false);
    }
  }

  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    return prove(async () => ({ ...(password ? { password } : {}), ...(code.trim() ? { code: code.trim() } : {}) }));
  };

  const usePasskey = () => prove(async () => {
    const options = passkeyRequestOf(await api('/api/me/reauthenticate/passkey/', { method: 'post', noReauth: true }));
    return { credential: await signWithPasskey(options) };
  });

  // A modal from React Aria: focus stays inside and returns where it was, Escape cancels,
  // the page behind is hidden from screen readers while it is open.
  return (
    <ModalOverlay className="modal-overlay" isOpen={open} isKeyboardDismissDisabled={busy}
      onOpenChange={(isOpen) => { if (!isOpen) finish(false); }}>
      <Modal className="modal">
        <Dialog className="dialog">
          <form onSubmit={(e) => void submit(e)} noValidate>
            <Heading slot="title" level={2}>Confirm it is you</Heading>
            <p>This change protects your account. Enter your password to continue.</p>
            <Field label="Your current password" name="reauth-password" type="password" autoComplete="current-password"
              value={password} onChange={(e) => setPassword(e.target.value)} errors={errors.password} autoFocus />
            <Field label="Two-factor code" name="reauth-code" autoComplete="one-time-code" value={code}
              onChange={(e) => setCode(e.target.value)} errors={errors.code}
              hint="If you use two-factor authentication: a code from your app, or a recovery code." />
            <Notice error={error} reserve />
            <div className="actions">
              <button type="submit" disabled={busy}>Confirm</button>
              {passkeysSupported() && (
                <button type="button" className="secondary" onClick={() => void usePasskey()} disabled={busy}>
                  Use a passkey
                </button>
              )}
              <button type="button" className="secondary" onClick={() => finish(false)} disabled={busy}>Cancel</button>
            </div>
          </form>
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}
