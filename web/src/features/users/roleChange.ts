// What a change of a user's roles gives and takes, for the confirmation to name.

export interface RoleInfo {
  name: string;
  permissions: string[];
}

export interface RoleDiff {
  added: string[];
  removed: string[];
  /** Permissions the user will hold that no role they keep gave them. */
  gained: string[];
  /** Permissions no remaining role gives any more. */
  lost: string[];
}

export function diffRoles(before: string[], after: string[], roles: RoleInfo[]): RoleDiff {
  const perms = (names: string[]) =>
    new Set(names.flatMap((n) => roles.find((r) => r.name === n)?.permissions ?? []));
  const had = perms(before);
  const will = perms(after);
  return {
    added: after.filter((r) => !before.includes(r)),
    removed: before.filter((r) => !after.includes(r)),
    gained: [...will].filter((p) => !had.has(p)).sort(),
    lost: [...had].filter((p) => !will.has(p)).sort(),
  };
}
