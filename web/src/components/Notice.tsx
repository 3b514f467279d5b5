import type { ReactNode } from 'react';

/**
 * A message area. `reserve` keeps its space while empty, so an error appearing after an
 * action (forms, tables) does not move what the user is looking at; pages whose content
 * an error replaces do without the gap.
 */
export function Notice({ error, success, reserve = false }: { error?: string | null; success?: string | null; reserve?: boolean }) {
  return (
    <div className={reserve ? 'notice-slot' : undefined} role={error ? 'alert' : 'status'}>
      {error && <p className="notice error">{error}</p>}
      {!error && success && <p className="notice success">{success}</p>}
    </div>
  );
}

/**
 * A visible, announced "Loading …" line (with a spinner that stops for reduced motion);
 * `children` says something else under way instead ("Returning to the application…").
 */
export function Loading({ what, children }: { what?: string; children?: ReactNode }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {children ?? `Loading ${what}…`}
    </p>
  );
}
