// Page titles and focus on navigation. Each route names its page (`title`); the document
// title follows ("Users · Authenticon"), and after an in-app navigation focus moves to
// the new page's <h1>, so keyboard and screen-reader users start at the top of what
// changed instead of on the link they pressed.

import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { useLocation } from 'react-router';

export const APP_NAME = 'Authenticon';

/** "Users · Authenticon"; the bare name for none. */
export function documentTitle(title?: string | null): string {
  return title ? `${title} · ${APP_NAME}` : APP_NAME;
}

const TitleOverride = createContext<((title: string | null) => void) | null>(null);

/** The page of one route: sets the document title from `title` (or a page's override). */
export function RouteView({ title, children }: { title: string; children: ReactNode }) {
  const [override, setOverride] = useState<string | null>(null);
  const shown = override ?? title;
  useEffect(() => {
    document.title = documentTitle(shown);
  }, [shown]);
  return <TitleOverride.Provider value={setOverride}>{children}</TitleOverride.Provider>;
}

/**
 * Replaces the route's title while the calling component is mounted, for a page whose
 * state changes what it is ("Password saved", "Link expired").
 */
export function usePageTitle(title: string | null | undefined): void {
  const set = useContext(TitleOverride);
  useEffect(() => {
    if (!set) {
      if (title) document.title = documentTitle(title);
      return undefined;
    }
    set(title ?? null);
    return () => set(null);
  }, [set, title]);
}

/**
 * Moves focus to the page's <h1> (made focusable for it), or to `<main>` when the page
 * has none yet. Leaves focus alone when it is already inside `<main>`: a page that puts
 * the cursor in its first field (the sign-in form) keeps it there.
 */
export function focusPageHeading(main: HTMLElement | null = document.getElementById('main')): boolean {
  if (!main) return false;
  const active = document.activeElement;
  if (active && active !== document.body && main.contains(active) && active !== main) return true;
  const heading = main.querySelector<HTMLElement>('h1');
  if (!heading) return false;
  if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
  heading.focus({ preventScroll: false });
  return true;
}

/**
 * After each in-app navigation to another path (not the first load, not a change of
 * query string such as a filter or page number), focuses the new page's heading. A page
 * still loading gets a few frames to render it; then `<main>` itself takes focus.
 */
export function useFocusHeadingOnNavigate(): void {
  const { pathname } = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return undefined;
    }
    let frames = 0;
    let handle = 0;
    const attempt = () => {
      if (focusPageHeading()) return;
      if (frames++ < 30) {
        handle = requestAnimationFrame(attempt);
        return;
      }
      const main = document.getElementById('main');
      if (main) {
        main.setAttribute('tabindex', '-1');
        main.focus();
      }
    };
    attempt();
    return () => cancelAnimationFrame(handle);
  }, [pathname]);
}
