// The endpoint form as the administrator fills it in, and the request it sends: the
// server's rule about Security Event Tokens kept while choosing, so an event it would
// refuse for that format is not offered (and says why).

import type { Webhook, WebhookRequest } from './api';

export const FORMATS = ['standard', 'set'] as const;
export type Format = (typeof FORMATS)[number];

/**
 * The events a Security Event Token exists for (CAEP session-revoked and
 * credential-change, RISC account-disabled), as the server maps them; its event-types
 * answer does not say which these are.
 */
export const SECURITY_EVENT_TYPES = ['session.revoked', 'session.reuse_detected', 'password.changed', 'factors.changed', 'user.deactivated'];

export interface WebhookDraft {
  url: string;
  description: string;
  /** Fixed once registered. */
  format: Format;
  events: string[];
  enabled: boolean;
}

/** A new endpoint: Standard Webhooks, nothing chosen yet, enabled (the server's defaults). */
export const newWebhookDraft = (): WebhookDraft => ({ url: '', description: '', format: 'standard', events: [], enabled: true });

const isFormat = (f: string): f is Format => (FORMATS as readonly string[]).includes(f);

export const draftOf = (w: Webhook): WebhookDraft => ({
  url: w.url, description: w.description, format: isFormat(w.format) ? w.format : 'standard', events: w.events, enabled: w.enabled,
});

/** Why `event` cannot be chosen in this format; null when it can. */
export function eventRule(format: Format, event: string): string | null {
  return format === 'set' && !SECURITY_EVENT_TYPES.includes(event) ? 'No Security Event Token exists for it.' : null;
}

/** The draft in `format`, less the events that format cannot carry. */
export const withFormat = (d: WebhookDraft, format: Format): WebhookDraft =>
  ({ ...d, format, events: d.events.filter((e) => !eventRule(format, e)) });

/** The request the form sends (spaces trimmed); the format only when registering (it is fixed after). */
export function webhookBody(d: WebhookDraft, { creating }: { creating: boolean }): WebhookRequest {
  const body: WebhookRequest = { url: d.url.trim(), description: d.description.trim(), events: d.events, enabled: d.enabled };
  return creating ? { ...body, format: d.format } : body;
}

/** What the console calls an endpoint: its description, else its URL. */
export const endpointName = (w: Pick<Webhook, 'url' | 'description'>) => w.description || w.url;

/** A format in a few words, for badges and facts. */
export const FORMAT_NAMES: Record<Format, string> = { standard: 'Standard Webhooks', set: 'Security Event Tokens' };
export const formatName = (format: string) => (isFormat(format) ? FORMAT_NAMES[format] : format);
