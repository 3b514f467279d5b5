import { describe, expect, it } from 'vitest';
import type { Client } from './api';
import { clientBody, draftOf, grantRule, newClientDraft, privilegesGained, uriErrors, withGrants } from './clientForm';

const wiki: Client = {
  client_id: 'c1', name: 'Wiki', public: false, redirect_uris: ['https://wiki.example/cb'], post_logout_redirect_uris: [],
  grant_types: ['authorization_code', 'refresh_token'], scopes: ['openid'], permissions: [], pre_consented: false,
  created: '2026-03-01T00:00:00Z', updated: '2026-03-01T00:00:00Z',
};

describe('the request a filled-in form sends', () => {
  it('registers with the type, trimmed name, and only the URIs filled in', () => {
    const draft = { ...newClientDraft(), name: '  Wiki ', redirectUris: [' https://wiki.example/cb ', ''], postLogoutUris: ['  '] };
    expect(clientBody(draft, { creating: true })).toEqual({
      name: 'Wiki', public: false, redirect_uris: ['https://wiki.example/cb'], post_logout_redirect_uris: [],
      grant_types: ['authorization_code', 'refresh_token'], scopes: ['openid', 'profile', 'email', 'offline_access'],
      permissions: [], pre_consented: false,
    });
  });

  it('leaves the type out of a change: it is fixed once registered', () => {
    expect(clientBody(draftOf(wiki), { creating: false })).not.toHaveProperty('public');
  });

  it('sends permissions only with client_credentials, sign-in settings only with authorization_code', () => {
    const service = { ...withGrants(newClientDraft(), ['client_credentials']), permissions: ['reports.view'], preConsented: true };
    expect(clientBody(service, { creating: true })).toMatchObject({
      grant_types: ['client_credentials'], permissions: ['reports.view'], redirect_uris: [], pre_consented: false,
    });
    const app = { ...newClientDraft(), permissions: ['reports.view'], preConsented: true };
    expect(clientBody(app, { creating: true })).toMatchObject({ permissions: [], pre_consented: true });
  });

  it('starts an existing application from what it is, with one input to fill when it has no URI', () => {
    expect(draftOf({ ...wiki, redirect_uris: [] }).redirectUris).toEqual(['']);
    expect(draftOf(wiki).grantTypes).toEqual(['authorization_code', 'refresh_token']);
  });
});

describe('the grant types the server allows', () => {
  it('says why client_credentials is not for a public client, and refresh_token needs the code flow', () => {
    expect(grantRule({ public: true, grantTypes: [] }, 'client_credentials')).toMatch(/no secret to prove it/);
    expect(grantRule({ public: false, grantTypes: [] }, 'client_credentials')).toBeNull();
    expect(grantRule({ public: false, grantTypes: ['client_credentials'] }, 'refresh_token')).toMatch(/comes with authorization_code/);
  });

  it('drops what the rules no longer allow when the type or the grants change', () => {
    const all = withGrants(newClientDraft(), ['client_credentials', 'authorization_code', 'refresh_token']);
    expect(all.grantTypes).toEqual(['authorization_code', 'refresh_token', 'client_credentials']);
    expect(withGrants(all, all.grantTypes, true).grantTypes).toEqual(['authorization_code', 'refresh_token']);
    expect(withGrants(all, ['refresh_token', 'client_credentials']).grantTypes).toEqual(['client_credentials']);
  });
});

describe('what saving gives the application, asked about first', () => {
  it('names new permissions and newly skipped consent, nothing it already had', () => {
    expect(privilegesGained(null, { permissions: ['a'], pre_consented: true })).toEqual({ permissions: ['a'], firstParty: true });
    const had = { ...wiki, permissions: ['a'], pre_consented: true };
    expect(privilegesGained(had, { permissions: ['a', 'b'], pre_consented: true })).toEqual({ permissions: ['b'], firstParty: false });
    expect(privilegesGained(wiki, clientBody(draftOf(wiki), { creating: false }))).toEqual({ permissions: [], firstParty: false });
  });
});

describe('server messages about URIs', () => {
  it('go under the input whose URI they name; the rest under the list', () => {
    const uris = ['https://ok.example/cb', ' http://wiki.example/cb ', ''];
    expect(uriErrors([
      'http://wiki.example/cb: Plain http is allowed only on 127.0.0.1 or [::1]; use https.',
      'authorization_code needs at least one redirect URI.',
    ], uris)).toEqual({
      rows: [[], ['Plain http is allowed only on 127.0.0.1 or [::1]; use https.'], []],
      list: ['authorization_code needs at least one redirect URI.'],
    });
    expect(uriErrors(undefined, uris)).toEqual({ rows: [[], [], []], list: [] });
  });
});
