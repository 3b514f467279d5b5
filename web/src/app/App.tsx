import { Link, Navigate, Route, Routes, useLocation } from 'react-router';
import type { ReactNode } from 'react';
import { useAuth } from '../lib/auth';
import { hasPermissions } from '../lib/permissions';
import { loginPathFor } from '../lib/nextPath';
import { Loading } from '../components/Notice';
import { LoadError } from '../components/QueryState';
import { RouteView } from '../components/Page';
import { Layout } from './Layout';
import { Providers } from './providers';
import { accountRoutes, adminRoutes, publicRoutes, type AppRoute } from './routes';

export function App() {
  return (
    <Providers>
      <Layout>
        <AppRoutes />
      </Layout>
    </Providers>
  );
}

export function AppRoutes() {
  return (
    <Routes>
      {publicRoutes.map((r) => (
        <Route key={r.path} path={r.path} element={<RouteView title={r.title}>{r.element}</RouteView>} />
      ))}
      {[...accountRoutes, ...adminRoutes].map((r) => (
        <Route key={r.path} path={r.path} element={<RouteView title={r.title}><Private route={r} /></RouteView>} />
      ))}
      <Route path="*" element={<RouteView title="Page not found"><NotFound /></RouteView>} />
    </Routes>
  );
}

/** What a private page tells the sign-in page it sends someone to (router state). */
export type LoginState = { expired: boolean };

/**
 * A page for signed-in users (holding the route's permissions, if it names any). Without a
 * session it sends to the sign-in page with `?next=` (where they were), saying why when
 * the session ended mid-work; what they typed waits in memory (lib/drafts) meanwhile.
 */
function Private({ route }: { route: AppRoute }) {
  const { user, endReason, loadError, retry } = useAuth();
  const location = useLocation();
  if (user === undefined) {
    return (
      <section className="card narrow" aria-labelledby="page-title">
        <h1 id="page-title">{route.title}</h1>
        {loadError ? <LoadError error={loadError} what="your session" onRetry={retry} /> : <Loading what="your session" />}
      </section>
    );
  }
  if (user === null) {
    // Signing out goes to the bare sign-in page; anything else comes back here after.
    const to = endReason === 'signed-out' ? '/login' : loginPathFor(`${location.pathname}${location.search}${location.hash}`);
    return <Navigate to={to} replace state={{ expired: endReason === 'expired' } satisfies LoginState} />;
  }
  if (route.permission && !hasPermissions(user, route.permission)) return <NoAccess title={route.title} />;
  return <>{route.element}</>;
}

function NoAccess({ title }: { title: string }) {
  return (
    <section className="card narrow" aria-labelledby="page-title">
      <h1 id="page-title">{title}</h1>
      <p role="alert">You do not have permission to see this page. Ask an administrator if you need it.</p>
      <p><Link to="/">Go to your dashboard</Link></p>
    </section>
  );
}

function NotFound(): ReactNode {
  return (
    <section className="card narrow" aria-labelledby="page-title">
      <h1 id="page-title">Page not found</h1>
      <p>There is no page at this address. It may have moved, or the link may be mistyped.</p>
      <p><Link to="/">Go to your dashboard</Link></p>
    </section>
  );
}
