// Durations in words, for messages such as "Try again in 15 minutes."

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/**
 * `seconds` in the largest unit that reads well, rounded up (never tells anyone to come
 * back too early): 894 → "15 minutes", 45 → "45 seconds", 3600 → "1 hour", 5400 → "2 hours".
 */
export function humanDuration(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return plural(s, 'second');
  const minutes = Math.ceil(s / 60);
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.ceil(s / 3600);
  if (hours < 48) return plural(hours, 'hour');
  return plural(Math.ceil(s / 86400), 'day');
}

/**
 * Seconds from a `Retry-After` header (seconds, or an HTTP date), else from DRF's
 * "Expected available in 894 seconds." in the body's text; null when neither says.
 */
export function retryAfterSeconds(header: string | null | undefined, detail?: string | null, now = Date.now()): number | null {
  if (header) {
    const n = Number(header.trim());
    if (Number.isFinite(n) && n >= 0) return n;
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(0, (date - now) / 1000);
  }
  const m = detail ? /available in (\d+(?:\.\d+)?) seconds?/i.exec(detail) : null;
  return m ? Number(m[1]) : null;
}

/** What a throttled action says: "Too many attempts. Try again in 15 minutes." */
export function throttledMessage(seconds: number | null): string {
  return seconds === null ? 'Too many attempts. Try again later.' : `Too many attempts. Try again in ${humanDuration(seconds)}.`;
}
