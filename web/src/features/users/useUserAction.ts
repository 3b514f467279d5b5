import { useState } from 'react';
import { ApiError, changeError } from '../../lib/api/errors';
import { useChangeUser, type UserChange } from './api';

/**
 * Runs one change to a user and keeps what the page says about it: the success line,
 * or the server's refusal in its own words (a bounded-delegation 403 names what the
 * administrator lacks).
 */
export function useUserAction() {
  const change = useChangeUser();
  const [success, setSuccess] = useState<string | null>(null);

  function run(c: UserChange, done: string | ((detail: string | null) => string), onSuccess?: () => void) {
    setSuccess(null);
    change.mutate(c, {
      onSuccess: (detail) => {
        setSuccess(typeof done === 'string' ? done : done(detail));
        onSuccess?.();
      },
    });
  }

  const err = change.error;
  return {
    run,
    busy: change.isPending,
    success: err ? null : success,
    error: err ? changeError(err) : null,
    fieldErrors: err instanceof ApiError ? err.fieldErrors() : {},
  };
}
