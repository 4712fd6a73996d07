import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, UNAUTHORIZED_EVENT, type Me } from './api';

export type Permission =
  | 'own_account'
  | 'units.read'
  | 'units.write'
  | 'users.read'
  | 'users.write'
  | 'customers.read'
  | 'customers.write'
  | 'payments.write'
  | 'imports.run'
  | 'imports.read'
  | 'audit.read'
  | 'tokens.manage'
  | 'work_orders.read'
  | 'work_orders.create'
  | 'work_orders.act'
  | 'work_orders.export'
  | 'work_order_types.manage'
  | 'calendars.manage'
  | 'work_orders.status_query'
  | 'attachments.upload'
  | 'notifications.own'
  | 'ivr.read'
  | 'ivr.manage'
  | 'agents.read'
  | 'agents.desk'
  | 'acd.supervise'
  | 'acd.reports'
  | 'agents.manage'
  | 'webhooks.manage'
  | 'recordings.play'
  | 'kb.read'
  | 'kb.edit'
  | 'kb.approve'
  | 'kb.manage';

interface AuthValue {
  /** undefined while the first `GET /auth/me` is in flight; null when signed out. */
  me: Me | null | undefined;
  /** Set when the server could not be reached while checking the session. */
  loadError: string | null;
  /** The user signed out on purpose (the next sign-in starts at the home page, not where they were). */
  signedOut: boolean;
  login: (username: string, password: string) => Promise<Me>;
  logout: () => Promise<void>;
  refresh: () => Promise<void>;
  can: (p: Permission) => boolean;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [signedOut, setSignedOut] = useState(false);

  const refresh = useCallback(async () => {
    try {
      const m = await api.me();
      setMe(m);
      setLoadError(null);
    } catch (e) {
      // 401 is simply "not signed in"; anything else (server down, 5xx) is worth telling.
      setLoadError(e instanceof ApiError && e.status === 401 ? null : e instanceof Error ? e.message : String(e));
      setMe(null);
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  useEffect(() => {
    const onUnauthorized = () => setMe(null);
    window.addEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
  }, []);

  const login = useCallback(async (username: string, password: string) => {
    const res = await api.login(username, password);
    // The login response carries the user; confirm the cookie works with /auth/me when possible.
    let m: Me = res.user;
    try {
      m = await api.me();
    } catch {
      /* keep the login response's user */
    }
    setMe(m);
    setLoadError(null);
    setSignedOut(false);
    return m;
  }, []);

  const logout = useCallback(async () => {
    try {
      await api.logout();
    } finally {
      setSignedOut(true);
      setMe(null);
    }
  }, []);

  const value = useMemo<AuthValue>(
    () => ({
      me,
      loadError,
      signedOut,
      login,
      logout,
      refresh,
      can: (p) => !!me && me.permissions.includes(p),
    }),
    [me, loadError, signedOut, login, logout, refresh],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const v = useContext(AuthContext);
  if (!v) throw new Error('useAuth outside AuthProvider');
  return v;
}
