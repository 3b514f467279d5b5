import { Link, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Loading, Notice } from '../../components/Notice';
import { LoadError } from '../../components/QueryState';
import { ApiError } from '../../lib/api/errors';
import { useAuth } from '../../lib/auth';
import { verifyEmailQuery } from './api';

/** The page a verification mail links to: `/verify-email?token=…`. */
export function VerifyEmailPage() {
  const [params] = useSearchParams();
  const { user } = useAuth();
  const result = useQuery(verifyEmailQuery(params.get('token') ?? ''));
  const refused = result.error instanceof ApiError && result.error.status === 400;

  return (
    <section className="card narrow" aria-labelledby="verify-title">
      <h1 id="verify-title">Email verification</h1>
      {result.isPending ? (
        <Loading what="the verification" />
      ) : refused ? (
        <Notice error={(result.error as ApiError).fieldErrors().token?.join(' ') ?? (result.error as ApiError).message} />
      ) : result.isError ? (
        // Unreachable or failing: the link was not spent, trying again is safe.
        <LoadError error={result.error} what="the verification" onRetry={() => result.refetch()} retrying={result.isFetching} />
      ) : (
        <Notice success={result.data.detail} />
      )}
      {refused && user && <p>Signed in, you can ask for a new link from the banner at the top of the page.</p>}
      <p>
        <Link to="/">Continue to Authenticon</Link>
      </p>
    </section>
  );
}
