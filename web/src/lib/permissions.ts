import type { User } from './api/session';

/** Whether `user` may use what `permission` guards; a superuser may use everything. */
export function hasPermission(user: User | null | undefined, permission: string): boolean {
  return !!user && (user.is_superuser || user.permissions.includes(permission));
}

/** Whether `user` holds every one of `permissions` (a page may need several together). */
export function hasPermissions(user: User | null | undefined, permissions: string | readonly string[]): boolean {
  return (typeof permissions === 'string' ? [permissions] : permissions).every((p) => hasPermission(user, p));
}
