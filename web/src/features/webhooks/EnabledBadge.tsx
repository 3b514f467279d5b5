/** Whether an endpoint is on, in words (not colour alone). */
export function EnabledBadge({ enabled }: { enabled: boolean }) {
  return enabled ? <span className="badge ok">enabled</span> : <span className="badge off">disabled</span>;
}
