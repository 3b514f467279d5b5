import { useEffect, useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Field } from '../../components/Field';
import { Loading, Notice } from '../../components/Notice';
import { formError } from '../../lib/api/errors';
import { passkeyError, passkeysSupported } from '../../lib/passkeys';
import {
  addPasskey as registerPasskey, confirmTotp, disableTotp, mfaStatusQuery, passkeysQuery, regenerateRecoveryCodes,
  removePasskey as deletePasskey, startTotp, type MfaStatus, type PasskeyInfo, type TotpEnrolment,
} from './api';

function when(seconds: number | null | undefined): string {
  return seconds == null ? 'never' : new Date(seconds * 1000).toLocaleString();
}

/**
 * Turn TOTP on (QR code, first code), add and remove passkeys, see recovery codes once,
 * replace them, turn TOTP off.
 */
export function TwoFactorPage() {
  const [status, setStatus] = useState<MfaStatus | null>(null);
  const [enrolment, setEnrolment] = useState<(TotpEnrolment & { qr: string }) | null>(null);
  const [qr, setQr] = useState<string | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const [passkeys, setPasskeys] = useState<PasskeyInfo[]>([]);
  const [passkeyName, setPasskeyName] = useState('');

  const queryClient = useQueryClient();
  const load = () => Promise.all([queryClient.fetchQuery(mfaStatusQuery()), queryClient.fetchQuery(passkeysQuery())])
    .then(([s, p]) => {
      setStatus(s);
      setPasskeys(p);
    })
    .catch((e: unknown) => setError(formError(e).error));
  useEffect(() => { void load(); }, []);

  // Which part of the page the last action came from: its notice shows the outcome.
  const [section, setSection] = useState<'totp' | 'passkey'>('totp');

  // Each action reloads the state first and only then shows its outcome (new recovery
  // codes, the message): what the page shows never contradicts what it has just said, and
  // anything that waits for the outcome sees the new status too.
  async function run(action: () => Promise<void>, where: 'totp' | 'passkey' = 'totp') {
    setSection(where);
    setBusy(true);
    setErrors({});
    setError(null);
    setDone(null);
    try {
      await action();
      setCode('');
    } catch (err) {
      const m = formError(err);
      setErrors(m.fields);
      // A passkey answer's problems have no field on the page: say them here.
      const unshown = [...(m.fields.credential ?? []), ...(m.fields.ceremony ?? [])];
      setError(passkeyError(err) ?? (unshown.length ? unshown.join(' ') : m.error));
    } finally {
      setBusy(false);
    }
  }

  const start = () => run(async () => {
    const e = await startTotp();
    setEnrolment(e);
    setQr(e.qr);
  });

  const confirm = (ev: FormEvent) => {
    ev.preventDefault();
    return run(async () => {
      const r = await confirmTotp(code);
      await load();
      setCodes(r.recovery_codes);
      setEnrolment(null);
      setDone('Two-factor authentication is on.');
    });
  };

  const regenerate = (ev: FormEvent) => {
    ev.preventDefault();
    return run(async () => {
      const r = await regenerateRecoveryCodes(code);
      await load();
      setCodes(r.recovery_codes);
      setDone('New recovery codes; the old ones no longer work.');
    });
  };

  const addPasskey = (ev: FormEvent) => {
    ev.preventDefault();
    return run(async () => {
      const r = await registerPasskey(passkeyName);
      await load();
      if (r.recovery_codes.length) setCodes(r.recovery_codes);
      setPasskeyName('');
      setDone('Passkey added.');
    }, 'passkey');
  };

  // Removing a passkey asks to confirm; the server then wants a fresh proof of presence,
  // which the app's "Confirm it is you" dialog collects: an open tab alone cannot do it.
  const [removing, setRemoving] = useState<PasskeyInfo | null>(null);

  const removePasskey = (ev: FormEvent) => {
    ev.preventDefault();
    if (!removing) return;
    return run(async () => {
      await deletePasskey(removing.id);
      await load();
      setRemoving(null);
      setDone(`Passkey “${removing.name}” removed.`);
    }, 'passkey');
  };

  const disable = () => run(async () => {
    await disableTotp(code);
    await load();
    setCodes(null);
    setDone('Two-factor authentication is off.');
  });

  if (!status) return error ? <Notice error={error} /> : <Loading what="your factors" />;

  return (
    <section className="card narrow" aria-labelledby="mfa-title">
      <h1 id="mfa-title">Two-factor authentication</h1>
      <p data-testid="mfa-state">
        {status.totp || status.passkeys
          ? `On: signing in asks for ${[status.totp && 'a code from your authenticator app', status.passkeys && 'a passkey']
            .filter(Boolean).join(' or ')}. ${status.recovery_codes_left} recovery codes left.`
          : 'Off: signing in needs only your password.'}
      </p>
      {codes && (
        <div className="recovery-codes">
          <p><strong>Your recovery codes.</strong> Each works once, if you lose your device. Keep them somewhere safe: they are shown only now.</p>
          <ul data-testid="recovery-codes">{codes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
        </div>
      )}
      <h2>Authenticator app</h2>
      {!status.totp && !enrolment && (
        <button type="button" onClick={() => void start()} disabled={busy}>Set up an authenticator app</button>
      )}
      {enrolment && (
        <form onSubmit={(e) => void confirm(e)} noValidate>
          <p>Scan this code with your authenticator app, or type the key in by hand, then enter the code it shows.</p>
          {qr && <img src={qr} alt="QR code for your authenticator app" width={200} height={200} />}
          <p>Key: <code data-testid="totp-secret">{enrolment.secret}</code></p>
          <Field label="Code" name="code" autoComplete="one-time-code" value={code}
            onChange={(e) => setCode(e.target.value)} errors={errors.code} required />
          <Notice error={section === 'totp' ? error : null} reserve />
          <button type="submit" disabled={busy}>Turn on</button>
        </form>
      )}
      {status.totp && (
        <form onSubmit={(e) => void regenerate(e)} noValidate>
          <Field label="Current code" name="code" autoComplete="one-time-code" value={code}
            onChange={(e) => setCode(e.target.value)} errors={errors.code} required
            hint="A code from your app (or a recovery code) to confirm it is you." />
          <Notice error={section === 'totp' ? error : null} success={section === 'totp' ? done : null} reserve />
          <div className="actions">
            <button type="submit" disabled={busy}>New recovery codes</button>{' '}
            <button type="button" className="secondary" onClick={() => void disable()} disabled={busy}>Turn off</button>
          </div>
        </form>
      )}
      {!status.totp && !enrolment && section === 'totp' && <Notice error={error} success={done} />}

      <h2>Passkeys</h2>
      <p>A passkey signs you in with your device's screen lock or security key, with or without your password.</p>
      {passkeys.length > 0 && (
        <ul className="passkeys" data-testid="passkeys">
          {passkeys.map((p) => (
            <li key={p.id}>
              <strong>{p.name}</strong> <small>added {when(p.created_at)}, last used {when(p.last_used_at)}</small>{' '}
              <button type="button" className="secondary" disabled={busy}
                onClick={() => { setRemoving(p); setErrors({}); setError(null); setDone(null); }}
                aria-label={`Remove passkey ${p.name}`}>Remove</button>
            </li>
          ))}
        </ul>
      )}
      {removing && (
        <form className="confirm-box" onSubmit={(e) => void removePasskey(e)} noValidate aria-label="Remove a passkey">
          <p>Remove the passkey <strong>{removing.name}</strong>? It will no longer sign you in.</p>
          <div className="actions">
            <button type="submit" disabled={busy}>Remove passkey</button>{' '}
            <button type="button" className="secondary" onClick={() => setRemoving(null)} disabled={busy}>Cancel</button>
          </div>
        </form>
      )}
      {passkeysSupported() ? (
        <form onSubmit={(e) => void addPasskey(e)} noValidate>
          <Field label="Passkey name" name="name" value={passkeyName} onChange={(e) => setPasskeyName(e.target.value)}
            errors={errors.name} required hint="Something to tell it apart, like “Laptop” or “YubiKey”." />
          <Notice error={section === 'passkey' ? error : null} success={section === 'passkey' ? done : null} reserve />
          <button type="submit" disabled={busy}>Add a passkey</button>
        </form>
      ) : (
        <p>This browser cannot use passkeys.</p>
      )}
    </section>
  );
}
