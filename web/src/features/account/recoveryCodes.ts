// The "save your recovery codes" step: the codes are shown once, so the page does not
// move on until the person says they have kept them.

export interface RecoveryStep {
  copied: boolean;
  downloaded: boolean;
  /** The "I have saved them" box. */
  saved: boolean;
  /** Set when they tried to go on without ticking it. */
  nudged: boolean;
  /** Set once they went on: the codes are forgotten. */
  finished: boolean;
}

export type RecoveryAction =
  | { type: 'copied' }
  | { type: 'downloaded' }
  | { type: 'saved'; saved: boolean }
  | { type: 'finish' };

export const initialRecoveryStep: RecoveryStep = { copied: false, downloaded: false, saved: false, nudged: false, finished: false };

export function recoveryStepReducer(state: RecoveryStep, action: RecoveryAction): RecoveryStep {
  switch (action.type) {
    case 'copied':
      return { ...state, copied: true };
    case 'downloaded':
      return { ...state, downloaded: true };
    case 'saved':
      return { ...state, saved: action.saved, nudged: state.nudged && !action.saved };
    case 'finish':
      // Not before the box is ticked: say why instead.
      return state.saved ? { ...state, finished: true, nudged: false } : { ...state, nudged: true };
  }
}

/** The codes as a text file: what they are for, one code a line. */
export function recoveryCodesText(codes: string[], { username, issued }: { username: string; issued: Date }): string {
  return [
    `Authenticon recovery codes for ${username}`,
    `Made ${issued.toISOString().slice(0, 16).replace('T', ' ')} UTC. Each code works once, in place of your`,
    'authenticator app or passkey. Making new codes ends these.',
    '',
    ...codes,
    '',
  ].join('\n');
}

export const RECOVERY_FILE_NAME = 'authenticon-recovery-codes.txt';
