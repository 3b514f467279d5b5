import type { FormEvent } from 'react';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { useDraft } from '../../lib/drafts';
import { passkeysSupported } from '../../lib/passkeys';
import type { PasskeyInfo } from './api';
import type { TwoFactor } from './useTwoFactor';

function when(seconds: number | null | undefined): string {
  return seconds == null ? 'never' : new Date(seconds * 1000).toLocaleString();
}

/** The user's passkeys: add one, remove one (after confirming). */
export function PasskeySection({ passkeys, mfa }: { passkeys: PasskeyInfo[]; mfa: TwoFactor }) {
  const { busy, section, error, errors, done } = mfa.state;
  // Kept across a sign-in if the session ends meanwhile (lib/drafts).
  const [name, setName, clearName] = useDraft('two-factor/passkey-name', '');
  const here = section === 'passkey';

  async function add(ev: FormEvent) {
    ev.preventDefault();
    if (await mfa.addPasskey(name)) clearName();
  }

  return (
    <>
      <h2>Passkeys</h2>
      <p>A passkey signs you in with your device's screen lock or security key, with or without your password.</p>
      {passkeys.length > 0 && (
        <ul className="list passkeys" data-testid="passkeys">
          {passkeys.map((p) => (
            <li key={p.id} className="row">
              <div>
                <strong>{p.name}</strong>
                <div className="muted">added {when(p.created_at)}, last used {when(p.last_used_at)}</div>
              </div>
              <ConfirmDialog trigger="Remove" triggerClassName="secondary" triggerAriaLabel={`Remove passkey ${p.name}`}
                triggerDisabled={busy} title={`Remove the passkey “${p.name}”?`} confirmLabel="Remove passkey" destructive
                onConfirm={() => void mfa.removePasskey(p)}>
                <p>It will no longer sign you in. You may be asked to confirm it is you first.</p>
              </ConfirmDialog>
            </li>
          ))}
        </ul>
      )}
      {passkeysSupported() ? (
        <form onSubmit={(e) => void add(e)} noValidate>
          <Field label="Passkey name" name="name" value={name} onChange={(e) => setName(e.target.value)}
            errors={errors.name} required hint="Something to tell it apart, like “Laptop” or “YubiKey”." />
          <Notice error={here ? error : null} success={here ? done : null} reserve />
          <button type="submit" disabled={busy}>Add a passkey</button>
        </form>
      ) : (
        <>
          <p>This browser cannot use passkeys.</p>
          <Notice error={here ? error : null} success={here ? done : null} />
        </>
      )}
    </>
  );
}
