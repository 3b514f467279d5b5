import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Notice } from '../../components/Notice';
import { formError } from '../../lib/api/errors';
import { permissionsQuery } from '../../lib/api/queries';
import { useAuth } from '../../lib/auth';
import { hasPermission } from '../../lib/permissions';
import { useChangeClient, type Client } from './api';
import { clientBody, draftOf, newClientDraft, privilegesGained } from './clientForm';
import { ClientFields } from './ClientFields';

/** The fields the form shows errors under; any other field's error is said in the notice. */
const SHOWN = ['name', 'public', 'grant_types', 'redirect_uris', 'post_logout_redirect_uris', 'scopes', 'permissions', 'pre_consented'];

interface Props {
  /** The application as it is; null to register a new one. */
  before: Client | null;
  submitLabel: string;
  /** The application as saved (with its secret, once, when one was made). */
  onSaved: (client: Client) => void;
}

/**
 * Registers or changes an application. Giving it permissions of its own, or letting it
 * skip users' consent, is asked about first.
 */
export function ClientEditor({ before, submitLabel, onSaved }: Props) {
  const { user } = useAuth();
  const [draft, setDraft] = useState(() => (before ? draftOf(before) : newClientDraft()));
  const [asking, setAsking] = useState(false);
  const change = useChangeClient();
  // Without roles.view the list cannot be read; what the administrator holds is all they may give anyway.
  const list = useQuery({ ...permissionsQuery(), enabled: hasPermission(user, 'roles.view') });
  const choices = { builtin: list.data?.builtin ?? [], inUse: list.data?.in_use ?? user?.permissions ?? [] };
  const creating = before === null;
  const body = clientBody(draft, { creating });
  const gained = privilegesGained(before, body);
  const name = body.name || 'the application';

  const { fields, error } = change.error ? formError(change.error) : { fields: {}, error: null };
  const unshown = Object.entries(fields).filter(([k]) => !SHOWN.includes(k)).flatMap(([, v]) => v);
  const notice = error ?? (unshown.length ? unshown.join(' ') : null);

  function send() {
    change.mutate(creating ? { kind: 'create', body } : { kind: 'update', id: before.client_id, body }, {
      onSuccess: (saved) => saved && onSaved(saved),
    });
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    if (gained.permissions.length || gained.firstParty) setAsking(true);
    else send();
  }

  return (
    <form onSubmit={submit} noValidate className="client-form" aria-label={creating ? 'New application' : `Settings of ${before.name}`}>
      <ClientFields draft={draft} onChange={setDraft} creating={creating} fields={fields} permissionChoices={choices} />
      <Notice error={notice} reserve />
      <div className="actions">
        <button type="submit" disabled={change.isPending}>{submitLabel}</button>
        {creating && <Link to="/clients">Cancel</Link>}
      </div>
      <ConfirmDialog isOpen={asking} onOpenChange={setAsking} destructive confirmLabel={submitLabel}
        title={creating ? `Register ${name} with these privileges?` : `Give ${name} these privileges?`}
        onConfirm={() => { setAsking(false); send(); }}>
        {gained.permissions.length > 0 && (
          <p>It will act on its own with: <strong>{gained.permissions.join(', ')}</strong>.</p>
        )}
        {gained.firstParty && <p>Users will not be asked first: signing in to it gives it what it asks for at once.</p>}
      </ConfirmDialog>
    </form>
  );
}
