/** The claims of an Authenticon access token (unknown claims are kept as they are). */
export interface AccessClaims {
  token_type: 'access';
  exp: number;
  iat: number;
  jti: string;
  user_id: string;
  sub: string;
  sid: string;
  username?: string;
  roles?: string[];
  iss?: string;
  aud?: string;
  nbf?: number;
  [claim: string]: unknown;
}

export interface VerifierOptions {
  /** Authenticon's base URL, e.g. `https://auth.example.com`. */
  url: string;
  /** The `iss` tokens and feed answers must carry (Authenticon's `AUTHENTICON_JWT_ISSUER`). */
  issuer?: string;
  /** The `aud` tokens must carry (Authenticon's `AUTHENTICON_JWT_AUDIENCE`). */
  audience?: string;
  /** Time between two polls of the revocation feed. Default 2000. */
  pollIntervalMs?: number;
  /** Refuse every token once no poll has succeeded for this long. Default 300000 (5 minutes). */
  failClosedAfterMs?: number;
  /**
   * Timeout of each request to Authenticon, and the longest a first `verify` waits for
   * the first poll. Default 5000.
   */
  timeoutMs?: number;
  /** Called when polling the feed starts failing (once per outage). Default: `console.warn`. */
  onError?: (error: unknown) => void;
}

export type InvalidTokenReason =
  | 'malformed'
  | 'algorithm'
  | 'signature'
  | 'expired'
  | 'claims'
  | 'invalid'
  | 'token_type'
  | 'keys_unavailable'
  | 'session_revoked'
  | 'user_revoked'
  | 'feed_unavailable'
  | 'feed_stale'
  | 'closed';

export class InvalidTokenError extends Error {
  constructor(reason: InvalidTokenReason, message: string, options?: { cause?: unknown });
  readonly name: 'InvalidTokenError';
  readonly reason: InvalidTokenReason;
}

/** A minimal view of Node's `IncomingMessage` / Express's `Request`. */
export interface RequestLike {
  headers: { authorization?: string | undefined; [name: string]: unknown };
  auth?: AccessClaims;
}

/** A minimal view of Node's `ServerResponse` / Express's `Response`. */
export interface ResponseLike {
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  end(body: string): unknown;
}

/** The part of a Fastify reply the hook uses. */
export interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(body: string): FastifyReplyLike;
}

export interface Verifier {
  /** The token's claims, or an `InvalidTokenError`. */
  verify(token: string): Promise<AccessClaims>;
  /** Express/Connect middleware: sets `req.auth`, or answers 401 as Django REST Framework does. */
  middleware(): (req: RequestLike, res: ResponseLike, next: (err?: unknown) => void) => void;
  /** A Fastify `onRequest`/`preHandler` hook: sets `request.auth`, or answers 401. */
  fastifyHook(): (request: RequestLike, reply: FastifyReplyLike) => Promise<unknown>;
  /** Stops polling; `verify` refuses every token afterwards. */
  close(): void;
  /** Resolves once the first poll succeeded; rejects when it did not within `timeoutMs`. */
  ready(): Promise<void>;
}

export function createVerifier(options: VerifierOptions): Verifier;
