// The server's rule for role names, checked as the administrator types, and what a change
// of a role's permissions does to its holders.

export const ROLE_NAME_RULE = /^[a-z0-9_.-]{1,64}$/;
export const ROLE_NAME_RULE_TEXT = 'lower-case letters, digits and _ . - (at most 64)';

export function checkRoleName(text: string): string | null {
  if (!text) return null;
  return ROLE_NAME_RULE.test(text) ? null : `A role name is ${ROLE_NAME_RULE_TEXT}.`;
}

/** What a change of a role's permissions does to its holders. */
export function permissionDiff(before: string[], after: string[]) {
  return {
    added: after.filter((p) => !before.includes(p)),
    removed: before.filter((p) => !after.includes(p)),
  };
}
