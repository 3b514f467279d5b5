import { useState, type FormEvent } from 'react';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import type { MfaStatus } from './api';
import type { TwoFactor } from './useTwoFactor';

/** The authenticator app: set it up with its first code, replace recovery codes, turn it off. */
export function TotpSection({ status, mfa }: { status: MfaStatus; mfa: TwoFactor }) {
  const { busy, section, error, errors, done, enrolment } = mfa.state;
  const [code, setCode] = useState('');
  const here = section === 'totp';

  const withCode = (action: (code: string) => Promise<boolean>) => async (ev?: FormEvent) => {
    ev?.preventDefault();
    if (await action(code)) setCode('');
  };
  const confirm = withCode(mfa.confirmTotp);
  const regenerate = withCode(mfa.regenerateCodes);
  const disable = withCode(mfa.disableTotp);

  return (
    <>
      <h2>Authenticator app</h2>
      {!status.totp && !enrolment && (
        <button type="button" onClick={() => void mfa.startTotp()} disabled={busy}>Set up an authenticator app</button>
      )}
      {enrolment && (
        <form onSubmit={(e) => void confirm(e)} noValidate>
          <p>Scan this code with your authenticator app, or type the key in by hand, then enter the code it shows.</p>
          <img src={enrolment.qr} alt="QR code for your authenticator app" width={200} height={200} />
          <p>Key: <code data-testid="totp-secret">{enrolment.secret}</code></p>
          <Field label="Code" name="code" autoComplete="one-time-code" value={code}
            onChange={(e) => setCode(e.target.value)} errors={errors.code} required />
          <Notice error={here ? error : null} reserve />
          <button type="submit" disabled={busy}>Turn on</button>
        </form>
      )}
      {status.totp && (
        <form onSubmit={(e) => void regenerate(e)} noValidate>
          <Field label="Current code" name="code" autoComplete="one-time-code" value={code}
            onChange={(e) => setCode(e.target.value)} errors={errors.code} required
            hint="A code from your app (or a recovery code) to confirm it is you." />
          <Notice error={here ? error : null} success={here ? done : null} reserve />
          <div className="actions">
            <button type="submit" disabled={busy}>New recovery codes</button>
            <ConfirmDialog trigger="Turn off" triggerClassName="secondary" triggerDisabled={busy}
              title="Turn off the authenticator app?" confirmLabel="Turn off" destructive onConfirm={() => void disable()}>
              <p>
                Signing in will no longer ask for its codes, and your recovery codes stop working
                {status.passkeys ? ' (your passkeys still count as a second factor)' : ''}.
              </p>
            </ConfirmDialog>
          </div>
        </form>
      )}
      {!status.totp && !enrolment && here && <Notice error={error} success={done} />}
    </>
  );
}
