import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Notice } from '../../components/Notice';
import { QueryState } from '../../components/QueryState';
import { changeError, UNREACHABLE } from '../../lib/api/errors';
import { formatDate } from '../../lib/format';
import { identitiesQuery, providersQuery, useLink, useUnlink, type Identity } from './api';

/** The external accounts (Google, GitHub, …) the user signs in with, linking and unlinking them. */
export function LinkedAccountsPage() {
  const [params] = useSearchParams();
  const identities = useQuery(identitiesQuery());
  const providers = useQuery(providersQuery());
  const link = useLink();
  const unlink = useUnlink();
  const linkedNow = params.get('linked');
  const linkedName = providers.data?.find((p) => p.name === linkedNow)?.display_name ?? linkedNow;
  const success = unlink.isSuccess
    ? `${unlink.variables.display_name} is unlinked.`
    : linkedNow ? `${linkedName} is linked: you can sign in with it.` : null;
  const error = link.error ?? unlink.error;
  const linked = new Set((identities.data ?? []).map((i) => i.provider));
  const available = (providers.data ?? []).filter((p) => !linked.has(p.name));

  return (
    <section className="card" aria-labelledby="linked-title">
      <h1 id="linked-title">Linked accounts</h1>
      <p>Accounts elsewhere you can sign in with, besides your password and passkeys.</p>
      <Notice error={error ? changeError(error, UNREACHABLE) : null} success={success} />
      <QueryState query={identities} what="your linked accounts" isEmpty={(list) => list.length === 0}
        empty={<p>No account elsewhere is linked.</p>}>
        {(list) => (
          <ul className="list" data-testid="identities">
            {list.map((identity) => (
              <LinkedIdentity key={identity.id} identity={identity} busy={unlink.isPending} onUnlink={() => unlink.mutate(identity)} />
            ))}
          </ul>
        )}
      </QueryState>
      {available.length > 0 && (
        <>
          <h2>Link another</h2>
          <p>You confirm it is you, then sign in there; you come back here.</p>
          <ul className="buttons">
            {available.map((p) => (
              <li key={p.name}>
                <button type="button" className="secondary" disabled={link.isPending} onClick={() => link.mutate(p)}>
                  Link {p.display_name}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function LinkedIdentity({ identity, busy, onUnlink }: { identity: Identity; busy: boolean; onUnlink: () => void }) {
  const used = identity.last_used ? `last used ${formatDate(identity.last_used)}` : 'not used yet';
  return (
    <li className="row">
      <div>
        <h2>{identity.display_name}</h2>
        <p className="muted">{identity.email || 'No verified address'} · linked {formatDate(identity.created)} · {used}</p>
      </div>
      <ConfirmDialog trigger="Unlink" triggerClassName="secondary" triggerAriaLabel={`Unlink ${identity.display_name}`}
        triggerDisabled={busy} title={`Unlink ${identity.display_name}?`} confirmLabel="Unlink" destructive onConfirm={onUnlink}>
        <p>You can no longer sign in with {identity.display_name}. You can link it again later.</p>
      </ConfirmDialog>
    </li>
  );
}
