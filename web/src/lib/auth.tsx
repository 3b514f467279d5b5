// Session state for React: who is signed in, restored from the refresh cookie on load.

import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { getUser, onSessionChange, refreshSession, type User } from './api/client';

interface AuthState {
  /** `undefined` while the first check of the cookie is under way. */
  user: User | null | undefined;
}

const AuthContext = createContext<AuthState>({ user: undefined });

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(getUser() ?? undefined);
  useEffect(() => {
    const off = onSessionChange(setUser);
    // A reload keeps the session: the HttpOnly cookie gives a new access token.
    if (getUser() === null) {
      void refreshSession().then((ok) => {
        if (!ok) setUser(null);
      });
    }
    return off;
  }, []);
  return <AuthContext.Provider value={{ user }}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  return useContext(AuthContext);
}
