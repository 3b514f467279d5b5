// Session state for React: who is signed in, restored from the refresh cookie on load.

import { createContext, useCallback, useContext, useEffect, useState, useSyncExternalStore, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import {
  getEndReason, getUser, logoutPending, onLogoutPendingChange, onSessionChange, refreshSession, settlePendingLogout, type EndReason,
  type User,
} from './api/session';

interface AuthState {
  /** `undefined` while the first check of the cookie is under way (or failed). */
  user: User | null | undefined;
  /** Why the last session ended, while nobody is signed in (see session.ts). */
  endReason: EndReason;
  /** Set when the first check of the cookie could not reach the server. */
  loadError: unknown;
  /** Checks the cookie again after `loadError`. */
  retry: () => void;
}

const AuthContext = createContext<AuthState>({ user: undefined, endReason: null, loadError: null, retry: () => {} });

/** How often an owed logout (session.ts) is tried again while this tab is open. */
const SETTLE_EVERY_MS = 30_000;

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [user, setUser] = useState<User | null | undefined>(getUser() ?? undefined);
  const [endReason, setEndReason] = useState<EndReason>(getEndReason());
  const [loadError, setLoadError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let shown = getUser()?.id ?? null;
    return onSessionChange((next, reason) => {
      // SECURITY: nothing one account loaded stays cached for the next one (or for
      // nobody): a logout, here or in another tab, empties the cache.
      if (shown !== null && next?.id !== shown) queryClient.clear();
      shown = next?.id ?? null;
      setEndReason(reason);
      setUser(next);
    });
  }, [queryClient]);

  useEffect(() => {
    // A reload keeps the session: the HttpOnly cookie gives a new access token (after
    // any logout this browser still owes the server).
    if (getUser() !== null) return;
    let live = true;
    setLoadError(null);
    refreshSession().then(
      (ok) => {
        if (live && !ok) setUser(null);
      },
      (err: unknown) => {
        if (live) setLoadError(err);
      },
    );
    return () => {
      live = false;
    };
  }, [attempt]);

  // An owed logout is settled as soon as the server can be reached again.
  useEffect(() => {
    const settle = () => {
      if (logoutPending()) settlePendingLogout().catch(() => undefined);
    };
    const timer = setInterval(settle, SETTLE_EVERY_MS);
    window.addEventListener('online', settle);
    return () => {
      clearInterval(timer);
      window.removeEventListener('online', settle);
    };
  }, []);

  const retry = useCallback(() => setAttempt((n) => n + 1), []);
  return <AuthContext.Provider value={{ user, endReason, loadError, retry }}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  return useContext(AuthContext);
}

export const SIGNED_OUT_UNTOLD = 'You are signed out here, but the server could not be told; this browser will end the '
  + 'session there as soon as it can reach it. On a shared computer, close the browser to be sure.';

/** Whether this browser still owes the server a logout (session.ts), followed as it changes. */
export function useLogoutPending(): boolean {
  return useSyncExternalStore(onLogoutPendingChange, logoutPending, () => false);
}
