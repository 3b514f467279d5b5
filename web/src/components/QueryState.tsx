import { useId, type ReactNode } from 'react';
import { ApiError } from '../lib/api/errors';
import { Loading, Notice } from './Notice';

/** Whether trying again may help: the server was unreachable, failing, or busy. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true;
  return error.status >= 500 || error.status === 429 || error.status === 408;
}

/** What to say when `what` could not be loaded. */
export function loadErrorMessage(error: unknown, what: string): string {
  if (!(error instanceof ApiError)) return `Could not load ${what}: the server could not be reached. Check your connection and try again.`;
  if (error.status >= 500) return `Could not load ${what}: the server had a problem. Try again in a moment.`;
  return error.message;
}

interface LoadErrorProps {
  error: unknown;
  /** What failed to load, for the message: "your sessions". */
  what: string;
  /** Loads again; a "Try again" button shows when retrying can help. */
  onRetry?: () => unknown;
  /** True while the retry is under way. */
  retrying?: boolean;
}

/** A failed load: the reason, and a "Try again" button when retrying can help. */
export function LoadError({ error, what, onRetry, retrying = false }: LoadErrorProps) {
  return (
    <div className="state state-error" role="alert">
      <p>{loadErrorMessage(error, what)}</p>
      {onRetry && isRetryable(error) && (
        <button type="button" className="secondary" onClick={() => void onRetry()} disabled={retrying}>
          {retrying ? 'Trying again…' : 'Try again'}
        </button>
      )}
    </div>
  );
}

/** Nothing to show: says so in words, with what to do about it when there is something. */
export function Empty({ children }: { children: ReactNode }) {
  return <div className="state state-empty">{children}</div>;
}

/** The parts of a TanStack query result this reads. */
interface QueryLike<T> {
  data: T | undefined;
  error: unknown;
  isFetching: boolean;
  refetch: () => unknown;
}

interface QueryStateProps<T> {
  query: QueryLike<T>;
  /** What is loading, for the messages: "your sessions". */
  what: string;
  /** Whether the answer counts as empty (then `empty` shows instead of `children`). */
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}

/**
 * The three states every loaded list or page has besides its content: loading, failed
 * (with "Try again" when the server was unreachable or failing), empty.
 *
 * ```tsx
 * <QueryState query={useQuery(rolesQuery())} what="roles" isEmpty={(r) => r.length === 0}
 *   empty={<p>No roles yet.</p>}>
 *   {(roles) => <RoleList roles={roles} />}
 * </QueryState>
 * ```
 */
export function QueryState<T>({ query, what, isEmpty, empty, children }: QueryStateProps<T>) {
  if (query.data === undefined) {
    if (query.error) return <LoadError error={query.error} what={what} onRetry={query.refetch} retrying={query.isFetching} />;
    return <Loading what={what} />;
  }
  if (isEmpty?.(query.data)) return <Empty>{empty ?? <p>Nothing here yet.</p>}</Empty>;
  return <>{children(query.data)}</>;
}

interface RecordLoadingProps {
  query: QueryLike<unknown>;
  /** The page's heading while loading: "User". */
  title: string;
  /** The heading and the sentence for a 404: "No such user", "There is no user with this id." */
  missing: { title: string; text: string };
  /** What is loading, for the messages: "the user". */
  what: string;
  /** The way back, above the heading: a link to the list. */
  back: ReactNode;
}

/** A record's page until the record is there: loading, a 404 said plainly, or the failure with "Try again". */
export function RecordLoading({ query, title, missing, what, back }: RecordLoadingProps) {
  const titleId = useId();
  const gone = query.error instanceof ApiError && query.error.status === 404;
  return (
    <section className="card" aria-labelledby={titleId}>
      <p className="crumbs">{back}</p>
      <h1 id={titleId}>{gone ? missing.title : title}</h1>
      {query.error ? (
        gone ? <Notice error={missing.text} />
          : <LoadError error={query.error} what={what} onRetry={query.refetch} retrying={query.isFetching} />
      ) : <Loading what={what} />}
    </section>
  );
}
