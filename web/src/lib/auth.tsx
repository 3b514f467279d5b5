// Session state for React: who is signed in, restored from the refresh cookie on load.

import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { getUser, onSessionChange, refreshSession, type User } from './api/session';

interface AuthState {
  /** `undefined` while the first check of the cookie is under way. */
  user: User | null | undefined;
}

const AuthContext = createContext<AuthState>({ user: undefined });

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [user, setUser] = useState<User | null | undefined>(getUser() ?? undefined);
  useEffect(() => {
    let shown = getUser()?.id ?? null;
    const off = onSessionChange((next) => {
      // SECURITY: nothing one account loaded stays cached for the next one (or for
      // nobody): a logout, here or in another tab, empties the cache.
      if (shown !== null && next?.id !== shown) queryClient.clear();
      shown = next?.id ?? null;
      setUser(next);
    });
    // A reload keeps the session: the HttpOnly cookie gives a new access token.
    if (getUser() === null) {
      void refreshSession().then((ok) => {
        if (!ok) setUser(null);
      });
    }
    return off;
  }, [queryClient]);
  return <AuthContext.Provider value={{ user }}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  return useContext(AuthContext);
}
