import { Loading, Notice } from '../../components/Notice';
import { messageOf } from '../../lib/api/errors';
import type { MfaStatus } from './api';
import { PasskeySection } from './PasskeySection';
import { TotpSection } from './TotpSection';
import { useTwoFactor } from './useTwoFactor';

/**
 * Turn TOTP on (QR code, first code), add and remove passkeys, see recovery codes once,
 * replace them, turn TOTP off.
 */
export function TwoFactorPage() {
  const mfa = useTwoFactor();
  const { status, passkeys, loadError, state } = mfa;

  if (!status || !passkeys) {
    return loadError ? <Notice error={messageOf(loadError, 'Could not load your factors.')} /> : <Loading what="your factors" />;
  }

  return (
    <section className="card narrow" aria-labelledby="mfa-title">
      <h1 id="mfa-title">Two-factor authentication</h1>
      <p data-testid="mfa-state">{describe(status)}</p>
      {state.codes && (
        <div className="recovery-codes">
          <p><strong>Your recovery codes.</strong> Each works once, if you lose your device. Keep them somewhere safe: they are shown only now.</p>
          <ul data-testid="recovery-codes">{state.codes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
        </div>
      )}
      <TotpSection status={status} mfa={mfa} />
      <PasskeySection passkeys={passkeys} mfa={mfa} />
    </section>
  );
}

function describe(status: MfaStatus): string {
  if (!status.totp && !status.passkeys) return 'Off: signing in needs only your password.';
  const ways = [status.totp && 'a code from your authenticator app', status.passkeys && 'a passkey'].filter(Boolean);
  return `On: signing in asks for ${ways.join(' or ')}. ${status.recovery_codes_left} recovery codes left.`;
}
