import { useState, type FormEvent } from 'react';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import type { User } from './api';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { formatDate, formatDateTime } from '../../lib/format';
import { useUserAction } from './useUserAction';

interface Props {
  user: User;
  canManage: boolean;
  self: boolean;
}

export function DetailsTab({ user, canManage, self }: Props) {
  const email = useUserAction();
  const access = useUserAction();
  const [draft, setDraft] = useState(user.email);
  const [asking, setAsking] = useState(false);
  const emailErrors = email.fieldErrors.email;

  function saveEmail(e: FormEvent) {
    e.preventDefault();
    email.run({ kind: 'update', id: user.id, body: { email: draft.trim() } },
      draft.trim() ? 'Email saved. It is unverified until the user follows a verification link.' : 'Email removed.');
  }

  const activate = !user.is_active;
  return (
    <>
      <dl className="facts">
        <dt>Username</dt><dd>{user.username}</dd>
        <dt>User id</dt><dd><code>{user.id}</code></dd>
        <dt>Email</dt>
        <dd>{user.email || '—'}{user.email && <span className="badge">{user.email_verified ? 'verified' : 'unverified'}</span>}</dd>
        <dt>Status</dt>
        <dd className={user.is_active ? 'status-active' : 'status-inactive'}>{user.is_active ? 'active' : 'inactive'}</dd>
        <dt>Superuser</dt><dd>{user.is_superuser ? 'yes: holds every permission' : 'no'}</dd>
        <dt>Roles</dt><dd>{user.roles.join(', ') || 'none'}</dd>
        <dt>Two-factor</dt><dd>{user.has_2fa ? 'on' : 'off'}</dd>
        <dt>Joined</dt><dd>{formatDate(user.date_joined)}</dd>
        <dt>Last sign-in</dt><dd>{formatDateTime(user.last_login, 'never')}</dd>
      </dl>

      {canManage && (
        <>
          <div className="section">
            <h2>Email</h2>
            <form className="inline-form" onSubmit={saveEmail} noValidate key={user.email}>
              <Field label="Email address" type="email" value={draft} autoComplete="off"
                onChange={(e) => setDraft(e.target.value)} errors={emailErrors} />
              <button type="submit" disabled={email.busy || draft.trim() === user.email}>Save email</button>
            </form>
            <Notice error={emailErrors ? null : email.error} success={email.success} />
          </div>

          <div className="section">
            <h2>Access</h2>
            <p className="muted">
              {activate ? 'This user cannot sign in.' : 'Deactivating ends every session at once and stops new sign-ins.'}
            </p>
            <div className="actions">
              <button type="button" className={activate ? undefined : 'danger'} disabled={access.busy || (self && !activate)}
                onClick={() => setAsking(true)}>
                {activate ? 'Activate…' : 'Deactivate…'}
              </button>
              {self && !activate && <span className="muted">You cannot deactivate yourself.</span>}
            </div>
            <Notice error={access.error} success={access.success} />
          </div>

          <ConfirmDialog isOpen={asking} destructive={!activate}
            title={activate ? `Activate ${user.username}?` : `Deactivate ${user.username}?`}
            confirmLabel={activate ? 'Activate' : 'Deactivate'}
            onOpenChange={(o) => { if (!o) setAsking(false); }}
            onConfirm={() => {
              setAsking(false);
              access.run({ kind: 'update', id: user.id, body: { is_active: activate } },
                activate ? `${user.username} can sign in again.` : `${user.username} is deactivated; their sessions have ended.`);
            }}>
            <p>
              {activate
                ? `${user.username} will be able to sign in again, with the roles they hold (${user.roles.join(', ') || 'none'}).`
                : `${user.username} will be signed out everywhere at once and will not be able to sign in.`}
            </p>
          </ConfirmDialog>
        </>
      )}
    </>
  );
}
