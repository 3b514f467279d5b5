// What someone has typed into a form, kept in this tab's memory while the page is gone,
// so a session that expires mid-work costs a sign-in and nothing else: the page sends
// them to /login?next=…, and on return its forms show what they held.
//
// Memory only (never storage): a reload, or closing the tab, forgets it. Dropped when a
// different account signs in, or someone signs out. Never for passwords or codes: those
// are typed again.

import { useCallback, useRef, useState } from 'react';
import { onSessionChange } from './api/session';

const drafts = new Map<string, unknown>();
/** The account the drafts were typed under. */
let owner: string | null = null;

onSessionChange((user, reason) => {
  if (user) {
    if (owner !== null && owner !== user.id) drafts.clear();
    owner = user.id;
  } else if (reason === 'signed-out') {
    drafts.clear();
    owner = null;
  }
});

/**
 * `useState` whose value outlives the component until `clear()` (call it once the form
 * is sent), within this tab and account. `key` names the field app-wide: "roles/new/name".
 */
export function useDraft<T>(key: string, initial: T): [T, (value: T) => void, () => void] {
  const start = useRef(initial);
  const [value, setValue] = useState<T>(() => (drafts.has(key) ? (drafts.get(key) as T) : initial));
  const set = useCallback((next: T) => {
    drafts.set(key, next);
    setValue(next);
  }, [key]);
  const clear = useCallback(() => {
    drafts.delete(key);
    setValue(start.current);
  }, [key]);
  return [value, set, clear];
}

/** For tests. */
export function clearDrafts(): void {
  drafts.clear();
  owner = null;
}
