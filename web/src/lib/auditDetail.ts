// An audit entry's `detail` object read as "key: value" lines instead of raw JSON.

export interface DetailLine {
  key: string;
  value: string;
}

/** `retry_after` → `Retry after`. */
export const humanize = (key: string) => {
  const words = key.replace(/[_-]+/g, ' ').trim();
  return words ? words[0]!.toUpperCase() + words.slice(1) : key;
};

function scalar(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * One line per fact; a nested object's facts are named after their parent ("Before
 * roles"), a list of plain values is joined with commas ("none" when empty).
 */
export function detailLines(detail: Record<string, unknown> | null | undefined, prefix = ''): DetailLine[] {
  if (!detail) return [];
  const out: DetailLine[] = [];
  for (const [k, v] of Object.entries(detail)) {
    const key = prefix ? `${prefix} ${k}` : k;
    if (Array.isArray(v)) {
      out.push({ key: humanize(key), value: v.length ? v.map(scalar).join(', ') : 'none' });
    } else if (v && typeof v === 'object') {
      const inner = detailLines(v as Record<string, unknown>, key);
      out.push(...(inner.length ? inner : [{ key: humanize(key), value: '—' }]));
    } else {
      out.push({ key: humanize(key), value: scalar(v) });
    }
  }
  return out;
}
