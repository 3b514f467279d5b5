import { Loading, Notice } from '../../components/Notice';
import { LoadError } from '../../components/QueryState';
import { useAuth } from '../../lib/auth';
import type { MfaStatus } from './api';
import { PasskeySection } from './PasskeySection';
import { RecoveryCodes } from './RecoveryCodes';
import { TotpSection } from './TotpSection';
import { useTwoFactor } from './useTwoFactor';

/**
 * Turn TOTP on (QR code, first code), add and remove passkeys, save recovery codes once,
 * replace them, turn TOTP off.
 */
export function TwoFactorPage() {
  const { user } = useAuth();
  const mfa = useTwoFactor();
  const { status, passkeys, loadError, state } = mfa;

  return (
    <section className="card narrow" aria-labelledby="mfa-title">
      <h1 id="mfa-title">Two-factor authentication</h1>
      {!status || !passkeys ? (
        loadError ? <LoadError error={loadError} what="your factors" onRetry={mfa.reloadFactors} retrying={mfa.loading} />
          : <Loading what="your factors" />
      ) : (
        <>
          <p data-testid="mfa-state">{describe(status)}</p>
          {state.codes ? (
            // New codes come first: the rest of the page waits until they are saved.
            <>
              <Notice success={state.done} />
              <RecoveryCodes codes={state.codes} username={user?.username ?? ''} onDone={mfa.codesSaved} />
            </>
          ) : (
            <>
              <TotpSection status={status} mfa={mfa} />
              <PasskeySection passkeys={passkeys} mfa={mfa} />
            </>
          )}
        </>
      )}
    </section>
  );
}

function describe(status: MfaStatus): string {
  if (!status.totp && !status.passkeys) return 'Off: signing in needs only your password.';
  const ways = [status.totp && 'a code from your authenticator app', status.passkeys && 'a passkey'].filter(Boolean);
  return `On: signing in asks for ${ways.join(' or ')}. ${status.recovery_codes_left} recovery codes left.`;
}
