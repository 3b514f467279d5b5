// Rendering a page in tests as the app does: inside the router and the server-data
// cache, and the session when asked.

import { StrictMode, type ReactElement } from 'react';
import { render } from '@testing-library/react';
import { afterEach, beforeEach, vi } from 'vitest';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router';
import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { AuthProvider } from './lib/auth';
import { createQueryClient } from './lib/query';
import { resetForTests, startSession, type User } from './lib/api/session';

interface Options {
  /** The URL the page opens at. */
  route?: string;
  /** The cache to use, for tests that look into it. */
  queryClient?: QueryClient;
  strict?: boolean;
  /** Mount the session as the app does (it restores a session from the cookie when none is set). */
  auth?: boolean;
}

export function renderPage(page: ReactElement, { route = '/', queryClient = createQueryClient(), strict = false, auth = false }: Options = {}) {
  const tree = (
    <MemoryRouter initialEntries={[route]}>
      <QueryClientProvider client={queryClient}>
        {auth ? <AuthProvider>{page}</AuthProvider> : page}
      </QueryClientProvider>
    </MemoryRouter>
  );
  return { queryClient, ...render(strict ? <StrictMode>{tree}</StrictMode> : tree) };
}

/** Stands for every other page: shows where the app went (path and query) and with what router state. */
function Elsewhere() {
  const l = useLocation();
  return <output data-testid="where" data-state={JSON.stringify(l.state)}>{`${l.pathname}${l.search}`}</output>;
}

/**
 * Renders `pages` (path → element) as the app's router would, any other path showing
 * where the app went: `screen.getByTestId('where')`.
 */
export function renderRoutes(pages: Record<string, ReactElement>, options: Options = {}) {
  return renderPage(
    <Routes>
      {Object.entries(pages).map(([path, element]) => <Route key={path} path={path} element={element} />)}
      <Route path="*" element={<Elsewhere />} />
    </Routes>,
    options,
  );
}

/** A JSON answer as the server sends it. */
export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

/** A user object with no roles; `overrides` sets what a test needs. */
export function userFixture(overrides: Partial<User> = {}): User {
  return {
    id: 'u1', username: 'alice', email: '', is_active: true, is_superuser: false,
    roles: [], permissions: [], date_joined: '2026-01-01T00:00:00Z', last_login: null, email_verified: false, has_2fa: false,
    ...overrides,
  };
}

/** Each test of the file starts with `user` signed in (nobody for null), and the real fetch back after. */
export function signedInEachTest(user: User | null) {
  beforeEach(() => {
    resetForTests();
    if (user) startSession({ access: 'a', user });
  });
  afterEach(() => vi.unstubAllGlobals());
}

/** A request the fake server received. */
export interface Call {
  url: string;
  method: string;
  body: unknown;
  /** The Authorization header sent, if any. */
  auth: string | null;
}

type Answer = (call: Call) => Response | Promise<Response>;

/**
 * Stands in for the server: answers "METHOD /path" from `answers` (else `otherwise`, a 404
 * by default), and returns the calls it received, in order.
 */
export function fakeServer(answers: Record<string, Answer>, otherwise: Answer = () => json(404, { detail: 'Not found.' })): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit = {}) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    const call: Call = {
      url, method: init.method ?? 'GET', body: init.body ? JSON.parse(String(init.body)) : undefined, auth: headers.Authorization ?? null,
    };
    calls.push(call);
    return (answers[`${call.method} ${url}`] ?? otherwise)(call);
  }));
  return calls;
}
