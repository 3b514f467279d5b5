// The server's rule for permission names, checked as an administrator types one (for a
// role or an application), and a nudge towards a known permission when a new one looks
// like a typo of it (`reprots.veiw` was once saved silently and guarded nothing).

export const PERMISSION_RULE = /^[a-z0-9_.:-]{1,100}$/;
export const PERMISSION_RULE_TEXT = 'lower-case letters, digits and _ . : - (at most 100)';

/** Edit distance, with a swap of two neighbours counting as one edit (`veiw` → `view`). */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

export type PermissionCheck =
  | { kind: 'empty' }
  | { kind: 'invalid'; message: string }
  | { kind: 'known' }
  /** Follows the rule but nothing checks or holds it yet; `suggestion` is a close known one. */
  | { kind: 'new'; suggestion: string | null };

/** What to say about a permission being typed, given the ones the service knows. */
export function checkPermission(text: string, known: readonly string[]): PermissionCheck {
  const p = text.trim();
  if (!p) return { kind: 'empty' };
  if (!PERMISSION_RULE.test(p)) {
    return { kind: 'invalid', message: `A permission is ${PERMISSION_RULE_TEXT}.` };
  }
  if (known.includes(p)) return { kind: 'known' };
  // A typo is a few edits from a known permission (about one for every four letters):
  // `reprots.veiw` finds `reports.view` (two swaps), `billing.view` finds nothing.
  let best: { name: string; d: number } | null = null;
  for (const k of known) {
    const d = distance(p, k);
    const allowed = Math.max(1, Math.floor(k.length / 4));
    if (d <= allowed && (!best || d < best.d)) best = { name: k, d };
  }
  return { kind: 'new', suggestion: best?.name ?? null };
}
