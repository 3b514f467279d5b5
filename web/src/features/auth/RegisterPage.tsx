import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { formError } from '../../lib/api/errors';
import { registerAndLogin, type RegisterRequest } from './api';
import { passwordProblems, usernameProblems } from './validation';

export function RegisterPage() {
  const navigate = useNavigate();
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  // The server's field messages, each dropped once its field is edited.
  const [serverErrors, setServerErrors] = useState<Record<string, string[]>>({});
  const register = useMutation({
    mutationFn: (body: RegisterRequest) => registerAndLogin(body),
    onMutate: () => setServerErrors({}),
    onSuccess: () => navigate('/'),
    onError: (err) => setServerErrors(formError(err).fields),
  });
  const error = register.error ? formError(register.error).error : null;
  const busy = register.isPending;

  // Live feedback while typing; the server's messages win once it has answered.
  const errorsFor = (field: string, live: string[]) => serverErrors[field] ?? live;

  function submit(e: FormEvent) {
    e.preventDefault();
    register.mutate(email ? { username, password, email } : { username, password });
  }

  return (
    <section className="card narrow" aria-labelledby="register-title">
      <h1 id="register-title">Create an account</h1>
      <form onSubmit={submit} noValidate>
        <Field label="Username" name="username" autoComplete="username" value={username}
          onChange={(e) => { setUsername(e.target.value); setServerErrors(({ username: _, ...rest }) => rest); }}
          errors={errorsFor('username', usernameProblems(username))}
          hint="Letters, digits and @ . + - _" required autoFocus />
        <Field label="Email (optional)" name="email" type="email" autoComplete="email" value={email}
          onChange={(e) => { setEmail(e.target.value); setServerErrors(({ email: _, ...rest }) => rest); }}
          errors={serverErrors.email} />
        <Field label="Password" name="password" type="password" autoComplete="new-password" value={password}
          onChange={(e) => { setPassword(e.target.value); setServerErrors(({ password: _, ...rest }) => rest); }}
          errors={errorsFor('password', passwordProblems(password, username))}
          hint="At least 8 characters, not a common password, not only digits" required />
        <Notice error={error} reserve />
        <button type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create account'}</button>
      </form>
      <p>
        Already registered? <Link to="/login">Sign in</Link>
      </p>
    </section>
  );
}
