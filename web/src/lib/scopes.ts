// What each scope the provider knows lets an application do, in the words the consent
// screen uses (the server describes a request's scopes the same way); every page that
// names scopes says them from here.

export const KNOWN_SCOPES = ['openid', 'profile', 'email', 'offline_access', 'roles', 'permissions'] as const;

const WORDING = new Map<string, string>([
  ['openid', "Know who you are (your account's id)"],
  ['profile', 'See your username'],
  ['email', 'See your email address and whether it is verified'],
  ['offline_access', 'Stay signed in: act for you while you are away, until you disconnect it'],
  ['roles', 'See your roles'],
  ['permissions', 'See your permissions'],
]);

/** What `scope` lets an application do; one of its own API's scopes is named as it is. */
export function describeScope(scope: string): string {
  return WORDING.get(scope) ?? `Use its API with the scope \u201c${scope}\u201d`;
}
