import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { PasswordField } from '../../components/PasswordRules';
import { formError } from '../../lib/api/errors';
import { safeNextPath } from '../../lib/nextPath';
import { ContinueWith } from '../external/ContinueWith';
import { registerAndLogin, type RegisterRequest } from './api';
import { passwordProblems, usernameProblems } from './validation';

export function RegisterPage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNextPath(params.get('next')) ?? '/';
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  // Set by a submit the rules refused: their messages then show under the field.
  const [checked, setChecked] = useState(false);
  // The server's field messages, each dropped once its field is edited.
  const [serverErrors, setServerErrors] = useState<Record<string, string[]>>({});
  const register = useMutation({
    mutationFn: (body: RegisterRequest) => registerAndLogin(body),
    onMutate: () => setServerErrors({}),
    onSuccess: () => navigate(next, { replace: true }),
    onError: (err) => setServerErrors(formError(err).fields),
  });
  const error = register.error ? formError(register.error).error : null;
  const busy = register.isPending;
  const problems = passwordProblems(password, { username, email });

  function submit(e: FormEvent) {
    e.preventDefault();
    // The rules the browser can check need no round trip; the server checks them all again.
    if (problems.length || usernameProblems(username).length) {
      setChecked(true);
      return;
    }
    register.mutate(email ? { username, password, email } : { username, password });
  }

  return (
    <section className="card narrow" aria-labelledby="register-title">
      <h1 id="register-title">Create an account</h1>
      <form onSubmit={submit} noValidate>
        <Field label="Username" name="username" autoComplete="username" value={username}
          onChange={(e) => { setUsername(e.target.value); setServerErrors(({ username: _, ...rest }) => rest); }}
          errors={serverErrors.username ?? usernameProblems(username)}
          hint="Letters, digits and @ . + - _" required autoFocus />
        <Field label="Email (optional)" name="email" type="email" autoComplete="email" value={email}
          onChange={(e) => { setEmail(e.target.value); setServerErrors(({ email: _, ...rest }) => rest); }}
          errors={serverErrors.email} hint="For password resets." />
        <PasswordField label="Password" name="password" value={password} username={username} email={email}
          onChange={(v) => { setPassword(v); setServerErrors(({ password: _, ...rest }) => rest); }}
          errors={serverErrors.password ?? (checked ? problems : [])} required />
        <Notice error={error} reserve />
        <button type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create account'}</button>
      </form>
      <ContinueWith next={next} />
      <p>
        Already registered? <Link to={next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`}>Sign in</Link>
      </p>
    </section>
  );
}
