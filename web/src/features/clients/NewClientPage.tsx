import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import type { Client } from './api';
import { ClientEditor } from './ClientEditor';
import { ClientSecret } from './ClientSecret';
import type { NoticeState } from './notice';
import './clients.css';

/** Registers an application; a confidential one's secret is shown once, before its page opens. */
export function NewClientPage() {
  const navigate = useNavigate();
  const [made, setMade] = useState<Client | null>(null);

  const open = (c: Client) => navigate(`/clients/${encodeURIComponent(c.client_id)}`, {
    replace: true, state: { notice: `${c.name} is registered.` } satisfies NoticeState,
  });

  return (
    <section className="card" aria-labelledby="new-client-title">
      <p className="crumbs"><Link to="/clients">← Applications</Link></p>
      <h1 id="new-client-title">New application</h1>
      {made?.client_secret ? (
        <ClientSecret clientId={made.client_id} secret={made.client_secret} onDone={() => open(made)} />
      ) : (
        <ClientEditor before={null} submitLabel="Register application"
          onSaved={(c) => (c.client_secret ? setMade(c) : open(c))} />
      )}
    </section>
  );
}
