import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { formError } from '../../lib/api/errors';
import { useChangeWebhook, type Webhook } from './api';
import { EnabledSwitch } from './EnabledSwitch';
import { EventPicker } from './EventPicker';
import { FormatChoice } from './FormatChoice';
import { draftOf, eventRule, newWebhookDraft, webhookBody, withFormat, type WebhookDraft } from './webhookForm';

/** The fields the form shows errors under; any other field's error is said in the notice. */
const SHOWN = ['url', 'description', 'format', 'events'];

interface Props {
  /** The endpoint as it is; null to add a new one. */
  before: Webhook | null;
  submitLabel: string;
  /** The endpoint as saved (with its secret, once, when one was made). */
  onSaved: (webhook: Webhook) => void;
}

/** Adds or changes an endpoint: where it is, how it is signed, what it hears of, whether it is on. */
export function WebhookEditor({ before, submitLabel, onSaved }: Props) {
  const [draft, setDraft] = useState<WebhookDraft>(() => (before ? draftOf(before) : newWebhookDraft()));
  const change = useChangeWebhook();
  const creating = before === null;
  const set = (patch: Partial<WebhookDraft>) => setDraft({ ...draft, ...patch });

  const { fields, error } = change.error ? formError(change.error) : { fields: {}, error: null };
  const unshown = Object.entries(fields).filter(([k]) => !SHOWN.includes(k)).flatMap(([, v]) => v);
  const notice = error ?? (unshown.length ? unshown.join(' ') : null);

  function submit(e: FormEvent) {
    e.preventDefault();
    const body = webhookBody(draft, { creating });
    change.mutate(creating ? { kind: 'create', body } : { kind: 'update', id: before.id, body }, {
      onSuccess: (saved) => saved && onSaved(saved),
    });
  }

  return (
    <form onSubmit={submit} noValidate className="webhook-form" aria-label={creating ? 'New endpoint' : 'Settings of the endpoint'}>
      <Field label="URL" type="url" value={draft.url} onChange={(e) => set({ url: e.target.value })} errors={fields.url}
        maxLength={2000} autoComplete="off" spellCheck={false} placeholder="https://example.com/webhooks/authenticon"
        hint="Where each event is POSTed, as JSON: http or https. Redirects are not followed." required />
      <Field label="Description" value={draft.description} onChange={(e) => set({ description: e.target.value })}
        errors={fields.description} maxLength={200} autoComplete="off" hint="Optional: what listens there (“CRM sync”)." />
      <FormatChoice value={draft.format} onChange={(format) => setDraft(withFormat(draft, format))} creating={creating}
        errors={fields.format} />
      <EventPicker value={draft.events} onChange={(events) => set({ events })} errors={fields.events}
        unavailable={(event) => eventRule(draft.format, event)} />
      <EnabledSwitch value={draft.enabled} onChange={(enabled) => set({ enabled })} />
      <Notice error={notice} reserve />
      <div className="actions">
        <button type="submit" disabled={change.isPending}>{submitLabel}</button>
        {creating && <Link to="/webhooks">Cancel</Link>}
      </div>
    </form>
  );
}
