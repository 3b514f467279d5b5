import { Link, useLocation } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Notice } from '../../components/Notice';
import { QueryState } from '../../components/QueryState';
import { clientsQuery, type Client } from './api';
import { ClientBadges } from './ClientBadges';
import { noticeOf } from './notice';
import './clients.css';

/** Every registered application, newest change first as the server lists them. */
export function ClientsPage() {
  const clients = useQuery(clientsQuery());
  const notice = noticeOf(useLocation().state);
  return (
    <section className="card" aria-labelledby="clients-title">
      <div className="page-head">
        <h1 id="clients-title">Applications</h1>
        <Link className="button" to="/clients/new">New application</Link>
      </div>
      <p className="muted">The applications that sign their users in with this service (OAuth 2.1 / OpenID Connect clients).</p>
      <Notice success={notice} />
      <QueryState query={clients} what="the applications" isEmpty={(list) => list.length === 0}
        empty={<p>No applications are registered yet. Register one to let it sign its users in here.</p>}>
        {(list) => <ul className="list" data-testid="clients">{list.map((c) => <ClientRow key={c.client_id} client={c} />)}</ul>}
      </QueryState>
    </section>
  );
}

function ClientRow({ client }: { client: Client }) {
  return (
    <li className="row client-row">
      <div>
        <Link to={`/clients/${encodeURIComponent(client.client_id)}`} className="client-name">{client.name}</Link>
        <ClientBadges client={client} />
        <div className="muted">
          <code>{client.client_id}</code> · {client.grant_types.join(', ')}
        </div>
      </div>
    </li>
  );
}
