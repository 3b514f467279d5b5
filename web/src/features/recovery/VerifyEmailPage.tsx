import { Link, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Loading, Notice } from '../../components/Notice';
import { ApiError, UNREACHABLE } from '../../lib/api/errors';
import { verifyEmailQuery } from './api';

function failure(err: unknown): string {
  return err instanceof ApiError ? (err.fieldErrors().token?.join(' ') ?? err.message) : UNREACHABLE;
}

/** The page a verification mail links to: `/verify-email?token=…`. */
export function VerifyEmailPage() {
  const [params] = useSearchParams();
  const result = useQuery(verifyEmailQuery(params.get('token') ?? ''));

  return (
    <section className="card narrow" aria-labelledby="verify-title">
      <h1 id="verify-title">Email verification</h1>
      {result.isPending ? (
        <Loading what="the verification" />
      ) : (
        <Notice error={result.isError ? failure(result.error) : null} success={result.data?.detail ?? null} />
      )}
      <p>
        <Link to="/">Continue to Authenticon</Link>
      </p>
    </section>
  );
}
