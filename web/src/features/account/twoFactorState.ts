// What the two-factor page remembers between its queries' answers: the action under
// way, its outcome, and what the server showed once (a TOTP secret, recovery codes).

import { formError } from '../../lib/api/errors';
import { passkeyError } from '../../lib/passkeys';
import type { TotpEnrolment } from './api';

/** Which part of the page the last action came from: its notice shows the outcome. */
export type Section = 'totp' | 'passkey';

export interface TwoFactorState {
  section: Section;
  busy: boolean;
  errors: Record<string, string[]>;
  error: string | null;
  done: string | null;
  /** A TOTP secret waiting for its first code, with its QR code. */
  enrolment: (TotpEnrolment & { qr: string }) | null;
  /** Recovery codes, shown once, right after the server made them, until saved. */
  codes: string[] | null;
}

/** What a successful action changes. */
export type Change = Partial<Pick<TwoFactorState, 'enrolment' | 'codes' | 'done'>>;

export type Action =
  | { type: 'started'; section: Section }
  | { type: 'succeeded'; change: Change }
  | { type: 'failed'; error: unknown }
  /** The person said they saved the recovery codes: they are forgotten. */
  | { type: 'codes-saved' };

export const initialState: TwoFactorState = {
  section: 'totp', busy: false, errors: {}, error: null, done: null, enrolment: null, codes: null,
};

export function twoFactorReducer(state: TwoFactorState, action: Action): TwoFactorState {
  switch (action.type) {
    case 'started':
      return { ...state, section: action.section, busy: true, errors: {}, error: null, done: null };
    case 'succeeded':
      return { ...state, ...action.change, busy: false };
    case 'failed':
      return { ...state, busy: false, ...failure(action.error) };
    case 'codes-saved':
      return { ...state, codes: null };
  }
}

function failure(err: unknown): Pick<TwoFactorState, 'errors' | 'error'> {
  const m = formError(err);
  // A passkey answer's problems have no field on the page: say them in the notice.
  const unshown = [...(m.fields.credential ?? []), ...(m.fields.ceremony ?? [])];
  return { errors: m.fields, error: passkeyError(err) ?? (unshown.length ? unshown.join(' ') : m.error) };
}
