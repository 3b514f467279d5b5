// What a failed call looks like to the app: the status and the server's DRF-shaped body.

import { retryAfterSeconds, throttledMessage } from '../time';

/** A non-2xx answer, with the server's DRF-shaped body. */
export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  /** For a 429: seconds until the server takes the request again, when it said. */
  readonly retryAfter: number | null;
  /**
   * `retryAfterHeader` is the answer's `Retry-After`. A 429's message is said in words
   * ("Too many attempts. Try again in 15 minutes."), not as DRF's "Request was throttled.
   * Expected available in 894 seconds."
   */
  constructor(status: number, body: unknown, retryAfterHeader: string | null = null) {
    const detail = detailOf(body);
    const retryAfter = status === 429 ? retryAfterSeconds(retryAfterHeader, detail) : null;
    super(status === 429 ? throttledMessage(retryAfter) : (detail ?? `Request failed (${status})`));
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }

  /** The machine-readable `code` of the answer (`reauthentication_required`, …), if any. */
  get code(): string | undefined {
    return codeOf(this.body);
  }

  /** DRF field errors (`{"field": ["message"]}`), empty when the body has none. */
  fieldErrors(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    if (this.body && typeof this.body === 'object' && !Array.isArray(this.body)) {
      for (const [k, v] of Object.entries(this.body as Record<string, unknown>)) {
        if (Array.isArray(v) && v.every((m) => typeof m === 'string')) out[k] = v as string[];
      }
    }
    return out;
  }
}

export const UNREACHABLE = 'The server could not be reached. Try again.';

/**
 * What a form shows for a failed call: DRF field errors under their fields, otherwise
 * one message (the server's `detail`, or that it could not be reached).
 */
export function formError(err: unknown): { fields: Record<string, string[]>; error: string | null } {
  if (!(err instanceof ApiError)) return { fields: {}, error: UNREACHABLE };
  const fields = err.fieldErrors();
  return { fields, error: Object.keys(fields).length ? null : err.message };
}

/** One line for a failed call: the server's message, else `fallback`. */
export function messageOf(err: unknown, fallback: string): string {
  return err instanceof ApiError ? err.message : fallback;
}

/** One line for a failed change: every field error joined, else the server's message. */
export function changeError(err: unknown, fallback = 'The change could not be saved.'): string {
  if (!(err instanceof ApiError)) return fallback;
  const fields = Object.values(err.fieldErrors()).flat();
  return fields.length ? fields.join(' ') : err.message;
}

export function codeOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const code = (body as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function detailOf(body: unknown): string | undefined {
  if (body && typeof body === 'object' && 'detail' in body) {
    const d = (body as { detail: unknown }).detail;
    if (typeof d === 'string') return d;
  }
  return undefined;
}
