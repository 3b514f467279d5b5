import { useCallback, useReducer } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  addPasskey, confirmTotp, disableTotp, mfaKey, mfaStatusQuery, passkeysQuery, regenerateRecoveryCodes, removePasskey,
  startTotp, type PasskeyInfo,
} from './api';
import { initialState, twoFactorReducer, type Change, type Section } from './twoFactorState';

/** The factors (from queries), the page's state (a reducer) and what the page can do. */
export function useTwoFactor() {
  const queryClient = useQueryClient();
  const status = useQuery(mfaStatusQuery());
  const passkeys = useQuery(passkeysQuery());
  const [state, dispatch] = useReducer(twoFactorReducer, initialState);

  // Each action reloads the factors first and only then shows its outcome (new recovery
  // codes, the message): what the page shows never contradicts what it has just said, and
  // anything that waits for the outcome sees the new status too.
  const codesSaved = useCallback(() => dispatch({ type: 'codes-saved' }), []);
  const reload = () => queryClient.invalidateQueries({ queryKey: mfaKey });

  /** Runs `action`; resolves whether it succeeded (a form then clears its input). */
  async function run(section: Section, action: () => Promise<Change>): Promise<boolean> {
    dispatch({ type: 'started', section });
    try {
      dispatch({ type: 'succeeded', change: await action() });
      return true;
    } catch (error) {
      dispatch({ type: 'failed', error });
      return false;
    }
  }

  return {
    status: status.data,
    passkeys: passkeys.data,
    loadError: status.error ?? passkeys.error,
    loading: status.isFetching || passkeys.isFetching,
    /** Loads the factors again (after a failed load). */
    reloadFactors: () => reload(),
    state,
    startTotp: () => run('totp', async () => ({ enrolment: await startTotp() })),
    confirmTotp: (code: string) => run('totp', async () => {
      const r = await confirmTotp(code);
      await reload();
      return { codes: r.recovery_codes, enrolment: null, done: 'Two-factor authentication is on.' };
    }),
    regenerateCodes: (code: string) => run('totp', async () => {
      const r = await regenerateRecoveryCodes(code);
      await reload();
      return { codes: r.recovery_codes, done: 'New recovery codes; the old ones no longer work.' };
    }),
    disableTotp: (code: string) => run('totp', async () => {
      await disableTotp(code);
      await reload();
      return { codes: null, done: 'Two-factor authentication is off.' };
    }),
    addPasskey: (name: string) => run('passkey', async () => {
      const r = await addPasskey(name);
      await reload();
      return { ...(r.recovery_codes.length ? { codes: r.recovery_codes } : {}), done: 'Passkey added.' };
    }),
    codesSaved,
    // The server wants a fresh proof of presence for this, which the app's "Confirm it is
    // you" dialog collects: an open tab alone cannot remove a factor.
    removePasskey: (passkey: PasskeyInfo) => run('passkey', async () => {
      await removePasskey(passkey.id);
      await reload();
      return { done: `Passkey “${passkey.name}” removed.` };
    }),
  };
}

export type TwoFactor = ReturnType<typeof useTwoFactor>;
