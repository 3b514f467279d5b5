// The application form as the administrator fills it in, and the request it sends: the
// server's rules about grant types kept while choosing, so a choice it would refuse is
// not offered (and says why), and what only matters with a grant is not sent without it.

import type { Client, ClientRequest } from './api';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export interface ClientDraft {
  name: string;
  /** A public client (a SPA, a native app) has no secret; fixed once registered. */
  public: boolean;
  /** One input each; empty ones are left out. */
  redirectUris: string[];
  postLogoutUris: string[];
  grantTypes: GrantType[];
  scopes: string[];
  permissions: string[];
  preConsented: boolean;
}

/** What a new application starts as: the server's defaults, and one empty redirect URI to fill in. */
export const newClientDraft = (): ClientDraft => ({
  name: '', public: false, redirectUris: [''], postLogoutUris: [], grantTypes: ['authorization_code', 'refresh_token'],
  scopes: ['openid', 'profile', 'email', 'offline_access'], permissions: [], preConsented: false,
});

const isGrant = (g: string): g is GrantType => (GRANT_TYPES as readonly string[]).includes(g);

export function draftOf(c: Client): ClientDraft {
  return {
    name: c.name, public: c.public, redirectUris: c.redirect_uris.length ? c.redirect_uris : [''],
    postLogoutUris: c.post_logout_redirect_uris, grantTypes: c.grant_types.filter(isGrant), scopes: c.scopes,
    permissions: c.permissions, preConsented: c.pre_consented,
  };
}

/** Whether `grant` may be chosen for the application as it stands, and if not why. */
export function grantRule(d: Pick<ClientDraft, 'public' | 'grantTypes'>, grant: GrantType): string | null {
  if (grant === 'client_credentials' && d.public) return 'A public client cannot use client_credentials: it has no secret to prove it.';
  if (grant === 'refresh_token' && !d.grantTypes.includes('authorization_code')) return 'refresh_token comes with authorization_code.';
  return null;
}

/** The draft with these grant types (and public or not), less any the rules no longer allow. */
export function withGrants(d: ClientDraft, grantTypes: GrantType[], isPublic = d.public): ClientDraft {
  const next = { ...d, public: isPublic, grantTypes };
  return { ...next, grantTypes: GRANT_TYPES.filter((g) => grantTypes.includes(g) && !grantRule(next, g)) };
}

/** Sign-in settings (redirect URIs, the consent screen) only mean something with the code flow. */
export const signsUsersIn = (d: ClientDraft) => d.grantTypes.includes('authorization_code');

/** Only a client with client_credentials acts on its own permissions. */
export const actsForItself = (d: ClientDraft) => d.grantTypes.includes('client_credentials');

const filled = (uris: string[]) => uris.map((u) => u.trim()).filter(Boolean);

/** The request a filled-in form sends; `public` only when registering (it is fixed after). */
export function clientBody(d: ClientDraft, { creating }: { creating: boolean }): ClientRequest {
  const code = signsUsersIn(d);
  return {
    name: d.name.trim(),
    ...(creating ? { public: d.public } : {}),
    redirect_uris: code ? filled(d.redirectUris) : [],
    post_logout_redirect_uris: code ? filled(d.postLogoutUris) : [],
    grant_types: d.grantTypes,
    scopes: d.scopes,
    permissions: actsForItself(d) ? d.permissions : [],
    pre_consented: code && d.preConsented,
  };
}

/**
 * What saving would give that the application did not have (`before`: null for a new
 * one): permissions it acts on, and skipping users' consent. Both are asked about first.
 */
export function privilegesGained(before: Client | null, body: ClientRequest): { permissions: string[]; firstParty: boolean } {
  const held = before?.permissions ?? [];
  return {
    permissions: (body.permissions ?? []).filter((p) => !held.includes(p)),
    firstParty: !!body.pre_consented && !before?.pre_consented,
  };
}

/**
 * The server's messages about a list of URIs ("https://x/cb: A redirect URI must not have
 * a fragment."), each under the input whose URI it names; the rest are about the list.
 */
export function uriErrors(messages: string[] | undefined, uris: string[]): { rows: string[][]; list: string[] } {
  const rows = uris.map((): string[] => []);
  const list: string[] = [];
  for (const m of messages ?? []) {
    const i = uris.findIndex((u) => u.trim() !== '' && m.startsWith(`${u.trim()}: `));
    if (i >= 0) rows[i]!.push(m.slice(uris[i]!.trim().length + 2));
    else list.push(m);
  }
  return { rows, list };
}

/** The server's rule for a scope (RFC 6749 scope-token, kept to a permission's characters and "/"). */
export const SCOPE_RULE = /^[a-z0-9_.:/-]{1,100}$/;
export const SCOPE_RULE_TEXT = 'lower-case letters, digits and _ . : - / (at most 100)';
