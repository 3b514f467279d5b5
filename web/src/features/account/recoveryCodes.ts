// Recovery codes as a file to keep: what they are for, one code a line.

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
