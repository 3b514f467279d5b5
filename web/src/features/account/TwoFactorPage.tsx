import { useEffect, useState, type FormEvent } from 'react';
import QRCode from 'qrcode';
import { Field } from '../../components/Field';
import { Loading, Notice } from '../../components/Notice';
import { api, formError } from '../../lib/api/client';

interface Status { totp: boolean; recovery_codes_left: number }
interface Enrolment { secret: string; otpauth_url: string }

/** Turn TOTP on (QR code, first code), see recovery codes once, replace them, turn it off. */
export function TwoFactorPage() {
  const [status, setStatus] = useState<Status | null>(null);
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [qr, setQr] = useState<string | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = () => api<Status>('/api/mfa/').then(setStatus).catch((e: unknown) => setError(formError(e).error));
  useEffect(() => { void load(); }, []);

  async function run(action: () => Promise<void>) {
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
      setError(m.error);
    } finally {
      setBusy(false);
    }
  }

  const start = () => run(async () => {
    const e = await api<Enrolment>('/api/mfa/totp/', { method: 'POST', body: {} });
    setEnrolment(e);
    setQr(await QRCode.toDataURL(e.otpauth_url, { margin: 1, width: 200 }));
  });

  const confirm = (ev: FormEvent) => {
    ev.preventDefault();
    return run(async () => {
      const r = await api<{ recovery_codes: string[] }>('/api/mfa/totp/confirm/', { method: 'POST', body: { code } });
      setCodes(r.recovery_codes);
      setEnrolment(null);
      setDone('Two-factor authentication is on.');
      await load();
    });
  };

  const regenerate = (ev: FormEvent) => {
    ev.preventDefault();
    return run(async () => {
      const r = await api<{ recovery_codes: string[] }>('/api/mfa/recovery-codes/', { method: 'POST', body: { code } });
      setCodes(r.recovery_codes);
      setDone('New recovery codes; the old ones no longer work.');
      await load();
    });
  };

  const disable = () => run(async () => {
    await api('/api/mfa/totp/disable/', { method: 'POST', body: { code } });
    setCodes(null);
    setDone('Two-factor authentication is off.');
    await load();
  });

  if (!status) return error ? <Notice error={error} /> : <Loading what="your factors" />;

  return (
    <section className="card narrow" aria-labelledby="mfa-title">
      <h1 id="mfa-title">Two-factor authentication</h1>
      <p data-testid="mfa-state">
        {status.totp
          ? `On: signing in asks for a code from your authenticator app. ${status.recovery_codes_left} recovery codes left.`
          : 'Off: signing in needs only your password.'}
      </p>
      {codes && (
        <div className="recovery-codes">
          <p><strong>Your recovery codes.</strong> Each works once, if you lose your device. Keep them somewhere safe: they are shown only now.</p>
          <ul data-testid="recovery-codes">{codes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
        </div>
      )}
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
          <Notice error={error} reserve />
          <button type="submit" disabled={busy}>Turn on</button>
        </form>
      )}
      {status.totp && (
        <form onSubmit={(e) => void regenerate(e)} noValidate>
          <Field label="Current code" name="code" autoComplete="one-time-code" value={code}
            onChange={(e) => setCode(e.target.value)} errors={errors.code} required
            hint="A code from your app (or a recovery code) to confirm it is you." />
          <Notice error={error} success={done} reserve />
          <div className="actions">
            <button type="submit" disabled={busy}>New recovery codes</button>{' '}
            <button type="button" className="secondary" onClick={() => void disable()} disabled={busy}>Turn off</button>
          </div>
        </form>
      )}
      {!status.totp && !enrolment && <Notice error={error} success={done} />}
    </section>
  );
}
