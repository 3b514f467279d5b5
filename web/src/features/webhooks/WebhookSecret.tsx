import { ShownOnce } from '../../components/ShownOnce';

interface Props {
  secret: string;
  /** A new secret replacing one: the old one has stopped signing. */
  rotated?: boolean;
  onDone: () => void;
}

/** An endpoint's signing secret, shown this once, with how a receiver checks a delivery with it. */
export function WebhookSecret({ secret, rotated = false, onDone }: Props) {
  return (
    <ShownOnce title="Store the signing secret" onDone={onDone} testIds={{ step: 'secret-step' }}
      intro={
        <>
          <p>
            Every delivery to this endpoint is signed with this secret. It is shown only now: put it in the receiver's
            configuration, or a password manager, before going on.
            {rotated && ' The old secret has stopped signing: deliveries from now on carry the new signature.'}
          </p>
          <p>
            The receiver checks each delivery's <code>webhook-signature</code> header as the Standard Webhooks specification
            says: a Standard Webhooks library does it with this secret, and refuses a delivery whose signature or{' '}
            <code>webhook-timestamp</code> does not hold.
          </p>
          <p className="group-label">Signing secret</p>
        </>
      }
      copy={{ text: secret, label: 'Copy the secret', done: 'Copied the secret.' }}
      selected="the secret is selected"
      savedLabel="I have stored the secret"
      nudge="Tick the box once the secret is stored: it will not be shown again.">
      <p className="secret"><code data-testid="webhook-secret">{secret}</code></p>
    </ShownOnce>
  );
}
