import { Notice } from '../../components/Notice';
import type { SignInRequest } from './api';

interface Props {
  request: SignInRequest;
  username: string;
  /** An answer is on its way (or the browser is leaving): the buttons wait. */
  busy: boolean;
  /** Why the last answer did not go through, when trying again may help. */
  error: string | null;
  onAnswer: (decision: 'allow' | 'deny') => void;
  /** Signs out, to sign in as someone else. */
  onNotYou: () => void;
}

/** What an application asks for, in words, and the user's Allow or Deny. */
export function ConsentScreen({ request, username, busy, error, onAnswer, onNotYou }: Props) {
  const app = request.client_name;
  return (
    <>
      <p className="lead"><strong>{app}</strong> wants to:</p>
      <ul className="scope-list" aria-label={`What ${app} asks for`} data-testid="consent-scopes">
        {request.scopes.map((s) => <li key={s.scope}>{s.description}</li>)}
      </ul>
      {/* Anyone can name an application; where the answer goes is what identifies it. */}
      <p className="muted" data-testid="consent-destination">
        You will be sent back to <strong>{request.redirect_host}</strong>.
      </p>
      <p>
        Signed in as <strong>{username}</strong>.{' '}
        <button type="button" className="link" onClick={onNotYou} disabled={busy}>Not you?</button>
      </p>
      <div className="actions">
        <button type="button" onClick={() => onAnswer('allow')} disabled={busy}>Allow</button>
        <button type="button" className="secondary" onClick={() => onAnswer('deny')} disabled={busy}>Deny</button>
      </div>
      {/* Below the buttons: an error appearing does not move them. */}
      <Notice error={error} />
      <p className="muted fine-print">
        Allowing lets {app} do this until you disconnect it, under Connected applications in your account.
      </p>
    </>
  );
}
