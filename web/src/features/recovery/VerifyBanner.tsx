import { useState } from 'react';
import { api, ApiError, type User } from '../../lib/api/client';

/** Shown while the signed-in user's email address is unverified. */
export function VerifyBanner({ user }: { user: User }) {
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!user.email || user.email_verified) return null;

  async function resend() {
    setBusy(true);
    try {
      const body = await api<{ detail: string }>('/api/email/verify/resend/', { method: 'POST', body: {} });
      setMessage(`${body.detail} Check ${user.email}.`);
    } catch (err) {
      setMessage(err instanceof ApiError ? err.message : 'The server could not be reached.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="banner" role="status">
      <span>
        Your email address <strong>{user.email}</strong> is not verified yet: follow the link in the mail we sent.
      </span>{' '}
      {message ? (
        <span>{message}</span>
      ) : (
        <button type="button" className="link" onClick={() => void resend()} disabled={busy}>
          Send the link again
        </button>
      )}
    </div>
  );
}
