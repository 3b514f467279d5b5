import { useState, type FormEvent } from 'react';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { passkeysSupported } from '../../lib/passkeys';
import type { PasskeyInfo } from './api';
import type { TwoFactor } from './useTwoFactor';

function when(seconds: number | null | undefined): string {
  return seconds == null ? 'never' : new Date(seconds * 1000).toLocaleString();
}

/** The user's passkeys: add one, remove one (after confirming). */
export function PasskeySection({ passkeys, mfa }: { passkeys: PasskeyInfo[]; mfa: TwoFactor }) {
  const { busy, section, error, errors, done, removing } = mfa.state;
  const [name, setName] = useState('');
  const here = section === 'passkey';

  async function add(ev: FormEvent) {
    ev.preventDefault();
    if (await mfa.addPasskey(name)) setName('');
  }

  function remove(ev: FormEvent) {
    ev.preventDefault();
    if (removing) void mfa.removePasskey(removing);
  }

  return (
    <>
      <h2>Passkeys</h2>
      <p>A passkey signs you in with your device's screen lock or security key, with or without your password.</p>
      {passkeys.length > 0 && (
        <ul className="passkeys" data-testid="passkeys">
          {passkeys.map((p) => (
            <li key={p.id}>
              <strong>{p.name}</strong> <small>added {when(p.created_at)}, last used {when(p.last_used_at)}</small>{' '}
              <button type="button" className="secondary" disabled={busy} onClick={() => mfa.askRemoval(p)}
                aria-label={`Remove passkey ${p.name}`}>Remove</button>
            </li>
          ))}
        </ul>
      )}
      {removing && (
        <form className="confirm-box" onSubmit={remove} noValidate aria-label="Remove a passkey">
          <p>Remove the passkey <strong>{removing.name}</strong>? It will no longer sign you in.</p>
          <div className="actions">
            <button type="submit" disabled={busy}>Remove passkey</button>{' '}
            <button type="button" className="secondary" onClick={mfa.cancelRemoval} disabled={busy}>Cancel</button>
          </div>
        </form>
      )}
      {passkeysSupported() ? (
        <form onSubmit={(e) => void add(e)} noValidate>
          <Field label="Passkey name" name="name" value={name} onChange={(e) => setName(e.target.value)}
            errors={errors.name} required hint="Something to tell it apart, like “Laptop” or “YubiKey”." />
          <Notice error={here ? error : null} success={here ? done : null} reserve />
          <button type="submit" disabled={busy}>Add a passkey</button>
        </form>
      ) : (
        <p>This browser cannot use passkeys.</p>
      )}
    </>
  );
}
