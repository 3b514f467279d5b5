import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Loading, Notice } from '../../components/Notice';
import { ApiError, getUser, post, refreshSession } from '../../lib/api/client';

/** The page a verification mail links to: `/verify-email?token=…`. */
export function VerifyEmailPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [result, setResult] = useState<{ ok: boolean; message: string } | null>(null);
  // Links work once: a second call (React's development double effects) would be refused.
  const sent = useRef(false);

  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    post<{ detail: string }>('/api/email/verify/', { token })
      .then(async (body) => {
        setResult({ ok: true, message: body.detail });
        // A signed-in user's cached user object still says "unverified": fetch it anew.
        if (getUser()) await refreshSession();
      })
      .catch((err: unknown) => {
        const message =
          err instanceof ApiError
            ? (err.fieldErrors().token?.join(' ') ?? err.message)
            : 'The server could not be reached. Try again.';
        setResult({ ok: false, message });
      });
  }, [token]);

  return (
    <section className="card narrow" aria-labelledby="verify-title">
      <h1 id="verify-title">Email verification</h1>
      {result === null ? (
        <Loading what="the verification" />
      ) : (
        <Notice error={result.ok ? null : result.message} success={result.ok ? result.message : null} />
      )}
      <p>
        <Link to="/">Continue to Authenticon</Link>
      </p>
    </section>
  );
}
