// The one way the app calls the server. Paths, methods, bodies, path and query
// parameters and answers are all typed from `paths` (schema.d.ts, generated from the
// server's OpenAPI document): a call the server does not describe does not compile.
//
// A logout the server was not told of is settled before anything else is sent. A 401
// triggers one refresh of the session (session.ts), after which the request is
// sent once more; a 403 `reauthentication_required` asks for a proof of presence
// (guards.ts) and sends it once more.

import type { paths } from './schema';
import { ApiError, codeOf } from './errors';
import { askForReauth, setMfaEnrollmentRequired } from './guards';
import { getAccessToken, refreshSession, settlePendingLogout } from './session';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The methods the server declares for `P`. */
export type MethodOf<P extends keyof paths> = {
  [M in Method]-?: paths[P][M] extends undefined ? never : M;
}[Method];

/** The paths that answer `M`. */
export type PathsWith<M extends Method> = { [P in keyof paths]: M extends MethodOf<P> ? P : never }[keyof paths];

export type Operation<P extends keyof paths, M extends MethodOf<P>> = NonNullable<paths[P][M]>;

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : null;

/** The JSON body `P` takes with `M`. */
export type RequestBody<P extends keyof paths, M extends MethodOf<P>> =
  Operation<P, M> extends { requestBody: infer R } ? Json<R> : never;

/** What a successful `M` on `P` answers (`null` for 204). */
export type ResponseOf<P extends keyof paths, M extends MethodOf<P> = DefaultMethod<P>> =
  Operation<P, M> extends { responses: infer R }
    ? { [S in keyof R & (200 | 201 | 202 | 204)]: Json<R[S]> }[keyof R & (200 | 201 | 202 | 204)]
    : never;

type DefaultMethod<P extends keyof paths> = 'get' extends MethodOf<P> ? 'get' : MethodOf<P>;

type BodyInit<O> = O extends { requestBody: { content: { 'application/json': infer B } } } ? { body: B } : { body?: never };
type PathInit<O> = O extends { parameters: { path: infer X } } ? { path: X } : { path?: never };
type QueryInit<O> = O extends { parameters: { query?: infer Q } }
  ? [NonNullable<Q>] extends [never] ? { query?: never } : { query?: NonNullable<Q> }
  : { query?: never };

interface Flags {
  /** The proof itself: a `reauthentication_required` answer opens no prompt. */
  noReauth?: boolean;
  /** Before there is a session (login, password reset, mail links): no token, no refresh. */
  anonymous?: boolean;
}

// `method` is inferred from the plain member and required by the conditional one: with the
// two in one conditional type, inference gave up once the schema reached about ninety
// paths, and a POST to a path that also answers GET was typed as either answer.
export type Init<P extends keyof paths, M extends MethodOf<P>> = { method?: M } & (M extends 'get' ? unknown : { method: M }) &
  BodyInit<Operation<P, M>> & PathInit<Operation<P, M>> & QueryInit<Operation<P, M>> & Flags;

/** The options argument is left out only when it would hold nothing required. */
type InitArg<T> = {} extends T ? [init?: T] : [init: T];

interface LooseInit extends Flags {
  method?: Method;
  body?: unknown;
  path?: Record<string, string | number>;
  query?: Record<string, string | number | boolean | undefined>;
}

/**
 * Calls the API (with the access token unless `anonymous`); on 401 refreshes once and
 * retries once; on 403 `reauthentication_required` asks for a proof and retries once.
 */
export function api<P extends keyof paths, M extends MethodOf<P> = DefaultMethod<P>>(
  path: P,
  ...init: InitArg<Init<P, M>>
): Promise<ResponseOf<P, M>>;
export async function api(path: string, ...args: unknown[]): Promise<unknown> {
  const init = (args[0] ?? {}) as LooseInit;
  const url = urlFor(path, init);
  // A logout this browser still owes the server goes first (session.ts).
  await settlePendingLogout();
  let sent: string | null = null;
  const send = () => {
    const headers: Record<string, string> = {};
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    sent = init.anonymous ? null : getAccessToken();
    if (sent) headers['Authorization'] = `Bearer ${sent}`;
    return fetch(url, {
      method: (init.method ?? 'get').toUpperCase(),
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      credentials: 'same-origin',
    });
  };
  let res = await send();
  if (res.status === 401 && !init.anonymous && (await refreshSession(sent))) {
    res = await send();
  }
  let body = await parse(res);
  // A sensitive change needs a fresh proof of presence: ask for it, then send again.
  if (res.status === 403 && codeOf(body) === 'reauthentication_required' && !init.noReauth && !init.anonymous
    && (await askForReauth())) {
    res = await send();
    body = await parse(res);
  }
  if (!res.ok) {
    if (res.status === 403 && codeOf(body) === 'mfa_enrollment_required') setMfaEnrollmentRequired(true);
    throw new ApiError(res.status, body, res.headers.get('Retry-After'));
  }
  return body;
}

/** `/api/users/{id}/` with `{path: {id}}` filled in, and the query's set values appended. */
function urlFor(template: string, init: LooseInit): string {
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = init.path?.[name];
    if (value === undefined) throw new Error(`${template}: no value for {${name}}`);
    return encodeURIComponent(String(value));
  });
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(init.query ?? {})) {
    if (v !== undefined && v !== '') query.set(k, String(v));
  }
  const qs = query.toString();
  return qs ? `${path}?${qs}` : path;
}

async function parse(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text };
  }
}
