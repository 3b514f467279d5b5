import type { User } from './api/session';

/** Whether `user` may use what `permission` guards; a superuser may use everything. */
export function hasPermission(user: User | null | undefined, permission: string): boolean {
  return !!user && (user.is_superuser || user.permissions.includes(permission));
}
