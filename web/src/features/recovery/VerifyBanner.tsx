import { useMutation } from '@tanstack/react-query';
import { messageOf } from '../../lib/api/errors';
import type { User } from '../../lib/api/session';
import { resendVerification } from './api';

/** Shown while the signed-in user's email address is unverified. */
export function VerifyBanner({ user }: { user: User }) {
  const resend = useMutation({ mutationFn: resendVerification });
  if (!user.email || user.email_verified) return null;

  const message = resend.isSuccess
    ? `${resend.data.detail} Check ${user.email}.`
    : resend.isError ? messageOf(resend.error, 'The server could not be reached.') : null;

  return (
    <div className="banner" role="status">
      <span>
        Your email address <strong>{user.email}</strong> is not verified yet: follow the link in the mail we sent.
      </span>{' '}
      {message ? (
        <span>{message}</span>
      ) : (
        <button type="button" className="link" onClick={() => resend.mutate()} disabled={resend.isPending}>
          Send the link again
        </button>
      )}
    </div>
  );
}
