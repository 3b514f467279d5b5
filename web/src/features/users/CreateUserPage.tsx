import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { CheckboxGroup, Label, Radio, RadioGroup } from 'react-aria-components';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { PasswordField } from '../../components/PasswordRules';
import { formError } from '../../lib/api/errors';
import { rolesQuery } from '../../lib/api/queries';
import { useAuth } from '../../lib/auth';
import { hasPermission } from '../../lib/permissions';
import { useCreateUser } from './api';
import { Check } from '../../components/Check';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { diffRoles } from './roleChange';
import './users.css';

type Mode = 'password' | 'invite';

/** The request a filled-in form sends: a password, or an invitation instead of one. */
export function createBody(f: { username: string; email: string; password: string; mode: Mode; roles: string[] }) {
  return {
    username: f.username.trim(),
    ...(f.email.trim() ? { email: f.email.trim() } : {}),
    ...(f.mode === 'password' ? { password: f.password } : { send_invitation: true }),
    roles: f.roles,
  };
}

export function CreateUserPage() {
  const navigate = useNavigate();
  const { user: me } = useAuth();
  const roles = useQuery({ ...rolesQuery(), enabled: hasPermission(me, 'roles.view') });
  const create = useCreateUser();
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [mode, setMode] = useState<Mode>('password');
  const [chosen, setChosen] = useState<string[]>([]);
  const [asking, setAsking] = useState(false);

  const { fields, error } = create.error ? formError(create.error) : { fields: {}, error: null };
  // A field error the form has no field for (a role, the whole request) is said in the notice.
  const unshown = Object.entries(fields).filter(([k]) => !['username', 'email', 'password'].includes(k)).flatMap(([, v]) => v);
  const notice = error ?? (unshown.length ? unshown.join(' ') : null);

  function send() {
    create.mutate(createBody({ username, email, password, mode, roles: chosen }), {
      onSuccess: (u) => navigate(`/users/${encodeURIComponent(u.id)}`, {
        state: { created: mode === 'invite' ? `Invitation sent to ${u.email}.` : 'User created.' },
      }),
    });
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    // Giving roles grants privileges: say which before sending.
    if (chosen.length) setAsking(true);
    else send();
  }

  const gained = diffRoles([], chosen, roles.data ?? []).gained;
  return (
    <section className="card" aria-labelledby="new-user-title">
      <p className="crumbs"><Link to="/users">← Users</Link></p>
      <h1 id="new-user-title">New user</h1>
      <form onSubmit={submit} noValidate className="narrow-form">
        <Field label="Username" value={username} onChange={(e) => setUsername(e.target.value)} errors={fields.username}
          autoComplete="off" hint="Letters, digits and @ . + - _" required />
        <Field label="Email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} errors={fields.email}
          autoComplete="off" hint={mode === 'invite' ? 'The invitation goes here.' : 'Optional.'} />
        <RadioGroup className="choice-group" value={mode} onChange={(v) => setMode(v as Mode)}>
          <Label className="group-label">How will they sign in?</Label>
          <Radio value="password" className="radio-button"><span className="dot" aria-hidden="true" />I set a password now</Radio>
          <Radio value="invite" className="radio-button"><span className="dot" aria-hidden="true" />Email them an invitation to choose one</Radio>
        </RadioGroup>
        {mode === 'password' && (
          <PasswordField label="Password" value={password} onChange={setPassword} errors={fields.password}
            username={username} email={email} />
        )}
        {mode === 'invite' && fields.password && <ul className="errors">{fields.password.map((m) => <li key={m}>{m}</li>)}</ul>}
        {(roles.data?.length ?? 0) > 0 && (
          <CheckboxGroup className="role-choices" value={chosen} onChange={setChosen}>
            <Label className="group-label">Roles</Label>
            {roles.data?.map((r) => (
              <Check key={r.name} value={r.name}>
                <span>
                  <strong>{r.name}</strong>
                  <span className="muted">{r.permissions.length ? r.permissions.join(', ') : 'no permissions'}</span>
                </span>
              </Check>
            ))}
          </CheckboxGroup>
        )}
        <Notice error={notice} reserve />
        <div className="actions">
          <button type="submit" disabled={create.isPending}>{mode === 'invite' ? 'Create and invite' : 'Create user'}</button>
          <Link to="/users">Cancel</Link>
        </div>
      </form>
      <ConfirmDialog isOpen={asking} destructive title={`Create ${username.trim() || 'this user'} with ${chosen.length === 1 ? 'a role' : 'roles'}?`}
        confirmLabel="Create user" onOpenChange={(o) => { if (!o) setAsking(false); }}
        onConfirm={() => { setAsking(false); send(); }}>
        <p>Roles: <strong>{chosen.join(', ')}</strong></p>
        <p>{gained.length ? `They will hold: ${gained.join(', ')}.` : 'These roles give no permissions.'}</p>
      </ConfirmDialog>
    </section>
  );
}
