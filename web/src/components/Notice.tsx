/** A message area that keeps its space, so errors appear without layout shift. */
export function Notice({ error, success }: { error?: string | null; success?: string | null }) {
  return (
    <div className="notice-slot" role={error ? 'alert' : 'status'}>
      {error && <p className="notice error">{error}</p>}
      {!error && success && <p className="notice success">{success}</p>}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}
