// A pending sign-in request of an application (the provider's /oauth/authorize sent the
// browser to /authorize?request=…), and the user's answer to it.

import { queryOptions } from '@tanstack/react-query';
import { api } from '../../lib/api/transport';
import type { components } from '../../lib/api/schema';

export type SignInRequest = components['schemas']['AuthorizationRequestResponse'];

/** `silent`: nothing was shown (`prompt=none`); a code only if nothing needed asking. */
export type Decision = 'allow' | 'deny' | 'silent';

/**
 * The request as `userId` (null: nobody signed in) may answer it. Without a session the
 * call goes without a token, so a refusal does not try the refresh cookie first. Never
 * kept once the page closes: whether a sign-in is fresh enough changes with time.
 */
export const signInRequestQuery = (handle: string, userId: string | null) => queryOptions({
  queryKey: ['oauth-request', handle, userId],
  queryFn: () => api('/api/oauth/requests/{request}/', { path: { request: handle }, anonymous: userId === null }),
  gcTime: 0,
});

/** Answers the request (once); where the browser goes next: the application, with a code or an error. */
export async function answerSignInRequest(handle: string, decision: Decision, signedIn: boolean): Promise<string> {
  const answer = await api('/api/oauth/requests/{request}/', {
    method: 'post', path: { request: handle }, body: { decision }, anonymous: !signedIn,
  });
  return answer.redirect_to;
}
