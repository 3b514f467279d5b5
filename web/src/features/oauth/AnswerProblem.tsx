import { Link } from 'react-router';
import type { AnswerFailure } from './authorizeStep';

interface Props {
  failure: Exclude<AnswerFailure, { kind: 'sign-in' }> | { kind: 'stuck' };
  /** The application's name, once known. */
  app: string | null;
  onRetry?: () => void;
}

/** Why the request cannot be answered here, and what the user can do about it. */
export function AnswerProblem({ failure, app, onRetry }: Props) {
  const back = `Go back to ${app ?? 'the application'} and try again.`;
  switch (failure.kind) {
    case 'gone':
      return (
        <div className="state state-error" role="alert" data-testid="request-gone">
          <p>This sign-in request has expired or was already answered.</p>
          <p>{back}</p>
        </div>
      );
    case 'stuck':
      return (
        <div className="state state-error" role="alert">
          <p>{app ?? 'The application'} asks for a more recent sign-in than the one you just made.</p>
          <p>{back}</p>
        </div>
      );
    case 'mfa':
      return (
        <div className="state state-error" role="alert">
          <p>Your role requires two-factor authentication before you can sign in to applications with this account.</p>
          <p><Link to="/two-factor">Set up two-factor authentication</Link>, then go back to {app ?? 'the application'} and try again.</p>
        </div>
      );
    case 'failed':
      return (
        <div className="state state-error" role="alert">
          <p>{failure.message}</p>
          {failure.retry && onRetry && <button type="button" className="secondary" onClick={onRetry}>Try again</button>}
        </div>
      );
  }
}
