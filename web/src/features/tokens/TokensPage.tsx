import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Check } from '../../components/Check';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { QueryState } from '../../components/QueryState';
import { ShownOnce } from '../../components/ShownOnce';
import { changeError, formError, UNREACHABLE } from '../../lib/api/errors';
import { useAuth } from '../../lib/auth';
import { formatDate, formatDateTime } from '../../lib/format';
import { describeExpiry, isExpired, LIFETIMES, myTokensQuery, useCreateToken, useRevokeToken, type CreatedToken, type PersonalToken } from './api';

const DAY = 86_400;

/** The user's personal access tokens for scripts and CI: make one (shown once), see when each was used, revoke. */
export function TokensPage() {
  const tokens = useQuery(myTokensQuery());
  const revoke = useRevokeToken();
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const gone = revoke.isSuccess ? `“${revoke.variables.name}” is revoked: it stops working at once.` : null;

  return (
    <section className="card" aria-labelledby="tokens-title">
      <h1 id="tokens-title">Personal access tokens</h1>
      <p>
        Tokens let scripts and CI act as you with the API, within the permissions you give them, instead of your password.
        Send one as <code>Authorization: Bearer atn_…</code>. They cannot change your password, email or second factors.
      </p>
      {created ? (
        <ShownOnce title="Copy your new token" testIds={{ step: 'token-shown' }}
          intro={<p>This is the only time “{created.name}” is shown. Keep it in your CI's secret store or a password manager.</p>}
          copy={{ text: created.token, label: 'Copy token', done: 'The token is on the clipboard.' }}
          selected="the token is selected"
          savedLabel="I have saved this token somewhere safe"
          nudge="Tick the box once the token is saved: it cannot be shown again."
          onDone={() => setCreated(null)}>
          <p><code data-testid="new-token">{created.token}</code></p>
        </ShownOnce>
      ) : (
        <NewTokenForm onCreated={setCreated} />
      )}
      <h2>Your tokens</h2>
      <Notice error={revoke.error ? changeError(revoke.error, UNREACHABLE) : null} success={gone} />
      <QueryState query={tokens} what="your tokens" isEmpty={(list) => list.length === 0}
        empty={<p>No tokens yet.</p>}>
        {(list) => (
          <ul className="list" data-testid="tokens">
            {list.map((token) => (
              <TokenRow key={token.id} token={token} busy={revoke.isPending} onRevoke={() => revoke.mutate(token)} />
            ))}
          </ul>
        )}
      </QueryState>
    </section>
  );
}

function NewTokenForm({ onCreated }: { onCreated: (token: CreatedToken) => void }) {
  const { user } = useAuth();
  const create = useCreateToken();
  const [name, setName] = useState('');
  const [days, setDays] = useState<number>(30);
  const [chosen, setChosen] = useState<string[]>([]);
  const held = user?.permissions ?? [];
  const { fields: errors, error } = create.error ? formError(create.error) : { fields: {}, error: null };

  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate({ name, permissions: chosen, expires_in: days * DAY }, {
      onSuccess: (token) => {
        setName('');
        setChosen([]);
        onCreated(token);
      },
    });
  }

  return (
    <form onSubmit={submit} noValidate aria-labelledby="new-token-title">
      <h2 id="new-token-title">New token</h2>
      <Field label="Name" name="name" value={name} maxLength={100} hint="What it is for: “nightly export”, “deploy from CI”."
        onChange={(e) => setName(e.target.value)} errors={errors.name} required />
      <div className="field">
        <label htmlFor="token-lifetime">Expires after</label>
        <select id="token-lifetime" value={days} onChange={(e) => setDays(Number(e.target.value))}
          aria-describedby="token-lifetime-msg">
          {LIFETIMES.map((d) => <option key={d} value={d}>{d === 365 ? '1 year' : `${d} days`}</option>)}
        </select>
        <div id="token-lifetime-msg" className="field-msg" aria-live="polite">
          {errors.expires_in ? <ul className="errors">{errors.expires_in.map((m) => <li key={m}>{m}</li>)}</ul> : null}
        </div>
      </div>
      <fieldset className="field">
        <legend>Permissions</legend>
        {held.length === 0 ? (
          <p className="muted">You hold no permissions: the token can only read your own account.</p>
        ) : (
          <>
            <p className="muted">Only what the script needs. The token never holds more than you do at the time it is used.</p>
            {held.map((p) => (
              <Check key={p} isSelected={chosen.includes(p)}
                onChange={(on) => setChosen((c) => (on ? [...c, p] : c.filter((x) => x !== p)))}>
                <code>{p}</code>
              </Check>
            ))}
          </>
        )}
        {errors.permissions && <ul className="errors">{errors.permissions.map((m) => <li key={m}>{m}</li>)}</ul>}
      </fieldset>
      <Notice error={error} reserve />
      <button type="submit" disabled={create.isPending}>{create.isPending ? 'Creating…' : 'Create token'}</button>
    </form>
  );
}

function TokenRow({ token, busy, onRevoke }: { token: PersonalToken; busy: boolean; onRevoke: () => void }) {
  const expired = isExpired(token);
  const expiry = describeExpiry(token, (iso) => formatDate(iso));
  const used = token.last_used ? `last used ${formatDateTime(token.last_used)} from ${token.last_used_ip}` : 'never used';
  return (
    <li className="row">
      <div>
        <h3>{token.name} {expired && <span className="badge">expired</span>}</h3>
        <p className="muted"><code>{token.prefix}…</code> · made {formatDate(token.created)} · {expiry} · {used}</p>
        <p className="muted">{token.permissions.length ? token.permissions.join(', ') : 'No permissions: reads your own account only'}</p>
      </div>
      <ConfirmDialog trigger="Revoke" triggerClassName="secondary" triggerAriaLabel={`Revoke ${token.name}`}
        triggerDisabled={busy} title={`Revoke “${token.name}”?`} confirmLabel="Revoke" destructive onConfirm={onRevoke}>
        <p>Scripts using it stop working at once. This cannot be undone; you can make a new token.</p>
      </ConfirmDialog>
    </li>
  );
}
