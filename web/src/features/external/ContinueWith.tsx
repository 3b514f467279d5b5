import { useQuery } from '@tanstack/react-query';
import { providersQuery, startUrl } from './api';

/**
 * "Continue with …" for each external provider, coming back to `next`; nothing when
 * none is configured (or the list cannot be read: the password form still works).
 */
export function ContinueWith({ next }: { next: string }) {
  const providers = useQuery(providersQuery());
  const list = providers.data ?? [];
  if (!list.length) return null;
  return (
    <div className="continue-with" data-testid="continue-with">
      <p className="muted">Or</p>
      <ul className="buttons">
        {list.map((p) => (
          <li key={p.name}>
            <a className="button secondary" href={startUrl(p, next)}>Continue with {p.display_name}</a>
          </li>
        ))}
      </ul>
    </div>
  );
}
