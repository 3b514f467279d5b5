// The two 403 answers the app reacts to wherever they come from: a sensitive change
// that wants a fresh proof of presence, and a role that wants a second factor first.

/**
 * Asks the person at the keyboard to prove they are there (their password) and
 * re-authenticates the session; resolves `false` when they cancel. The app mounts one
 * (`ReauthDialog`); without it a `reauthentication_required` answer is an error as usual.
 */
export type ReauthPrompt = () => Promise<boolean>;
let reauthPrompt: ReauthPrompt | null = null;

export function setReauthPrompt(prompt: ReauthPrompt | null): void {
  reauthPrompt = prompt;
}

/** Runs the mounted prompt; `false` when there is none or the person cancelled. */
export async function askForReauth(): Promise<boolean> {
  return reauthPrompt ? reauthPrompt() : false;
}

// Set when the server refused a guarded route because the user's role requires a second
// factor they have not added yet; the app shows a banner until they do.
let mfaEnrollmentRequired = false;
const mfaListeners = new Set<(required: boolean) => void>();

export function setMfaEnrollmentRequired(required: boolean): void {
  if (required === mfaEnrollmentRequired) return;
  mfaEnrollmentRequired = required;
  for (const l of mfaListeners) l(required);
}

/** Calls `listener` now and on each change; returns the unsubscribe. */
export function onMfaEnrollmentRequired(listener: (required: boolean) => void): () => void {
  mfaListeners.add(listener);
  listener(mfaEnrollmentRequired);
  return () => mfaListeners.delete(listener);
}
