import type { ReactNode } from 'react';

/** A page as a feature declares it; the app's router mounts it. */
export interface AppRoute {
  path: string;
  element: ReactNode;
  /** The page's name: "Users" makes the document title "Users · Authenticon". */
  title: string;
  /** Only for users holding it, or all of them when several (a superuser holds every one). */
  permission?: string | readonly string[];
}
