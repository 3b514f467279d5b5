import { ShownOnce } from '../../components/ShownOnce';

interface Props {
  clientId: string;
  secret: string;
  /** A new secret replacing one: the old one has stopped working. */
  rotated?: boolean;
  onDone: () => void;
}

/** An application's secret, shown this once: copied and stored before the page goes on. */
export function ClientSecret({ clientId, secret, rotated = false, onDone }: Props) {
  return (
    <ShownOnce title="Store the client secret" onDone={onDone} testIds={{ step: 'secret-step' }}
      intro={
        <>
          <p>
            The application proves itself with its client ID and this secret. The secret is shown only now: put it in the
            application's configuration, or a password manager, before going on.
            {rotated && ' The old secret has stopped working.'}
          </p>
          <dl className="facts"><dt>Client ID</dt><dd><code>{clientId}</code></dd></dl>
          <p className="group-label">Client secret</p>
        </>
      }
      copy={{ text: secret, label: 'Copy the secret', done: 'Copied the secret.' }}
      selected="the secret is selected"
      savedLabel="I have stored the secret"
      nudge="Tick the box once the secret is stored: it will not be shown again.">
      <p className="secret"><code data-testid="client-secret">{secret}</code></p>
    </ShownOnce>
  );
}
