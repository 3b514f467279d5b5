import { useEffect, useRef } from 'react';
import { useLocation, useNavigate, useSearchParams } from 'react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Loading } from '../../components/Notice';
import { usePageTitle } from '../../components/Page';
import { LoadError } from '../../components/QueryState';
import { ApiError } from '../../lib/api/errors';
import { logout } from '../../lib/api/session';
import { useAuth } from '../../lib/auth';
import { justSignedIn, loginPathFor } from '../../lib/nextPath';
import { answerSignInRequest, signInRequestQuery, type Decision } from './api';
import { AnswerProblem } from './AnswerProblem';
import { answerFailure, authorizeStep } from './authorizeStep';
import { ConsentScreen } from './ConsentScreen';
import { goToApplication } from './leave';
import './oauth.css';

/**
 * `/authorize?request=…`: an application's sign-in request, which the provider's
 * /oauth/authorize sent here. Once the session is restored: signs in first when needed,
 * answers at once when nothing needs asking, else shows what the application wants.
 * Whatever the answer, the browser then leaves for the application.
 */
export function AuthorizePage() {
  const [params] = useSearchParams();
  const handle = params.get('request') ?? '';
  const { user, loadError, retry } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const returned = justSignedIn(location.state);
  const request = useQuery({ ...signInRequestQuery(handle, user?.id ?? null), enabled: !!handle && user !== undefined });
  const view = request.data;
  const answer = useMutation({
    mutationFn: (decision: Decision) => answerSignInRequest(handle, decision, !!user),
    onSuccess: (to) => goToApplication(to),
  });
  const app = view?.client_name ?? null;
  const step = view && user !== undefined ? authorizeStep(view, { signedIn: !!user, justSignedIn: returned }) : null;
  const failure = answer.error ? answerFailure(answer.error) : null;
  const wantsSignIn = step?.kind === 'sign-in' || (failure?.kind === 'sign-in' && !returned);
  usePageTitle(app ? `Sign in to ${app}` : null);

  // The steps nobody has to take run once: a request is answered only once, and the page
  // leaves for the sign-in page only once (signing out for "Not you?" goes there itself).
  const answered = useRef(false);
  const leaving = useRef(false);
  useEffect(() => {
    if (answered.current || step?.kind !== 'answer') return;
    answered.current = true;
    answer.mutate(step.decision);
  }, [step, answer]);
  useEffect(() => {
    if (!wantsSignIn || leaving.current) return;
    leaving.current = true;
    navigate(loginPathFor(`${location.pathname}${location.search}`, { reauth: !!user, username: view?.login_hint }), { replace: true });
  }, [wantsSignIn, navigate, location.pathname, location.search, user, view?.login_hint]);

  async function notYou() {
    leaving.current = true;
    await logout();
    navigate(loginPathFor(`${location.pathname}${location.search}`), { replace: true });
  }

  function content() {
    if (!handle) return <AnswerProblem failure={{ kind: 'gone' }} app={null} />;
    if (user === undefined) {
      return loadError ? <LoadError error={loadError} what="your session" onRetry={retry} /> : <Loading what="your session" />;
    }
    if (!view || !step) {
      if (request.error instanceof ApiError && request.error.status === 404) return <AnswerProblem failure={{ kind: 'gone' }} app={null} />;
      if (request.error) {
        return <LoadError error={request.error} what="the sign-in request" onRetry={request.refetch} retrying={request.isFetching} />;
      }
      return <Loading what="the sign-in request" />;
    }
    if (answer.isSuccess) return <Loading>Returning to {app}…</Loading>;
    if (wantsSignIn) return <Loading>Taking you to sign in…</Loading>;
    if (step.kind === 'stuck' || failure?.kind === 'sign-in') return <AnswerProblem failure={{ kind: 'stuck' }} app={app} />;
    if (failure && failure.kind !== 'failed') return <AnswerProblem failure={failure} app={app} />;
    if (step.kind === 'consent' && user) {
      return (
        <ConsentScreen request={view} username={user.username} busy={answer.isPending} onAnswer={answer.mutate}
          error={failure?.kind === 'failed' ? failure.message : null} onNotYou={() => void notYou()} />
      );
    }
    if (failure) return <AnswerProblem failure={failure} app={app} onRetry={() => answer.variables && answer.mutate(answer.variables)} />;
    return <Loading>Returning to {app}…</Loading>;
  }

  return (
    <section className="card narrow authorize" aria-labelledby="authorize-title">
      <h1 id="authorize-title">{app ? `Sign in to ${app}` : 'Sign in to an application'}</h1>
      {content()}
    </section>
  );
}
