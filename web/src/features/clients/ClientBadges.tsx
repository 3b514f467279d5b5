import type { Client } from './api';

/** The kind of application at a glance: public or confidential, first-party. */
export function ClientBadges({ client }: { client: Client }) {
  return (
    <>
      <span className="badge">{client.public ? 'public' : 'confidential'}</span>
      {client.pre_consented && <span className="badge warn">first-party</span>}
    </>
  );
}
